package transform

import (
	"math"
	"math/big"
	"testing"

	"github.com/tributary-data/tributary/internal/connect/data"
)

func TestCastConfig(t *testing.T) {
	configErr(t, "Cast$Value", map[string]string{}, "spec", "Missing required configuration")
	configErr(t, "Cast$Value", map[string]string{"spec": ""}, "spec", "Must specify at least one field to cast.")
	configErr(t, "Cast$Value", map[string]string{"spec": "foo:int8:int32"}, "spec", "Invalid rename mapping: foo:int8:int32")
	configErr(t, "Cast$Value", map[string]string{"spec": "foo:faketype"}, "spec", "Invalid type found in casting spec: faketype")
	configErr(t, "Cast$Value", map[string]string{"spec": "int8,int32"}, "spec", "may only specify a single cast in their spec")
	configErr(t, "Cast$Value", map[string]string{"spec": "foo:array"}, "spec", "Cast transformation does not support casting to ARRAY")
	configErr(t, "Cast$Value", map[string]string{"spec": "bytes"}, "spec", "Cast transformation does not support casting to BYTES")
}

func TestCastWholeValue(t *testing.T) {
	cases := []struct {
		spec   string
		schema *data.Schema
		in     any
		want   any
	}{
		{"int8", prim(data.TypeInt32), int32(42), int8(42)},
		{"int16", prim(data.TypeInt32), int32(42), int16(42)},
		{"int32", prim(data.TypeInt64), int64(42), int32(42)},
		{"int64", prim(data.TypeInt32), int32(42), int64(42)},
		{"float32", prim(data.TypeInt32), int32(42), float32(42)},
		{"float64", prim(data.TypeInt32), int32(42), float64(42)},
		{"boolean", prim(data.TypeInt32), int32(42), true},
		{"boolean", prim(data.TypeInt32), int32(0), false},
		{"string", prim(data.TypeInt32), int32(42), "42"},
		{"int32", prim(data.TypeFloat64), 42.9, int32(42)},
		{"int32", prim(data.TypeBoolean), true, int32(1)},
		{"int32", prim(data.TypeString), "42", int32(42)},
		{"float64", prim(data.TypeString), "42.5", 42.5},
		{"boolean", prim(data.TypeString), "TRUE", true},
		{"boolean", prim(data.TypeString), "yes", false},
		{"string", prim(data.TypeFloat64), 42.0, "42.0"},
		{"string", prim(data.TypeFloat32), float32(1e10), "1.0E10"},
		{"string", prim(data.TypeBoolean), true, "true"},
		{"string", prim(data.TypeBytes), []byte{1, 2, 3}, "AQID"},
		// Java narrowing: Number.byteValue keeps the low bits.
		{"int8", prim(data.TypeInt32), int32(300), int8(44)},
		// Floats saturate at the int range before narrowing.
		{"int32", prim(data.TypeFloat64), 1e20, int32(math.MaxInt32)},
		{"int64", prim(data.TypeFloat64), math.NaN(), int64(0)},
		// Logical types: to their encoding, or ISO strings.
		{"int64", data.TimestampSchema(), ms(1483425001864), int64(1483425001864)},
		{"int32", data.DateSchema(), ms(17167 * 86400000), int32(17167)},
		{"string", data.TimestampSchema(), ms(1483425001864), "2017-01-03T06:30:01.864Z"},
		{"string", data.DateSchema(), ms(17167 * 86400000), "2017-01-01"},
		{"string", data.TimeSchema(), ms(3723004), "01:02:03.004Z"},
		{"float64", data.DecimalSchema(2), data.Decimal{Unscaled: big.NewInt(12345), Scale: 2}, 123.45},
		{"int32", data.DecimalSchema(2), data.Decimal{Unscaled: big.NewInt(12345), Scale: 2}, int32(123)},
		{"string", data.DecimalSchema(2), data.Decimal{Unscaled: big.NewInt(12345), Scale: 2}, "123.45"},
	}
	for _, c := range cases {
		for _, k := range []string{"Key", "Value"} {
			tr := build(t, "Cast$"+k, map[string]string{"spec": c.spec})
			var r *data.Record
			if k == "Key" {
				r = keyRec(c.schema, c.in)
			} else {
				r = valueRec(c.schema, c.in)
			}
			out := apply(t, tr, r)
			s, v := keySide.get(out)
			if k == "Value" {
				s, v = valueSide.get(out)
			}
			deepEqual(t, k+" "+c.spec+" of "+javaClass(c.in), v, c.want)
			if s.Type != data.Type(upper(c.spec)) || s.Name != "" {
				t.Errorf("%s %s: schema %+v", k, c.spec, s)
			}
			if err := data.Validate(s, v); err != nil {
				t.Errorf("%s %s: %v", k, c.spec, err)
			}
			// Schemaless, the type comes from the Go value.
			if c.schema.Name == "" {
				if k == "Value" {
					out = apply(t, tr, valueRec(nil, c.in))
					deepEqual(t, "schemaless "+c.spec, out.Value, c.want)
				} else {
					out = apply(t, tr, keyRec(nil, c.in))
					deepEqual(t, "schemaless key "+c.spec, out.Key, c.want)
				}
			}
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestCastFields(t *testing.T) {
	tr := build(t, "Cast$Value", map[string]string{"spec": "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32,bigdecimal:string,optional:int32,timestamp:string"})
	ts := ms(1483425001864)
	m := map[string]any{
		"int8": int8(8), "int16": int16(16), "int32": int32(32), "int64": int64(64), "float32": float32(32), "float64": float64(64),
		"boolean": true, "string": "42", "timestamp": ts, "other": "x",
	}
	// Schemaless: a Date is not a Connect value without a schema.
	applyErr(t, tr, valueRec(nil, m), "Cast transformation was passed a value of type class java.util.Date which is not supported by Connect's data API")
	delete(m, "timestamp")
	out := apply(t, tr, valueRec(nil, m))
	deepEqual(t, "schemaless", out.Value, map[string]any{
		"int8": int16(8), "int16": int32(16), "int32": int64(32), "int64": true, "float32": float64(32), "float64": true,
		"boolean": int8(1), "string": int32(42), "other": "x", "bigdecimal": nil, "optional": nil, "timestamp": nil,
	})

	def := opt(data.TypeInt64)
	def.Default = int64(5)
	s := data.StructSchema("rec",
		field("int8", prim(data.TypeInt8)), field("int16", prim(data.TypeInt16)), field("int32", prim(data.TypeInt32)),
		field("int64", prim(data.TypeInt64)), field("float32", prim(data.TypeFloat32)), field("float64", prim(data.TypeFloat64)),
		field("boolean", prim(data.TypeBoolean)), field("string", prim(data.TypeString)), field("bigdecimal", data.DecimalSchema(1)),
		field("optional", def), field("timestamp", data.TimestampSchema()), field("other", prim(data.TypeString)))
	v := newStruct(t, s, int8(8), int16(16), int32(32), int64(64), float32(32), float64(64), true, "42", data.Decimal{Unscaled: big.NewInt(425), Scale: 1}, nil, ts, "x")
	out = apply(t, tr, valueRec(s, v))
	deepEqual(t, "fields", fieldSummary(out.ValueSchema), []string{
		"int8:INT16", "int16:INT32", "int32:INT64", "int64:BOOLEAN", "float32:FLOAT64", "float64:BOOLEAN",
		"boolean:INT8", "string:INT32", "bigdecimal:STRING", "optional:INT32?", "timestamp:STRING", "other:STRING",
	})
	deepEqual(t, "optional default cast", out.ValueSchema.Fields[9].Schema.Default, int32(5))
	deepEqual(t, "values", structValues(out.Value.(*data.Struct)), map[string]any{
		"int8": int16(8), "int16": int32(16), "int32": int64(32), "int64": true, "float32": float64(32), "float64": true,
		"boolean": int8(1), "string": int32(42), "bigdecimal": "42.5", "optional": int32(5), "timestamp": "2017-01-03T06:30:01.864Z", "other": "x",
	})
	if out.ValueSchema.Name != "rec" {
		t.Error("schema name lost")
	}
}

func TestCastErrors(t *testing.T) {
	tr := build(t, "Cast$Value", map[string]string{"spec": "int32"})
	applyErr(t, tr, valueRec(nil, "not a number"), "Value (not a number) was out of range for requested data type")
	applyErr(t, tr, valueRec(nil, "99999999999"), "was out of range for requested data type")
	applyErr(t, tr, valueRec(prim(data.TypeBytes), []byte{1}), "Unexpected type in Cast transformation: class [B")
	applyErr(t, tr, valueRec(nil, []any{int64(1)}), "Cast transformation does not support casting from ARRAY; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]")
	applyErr(t, build(t, "Cast$Value", map[string]string{"spec": "a:int32"}), valueRec(nil, "x"), "Only Map objects supported in absence of schema for [cast types], found: java.lang.String")

	// Null values pass through.
	r := valueRec(prim(data.TypeInt32), nil)
	if out := apply(t, tr, r); out != r {
		t.Error("null value changed")
	}
}
