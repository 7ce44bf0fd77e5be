package transform

import (
	"math/big"
	"testing"

	"github.com/tributary-data/tributary/internal/connect/data"
)

var insertProps = map[string]string{
	"topic.field":     "topic_field!",
	"partition.field": "partition_field",
	"offset.field":    "offset_field!",
	"timestamp.field": "timestamp_field?",
	"static.field":    "instance_id",
	"static.value":    "my-instance-id",
}

func sinkRecord(s *data.Schema, v any) *data.Record {
	r := valueRec(s, v)
	r.Shard = "shardId-000000000000"
	r.SequenceNumber = "49590338271490256608559692538361571095921575989136588898"
	return r
}

func TestInsertFieldWithSchema(t *testing.T) {
	tr := build(t, "InsertField$Value", insertProps)
	schema := &data.Schema{Type: data.TypeStruct, Name: "name", Version: 1, Doc: "doc", Fields: []data.Field{{Name: "magic", Schema: opt(data.TypeInt64)}}}
	r := sinkRecord(schema, newStruct(t, schema, int64(42)))
	out := apply(t, tr, r)
	s := out.ValueSchema
	if s.Name != "name" || s.Version != 1 || s.Doc != "doc" {
		t.Errorf("schema basics not copied: %+v", s)
	}
	deepEqual(t, "fields", fieldSummary(s), []string{
		"magic:INT64?", "topic_field:STRING", "partition_field:STRING?", "offset_field:STRING",
		"timestamp_field:INT64(" + data.TimestampName + ")?", "instance_id:STRING?",
	})
	deepEqual(t, "values", structValues(out.Value.(*data.Struct)), map[string]any{
		"magic": int64(42), "topic_field": "test", "partition_field": r.Shard, "offset_field": r.SequenceNumber,
		"timestamp_field": nil, "instance_id": "my-instance-id",
	})
	if err := data.Validate(out.ValueSchema, out.Value); err != nil {
		t.Errorf("result does not validate: %v", err)
	}
	if r.ValueSchema != schema || len(schema.Fields) != 1 {
		t.Error("input record or schema modified")
	}

	// The timestamp is inserted as a Timestamp when the record has one.
	r.Timestamp = ms(1483425001864)
	out = apply(t, tr, r)
	deepEqual(t, "timestamp", structValues(out.Value.(*data.Struct))["timestamp_field"], ms(1483425001864))
}

func TestInsertFieldSchemaless(t *testing.T) {
	tr := build(t, "InsertField$Value", insertProps)
	r := sinkRecord(nil, map[string]any{"magic": int64(42)})
	r.Timestamp = ms(1483425001864)
	out := apply(t, tr, r)
	deepEqual(t, "value", out.Value, map[string]any{
		"magic": int64(42), "topic_field": "test", "partition_field": r.Shard, "offset_field": r.SequenceNumber,
		"timestamp_field": int64(1483425001864), "instance_id": "my-instance-id",
	})
	if len(r.Value.(map[string]any)) != 1 {
		t.Error("input map modified")
	}
}

func TestInsertFieldKeyAndTombstones(t *testing.T) {
	tr := build(t, "InsertField$Key", map[string]string{"topic.field": "topic"})
	out := apply(t, tr, keyRec(nil, map[string]any{"id": int64(1)}))
	deepEqual(t, "key", out.Key, map[string]any{"id": int64(1), "topic": "test"})
	if out.Value != "value" {
		t.Errorf("value changed: %v", out.Value)
	}

	// Tombstones (null values) pass through untouched, schemaful or not.
	vt := build(t, "InsertField$Value", map[string]string{"topic.field": "topic"})
	for _, r := range []*data.Record{valueRec(nil, nil), valueRec(data.StructSchema("s"), nil)} {
		if out := apply(t, vt, r); out != r {
			t.Errorf("tombstone changed: %+v", out)
		}
	}
}

func TestInsertFieldErrors(t *testing.T) {
	tr := build(t, "InsertField$Value", map[string]string{"topic.field": "topic"})
	applyErr(t, tr, valueRec(prim(data.TypeInt32), int32(42)), "Only Struct objects supported for [field insertion], found: java.lang.Integer")
	applyErr(t, tr, valueRec(nil, int64(42)), "Only Map objects supported in absence of schema for [field insertion], found: java.lang.Long")
	// offset.field needs a sink record (one with a sequence number).
	off := build(t, "InsertField$Value", map[string]string{"offset.field": "off"})
	applyErr(t, off, valueRec(nil, map[string]any{}), "Only SinkRecord supported for [field insertion]")
	// Inserting a field that exists fails, as Kafka's SchemaBuilder does.
	s := data.StructSchema("", field("topic", prim(data.TypeString)))
	applyErr(t, tr, valueRec(s, newStruct(t, s, "x")), "field name duplication topic")

	configErr(t, "InsertField$Value", map[string]string{}, "", "No field insertion configured")
	configErr(t, "InsertField$Value", map[string]string{"static.field": "f"}, "static.value", "No value specified for static field: f")
}

