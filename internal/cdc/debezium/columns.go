package debezium

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// columnCodec is how one column appears in Debezium's records: its field
// schema and the conversion of the engine's row values (see cdc.Row) to
// Connect values, as Debezium's MySqlValueConverters convert the binlog
// client's.
type columnCodec struct {
	schema   *data.Schema
	nullable bool
	// convert turns a non-nil row value into its Connect value; nil
	// means the value reads as null (MySQL's zero dates).
	convert func(v any) (any, error)
	// fallback is what a null becomes in a NOT NULL column without a
	// default, Debezium's convertValue fallback.
	fallback any
}

// value converts a row value, nil included, as Debezium's convertValue
// does: a null in a nullable column is null; in a NOT NULL column (zero
// dates are the usual cause) it is the column default or the type's
// fallback.
func (c *columnCodec) value(v any) (any, error) {
	if v != nil {
		x, err := c.convert(v)
		if err != nil || x != nil {
			return x, err
		}
	}
	if c.nullable {
		return nil, nil
	}
	if c.schema.Default != nil {
		return c.schema.Default, nil
	}
	return c.fallback, nil
}

// typeParamsRE reads "name(length[,scale])" from COLUMN_TYPE.
var typeParamsRE = regexp.MustCompile(`^[a-zA-Z ]+\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)`)

// typeParams returns the length and scale declared in a column's full
// type ("decimal(6,2)", "int(11) unsigned", "datetime(3)"), -1 when not
// declared.
func typeParams(columnType string) (length, scale int) {
	length, scale = -1, -1
	m := typeParamsRE.FindStringSubmatch(strings.TrimSpace(columnType))
	if m == nil {
		return
	}
	length, _ = strconv.Atoi(m[1])
	if m[2] != "" {
		scale, _ = strconv.Atoi(m[2])
	}
	return
}

// precision returns a column's declared length: the engine's Length, else
// the one in COLUMN_TYPE, else def.
func precision(c *cdc.Column, def int) int {
	if c.Length > 0 {
		return c.Length
	}
	if l, _ := typeParams(c.ColumnType); l >= 0 {
		return l
	}
	return def
}

// enumMembers returns an ENUM's or SET's members: the engine's Values, or
// those listed in COLUMN_TYPE.
func enumMembers(c *cdc.Column) []string {
	if c.Values != nil {
		return c.Values
	}
	return cdc.EnumValues(c.ColumnType)
}

// zerofill reports ZEROFILL in a column's full type.
func zerofill(c *cdc.Column) bool {
	return strings.Contains(strings.ToLower(c.ColumnType), "zerofill")
}

// dataType is a column's lower-case type name.
func dataType(c *cdc.Column) string { return strings.ToLower(strings.TrimSpace(c.DataType)) }

// --- value readers ---

func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case uint64:
		return int64(x), nil // the bits, as Java's long holds BIGINT UNSIGNED
	case uint32:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("expected an integer, got %T", v)
}

func toText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case cdc.Decimal:
		return string(x), nil
	}
	return "", fmt.Errorf("expected text, got %T", v)
}

func toBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return nil, fmt.Errorf("expected bytes, got %T", v)
}

// decimalValue reads DECIMAL text exactly at the column's scale; digits
// beyond the scale that are not zeros are refused rather than rounded.
func decimalValue(text string, scale int) (data.Decimal, error) {
	s := strings.TrimSpace(text)
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return data.Decimal{}, fmt.Errorf("invalid decimal %q", text)
	}
	if len(frac) > scale {
		if strings.Trim(frac[scale:], "0") != "" {
			return data.Decimal{}, fmt.Errorf("decimal %q has more than %d fraction digits", text, scale)
		}
		frac = frac[:scale]
	}
	frac += strings.Repeat("0", scale-len(frac))
	digits := intPart + frac
	if digits == "" {
		digits = "0"
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return data.Decimal{}, fmt.Errorf("invalid decimal %q", text)
		}
	}
	u, _ := new(big.Int).SetString(digits, 10)
	if neg {
		u.Neg(u)
	}
	return data.Decimal{Unscaled: u, Scale: scale}, nil
}

