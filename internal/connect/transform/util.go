package transform

import (
	"fmt"
	"maps"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// side is which part of a record a $Key or $Value transform works on.
type side int

const (
	valueSide side = iota
	keySide
)

func (s side) get(r *data.Record) (*data.Schema, any) {
	if s == keySide {
		return r.KeySchema, r.Key
	}
	return r.ValueSchema, r.Value
}

// with returns a copy of r with this side replaced.
func (s side) with(r *data.Record, schema *data.Schema, v any) *data.Record {
	c := r.Copy()
	if s == keySide {
		c.KeySchema, c.Key = schema, v
	} else {
		c.ValueSchema, c.Value = schema, v
	}
	return c
}

// requireMap is Kafka's Requirements.requireMap: schemaless transforms
// work on maps only. JSON-decoded maps are map[string]any; a map[any]any
// with string keys is accepted too.
func requireMap(v any, purpose string) (map[string]any, error) {
	switch m := v.(type) {
	case map[string]any:
		return m, nil
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, e := range m {
			ks, ok := k.(string)
			if !ok {
				return nil, dataErrorf("Only Map objects supported in absence of schema for [%s], found: %s", purpose, javaClass(v))
			}
			out[ks] = e
		}
		return out, nil
	}
	return nil, dataErrorf("Only Map objects supported in absence of schema for [%s], found: %s", purpose, javaClass(v))
}

func requireStruct(v any, purpose string) (*data.Struct, error) {
	st, ok := v.(*data.Struct)
	if !ok || st == nil {
		return nil, dataErrorf("Only Struct objects supported for [%s], found: %s", purpose, javaClass(v))
	}
	return st, nil
}

// requireStructOrNull accepts nil as well as a struct.
func requireStructOrNull(v any, purpose string) (*data.Struct, error) {
	if v == nil {
		return nil, nil
	}
	return requireStruct(v, purpose)
}

// javaClass names a value's type as Java would (Class.getName()), so that
// error messages read as Kafka's do.
func javaClass(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "java.lang.String"
	case bool:
		return "java.lang.Boolean"
	case int8:
		return "java.lang.Byte"
	case int16:
		return "java.lang.Short"
	case int32, int:
		return "java.lang.Integer"
	case int64:
		return "java.lang.Long"
	case float32:
		return "java.lang.Float"
	case float64:
		return "java.lang.Double"
	case []byte:
		return "[B"
	case []any:
		return "java.util.ArrayList"
	case map[string]any, map[any]any:
		return "java.util.HashMap"
	case *data.Struct:
		return "org.apache.kafka.connect.data.Struct"
	case data.Decimal:
		return "java.math.BigDecimal"
	case time.Time:
		return "java.util.Date"
	}
	return fmt.Sprintf("%T", v)
}

// schemaTypeOf infers the schema type of a schemaless value, Kafka's
// ConnectSchema.schemaType; "" when the value is not a Connect value.
func schemaTypeOf(v any) data.Type {
	switch v.(type) {
	case int8:
		return data.TypeInt8
	case int16:
		return data.TypeInt16
	case int32:
		return data.TypeInt32
	case int64:
		return data.TypeInt64
	case float32:
		return data.TypeFloat32
	case float64:
		return data.TypeFloat64
	case bool:
		return data.TypeBoolean
	case string:
		return data.TypeString
	case []byte:
		return data.TypeBytes
	case []any:
		return data.TypeArray
	case map[string]any, map[any]any:
		return data.TypeMap
	case *data.Struct:
		return data.TypeStruct
	}
	return ""
}

// schemaString renders a schema as Kafka's ConnectSchema.toString does.
func schemaString(s *data.Schema) string {
	if s.Name != "" {
		return "Schema{" + s.Name + ":" + string(s.Type) + "}"
	}
	return "Schema{" + string(s.Type) + "}"
}

// copyBasics starts a schema of type t with s's name, version, doc and
// parameters: Kafka's SchemaUtil.copySchemaBasics. Like Kafka it does not
// carry optionality or the default over; callers decide those.
func copyBasics(s *data.Schema, t data.Type) *data.Schema {
	out := &data.Schema{Type: t, Name: s.Name, Version: s.Version, Doc: s.Doc, Parameters: maps.Clone(s.Parameters)}
	if t == data.TypeArray {
		out.Elem = s.Elem
	}
	if t == data.TypeMap {
		out.Key, out.Value = s.Key, s.Value
	}
	return out
}

// structBuilder adds fields to a STRUCT schema, failing on duplicate
// names as Kafka's SchemaBuilder does.
type structBuilder struct {
	schema *data.Schema
	err    error
}

func newStructBuilder(basis *data.Schema) *structBuilder {
	if basis == nil {
		return &structBuilder{schema: &data.Schema{Type: data.TypeStruct}}
	}
	return &structBuilder{schema: copyBasics(basis, data.TypeStruct)}
}

func (b *structBuilder) field(name string, s *data.Schema) {
	if b.err != nil {
		return
	}
	if b.schema.Field(name) != nil {
		b.err = dataErrorf("Cannot create field because of field name duplication %s", name)
		return
	}
	b.schema.Fields = append(b.schema.Fields, data.Field{Name: name, Index: len(b.schema.Fields), Schema: s})
}

func (b *structBuilder) build() (*data.Schema, error) { return b.schema, b.err }

// fieldValue reads a struct field. With withDefault (Kafka's Struct.get,
// and replace.null.with.default=true) a null reads as the field's default;
// without it (Struct.getWithoutDefault) it stays null.
func fieldValue(st *data.Struct, f *data.Field, withDefault bool) any {
	var v any
	if f.Index < len(st.Values) {
		v = st.Values[f.Index]
	}
	if v == nil && withDefault && f.Schema != nil {
		return f.Schema.Default
	}
	return v
}

// fieldByName reads the named field of st, nil if st has no such field.
func fieldByName(st *data.Struct, name string, withDefault bool) any {
	f := st.Schema.Field(name)
	if f == nil {
		return nil
	}
	return fieldValue(st, f, withDefault)
}

// put sets a field of a new struct, validating as Kafka's Struct.put does
// and reporting failures as DataErrors.
func put(st *data.Struct, name string, v any) error {
	if err := st.Put(name, v); err != nil {
		return &DataError{Message: err.Error()}
	}
	return nil
}
