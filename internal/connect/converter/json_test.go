package converter

import (
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// The expected JSON below is what Kafka's JsonConverter writes for the
// same Connect data (Jackson's compact output, keys in Kafka's order), as
// in Kafka's JsonConverterTest and the Connect documentation.

func mustJSON(t testing.TB, props map[string]string) *JSONConverter {
	t.Helper()
	c, err := NewJSONConverter(props, false)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dec(s string) data.Decimal {
	d, err := parseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// mapsEqual compares maps of Connect values with valuesEqual.
func mapsEqual[K comparable](x, y map[K]any) bool {
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if !valuesEqual(v, y[k]) {
			return false
		}
	}
	return true
}

// valuesEqual compares Connect values: Decimals by value and scale, times
// by instant, structs by schema and fields.
func valuesEqual(a, b any) bool {
	switch x := a.(type) {
	case data.Decimal:
		y, ok := b.(data.Decimal)
		return ok && x.Scale == y.Scale && x.Unscaled.Cmp(y.Unscaled) == 0
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case *data.Struct:
		y, ok := b.(*data.Struct)
		if !ok || !schemaEqual(x.Schema, y.Schema) || len(x.Values) != len(y.Values) {
			return false
		}
		for i := range x.Values {
			if !valuesEqual(x.Values[i], y.Values[i]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[any]any:
		y, ok := b.(map[any]any)
		return ok && mapsEqual(x, y)
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && mapsEqual(x, y)
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	case float32:
		y, ok := b.(float32)
		return ok && (x == y || x != x && y != y)
	}
	return reflect.DeepEqual(a, b)
}

var (
	epoch       = time.Unix(0, 0).UTC()
	structSch   = data.StructSchema("", data.Field{Name: "field1", Schema: data.Primitive(data.TypeBoolean)}, data.Field{Name: "field2", Schema: data.Primitive(data.TypeString)}, data.Field{Name: "field3", Schema: data.Primitive(data.TypeString)}, data.Field{Name: "field4", Schema: data.Primitive(data.TypeBoolean)})
	structValue = &data.Struct{Schema: structSch, Values: []any{true, "string2", "string3", false}}
)

type jsonCase struct {
	name   string
	schema *data.Schema
	value  any
	want   string
}

// withSchemaCases are Kafka's own examples, schemas.enable=true and the
// default decimal.format=BASE64.
func withSchemaCases() []jsonCase {
	return []jsonCase{
		{"boolean", data.Primitive(data.TypeBoolean), true, `{"schema":{"type":"boolean","optional":false},"payload":true}`},
		{"int8", data.Primitive(data.TypeInt8), int8(12), `{"schema":{"type":"int8","optional":false},"payload":12}`},
		{"int16", data.Primitive(data.TypeInt16), int16(12), `{"schema":{"type":"int16","optional":false},"payload":12}`},
		{"int32", data.Primitive(data.TypeInt32), int32(12), `{"schema":{"type":"int32","optional":false},"payload":12}`},
		{"int64", data.Primitive(data.TypeInt64), int64(4398046511104), `{"schema":{"type":"int64","optional":false},"payload":4398046511104}`},
		{"int64 min", data.Primitive(data.TypeInt64), int64(math.MinInt64), `{"schema":{"type":"int64","optional":false},"payload":-9223372036854775808}`},
		{"float", data.Primitive(data.TypeFloat32), float32(12.34), `{"schema":{"type":"float","optional":false},"payload":12.34}`},
		{"double", data.Primitive(data.TypeFloat64), 12.34, `{"schema":{"type":"double","optional":false},"payload":12.34}`},
		{"double whole", data.Primitive(data.TypeFloat64), 1.0, `{"schema":{"type":"double","optional":false},"payload":1.0}`},
		{"double large", data.Primitive(data.TypeFloat64), 1e20, `{"schema":{"type":"double","optional":false},"payload":1.0E20}`},
		{"double NaN", data.Primitive(data.TypeFloat64), math.NaN(), `{"schema":{"type":"double","optional":false},"payload":"NaN"}`},
		{"bytes", data.Primitive(data.TypeBytes), []byte("test-string"), `{"schema":{"type":"bytes","optional":false},"payload":"dGVzdC1zdHJpbmc="}`},
		{"string", data.Primitive(data.TypeString), "test-string", `{"schema":{"type":"string","optional":false},"payload":"test-string"}`},
		{"string escapes", data.Primitive(data.TypeString), "a\"b\\c/d\n\x01é<>&\u2028", `{"schema":{"type":"string","optional":false},"payload":"a\"b\\c/d\n\u0001é<>&` + "\u2028" + `"}`},
		{"array", &data.Schema{Type: data.TypeArray, Elem: data.Primitive(data.TypeInt32)}, []any{int32(1), int32(2), int32(3)},
			`{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false},"payload":[1,2,3]}`},
		{"map string keys", &data.Schema{Type: data.TypeMap, Key: data.Primitive(data.TypeString), Value: data.Primitive(data.TypeInt32)}, map[any]any{"key1": int32(12), "key2": int32(15)},
			`{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"key1":12,"key2":15}}`},
		{"map non-string keys", &data.Schema{Type: data.TypeMap, Key: data.Primitive(data.TypeInt32), Value: data.Primitive(data.TypeInt32)}, map[any]any{int32(1): int32(12), int32(2): int32(15)},
			`{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":[[1,12],[2,15]]}`},
		{"struct", structSch, structValue,
			`{"schema":{"type":"struct","fields":[{"type":"boolean","optional":false,"field":"field1"},{"type":"string","optional":false,"field":"field2"},{"type":"string","optional":false,"field":"field3"},{"type":"boolean","optional":false,"field":"field4"}],"optional":false},"payload":{"field1":true,"field2":"string2","field3":"string3","field4":false}}`},
		{"decimal", data.DecimalSchema(2), data.Decimal{Unscaled: big.NewInt(156), Scale: 2},
			`{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"AJw="}`},
		{"decimal negative", data.DecimalSchema(2), data.Decimal{Unscaled: big.NewInt(-156), Scale: 2},
			`{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"/2Q="}`},
		{"date", data.DateSchema(), epoch.AddDate(0, 0, 10000),
			`{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":10000}`},
		{"time", data.TimeSchema(), epoch.Add(4 * time.Hour),
			`{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":14400000}`},
		{"timestamp", data.TimestampSchema(), epoch.Add(4000000000 * time.Millisecond),
			`{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":4000000000}`},
		{"null schema primitive", nil, true, `{"schema":null,"payload":true}`},
		{"null schema map non-string keys", nil, map[any]any{"string": int32(12), int32(52): "string", false: true},
			`{"schema":null,"payload":[["string",12],[52,"string"],[false,true]]}`},
		{"null schema map string keys", nil, map[string]any{"b": int64(1), "a": nil},
			`{"schema":null,"payload":{"a":null,"b":1}}`},
		{"optional null", data.OptionalOf(data.Primitive(data.TypeString)), nil, `{"schema":{"type":"string","optional":true},"payload":null}`},
		{"null with default", &data.Schema{Type: data.TypeInt32, Default: int32(42)}, nil, `{"schema":{"type":"int32","optional":false,"default":42},"payload":42}`},
		{"metadata", &data.Schema{Type: data.TypeBoolean, Optional: true, Name: "bool", Version: 2, Doc: "the documentation", Parameters: map[string]string{"foo": "bar", "a": "b"}}, true,
			`{"schema":{"type":"boolean","optional":true,"name":"bool","version":2,"doc":"the documentation","parameters":{"a":"b","foo":"bar"}},"payload":true}`},
		{"empty parameters", &data.Schema{Type: data.TypeString, Parameters: map[string]string{}}, "x",
			`{"schema":{"type":"string","optional":false,"parameters":{}},"payload":"x"}`},
		{"decimal default", &data.Schema{Type: data.TypeBytes, Optional: true, Name: data.DecimalName, Version: 1, Parameters: map[string]string{"scale": "2"}, Default: data.Decimal{Unscaled: big.NewInt(156), Scale: 2}}, nil,
			`{"schema":{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"default":"AJw="},"payload":"AJw="}`},
		{"optional struct field", data.StructSchema("rec", data.Field{Name: "opt", Schema: data.OptionalOf(data.Primitive(data.TypeString))}, data.Field{Name: "req", Schema: data.Primitive(data.TypeInt64)}), nil, ""},
	}
}

func TestJSONFromConnectWithSchema(t *testing.T) {
	c := mustJSON(t, nil)
	for _, tc := range withSchemaCases() {
		if tc.want == "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.FromConnectData("topic", tc.schema, tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestJSONStructWithOptionalField(t *testing.T) {
	s := data.StructSchema("rec", data.Field{Name: "opt", Schema: data.OptionalOf(data.Primitive(data.TypeString))}, data.Field{Name: "req", Schema: data.Primitive(data.TypeInt64)})
	st := data.NewStruct(s)
	if err := st.Put("req", int64(7)); err != nil {
		t.Fatal(err)
	}
	got, err := mustJSON(t, nil).FromConnectData("t", s, st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"field":"opt"},{"type":"int64","optional":false,"field":"req"}],"optional":false,"name":"rec"},"payload":{"opt":null,"req":7}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestJSONRoundTripWithSchema(t *testing.T) {
	for _, format := range []string{"BASE64", "NUMERIC"} {
		c := mustJSON(t, map[string]string{"decimal.format": format})
		for _, tc := range withSchemaCases() {
			if tc.schema == nil || tc.value == nil || tc.name == "empty parameters" {
				// Kafka too reads "parameters":{} back as no parameters.
				continue
			}
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				b, err := c.FromConnectData("t", tc.schema, tc.value)
				if err != nil {
					t.Fatal(err)
				}
				s, v, err := c.ToConnectData("t", b)
				if err != nil {
					t.Fatalf("%s: %v", b, err)
				}
				if !schemaEqual(s, tc.schema) {
					t.Errorf("schema: got %+v want %+v", s, tc.schema)
				}
				if !valuesEqual(v, tc.value) {
					t.Errorf("value: got %#v want %#v", v, tc.value)
				}
				b2, err := c.FromConnectData("t", s, v)
				if err != nil || string(b2) != string(b) {
					t.Errorf("second write: %s, %v; first %s", b2, err, b)
				}
			})
		}
	}
}

func TestJSONToConnectWithSchema(t *testing.T) {
	decSchema := data.DecimalSchema(2)
	optDec := data.OptionalOf(decSchema)
	cases := []struct {
		name   string
		in     string
		schema *data.Schema
		value  any
	}{
		{"boolean", `{ "schema": { "type": "boolean" }, "payload": true }`, data.Primitive(data.TypeBoolean), true},
		{"int8", `{"schema":{"type":"int8"},"payload":12}`, data.Primitive(data.TypeInt8), int8(12)},
		{"int16", `{"schema":{"type":"int16"},"payload":12}`, data.Primitive(data.TypeInt16), int16(12)},
		{"int32", `{"schema":{"type":"int32"},"payload":12}`, data.Primitive(data.TypeInt32), int32(12)},
		{"int64", `{"schema":{"type":"int64"},"payload":4398046511104}`, data.Primitive(data.TypeInt64), int64(4398046511104)},
		{"int32 written as 1.0", `{"schema":{"type":"int32"},"payload":1.0}`, data.Primitive(data.TypeInt32), int32(1)},
		{"int64 written as 1e3", `{"schema":{"type":"int64"},"payload":1e3}`, data.Primitive(data.TypeInt64), int64(1000)},
		{"float", `{"schema":{"type":"float"},"payload":12.34}`, data.Primitive(data.TypeFloat32), float32(12.34)},
		{"double", `{"schema":{"type":"double"},"payload":12.34}`, data.Primitive(data.TypeFloat64), 12.34},
		{"double from integer", `{"schema":{"type":"double"},"payload":12}`, data.Primitive(data.TypeFloat64), 12.0},
		{"double infinity", `{"schema":{"type":"double"},"payload":"-Infinity"}`, data.Primitive(data.TypeFloat64), math.Inf(-1)},
		{"bytes", `{"schema":{"type":"bytes"},"payload":"dGVzdC1zdHJpbmc="}`, data.Primitive(data.TypeBytes), []byte("test-string")},
		{"string", `{"schema":{"type":"string"},"payload":"foo-bar-baz"}`, data.Primitive(data.TypeString), "foo-bar-baz"},
		{"array", `{"schema":{"type":"array","items":{"type":"int32"}},"payload":[1,2,3]}`,
			&data.Schema{Type: data.TypeArray, Elem: data.Primitive(data.TypeInt32)}, []any{int32(1), int32(2), int32(3)}},
		{"map string keys", `{"schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int32"}},"payload":{"key1":12,"key2":15}}`,
			&data.Schema{Type: data.TypeMap, Key: data.Primitive(data.TypeString), Value: data.Primitive(data.TypeInt32)}, map[any]any{"key1": int32(12), "key2": int32(15)}},
		{"map non-string keys", `{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}},"payload":[[1,12],[2,15]]}`,
			&data.Schema{Type: data.TypeMap, Key: data.Primitive(data.TypeInt32), Value: data.Primitive(data.TypeInt32)}, map[any]any{int32(1): int32(12), int32(2): int32(15)}},
		{"struct", `{"schema":{"type":"struct","fields":[{"type":"boolean","field":"field1"},{"type":"string","field":"field2"},{"type":"string","field":"field3"},{"type":"boolean","field":"field4"}]},"payload":{"field1":true,"field2":"string2","field3":"string3","field4":false,"extra":1}}`,
			structSch, structValue},
		{"struct optional field missing", `{ "schema": { "type": "struct", "fields": [{ "field":"optional", "type": "string", "optional": true }, { "field": "required", "type": "string" }] }, "payload": { "required": "required" } }`,
			data.StructSchema("", data.Field{Name: "optional", Schema: data.OptionalOf(data.Primitive(data.TypeString))}, data.Field{Name: "required", Schema: data.Primitive(data.TypeString)}),
			nil},
		{"metadata", `{ "schema": { "type": "boolean", "optional": true, "name": "bool", "version": 2, "doc": "the documentation", "parameters": { "foo": "bar" } }, "payload": true }`,
			&data.Schema{Type: data.TypeBoolean, Optional: true, Name: "bool", Version: 2, Doc: "the documentation", Parameters: map[string]string{"foo": "bar"}}, true},
		{"decimal base64", `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": "AJw=" }`,
			decSchema, data.Decimal{Unscaled: big.NewInt(156), Scale: 2}},
		{"decimal numeric", `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": 1.56 }`,
			decSchema, data.Decimal{Unscaled: big.NewInt(156), Scale: 2}},
		{"decimal numeric keeps literal scale", `{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":1.5}`,
			decSchema, data.Decimal{Unscaled: big.NewInt(15), Scale: 1}},
		{"decimal optional null", `{"schema":{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":null}`,
			optDec, nil},
		{"decimal default", `{"schema":{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"default":"AJw="},"payload":null}`,
			&data.Schema{Type: data.TypeBytes, Optional: true, Name: data.DecimalName, Version: 1, Parameters: map[string]string{"scale": "2"}, Default: data.Decimal{Unscaled: big.NewInt(156), Scale: 2}},
			data.Decimal{Unscaled: big.NewInt(156), Scale: 2}},
		{"date", `{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date","version":1},"payload":10000}`, data.DateSchema(), epoch.AddDate(0, 0, 10000)},
		{"date negative", `{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date","version":1},"payload":-1}`, data.DateSchema(), epoch.AddDate(0, 0, -1)},
		{"time", `{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Time","version":1},"payload":14400000}`, data.TimeSchema(), epoch.Add(4 * time.Hour)},
		{"timestamp", `{"schema":{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":4000000000}`, data.TimestampSchema(), epoch.Add(4000000000 * time.Millisecond)},
		{"timestamp optional default", `{"schema":{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"default":42},"payload":null}`,
			&data.Schema{Type: data.TypeInt64, Optional: true, Name: data.TimestampName, Version: 1, Default: epoch.Add(42 * time.Millisecond)}, epoch.Add(42 * time.Millisecond)},
		{"int default", `{"schema":{"type":"int32","default":42},"payload":null}`, &data.Schema{Type: data.TypeInt32, Default: int32(42)}, int32(42)},
		{"null schema null payload", `{"schema":null,"payload":null}`, nil, nil},
		{"null schema int", `{ "schema": null, "payload": 12 }`, nil, int64(12)},
		{"null schema double", `{"schema":null,"payload":12.2}`, nil, 12.2},
		{"null schema array", `{"schema":null,"payload":[1,"2",3]}`, nil, []any{int64(1), "2", int64(3)}},
		{"null schema object", `{"schema":null,"payload":{"field1":1,"field2":1}}`, nil, map[string]any{"field1": int64(1), "field2": int64(1)}},
		{"version as long is intValue", `{"schema":{"type":"string","version":4294967297},"payload":"x"}`, &data.Schema{Type: data.TypeString, Version: 1}, "x"},
		{"mistyped metadata ignored", `{"schema":{"type":"string","optional":"yes","name":5,"version":"1","doc":false,"parameters":[]},"payload":"x"}`, data.Primitive(data.TypeString), "x"},
	}
	c := mustJSON(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, v, err := c.ToConnectData("t", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !schemaEqual(s, tc.schema) {
				t.Errorf("schema: got %+v want %+v", s, tc.schema)
			}
			if tc.name == "struct optional field missing" {
				st := v.(*data.Struct)
				if st.Values[0] != nil || st.Values[1] != "required" {
					t.Errorf("got %v", st.Values)
				}
				return
			}
			if !valuesEqual(v, tc.value) {
				t.Errorf("value: got %#v want %#v", v, tc.value)
			}
		})
	}
}

func TestJSONDecimalNumeric(t *testing.T) {
	c := mustJSON(t, map[string]string{"decimal.format": "numeric"})
	cases := []struct {
		scale int
		value string
		want  string
	}{
		{2, "1.56", "1.56"},
		{4, "1.5600", "1.5600"}, // trailing zeros kept: the scale is part of the value
		{0, "-42", "-42"},
		{9, "12345678901234567890.123456789", "12345678901234567890.123456789"},
		{10, "0.0000000001", "1E-10"}, // BigDecimal.toString goes scientific below 1e-6
		{7, "0.0000001", "1E-7"},
		{6, "0.000001", "0.000001"},
		{-3, "1E+3", "1E+3"},
		{30, "-0.000000000000000000000000000001", "-1E-30"},
	}
	for _, tc := range cases {
		d := dec(tc.value)
		if d.Scale != tc.scale {
			t.Fatalf("%s: parsed scale %d, want %d", tc.value, d.Scale, tc.scale)
		}
		s := data.DecimalSchema(tc.scale)
		b, err := c.FromConnectData("t", s, d)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"` +
			itoa(tc.scale) + `"}},"payload":` + tc.want + `}`
		if string(b) != want {
			t.Errorf("got  %s\nwant %s", b, want)
		}
		_, v, err := c.ToConnectData("t", b)
		if err != nil {
			t.Fatal(err)
		}
		if !valuesEqual(v, d) {
			t.Errorf("%s: read back %v", tc.value, v)
		}
	}
}

func itoa(n int) string { return decimalString(data.Decimal{Unscaled: big.NewInt(int64(n))}) }

func TestJSONDecimalHighPrecisionBothFormats(t *testing.T) {
	d := dec("12345678901234567890.123456789")
	s := data.DecimalSchema(9)
	for _, format := range []string{"BASE64", "NUMERIC"} {
		for _, schemas := range []string{"true", "false"} {
			c := mustJSON(t, map[string]string{"decimal.format": format, "schemas.enable": schemas})
			b, err := c.FromConnectData("t", s, d)
			if err != nil {
				t.Fatal(err)
			}
			if format == "NUMERIC" && !strings.Contains(string(b), "12345678901234567890.123456789") {
				t.Errorf("%s: digits lost: %s", format, b)
			}
			if schemas == "false" {
				continue // schemaless reading has no Decimal schema
			}
			_, v, err := c.ToConnectData("t", b)
			if err != nil {
				t.Fatal(err)
			}
			if !valuesEqual(v, d) || v.(data.Decimal).String() != "12345678901234567890.123456789" {
				t.Errorf("%s: got %v", format, v)
			}
		}
	}
	// A NUMERIC reader also reads BASE64 and the other way round.
	b, _ := mustJSON(t, nil).FromConnectData("t", s, d)
	if _, v, err := mustJSON(t, map[string]string{"decimal.format": "NUMERIC"}).ToConnectData("t", b); err != nil || !valuesEqual(v, d) {
		t.Errorf("cross-format: %v %v", v, err)
	}
}

func TestJSONSchemaless(t *testing.T) {
	c := mustJSON(t, map[string]string{"schemas.enable": "false"})
	writes := []struct {
		name   string
		schema *data.Schema
		value  any
		want   string
	}{
		{"int64", nil, int64(12), `12`},
		{"string", nil, "x", `"x"`},
		{"with schema struct", structSch, structValue, `{"field1":true,"field2":"string2","field3":"string3","field4":false}`},
		{"optional null", data.OptionalOf(data.Primitive(data.TypeString)), nil, `null`},
		{"array", nil, []any{int64(1), "2", nil, 1.5}, `[1,"2",null,1.5]`},
		{"map", nil, map[string]any{"z": true, "a": []any{}}, `{"a":[],"z":true}`},
		{"decimal numeric-free default base64", data.DecimalSchema(2), dec("1.56"), `"AJw="`},
		{"big integer decimal", nil, dec("123456789012345678901234567890"), `123456789012345678901234567890`},
		{"go int", nil, 7, `7`},
		{"timestamp", data.TimestampSchema(), epoch.Add(time.Second), `1000`},
	}
	for _, tc := range writes {
		got, err := c.FromConnectData("t", tc.schema, tc.value)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(got) != tc.want {
			t.Errorf("%s: got %s want %s", tc.name, got, tc.want)
		}
	}
	reads := []struct {
		in   string
		want any
	}{
		{`true`, true},
		{`12`, int64(12)},
		{`-9223372036854775808`, int64(math.MinInt64)},
		{`12.0`, 12.0},
		{`1e2`, 100.0},
		{`"x"`, "x"},
		{`null`, nil},
		{``, nil},   // Kafka: empty bytes are SchemaAndValue.NULL without schemas
		{`  `, nil}, // whitespace only, likewise
		{`{ "a": "", "b": null}`, map[string]any{"a": "", "b": nil}},
		{`[1,"2",3,[true],{"k":1.5}]`, []any{int64(1), "2", int64(3), []any{true}, map[string]any{"k": 1.5}}},
		{`123456789012345678901234567890`, dec("123456789012345678901234567890")},
		{`1e400`, math.Inf(1)},
		{`{"schema":{"type":"int32"},"payload":1}`, map[string]any{"schema": map[string]any{"type": "int32"}, "payload": int64(1)}},
	}
	for _, tc := range reads {
		s, v, err := c.ToConnectData("t", []byte(tc.in))
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if s != nil || !valuesEqual(v, tc.want) {
			t.Errorf("%q: got %v %#v want %#v", tc.in, s, v, tc.want)
		}
	}
	// Round trip of plain JSON keeps every digit of big numbers.
	in := `{"big":123456789012345678901234567890,"n":-3,"f":0.1}`
	_, v, err := c.ToConnectData("t", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.FromConnectData("t", nil, v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"big":123456789012345678901234567890,"f":0.1,"n":-3}`; string(out) != want {
		t.Errorf("got %s want %s", out, want)
	}
}

func TestJSONNullsAndTombstones(t *testing.T) {
	for _, schemas := range []string{"true", "false"} {
		c := mustJSON(t, map[string]string{"schemas.enable": schemas})
		// Tombstone: no schema, no value → null bytes, both ways.
		if b, err := c.FromConnectData("t", nil, nil); b != nil || err != nil {
			t.Errorf("schemas=%s: tombstone gave %q %v", schemas, b, err)
		}
		if s, v, err := c.ToConnectData("t", nil); s != nil || v != nil || err != nil {
			t.Errorf("schemas=%s: nil bytes gave %v %v %v", schemas, s, v, err)
		}
		// Null value with a required schema and no default: Kafka's error.
		_, err := c.FromConnectData("t", data.Primitive(data.TypeString), nil)
		var de *DataError
		if !errors.As(err, &de) || de.Msg != "Conversion error: null value for field that is required and has no default value" {
			t.Errorf("schemas=%s: required null: %v", schemas, err)
		}
	}
	// Without envelope, a null value under an optional schema is the JSON
	// null, not a tombstone, because Kafka serializes the NullNode.
	c := mustJSON(t, map[string]string{"schemas.enable": "false"})
	if b, err := c.FromConnectData("t", data.OptionalOf(data.Primitive(data.TypeInt32)), nil); string(b) != "null" || err != nil {
		t.Errorf("optional null without envelope: %q %v", b, err)
	}
	// Empty bytes are not a tombstone: with schemas they lack the envelope.
	if _, _, err := mustJSON(t, nil).ToConnectData("t", []byte{}); err == nil {
		t.Error("empty bytes with schemas.enable: want the envelope error")
	}
}

func TestJSONReplaceNullWithDefault(t *testing.T) {
	field := &data.Schema{Type: data.TypeInt32, Optional: true, Default: int32(42)}
	s := data.StructSchema("", data.Field{Name: "f", Schema: field})
	st := data.NewStruct(s)
	withDefault := mustJSON(t, nil)
	without := mustJSON(t, map[string]string{"replace.null.with.default": "false"})
	b, err := withDefault.FromConnectData("t", s, st)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"schema":{"type":"struct","fields":[{"type":"int32","optional":true,"default":42,"field":"f"}],"optional":false},"payload":{"f":42}}`; string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	b, err = without.FromConnectData("t", s, st)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"schema":{"type":"struct","fields":[{"type":"int32","optional":true,"default":42,"field":"f"}],"optional":false},"payload":{"f":null}}`; string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	_, v, err := without.ToConnectData("t", b)
	if err != nil || v.(*data.Struct).Values[0] != nil {
		t.Errorf("without replace: %v %v", v, err)
	}
	_, v, err = withDefault.ToConnectData("t", b)
	if err != nil || v.(*data.Struct).Values[0] != int32(42) {
		t.Errorf("with replace: %v %v", v, err)
	}
}

func TestJSONErrors(t *testing.T) {
	envelopeErr := "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration."
	reads := []struct {
		name, in, want string
	}{
		{"plain json with schemas", `{"a":1}`, envelopeErr},
		{"extra field", `{"schema":null,"payload":1,"x":2}`, envelopeErr},
		{"not an object", `[1]`, envelopeErr},
		{"malformed", `{"schema":`, "Converting byte[] to Kafka Connect data failed due to serialization error"},
		{"trailing garbage", `{"schema":null,"payload":1} x`, "serialization error"},
		{"invalid utf8", "{\"schema\":null,\"payload\":\"\xff\"}", "serialization error"},
		{"no type", `{"schema":{},"payload":1}`, "Schema must contain 'type' field"},
		{"unknown type", `{"schema":{"type":"int128"},"payload":1}`, "Unknown schema type: int128"},
		{"array no items", `{"schema":{"type":"array"},"payload":[]}`, "Array schema did not specify the element type"},
		{"map no keys", `{"schema":{"type":"map","values":{"type":"int32"}},"payload":{}}`, "Map schema did not specify the key type"},
		{"map no values", `{"schema":{"type":"map","keys":{"type":"int32"}},"payload":{}}`, "Map schema did not specify the value type"},
		{"struct fields not array", `{"schema":{"type":"struct"},"payload":{}}`, "Struct schema's \"fields\" argument is not an array."},
		{"struct field name", `{"schema":{"type":"struct","fields":[{"type":"int32"}]},"payload":{}}`, "Struct schema's field name not specified properly"},
		{"duplicate field", `{"schema":{"type":"struct","fields":[{"type":"int32","field":"a"},{"type":"int32","field":"a"}]},"payload":{}}`, "field name duplication a"},
		{"parameters not strings", `{"schema":{"type":"string","parameters":{"a":1}},"payload":"x"}`, "Schema parameters must have string values."},
		{"required null", `{"schema":{"type":"int32"},"payload":null}`, "Invalid null value for required INT32 field"},
		{"required struct field missing", `{"schema":{"type":"struct","fields":[{"type":"string","field":"r"}]},"payload":{}}`, "Invalid null value for required STRING field"},
		{"struct not object", `{"schema":{"type":"struct","fields":[]},"payload":[]}`, "Structs should be encoded as JSON objects, but found ARRAY"},
		{"string-key map not object", `{"schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int32"}},"payload":[]}`, "Maps with string fields should be encoded as JSON objects, but found ARRAY"},
		{"map not array", `{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}},"payload":{}}`, "Maps with non-string fields should be encoded as JSON array of tuples, but found OBJECT"},
		{"map entry not tuple", `{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}},"payload":[1]}`, "Found invalid map entry instead of array tuple: NUMBER"},
		{"map entry length", `{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}},"payload":[[1,2,3]]}`, "Found invalid map entry, expected length 2 but found :3"},
		{"bytes map key", `{"schema":{"type":"map","keys":{"type":"bytes"},"values":{"type":"int32"}},"payload":[["AA==",1]]}`, "cannot be held in a Go map"},
		{"bad base64", `{"schema":{"type":"bytes"},"payload":"foo-bar-baz"}`, "Invalid bytes field"},
		{"mismatch", `{"schema":{"type":"int32"},"payload":"foo-bar-baz"}`, "expected a JSON number but found STRING"},
		{"int8 overflow", `{"schema":{"type":"int8"},"payload":300}`, "out of range"},
		{"fraction for int", `{"schema":{"type":"int32"},"payload":1.5}`, "not an integer"},
		{"date not int", `{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date"},"payload":1.0}`, "Invalid type for Date, underlying representation should be integer but was NUMBER"},
		{"time range", `{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Time"},"payload":86400001}`, "Time values must use number of milliseconds greater than 0 and less than 86400000"},
		{"timestamp not integral", `{"schema":{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp"},"payload":"x"}`, "Invalid type for Timestamp, underlying representation should be integral but was STRING"},
		{"decimal no scale", `{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal"},"payload":"AJw="}`, "Invalid Decimal schema: scale parameter not found."},
		{"decimal empty bytes", `{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":""}`, "Invalid bytes for Decimal field"},
		{"decimal wrong node", `{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":true}`, "Invalid type for Decimal, underlying representation should be numeric or bytes but was BOOLEAN"},
		{"required null default", `{"schema":{"type":"int32","default":null},"payload":1}`, "Invalid null value for required INT32 field"},
	}
	c := mustJSON(t, nil)
	for _, tc := range reads {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := c.ToConnectData("t", []byte(tc.in))
			var de *DataError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a DataError containing %q", err, tc.want)
			}
		})
	}
	writes := []struct {
		name   string
		schema *data.Schema
		value  any
		want   string
	}{
		{"wrong go type", data.Primitive(data.TypeInt32), "x", "Invalid type for INT32: string"},
		{"int for int32", data.Primitive(data.TypeInt32), 5, "Invalid type for INT32: int"},
		{"bytes", data.Primitive(data.TypeBytes), "x", "Invalid type for bytes type: string"},
		{"struct mismatch", data.StructSchema("other", data.Field{Name: "x", Schema: data.Primitive(data.TypeInt8)}), structValue, "Mismatching schema."},
		{"schemaless struct", nil, structValue, "Mismatching schema."},
		{"schemaless unknown", nil, struct{}{}, "does not have corresponding schema type"},
		{"decimal scale", data.DecimalSchema(3), dec("1.56"), "BigDecimal has mismatching scale value for given Decimal schema"},
		{"decimal no scale", &data.Schema{Type: data.TypeBytes, Name: data.DecimalName}, dec("1.56"), "Invalid Decimal schema: scale parameter not found."},
		{"decimal type", data.DecimalSchema(2), 1.56, "Invalid type for Decimal"},
		{"date with time", data.DateSchema(), epoch.Add(time.Hour), "Kafka Connect Date type should not have any time fields set to non-zero values."},
		{"time with date", data.TimeSchema(), epoch.AddDate(0, 0, 2), "Kafka Connect Time type should not have any date fields set to non-zero values."},
		{"timestamp type", data.TimestampSchema(), int64(5), "Invalid type for Timestamp"},
		{"nested required null", &data.Schema{Type: data.TypeArray, Elem: data.Primitive(data.TypeInt32)}, []any{nil}, "null value for field that is required"},
		{"unknown type", &data.Schema{Type: "INT128"}, 1, "Couldn't translate unsupported schema type INT128."},
	}
	for _, tc := range writes {
		t.Run("write "+tc.name, func(t *testing.T) {
			_, err := c.FromConnectData("t", tc.schema, tc.value)
			var de *DataError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a DataError containing %q", err, tc.want)
			}
		})
	}
}

