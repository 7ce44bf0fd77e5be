package transform

import (
	"encoding/base64"
	"fmt"
	"maps"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
	"github.com/tributary-data/tributary/internal/connect/javafmt"
)

// cast is Cast$Key/$Value: casts fields of a struct or map, or the whole
// key or value, to another primitive type.
type cast struct {
	side side
	// fields maps field names to target types; whole is set instead when
	// the spec is a single bare type.
	fields                 map[string]data.Type
	whole                  data.Type
	replaceNullWithDefault bool
}

func newCast(c *config, s side) (Transform, error) {
	raw, ok := c.lookup("spec")
	if !ok {
		return nil, missing("spec")
	}
	spec := parseList(raw)
	if len(spec) == 0 {
		return nil, invalid("spec", raw, "Must specify at least one field to cast.")
	}
	t := &cast{side: s, fields: map[string]data.Type{}}
	for _, m := range spec {
		parts := strings.Split(m, ":")
		if len(parts) > 2 {
			return nil, invalid("spec", raw, "Invalid rename mapping: "+m)
		}
		typ, err := castOutputType(raw, parts[len(parts)-1])
		if err != nil {
			return nil, err
		}
		if len(parts) == 1 {
			t.whole = typ
		} else {
			t.fields[strings.TrimSpace(parts[0])] = typ
		}
	}
	if t.whole != "" && len(spec) > 1 {
		return nil, invalid("spec", raw, "Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec")
	}
	var err error
	if t.replaceNullWithDefault, err = c.replaceNullWithDefault(); err != nil {
		return nil, err
	}
	return t, nil
}

func castOutputType(raw, name string) (data.Type, error) {
	typ := data.Type(strings.ToUpper(strings.TrimSpace(name)))
	switch typ {
	case data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64, data.TypeFloat32, data.TypeFloat64, data.TypeBoolean, data.TypeString:
		return typ, nil
	case data.TypeBytes, data.TypeArray, data.TypeMap, data.TypeStruct:
		return "", invalid("spec", raw, "Cast transformation does not support casting to "+string(typ)+"; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]")
	}
	return "", invalid("spec", raw, "Invalid type found in casting spec: "+strings.TrimSpace(name))
}

func (t *cast) Apply(r *data.Record) (*data.Record, error) {
	const purpose = "cast types"
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	if schema == nil {
		if t.whole != "" {
			out, err := castValue(nil, v, t.whole)
			if err != nil {
				return nil, err
			}
			return t.side.with(r, nil, out), nil
		}
		m, err := requireMap(v, purpose)
		if err != nil {
			return nil, err
		}
		out := maps.Clone(m)
		for f, typ := range t.fields {
			cv, err := castValue(nil, m[f], typ)
			if err != nil {
				return nil, err
			}
			out[f] = cv
		}
		return t.side.with(r, nil, out), nil
	}
	ns, err := t.updatedSchema(schema)
	if err != nil {
		return nil, err
	}
	if t.whole != "" {
		out, err := castValue(schema, v, t.whole)
		if err != nil {
			return nil, err
		}
		return t.side.with(r, ns, out), nil
	}
	st, err := requireStruct(v, purpose)
	if err != nil {
		return nil, err
	}
	out := data.NewStruct(ns)
	for i := range st.Schema.Fields {
		f := &st.Schema.Fields[i]
		fv := fieldValue(st, f, t.replaceNullWithDefault)
		if typ, ok := t.fields[f.Name]; ok {
			if fv, err = castValue(f.Schema, fv, typ); err != nil {
				return nil, err
			}
		}
		if err := put(out, f.Name, fv); err != nil {
			return nil, err
		}
	}
	return t.side.with(r, ns, out), nil
}

func (t *cast) updatedSchema(s *data.Schema) (*data.Schema, error) {
	var ns *data.Schema
	if t.whole != "" {
		ns = copyBasics(s, t.whole)
		// The value is no longer of the logical type, so its name must go
		// (Kafka keeps it, which leaves an unusable schema).
		switch ns.Name {
		case data.DecimalName, data.DateName, data.TimeName, data.TimestampName:
			ns.Name, ns.Version, ns.Parameters = "", 0, nil
		}
	} else {
		if s.Type != data.TypeStruct {
			return nil, dataErrorf("Only Struct objects supported for [cast types], found: %s", "schema "+string(s.Type))
		}
		b := newStructBuilder(s)
		for _, f := range s.Fields {
			typ, ok := t.fields[f.Name]
			if !ok {
				b.field(f.Name, f.Schema)
				continue
			}
			fs := &data.Schema{Type: typ, Optional: f.Schema.Optional}
			if f.Schema.Default != nil {
				d, err := castValue(f.Schema, f.Schema.Default, typ)
				if err != nil {
					return nil, err
				}
				fs.Default = d
			}
			b.field(f.Name, fs)
		}
		var err error
		if ns, err = b.build(); err != nil {
			return nil, err
		}
	}
	ns.Optional = s.Optional
	if s.Default != nil && t.whole != "" {
		d, err := castValue(s, s.Default, ns.Type)
		if err != nil {
			return nil, err
		}
		ns.Default = d
	}
	return ns, nil
}

