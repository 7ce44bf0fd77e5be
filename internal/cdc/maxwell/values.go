package maxwell

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tributary-data/tributary/internal/cdc"
)

// value is one column value as Maxwell writes it.
type value struct {
	// raw is the JSON text written under data/old.
	raw string
	// text is what Java's toString gives for Maxwell's value object:
	// what partition keys concatenate and column filters match.
	text string
	null bool
}

var nullValue = value{raw: "null", text: "null", null: true}

func stringValue(s string) value { return value{raw: quote(s), text: s} }
func numberValue(s string) value { return value{raw: s, text: s} }

// convert turns a cdc value into Maxwell's JSON form for column col. The
// mapping follows Maxwell's ColumnDef.asJSON for the value types the
// binlog client gives it; values of other Go types, and columns of types
// Maxwell does not know, are converted by their Go type.
func convert(col *cdc.Column, v any, out *OutputConfig) value {
	if v == nil {
		return nullValue
	}
	if conv := converterFor(col.DataType); conv != nil {
		if val, ok := conv(col, v, out); ok {
			return val
		}
	}
	return genericValue(col, v)
}

// valueConverter converts a non-null value of one column type; false
// when the value's Go type is not one it expects.
type valueConverter func(col *cdc.Column, v any, out *OutputConfig) (value, bool)

// converterFor is the dispatch table over the column types (nil for a
// type converted by its values' Go types alone).
func converterFor(dataType string) valueConverter {
	switch dataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year":
		return convertInteger
	case "float":
		return convertFloat
	case "double", "real":
		return convertDouble
	case "decimal", "numeric":
		return convertDecimal
	case "date":
		return convertDate
	case "datetime":
		return convertDatetime
	case "timestamp":
		return convertTimestamp
	case "time":
		return convertTime
	case "bit":
		return convertBit
	case "json":
		return convertJSON
	case "enum":
		return convertEnum
	case "set":
		return convertSet
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
		"geometrycollection", "geomcollection":
		return convertGeometry
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return convertBinary
	}
	return nil
}

func convertInteger(_ *cdc.Column, v any, _ *OutputConfig) (value, bool) {
	return integerValue(v), true
}

// convertFloat writes a FLOAT as Java prints the float it is.
func convertFloat(_ *cdc.Column, v any, _ *OutputConfig) (value, bool) {
	switch x := v.(type) {
	case float32:
		return numberValue(javaFloat(float64(x), 32)), true
	case float64:
		return numberValue(javaFloat(float64(float32(x)), 32)), true
	}
	return value{}, false
}

func convertDouble(_ *cdc.Column, v any, _ *OutputConfig) (value, bool) {
	switch x := v.(type) {
	case float64:
		return numberValue(javaFloat(x, 64)), true
	case float32:
		return numberValue(javaFloat(float64(x), 64)), true
	}
	return value{}, false
}

// convertDecimal writes a DECIMAL as Java's BigDecimal prints it.
func convertDecimal(_ *cdc.Column, v any, _ *OutputConfig) (value, bool) {
	switch x := v.(type) {
	case cdc.Decimal:
		return numberValue(bigDecimalString(string(x))), true
	case string:
		return numberValue(bigDecimalString(x)), true
	}
	return value{}, false
}

// convertDate writes a DATE as its text; the zero date is null with
// output_null_zerodates.
func convertDate(_ *cdc.Column, v any, out *OutputConfig) (value, bool) {
	switch x := v.(type) {
	case string:
		if out.NullZeroDates && x == "0000-00-00" {
			return nullValue, true
		}
		return stringValue(x), true
	case time.Time:
		return stringValue(x.Format("2006-01-02")), true
	}
	return value{}, false
}

func convertDatetime(col *cdc.Column, v any, out *OutputConfig) (value, bool) {
	switch x := v.(type) {
	case string:
		return dateTimeValue(x, col.Length, out), true
	case time.Time:
		return stringValue(formatTime(x, col.Length)), true
	}
	return value{}, false
}

func convertTimestamp(col *cdc.Column, v any, out *OutputConfig) (value, bool) {
	switch x := v.(type) {
	case time.Time:
		// A zero TIMESTAMP is stored as second 0, which MySQL can
		// not hold otherwise; Maxwell prints it as the zero date.
		if x.Unix() == 0 && x.Nanosecond() == 0 {
			return dateTimeValue("0000-00-00 00:00:00", col.Length, out), true
		}
		return stringValue(formatTime(x.UTC(), col.Length)), true
	case string:
		return dateTimeValue(x, col.Length, out), true
	}
	return value{}, false
}

