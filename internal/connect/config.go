package connect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tributary-data/tributary/internal/connect/converter"
	"github.com/tributary-data/tributary/internal/connect/transform"
)

// The settings every connector has, with Kafka's names and groups
// (ConnectorConfig, SourceConnectorConfig, SinkConnectorConfig).
const (
	cfgName               = "name"
	cfgClass              = "connector.class"
	cfgTasksMax           = "tasks.max"
	cfgKeyConverter       = "key.converter"
	cfgValueConverter     = "value.converter"
	cfgHeaderConverter    = "header.converter"
	cfgTransforms         = "transforms"
	cfgPredicates         = "predicates"
	cfgRetryTimeout       = "errors.retry.timeout"
	cfgRetryDelayMax      = "errors.retry.delay.max.ms"
	cfgTolerance          = "errors.tolerance"
	cfgLogEnable          = "errors.log.enable"
	cfgLogMessages        = "errors.log.include.messages"
	cfgTopics             = "topics"
	cfgTopicsRegex        = "topics.regex"
	cfgDLQTopic           = "errors.deadletterqueue.topic.name"
	cfgDLQContextHeaders  = "errors.deadletterqueue.context.headers.enable"
	cfgTopicCreationParts = "topic.creation.default.partitions"
	cfgEnvelope           = "record.envelope"
)

// commonDef is the definition of the settings every connector of type t
// has.
func commonDef(t ConnectorType) ConfigDef {
	def := ConfigDef{
		{Name: cfgName, Type: ConfigString, Required: true, Importance: High, Group: "Common", Order: 1, Width: WidthMedium, DisplayName: "Connector name",
			Documentation: "Globally unique name to use for this connector."},
		{Name: cfgClass, Type: ConfigString, Required: true, Importance: High, Group: "Common", Order: 2, Width: WidthLong, DisplayName: "Connector class",
			Documentation: "Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector. If the connector is org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify this full name,  or use \"FileStreamSink\" or \"FileStreamSinkConnector\" to make the configuration a bit shorter"},
		{Name: cfgTasksMax, Type: ConfigInt, Default: "1", Importance: High, Group: "Common", Order: 3, Width: WidthShort, DisplayName: "Tasks max",
			Documentation: "Maximum number of tasks to use for this connector.", Validate: AtLeast(1)},
		{Name: cfgKeyConverter, Type: ConfigClass, Importance: Low, Group: "Common", Order: 5, Width: WidthShort, DisplayName: "Key converter class",
			Documentation: "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the keys in messages written to or read from Kafka, and since this is independent of connectors it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro.",
			Recommended:   converterClasses()},
		{Name: cfgValueConverter, Type: ConfigClass, Importance: Low, Group: "Common", Order: 6, Width: WidthShort, DisplayName: "Value converter class",
			Documentation: "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the values in messages written to or read from Kafka, and since this is independent of connectors it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro.",
			Recommended:   converterClasses()},
		{Name: cfgHeaderConverter, Type: ConfigClass, Importance: Low, Group: "Common", Order: 7, Width: WidthShort, DisplayName: "Header converter class",
			Documentation: "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. Tributary keeps headers beside the record in their Connect form, so this setting is accepted and not needed."},
		{Name: cfgTransforms, Type: ConfigList, Default: "", Importance: Low, Group: "Transforms", Order: 1, Width: WidthLong, DisplayName: "Transforms",
			Documentation: "Aliases for the transformations to be applied to records."},
		{Name: cfgPredicates, Type: ConfigList, Default: "", Importance: Low, Group: "Predicates", Order: 1, Width: WidthLong, DisplayName: "Predicates",
			Documentation: "Aliases for the predicates used by transformations."},
		{Name: cfgRetryTimeout, Type: ConfigLong, Default: "0", Importance: Medium, Group: "Error Handling", Order: 1, Width: WidthMedium, DisplayName: "Retry Timeout for Errors",
			Documentation: "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries."},
		{Name: cfgRetryDelayMax, Type: ConfigLong, Default: "60000", Importance: Medium, Group: "Error Handling", Order: 2, Width: WidthMedium, DisplayName: "Maximum Delay Between Retries for Errors",
			Documentation: "The maximum duration in milliseconds between consecutive retry attempts. Jitter will be added to the delay once this limit is reached to prevent thundering herd issues.", Validate: AtLeast(1)},
		{Name: cfgTolerance, Type: ConfigString, Default: "none", Importance: Medium, Group: "Error Handling", Order: 3, Width: WidthShort, DisplayName: "Error Tolerance",
			Documentation: "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records.",
			Validate:      OneOf("none", "all"), Recommended: []string{"none", "all"}},
		{Name: cfgLogEnable, Type: ConfigBoolean, Default: "false", Importance: Medium, Group: "Error Handling", Order: 4, Width: WidthShort, DisplayName: "Log Errors",
			Documentation: "If true, write each error and the details of the failed operation and problematic record to the Connect application log. This is 'false' by default, so that only errors that are not tolerated are reported."},
		{Name: cfgLogMessages, Type: ConfigBoolean, Default: "false", Importance: Medium, Group: "Error Handling", Order: 5, Width: WidthShort, DisplayName: "Log Error Details",
			Documentation: "Whether to include in the log the Connect record that resulted in a failure. For sink records, the topic, partition, offset, and timestamp will be logged. For source records, the key and value (and their schemas), all headers, and the timestamp, Kafka topic, Kafka partition, source partition, and source offset will be logged. This is 'false' by default, which will prevent record keys, values, and headers from being written to log files."},
		{Name: cfgEnvelope, Type: ConfigBoolean, Default: "false", Importance: Low, Group: "Common", Order: 8, Width: WidthShort, DisplayName: "Record envelope",
			Documentation: "Tributary: carry the key, headers and timestamp in a JSON envelope in the record data, for streams reached through the Kinesis API, which has no place for them. Off by default, because plain consumers then see the envelope instead of the value."},
	}
	switch t {
	case TypeSource:
		def = append(def, ConfigKey{Name: cfgTopicCreationParts, Type: ConfigInt, Default: "1", Importance: Low, Group: "Topic Creation", Order: 1, Width: WidthShort,
			DisplayName: "Shards of new streams", Validate: AtLeast(1),
			Documentation: "The number of shards of a stream this connector creates because a record names a stream that does not exist."})
	case TypeSink:
		def = append(def,
			ConfigKey{Name: cfgTopics, Type: ConfigList, Default: "", Importance: High, Group: "Common", Order: 4, Width: WidthLong, DisplayName: "Topics",
				Documentation: "List of topics to consume, separated by commas"},
			ConfigKey{Name: cfgTopicsRegex, Type: ConfigString, Default: "", Importance: High, Group: "Common", Order: 4, Width: WidthLong, DisplayName: "Topics regex",
				Documentation: "Regular expression giving topics to consume. Under the hood, the regex is compiled to a <code>java.util.regex.Pattern</code>. Only one of topics or topics.regex should be specified."},
			ConfigKey{Name: cfgDLQTopic, Type: ConfigString, Default: "", Importance: Medium, Group: "Error Handling", Order: 6, Width: WidthMedium, DisplayName: "Dead Letter Queue Topic Name",
				Documentation: "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters. The topic name is blank by default, which means that no messages are to be recorded in the DLQ."},
			ConfigKey{Name: cfgDLQContextHeaders, Type: ConfigBoolean, Default: "false", Importance: Medium, Group: "Error Handling", Order: 8, Width: WidthMedium, DisplayName: "Enable Error Context Headers",
				Documentation: "If true, add headers containing error context to the messages written to the dead letter queue. To avoid clashing with headers from the original record, all error context header keys, all error context header keys will start with <code>__connect.errors.</code>"},
		)
	}
	return def
}

