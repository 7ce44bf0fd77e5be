package debezium

import (
	"errors"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// Column defaults become the "default" of their field schemas, as
// Debezium's default value converter makes them. They matter beyond
// documentation: Kafka's JsonConverter (replace.null.with.default=true,
// its default) writes a null field that has a default as the default,
// which is how Debezium's events look.

var (
	currentTimestampRE = regexp.MustCompile(`(?i)^(current_timestamp|now|localtime|localtimestamp)(\(\s*\d*\s*\))?$`)
	bitLiteralRE       = regexp.MustCompile(`(?i)^b'([01]*)'$`)
	hexLiteralRE       = regexp.MustCompile(`(?i)^x'([0-9a-f]*)'$`)
	epochEquivalentRE  = regexp.MustCompile(`^(\d{4}-\d{2}-00|\d{4}-00-\d{2}|0000-\d{2}-\d{2})( 00:00:00(\.\d{1,6})?)?$`)
)

// epochTimestamp is what Debezium's DDL parser records as the default of
// a column defaulting to CURRENT_TIMESTAMP or NOW().
const epochTimestamp = "1970-01-01 00:00:00"

// defaultExpression returns a column's default as Debezium's DDL parser
// records it (its defaultValueExpression), from the SQL text the engine
// read from information_schema: string literals quoted (the engine quotes
// MySQL's bare ones, as MariaDB writes them), numbers bare, and MariaDB's
// "NULL" for no default. CURRENT_TIMESTAMP becomes "1970-01-01 00:00:00";
// expression defaults (MySQL 8.0.13+) have none, as in Debezium.
func defaultExpression(c *cdc.Column) (string, bool) {
	if c.Default == nil {
		return "", false
	}
	t := strings.TrimSpace(*c.Default)
	switch {
	case strings.EqualFold(t, "NULL"):
		return "", false
	case currentTimestampRE.MatchString(t):
		return epochTimestamp, true
	case len(t) >= 2 && t[0] == '\'' && t[len(t)-1] == '\'':
		return unquoteSQL(t[1 : len(t)-1]), true
	}
	if m := bitLiteralRE.FindStringSubmatch(t); m != nil {
		return m[1], true
	}
	if m := hexLiteralRE.FindStringSubmatch(t); m != nil {
		return m[1], true
	}
	if strings.Contains(t, "(") {
		// An expression default (MySQL 8.0.13+, MariaDB 10.2+): the
		// engine quotes literals, so only expressions keep parentheses
		// bare.
		return "", false
	}
	return t, true
}

// unquoteSQL undoes SQL string literal escapes: doubled quotes and
// backslash escapes.
func unquoteSQL(s string) string {
	if !strings.ContainsAny(s, `'\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

var errNoDefault = errors.New("no default")

// defaultValue converts a default expression to the field's Connect
// value, following Debezium's BinlogDefaultValueConverter: numbers are
// trimmed and rounded (a default of '1.6' in an INT column is 2), "true"
// and "false" count as 1 and 0, zero dates are null in nullable columns
// and the epoch otherwise, and CURRENT_TIMESTAMP is the epoch (null for a
// nullable TIMESTAMP).
func (f *Formatter) defaultValue(c *cdc.Column, cc *columnCodec, expr string) (any, error) {
	trimmed := strings.TrimSpace(expr)
	switch dataType(c) {
	case "tinyint", "int1", "smallint", "int2", "mediumint", "int3", "middleint", "int", "integer", "int4", "bigint", "int8", "serial":
		return integerDefault(cc, boolAsNumber(trimmed))
	case "decimal", "numeric", "dec", "fixed":
		return decimalDefault(c, cc, boolAsNumber(trimmed))
	case "float", "double", "real", "double precision":
		x, err := strconv.ParseFloat(boolAsNumber(trimmed), 64)
		if err != nil {
			return nil, errNoDefault
		}
		if cc.schema.Type == data.TypeFloat32 {
			return float32(x), nil
		}
		return x, nil
	case "bit":
		if cc.schema.Type == data.TypeBoolean {
			return boolDefault(trimmed, 16), nil
		}
		u, err := strconv.ParseUint(trimmed, 2, 64)
		if err != nil {
			return nil, errNoDefault
		}
		return cc.convert(u)
	case "bool", "boolean":
		return boolDefault(trimmed, 32), nil
	case "year":
		n, err := strconv.Atoi(trimmed)
		if err != nil {
			return nil, errNoDefault
		}
		return int32(n), nil
	case "date":
		return dateTimeDefault(c, cc, trimmed, "1970-01-01", true)
	case "datetime":
		return dateTimeDefault(c, cc, trimmed, epochTimestamp, false)
	case "timestamp":
		return timestampDefault(c, trimmed)
	case "time":
		// A default written as a date and time keeps the time.
		if _, clock, ok := strings.Cut(trimmed, " "); ok {
			trimmed = clock
		}
		return cc.convert(trimmed)
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "long", "long varchar",
		"nchar", "nvarchar", "national char", "national varchar", "uuid", "inet4", "inet6",
		"enum", "set", "json":
		return expr, nil
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "long varbinary":
		// Debezium converts the default string's UTF-8 bytes, unpadded.
		return (&Formatter{settings: f.settings}).binaryCodec(0).convert(expr)
	}
	return nil, errNoDefault
}

// boolAsNumber reads "true" and "false" (in any case) as 1 and 0, as a
// number column's default.
func boolAsNumber(s string) string {
	switch strings.ToLower(s) {
	case "true":
		return "1"
	case "false":
		return "0"
	}
	return s
}

// boolDefault reads a BOOLEAN's (or BIT(1)'s) default: a number that
// fits in bits is true when not zero, else "true" in any case is true.
func boolDefault(s string, bits int) bool {
	if n, err := strconv.ParseInt(s, 10, bits); err == nil {
		return n != 0
	}
	return strings.EqualFold(s, "true")
}

// integerDefault reads an integer column's default: Math.round, then
// Java's narrowing to the field's type; BIGINT UNSIGNED in precise mode
// is a Decimal.
func integerDefault(cc *columnCodec, s string) (any, error) {
	if cc.schema.Name == data.DecimalName { // BIGINT UNSIGNED, precise
		u, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, errNoDefault
		}
		return data.Decimal{Unscaled: u, Scale: 0}, nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, errNoDefault
	}
	r := math.Floor(x + 0.5)
	var n int64
	switch {
	case r >= math.MaxInt64:
		n = math.MaxInt64
	case r <= math.MinInt64:
		n = math.MinInt64
	default:
		n = int64(r)
	}
	return narrow(cc.schema.Type, n), nil
}

// decimalDefault reads a DECIMAL's default, rounded half up to the
// column's scale, in the field's representation.
func decimalDefault(c *cdc.Column, cc *columnCodec, s string) (any, error) {
	scale := 0
	switch cc.schema.Type {
	case data.TypeBytes:
		scale, _ = strconv.Atoi(cc.schema.Parameters[data.DecimalScaleParam])
	default:
		scale = c.Scale
		if scale == 0 {
			if _, sc := typeParams(c.ColumnType); sc > 0 {
				scale = sc
			}
		}
	}
	d, err := roundHalfUpDecimal(s, scale)
	if err != nil {
		return nil, errNoDefault
	}
	switch cc.schema.Type {
	case data.TypeString:
		return plainDecimal(d), nil
	case data.TypeFloat64:
		x, _ := strconv.ParseFloat(plainDecimal(d), 64)
		return x, nil
	}
	return d, nil
}

// dateTimeDefault reads a DATE's or DATETIME's default: a zero date (or
// one that does not parse) is null in a nullable column and the epoch
// (epoch, its text) otherwise; a DATE's keeps no time.
func dateTimeDefault(c *cdc.Column, cc *columnCodec, s, epoch string, dateOnly bool) (any, error) {
	if epochEquivalentRE.MatchString(s) || s == "0" {
		if c.Nullable {
			return nil, nil
		}
		s = epoch
	}
	d, err := parseDateTime(s)
	if err != nil || d.zero() {
		if c.Nullable {
			return nil, nil
		}
		d = dateTime{year: 1970, month: 1, day: 1}
	}
	if dateOnly {
		d.hour, d.minute, d.second, d.nano = 0, 0, 0, 0
	}
	return cc.convert(d.format())
}

// timestampDefault reads a TIMESTAMP's default as a ZonedTimestamp; a
// zero or epoch one (CURRENT_TIMESTAMP's stand-in) is null in a
// nullable column.
func timestampDefault(c *cdc.Column, s string) (any, error) {
	if epochEquivalentRE.MatchString(s) || s == "0" || s == epochTimestamp {
		if c.Nullable {
			return nil, nil
		}
		return "1970-01-01T00:00:00Z", nil
	}
	d, err := parseDateTime(s)
	if err != nil || d.zero() {
		return nil, errNoDefault
	}
	// Debezium reads the literal in the JVM's time zone; Tributary,
	// like a Connect worker run at UTC, reads it at UTC.
	tm, err := d.time()
	if err != nil {
		return nil, errNoDefault
	}
	return zonedTimestamp(tm, fsp(c)), nil
}

// format renders a dateTime as MySQL writes it.
func (d dateTime) format() string {
	s := strconv.Itoa(10000 + d.year)[1:] + "-" + two(d.month) + "-" + two(d.day) +
		" " + two(d.hour) + ":" + two(d.minute) + ":" + two(d.second)
	if d.nano != 0 {
		s += "." + strconv.Itoa(1000000000 + d.nano)[1:]
	}
	return s
}

func two(n int) string { return strconv.Itoa(100 + n)[1:] }
