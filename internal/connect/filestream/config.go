package filestream

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tributary-data/tributary/internal/connect"
)

// SourceClass is Kafka's class name for the file source; configurations
// name it in connector.class and the runtime maps it to NewSource.
const SourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"

// SinkClass is Kafka's class name for the file sink; configurations name
// it in connector.class and the runtime maps it to NewSink.
const SinkClass = "org.apache.kafka.connect.file.FileStreamSinkConnector"

// The settings, with Kafka's names and default.
const (
	fileConfig       = "file"
	topicConfig      = "topic"
	batchSizeConfig  = "batch.size"
	defaultBatchSize = 2000
)

// The offset keys of Kafka's FileStreamSourceTask.
const (
	filenameField = "filename"
	positionField = "position"
)

// FileSettings names the key that holds the file, so that a worker with
// allowed paths (a server) confines it to its directories.
func (c *sourceConnector) FileSettings() []string { return []string{fileConfig} }

// FileSettings names the key that holds the file, as for the source.
func (c *sinkConnector) FileSettings() []string { return []string{fileConfig} }

// singleTopicMessage is what Kafka 1.1 to 3.2 said of a "topic" naming
// more than one topic.
const singleTopicMessage = "'topic' in FileStreamSourceConnector configuration requires definition of a single topic"

// sourceConfigDef is Kafka's FileStreamSourceConnector.CONFIG_DEF. Kafka
// defines these keys without group, order or display name, which its REST
// API shows as order -1 and width NONE.
func sourceConfigDef() connect.ConfigDef {
	return connect.ConfigDef{
		{Name: fileConfig, Type: connect.ConfigString, Default: "", Importance: connect.High, Order: -1, Width: connect.WidthNone,
			Documentation: "Source filename. If not specified, the standard input will be used"},
		{Name: topicConfig, Type: connect.ConfigString, Required: true, Importance: connect.High, Order: -1, Width: connect.WidthNone,
			Documentation: "The topic to publish data to", Validate: validateTopic},
		{Name: batchSizeConfig, Type: connect.ConfigInt, Default: strconv.Itoa(defaultBatchSize), Importance: connect.Low, Order: -1, Width: connect.WidthNone,
			Documentation: "The maximum number of records the source task can read from the file each time it is polled"},
	}
}

// sinkConfigDef is Kafka's FileStreamSinkConnector.CONFIG_DEF.
func sinkConfigDef() connect.ConfigDef {
	return connect.ConfigDef{
		{Name: fileConfig, Type: connect.ConfigString, Default: "", Importance: connect.High, Order: -1, Width: connect.WidthNone,
			Documentation: "Destination filename. If not specified, the standard output will be used"},
	}
}

// validateTopic is Kafka's NonEmptyString on the trimmed value (Kafka
// trims STRING settings), plus the single-topic check of older Kafka.
func validateTopic(v string) string {
	t := strings.TrimSpace(v)
	if t == "" {
		return "String must be non-empty"
	}
	if strings.Contains(t, ",") {
		return singleTopicMessage
	}
	return ""
}

// sourceConfig is a parsed source configuration.
type sourceConfig struct {
	file      string // "" for standard input
	topic     string
	batchSize int
}

// parseSourceConfig parses props through the definition, as Kafka's
// AbstractConfig would, with its messages, so that Start fails as a Kafka
// connector's start does: on the first problem.
func parseSourceConfig(props map[string]string) (sourceConfig, error) {
	v, errs := sourceConfigDef().Parse(props)
	if len(errs) > 0 {
		return sourceConfig{}, errs[0]
	}
	c := sourceConfig{file: v.String(fileConfig), topic: v.String(topicConfig), batchSize: v.Int(batchSizeConfig)}
	if c.batchSize < 1 {
		// Kafka checks the batch size only after adding a record, so
		// anything below 1 returns one record per poll.
		c.batchSize = 1
	}
	return c, nil
}

// parseSinkFile returns the sink's file setting, "" for standard output.
func parseSinkFile(props map[string]string) string {
	return strings.TrimSpace(props[fileConfig])
}

// kafkaError is an error worded exactly as Kafka words it, capitals and
// all, so that users and tests see Kafka's messages.
type kafkaError struct{ msg string }

func (e *kafkaError) Error() string { return e.msg }

func kafkaErrorf(format string, args ...any) error {
	return &kafkaError{msg: fmt.Sprintf(format, args...)}
}

// copyProps returns a copy of props, so that task configurations do not
// share a map with the connector or each other.
func copyProps(props map[string]string) map[string]string {
	c := make(map[string]string, len(props))
	for k, v := range props {
		c[k] = v
	}
	return c
}
