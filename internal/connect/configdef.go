package connect

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
	// Validate checks a present value, already parsed as Type; it
	// returns Kafka's message for a bad one ("Value must be at least
	// 1"), or "".
	Validate func(value string) string
	// Recommended lists the values a UI may offer.
	Recommended []string
}

// ConfigDef is an ordered set of settings.
type ConfigDef []ConfigKey