func TestReplaceField(t *testing.T) {
	t.Run("schemaless exclude and rename", func(t *testing.T) {
		tr := build(t, "ReplaceField$Value", map[string]string{"exclude": "dont", "renames": "abc:xyz,foo:bar"})
		out := apply(t, tr, valueRec(nil, map[string]any{"dont": "whatever", "abc": int64(42), "foo": true, "etc": "etc"}))
		deepEqual(t, "value", out.Value, map[string]any{"xyz": int64(42), "bar": true, "etc": "etc"})
	})
	t.Run("schemaless legacy blacklist/whitelist", func(t *testing.T) {
		tr := build(t, "ReplaceField$Value", map[string]string{"blacklist": "dont", "whitelist": "abc,dont"})
		out := apply(t, tr, valueRec(nil, map[string]any{"dont": "x", "abc": int64(42), "etc": "etc"}))
		deepEqual(t, "value", out.Value, map[string]any{"abc": int64(42)})
	})
	t.Run("schema include and rename", func(t *testing.T) {
		tr := build(t, "ReplaceField$Value", map[string]string{"include": "abc,foo", "renames": "abc:xyz,foo:bar"})
		s := data.StructSchema("rec", field("dont", prim(data.TypeString)), field("abc", prim(data.TypeInt32)), field("foo", prim(data.TypeBoolean)), field("etc", prim(data.TypeString)))
		out := apply(t, tr, valueRec(s, newStruct(t, s, "whatever", int32(42), true, "etc")))
		deepEqual(t, "fields", fieldSummary(out.ValueSchema), []string{"xyz:INT32", "bar:BOOLEAN"})
		deepEqual(t, "values", structValues(out.Value.(*data.Struct)), map[string]any{"xyz": int32(42), "bar": true})
		if out.ValueSchema.Name != "rec" {
			t.Errorf("schema name = %q", out.ValueSchema.Name)
		}
	})
	t.Run("exclude takes precedence over include", func(t *testing.T) {
		tr := build(t, "ReplaceField$Key", map[string]string{"include": "a,b", "exclude": "b"})
		out := apply(t, tr, keyRec(nil, map[string]any{"a": int64(1), "b": int64(2), "c": int64(3)}))
		deepEqual(t, "key", out.Key, map[string]any{"a": int64(1)})
	})
	t.Run("null default replacement", func(t *testing.T) {
		fs := data.OptionalOf(prim(data.TypeInt32))
		fs.Default = int32(7)
		s := data.StructSchema("", field("a", fs))
		v := newStruct(t, s, nil)
		out := apply(t, build(t, "ReplaceField$Value", map[string]string{}), valueRec(s, v))
		deepEqual(t, "default used", out.Value.(*data.Struct).Values[0], int32(7))
		out = apply(t, build(t, "ReplaceField$Value", map[string]string{"replace.null.with.default": "false"}), valueRec(s, v))
		deepEqual(t, "null kept", out.Value.(*data.Struct).Values[0], nil)
	})
	t.Run("tombstone", func(t *testing.T) {
		r := valueRec(nil, nil)
		if out := apply(t, build(t, "ReplaceField$Value", map[string]string{"exclude": "a"}), r); out != r {
			t.Error("tombstone changed")
		}
	})
	configErr(t, "ReplaceField$Value", map[string]string{"renames": "foo:bar:baz"}, "renames", "Invalid rename mapping: foo:bar:baz")
	configErr(t, "ReplaceField$Value", map[string]string{"renames": "foo"}, "renames", "Invalid rename mapping: foo")
	applyErr(t, build(t, "ReplaceField$Value", map[string]string{}), valueRec(prim(data.TypeString), "x"), "Only Struct objects supported for [field replacement], found: java.lang.String")
}

