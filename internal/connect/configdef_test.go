package connect_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/tributary-data/tributary/internal/connect"
)

// def is a definition with a setting of each kind the tests need.
var def = connect.ConfigDef{
	{Name: "s", Type: connect.ConfigString, Default: "dflt"},
	{Name: "req", Type: connect.ConfigString, Required: true},
	{Name: "i", Type: connect.ConfigInt, Default: "7", Validate: connect.AtLeast(1)},
	{Name: "sh", Type: connect.ConfigShort, Default: "1"},
	{Name: "l", Type: connect.ConfigLong, Default: "-1"},
	{Name: "d", Type: connect.ConfigDouble, Default: "0.5"},
	{Name: "b", Type: connect.ConfigBoolean, Default: "true"},
	{Name: "list", Type: connect.ConfigList, Default: "a, b"},
	{Name: "mode", Type: connect.ConfigString, Default: "none", Validate: connect.OneOf("none", "all")},
	{Name: "pw", Type: connect.ConfigPassword, Default: "", Validate: func(v string) string {
		if len(v) < 4 {
			return "too short"
		}
		return ""
	}},
}

// TestConfigDefParse: each type's values parse, defaults fill the
// absent settings, and the typed getters read them.
func TestConfigDefParse(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		check func(t *testing.T, s *connect.Settings)
	}{
		{"defaults", map[string]string{"req": "x"}, func(t *testing.T, s *connect.Settings) {
			if s.String("s") != "dflt" || s.Int("i") != 7 || s.Int("sh") != 1 || s.Long("l") != -1 || s.Double("d") != 0.5 ||
				!s.Bool("b") || !reflect.DeepEqual(s.List("list"), []string{"a", "b"}) || s.String("mode") != "none" || s.Password("pw") != "" {
				t.Error("defaults not read")
			}
			if s.IsSet("s") || !s.IsSet("req") {
				t.Error("IsSet wrong")
			}
		}},
		{"values, trimmed", map[string]string{"req": "x", "s": " v ", "i": " 42 ", "l": "9000000000", "d": "1e3",
			"b": "FALSE", "list": " x ,, y ", "mode": "ALL"}, func(t *testing.T, s *connect.Settings) {
			if s.String("s") != "v" || s.Raw("s") != " v " || s.Int("i") != 42 || s.Long("l") != 9000000000 || s.Double("d") != 1000 ||
				s.Bool("b") || !reflect.DeepEqual(s.List("list"), []string{"x", "y"}) || s.String("mode") != "ALL" || !s.IsSet("s") {
				t.Error("values not read")
			}
		}},
		{"a password keeps its spaces", map[string]string{"req": "x", "pw": " se cret "}, func(t *testing.T, s *connect.Settings) {
			if s.Password("pw") != " se cret " {
				t.Errorf("password %q", s.Password("pw"))
			}
		}},
		{"an empty list", map[string]string{"req": "x", "list": " "}, func(t *testing.T, s *connect.Settings) {
			if len(s.List("list")) != 0 {
				t.Errorf("list %q", s.List("list"))
			}
		}},
		{"undeclared keys are left alone", map[string]string{"req": "x", "other": "1"}, func(t *testing.T, s *connect.Settings) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, errs := def.Parse(tc.props)
			if len(errs) > 0 {
				t.Fatalf("errors %v", errs)
			}
			tc.check(t, s)
		})
	}
}

