// Package converter holds Tributary's Kafka Connect converters: the code
// that turns a record's key or value (a data.Schema and a Go value) into
// the bytes stored on a stream, and back. It reimplements Apache Kafka's
// JsonConverter, StringConverter and ByteArrayConverter byte for byte, so
// that data written by Kafka Connect workers and by Tributary can be read
// by either, and so that existing connector configurations
// (key.converter=org.apache.kafka.connect.json.JsonConverter, ...) keep
// their meaning.
//
// Converters are safe for concurrent use: a worker shares one key
// converter and one value converter between all tasks of a connector.
//
// Where this differs from Kafka, and why:
//   - Schema parameters and map entries are written in sorted key order:
//     Go maps have no insertion order. Otherwise the JSON is the same.
//   - A zero Version and an empty Name or Doc count as unset, so
//     "version":0 cannot be written.
//   - Reading is strict where Kafka silently produces wrong data: a type
//     mismatch ("abc" as int32), out-of-range or fractional integers
//     (Kafka wraps or truncates them), trailing bytes and invalid UTF-8 are
//     errors.
//   - Schemaless integers beyond int64 become exact Decimals where Kafka
//     truncates them.
//   - NaN and the infinities read back as themselves where Kafka gives 0.
//   - StringConverter writes []byte as its bytes, not Java's "[B@…".
//   - The header converter methods and newer Kafka's schema.content are
//     not implemented.
package converter

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// Converter is Kafka Connect's org.apache.kafka.connect.storage.Converter.
//
// FromConnectData returns nil bytes for a tombstone (no schema and no
// value), which the runtime must store as a record without data, not as
// an empty record. ToConnectData given nil bytes returns a nil value.
type Converter interface {
	FromConnectData(topic string, schema *data.Schema, value any) ([]byte, error)
	ToConnectData(topic string, b []byte) (*data.Schema, any, error)
}

// Kafka's class names for the converters, as they appear in key.converter
// and value.converter.
const (
	JSONConverterClass      = "org.apache.kafka.connect.json.JsonConverter"
	StringConverterClass    = "org.apache.kafka.connect.storage.StringConverter"
	ByteArrayConverterClass = "org.apache.kafka.connect.converters.ByteArrayConverter"
)

// New builds the converter named by class (Kafka's fully qualified class
// name, or its simple name) from props, whose key.converter. or
// value.converter. prefix the caller has already stripped. isKey says
// whether it converts record keys; Kafka passes the same flag, and the
// bundled converters behave the same either way.
func New(class string, props map[string]string, isKey bool) (Converter, error) {
	switch strings.TrimSpace(class) {
	case JSONConverterClass, "JsonConverter":
		return NewJSONConverter(props, isKey)
	case StringConverterClass, "StringConverter":
		return NewStringConverter(props, isKey)
	case ByteArrayConverterClass, "ByteArrayConverter":
		return NewByteArrayConverter(props, isKey)
	}
	return nil, &ConfigError{Msg: fmt.Sprintf("unknown converter class %q: supported are %s, %s and %s",
		class, JSONConverterClass, StringConverterClass, ByteArrayConverterClass)}
}

// DataError is Kafka's DataException: a value that cannot be converted.
// The runtime tells it apart from other failures to apply errors.tolerance
// and the dead letter queue to it.
type DataError struct {
	Msg string
	Err error
}

func (e *DataError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *DataError) Unwrap() error { return e.Err }

func dataErr(format string, args ...any) error {
	return &DataError{Msg: fmt.Sprintf(format, args...)}
}

// ConfigError is Kafka's ConfigException: a bad converter property, found
// when the converter is built rather than when the first record arrives.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// boolProp reads a boolean property the way Kafka's ConfigDef does:
// "true" or "false" in any case, surrounding blanks ignored.
func boolProp(props map[string]string, name string, def bool) (bool, error) {
	v, ok := props[name]
	if !ok {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &ConfigError{Msg: fmt.Sprintf("Invalid value %s for configuration %s: Expected value to be either true or false", v, name)}
}

// intProp reads an INT property the way Kafka's ConfigDef does.
func intProp(props map[string]string, name string, def int) (int, error) {
	v, ok := props[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0, &ConfigError{Msg: fmt.Sprintf("Invalid value %s for configuration %s: Not a number of type INT", v, name)}
	}
	return int(n), nil
}

// enumProp reads a string property restricted, case-insensitively, to
// allowed; it returns the allowed spelling.
func enumProp(props map[string]string, name, def string, allowed ...string) (string, error) {
	v, ok := props[name]
	if !ok {
		return def, nil
	}
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSpace(v), a) {
			return a, nil
		}
	}
	return "", &ConfigError{Msg: fmt.Sprintf("Invalid value %s for configuration %s: String must be one of (case insensitive): %s",
		v, name, strings.Join(allowed, ", "))}
}

// sortedKeys returns m's keys in order. Go maps have no order, and Kafka's
// HashMap order is unspecified; sorting makes output reproducible.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