func convertTime(col *cdc.Column, v any, _ *OutputConfig) (value, bool) {
	if s, ok := v.(string); ok {
		return stringValue(timeOfDay(s, col.Length)), true
	}
	return value{}, false
}

// convertBit writes a BIT as the unsigned number of its bits.
func convertBit(_ *cdc.Column, v any, _ *OutputConfig) (value, bool) {
	switch x := v.(type) {
	case uint64:
		return numberValue(strconv.FormatUint(x, 10)), true
	case []byte:
		var n uint64
		for _, b := range x {
			n = n<<8 | uint64(b)
		}
		return numberValue(strconv.FormatUint(n, 10)), true
	}
	return integerValue(v), true
}

// convertJSON embeds a JSON document, compacted (an empty one is null,
// one that does not parse is its text).
func convertJSON(_ *cdc.Column, v any, _ *OutputConfig) (value, bool) {
	b, ok := cdc.BytesOf(v)
	if !ok || b == nil {
		return value{}, false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return value{raw: "null", text: "null"}, true
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err == nil {
		return value{raw: buf.String(), text: buf.String()}, true
	}
	return stringValue(string(b)), true
}

func convertEnum(col *cdc.Column, v any, _ *OutputConfig) (value, bool) {
	switch x := v.(type) {
	case string:
		// MySQL stores an invalid ENUM value as index 0, which
		// Maxwell writes as null.
		if x == "" && !contains(col.Values, "") {
			return nullValue, true
		}
		return stringValue(x), true
	case int64:
		if x <= 0 || int(x) > len(col.Values) {
			return nullValue, true
		}
		return stringValue(col.Values[x-1]), true
	}
	return value{}, false
}

// convertSet writes a SET as the array of its members, from their text
// or from the bitmap of col.Values.
func convertSet(col *cdc.Column, v any, _ *OutputConfig) (value, bool) {
	switch x := v.(type) {
	case string:
		var members []string
		if x != "" {
			members = strings.Split(x, ",")
		}
		return setValue(members), true
	case uint64:
		var members []string
		for i, m := range col.Values {
			if x>>uint(i)&1 == 1 {
				members = append(members, m)
			}
		}
		return setValue(members), true
	}
	return value{}, false
}

// convertGeometry writes a geometry as WKT, or base64 when it does not
// read as WKB.
func convertGeometry(_ *cdc.Column, v any, _ *OutputConfig) (value, bool) {
	b, ok := v.([]byte)
	if !ok {
		return value{}, false
	}
	if wkt, err := geometryWKT(b); err == nil {
		return stringValue(wkt), true
	}
	return stringValue(base64.StdEncoding.EncodeToString(b)), true
}

func convertBinary(_ *cdc.Column, v any, _ *OutputConfig) (value, bool) {
	b, ok := cdc.BytesOf(v)
	if !ok {
		return value{}, false
	}
	return stringValue(base64.StdEncoding.EncodeToString(b)), true
}

// genericValue converts values of types the switch above does not
// expect, and of column types Maxwell does not know (MariaDB's UUID,
// INET6, ...), by their Go type.
func genericValue(col *cdc.Column, v any) value {
	switch x := v.(type) {
	case string:
		return stringValue(x)
	case []byte:
		if col.Charset == "binary" || !utf8.Valid(x) {
			return stringValue(base64.StdEncoding.EncodeToString(x))
		}
		return stringValue(string(x))
	case cdc.Decimal:
		return numberValue(bigDecimalString(string(x)))
	case float64:
		return numberValue(javaFloat(x, 64))
	case float32:
		return numberValue(javaFloat(float64(x), 32))
	case time.Time:
		return stringValue(formatTime(x.UTC(), col.Length))
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return integerValue(v)
	}
	return stringValue(fmt.Sprint(v))
}

func integerValue(v any) value {
	switch x := v.(type) {
	case int64:
		return numberValue(strconv.FormatInt(x, 10))
	case uint64:
		return numberValue(strconv.FormatUint(x, 10))
	case int:
		return numberValue(strconv.Itoa(x))
	case int32:
		return numberValue(strconv.FormatInt(int64(x), 10))
	case int16:
		return numberValue(strconv.FormatInt(int64(x), 10))
	case int8:
		return numberValue(strconv.FormatInt(int64(x), 10))
	case uint:
		return numberValue(strconv.FormatUint(uint64(x), 10))
	case uint32:
		return numberValue(strconv.FormatUint(uint64(x), 10))
	case uint16:
		return numberValue(strconv.FormatUint(uint64(x), 10))
	case uint8:
		return numberValue(strconv.FormatUint(uint64(x), 10))
	case bool:
		if x {
			return numberValue("1")
		}
		return numberValue("0")
	case string:
		if _, err := strconv.ParseInt(x, 10, 64); err == nil {
			return numberValue(x)
		}
		if _, err := strconv.ParseUint(x, 10, 64); err == nil {
			return numberValue(x)
		}
		return stringValue(x)
	}
	return stringValue(fmt.Sprint(v))
}

func setValue(members []string) value {
	var raw, text strings.Builder
	raw.WriteByte('[')
	text.WriteByte('[')
	for i, m := range members {
		if i > 0 {
			raw.WriteByte(',')
			text.WriteString(", ")
		}
		raw.WriteString(quote(m))
		text.WriteString(m)
	}
	raw.WriteByte(']')
	text.WriteByte(']')
	return value{raw: raw.String(), text: text.String()}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// javaFloat formats a float as Java's Double.toString (bits 64) or
// Float.toString (bits 32) does, which is how Jackson writes them: the
// shortest digits that read back to the same value, plain between 10^-3
// and 10^7 with at least one fraction digit, else "d.dddE±n".
func javaFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return `"NaN"` // Jackson quotes non-numeric numbers by default
	case math.IsInf(f, 1):
		return `"Infinity"`
	case math.IsInf(f, -1):
		return `"-Infinity"`
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, bits)
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}