// plainDecimal renders a decimal without exponent, Java's
// BigDecimal.toPlainString.
func plainDecimal(d data.Decimal) string {
	digits := new(big.Int).Abs(d.Unscaled).String()
	sign := ""
	if d.Unscaled.Sign() < 0 {
		sign = "-"
	}
	if d.Scale <= 0 {
		return sign + digits + strings.Repeat("0", -d.Scale)
	}
	if len(digits) <= d.Scale {
		digits = strings.Repeat("0", d.Scale-len(digits)+1) + digits
	}
	at := len(digits) - d.Scale
	return sign + digits[:at] + "." + digits[at:]
}

// roundHalfUpDecimal parses decimal text and rounds it to scale, as
// BigDecimal.setScale(scale, HALF_UP) does for column defaults.
func roundHalfUpDecimal(text string, scale int) (data.Decimal, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(text))
	if !ok {
		return data.Decimal{}, fmt.Errorf("invalid decimal %q", text)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Sign() != 0 {
		twice := new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2))
		if twice.Cmp(den) >= 0 {
			if num.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	return data.Decimal{Unscaled: q, Scale: scale}, nil
}

// --- the mapping ---

// codecFor maps a column to its Debezium field, or returns nil for types
// Debezium has no mapping for (it leaves such columns out of events).
func (f *Formatter) codecFor(c *cdc.Column) (*columnCodec, error) {
	cc, err := f.baseCodec(c)
	if err != nil || cc == nil {
		return cc, err
	}
	cc.nullable = c.Nullable
	if c.Nullable {
		cc.schema.Optional = true
	}
	if expr, ok := defaultExpression(c); ok {
		def, err := f.defaultValue(c, cc, expr)
		if err == nil && def != nil {
			cc.schema.Default = def
		}
		// An unreadable default is left out, as Debezium's default
		// event.converting.failure.handling.mode (warn) does.
	}
	return cc, nil
}

// baseCodec builds the schema and converter of a column's type, without
// optionality and default.
func (f *Formatter) baseCodec(c *cdc.Column) (*columnCodec, error) {
	unsigned := c.Unsigned || zerofill(c) || strings.Contains(strings.ToLower(c.ColumnType), "unsigned")
	switch t := dataType(c); t {
	case "tinyint", "int1", "smallint", "int2", "mediumint", "int3", "middleint", "int", "integer", "int4", "bigint", "int8", "serial":
		return f.integerCodec(t, unsigned), nil
	case "float":
		if _, scale := typeParams(c.ColumnType); scale >= 0 || precision(c, 0) > 24 {
			return floatCodec(data.TypeFloat64), nil
		}
		return floatCodec(data.TypeFloat32), nil
	case "double", "real", "double precision":
		return floatCodec(data.TypeFloat64), nil
	case "decimal", "numeric", "dec", "fixed":
		return f.decimalCodec(c), nil
	case "bit":
		return bitCodec(precision(c, 1)), nil
	case "bool", "boolean":
		return &columnCodec{schema: prim(data.TypeBoolean), fallback: false, convert: func(v any) (any, error) {
			n, err := toInt64(v)
			return n != 0, err
		}}, nil
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "long", "long varchar",
		"nchar", "nvarchar", "national char", "national varchar",
		"uuid", "inet4", "inet6", // MariaDB's own types, which it hands out as text
		"json", "enum", "set":
		return textCodec(c, t), nil
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "long varbinary":
		pad := 0
		if t == "binary" {
			pad = precision(c, 1)
		}
		return f.binaryCodec(pad), nil
	case "year":
		return &columnCodec{schema: &data.Schema{Type: data.TypeInt32, Name: yearName, Version: 1}, fallback: int32(0),
			convert: func(v any) (any, error) {
				n, err := toInt64(v)
				return int32(n), err
			}}, nil
	case "date":
		return f.dateCodec(), nil
	case "datetime":
		return f.datetimeCodec(fsp(c)), nil
	case "timestamp":
		return f.timestampCodec(fsp(c)), nil
	case "time":
		return f.timeCodec(), nil
	case "point":
		return pointCodec(), nil
	case "geometry", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
		"geometrycollection", "geomcollection":
		return geometryCodec(), nil
	case "vector":
		return vectorCodec(), nil
	}
	return nil, nil
}