// castValue casts v (of schema s, or inferred when s is nil) to typ with
// Java's conversions: numbers narrow as Java's Number.xxxValue() do,
// booleans are 1/0, strings parse as Java's parseXxx, bytes become base64
// strings and Date/Time/Timestamp become their integer encodings (or ISO
// strings).
func castValue(s *data.Schema, v any, typ data.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	var in data.Type
	if s == nil {
		if in = schemaTypeOf(v); in == "" {
			return nil, dataErrorf("Cast transformation was passed a value of type class %s which is not supported by Connect's data API", javaClass(v))
		}
	} else {
		in = s.Type
	}
	switch in {
	case data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64, data.TypeFloat32, data.TypeFloat64, data.TypeBoolean, data.TypeString, data.TypeBytes:
	default:
		return nil, dataErrorf("Cast transformation does not support casting from %s; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]", in)
	}
	if s != nil && s.Name != "" && typ != data.TypeString {
		v = encodeLogical(s, v)
	}
	if typ == data.TypeString {
		return castToString(v), nil
	}
	switch typ {
	case data.TypeBoolean:
		return castToBoolean(v)
	case data.TypeFloat32, data.TypeFloat64:
		return castToFloat(v, typ)
	}
	return castToInteger(v, typ)
}

// castOutOfRange is the Cast's error for a string that does not parse
// as the number asked for.
func castOutOfRange(v any) error {
	return dataErrorf("Value (%s) was out of range for requested data type", castToString(v))
}

// castUnexpected is the Cast's error for a value that is no number.
func castUnexpected(v any) error {
	return dataErrorf("Unexpected type in Cast transformation: class %s", javaClass(v))
}

// castToBoolean casts as Kafka does: a string is true when it is
// "true" in any case, a number when it is not zero.
func castToBoolean(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		return strings.EqualFold(x, "true"), nil
	}
	n, ok := javaNumber(v)
	if !ok {
		return nil, castUnexpected(v)
	}
	return n.long() != 0, nil
}

// castToFloat casts to FLOAT32 or FLOAT64: a boolean is 1 or 0, a
// string parses as Java's parseFloat/parseDouble.
func castToFloat(v any, typ data.Type) (any, error) {
	var f float64
	switch x := v.(type) {
	case bool:
		if x {
			f = 1
		}
	case string:
		bits := 64
		if typ == data.TypeFloat32 {
			bits = 32
		}
		p, err := parseJavaFloat(x, bits)
		if err != nil {
			return nil, castOutOfRange(v)
		}
		f = p
	default:
		n, ok := javaNumber(v)
		if !ok {
			return nil, castUnexpected(v)
		}
		f = n.double()
	}
	if typ == data.TypeFloat32 {
		return float32(f), nil
	}
	return f, nil
}

// castToInteger casts to INT8..INT64: a boolean is 1 or 0, a string
// parses as Java's parseXxx, a number narrows as Java's intValue (and
// then the narrowing cast) or longValue does.
func castToInteger(v any, typ data.Type) (any, error) {
	bits := map[data.Type]int{data.TypeInt8: 8, data.TypeInt16: 16, data.TypeInt32: 32, data.TypeInt64: 64}[typ]
	var l int64
	switch x := v.(type) {
	case bool:
		if x {
			l = 1
		}
	case string:
		p, err := strconv.ParseInt(x, 10, bits)
		if err != nil {
			return nil, castOutOfRange(v)
		}
		l = p
	default:
		n, ok := javaNumber(v)
		if !ok {
			return nil, castUnexpected(v)
		}
		if bits == 64 {
			l = n.long()
		} else {
			l = int64(n.int())
		}
	}
	switch typ {
	case data.TypeInt8:
		return int8(l), nil
	case data.TypeInt16:
		return int16(l), nil
	case data.TypeInt32:
		return int32(l), nil
	}
	return l, nil
}

