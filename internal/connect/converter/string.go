package converter

import (
	"strings"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// StringConverter's property naming the character set, as Kafka names it.
const EncodingConfig = "converter.encoding"

// StringConverter is Kafka's org.apache.kafka.connect.storage.StringConverter:
// values are written as their string form and read back as optional
// strings, whatever schema they were written with.
type StringConverter struct {
	isKey bool
	// latin1 selects ISO-8859-1 instead of UTF-8 (the default).
	latin1 bool
	ascii  bool
}

// NewStringConverter builds a StringConverter. converter.encoding
// accepts the Java names of UTF-8 (the default), US-ASCII and ISO-8859-1
// in any case; other character sets are refused rather than silently
// written as UTF-8.
func NewStringConverter(props map[string]string, isKey bool) (*StringConverter, error) {
	c := &StringConverter{isKey: isKey}
	enc, ok := props[EncodingConfig]
	if !ok {
		return c, nil
	}
	switch strings.ToUpper(strings.TrimSpace(enc)) {
	case "UTF8", "UTF-8":
	case "ISO-8859-1", "ISO8859_1", "ISO8859-1", "LATIN1", "ISO-LATIN-1":
		c.latin1 = true
	case "US-ASCII", "ASCII":
		c.ascii = true
	default:
		return nil, &ConfigError{Msg: "Invalid value " + enc + " for configuration " + EncodingConfig +
			": unsupported encoding (supported: UTF-8, US-ASCII, ISO-8859-1)"}
	}
	return c, nil
}

// FromConnectData writes value's string form (Java's toString, which is
// what Kafka writes: 1.0 for a double one, Struct{a=1} for a struct).
// The schema is ignored. A nil value gives nil bytes.
func (c *StringConverter) FromConnectData(_ string, _ *data.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	s := javaString(value)
	if !c.latin1 && !c.ascii {
		return []byte(s), nil
	}
	// Java replaces characters the charset cannot hold with '?'.
	limit := rune(0xFF)
	if c.ascii {
		limit = 0x7F
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > limit {
			out = append(out, '?')
			continue
		}
		out = append(out, byte(r))
	}
	return out, nil
}

// ToConnectData returns b as an optional string (nil for nil bytes). In
// UTF-8 the bytes are kept as they are, even if not valid UTF-8, so that
// writing the string back reproduces them; Java would have replaced
// invalid sequences with U+FFFD.
func (c *StringConverter) ToConnectData(_ string, b []byte) (*data.Schema, any, error) {
	schema := &data.Schema{Type: data.TypeString, Optional: true}
	if b == nil {
		return schema, nil, nil
	}
	if !c.latin1 && !c.ascii {
		return schema, string(b), nil
	}
	var sb strings.Builder
	for _, x := range b {
		if c.ascii && x > 0x7F {
			sb.WriteRune('\uFFFD')
			continue
		}
		sb.WriteRune(rune(x))
	}
	return schema, sb.String(), nil
}

var _ Converter = (*StringConverter)(nil)