// integerCodec maps the integer types: an unsigned one to the next
// wider type (BIGINT UNSIGNED stays INT64, its bits, unless
// bigint.unsigned.handling.mode is precise).
func (f *Formatter) integerCodec(t string, unsigned bool) *columnCodec {
	switch t {
	case "tinyint", "int1":
		if unsigned {
			return intCodec(data.TypeInt16, 1<<8)
		}
		return intCodec(data.TypeInt8, 0)
	case "smallint", "int2":
		if unsigned {
			return intCodec(data.TypeInt32, 1<<16)
		}
		return intCodec(data.TypeInt16, 0)
	case "mediumint", "int3", "middleint":
		if unsigned {
			return intCodec(data.TypeInt32, 1<<24)
		}
		return intCodec(data.TypeInt32, 0)
	case "int", "integer", "int4":
		if unsigned {
			return intCodec(data.TypeInt64, 1<<32)
		}
		return intCodec(data.TypeInt32, 0)
	}
	if unsigned && f.settings.BigIntUnsignedMode == BigIntPrecise {
		return preciseBigIntCodec()
	}
	return intCodec(data.TypeInt64, 0)
}

// preciseBigIntCodec maps BIGINT UNSIGNED to a Decimal of scale 0.
func preciseBigIntCodec() *columnCodec {
	return &columnCodec{
		schema:   decimalSchema(0, 20),
		fallback: data.Decimal{Unscaled: new(big.Int), Scale: 0},
		convert: func(v any) (any, error) {
			var u *big.Int
			switch x := v.(type) {
			case uint64:
				u = new(big.Int).SetUint64(x)
			default:
				n, err := toInt64(v)
				if err != nil {
					return nil, err
				}
				u = new(big.Int).SetUint64(uint64(n))
			}
			return data.Decimal{Unscaled: u, Scale: 0}, nil
		},
	}
}

// textCodec maps the types read as strings: character types, MariaDB's
// UUID and INET types, and JSON, ENUM and SET with their logical names.
func textCodec(c *cdc.Column, t string) *columnCodec {
	switch t {
	case "json":
		return stringCodec(&data.Schema{Type: data.TypeString, Name: jsonName, Version: 1}, "{}")
	case "enum":
		return stringCodec(&data.Schema{Type: data.TypeString, Name: enumName, Version: 1,
			Parameters: map[string]string{enumAllowedParam: enumAllowed(enumMembers(c))}}, "")
	case "set":
		return stringCodec(&data.Schema{Type: data.TypeString, Name: enumSetName, Version: 1,
			Parameters: map[string]string{enumAllowedParam: enumAllowed(enumMembers(c))}}, "")
	}
	return stringCodec(&data.Schema{Type: data.TypeString}, "")
}

// fsp is a temporal column's fractional seconds precision.
func fsp(c *cdc.Column) int {
	if c.Length > 0 {
		return c.Length
	}
	if l, _ := typeParams(c.ColumnType); l > 0 {
		return l
	}
	return 0
}

// intCodec maps an integer column to a Connect integer type. For
// unsigned columns whose values may arrive as the signed bits (as the
// binlog stores them), modulus is 2^bits, added to negative values as
// Debezium's BinlogUnsignedIntegerConverter does.
func intCodec(t data.Type, modulus int64) *columnCodec {
	cc := &columnCodec{schema: prim(t)}
	switch t {
	case data.TypeInt8:
		cc.fallback = int8(0)
	case data.TypeInt16:
		cc.fallback = int16(0)
	case data.TypeInt32:
		cc.fallback = int32(0)
	default:
		cc.fallback = int64(0)
	}
	cc.convert = func(v any) (any, error) {
		n, err := toInt64(v)
		if err != nil {
			return nil, err
		}
		if modulus > 0 && n < 0 {
			n += modulus
		}
		return narrow(t, n), nil
	}
	return cc
}