func TestMaskField(t *testing.T) {
	dec := data.Decimal{Unscaled: big.NewInt(12345), Scale: 2}
	schemaless := map[string]any{
		"magic": int64(42), "bool": true, "byte": int8(42), "short": int16(42), "int": int32(42), "long": int64(42),
		"float": float32(42), "double": float64(42), "string": "55.121.20.20", "date": ms(1234), "bigdecimal": dec,
		"list": []any{"a"}, "map": map[string]any{"k": "v"}, "withDefault": nil,
	}
	all := "bool,byte,short,int,long,float,double,string,date,bigdecimal,list,map,withDefault"
	out := apply(t, build(t, "MaskField$Value", map[string]string{"fields": all}), valueRec(nil, schemaless))
	deepEqual(t, "masked", out.Value, map[string]any{
		"magic": int64(42), "bool": false, "byte": int8(0), "short": int16(0), "int": int32(0), "long": int64(0),
		"float": float32(0), "double": float64(0), "string": "", "date": ms(0), "bigdecimal": data.Decimal{Unscaled: new(big.Int), Scale: 2},
		"list": []any{}, "map": map[string]any{}, "withDefault": nil,
	})

	// Custom replacements are converted to the field's type.
	rep := []struct {
		v, want any
		repl    string
	}{
		{int8(42), int8(123), "123"},
		{int16(42), int16(123), "123"},
		{int32(42), int32(123), "123"},
		{int64(42), int64(123), "123"},
		{float32(42), float32(123), "123"},
		{float64(42), float64(123.5), "123.5"},
		{"secret", "******", "******"},
		{dec, data.Decimal{Unscaled: big.NewInt(12300), Scale: 2}, "123"},
	}
	for _, c := range rep {
		tr := build(t, "MaskField$Value", map[string]string{"fields": "f", "replacement": c.repl})
		out := apply(t, tr, valueRec(nil, map[string]any{"f": c.v}))
		deepEqual(t, "replacement of "+javaClass(c.v), out.Value.(map[string]any)["f"], c.want)
	}
	tr := build(t, "MaskField$Value", map[string]string{"fields": "f", "replacement": "abc"})
	applyErr(t, tr, valueRec(nil, map[string]any{"f": int32(1)}), "Unable to convert abc (class java.lang.String) to number")
	applyErr(t, tr, valueRec(nil, map[string]any{"f": true}), "Cannot mask value of type class java.lang.Boolean with custom replacement.")
	applyErr(t, build(t, "MaskField$Value", map[string]string{"fields": "f"}), valueRec(nil, map[string]any{"f": []byte("x")}), "Cannot mask value of type: class [B")

	// With a schema the struct keeps its schema.
	s := data.StructSchema("", field("magic", prim(data.TypeInt32)), field("string", prim(data.TypeString)), field("opt", opt(data.TypeInt64)), field("ts", data.TimestampSchema()))
	out = apply(t, build(t, "MaskField$Value", map[string]string{"fields": "string,opt,ts"}), valueRec(s, newStruct(t, s, int32(42), "secret", nil, ms(99))))
	if out.ValueSchema != s {
		t.Error("schema changed")
	}
	deepEqual(t, "struct masked", structValues(out.Value.(*data.Struct)), map[string]any{"magic": int32(42), "string": "", "opt": nil, "ts": ms(0)})

	configErr(t, "MaskField$Value", map[string]string{}, "fields", "Missing required configuration")
	configErr(t, "MaskField$Value", map[string]string{"fields": ""}, "fields", "Empty list")
	configErr(t, "MaskField$Value", map[string]string{"fields": "a", "replacement": ""}, "replacement", "String must be non-empty")
	applyErr(t, build(t, "MaskField$Key", map[string]string{"fields": "a"}), keyRec(prim(data.TypeString), "k"), "Only Struct objects supported for [mask fields], found: java.lang.String")
}

func TestValueToKey(t *testing.T) {
	tr := build(t, "ValueToKey", map[string]string{"fields": "a,b"})
	out := apply(t, tr, valueRec(nil, map[string]any{"a": int64(1), "b": int64(2), "c": int64(3)}))
	deepEqual(t, "schemaless key", out.Key, map[string]any{"a": int64(1), "b": int64(2)})
	if out.KeySchema != nil {
		t.Error("schemaless key has a schema")
	}

	s := data.StructSchema("", field("a", prim(data.TypeInt32)), field("b", prim(data.TypeInt32)), field("c", prim(data.TypeInt32)))
	out = apply(t, tr, valueRec(s, newStruct(t, s, int32(1), int32(2), int32(3))))
	deepEqual(t, "key fields", fieldSummary(out.KeySchema), []string{"a:INT32", "b:INT32"})
	deepEqual(t, "key values", structValues(out.Key.(*data.Struct)), map[string]any{"a": int32(1), "b": int32(2)})
	if out.ValueSchema != s {
		t.Error("value schema changed")
	}

	bad := build(t, "ValueToKey", map[string]string{"fields": "not_exist"})
	applyErr(t, bad, valueRec(s, newStruct(t, s, int32(1), int32(2), int32(3))), "Field does not exist: not_exist")
	applyErr(t, tr, valueRec(nil, nil), "Only Map objects supported in absence of schema for [copying fields from value to key], found: null")
	configErr(t, "ValueToKey", map[string]string{}, "fields", "Missing required configuration")
	configErr(t, "ValueToKey$Value", map[string]string{"fields": "a"}, "type", "could not be found")
}

