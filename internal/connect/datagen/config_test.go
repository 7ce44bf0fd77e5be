package datagen

import (
	"errors"
	"strings"
	"testing"
)

// The MSK Data Generator's own examples (README, examples/*.json and
// the MSK Connect properties file) must parse unchanged.
func TestMSKExamples(t *testing.T) {
	examples := map[string]map[string]string{
		"README": {
			"genkp.customer.with":              "#{Internet.uuid}",
			"genv.customer.name.with":          "#{Name.full_name}",
			"genv.customer.gender.with":        "#{Demographic.sex}",
			"genv.customer.favorite_beer.with": "#{Beer.name}",
			"genv.customer.state.with":         "#{Address.state}",
			"genkp.order.with":                 "#{Internet.uuid}",
			"genv.order.product_id.with":       "#{number.number_between '101','109'}",
			"genv.order.quantity.with":         "#{number.number_between '1','5'}",
			"genv.order.customer_id.matching":  "customer.key",
		},
		"ad-tech": {
			"connector.class":                        ConnectorClass,
			"genv.impressions.bid_id.with":           "#{Code.isbn10}",
			"genv.impressions.i_timestamp.with":      "#{date.past '10','SECONDS'}",
			"genv.impressions.campaign_id.with":      "#{Code.isbn10}",
			"genv.impressions.creative_details.with": "#{Color.name}",
			"genv.impressions.country_code.with":     "#{Address.countryCode}",
			"genkp.clicks.with":                      "#{Code.isbn10}",
			"genv.clicks.c_timestamp.with":           "#{date.past '10','SECONDS'}",
			"genv.clicks.correlation_id.matching":    "impressions.value.bid_id",
			"genv.clicks.tracker.with":               "#{Lorem.characters '15'}",
			"global.throttle.ms":                     "5000",
			"global.history.records.max":             "10",
		},
		"properties": {
			"connector.class":                  ConnectorClass,
			"tasks.max":                        "2",
			"genkp.customer.with":              "#{Code.isbn10}",
			"genv.customer.name.with":          "#{Name.full_name}",
			"genv.customer.gender.with":        "#{Demographic.sex}",
			"genv.customer.favorite_beer.with": "#{Beer.name}",
			"genv.customer.state.with":         "#{Address.state}",
			"genkp.order.with":                 "#{Code.isbn10}",
			"genv.order.product_id.with":       "#{number.number_between '101','109'}",
			"genv.order.quantity.with":         "#{number.number_between '1','5'}",
			"genv.order.customer_id.matching":  "customer.key",
			"global.throttle.ms":               "2000",
			"global.history.records.max":       "1000",
		},
	}
	for name, props := range examples {
		t.Run(name, func(t *testing.T) {
			if errs := Validate(props); len(errs) > 0 {
				t.Fatal(errs)
			}
			g := newGen(t, props, 1)
			now := fixedNow
			produced := map[string]int{}
			for i := 0; i < 40; i++ {
				r, wait, err := g.Poll(now)
				if err != nil {
					t.Fatal(err)
				}
				if r == nil {
					now = now.Add(wait)
					continue
				}
				produced[r.Topic]++
			}
			for _, tp := range g.Topics() {
				if produced[tp] < 5 {
					t.Fatalf("produced %v", produced)
				}
			}
		})
	}
}