// narrow converts to a Connect integer type, wrapping as Java's
// narrowing conversions do.
func narrow(t data.Type, n int64) any {
	switch t {
	case data.TypeInt8:
		return int8(n)
	case data.TypeInt16:
		return int16(n)
	case data.TypeInt32:
		return int32(n)
	}
	return n
}

func floatCodec(t data.Type) *columnCodec {
	cc := &columnCodec{schema: prim(t)}
	if t == data.TypeFloat32 {
		cc.fallback = float32(0)
	} else {
		cc.fallback = float64(0)
	}
	cc.convert = func(v any) (any, error) {
		var f float64
		switch x := v.(type) {
		case float32:
			if t == data.TypeFloat32 {
				return x, nil
			}
			f = float64(x) // Float.doubleValue: 1.1f is 1.100000023841858
		case float64:
			f = x
		case cdc.Decimal, string:
			s, _ := toText(x)
			p, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, fmt.Errorf("invalid floating-point value %q", s)
			}
			f = p
		default:
			n, err := toInt64(v)
			if err != nil {
				return nil, err
			}
			f = float64(n)
		}
		if t == data.TypeFloat32 {
			return float32(f), nil
		}
		return f, nil
	}
	return cc
}

// decimalSchema is Kafka's Decimal with Debezium's precision parameter.
func decimalSchema(scale, prec int) *data.Schema {
	s := data.DecimalSchema(scale)
	s.Parameters[decimalPrecisionParam] = strconv.Itoa(prec)
	return s
}

// decimalCodec maps DECIMAL per decimal.handling.mode. Values are exact
// in precise and string modes; double is the only lossy mode, and only
// when configured.
func (f *Formatter) decimalCodec(c *cdc.Column) *columnCodec {
	prec := precision(c, 10)
	scale := c.Scale
	if scale == 0 {
		if _, sc := typeParams(c.ColumnType); sc > 0 {
			scale = sc
		}
	}
	read := func(v any) (data.Decimal, error) {
		switch x := v.(type) {
		case cdc.Decimal, string, []byte:
			s, _ := toText(x)
			return decimalValue(s, scale)
		}
		n, err := toInt64(v)
		if err != nil {
			return data.Decimal{}, err
		}
		return data.Decimal{Unscaled: new(big.Int).Mul(big.NewInt(n), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)), Scale: scale}, nil
	}
	zero := data.Decimal{Unscaled: new(big.Int), Scale: scale}
	switch f.settings.DecimalMode {
	case DecimalString:
		return &columnCodec{schema: prim(data.TypeString), fallback: plainDecimal(zero), convert: func(v any) (any, error) {
			d, err := read(v)
			if err != nil {
				return nil, err
			}
			return plainDecimal(d), nil
		}}
	case DecimalDouble:
		return &columnCodec{schema: prim(data.TypeFloat64), fallback: float64(0), convert: func(v any) (any, error) {
			d, err := read(v)
			if err != nil {
				return nil, err
			}
			x, _ := strconv.ParseFloat(plainDecimal(d), 64)
			return x, nil
		}}
	}
	return &columnCodec{schema: decimalSchema(scale, prec), fallback: zero, convert: func(v any) (any, error) {
		d, err := read(v)
		if err != nil {
			return nil, err
		}
		return d, nil
	}}
}

