package converter

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// Java's BigDecimal.toString, which NUMERIC decimals are written with.
func TestDecimalString(t *testing.T) {
	cases := []struct {
		unscaled int64
		scale    int
		want     string
	}{
		{156, 2, "1.56"}, {0, 0, "0"}, {0, 3, "0.000"}, {0, -2, "0E+2"}, {0, 10, "0E-10"},
		{-1, 1, "-0.1"}, {123, -2, "1.23E+4"}, {1, -3, "1E+3"}, {-15600, 4, "-1.5600"},
		{1, 6, "0.000001"}, {1, 7, "1E-7"}, {12, 8, "1.2E-7"}, {123, 0, "123"},
	}
	for _, tc := range cases {
		d := data.Decimal{Unscaled: big.NewInt(tc.unscaled), Scale: tc.scale}
		if got := decimalString(d); got != tc.want {
			t.Errorf("%d scale %d: got %s want %s", tc.unscaled, tc.scale, got, tc.want)
		}
		back, err := parseDecimal(tc.want)
		if err != nil || back.Scale != tc.scale || back.Unscaled.Int64() != tc.unscaled {
			t.Errorf("parse %s: got %v %v", tc.want, back, err)
		}
	}
	if got := decimalString(data.Decimal{}); got != "0" {
		t.Errorf("nil unscaled: %s", got)
	}
}

