package cdc

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// valueKind says how a column's value becomes its Row representation
// (see Row).
type valueKind uint8

const (
	vRaw       valueKind = iota // passed on as decoded
	vSigned                     // int64
	vUnsigned                   // int64, or uint64 for 8 bytes
	vFloat                      // float32
	vDouble                     // float64
	vDecimal                    // Decimal
	vBit                        // uint64
	vTimestamp                  // time.Time in UTC
	vDatetime                   // "2006-01-02 15:04:05[.ffffff]"
	vTime                       // "[-]hh:mm:ss[.ffffff]"
	vDate                       // "2006-01-02"
	vYear                       // int64
	vEnum                       // string
	vSet                        // string
	vText                       // string, converted to UTF-8
	vBinary                     // []byte, padded to pad bytes
	vBlob                       // []byte
	vJSON                       // string
	vGeometry                   // []byte
	vInet                       // MariaDB INET4/INET6: string
	vUUID                       // MariaDB UUID: string
)

// colPlan converts one column's values, from the binary log or from the
// snapshot, to the same Row representation.
type colPlan struct {
	kind valueKind
	// size is an integer's width in bytes.
	size int
	// fsp is a temporal type's fractional-second digits.
	fsp int
	// pad is BINARY(n)'s n: the binary log drops trailing zero bytes.
	pad int
	// values are an ENUM's or SET's members, in UTF-8.
	values []string
	dec    textDecoder
	// charsetKnown is set when the binary log gave the character set.
	charsetKnown bool
}

// planFor returns the conversion of a column as information_schema
// describes it.
func planFor(c *Column) colPlan {
	p := colPlan{fsp: c.Length}
	switch c.DataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		p.size = map[string]int{"tinyint": 1, "smallint": 2, "mediumint": 3, "int": 4, "integer": 4, "bigint": 8}[c.DataType]
		p.kind = vSigned
		if c.Unsigned {
			p.kind = vUnsigned
		}
	case "float":
		p.kind = vFloat
	case "double", "real", "double precision":
		p.kind = vDouble
	case "decimal", "numeric":
		p.kind = vDecimal
	case "bit":
		p.kind = vBit
	case "timestamp":
		p.kind = vTimestamp
	case "datetime":
		p.kind = vDatetime
	case "time":
		p.kind = vTime
	case "date":
		p.kind = vDate
	case "year":
		p.kind = vYear
	case "enum":
		p.kind = vEnum
		p.values = c.Values
	case "set":
		p.kind = vSet
		p.values = c.Values
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		p.kind = vText
		p.dec, _ = decoderFor(c.Charset)
		if c.Charset == charsetBinary {
			p.kind = vBlob
		}
	case "binary":
		p.kind = vBinary
		p.pad = c.Length
	case "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "vector":
		p.kind = vBlob
	case "json":
		p.kind = vJSON
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
		"multipolygon", "geometrycollection", "geomcollection":
		p.kind = vGeometry
	case "inet4":
		p.kind, p.pad = vInet, 4
	case "inet6":
		p.kind, p.pad = vInet, 16
	case "uuid":
		p.kind = vUUID
	default:
		p.kind = vRaw
	}
	return p
}

// fromBinlog converts a value as go-mysql's row decoder returns it
// (ParseTime off, UseDecimal off, TIMESTAMP text in UTC). A value of a
// Go type a kind does not expect is returned as it is.
func (p *colPlan) fromBinlog(v any) any {
	if v == nil {
		return nil
	}
	switch p.kind {
	case vSigned, vYear:
		return signedFromBinlog(v)
	case vUnsigned:
		return p.unsignedFromBinlog(v)
	case vText:
		switch x := v.(type) {
		case string:
			return p.dec.textString(x)
		case []byte:
			return p.dec.text(x)
		}
		return v
	case vBinary, vBlob, vGeometry:
		return p.bytesFromBinlog(v)
	case vJSON:
		return jsonFromBinlog(v)
	case vInet:
		return inetText(padded(binaryValue(v), p.pad))
	case vUUID:
		return uuidText(padded(binaryValue(v), 16))
	}
	return p.scalarFromBinlog(v)
}

