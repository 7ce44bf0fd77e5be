package data

import (
	"math/big"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	person := StructSchema("person",
		Field{Name: "name", Schema: Primitive(TypeString)},
		Field{Name: "age", Schema: OptionalOf(Primitive(TypeInt32))})
	st := NewStruct(person)
	if err := st.Put("name", "ada"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		schema *Schema
		value  any
		ok     bool
	}{
		{Primitive(TypeInt32), int32(1), true},
		{Primitive(TypeInt32), int64(1), false},
		{Primitive(TypeString), nil, false},
		{OptionalOf(Primitive(TypeString)), nil, true},
		{Primitive(TypeBytes), []byte("x"), true},
		{&Schema{Type: TypeArray, Elem: Primitive(TypeInt8)}, []any{int8(1), int8(2)}, true},
		{&Schema{Type: TypeArray, Elem: Primitive(TypeInt8)}, []any{int8(1), "2"}, false},
		{&Schema{Type: TypeMap, Key: Primitive(TypeString), Value: Primitive(TypeBoolean)}, map[any]any{"a": true}, true},
		{DecimalSchema(2), Decimal{big.NewInt(12345), 2}, true},
		{DecimalSchema(2), 123.45, false},
		{TimestampSchema(), time.Now(), true},
		{person, st, true},
		{person, "not a struct", false},
		{nil, "anything", true},
	}
	for i, tt := range tests {
		if err := Validate(tt.schema, tt.value); (err == nil) != tt.ok {
			t.Errorf("case %d: Validate(%v, %#v) = %v, want ok=%v", i, tt.schema.Type, tt.value, err, tt.ok)
		}
	}
	if err := st.Put("age", "old"); err == nil {
		t.Error("Put accepted a string for an INT32 field")
	}
	if _, err := st.Get("missing"); err == nil {
		t.Error("Get of a missing field succeeded")
	}
}

func TestDecimalString(t *testing.T) {
	for _, tt := range []struct {
		d    Decimal
		want string
	}{
		{Decimal{big.NewInt(12345), 2}, "123.45"},
		{Decimal{big.NewInt(-5), 3}, "-0.005"},
		{Decimal{big.NewInt(7), 0}, "7"},
		{Decimal{new(big.Int).Exp(big.NewInt(10), big.NewInt(30), nil), 2}, "10000000000000000000000000000.00"},
		// Java's BigDecimal.toString switches to exponents here.
		{Decimal{big.NewInt(1), 7}, "1E-7"},
		{Decimal{big.NewInt(123), -2}, "1.23E+4"},
		{Decimal{big.NewInt(1), 2147483647}, "1E-2147483647"},
		{Decimal{big.NewInt(123), 8}, "0.00000123"},
	} {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("%v/%d = %s, want %s", tt.d.Unscaled, tt.d.Scale, got, tt.want)
		}
	}
}
