package transform

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// build constructs a transform from a short class name ("InsertField$Value")
// and its settings, failing the test on error.
func build(t *testing.T, class string, props map[string]string) Transform {
	t.Helper()
	tr, err := NewTransform(transformsPkg+class, props)
	if err != nil {
		t.Fatalf("NewTransform(%s, %v): %v", class, props, err)
	}
	return tr
}

func apply(t *testing.T, tr Transform, r *data.Record) *data.Record {
	t.Helper()
	out, err := tr.Apply(r)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return out
}

// applyErr applies tr and checks that it fails with a DataError whose
// message contains want.
func applyErr(t *testing.T, tr Transform, r *data.Record, want string) {
	t.Helper()
	_, err := tr.Apply(r)
	var de *DataError
	if !errors.As(err, &de) {
		t.Fatalf("Apply error = %v, want a DataError containing %q", err, want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("Apply error = %q, want it to contain %q", err, want)
	}
}

// configErr builds class and checks for a ConfigError on key containing
// want.
func configErr(t *testing.T, class string, props map[string]string, key, want string) {
	t.Helper()
	_, err := NewTransform(transformsPkg+class, props)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("NewTransform(%s, %v) error = %v, want ConfigError", class, props, err)
	}
	if ce.Key != key || !strings.Contains(ce.Error(), want) {
		t.Fatalf("NewTransform(%s, %v) error = %q (key %q), want key %q and %q", class, props, ce.Error(), ce.Key, key, want)
	}
}

func valueRec(s *data.Schema, v any) *data.Record {
	return &data.Record{Topic: "test", ValueSchema: s, Value: v, Key: "key", KeySchema: data.Primitive(data.TypeString)}
}

func keyRec(s *data.Schema, k any) *data.Record {
	return &data.Record{Topic: "test", KeySchema: s, Key: k, Value: "value", ValueSchema: data.Primitive(data.TypeString)}
}

func field(name string, s *data.Schema) data.Field { return data.Field{Name: name, Schema: s} }

func prim(t data.Type) *data.Schema { return data.Primitive(t) }

func opt(t data.Type) *data.Schema { return data.OptionalOf(data.Primitive(t)) }

// newStruct fills a struct of schema s with values in field order.
func newStruct(t *testing.T, s *data.Schema, values ...any) *data.Struct {
	t.Helper()
	st := data.NewStruct(s)
	for i, v := range values {
		if err := st.Put(s.Fields[i].Name, v); err != nil {
			t.Fatalf("put %s: %v", s.Fields[i].Name, err)
		}
	}
	return st
}

func ms(n int64) time.Time { return time.UnixMilli(n).UTC() }

func deepEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// fieldSummary renders a struct schema's fields as "name:TYPE[?]" for
// compact comparison.
func fieldSummary(s *data.Schema) []string {
	var out []string
	for i, f := range s.Fields {
		if f.Index != i {
			out = append(out, "BAD INDEX")
		}
		d := f.Name + ":" + string(f.Schema.Type)
		if f.Schema.Name != "" {
			d += "(" + f.Schema.Name + ")"
		}
		if f.Schema.Optional {
			d += "?"
		}
		out = append(out, d)
	}
	return out
}

// structValues returns the struct's values by field name.
func structValues(st *data.Struct) map[string]any {
	out := map[string]any{}
	for i, f := range st.Schema.Fields {
		out[f.Name] = st.Values[i]
	}
	return out
}
