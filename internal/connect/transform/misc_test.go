package transform

import (
	"errors"
	"strings"
	"testing"

	"github.com/tributary-data/tributary/internal/connect/data"
)

func TestRegexRouter(t *testing.T) {
	// The cases of Kafka's RegexRouterTest, plus Java replacement syntax.
	cases := []struct{ regex, replacement, topic, want string }{
		{"foo", "bar", "foo", "bar"},
		{"foo", "bar", "orig", "orig"},
		{"foo", "bar", "foobar", "foobar"}, // the whole topic must match
		{"(.*)", "$1", "orig", "orig"},
		{"(.*)", "prefix-$1", "orig", "prefix-orig"},
		{"(.*)", "$1-suffix", "orig", "orig-suffix"},
		{`(.*)-(\d\d\d\d\d\d\d\d)`, "$1", "index-20160117", "index"},
		{`(?P<name>.*)-x`, "${name}-y", "a-x", "a-y"},
		{"(.*)", `\$1-$1`, "a", "$1-a"},
		{"(.*)", "$12", "a", "a2"}, // only one group: $1 then "2"
	}
	for _, c := range cases {
		tr := build(t, "RegexRouter", map[string]string{"regex": c.regex, "replacement": c.replacement})
		r := valueRec(nil, "v")
		r.Topic = c.topic
		if got := apply(t, tr, r).Topic; got != c.want {
			t.Errorf("%q -> %q on %q = %q, want %q", c.regex, c.replacement, c.topic, got, c.want)
		}
	}
	configErr(t, "RegexRouter", map[string]string{"replacement": "x"}, "regex", "Missing required configuration \"regex\"")
	configErr(t, "RegexRouter", map[string]string{"regex": "(", "replacement": "x"}, "regex", "Invalid regex")
	configErr(t, "RegexRouter", map[string]string{"regex": "(.*)"}, "replacement", "Missing required configuration")
	configErr(t, "RegexRouter", map[string]string{"regex": "(.*)", "replacement": "$2"}, "replacement", "No group 2")
}

func TestFlatten(t *testing.T) {
	t.Run("schemaless", func(t *testing.T) {
		in := map[string]any{
			"A":   map[string]any{"B": map[string]any{"int8": int8(8), "string": "s", "bytes": []byte("b"), "array": []any{int64(1)}}, "n": nil},
			"top": true,
		}
		out := apply(t, build(t, "Flatten$Value", map[string]string{}), valueRec(nil, in))
		deepEqual(t, "flat", out.Value, map[string]any{"A.B.int8": int8(8), "A.B.string": "s", "A.B.bytes": []byte("b"), "A.B.array": []any{int64(1)}, "A.n": nil, "top": true})
		out = apply(t, build(t, "Flatten$Key", map[string]string{"delimiter": "#"}), keyRec(nil, map[string]any{"A": map[string]any{"B": int64(1)}}))
		deepEqual(t, "delimiter", out.Key, map[string]any{"A#B": int64(1)})
	})
	t.Run("schema", func(t *testing.T) {
		b := data.StructSchema("B", field("int8", prim(data.TypeInt8)), field("ts", data.TimestampSchema()), field("array", &data.Schema{Type: data.TypeArray, Elem: prim(data.TypeString)}))
		a := data.OptionalOf(data.StructSchema("A", field("B", b), field("str", prim(data.TypeString))))
		s := data.StructSchema("top", field("A", a), field("x", opt(data.TypeInt32)))
		v := newStruct(t, s, newStruct(t, a, newStruct(t, b, int8(8), ms(5), []any{"q"}), "s"), int32(1))
		out := apply(t, build(t, "Flatten$Value", map[string]string{}), valueRec(s, v))
		// Fields under the optional A become optional.
		deepEqual(t, "fields", fieldSummary(out.ValueSchema), []string{"A.B.int8:INT8?", "A.B.ts:INT64(" + data.TimestampName + ")?", "A.B.array:ARRAY?", "A.str:STRING?", "x:INT32?"})
		deepEqual(t, "values", structValues(out.Value.(*data.Struct)), map[string]any{"A.B.int8": int8(8), "A.B.ts": ms(5), "A.B.array": []any{"q"}, "A.str": "s", "x": int32(1)})
		if out.ValueSchema.Name != "top" {
			t.Error("name lost")
		}
		// A null nested struct flattens to nulls.
		out = apply(t, build(t, "Flatten$Value", map[string]string{}), valueRec(s, newStruct(t, s, nil, nil)))
		deepEqual(t, "null nested", structValues(out.Value.(*data.Struct)), map[string]any{"A.B.int8": nil, "A.B.ts": nil, "A.B.array": nil, "A.str": nil, "x": nil})
	})
	t.Run("errors", func(t *testing.T) {
		m := data.StructSchema("", field("m", &data.Schema{Type: data.TypeMap, Key: prim(data.TypeString), Value: prim(data.TypeString)}))
		applyErr(t, build(t, "Flatten$Value", map[string]string{}), valueRec(m, newStruct(t, m, map[any]any{"a": "b"})), "Flatten transformation does not support MAP for record with schemas (for field m).")
		applyErr(t, build(t, "Flatten$Value", map[string]string{}), valueRec(nil, int64(1)), "Only Map objects supported in absence of schema for [flattening], found: java.lang.Long")
		applyErr(t, build(t, "Flatten$Value", map[string]string{}), valueRec(prim(data.TypeInt64), int64(1)), "Only Struct objects supported for [flattening], found: java.lang.Long")
		r := valueRec(nil, nil)
		if apply(t, build(t, "Flatten$Value", map[string]string{}), r) != r {
			t.Error("tombstone changed")
		}
	})
}

