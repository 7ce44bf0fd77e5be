package datagen

import (
	"testing"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/connecttest"
)

// TestValidateReply: the validate endpoint's errors for generator
// configurations. A global setting's problem is reported once, by the
// runtime from the one definition (Config), in the generator's words;
// the pattern keys' problems come from ValidateConfig.
func TestValidateReply(t *testing.T) {
	cases := []connecttest.ValidateCase{
		{Name: "valid", Want: map[string][]string{}},
		{Name: "unknown expression", Set: map[string]string{"genkp.t.with": "#{Nope.nothing}"}, Want: map[string][]string{
			"genkp.t.with": {`expression #{Nope.nothing}: unknown Java-Faker provider "Nope"`}}},
		{Name: "throttle below 0", Set: map[string]string{"global.throttle.ms": "-1"}, Want: map[string][]string{
			"global.throttle.ms": {"Invalid value -1 for configuration global.throttle.ms: expected an integer of at least 0"}}},
		{Name: "throttle not a number", Set: map[string]string{"global.throttle.ms": "abc"}, Want: map[string][]string{
			"global.throttle.ms": {"Invalid value abc for configuration global.throttle.ms: Not a number of type LONG"}}},
		{Name: "matching rate above 1", Set: map[string]string{"global.matching.rate": "1.5"}, Want: map[string][]string{
			"global.matching.rate": {"Invalid value 1.5 for configuration global.matching.rate: expected a rate between 0 and 1"}}},
		{Name: "strings flag", Set: map[string]string{StringsKey: "yes"}, Want: map[string][]string{
			StringsKey: {"Invalid value yes for configuration tributary.datagen.strings: Expected value to be either true or false"}}},
		{Name: "topic setting", Set: map[string]string{"topic.t.records.exactly": "0"}, Want: map[string][]string{
			"topic.t.records.exactly": {`expected an integer of at least 1, got "0"`}}},
		{Name: "unknown global", Set: map[string]string{"global.speed": "1"}, Want: map[string][]string{
			"global.speed": {`unrecognised global configuration "speed": expected throttle.ms, history.records.max or matching.rate`}}},
	}
	connecttest.Validate(t, ConnectorClass, func() connect.Connector { return NewConnector() },
		map[string]string{"connector.class": ConnectorClass, "name": "gen", "genkp.t.with": "#{Internet.uuid}"}, cases)
}

// TestParseReadsDefinition: the parser reads the global, topic and
// attribute settings through their definitions: set values typed, absent
// ones nil or zero, bad ones in the generator's words.
func TestParseReadsDefinition(t *testing.T) {
	c, err := ParseConfig(map[string]string{"genkp.t.with": "x", "genv.t.a.with": "y",
		"global.matching.rate": " 0.25 ", "topic.t.records.exactly": "7", "topic.t.tombstone.rate": "0.5",
		"attrv.t.a.null.rate": "0.2", StringsKey: "FALSE", "tributary.other": "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	tc := c.Topics[0]
	if c.ThrottleMs != nil || c.HistoryRecordsMax != nil || *c.MatchingRate != 0.25 || c.Strings ||
		tc.RecordsExactly != 7 || tc.TombstoneRate != 0.5 || tc.ThrottleMs != nil || tc.Value.Fields[0].NullRate != 0.2 || tc.Value.Fields[0].MatchingRate != nil {
		t.Errorf("config %+v, topic %+v", c, tc)
	}
	for _, bad := range []struct{ key, val, want string }{
		{"global.history.records.max", "0", `global.history.records.max: expected an integer of at least 1, got "0"`},
		{"topic.t.throttle.ms", "soon", `topic.t.throttle.ms: expected an integer of at least 0, got "soon"`},
		{"attrv.t.a.matching.rate", "2", `attrv.t.a.matching.rate: expected a rate between 0 and 1, got "2"`},
		{StringsKey, "1", `tributary.datagen.strings: expected true or false, got "1"`},
		{"attrv.t.a.odd", "1", `attrv.t.a.odd: unrecognised attribute configuration "odd": expected null.rate or matching.rate`},
	} {
		_, err := ParseConfig(map[string]string{"genkp.t.with": "x", "genv.t.a.with": "y", bad.key: bad.val})
		if err == nil || err.Error() != bad.want {
			t.Errorf("%s=%s: %v, want %s", bad.key, bad.val, err, bad.want)
		}
	}
}
