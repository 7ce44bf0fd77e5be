// Package data is the record model of Tributary's connector runtime, after
// Apache Kafka Connect's org.apache.kafka.connect.data: schemas, structs,
// logical types and records. Converters turn stream bytes into it and
// back; transforms and connectors work on it. Keeping Kafka's model (and
// its names) is what lets Kafka Connect configurations and transforms run
// unchanged.
//
// Values are plain Go values, by schema type:
//
//	INT8 int8, INT16 int16, INT32 int32, INT64 int64, FLOAT32 float32,
//	FLOAT64 float64, BOOLEAN bool, STRING string, BYTES []byte,
//	ARRAY []any, MAP map[any]any, STRUCT *Struct
//
// and, for the logical types, Decimal (BYTES), and time.Time for Date
// (INT32 days), Time (INT32 milliseconds of the day) and Timestamp (INT64
// milliseconds). A record without a schema (schemaless, as JsonConverter
// with schemas.enable=false produces) holds what JSON decodes to: nil,
// bool, string, float64 or int64 numbers, []any and map[string]any.
package data

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Type is a schema type, spelled as Kafka spells it.
type Type string

// The schema types.
const (
	TypeInt8    Type = "INT8"
	TypeInt16   Type = "INT16"
	TypeInt32   Type = "INT32"
	TypeInt64   Type = "INT64"
	TypeFloat32 Type = "FLOAT32"
	TypeFloat64 Type = "FLOAT64"
	TypeBoolean Type = "BOOLEAN"
	TypeString  Type = "STRING"
	TypeBytes   Type = "BYTES"
	TypeArray   Type = "ARRAY"
	TypeMap     Type = "MAP"
	TypeStruct  Type = "STRUCT"
)

// The logical type names, Kafka's class names, carried in Schema.Name.
const (
	DecimalName   = "org.apache.kafka.connect.data.Decimal"
	DateName      = "org.apache.kafka.connect.data.Date"
	TimeName      = "org.apache.kafka.connect.data.Time"
	TimestampName = "org.apache.kafka.connect.data.Timestamp"
	// DecimalScaleParam is the Decimal schema parameter holding the scale.
	DecimalScaleParam = "scale"
)

// Schema describes a value. A nil *Schema means "no schema".
type Schema struct {
	Type       Type
	Optional   bool
	Default    any
	Name       string
	Version    int
	Doc        string
	Parameters map[string]string
	Fields     []Field // STRUCT
	Key, Value *Schema // MAP
	Elem       *Schema // ARRAY
}

// Field is one field of a STRUCT schema.
type Field struct {
	Name   string
	Index  int
	Schema *Schema
}

// Field returns the field called name, or nil.
func (s *Schema) Field(name string) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// Primitive returns a required schema of a primitive type.
func Primitive(t Type) *Schema { return &Schema{Type: t} }

// OptionalOf returns a copy of s that is optional.
func OptionalOf(s *Schema) *Schema {
	c := *s
	c.Optional = true
	return &c
}

// StructSchema builds a STRUCT schema from fields in order, numbering them.
func StructSchema(name string, fields ...Field) *Schema {
	s := &Schema{Type: TypeStruct, Name: name}
	for i, f := range fields {
		f.Index = i
		s.Fields = append(s.Fields, f)
	}
	return s
}

// DecimalSchema is the schema of a Decimal with the given scale.
func DecimalSchema(scale int) *Schema {
	return &Schema{Type: TypeBytes, Name: DecimalName, Version: 1, Parameters: map[string]string{DecimalScaleParam: fmt.Sprint(scale)}}
}

// DateSchema, TimeSchema and TimestampSchema are the time logical types.
func DateSchema() *Schema      { return &Schema{Type: TypeInt32, Name: DateName, Version: 1} }
func TimeSchema() *Schema      { return &Schema{Type: TypeInt32, Name: TimeName, Version: 1} }
func TimestampSchema() *Schema { return &Schema{Type: TypeInt64, Name: TimestampName, Version: 1} }

// Struct is a value of a STRUCT schema: one value per field, in order.
type Struct struct {
	Schema *Schema
	Values []any
}

// NewStruct returns an empty struct of schema s.
func NewStruct(s *Schema) *Struct { return &Struct{Schema: s, Values: make([]any, len(s.Fields))} }

// ErrNoField reports a field name the struct's schema does not have.
var ErrNoField = errors.New("no such field")

// Get returns the value of a field.
func (st *Struct) Get(name string) (any, error) {
	f := st.Schema.Field(name)
	if f == nil {
		return nil, fmt.Errorf("%q: %w", name, ErrNoField)
	}
	return st.Values[f.Index], nil
}

// Put sets a field, checking the value against the field's schema.
func (st *Struct) Put(name string, v any) error {
	f := st.Schema.Field(name)
	if f == nil {
		return fmt.Errorf("%q: %w", name, ErrNoField)
	}
	if err := Validate(f.Schema, v); err != nil {
		return fmt.Errorf("field %q: %w", name, err)
	}
	st.Values[f.Index] = v
	return nil
}