func TestHoistField(t *testing.T) {
	out := apply(t, build(t, "HoistField$Key", map[string]string{"field": "magic"}), keyRec(nil, int64(42)))
	deepEqual(t, "schemaless", out.Key, map[string]any{"magic": int64(42)})

	out = apply(t, build(t, "HoistField$Key", map[string]string{"field": "magic"}), keyRec(prim(data.TypeInt32), int32(42)))
	deepEqual(t, "fields", fieldSummary(out.KeySchema), []string{"magic:INT32"})
	deepEqual(t, "value", structValues(out.Key.(*data.Struct)), map[string]any{"magic": int32(42)})

	out = apply(t, build(t, "HoistField$Value", map[string]string{"field": "v"}), valueRec(nil, nil))
	deepEqual(t, "null hoisted", out.Value, map[string]any{"v": nil})

	configErr(t, "HoistField$Value", map[string]string{}, "field", "Missing required configuration \"field\"")
}

func TestExtractField(t *testing.T) {
	tr := build(t, "ExtractField$Key", map[string]string{"field": "magic"})
	deepEqual(t, "schemaless", apply(t, tr, keyRec(nil, map[string]any{"magic": int64(42)})).Key, int64(42))
	deepEqual(t, "schemaless missing", apply(t, tr, keyRec(nil, map[string]any{"x": int64(42)})).Key, nil)
	deepEqual(t, "schemaless null", apply(t, tr, keyRec(nil, nil)).Key, nil)

	s := data.StructSchema("", field("magic", prim(data.TypeInt32)))
	out := apply(t, tr, keyRec(s, newStruct(t, s, int32(42))))
	deepEqual(t, "schema", out.KeySchema, prim(data.TypeInt32))
	deepEqual(t, "value", out.Key, int32(42))

	out = apply(t, tr, keyRec(s, nil))
	if out.Key != nil || out.KeySchema.Type != data.TypeInt32 {
		t.Errorf("null struct: %+v", out)
	}

	bad := build(t, "ExtractField$Key", map[string]string{"field": "nonexistent"})
	_, err := bad.Apply(keyRec(s, newStruct(t, s, int32(42))))
	if err == nil || err.Error() != "Unknown field: nonexistent" {
		t.Errorf("unknown field error = %v", err)
	}
	applyErr(t, tr, keyRec(nil, "str"), "Only Map objects supported in absence of schema for [field extraction], found: java.lang.String")
	applyErr(t, tr, keyRec(s, "str"), "Only Struct objects supported for [field extraction], found: java.lang.String")

	// V1 takes dots literally; V2 walks nested fields, backticks quote.
	nested := map[string]any{"magic": map[string]any{"foo": int64(42)}, "magic.foo": int64(7)}
	deepEqual(t, "V1 dotted", apply(t, build(t, "ExtractField$Value", map[string]string{"field": "magic.foo"}), valueRec(nil, nested)).Value, int64(7))
	deepEqual(t, "V2 nested", apply(t, build(t, "ExtractField$Value", map[string]string{"field": "magic.foo", "field.syntax.version": "V2"}), valueRec(nil, nested)).Value, int64(42))
	deepEqual(t, "V2 quoted", apply(t, build(t, "ExtractField$Value", map[string]string{"field": "`magic.foo`", "field.syntax.version": "v2"}), valueRec(nil, nested)).Value, int64(7))

	inner := data.StructSchema("", field("foo", prim(data.TypeInt64)))
	outer := data.StructSchema("", field("magic", inner))
	out = apply(t, build(t, "ExtractField$Value", map[string]string{"field": "magic.foo", "field.syntax.version": "V2"}), valueRec(outer, newStruct(t, outer, newStruct(t, inner, int64(42)))))
	deepEqual(t, "V2 struct", out.Value, int64(42))
	deepEqual(t, "V2 schema", out.ValueSchema, prim(data.TypeInt64))

	configErr(t, "ExtractField$Value", map[string]string{"field": "a", "field.syntax.version": "V3"}, "field.syntax.version", "V1, V2")
	configErr(t, "ExtractField$Value", map[string]string{"field": "`a.b", "field.syntax.version": "V2"}, "field", "Incomplete backtick pair")
}

func TestFieldPathV2(t *testing.T) {
	cases := map[string][]string{
		"foo":           {"foo"},
		"foo.bar":       {"foo", "bar"},
		"`foo.bar`":     {"foo.bar"},
		"`foo.bar`.baz": {"foo.bar", "baz"},
		"foo.":          {"foo", ""},
		"`a\\`b`.c":     {"a`b", "c"},
		"`a`b`":         {"a`b"},
	}
	c := &config{props: map[string]string{"field.syntax.version": "V2"}}
	for in, want := range cases {
		got, err := fieldPath(c, in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		deepEqual(t, in, got, want)
	}
}
