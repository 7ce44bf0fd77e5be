package datagen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tributary-data/tributary/internal/connect"
)

// globalDef is the one definition of the generator's global settings:
// the connector's Config, which the runtime validates and documents, and
// what the parser reads them through. The generator keys themselves
// (genkp.<topic>.with, ...) are patterns the parser checks.
//
// An absent global.throttle.ms leaves topics unthrottled, although the
// MSK generator's default, shown here, is 500: Tributary has always
// behaved so, and pipelines may depend on it.
func globalDef() connect.ConfigDef {
	return connect.ConfigDef{
		{Name: "global.throttle.ms", Type: connect.ConfigLong, Default: "500", Validate: atLeast(0), Importance: connect.Medium, Group: "Generator", Order: 1, Width: connect.WidthShort,
			Documentation: "Milliseconds each topic waits between records, unless topic.<topic>.throttle.ms says otherwise."},
		{Name: "global.history.records.max", Type: connect.ConfigLong, Default: strconv.Itoa(DefaultHistoryRecordsMax), Validate: atLeast(1), Importance: connect.Low, Group: "Generator", Order: 2, Width: connect.WidthShort,
			Documentation: "How many generated records each topic remembers for .matching references."},
		{Name: "global.matching.rate", Type: connect.ConfigDouble, Default: strconv.FormatFloat(DefaultMatchingRate, 'g', -1, 64), Validate: rate, Importance: connect.Low, Group: "Generator", Order: 3, Width: connect.WidthShort,
			Documentation: "The chance that a field with .with and .matching takes a matched value rather than a generated one."},
		{Name: StringsKey, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Low, Group: "Generator", Order: 4, Width: connect.WidthShort,
			Documentation: "Tributary: write every generated value as a string, as the MSK generator does. false keeps numbers and booleans typed."},
	}
}

// topicDef is the definition of each topic's topic.<topic>.<name>
// settings, by <name>.
func topicDef() connect.ConfigDef {
	return connect.ConfigDef{
		{Name: "throttle.ms", Type: connect.ConfigLong, Validate: atLeast(0)},
		{Name: "history.records.max", Type: connect.ConfigLong, Validate: atLeast(1)},
		{Name: "tombstone.rate", Type: connect.ConfigDouble, Default: "0", Validate: rate},
		{Name: "records.exactly", Type: connect.ConfigLong, Default: "0", Validate: atLeast(1)},
	}
}

// attrDef is the definition of the attr*.<topic>[.<attribute>].<name>
// settings, by <name>.
func attrDef() connect.ConfigDef {
	return connect.ConfigDef{
		{Name: "null.rate", Type: connect.ConfigDouble, Default: "0", Validate: rate},
		{Name: "matching.rate", Type: connect.ConfigDouble, Validate: rate},
	}
}

// atLeast is the generator's check of a count: what it expects, which
// covers a value that is not an integer too.
func atLeast(min int64) func(string) string {
	return func(v string) string {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil || n < min {
			return fmt.Sprintf("expected an integer of at least %d", min)
		}
		return ""
	}
}

// rate is the generator's check of a probability.
func rate(v string) string {
	if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil || f < 0 || f > 1 {
		return "expected a rate between 0 and 1"
	}
	return ""
}

// read checks one value by its definition, reporting a problem against
// key in the generator's words, and returns the value read through the
// definition; false when the value is bad.
func (p *parser) read(k connect.ConfigKey, key, val string) (*connect.Settings, bool) {
	v, problems := connect.ConfigDef{k}.Parse(map[string]string{k.Name: val})
	for _, pr := range problems {
		expected := "expected true or false"
		if k.Validate != nil {
			expected = k.Validate(val)
		}
		p.errorf(key, "%s, got %q", expected, pr.Value)
	}
	return v, len(problems) == 0
}

// expected lists the names in a definition that begin with prefix,
// without it: "a, b or c".
func expected(def connect.ConfigDef, prefix string) string {
	var names []string
	for _, n := range def.Names() {
		if rest, ok := strings.CutPrefix(n, prefix); ok {
			names = append(names, rest)
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
