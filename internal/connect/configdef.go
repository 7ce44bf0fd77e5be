package connect

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ConfigType is a setting's type, with Kafka's ConfigDef.Type names as
// the REST API shows them.
type ConfigType string

// The setting types.
const (
	ConfigBoolean  ConfigType = "BOOLEAN"
	ConfigString   ConfigType = "STRING"
	ConfigInt      ConfigType = "INT"
	ConfigShort    ConfigType = "SHORT"
	ConfigLong     ConfigType = "LONG"
	ConfigDouble   ConfigType = "DOUBLE"
	ConfigList     ConfigType = "LIST"
	ConfigClass    ConfigType = "CLASS"
	ConfigPassword ConfigType = "PASSWORD"
)

// Importance and Width take Kafka's values: HIGH/MEDIUM/LOW and
// NONE/SHORT/MEDIUM/LONG.
type (
	Importance string
	Width      string
)

// The importances and widths.
const (
	High   Importance = "HIGH"
	Medium Importance = "MEDIUM"
	Low    Importance = "LOW"

	WidthNone   Width = "NONE"
	WidthShort  Width = "SHORT"
	WidthMedium Width = "MEDIUM"
	WidthLong   Width = "LONG"
)

// ConfigKey describes one setting, as Kafka's ConfigDef.ConfigKey does.
type ConfigKey struct {
	Name string
	Type ConfigType
	// Default is the value used when the setting is absent, in its
	// string form. Required settings have none.
	Default       string
	Required      bool
	Importance    Importance
	Documentation string
	Group         string
	Order         int
	Width         Width
	DisplayName   string
	Dependents    []string
	// Validate checks a present value once it parses as Type; it
	// returns the reason a value is bad ("Value must be at least 1",
	// Kafka's wording unless the connector has its own), or "".
	Validate func(value string) string
	// Recommended lists the values a UI may offer.
	Recommended []string
}

// ConfigDef is an ordered set of settings.
type ConfigDef []ConfigKey

// Check parses a present value as the setting's type and runs its
// validator, in that order, as Kafka's ConfigDef.parseValue does: a value
// of the wrong type is reported as such, and only a well-typed one is
// shown to the validator. It returns nil for a good value.
func (k ConfigKey) Check(value string) *ConfigError {
	if reason := k.Type.typeProblem(value); reason != "" {
		return &ConfigError{Key: k, Value: value, Problem: WrongType, Reason: reason}
	}
	if k.Validate != nil {
		if reason := k.Validate(value); reason != "" {
			return &ConfigError{Key: k, Value: value, Problem: Invalid, Reason: reason}
		}
	}
	return nil
}

// typeProblem returns Kafka's reason for a value that does not parse as
// t (ConfigDef.parseType), or "". Kafka trims every value first; SHORT
// values are checked against INT's range, as Tributary always has.
func (t ConfigType) typeProblem(value string) string {
	v := strings.TrimSpace(value)
	var err error
	switch t {
	case ConfigInt, ConfigShort:
		_, err = strconv.ParseInt(v, 10, 32)
	case ConfigLong:
		_, err = strconv.ParseInt(v, 10, 64)
	case ConfigDouble:
		_, err = strconv.ParseFloat(v, 64)
	case ConfigBoolean:
		if _, ok := parseBool(v); !ok {
			return "Expected value to be either true or false"
		}
	}
	if err != nil {
		return "Not a number of type " + string(t)
	}
	return ""
}

// parseBool is Kafka's BOOLEAN: true or false in any case.
func parseBool(v string) (b, ok bool) {
	switch {
	case strings.EqualFold(v, "true"):
		return true, true
	case strings.EqualFold(v, "false"):
		return false, true
	}
	return false, false
}

// Problem says what is wrong with a setting.
type Problem int

// The problems a definition finds on its own.
const (
	// Missing is a required setting that is absent.
	Missing Problem = iota
	// WrongType is a value that does not parse as the setting's type.
	WrongType
	// Invalid is a value the setting's validator refuses.
	Invalid
)

// ConfigError is one setting's problem, Kafka's ConfigException. Its
// Error is Kafka's text, with a password's value hidden; a connector
// that words its errors otherwise (Maxwell, the data generator) words
// them from the fields.
type ConfigError struct {
	Key     ConfigKey
	Value   string // as given; "" when Missing
	Problem Problem
	// Reason is Kafka's reason (Missing has none), or the validator's.
	Reason string
}

func (e *ConfigError) Error() string {
	if e.Problem == Missing {
		return fmt.Sprintf("Missing required configuration \"%s\" which has no default value.", e.Key.Name)
	}
	return fmt.Sprintf("Invalid value %s for configuration %s: %s", e.Key.shown(e.Value), e.Key.Name, e.Reason)
}

// hiddenPassword is how Kafka shows a PASSWORD setting's value in
// validate replies and messages (Password.toString). Kafka returns
// configurations themselves (GET /connectors/{name}/config, create and
// info replies) as written, passwords included, and so does Tributary:
// config providers are how a secret stays out of them.
const hiddenPassword = "[hidden]"

