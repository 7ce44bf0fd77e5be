package converter

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// TestJSONWriteValue walks every branch of the payload writer: each
// schema type and logical type with a value that fits and one that does
// not, schemaless values by Go type, nulls, and maps both ways. Each
// wants the exact bytes or the exact error message.
func TestJSONWriteValue(t *testing.T) {
	c := mustJSON(t, nil)
	for _, tc := range writeValueCases() {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := c.writeValue(&buf, tc.schema, tc.value)
			switch {
			case tc.wantErr != "":
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("got %q, %v; want error %q", buf.String(), err, tc.wantErr)
				}
			case err != nil || buf.String() != tc.want:
				t.Errorf("got %q, %v; want %q", buf.String(), err, tc.want)
			}
		})
	}
}

// writeValueCase is a value to write and the JSON (or the error
// message) wanted.
type writeValueCase struct {
	name    string
	schema  *data.Schema
	value   any
	want    string // the JSON written, or
	wantErr string // the error's message
}

func writeValueCases() []writeValueCase {
	p := data.Primitive
	opt := func(t data.Type) *data.Schema { return data.OptionalOf(p(t)) }
	withDefault := &data.Schema{Type: data.TypeInt32, Default: int32(7)}
	intMap := &data.Schema{Type: data.TypeMap, Key: p(data.TypeInt32), Value: p(data.TypeString)}
	strMap := &data.Schema{Type: data.TypeMap, Key: p(data.TypeString), Value: p(data.TypeInt64)}
	st := data.StructSchema("s", data.Field{Name: "a", Schema: p(data.TypeInt8)}, data.Field{Name: "b", Schema: opt(data.TypeString)})
	sv := data.NewStruct(st)
	sv.Values[0] = int8(-1)
	short := &data.Struct{Schema: st, Values: []any{int8(2)}}
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	return []writeValueCase{
		{"null schemaless", nil, nil, "null", ""},
		{"null optional", opt(data.TypeInt32), nil, "null", ""},
		{"null default", withDefault, nil, "7", ""},
		{"null required", p(data.TypeInt32), nil, "", "Conversion error: null value for field that is required and has no default value"},
		{"int8", p(data.TypeInt8), int8(-128), "-128", ""},
		{"int8 wrong", p(data.TypeInt8), int16(1), "", "Invalid type for INT8: int16"},
		{"int16", p(data.TypeInt16), int16(32767), "32767", ""},
		{"int16 wrong", p(data.TypeInt16), int8(1), "", "Invalid type for INT16: int8"},
		{"int32", p(data.TypeInt32), int32(-5), "-5", ""},
		{"int32 wrong", p(data.TypeInt32), int64(1), "", "Invalid type for INT32: int64"},
		{"int64", p(data.TypeInt64), int64(math.MinInt64), "-9223372036854775808", ""},
		{"int64 from int", p(data.TypeInt64), 3, "", "Invalid type for INT64: int"},
		{"int64 wrong", p(data.TypeInt64), "3", "", "Invalid type for INT64: string"},
		{"float32", p(data.TypeFloat32), float32(0.1), "0.1", ""},
		{"float32 NaN", p(data.TypeFloat32), float32(math.NaN()), `"NaN"`, ""},
		{"float32 wrong", p(data.TypeFloat32), 0.1, "", "Invalid type for FLOAT32: float64"},
		{"float64", p(data.TypeFloat64), 1e21, "1.0E21", ""},
		{"float64 infinity", p(data.TypeFloat64), math.Inf(-1), `"-Infinity"`, ""},
		{"float64 wrong", p(data.TypeFloat64), float32(1), "", "Invalid type for FLOAT64: float32"},
		{"boolean", p(data.TypeBoolean), true, "true", ""},
		{"boolean wrong", p(data.TypeBoolean), "true", "", "Invalid type for BOOLEAN: string"},
		{"string", p(data.TypeString), "a\"b\u2028", `"a\"b` + "\u2028" + `"`, ""},
		{"string wrong", p(data.TypeString), []byte("x"), "", "Invalid type for STRING: []uint8"},
		{"bytes", p(data.TypeBytes), []byte{0xff, 0}, `"/wA="`, ""},
		{"bytes wrong", p(data.TypeBytes), "x", "", "Invalid type for bytes type: string"},
		{"array", &data.Schema{Type: data.TypeArray, Elem: opt(data.TypeInt32)}, []any{int32(1), nil}, "[1,null]", ""},
		{"array wrong", &data.Schema{Type: data.TypeArray, Elem: p(data.TypeInt32)}, []int32{1}, "", "Invalid type for ARRAY: []int32"},
		{"array element wrong", &data.Schema{Type: data.TypeArray, Elem: p(data.TypeInt32)}, []any{"x"}, "", "Invalid type for INT32: string"},
		{"map by string keys", strMap, map[string]any{"b": int64(2), "a": int64(1)}, `{"a":1,"b":2}`, ""},
		{"map by other keys", intMap, map[any]any{int32(2): "x", int32(-1): "y"}, `[[-1,"y"],[2,"x"]]`, ""},
		{"map[string]any by int keys", intMap, map[string]any{"k": "v"}, "", "Invalid type for INT32: string"},
		{"map no key schema", &data.Schema{Type: data.TypeMap, Value: p(data.TypeString)}, map[string]any{}, "", "Map schema did not specify the key type"},
		{"map wrong", strMap, []any{}, "", "Invalid type for MAP: []interface {}"},
		{"map value wrong", strMap, map[string]any{"a": "x"}, "", "Invalid type for INT64: string"},
		{"struct", st, sv, `{"a":-1,"b":null}`, ""},
		{"struct short", st, short, `{"a":2,"b":null}`, ""},
		{"struct nil", st, (*data.Struct)(nil), "", "Mismatching schema."},
		{"struct other schema", data.StructSchema("s"), sv, "", "Mismatching schema."},
		{"struct field wrong", st, &data.Struct{Schema: st, Values: []any{"x", nil}}, "", "Invalid type for INT8: string"},
		{"unknown type", &data.Schema{Type: "INT128"}, 1, "", "Couldn't convert 1 to JSON."},
		{"decimal", data.DecimalSchema(2), dec("-1.56"), `"/2Q="`, ""},
		{"date", data.DateSchema(), day, "19782", ""},
		{"date wrong", data.DateSchema(), "2024-02-29", "", "Invalid type for Date, expected Date but was string"},
		{"date out of range", data.DateSchema(), time.Date(9999999, 1, 1, 0, 0, 0, 0, time.UTC), "", "Date 9999999-01-01T00:00:00Z is out of range for Kafka Connect's Date type"},
		{"time", data.TimeSchema(), time.UnixMilli(45296789).UTC(), "45296789", ""},
		{"time wrong", data.TimeSchema(), int32(5), "", "Invalid type for Time, expected Date but was int32"},
		{"time negative", data.TimeSchema(), time.UnixMilli(-1), "", "Kafka Connect Time type should not have any date fields set to non-zero values."},
		{"timestamp", data.TimestampSchema(), day.Add(time.Millisecond), "1709164800001", ""},
		{"schemaless ints", nil, []any{int8(1), int16(2), int32(3), int64(4), 5}, "[1,2,3,4,5]", ""},
		{"schemaless floats", nil, []any{float32(1.5), 2.25, math.Inf(1)}, `[1.5,2.25,"Infinity"]`, ""},
		{"schemaless others", nil, []any{false, "s", []byte("b"), nil}, `[false,"s","Yg==",null]`, ""},
		{"schemaless decimal", nil, dec("123456789012345678901234567890"), "123456789012345678901234567890", ""},
		{"schemaless string map", nil, map[any]any{"b": 1, "a": nil}, `{"a":null,"b":1}`, ""},
		{"schemaless mixed map", nil, map[any]any{"b": 1, 2: "x"}, `[["b",1],[2,"x"]]`, ""},
		{"schemaless struct", nil, sv, "", "Mismatching schema."},
		{"schemaless unknown", nil, uint(1), "", "Go type uint does not have corresponding schema type."},
	}
}