// Decimal is an arbitrary-precision decimal, unscaled × 10^-scale, the
// value of the Decimal logical type. Decimals are never floats: precision
// is never lost.
type Decimal struct {
	Unscaled *big.Int
	Scale    int
}

// String renders d as Java's BigDecimal.toString does: plain notation
// ("123.45") unless the exponent is large or the scale negative, then
// scientific ("1.2345E+9"). Its length follows the digits, never the
// scale, so a hostile scale (a decoded "1E-2147483647") costs nothing.
func (d Decimal) String() string {
	coeff := new(big.Int).Abs(d.Unscaled).String()
	sign := ""
	if d.Unscaled.Sign() < 0 {
		sign = "-"
	}
	adjusted := int64(len(coeff)-1) - int64(d.Scale)
	if d.Scale >= 0 && adjusted >= -6 {
		if d.Scale == 0 {
			return sign + coeff
		}
		if pad := d.Scale - len(coeff) + 1; pad > 0 {
			coeff = strings.Repeat("0", pad) + coeff
		}
		at := len(coeff) - d.Scale
		return sign + coeff[:at] + "." + coeff[at:]
	}
	out := sign + coeff[:1]
	if len(coeff) > 1 {
		out += "." + coeff[1:]
	}
	exp := strconv.FormatInt(adjusted, 10)
	if adjusted >= 0 {
		exp = "+" + exp
	}
	return out + "E" + exp
}

// Validate checks that v is a valid value of schema s, as Kafka's
// ConnectSchema.validateValue does. A nil schema accepts anything.
func Validate(s *Schema, v any) error {
	if s == nil {
		return nil
	}
	if v == nil {
		if s.Optional || s.Default != nil {
			return nil
		}
		return errors.New("invalid value: null used for required field")
	}
	switch s.Name {
	case DecimalName:
		if _, ok := v.(Decimal); !ok {
			return fmt.Errorf("invalid Java object for schema %q: %T", s.Name, v)
		}
		return nil
	case DateName, TimeName, TimestampName:
		if _, ok := v.(time.Time); !ok {
			return fmt.Errorf("invalid Java object for schema %q: %T", s.Name, v)
		}
		return nil
	}
	ok := false
	switch s.Type {
	case TypeInt8:
		_, ok = v.(int8)
	case TypeInt16:
		_, ok = v.(int16)
	case TypeInt32:
		_, ok = v.(int32)
	case TypeInt64:
		_, ok = v.(int64)
	case TypeFloat32:
		_, ok = v.(float32)
	case TypeFloat64:
		_, ok = v.(float64)
	case TypeBoolean:
		_, ok = v.(bool)
	case TypeString:
		_, ok = v.(string)
	case TypeBytes:
		_, ok = v.([]byte)
	case TypeArray:
		var a []any
		if a, ok = v.([]any); ok {
			for i, e := range a {
				if err := Validate(s.Elem, e); err != nil {
					return fmt.Errorf("element %d: %w", i, err)
				}
			}
		}
	case TypeMap:
		var m map[any]any
		if m, ok = v.(map[any]any); ok {
			for k, e := range m {
				if err := Validate(s.Key, k); err != nil {
					return fmt.Errorf("map key: %w", err)
				}
				if err := Validate(s.Value, e); err != nil {
					return fmt.Errorf("map value: %w", err)
				}
			}
		}
	case TypeStruct:
		var st *Struct
		if st, ok = v.(*Struct); ok && st.Schema != s && !sameStruct(st.Schema, s) {
			return errors.New("struct schemas do not match")
		}
	}
	if !ok {
		return fmt.Errorf("invalid Java object for schema type %s: %T", s.Type, v)
	}
	return nil
}

func sameStruct(a, b *Schema) bool {
	if a.Name != b.Name || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i].Name != b.Fields[i].Name || a.Fields[i].Schema.Type != b.Fields[i].Schema.Type {
			return false
		}
	}
	return true
}

// Header is one record header.
type Header struct {
	Key    string
	Schema *Schema
	Value  any
}

// Record is a Connect record: what a source task produces and a sink task
// consumes. On a Tributary stream the topic is the stream and the key is
// (rendered as) the partition key.
type Record struct {
	Topic       string
	KeySchema   *Schema
	Key         any
	ValueSchema *Schema
	Value       any
	// Timestamp is the record's time; zero when it has none.
	Timestamp time.Time
	Headers   []Header
	// SourcePartition and SourceOffset locate a source record in its
	// source system, for resuming (source records only).
	SourcePartition map[string]any
	SourceOffset    map[string]any
	// Shard and SequenceNumber locate a sink record in its stream (sink
	// records only): Kafka's partition and offset.
	Shard          string
	SequenceNumber string
}

// Copy returns a shallow copy of r with its own header slice, so that a
// transform may change either without touching the original.
func (r *Record) Copy() *Record {
	c := *r
	c.Headers = append([]Header(nil), r.Headers...)
	return &c
}