func converterClasses() []string {
	return []string{converter.JSONConverterClass, converter.StringConverterClass, converter.ByteArrayConverterClass}
}

// ConfigValidator is implemented by connectors whose settings need checks
// beyond each key's type and validator, such as the data generator's
// expression keys. It returns messages by configuration key.
type ConfigValidator interface {
	ValidateConfig(props map[string]string) map[string][]string
}

// validation accumulates a validate reply.
type validation struct {
	infos  ConfigInfos
	byName map[string]int
	// deferred reports keys whose values hold config provider
	// placeholders: their types are checked once resolved, at start.
	deferred func(key string) bool
}

func (v *validation) add(k ConfigKey, props map[string]string) {
	ci := ConfigInfo{Definition: k.info(), Value: ConfigValueInfo{Name: k.Name, Errors: []string{}, Visible: true,
		RecommendedValues: append([]string{}, k.Recommended...)}}
	if val, ok := props[k.Name]; ok {
		s := k.shown(val)
		ci.Value.Value = &s
		if v.deferred != nil && v.deferred(k.Name) {
			// Checked when resolved.
		} else if err := k.Check(val); err != nil {
			ci.Value.Errors = append(ci.Value.Errors, err.Error())
		}
	} else if k.Required {
		ci.Value.Errors = append(ci.Value.Errors, (&ConfigError{Key: k, Problem: Missing}).Error())
	} else if ci.Definition.DefaultValue != nil {
		s := *ci.Definition.DefaultValue
		ci.Value.Value = &s
	}
	if ci.Definition.Group != nil && !contains(v.infos.Groups, *ci.Definition.Group) {
		v.infos.Groups = append(v.infos.Groups, *ci.Definition.Group)
	}
	v.byName[k.Name] = len(v.infos.Configs)
	v.infos.Configs = append(v.infos.Configs, ci)
}

