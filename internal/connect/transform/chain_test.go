package transform

import (
	"errors"
	"strings"
	"testing"

	"github.com/tributary-data/tributary/internal/connect/data"
)

func TestFromConfigChain(t *testing.T) {
	// Kafka's documentation example: hoist the value into a struct, then
	// insert a static field; plus a conditional route and a filter.
	props := map[string]string{
		"name":                                 "connector",
		"transforms":                           "MakeMap, InsertSource,route,dropTombstones",
		"transforms.MakeMap.type":              "org.apache.kafka.connect.transforms.HoistField$Value",
		"transforms.MakeMap.field":             "line",
		"transforms.InsertSource.type":         "org.apache.kafka.connect.transforms.InsertField$Value",
		"transforms.InsertSource.static.field": "data_source",
		"transforms.InsertSource.static.value": "test-file-source",
		"transforms.route.type":                "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex":               "(.*)",
		"transforms.route.replacement":         "routed-$1",
		"transforms.route.predicate":           "isFoo",
		"transforms.route.negate":              "true",
		"transforms.dropTombstones.type":       "Filter",
		"transforms.dropTombstones.predicate":  "tombstone",
		"predicates":                           "isFoo,tombstone",
		"predicates.isFoo.type":                "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"predicates.isFoo.pattern":             "foo",
		"predicates.tombstone.type":            "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
	}
	chain, err := FromConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 4 || chain[0].Alias != "MakeMap" || chain[3].Alias != "dropTombstones" {
		t.Fatalf("chain = %+v", chain)
	}
	out, err := chain.Apply(&data.Record{Topic: "bar", Value: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	deepEqual(t, "value", out.Value, map[string]any{"line": "hello", "data_source": "test-file-source"})
	deepEqual(t, "negated predicate routes non-matching topic", out.Topic, "routed-bar")

	out, err = chain.Apply(&data.Record{Topic: "foo", Value: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	deepEqual(t, "matching topic not routed", out.Topic, "foo")

	// The hoisted tombstone is no longer a tombstone, so build a chain
	// that only filters to check dropping.
	drop, err := FromConfig(map[string]string{
		"transforms": "f", "transforms.f.type": "org.apache.kafka.connect.transforms.Filter", "transforms.f.predicate": "t",
		"predicates": "t", "predicates.t.type": "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
	})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := drop.Apply(&data.Record{Topic: "x"}); out != nil {
		t.Error("tombstone not dropped")
	}
	if out, _ := drop.Apply(&data.Record{Topic: "x", Value: "v"}); out == nil {
		t.Error("record dropped")
	}

	// No transforms: an empty chain that passes records through.
	empty, err := FromConfig(map[string]string{"name": "c"})
	if err != nil || len(empty) != 0 {
		t.Fatalf("empty: %v %v", empty, err)
	}
	r := &data.Record{Topic: "x"}
	if out, _ := empty.Apply(r); out != r {
		t.Error("empty chain changed record")
	}
}

func TestFromConfigErrors(t *testing.T) {
	base := func(extra map[string]string) map[string]string {
		m := map[string]string{
			"transforms":               "r",
			"transforms.r.type":        "org.apache.kafka.connect.transforms.RegexRouter",
			"transforms.r.regex":       "a",
			"transforms.r.replacement": "b",
		}
		for k, v := range extra {
			if v == "" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	cases := []struct {
		name  string
		props map[string]string
		alias string
		key   string
		want  string
	}{
		{"missing type", base(map[string]string{"transforms.r.type": ""}), "r", "transforms.r.type", "Missing required configuration \"transforms.r.type\""},
		{"unknown class", base(map[string]string{"transforms.r.type": "com.example.Nope"}), "r", "transforms.r.type", "Class com.example.Nope could not be found."},
		{"abstract class", base(map[string]string{"transforms.r.type": "org.apache.kafka.connect.transforms.InsertField"}), "r", "transforms.r.type", "InsertField$Value"},
		{"missing setting", base(map[string]string{"transforms.r.regex": ""}), "r", "transforms.r.regex", "Missing required configuration \"regex\""},
		{"invalid setting", base(map[string]string{"transforms.r.regex": "("}), "r", "transforms.r.regex", "Invalid regex"},
		{"duplicate alias", base(map[string]string{"transforms": "r,r"}), "", "transforms", "Duplicate alias provided."},
		{"negate without predicate", base(map[string]string{"transforms.r.negate": "true"}), "r", "transforms.r.negate", "there is no config 'transforms.r.predicate'"},
		{"undefined predicate", base(map[string]string{"transforms.r.predicate": "p"}), "r", "transforms.r.predicate", "predicate \"p\" is not defined"},
		{"bad negate", base(map[string]string{"transforms.r.predicate": "p", "transforms.r.negate": "maybe", "predicates": "p", "predicates.p.type": "RecordIsTombstone"}), "r", "transforms.r.negate", "Expected value to be either true or false"},
		{"predicate missing type", base(map[string]string{"predicates": "p"}), "p", "predicates.p.type", "Missing required configuration"},
		{"predicate bad setting", base(map[string]string{"predicates": "p", "predicates.p.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches"}), "p", "predicates.p.pattern", "Missing required configuration"},
	}
	for _, c := range cases {
		_, err := FromConfig(c.props)
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: error %v, want ConfigError", c.name, err)
			continue
		}
		if ce.Alias != c.alias || ce.Key != c.key || !strings.Contains(ce.Error(), c.want) {
			t.Errorf("%s: got alias %q key %q %q; want alias %q key %q containing %q", c.name, ce.Alias, ce.Key, ce.Error(), c.alias, c.key, c.want)
		}
	}
}

func TestChainErrorNamesAlias(t *testing.T) {
	chain, err := FromConfig(map[string]string{
		"transforms": "extract", "transforms.extract.type": "org.apache.kafka.connect.transforms.ExtractField$Value", "transforms.extract.field": "f",
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = chain.Apply(&data.Record{Value: "not a map"})
	var de *DataError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), `transform "extract"`) {
		t.Errorf("error = %v", err)
	}
}

func TestClassLists(t *testing.T) {
	tc := TransformClasses()
	for _, want := range []string{
		"org.apache.kafka.connect.transforms.InsertField$Key", "org.apache.kafka.connect.transforms.InsertField$Value",
		"org.apache.kafka.connect.transforms.RegexRouter", "org.apache.kafka.connect.transforms.Filter",
	} {
		found := false
		for _, c := range tc {
			found = found || c == want
		}
		if !found {
			t.Errorf("TransformClasses lacks %s", want)
		}
	}
	// Every listed class can be looked up (a config error, if any, must
	// be about settings, not the class).
	for _, c := range tc {
		_, err := NewTransform(c, map[string]string{})
		var ce *ConfigError
		if errors.As(err, &ce) && ce.Key == "type" {
			t.Errorf("%s: %v", c, err)
		}
	}
	if len(PredicateClasses()) != 3 {
		t.Errorf("PredicateClasses = %v", PredicateClasses())
	}
}