func TestConfigParsing(t *testing.T) {
	c, err := ParseConfig(map[string]string{
		"genkp.t.with":                      "#{Internet.uuid}",
		"genk.u.id.with":                    "#{Internet.uuid}",
		"genv.u.a->b->c.with":               "x",
		"genv.u.a->d.matching":              "t.key",
		"genvp.t.sometimes.with":            "#{Name.firstName}",
		"genvp.t.sometimes.matching":        "u.value.a->b->c",
		"attrvp.t.matching.rate":            "0.25",
		"attrvp.t.null.rate":                "0.5",
		"topic.t.throttle.ms":               "10",
		"topic.t.history.records.max":       "7",
		"topic.t.tombstone.rate":            "0.1",
		"topic.t.records.exactly":           "100",
		"global.matching.rate":              "0.3",
		"global.throttle.ms":                "0",
		"name":                              "ignored",
		"transforms":                        "ignored",
		"topic.creation.default.partitions": "3",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Topics) != 2 || c.Topics[0].Name != "t" || c.Topics[1].Name != "u" {
		t.Fatalf("%+v", c.Topics)
	}
	tt, u := c.Topics[0], c.Topics[1]
	if *tt.ThrottleMs != 10 || *tt.HistoryRecordsMax != 7 || tt.TombstoneRate != 0.1 || tt.RecordsExactly != 100 {
		t.Fatalf("%+v", tt)
	}
	p := tt.Value.Primitive
	if !p.Sometimes || p.With == nil || p.Match.String() != "u.value.a->b->c" || *p.MatchingRate != 0.25 || p.NullRate != 0.5 {
		t.Fatalf("%+v", p)
	}
	if len(u.Value.Fields) != 2 || strings.Join(u.Value.Fields[0].Path, "/") != "a/b/c" || u.Key.Fields[0].Path[0] != "id" {
		t.Fatalf("%+v", u.Value.Fields)
	}
	if strings.Join(u.Dependencies, ",") != "t" || strings.Join(tt.Dependencies, ",") != "u" || len(tt.hard) != 0 {
		t.Fatal(u.Dependencies, tt.Dependencies)
	}
	if *c.MatchingRate != 0.3 || *c.ThrottleMs != 0 {
		t.Fatal(c)
	}
}

// TestConfigErrors: each problem is reported against its key, with a
// message saying what is wrong, and never as a panic.
func TestConfigErrors(t *testing.T) {
	base := func(extra map[string]string) map[string]string {
		m := map[string]string{"genkp.ok.with": "#{Internet.uuid}"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name  string
		props map[string]string
		key   string
		want  string
	}{
		{"unknown provider", base(map[string]string{"genv.t.x.with": "#{Foo.bar}"}), "genv.t.x.with", `unknown Java-Faker provider "Foo"`},
		{"unknown method", base(map[string]string{"genvp.t.with": "id-#{Internet.uuidz}"}), "genvp.t.with", `unknown method "uuidz"`},
		{"bad args", base(map[string]string{"genv.t.x.with": "#{number.number_between '1'}"}), "genv.t.x.with", "takes 2 argument(s)"},
		{"no generators", map[string]string{"connector.class": ConnectorClass}, "genkp/genk/genv/genvp", "no generators"},
		{"short genv", base(map[string]string{"genv.t.with": "x"}), "genv.t.with", "expected genv.<topic>.<attribute>.with"},
		{"short genkp", base(map[string]string{"genkp.t": "x"}), "genkp.t", "expected genkp.<topic>.with"},
		{"bad generator", base(map[string]string{"genv.t.x.using": "x"}), "genv.t.x.using", `unrecognised generator "using"`},
		{"bad matching", base(map[string]string{"genv.t.x.matching": "ok.keys"}), "genv.t.x.matching", "expected <topic>.key"},
		{"matching unknown topic", base(map[string]string{"genv.t.x.matching": "nope.key"}), "genv.t.x.matching", "no generator is defined for topic nope"},
		{"matching missing attr", base(map[string]string{"genv.t.x.matching": "ok.key.id"}), "genv.t.x.matching", "no generator is defined for attribute id"},
		{"matching primitive of complex", map[string]string{"genk.a.id.with": "x", "genvp.b.matching": "a.key"}, "genvp.b.matching", "not a primitive"},
		{"matching missing value", base(map[string]string{"genvp.t.matching": "ok.value"}), "genvp.t.matching", "has no value generator"},
		{"self match", base(map[string]string{"genkp.t.matching": "t.key", "genv.t.x.with": "x"}), "genkp.t.matching", "can never produce"},
		{"cycle", map[string]string{"genkp.a.matching": "b.key", "genkp.b.matching": "a.key"}, "genkp.a.matching", "can never produce"},
		{"primitive and complex", base(map[string]string{"genvp.ok.with": "x", "genv.ok.f.with": "y"}), "genvp.ok.with", "both primitive and complex"},
		{"with and matching", base(map[string]string{"genv.t.x.with": "a", "genv.t.x.matching": "ok.key"}), "genv.t.x.matching", "incompatible generators"},
		{"sometimes alone", base(map[string]string{"genv.t.x.sometimes.with": "a"}), "genv.t.x.sometimes.with", "incompatible generators"},
		{"leaf and parent", base(map[string]string{"genv.t.a.with": "a", "genv.t.a->b.with": "b"}), "genv.t.a->b.with", "nested in a"},
		{"topic without generators", base(map[string]string{"topic.t.throttle.ms": "5"}), "topic.t.throttle.ms", "no generators are specified"},
		{"bad topic setting", base(map[string]string{"topic.ok.speed": "5"}), "topic.ok.speed", "unrecognised topic configuration"},
		{"topic named creation", base(map[string]string{"topic.creation.throttle.ms": "5"}), "topic.creation.throttle.ms", "no generators are specified"},
		{"bad throttle", base(map[string]string{"topic.ok.throttle.ms": "-1"}), "topic.ok.throttle.ms", "at least 0"},
		{"bad history", base(map[string]string{"global.history.records.max": "0"}), "global.history.records.max", "at least 1"},
		{"bad rate", base(map[string]string{"topic.ok.tombstone.rate": "1.5"}), "topic.ok.tombstone.rate", "between 0 and 1"},
		{"bad global", base(map[string]string{"global.speed": "1"}), "global.speed", "unrecognised global configuration"},
		{"attr without gen", base(map[string]string{"attrv.ok.x.null.rate": "0.1"}), "attrv.ok.x.null.rate", "no generator"},
		{"attr unknown attr", base(map[string]string{"genv.ok.y.with": "1", "attrv.ok.x.null.rate": "0.1"}), "attrv.ok.x.null.rate", "no generator creates that attribute"},
		{"attr primitive on complex", base(map[string]string{"genv.ok.y.with": "1", "attrvp.ok.null.rate": "0.1"}), "attrvp.ok.null.rate", "primitive attribute configuration"},
		{"attr complex on primitive", base(map[string]string{"attrk.ok.y.null.rate": "0.1"}), "attrk.ok.y.null.rate", "complex attribute configuration"},
		{"attr bad setting", base(map[string]string{"attrkp.ok.odd.rate": "0.1"}), "attrkp.ok.odd.rate", "unrecognised attribute configuration"},
		{"strings flag", base(map[string]string{StringsKey: "yes"}), StringsKey, "true or false"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := Validate(tc.props)
			found := false
			for _, err := range errs {
				var ce *ConfigError
				if !errors.As(err, &ce) {
					t.Fatalf("%T is not a *ConfigError", err)
				}
				if ce.Key == tc.key && strings.Contains(ce.Message, tc.want) {
					found = true
				}
			}
			if !found {
				t.Fatalf("errors %v; want one for key %s containing %q", errs, tc.key, tc.want)
			}
			if _, err := New(tc.props, 1); err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

// FuzzValidate: no configuration key or value makes parsing panic.
func FuzzValidate(f *testing.F) {
	f.Add("genv.t.a->b.sometimes.matching", "x.value.a->b", "genkp.x.with", "#{Internet.uuid}")
	f.Add("attrv..x.null.rate", "2", "topic.t", "")
	f.Add("genk.t.->.with", "#{", "genvp.t.sometimes", "a.b.c.d")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		props := map[string]string{k1: v1, k2: v2}
		if errs := Validate(props); len(errs) == 0 {
			g, err := New(props, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, tp := range g.Topics() {
				_, _ = g.Record(tp)
			}
		}
	})
}
