package converter

import (
	"github.com/tributary-data/tributary/internal/connect/data"
)

// ByteArrayConverter is Kafka's
// org.apache.kafka.connect.converters.ByteArrayConverter: bytes pass
// through untouched, for connectors that move opaque payloads.
type ByteArrayConverter struct{ isKey bool }

// NewByteArrayConverter builds a ByteArrayConverter; it has no
// properties.
func NewByteArrayConverter(_ map[string]string, isKey bool) (*ByteArrayConverter, error) {
	return &ByteArrayConverter{isKey: isKey}, nil
}

// FromConnectData returns value, which must be []byte (or nil), under a
// BYTES schema or none.
func (c *ByteArrayConverter) FromConnectData(_ string, schema *data.Schema, value any) ([]byte, error) {
	if schema != nil && schema.Type != data.TypeBytes {
		return nil, dataErr("Invalid schema type for ByteArrayConverter: %s", schema.Type)
	}
	if value == nil {
		return nil, nil
	}
	b, ok := value.([]byte)
	if !ok {
		return nil, dataErr("ByteArrayConverter is not compatible with objects of type %T", value)
	}
	return b, nil
}

// ToConnectData returns b under an optional BYTES schema.
func (c *ByteArrayConverter) ToConnectData(_ string, b []byte) (*data.Schema, any, error) {
	schema := &data.Schema{Type: data.TypeBytes, Optional: true}
	if b == nil {
		return schema, nil, nil
	}
	return schema, b, nil
}

var _ Converter = (*ByteArrayConverter)(nil)