// shown is a value as replies and messages may show it.
func (k ConfigKey) shown(value string) string {
	if k.Type == ConfigPassword {
		return hiddenPassword
	}
	return value
}

// Lookup finds a setting by name.
func (d ConfigDef) Lookup(name string) (ConfigKey, bool) {
	for _, k := range d {
		if k.Name == name {
			return k, true
		}
	}
	return ConfigKey{}, false
}

// Names lists the settings' names, in order.
func (d ConfigDef) Names() []string {
	out := make([]string, len(d))
	for i, k := range d {
		out[i] = k.Name
	}
	return out
}

// Parse reads props by the definition, as Kafka's AbstractConfig does:
// each present value is checked (Check), each absent one takes its
// default, and a required one without a value is Missing. It returns the
// settings with every problem, in the definition's order; keys the
// definition does not declare are left alone. A setting with a problem
// reads as its default.
func (d ConfigDef) Parse(props map[string]string) (*Settings, []*ConfigError) {
	s := &Settings{def: d, values: make(map[string]string, len(d)), set: map[string]bool{}}
	var errs []*ConfigError
	for _, k := range d {
		v, ok := props[k.Name]
		switch {
		case !ok && k.Required:
			errs = append(errs, &ConfigError{Key: k, Problem: Missing})
		case !ok:
			s.values[k.Name] = k.Default
		default:
			if err := k.Check(v); err != nil {
				errs = append(errs, err)
				s.values[k.Name] = k.Default
				continue
			}
			s.values[k.Name], s.set[k.Name] = v, true
		}
	}
	return s, errs
}

// Settings are a configuration read by its definition, with typed
// getters as Kafka's AbstractConfig has. A getter for a name the
// definition does not declare panics, as Kafka's throws: it is a
// mistake in the program, not in the configuration.
type Settings struct {
	def    ConfigDef
	values map[string]string
	set    map[string]bool
}

func (s *Settings) value(name string, types ...ConfigType) string {
	k, ok := s.def.Lookup(name)
	if !ok {
		panic("connect: unknown configuration " + name)
	}
	if len(types) > 0 && !slices.Contains(types, k.Type) {
		panic(fmt.Sprintf("connect: configuration %s is %s, not %s", name, k.Type, types[0]))
	}
	return s.values[name]
}

// IsSet reports whether the configuration gave the setting a good value,
// rather than leaving it to its default.
func (s *Settings) IsSet(name string) bool {
	s.value(name)
	return s.set[name]
}

// String returns a setting's value, trimmed as Kafka trims every value
// but a password.
func (s *Settings) String(name string) string {
	return strings.TrimSpace(s.value(name))
}

// Password returns a PASSWORD setting as written: unlike Kafka, which
// trims it, Tributary keeps a password's spaces, which may be part of it.
func (s *Settings) Password(name string) string { return s.value(name, ConfigPassword) }

// Raw returns a setting as written, untrimmed, for a syntax of its own
// that its validator reads the same way (Debezium's escaped regular
// expression lists).
func (s *Settings) Raw(name string) string { return s.value(name) }

// Int returns an INT or SHORT setting.
func (s *Settings) Int(name string) int {
	n, _ := strconv.ParseInt(strings.TrimSpace(s.value(name, ConfigInt, ConfigShort)), 10, 32)
	return int(n)
}

// Long returns a LONG setting.
func (s *Settings) Long(name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(s.value(name, ConfigLong)), 10, 64)
	return n
}

// Double returns a DOUBLE setting.
func (s *Settings) Double(name string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(s.value(name, ConfigDouble)), 64)
	return f
}

// Bool returns a BOOLEAN setting.
func (s *Settings) Bool(name string) bool {
	b, _ := parseBool(strings.TrimSpace(s.value(name, ConfigBoolean)))
	return b
}

// List returns a LIST setting: comma-separated, each entry trimmed,
// empty entries dropped.
func (s *Settings) List(name string) []string { return splitList(s.value(name, ConfigList)) }

// AtLeast is Kafka's Range.atLeast for INT and LONG settings.
func AtLeast(min int64) func(string) string {
	return func(v string) string {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err == nil && n < min {
			return fmt.Sprintf("Value must be at least %d", min)
		}
		return ""
	}
}

// OneOf is Kafka's ValidString.in, matched case-insensitively as the
// runtime reads these settings.
func OneOf(values ...string) func(string) string {
	return OneOfSaying("String must be one of: ", values...)
}

// OneOfSaying is OneOf in a connector's own words: reason, then the
// values.
func OneOfSaying(reason string, values ...string) func(string) string {
	return func(v string) string {
		for _, a := range values {
			if strings.EqualFold(strings.TrimSpace(v), a) {
				return ""
			}
		}
		return reason + strings.Join(values, ", ")
	}
}

// Errors returns a validate reply's messages by key, for the keys that
// have any.
func (c *ConfigInfos) Errors() map[string][]string {
	out := map[string][]string{}
	for _, ci := range c.Configs {
		if len(ci.Value.Errors) > 0 {
			out[ci.Value.Name] = append(out[ci.Value.Name], ci.Value.Errors...)
		}
	}
	return out
}