func TestJSONConfig(t *testing.T) {
	bad := []map[string]string{
		{"schemas.enable": "yes"},
		{"schemas.cache.size": "many"},
		{"decimal.format": "HEX"},
		{"replace.null.with.default": "1"},
	}
	for _, props := range bad {
		var ce *ConfigError
		if _, err := NewJSONConverter(props, true); !errors.As(err, &ce) {
			t.Errorf("%v: got %v, want a ConfigError", props, err)
		}
	}
	c, err := NewJSONConverter(map[string]string{"schemas.enable": " FALSE ", "decimal.format": "Numeric", "schemas.cache.size": "5", "unknown.prop": "x"}, true)
	if err != nil || c.schemasEnabled || !c.decimalNumeric || c.cache.max != 5 || !c.isKey {
		t.Errorf("got %+v %v", c, err)
	}
}

func TestJSONSchemaCache(t *testing.T) {
	c := mustJSON(t, map[string]string{"schemas.cache.size": "2"})
	in := func(typ string) []byte {
		return []byte(`{"schema":{"type":"` + typ + `","optional":true},"payload":null}`)
	}
	s1, _, _ := c.ToConnectData("t", in("int32"))
	s2, _, _ := c.ToConnectData("t", []byte(`{"payload":null, "schema":{ "optional":true, "type":"int32"}}`))
	if s1 != s2 {
		t.Error("equal schemas written differently should share one parsed schema")
	}
	c.ToConnectData("t", in("int64"))
	c.ToConnectData("t", in("string"))
	if n := c.cache.len(); n != 2 {
		t.Errorf("cache holds %d schemas, want at most 2", n)
	}
	off := mustJSON(t, map[string]string{"schemas.cache.size": "0"})
	off.ToConnectData("t", in("int32"))
	if n := off.cache.len(); n != 0 {
		t.Errorf("disabled cache holds %d", n)
	}
}