// bitCodec maps BIT(1) to a boolean and BIT(n) to io.debezium.data.Bits:
// little-endian bytes, ceil(n/8) of them.
func bitCodec(n int) *columnCodec {
	if n <= 1 {
		return &columnCodec{schema: prim(data.TypeBoolean), fallback: false, convert: func(v any) (any, error) {
			switch x := v.(type) {
			case []byte:
				for _, b := range x {
					if b != 0 {
						return true, nil
					}
				}
				return false, nil
			}
			u, err := toInt64(v)
			return u != 0, err
		}}
	}
	size := (n + 7) / 8
	return &columnCodec{
		schema:   &data.Schema{Type: data.TypeBytes, Name: bitsName, Version: 1, Parameters: map[string]string{bitsLengthParam: strconv.Itoa(n)}},
		fallback: []byte{},
		convert: func(v any) (any, error) {
			out := make([]byte, size)
			switch x := v.(type) {
			case []byte: // big-endian, as MySQL stores BIT
				for i := 0; i < len(x) && i < size; i++ {
					out[i] = x[len(x)-1-i]
				}
				return out, nil
			}
			u, err := toInt64(v)
			if err != nil {
				return nil, err
			}
			var le [8]byte
			binary.LittleEndian.PutUint64(le[:], uint64(u))
			copy(out, le[:])
			return out, nil
		},
	}
}

func stringCodec(schema *data.Schema, fallback string) *columnCodec {
	return &columnCodec{schema: schema, fallback: fallback, convert: func(v any) (any, error) {
		return toText(v)
	}}
}

// binaryCodec maps the binary types per binary.handling.mode; BINARY(n)
// values are right-padded with zero bytes to n, as Debezium does.
func (f *Formatter) binaryCodec(pad int) *columnCodec {
	encode := func(b []byte) any { return b }
	schema := prim(data.TypeBytes)
	var fallback any = []byte{}
	switch f.settings.BinaryMode {
	case BinaryBase64:
		encode = func(b []byte) any { return base64.StdEncoding.EncodeToString(b) }
	case BinaryBase64URL:
		encode = func(b []byte) any { return base64.URLEncoding.EncodeToString(b) }
	case BinaryHex:
		encode = func(b []byte) any { return hex.EncodeToString(b) }
	}
	if f.settings.BinaryMode != BinaryBytes && f.settings.BinaryMode != "" {
		schema, fallback = prim(data.TypeString), ""
	}
	return &columnCodec{schema: schema, fallback: fallback, convert: func(v any) (any, error) {
		b, err := toBytes(v)
		if err != nil {
			return nil, err
		}
		if len(b) < pad {
			p := make([]byte, pad)
			copy(p, b)
			b = p
		}
		return encode(b), nil
	}}
}

func (f *Formatter) connectMode() bool { return f.settings.TimePrecisionMode == TimeConnect }

// dateCodec maps DATE to io.debezium.time.Date (days since the epoch), or
// Kafka's Date in connect mode. Zero dates read as null.
func (f *Formatter) dateCodec() *columnCodec {
	read := func(v any) (*time.Time, error) {
		s, err := toText(v)
		if err != nil {
			if t, ok := v.(time.Time); ok {
				t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
				return &t, nil
			}
			return nil, err
		}
		return textInstant(s, true)
	}
	if f.connectMode() {
		return temporalCodec(data.DateSchema(), time.Unix(0, 0).UTC(), read, func(t time.Time) any { return t })
	}
	return temporalCodec(&data.Schema{Type: data.TypeInt32, Name: dateName, Version: 1}, int32(0), read,
		func(t time.Time) any { return epochDays(t) })
}

// temporalCodec is the codec of a temporal type whose values read (as
// a time, nil for a zero date, which is null) and then convert by to.
func temporalCodec(schema *data.Schema, fallback any, read func(any) (*time.Time, error), to func(time.Time) any) *columnCodec {
	return &columnCodec{schema: schema, fallback: fallback, convert: func(v any) (any, error) {
		t, err := read(v)
		if t == nil || err != nil {
			return nil, err
		}
		return to(*t), nil
	}}
}