func signedFromBinlog(v any) any {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	}
	return v
}

// unsignedFromBinlog reads an unsigned integer, which the decoder hands
// as the signed type of its size; BIGINT UNSIGNED becomes a uint64.
func (p *colPlan) unsignedFromBinlog(v any) any {
	switch x := v.(type) {
	case int8:
		return int64(uint8(x))
	case int16:
		return int64(uint16(x))
	case int32:
		if p.size == 3 {
			return int64(uint32(x) & 0xFFFFFF)
		}
		return int64(uint32(x))
	case int64:
		if p.size == 8 {
			return uint64(x)
		}
	}
	return v
}

// bytesFromBinlog reads a binary value as bytes, a BINARY(n) padded
// with zeros to its length, as the server returns it.
func (p *colPlan) bytesFromBinlog(v any) any {
	b, ok := BytesOf(v)
	if !ok {
		return v
	}
	if p.kind == vBinary {
		b = padded(b, p.pad)
	}
	return b
}

// jsonFromBinlog reads a JSON document, normalized; an empty one is
// JSON's null.
func jsonFromBinlog(v any) any {
	switch x := v.(type) {
	case []byte:
		if len(x) == 0 {
			return "null"
		}
		return normalizeJSON(string(x))
	case string:
		return normalizeJSON(x)
	}
	return v
}

// scalarFromBinlog reads the kinds whose values come as one Go type:
// floats, decimals, bits, temporal text, ENUM indexes and SET bitmaps.
func (p *colPlan) scalarFromBinlog(v any) any {
	switch x := v.(type) {
	case float64:
		if p.kind == vFloat {
			return float32(x)
		}
	case float32:
		if p.kind == vDouble {
			return float64(x)
		}
	case int64:
		switch p.kind {
		case vBit:
			return uint64(x)
		case vEnum:
			return p.enumValue(x)
		case vSet:
			return p.setValue(uint64(x))
		}
	case string:
		switch p.kind {
		case vDecimal:
			return Decimal(x)
		case vTimestamp:
			return parseTimestamp(x)
		case vDatetime, vTime:
			return fixFraction(x, p.fsp)
		}
	}
	return v
}

// fromSnapshot converts a value read with the binary protocol and
// character_set_results=NULL. Bytes are copied: the client reuses them.
func (p *colPlan) fromSnapshot(v *mysql.FieldValue) any {
	switch v.Type {
	case mysql.FieldValueTypeNull:
		return nil
	case mysql.FieldValueTypeSigned:
		if p.kind == vUnsigned && p.size == 8 {
			return uint64(v.AsInt64())
		}
		return v.AsInt64()
	case mysql.FieldValueTypeUnsigned:
		if p.kind == vUnsigned && p.size == 8 {
			return v.AsUint64()
		}
		return int64(v.AsUint64())
	case mysql.FieldValueTypeFloat:
		if p.kind == vFloat {
			return float32(v.AsFloat64())
		}
		return v.AsFloat64()
	}
	b := v.AsString()
	switch p.kind {
	case vDecimal:
		return Decimal(b)
	case vBit:
		var n uint64
		for _, c := range b {
			n = n<<8 | uint64(c)
		}
		return n
	case vTimestamp:
		return parseTimestamp(string(b))
	case vDatetime, vTime:
		return fixFraction(string(b), p.fsp)
	case vDate:
		return string(b)
	case vJSON:
		return normalizeJSON(string(b))
	case vEnum, vSet, vText:
		return p.dec.text(b)
	case vInet, vUUID:
		return string(b)
	}
	out := make([]byte, len(b))
	copy(out, b)
	return out
}