// bigDecimalString writes exact decimal text as Java's
// BigDecimal.toString does (Jackson's default for BigDecimal): plain
// notation unless the value is below 10^-6 in magnitude, then scientific
// ("1.0E-7", "0E-8"). The digits are never touched, only placed.
func bigDecimalString(s string) string {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	intPart, frac, _ := strings.Cut(s, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		digits = "0"
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return s // not a decimal: leave it as given
		}
	}
	scale := len(frac)
	adjusted := len(digits) - 1 - scale
	var b strings.Builder
	if neg && digits != "0" {
		b.WriteByte('-')
	}
	if adjusted >= -6 {
		switch {
		case scale == 0:
			b.WriteString(digits)
		case len(digits) > scale:
			b.WriteString(digits[:len(digits)-scale])
			b.WriteByte('.')
			b.WriteString(digits[len(digits)-scale:])
		default:
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", scale-len(digits)))
			b.WriteString(digits)
		}
		return b.String()
	}
	b.WriteByte(digits[0])
	if len(digits) > 1 {
		b.WriteByte('.')
		b.WriteString(digits[1:])
	}
	b.WriteByte('E')
	b.WriteString(strconv.Itoa(adjusted))
	return b.String()
}

// fraction returns ".ddd" with the first length digits of a fraction
// given as text (at most 6 significant), as Maxwell's
// appendFractionalSeconds does; "" for length 0.
func fraction(digits string, length int) string {
	if length <= 0 {
		return ""
	}
	if length > 6 {
		length = 6
	}
	digits += "000000"
	return "." + digits[:length]
}

// dateTimeValue normalises "yyyy-mm-dd hh:mm:ss[.ffffff]" to the
// column's declared fractional digits.
func dateTimeValue(s string, length int, out *OutputConfig) value {
	base, frac, _ := strings.Cut(s, ".")
	if strings.HasPrefix(base, "0000-00-00") && out.NullZeroDates {
		return nullValue
	}
	return stringValue(base + fraction(frac, length))
}

func formatTime(t time.Time, length int) string {
	return t.Format("2006-01-02 15:04:05") + fraction(fmt.Sprintf("%06d", t.Nanosecond()/1000), length)
}

// timeOfDay formats a TIME value "[-]hhh:mm:ss[.ffffff]" as Maxwell does:
// through java.sql.Time, so the value wraps into one day (in UTC, the
// zone Maxwell's images run in): "25:00:00" is "01:00:00" and
// "-01:00:00" is "23:00:00".
func timeOfDay(s string, length int) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	clock, frac, _ := strings.Cut(s, ".")
	parts := strings.Split(clock, ":")
	if len(parts) != 3 {
		return s
	}
	var hms [3]int64
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return s
		}
		hms[i] = n
	}
	micros, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	total := ((hms[0]*60+hms[1])*60+hms[2])*1_000_000 + micros
	if neg {
		total = -total
	}
	const day = 86_400 * 1_000_000
	total = ((total % day) + day) % day
	sec := total / 1_000_000
	return fmt.Sprintf("%02d:%02d:%02d", sec/3600, sec/60%60, sec%60) + fraction(fmt.Sprintf("%06d", total%1_000_000), length)
}