// fail attaches an error to key, adding an entry for keys that have no
// definition (transform settings, generator expressions).
func (v *validation) fail(key, msg string) {
	i, ok := v.byName[key]
	if !ok {
		v.add(ConfigKey{Name: key, Type: ConfigString, Importance: Low}, nil)
		i = v.byName[key]
	}
	v.infos.Configs[i].Value.Errors = append(v.infos.Configs[i].Value.Errors, msg)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// validate checks a connector configuration as Kafka's
// AbstractHerder.validateConnectorConfig does: the common settings, the
// converters, transforms and predicates, and the connector's own.
//
// deferred, when not nil, names the keys whose values are config provider
// placeholders, which are not type-checked here.
func (r *Registry) validate(ctx context.Context, props map[string]string, deferred func(string) bool) (*ConfigInfos, error) {
	class := props[cfgClass]
	if strings.TrimSpace(class) == "" {
		return nil, errorf(http.StatusBadRequest, "Connector config %s contains no connector type", formatProps(props))
	}
	full, c, err := r.newConnector(class)
	if err != nil {
		return nil, err
	}
	v := &validation{infos: ConfigInfos{Name: full, Groups: []string{}}, byName: map[string]int{}, deferred: deferred}
	t := connectorType(c)
	for _, k := range commonDef(t) {
		v.add(k, props)
	}
	for _, k := range c.Config() {
		v.add(k, props)
	}
	for _, side := range []string{cfgKeyConverter, cfgValueConverter} {
		if cls := props[side]; strings.TrimSpace(cls) != "" {
			if _, err := converter.New(cls, withPrefix(props, side+"."), side == cfgKeyConverter); err != nil {
				v.fail(side, fmt.Sprintf("Invalid value %s for configuration %s: %v", cls, side, err))
			}
		}
	}
	if _, err := transform.FromConfig(props); err != nil {
		key := cfgTransforms
		var ce *transform.ConfigError
		if errors.As(err, &ce) && ce.Key != "" {
			key = ce.Key
		}
		v.fail(key, err.Error())
	}
	if t == TypeSink {
		topics, regex := strings.TrimSpace(props[cfgTopics]), strings.TrimSpace(props[cfgTopicsRegex])
		switch {
		case topics != "" && regex != "":
			v.fail(cfgTopics, "topics and topics.regex are mutually exclusive options, but both are set.")
		case topics == "" && regex == "":
			v.fail(cfgTopics, "Must configure one of topics or topics.regex")
		case regex != "":
			if _, err := regexp.Compile(regex); err != nil {
				v.fail(cfgTopicsRegex, fmt.Sprintf("Invalid value %s for configuration %s: %v", regex, cfgTopicsRegex, err))
			}
		}
		if dlq := strings.TrimSpace(props[cfgDLQTopic]); dlq != "" && contains(splitList(topics), dlq) {
			v.fail(cfgDLQTopic, fmt.Sprintf("The DLQ topic '%s' may not be included in the list of topics ('%s=%s') consumed by the connector", dlq, cfgTopics, topics))
		}
	}
	if cv, ok := c.(ConfigValidator); ok {
		msgs := cv.ValidateConfig(props)
		keys := make([]string, 0, len(msgs))
		for k := range msgs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, m := range msgs[k] {
				v.fail(k, m)
			}
		}
	}
	for _, ci := range v.infos.Configs {
		v.infos.ErrorCount += len(ci.Value.Errors)
	}
	return &v.infos, nil
}

// Validate checks a connector configuration as the validate endpoint
// does, without a worker: no config providers, no file confinement, no
// task limit. A connector's tests use it to see the reply its one
// definition produces.
func (r *Registry) Validate(ctx context.Context, props map[string]string) (*ConfigInfos, error) {
	return r.validate(ctx, props, nil)
}

// invalidConfig is Kafka's BadRequestException for a create or update
// with an invalid configuration.
func invalidConfig(infos *ConfigInfos) *Error {
	var b strings.Builder
	fmt.Fprintf(&b, "Connector configuration is invalid and contains the following %d error(s):\n", infos.ErrorCount)
	for _, ci := range infos.Configs {
		for _, e := range ci.Value.Errors {
			b.WriteString(e)
			b.WriteByte('\n')
		}
	}
	b.WriteString("You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`")
	return &Error{Code: http.StatusBadRequest, Message: b.String()}
}

// formatProps renders a configuration as Java's Map.toString does, for
// error texts that quote one.
func formatProps(props map[string]string) string {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + props[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// withPrefix returns the settings under prefix, with the prefix removed.
func withPrefix(props map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range props {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = v
		}
	}
	return out
}

// splitList parses a LIST setting: comma-separated, trimmed, empty
// entries dropped.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// setting returns a connector setting or its common default.
func setting(props map[string]string, key, def string) string {
	if v, ok := props[key]; ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func intSetting(props map[string]string, key string, def int64) int64 {
	n, err := strconv.ParseInt(setting(props, key, ""), 10, 64)
	if err != nil {
		return def
	}
	return n
}

func boolSetting(props map[string]string, key string) bool {
	return strings.EqualFold(setting(props, key, "false"), "true")
}