func TestHeaderFrom(t *testing.T) {
	s := data.StructSchema("rec", field("field1", prim(data.TypeString)), field("field2", prim(data.TypeInt32)), field("keep", prim(data.TypeBoolean)))
	v := newStruct(t, s, "a", int32(2), true)
	existing := data.Header{Key: "existing", Value: "e"}
	for _, op := range []string{"copy", "move"} {
		tr := build(t, "HeaderFrom$Value", map[string]string{"fields": "field1,field2", "headers": "h1,h2", "operation": op})
		r := valueRec(s, v)
		r.Headers = []data.Header{existing}
		out := apply(t, tr, r)
		deepEqual(t, op+" headers", out.Headers, []data.Header{existing, {Key: "h1", Schema: s.Fields[0].Schema, Value: "a"}, {Key: "h2", Schema: s.Fields[1].Schema, Value: int32(2)}})
		if len(r.Headers) != 1 {
			t.Error("input headers modified")
		}
		if op == "copy" {
			if out.Value != v {
				t.Error("copy changed the value")
			}
		} else {
			deepEqual(t, "move fields", fieldSummary(out.ValueSchema), []string{"keep:BOOLEAN"})
			deepEqual(t, "move values", structValues(out.Value.(*data.Struct)), map[string]any{"keep": true})
		}

		r = valueRec(nil, map[string]any{"field1": "a", "field2": int64(2), "keep": true})
		out = apply(t, tr, r)
		deepEqual(t, op+" schemaless headers", out.Headers, []data.Header{{Key: "h1", Value: "a"}, {Key: "h2", Value: int64(2)}})
		want := map[string]any{"keep": true}
		if op == "copy" {
			want = map[string]any{"field1": "a", "field2": int64(2), "keep": true}
		}
		deepEqual(t, op+" schemaless value", out.Value, want)
	}
	kt := build(t, "HeaderFrom$Key", map[string]string{"fields": "id", "headers": "id", "operation": "copy"})
	out := apply(t, kt, keyRec(nil, map[string]any{"id": "k1"}))
	deepEqual(t, "key header", out.Headers, []data.Header{{Key: "id", Value: "k1"}})

	applyErr(t, build(t, "HeaderFrom$Value", map[string]string{"fields": "f", "headers": "h", "operation": "move"}), valueRec(prim(data.TypeString), "x"), "Only Struct objects supported for [header move], found: java.lang.String")
	applyErr(t, build(t, "HeaderFrom$Value", map[string]string{"fields": "f", "headers": "h", "operation": "copy"}), valueRec(nil, "x"), "Only Map objects supported in absence of schema for [header copy], found: java.lang.String")
	configErr(t, "HeaderFrom$Value", map[string]string{"fields": "a,b", "headers": "h", "operation": "copy"}, "headers", "'fields' config must have the same number of elements as 'headers' config.")
	configErr(t, "HeaderFrom$Value", map[string]string{"fields": "a", "headers": "h", "operation": "steal"}, "operation", "String must be one of")
	configErr(t, "HeaderFrom$Value", map[string]string{"fields": "a", "headers": "h"}, "operation", "Missing required configuration")
}

func TestInsertHeader(t *testing.T) {
	cases := []struct {
		literal string
		schema  *data.Schema
		value   any
	}{
		{"hello", prim(data.TypeString), "hello"},
		{"42", prim(data.TypeInt8), int8(42)},
		{"1000", prim(data.TypeInt16), int16(1000)},
		{"100000", prim(data.TypeInt32), int32(100000)},
		{"10000000000", prim(data.TypeInt64), int64(10000000000)},
		{"-1", prim(data.TypeInt8), int8(-1)},
		{"1.5", prim(data.TypeFloat32), float32(1.5)},
		{"true", prim(data.TypeBoolean), true},
		{"null", nil, nil},
		{"", prim(data.TypeString), ""},
		{"2017-01-03", data.DateSchema(), ms(1483401600000)},
		{"12abc", prim(data.TypeString), "12abc"},
	}
	for _, c := range cases {
		tr := build(t, "InsertHeader", map[string]string{"header": "h", "value.literal": c.literal})
		r := valueRec(nil, "v")
		r.Headers = []data.Header{{Key: "h", Value: "old"}}
		out := apply(t, tr, r)
		deepEqual(t, "literal "+c.literal, out.Headers, []data.Header{{Key: "h", Value: "old"}, {Key: "h", Schema: c.schema, Value: c.value}})
	}
	configErr(t, "InsertHeader", map[string]string{"value.literal": "x"}, "header", "Missing required configuration")
	configErr(t, "InsertHeader", map[string]string{"header": "h"}, "value.literal", "Missing required configuration")
}