// quote writes s as a JSON string the way Jackson does: only '"', '\\'
// and control characters are escaped (named escapes for \b \t \n \f \r,
// \u00XX in upper-case hex for the rest); everything else, '/', '<' and
// U+2028 included, is written as UTF-8. Invalid UTF-8 becomes U+FFFD, as
// Java's decoding would make it.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	appendQuoted(&b, s)
	return b.String()
}

const upperHex = "0123456789ABCDEF"

func appendQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(s[start:i])
				b.WriteString("\uFFFD")
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&0xF])
		}
		i++
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// geometryWKT renders MySQL's internal geometry (a 4-byte SRID, then
// WKB) as WKT the way Maxwell's JTS writer does: "POINT (1 2)",
// "MULTIPOINT ((1 2), (3 4))", coordinates in plain notation.
func geometryWKT(b []byte) (string, error) {
	if len(b) < 4 {
		return "", fmt.Errorf("geometry of %d bytes", len(b))
	}
	r := &wkbReader{b: b[4:]}
	var sb strings.Builder
	if err := r.geometry(&sb); err != nil {
		return "", err
	}
	return sb.String(), nil
}

type wkbReader struct {
	b     []byte
	order binary.ByteOrder
}

func (r *wkbReader) u32() (uint32, error) {
	if len(r.b) < 4 {
		return 0, fmt.Errorf("truncated WKB")
	}
	v := r.order.Uint32(r.b)
	r.b = r.b[4:]
	return v, nil
}

func (r *wkbReader) coord(sb *strings.Builder) error {
	if len(r.b) < 16 {
		return fmt.Errorf("truncated WKB")
	}
	x := math.Float64frombits(r.order.Uint64(r.b))
	y := math.Float64frombits(r.order.Uint64(r.b[8:]))
	r.b = r.b[16:]
	sb.WriteString(ordinate(x))
	sb.WriteByte(' ')
	sb.WriteString(ordinate(y))
	return nil
}

func ordinate(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// header reads a WKB byte order and type.
func (r *wkbReader) header() (uint32, error) {
	if len(r.b) < 1 {
		return 0, fmt.Errorf("truncated WKB")
	}
	switch r.b[0] {
	case 0:
		r.order = binary.BigEndian
	case 1:
		r.order = binary.LittleEndian
	default:
		return 0, fmt.Errorf("bad WKB byte order %d", r.b[0])
	}
	r.b = r.b[1:]
	return r.u32()
}

var wkbNames = map[uint32]string{1: "POINT", 2: "LINESTRING", 3: "POLYGON", 4: "MULTIPOINT",
	5: "MULTILINESTRING", 6: "MULTIPOLYGON", 7: "GEOMETRYCOLLECTION"}

func (r *wkbReader) geometry(sb *strings.Builder) error {
	typ, err := r.header()
	if err != nil {
		return err
	}
	name, ok := wkbNames[typ]
	if !ok {
		return fmt.Errorf("unsupported WKB type %d", typ)
	}
	sb.WriteString(name)
	sb.WriteByte(' ')
	return r.body(sb, typ)
}

// body writes the text of a geometry whose header has been read.
func (r *wkbReader) body(sb *strings.Builder, typ uint32) error {
	if typ == 1 {
		sb.WriteByte('(')
		if err := r.coord(sb); err != nil {
			return err
		}
		sb.WriteByte(')')
		return nil
	}
	return r.list(sb, func() error {
		switch typ {
		case 2: // points
			return r.coord(sb)
		case 3: // rings
			return r.ring(sb)
		case 4, 5, 6: // members of the matching simple type, untagged
			sub, err := r.header()
			if err != nil {
				return err
			}
			return r.body(sb, sub)
		case 7:
			return r.geometry(sb)
		}
		return nil
	})
}

func (r *wkbReader) ring(sb *strings.Builder) error {
	return r.list(sb, func() error { return r.coord(sb) })
}

// list writes a counted list: EMPTY, or its items, each written by
// item, between parentheses and separated by commas.
func (r *wkbReader) list(sb *strings.Builder, item func() error) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	if n == 0 {
		sb.WriteString("EMPTY")
		return nil
	}
	sb.WriteByte('(')
	for i := uint32(0); i < n; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		if err := item(); err != nil {
			return err
		}
	}
	sb.WriteByte(')')
	return nil
}