// datetimeCodec maps DATETIME(fsp) to io.debezium.time.Timestamp (epoch
// milliseconds) up to fsp 3 and io.debezium.time.MicroTimestamp beyond,
// read at UTC; Kafka's Timestamp in connect mode. Zero dates read as null.
func (f *Formatter) datetimeCodec(fsp int) *columnCodec {
	switch {
	case f.connectMode():
		return temporalCodec(data.TimestampSchema(), time.Unix(0, 0).UTC(), instant,
			func(t time.Time) any { return time.UnixMilli(t.UnixMilli()).UTC() })
	case fsp <= 3:
		return temporalCodec(&data.Schema{Type: data.TypeInt64, Name: timestampName, Version: 1}, int64(0), instant,
			func(t time.Time) any { return t.UnixMilli() })
	}
	return temporalCodec(&data.Schema{Type: data.TypeInt64, Name: microTimestampName, Version: 1}, int64(0), instant,
		func(t time.Time) any { return t.UnixMicro() })
}

// instant reads a DATETIME or TIMESTAMP value, an instant or its text,
// as a time; nil for a zero date.
func instant(v any) (*time.Time, error) {
	if t, ok := v.(time.Time); ok {
		return &t, nil
	}
	s, err := toText(v)
	if err != nil {
		return nil, err
	}
	return textInstant(s, false)
}

// textInstant reads a DATE, DATETIME or TIMESTAMP text as a time at UTC
// (its date alone when dateOnly); nil for a zero date.
func textInstant(s string, dateOnly bool) (*time.Time, error) {
	d, err := parseDateTime(s)
	if err != nil {
		return nil, err
	}
	if d.zero() {
		return nil, nil
	}
	if dateOnly {
		d.hour, d.minute, d.second, d.nano = 0, 0, 0, 0
	}
	t, err := d.time()
	return &t, err
}

// timestampCodec maps TIMESTAMP to io.debezium.time.ZonedTimestamp, an
// ISO-8601 string at UTC. The engine hands TIMESTAMP values as instants;
// the zero TIMESTAMP (the epoch itself, which MySQL cannot store
// otherwise) reads as null. The fraction's width is settled per record,
// see Formatter.zoned.
func (f *Formatter) timestampCodec(fsp int) *columnCodec {
	return &columnCodec{schema: &data.Schema{Type: data.TypeString, Name: zonedTimestampName, Version: 1}, fallback: "1970-01-01T00:00:00Z",
		convert: func(v any) (any, error) {
			t, err := instant(v)
			if t == nil || err != nil {
				return nil, err
			}
			if t.Unix() == 0 && t.Nanosecond() == 0 {
				return nil, nil
			}
			return zonedValue{t: *t, fsp: fsp}, nil
		}}
}

// zonedValue is a TIMESTAMP value before formatting: Debezium formats
// snapshot reads (from JDBC) and binlog events differently, so the
// record builder, which knows which it has, renders it.
type zonedValue struct {
	t   time.Time
	fsp int
}

// timeCodec maps TIME to io.debezium.time.MicroTime (signed microseconds,
// beyond 24 hours too), or Kafka's Time in connect mode, which only
// holds times of day.
func (f *Formatter) timeCodec() *columnCodec {
	if f.connectMode() {
		return &columnCodec{schema: data.TimeSchema(), fallback: time.Unix(0, 0).UTC(), convert: func(v any) (any, error) {
			s, err := toText(v)
			if err != nil {
				return nil, err
			}
			n, err := timeNanos(s)
			if err != nil {
				return nil, err
			}
			if n < 0 || n >= int64(24*time.Hour) {
				return nil, fmt.Errorf("TIME value %q is outside the range time.precision.mode=connect can represent (00:00:00 to 23:59:59.999)", s)
			}
			return time.UnixMilli(n / int64(time.Millisecond)).UTC(), nil
		}}
	}
	return &columnCodec{schema: &data.Schema{Type: data.TypeInt64, Name: microTimeName, Version: 1}, fallback: int64(0),
		convert: func(v any) (any, error) {
			if d, ok := v.(time.Duration); ok {
				return d.Microseconds(), nil
			}
			s, err := toText(v)
			if err != nil {
				return nil, err
			}
			n, err := timeNanos(s)
			if err != nil {
				return nil, err
			}
			return n / int64(time.Microsecond), nil
		}}
}