// FuzzJSONToConnect checks that no input makes ToConnectData panic, in
// any configuration, and that whatever it accepts can be written back.
func FuzzJSONToConnect(f *testing.F) {
	for _, tc := range withSchemaCases() {
		if b, err := mustJSON(f, nil).FromConnectData("t", tc.schema, tc.value); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{``, `null`, `{"schema":null,"payload":[1,{"a":1e999}]}`, `{"schema":{"type":"map","keys":{"type":"array","items":{"type":"int8"}},"values":{"type":"int8"}},"payload":[[[1],2]]}`,
		`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"-2147483648"}},"payload":1e-2147483648}`,
		`{"schema":{"type":"int64"},"payload":1e999999999}`, `{"schema":{"type":"int32"},"payload":1e-999999999}`} {
		f.Add([]byte(s))
	}
	configs := []*JSONConverter{
		mustJSON(f, nil),
		mustJSON(f, map[string]string{"schemas.enable": "false"}),
		mustJSON(f, map[string]string{"decimal.format": "NUMERIC", "replace.null.with.default": "false"}),
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range configs {
			s, v, err := c.ToConnectData("t", b)
			if err != nil {
				continue
			}
			// Writing back may fail (a NUMERIC read Decimal may not match
			// its schema's scale), but must not panic.
			_, _ = c.FromConnectData("t", s, v)
		}
	})
}