// Java's BigInteger.toByteArray, the BASE64 decimal encoding.
func TestTwosComplement(t *testing.T) {
	cases := []struct {
		n    int64
		want []byte
	}{
		{0, []byte{0}}, {127, []byte{0x7f}}, {128, []byte{0, 0x80}}, {255, []byte{0, 0xff}},
		{256, []byte{1, 0}}, {156, []byte{0, 0x9c}}, {-1, []byte{0xff}}, {-128, []byte{0x80}},
		{-129, []byte{0xff, 0x7f}}, {-156, []byte{0xff, 0x64}}, {math.MinInt64, []byte{0x80, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tc := range cases {
		got := twosComplement(big.NewInt(tc.n))
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%d: got %x want %x", tc.n, got, tc.want)
		}
		back, err := fromTwosComplement(got)
		if err != nil || back.Int64() != tc.n {
			t.Errorf("%d: read back %v %v", tc.n, back, err)
		}
	}
	if _, err := fromTwosComplement(nil); err == nil {
		t.Error("empty bytes must not decode")
	}
}

func TestNew(t *testing.T) {
	for class, want := range map[string]any{
		JSONConverterClass: &JSONConverter{}, "JsonConverter": &JSONConverter{},
		StringConverterClass: &StringConverter{}, " StringConverter ": &StringConverter{},
		ByteArrayConverterClass: &ByteArrayConverter{}, "ByteArrayConverter": &ByteArrayConverter{},
	} {
		c, err := New(class, nil, false)
		if err != nil {
			t.Fatalf("%s: %v", class, err)
		}
		if got, w := typeName(c), typeName(want); got != w {
			t.Errorf("%s: got %s want %s", class, got, w)
		}
	}
	_, err := New("org.apache.kafka.connect.converters.IntegerConverter", nil, true)
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "unknown converter class") {
		t.Errorf("unknown class: %v", err)
	}
	if _, err := New(JSONConverterClass, map[string]string{"schemas.enable": "maybe"}, false); err == nil {
		t.Error("bad property must fail construction")
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *JSONConverter:
		return "json"
	case *StringConverter:
		return "string"
	case *ByteArrayConverter:
		return "bytearray"
	}
	return "?"
}

func TestStringConverter(t *testing.T) {
	c, err := NewStringConverter(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	st := data.NewStruct(data.StructSchema("s", data.Field{Name: "a", Schema: data.Primitive(data.TypeInt32)},
		data.Field{Name: "b", Schema: data.OptionalOf(data.Primitive(data.TypeString))}, data.Field{Name: "c", Schema: data.Primitive(data.TypeString)}))
	st.Values[0], st.Values[2] = int32(1), "x"
	writes := []struct {
		schema *data.Schema
		value  any
		want   string
	}{
		{data.Primitive(data.TypeString), "a-string", "a-string"},
		{nil, "日本語", "日本語"},
		{data.Primitive(data.TypeInt32), int32(12), "12"},
		{data.Primitive(data.TypeInt64), int64(-5), "-5"},
		{data.Primitive(data.TypeFloat64), 1.0, "1.0"},
		{data.Primitive(data.TypeFloat32), float32(12.34), "12.34"},
		{data.Primitive(data.TypeBoolean), true, "true"},
		{data.DecimalSchema(2), data.Decimal{Unscaled: big.NewInt(156), Scale: 2}, "1.56"},
		{data.TimestampSchema(), time.Unix(0, 0), "Thu Jan 01 00:00:00 UTC 1970"},
		{nil, []any{int64(1), "a", nil}, "[1, a, null]"},
		{nil, map[string]any{"b": int64(2), "a": int64(1)}, "{a=1, b=2}"},
		{nil, map[any]any{int32(2): "y", int32(1): "x"}, "{1=x, 2=y}"},
		{st.Schema, st, "Struct{a=1,c=x}"},
		{nil, []byte("raw"), "raw"},
	}
	for _, tc := range writes {
		got, err := c.FromConnectData("t", tc.schema, tc.value)
		if err != nil || string(got) != tc.want {
			t.Errorf("%#v: got %q %v want %q", tc.value, got, err, tc.want)
		}
	}
	if got, err := c.FromConnectData("t", data.OptionalOf(data.Primitive(data.TypeString)), nil); got != nil || err != nil {
		t.Errorf("null: %q %v", got, err)
	}
	s, v, err := c.ToConnectData("t", []byte("a-string"))
	if err != nil || !schemaEqual(s, &data.Schema{Type: data.TypeString, Optional: true}) || v != "a-string" {
		t.Errorf("read: %v %v %v", s, v, err)
	}
	s, v, err = c.ToConnectData("t", nil)
	if err != nil || !schemaEqual(s, &data.Schema{Type: data.TypeString, Optional: true}) || v != nil {
		t.Errorf("read null: %v %v %v", s, v, err)
	}
	// Invalid UTF-8 survives a round trip.
	_, v, _ = c.ToConnectData("t", []byte{0xff, 'a'})
	if b, _ := c.FromConnectData("t", nil, v); !bytes.Equal(b, []byte{0xff, 'a'}) {
		t.Errorf("invalid utf-8 round trip: %x", b)
	}
}

func TestStringConverterEncodings(t *testing.T) {
	for _, enc := range []string{"UTF8", "utf-8", "UTF-8"} {
		if _, err := NewStringConverter(map[string]string{"converter.encoding": enc}, true); err != nil {
			t.Errorf("%s: %v", enc, err)
		}
	}
	var ce *ConfigError
	if _, err := NewStringConverter(map[string]string{"converter.encoding": "EBCDIC"}, true); !errors.As(err, &ce) {
		t.Errorf("EBCDIC: %v", err)
	}
	latin, err := NewStringConverter(map[string]string{"converter.encoding": "ISO-8859-1"}, false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := latin.FromConnectData("t", nil, "é€")
	if !bytes.Equal(b, []byte{0xe9, '?'}) {
		t.Errorf("latin1 write: %x", b)
	}
	if _, v, _ := latin.ToConnectData("t", []byte{0xe9}); v != "é" {
		t.Errorf("latin1 read: %q", v)
	}
	ascii, _ := NewStringConverter(map[string]string{"converter.encoding": "US-ASCII"}, false)
	if b, _ := ascii.FromConnectData("t", nil, "aé"); string(b) != "a?" {
		t.Errorf("ascii write: %q", b)
	}
	if _, v, _ := ascii.ToConnectData("t", []byte{'a', 0xe9}); v != "a\uFFFD" {
		t.Errorf("ascii read: %q", v)
	}
}

func TestByteArrayConverter(t *testing.T) {
	c, _ := NewByteArrayConverter(nil, false)
	in := []byte{0, 1, 2, 0xff}
	for _, s := range []*data.Schema{nil, data.Primitive(data.TypeBytes), data.OptionalOf(data.Primitive(data.TypeBytes))} {
		if b, err := c.FromConnectData("t", s, in); err != nil || !bytes.Equal(b, in) {
			t.Errorf("%v: %x %v", s, b, err)
		}
	}
	if b, err := c.FromConnectData("t", data.OptionalOf(data.Primitive(data.TypeBytes)), nil); b != nil || err != nil {
		t.Errorf("null: %x %v", b, err)
	}
	_, err := c.FromConnectData("t", data.Primitive(data.TypeInt32), int32(12))
	var de *DataError
	if !errors.As(err, &de) || err.Error() != "Invalid schema type for ByteArrayConverter: INT32" {
		t.Errorf("non-bytes schema: %v", err)
	}
	_, err = c.FromConnectData("t", nil, "a string")
	if !errors.As(err, &de) || err.Error() != "ByteArrayConverter is not compatible with objects of type string" {
		t.Errorf("non-bytes value: %v", err)
	}
	s, v, err := c.ToConnectData("t", in)
	if err != nil || !schemaEqual(s, &data.Schema{Type: data.TypeBytes, Optional: true}) || !bytes.Equal(v.([]byte), in) {
		t.Errorf("read: %v %v %v", s, v, err)
	}
	if s, v, err := c.ToConnectData("t", nil); err != nil || s == nil || !s.Optional || v != nil {
		t.Errorf("read null: %v %v %v", s, v, err)
	}
}