// TestConfigDefErrors: Kafka's ConfigException texts for missing,
// mistyped and refused values, the type checked before the validator,
// a password's value hidden; a setting with a problem reads as its
// default.
func TestConfigDefErrors(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		problem connect.Problem
		want    string
	}{
		{"missing", map[string]string{}, connect.Missing, `Missing required configuration "req" which has no default value.`},
		{"not an int", map[string]string{"i": "x"}, connect.WrongType, "Invalid value x for configuration i: Not a number of type INT"},
		{"int overflow", map[string]string{"i": "3000000000"}, connect.WrongType, "Invalid value 3000000000 for configuration i: Not a number of type INT"},
		{"not a short", map[string]string{"sh": "1.5"}, connect.WrongType, "Invalid value 1.5 for configuration sh: Not a number of type SHORT"},
		{"not a long", map[string]string{"l": "1e3"}, connect.WrongType, "Invalid value 1e3 for configuration l: Not a number of type LONG"},
		{"not a double", map[string]string{"d": "half"}, connect.WrongType, "Invalid value half for configuration d: Not a number of type DOUBLE"},
		{"not a boolean", map[string]string{"b": "yes"}, connect.WrongType, "Invalid value yes for configuration b: Expected value to be either true or false"},
		{"blank int", map[string]string{"i": " "}, connect.WrongType, "Invalid value   for configuration i: Not a number of type INT"},
		{"below the range", map[string]string{"i": "0"}, connect.Invalid, "Invalid value 0 for configuration i: Value must be at least 1"},
		{"not one of", map[string]string{"mode": "some"}, connect.Invalid, "Invalid value some for configuration mode: String must be one of: none, all"},
		{"password hidden", map[string]string{"pw": "abc"}, connect.Invalid, "Invalid value [hidden] for configuration pw: too short"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]string{"req": "x"}
			if tc.problem == connect.Missing {
				props = map[string]string{}
			}
			for k, v := range tc.props {
				props[k] = v
			}
			s, errs := def.Parse(props)
			if len(errs) != 1 || errs[0].Problem != tc.problem || errs[0].Error() != tc.want {
				t.Fatalf("errors %v, want one %v: %s", errs, tc.problem, tc.want)
			}
			if k := errs[0].Key; k.Type != connect.ConfigString && k.Type != connect.ConfigPassword {
				if s.IsSet(k.Name) || s.Raw(k.Name) != k.Default {
					t.Errorf("%s reads %q, want its default %q", k.Name, s.Raw(k.Name), k.Default)
				}
			}
		})
	}
}

// TestConfigDefGetterMisuse: a getter for an undeclared setting or of
// another type is a mistake in the program, and panics.
func TestConfigDefGetterMisuse(t *testing.T) {
	s, _ := def.Parse(map[string]string{"req": "x"})
	for name, f := range map[string]func(){
		"undeclared": func() { s.String("nope") },
		"wrong type": func() { s.Int("s") },
		"not a bool": func() { s.Bool("i") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestValidateReplyFromDefinition: the validate endpoint's reply for a
// connector is built from its definition: each key with its definition,
// the value given (a password "[hidden]") or the default, its errors and
// recommended values, visible; the groups in order of first use.
func TestValidateReplyFromDefinition(t *testing.T) {
	r := connect.NewRegistry("test", map[string]func() connect.Connector{
		"example.Login": func() connect.Connector { return &loginSource{} },
	})
	infos, err := r.Validate(context.Background(), map[string]string{"connector.class": "Login", "name": "l", "password": "s3cr3t", "tasks.max": "0"})
	if err != nil {
		t.Fatal(err)
	}
	if infos.Name != "example.Login" || infos.ErrorCount != 1 || !reflect.DeepEqual(infos.Errors(), map[string][]string{
		"tasks.max": {"Invalid value 0 for configuration tasks.max: Value must be at least 1"}}) {
		t.Errorf("reply %s %d %q", infos.Name, infos.ErrorCount, infos.Errors())
	}
	if !reflect.DeepEqual(infos.Groups, []string{"Common", "Transforms", "Predicates", "Error Handling", "Topic Creation"}) {
		t.Errorf("groups %q", infos.Groups)
	}
	byName := map[string]connect.ConfigInfo{}
	for _, ci := range infos.Configs {
		byName[ci.Value.Name] = ci
		if !ci.Value.Visible || ci.Value.Errors == nil || ci.Value.RecommendedValues == nil || ci.Definition.Name != ci.Value.Name {
			t.Errorf("entry %+v", ci)
		}
	}
	for name, want := range map[string]string{"password": "[hidden]", "errors.tolerance": "none", "name": "l"} {
		if v := byName[name].Value.Value; v == nil || *v != want {
			t.Errorf("%s = %v, want %q", name, v, want)
		}
	}
	if pw := byName["password"].Definition; pw.Type != "PASSWORD" || !pw.Required || pw.DefaultValue != nil {
		t.Errorf("password definition %+v", pw)
	}
	if got := byName["errors.tolerance"].Value.RecommendedValues; !reflect.DeepEqual(got, []string{"none", "all"}) {
		t.Errorf("recommended %q", got)
	}
	if _, err := r.Validate(context.Background(), map[string]string{"connector.class": "Nope"}); err == nil ||
		!strings.Contains(err.Error(), "Failed to find any class that implements Connector") {
		t.Errorf("unknown class: %v", err)
	}
}