func TestDropHeaders(t *testing.T) {
	tr := build(t, "DropHeaders", map[string]string{"headers": "a, b"})
	r := valueRec(nil, "v")
	r.Headers = []data.Header{{Key: "a", Value: 1}, {Key: "c", Value: 2}, {Key: "b", Value: 3}, {Key: "a", Value: 4}}
	out := apply(t, tr, r)
	deepEqual(t, "headers", out.Headers, []data.Header{{Key: "c", Value: 2}})
	if len(r.Headers) != 4 {
		t.Error("input headers modified")
	}
	configErr(t, "DropHeaders", map[string]string{"headers": ""}, "headers", "Empty list")
}

func TestSetSchemaMetadata(t *testing.T) {
	s := data.StructSchema("old", field("a", prim(data.TypeInt32)))
	s.Version = 1
	v := newStruct(t, s, int32(1))
	out := apply(t, build(t, "SetSchemaMetadata$Value", map[string]string{"schema.name": "foo", "schema.version": "42"}), valueRec(s, v))
	if out.ValueSchema.Name != "foo" || out.ValueSchema.Version != 42 {
		t.Errorf("schema = %+v", out.ValueSchema)
	}
	st := out.Value.(*data.Struct)
	if st.Schema != out.ValueSchema || st.Values[0] != int32(1) {
		t.Errorf("struct not rebuilt on new schema: %+v", st)
	}
	if s.Name != "old" {
		t.Error("input schema modified")
	}
	out = apply(t, build(t, "SetSchemaMetadata$Key", map[string]string{"schema.version": "3"}), keyRec(prim(data.TypeString), "k"))
	if out.KeySchema.Version != 3 || out.KeySchema.Type != data.TypeString || out.Key != "k" {
		t.Errorf("key: %+v", out)
	}
	r := valueRec(nil, nil)
	if apply(t, build(t, "SetSchemaMetadata$Value", map[string]string{"schema.name": "x"}), r) != r {
		t.Error("null/null changed")
	}
	applyErr(t, build(t, "SetSchemaMetadata$Value", map[string]string{"schema.name": "x"}), valueRec(nil, "v"), "Schema required for [updating schema metadata]")
	configErr(t, "SetSchemaMetadata$Value", map[string]string{}, "", "Neither schema name nor version configured")
	configErr(t, "SetSchemaMetadata$Value", map[string]string{"schema.version": "x"}, "schema.version", "Not a number of type INT")
}

func TestPredicates(t *testing.T) {
	p, err := NewPredicate(predicatesPkg+"TopicNameMatches", map[string]string{"pattern": "my-prefix-.*"})
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]bool{"my-prefix-": true, "my-prefix-foo": true, "x-my-prefix-": false, "your-prefix": false, "": false} {
		if got := p.Test(&data.Record{Topic: topic}); got != want {
			t.Errorf("TopicNameMatches(%q) = %v", topic, got)
		}
	}
	h, err := NewPredicate(predicatesPkg+"HasHeaderKey", map[string]string{"name": "foo"})
	if err != nil {
		t.Fatal(err)
	}
	if h.Test(&data.Record{Headers: []data.Header{{Key: "bar"}}}) || !h.Test(&data.Record{Headers: []data.Header{{Key: "bar"}, {Key: "foo"}}}) {
		t.Error("HasHeaderKey wrong")
	}
	ts, err := NewPredicate("RecordIsTombstone", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ts.Test(&data.Record{Key: "k"}) || ts.Test(&data.Record{Value: "v"}) {
		t.Error("RecordIsTombstone wrong")
	}

	for _, c := range []struct {
		class string
		props map[string]string
		key   string
		want  string
	}{
		{"TopicNameMatches", map[string]string{}, "pattern", "Missing required configuration"},
		{"TopicNameMatches", map[string]string{"pattern": ""}, "pattern", "String must be non-empty"},
		{"TopicNameMatches", map[string]string{"pattern": "["}, "pattern", "entry must be a Java-compatible regular expression"},
		{"HasHeaderKey", map[string]string{}, "name", "Missing required configuration"},
		{"Nope", map[string]string{}, "type", "could not be found"},
	} {
		_, err := NewPredicate(predicatesPkg+c.class, c.props)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != c.key || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: error %v, want key %q and %q", c.class, c.props, err, c.key, c.want)
		}
	}
}