// emptyGeometry is Debezium's fallback geometry: GEOMETRYCOLLECTION EMPTY.
var emptyGeometryWKB = []byte{0x01, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}

// splitGeometry reads MySQL's internal geometry form: a little-endian
// SRID (0 meaning none) followed by the WKB.
func splitGeometry(v any) (wkb []byte, srid any, err error) {
	b, err := toBytes(v)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 4 {
		return nil, nil, errors.New("geometry value shorter than its SRID")
	}
	if id := int32(binary.LittleEndian.Uint32(b)); id != 0 {
		srid = id
	}
	return b[4:], srid, nil
}

// geometryCodec maps the spatial types to io.debezium.data.geometry.
// Geometry {wkb, srid}; Debezium makes the schema optional whatever the
// column says.
func geometryCodec() *columnCodec {
	schema := structSchema(geometryName, 1, true,
		fld("wkb", prim(data.TypeBytes)),
		fld("srid", optPrim(data.TypeInt32)),
	)
	schema.Doc = "Geometry"
	mk := func(wkb []byte, srid any) *data.Struct {
		st := data.NewStruct(schema)
		put(st, "wkb", wkb)
		put(st, "srid", srid)
		return st
	}
	return &columnCodec{schema: schema, fallback: mk(emptyGeometryWKB, nil), convert: func(v any) (any, error) {
		wkb, srid, err := splitGeometry(v)
		if err != nil {
			return nil, err
		}
		return mk(wkb, srid), nil
	}}
}

// pointCodec maps POINT to io.debezium.data.geometry.Point {x, y, wkb,
// srid}.
func pointCodec() *columnCodec {
	schema := structSchema(pointName, 1, false,
		fld("x", prim(data.TypeFloat64)),
		fld("y", prim(data.TypeFloat64)),
		fld("wkb", optPrim(data.TypeBytes)),
		fld("srid", optPrim(data.TypeInt32)),
	)
	schema.Doc = "Geometry (POINT)"
	mk := func(wkb []byte, srid any) (*data.Struct, error) {
		if len(wkb) != 21 {
			return nil, fmt.Errorf("POINT value has %d bytes of WKB, want 21", len(wkb))
		}
		var order binary.ByteOrder = binary.BigEndian
		if wkb[0] == 1 {
			order = binary.LittleEndian
		}
		st := data.NewStruct(schema)
		put(st, "x", math.Float64frombits(order.Uint64(wkb[5:13])))
		put(st, "y", math.Float64frombits(order.Uint64(wkb[13:21])))
		put(st, "wkb", wkb)
		put(st, "srid", srid)
		return st, nil
	}
	fallback := data.NewStruct(schema)
	put(fallback, "x", float64(0))
	put(fallback, "y", float64(0))
	put(fallback, "wkb", emptyGeometryWKB)
	return &columnCodec{schema: schema, fallback: fallback, convert: func(v any) (any, error) {
		wkb, srid, err := splitGeometry(v)
		if err != nil {
			return nil, err
		}
		return mk(wkb, srid)
	}}
}

// vectorCodec maps MySQL 9's VECTOR (little-endian float32s) to
// io.debezium.data.FloatVector.
func vectorCodec() *columnCodec {
	schema := &data.Schema{Type: data.TypeArray, Elem: prim(data.TypeFloat32), Name: floatVectorName, Version: 1}
	return &columnCodec{schema: schema, fallback: []any{}, convert: func(v any) (any, error) {
		b, err := toBytes(v)
		if err != nil {
			return nil, err
		}
		if len(b)%4 != 0 {
			return nil, fmt.Errorf("VECTOR value of %d bytes is not a sequence of 4-byte floats", len(b))
		}
		out := make([]any, len(b)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return out, nil
	}}
}