// encodeLogical turns a Date/Time/Timestamp into its integer encoding.
func encodeLogical(s *data.Schema, v any) any {
	t, ok := v.(time.Time)
	if !ok {
		return v
	}
	ms := t.UnixMilli()
	switch s.Name {
	case data.DateName:
		return int32(floorDiv(ms, 86400000))
	case data.TimeName:
		return int32(ms - floorDiv(ms, 86400000)*86400000)
	case data.TimestampName:
		return ms
	}
	return v
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// javaNum is a Java Number: either integral or floating, or a decimal.
type javaNum struct {
	isFloat bool
	i       int64
	f       float64
	dec     *data.Decimal
}

func javaNumber(v any) (javaNum, bool) {
	switch x := v.(type) {
	case int8:
		return javaNum{i: int64(x)}, true
	case int16:
		return javaNum{i: int64(x)}, true
	case int32:
		return javaNum{i: int64(x)}, true
	case int64:
		return javaNum{i: x}, true
	case float32:
		return javaNum{isFloat: true, f: float64(x)}, true
	case float64:
		return javaNum{isFloat: true, f: x}, true
	case data.Decimal:
		return javaNum{dec: &x}, true
	}
	return javaNum{}, false
}

// long is Number.longValue(): floats saturate, NaN is 0, decimals
// truncate and keep the low 64 bits.
func (n javaNum) long() int64 {
	switch {
	case n.dec != nil:
		q := new(big.Int).Quo(n.dec.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(n.dec.Scale, 0))), nil))
		if n.dec.Scale < 0 {
			q = new(big.Int).Mul(n.dec.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-n.dec.Scale)), nil))
		}
		return lowBits64(q)
	case n.isFloat:
		return saturate(n.f, math.MinInt64, math.MaxInt64)
	}
	return n.i
}

// int is Number.intValue(): floats saturate at int32, integers and
// decimals keep the low 32 bits.
func (n javaNum) int() int32 {
	if n.isFloat && n.dec == nil {
		return int32(saturate(n.f, math.MinInt32, math.MaxInt32))
	}
	return int32(n.long())
}

func (n javaNum) double() float64 {
	switch {
	case n.dec != nil:
		r := new(big.Rat).SetFrac(n.dec.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(n.dec.Scale, 0))), nil))
		if n.dec.Scale < 0 {
			r = new(big.Rat).SetInt(new(big.Int).Mul(n.dec.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-n.dec.Scale)), nil)))
		}
		f, _ := r.Float64()
		return f
	case n.isFloat:
		return n.f
	}
	return float64(n.i)
}

func saturate(f float64, lo, hi int64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f <= float64(lo):
		return lo
	case f >= float64(hi):
		return hi
	}
	return int64(f)
}

func lowBits64(b *big.Int) int64 {
	if b.IsInt64() {
		return b.Int64()
	}
	mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1))
	u := new(big.Int).And(b, mask) // two's complement low bits
	return int64(u.Uint64())
}

// parseJavaFloat is Float.parseFloat/Double.parseDouble: surrounding
// whitespace and a trailing f/d type suffix are allowed.
func parseJavaFloat(s string, bits int) (float64, error) {
	s = strings.TrimSpace(s)
	if n := len(s); n > 1 && strings.ContainsRune("fFdD", rune(s[n-1])) && !strings.HasSuffix(strings.ToLower(s), "inf") {
		s = s[:n-1]
	}
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity", "+Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return 0, err
	}
	return f, nil
}

// castToString renders v as Java's toString does, with Kafka's ISO
// formats for dates and base64 for bytes.
func castToString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int8, int16, int32, int64, int:
		return strconvAny(x)
	case float32:
		return javafmt.Float(float64(x), 32)
	case float64:
		return javafmt.Float(x, 64)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case data.Decimal:
		return x.String()
	case time.Time:
		ms := x.UnixMilli()
		u := time.UnixMilli(ms).UTC()
		switch {
		case ms >= 0 && ms < 86400000:
			return u.Format("15:04:05.000Z")
		case ms%86400000 == 0:
			return u.Format("2006-01-02")
		}
		return u.Format("2006-01-02T15:04:05.000Z")
	}
	return strconvAny(v)
}

func strconvAny(v any) string {
	switch x := v.(type) {
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	}
	return fmt.Sprint(v)
}