func (p *colPlan) enumValue(i int64) string {
	if i < 1 || int(i) > len(p.values) {
		return "" // the error value MySQL stores for an invalid member
	}
	return p.values[i-1]
}

func (p *colPlan) setValue(mask uint64) string {
	if mask == 0 {
		return ""
	}
	var b strings.Builder
	for i, v := range p.values {
		if i < 64 && mask&(1<<uint(i)) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(v)
		}
	}
	return b.String()
}

// padded restores the trailing zero bytes the binary log drops from
// fixed-size binary values.
func padded(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	out := make([]byte, n)
	copy(out, b)
	return out
}

// binaryValue returns a binary-log value's bytes.
func binaryValue(v any) []byte {
	b, _ := BytesOf(v)
	return b
}

// BytesOf returns the bytes of a value handed as text or bytes (a
// string or a []byte); false for a value of another type.
func BytesOf(v any) ([]byte, bool) {
	switch x := v.(type) {
	case string:
		return []byte(x), true
	case []byte:
		return x, true
	}
	return nil, false
}

// inetText formats MariaDB's INET4 (4 bytes) or INET6 (16 bytes) as the
// server prints it.
func inetText(b []byte) any {
	switch len(b) {
	case 4:
		return netip.AddrFrom4([4]byte(b)).String()
	case 16:
		// netip prints IPv4-mapped addresses with a dotted tail, as
		// MariaDB does.
		return netip.AddrFrom16([16]byte(b)).String()
	}
	return b
}

// uuidText formats MariaDB's UUID as the server prints it.
func uuidText(b []byte) any {
	if len(b) != 16 {
		return b
	}
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// normalizeJSON renders MySQL's JSON type the same way whether it comes
// from the binary log (go-mysql decodes the binary form and marshals it)
// or from a query (the server's text): compact, keys sorted, integers
// exact, other numbers as float64. (MariaDB's JSON is LONGTEXT and keeps
// its text.)
func normalizeJSON(s string) string {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonNumbers(v)); err != nil {
		return s
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// jsonNumbers turns non-integer numbers into float64, so that their text
// no longer depends on who printed them.
func jsonNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			if f, err := strconv.ParseFloat(string(x), 64); err == nil {
				return f
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = jsonNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = jsonNumbers(x[k])
		}
	}
	return v
}

// fixFraction makes a DATETIME or TIME text carry exactly fsp fractional
// digits, as the server prints the column: the binary log's decoder
// drops a zero fraction of TIME and the binary protocol always gives six
// digits or none.
func fixFraction(s string, fsp int) string {
	dot := strings.LastIndexByte(s, '.')
	if dot < 0 || strings.IndexByte(s[dot:], ':') >= 0 {
		if fsp == 0 {
			return s
		}
		return s + "." + strings.Repeat("0", fsp)
	}
	have := len(s) - dot - 1
	switch {
	case fsp == 0:
		return s[:dot]
	case have == fsp:
		return s
	case have > fsp:
		return s[:dot+1+fsp]
	default:
		return s + strings.Repeat("0", fsp-have)
	}
}

// epoch is the zero TIMESTAMP: the server stores it as 0 seconds.
var epoch = time.Unix(0, 0).UTC()

// parseTimestamp reads "2006-01-02 15:04:05[.ffffff]" in UTC; the zero
// TIMESTAMP ("0000-00-00 00:00:00") is the Unix epoch, which is how the
// server stores it.
func parseTimestamp(s string) any {
	if len(s) < 19 {
		return s
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 7)
	d, ok3 := num(8, 10)
	h, ok4 := num(11, 13)
	mi, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return s
	}
	nsec := 0
	if len(s) > 20 && s[19] == '.' {
		digits := s[20:]
		f, ok := num(20, len(s))
		if !ok {
			return s
		}
		for i := len(digits); i < 9; i++ {
			f *= 10
		}
		nsec = f
	}
	if y == 0 && mo == 0 && d == 0 {
		return epoch
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, nsec, time.UTC)
}
