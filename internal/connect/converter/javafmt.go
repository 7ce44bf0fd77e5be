package converter

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tributary-data/tributary/internal/connect/data"
	"github.com/tributary-data/tributary/internal/connect/javafmt"
)

// This file renders values the way the JVM does. Byte compatibility with
// Kafka depends on it: Jackson writes doubles with Double.toString and
// decimals with BigDecimal.toString, and StringConverter uses toString.

// decimalString formats d as Java's BigDecimal.toString, which is what
// Jackson writes for a decimal.format=NUMERIC Decimal: plain notation
// unless the scale is negative or the value is below 1e-6, then
// scientific ("1E+3", "1.5E-7").
func decimalString(d data.Decimal) string {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	coeff := new(big.Int).Abs(u).String()
	sign := ""
	if u.Sign() < 0 {
		sign = "-"
	}
	if d.Scale == 0 {
		return sign + coeff
	}
	adjusted := -d.Scale + len(coeff) - 1
	if d.Scale > 0 && adjusted >= -6 {
		if len(coeff) > d.Scale {
			return sign + coeff[:len(coeff)-d.Scale] + "." + coeff[len(coeff)-d.Scale:]
		}
		return sign + "0." + strings.Repeat("0", d.Scale-len(coeff)) + coeff
	}
	s := sign + coeff[:1]
	if len(coeff) > 1 {
		s += "." + coeff[1:]
	}
	s += "E"
	if adjusted > 0 {
		s += "+"
	}
	return s + strconv.Itoa(adjusted)
}

// parseDecimal reads a JSON number literal as Java's new
// BigDecimal(String) does, keeping every digit and the literal's own
// scale: "1.50" is 150 scale 2, "1E+3" is 1 scale -3.
func parseDecimal(lit string) (data.Decimal, error) {
	mant, exp := lit, 0
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		mant = lit[:i]
		e, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+"))
		if err != nil {
			return data.Decimal{}, fmt.Errorf("invalid number %q", lit)
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	u, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return data.Decimal{}, fmt.Errorf("invalid number %q", lit)
	}
	scale := int64(len(frac)) - int64(exp)
	if scale > math.MaxInt32 || scale < math.MinInt32 {
		return data.Decimal{}, fmt.Errorf("number %q is out of range for a decimal", lit)
	}
	return data.Decimal{Unscaled: u, Scale: int(scale)}, nil
}

// twosComplement returns x as Java's BigInteger.toByteArray does: the
// shortest big-endian two's complement form, at least one byte. It is
// Kafka's Decimal encoding.
func twosComplement(x *big.Int) []byte {
	if x == nil {
		return []byte{0}
	}
	var bitLen int
	if x.Sign() < 0 {
		bitLen = new(big.Int).Not(x).BitLen() // -x-1
	} else {
		bitLen = x.BitLen()
	}
	n := bitLen/8 + 1
	v := new(big.Int).Set(x)
	if x.Sign() < 0 {
		v.Add(v, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	return v.FillBytes(make([]byte, n))
}

// fromTwosComplement is Java's new BigInteger(byte[]).
func fromTwosComplement(b []byte) (*big.Int, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("Zero length BigInteger")
	}
	v := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return v, nil
}

// writeJSONString writes s quoted and escaped as Jackson does: only '"',
// '\\' and control characters are escaped (\b \t \n \f \r, else \u00XX
// in upper case hex); everything else, '/' and non-ASCII included, is
// written as UTF-8. Invalid UTF-8 becomes U+FFFD, as decoding it into a
// Java string would.
func writeJSONString(buf *bytes.Buffer, s string) {
	const hex = "0123456789ABCDEF"
	buf.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				buf.WriteString(`\"`)
			case c == '\\':
				buf.WriteString(`\\`)
			case c == '\b':
				buf.WriteString(`\b`)
			case c == '\t':
				buf.WriteString(`\t`)
			case c == '\n':
				buf.WriteString(`\n`)
			case c == '\f':
				buf.WriteString(`\f`)
			case c == '\r':
				buf.WriteString(`\r`)
			case c < 0x20:
				buf.WriteString(`\u00`)
				buf.WriteByte(hex[c>>4])
				buf.WriteByte(hex[c&0xF])
			default:
				buf.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		buf.WriteRune(r) // RuneError for invalid input writes U+FFFD
		i += n
	}
	buf.WriteByte('"')
}

// javaString renders v as Java's toString would render the corresponding
// Java value, which is what StringConverter writes.
func javaString(v any) string {
	var b strings.Builder
	writeJavaString(&b, v)
	return b.String()
}

func writeJavaString(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		b.WriteString(x)
	case []byte:
		// Java would print the array's identity ("[B@1b6d3586"),
		// which is useless; the bytes themselves are what a user of a
		// string converter wants.
		b.Write(x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		fmt.Fprint(b, x)
	case float32:
		b.WriteString(javafmt.Float(float64(x), 32))
	case float64:
		b.WriteString(javafmt.Float(x, 64))
	case data.Decimal:
		b.WriteString(decimalString(x))
	case time.Time:
		// java.util.Date.toString in a UTC JVM.
		b.WriteString(x.UTC().Format("Mon Jan 02 15:04:05 MST 2006"))
	case []any:
		writeJavaList(b, x)
	case map[string]any:
		entries := make([]javaEntry, 0, len(x))
		for k, e := range x {
			entries = append(entries, javaEntry{k, e})
		}
		writeJavaMap(b, entries)
	case map[any]any:
		entries := make([]javaEntry, 0, len(x))
		for k, e := range x {
			entries = append(entries, javaEntry{javaString(k), e})
		}
		writeJavaMap(b, entries)
	case *data.Struct:
		writeJavaStruct(b, x)
	case fmt.Stringer:
		b.WriteString(x.String())
	default:
		fmt.Fprint(b, x)
	}
}

// writeJavaList writes a list as Java's AbstractCollection.toString.
func writeJavaList(b *strings.Builder, x []any) {
	b.WriteByte('[')
	for i, e := range x {
		if i > 0 {
			b.WriteString(", ")
		}
		writeJavaString(b, e)
	}
	b.WriteByte(']')
}

// javaEntry is a map entry with its key as Java prints it.
type javaEntry struct {
	k string
	v any
}

// writeJavaMap writes a map as Java's AbstractMap.toString, its entries
// sorted by key so that equal maps give equal text.
func writeJavaMap(b *strings.Builder, entries []javaEntry) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].k < entries[j].k })
	b.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.k)
		b.WriteByte('=')
		writeJavaString(b, e.v)
	}
	b.WriteByte('}')
}

// writeJavaStruct writes a struct as Kafka's Struct.toString: fields in
// order, nulls left out.
func writeJavaStruct(b *strings.Builder, x *data.Struct) {
	b.WriteString("Struct{")
	first := true
	if x != nil && x.Schema != nil {
		for _, f := range x.Schema.Fields {
			if f.Index < 0 || f.Index >= len(x.Values) || x.Values[f.Index] == nil {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.WriteString(f.Name)
			b.WriteByte('=')
			writeJavaString(b, x.Values[f.Index])
		}
	}
	b.WriteByte('}')
}
