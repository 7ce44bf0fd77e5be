package kinesis

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Wire types for AWS JSON 1.1. AWS's front end (Coral) reports a member of
// the wrong JSON type as a SerializationException with Java class names in
// the message; clients and their tests see those texts, so the types below
// decode themselves and fail with the same words.

// jsonKind names a raw JSON value's type the way Coral's messages do.
func jsonKind(raw []byte) string {
	switch raw[0] {
	case 't', 'f':
		return "class java.lang.Boolean"
	case '"':
		return "class java.lang.String"
	case '[':
		return "list"
	case '{':
		return "map"
	default:
		return "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
	}
}

// typeError builds the SerializationException for a value of the wrong
// JSON type, where target is Coral's name for the expected type.
func typeError(raw []byte, target string) error {
	switch k := jsonKind(raw); k {
	case "list":
		return errSerialization("Start of list found where not expected")
	case "map":
		return errSerialization("Start of structure or map found where not expected.")
	default:
		return errSerialization(k + " can not be converted to " + target)
	}
}

// Int is a JSON integer member. Like AWS it floors fractions and clamps to
// the 32-bit range instead of rejecting them.
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(raw []byte) error {
	if jsonKind(raw) != "class com.amazon.coral.value.json.numbers.TruncatingBigNumber" {
		return typeError(raw, "an Integer")
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return errSerialization("Could not parse number " + string(raw))
	}
	f = math.Floor(f)
	switch {
	case f > math.MaxInt32:
		f = math.MaxInt32
	case f < math.MinInt32:
		f = math.MinInt32
	}
	*n = Int(f)
	return nil
}

// Str is a JSON string member; see Int for why it is not a plain string.
type Str string

// UnmarshalJSON implements json.Unmarshaler.
func (s *Str) UnmarshalJSON(raw []byte) error {
	if raw[0] != '"' {
		return typeError(raw, "an String")
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		*s = Str(raw[1 : len(raw)-1])
		return nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return errSerialization(err.Error())
	}
	*s = Str(v)
	return nil
}

// Bool is a JSON boolean member.
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bool) UnmarshalJSON(raw []byte) error {
	switch string(raw) {
	case "true":
		*b = true
		return nil
	case "false":
		*b = false
		return nil
	}
	if raw[0] == '"' {
		var v string
		_ = json.Unmarshal(raw, &v)
		return errSerialization("'" + strings.ToUpper(v) + "' can not be converted to an Boolean")
	}
	return typeError(raw, "an Boolean")
}

// Blob is binary data, base64 on the wire.
type Blob []byte

// UnmarshalJSON implements json.Unmarshaler with AWS's base64 checks.
func (b *Blob) UnmarshalJSON(raw []byte) error {
	if raw[0] != '"' {
		return typeError(raw, "a Blob")
	}
	enc := raw[1 : len(raw)-1]
	if bytes.IndexByte(enc, '\\') >= 0 {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return errSerialization(err.Error())
		}
		enc = []byte(s)
	}
	if len(enc)%4 != 0 {
		return errSerialization(fmt.Sprintf("'%s' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: %d", enc, len(enc)))
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	n, err := base64.StdEncoding.Strict().Decode(out, enc)
	if err != nil {
		for i, c := range enc {
			pad := c == '=' && (i < len(enc)-2 || (i == len(enc)-2 && enc[len(enc)-1] != '='))
			if pad || !(c == '=' || c == '+' || c == '/' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return errSerialization(fmt.Sprintf("'%s' can not be converted to a Blob: Invalid Base64 character: '%c'", enc, c))
			}
		}
		return errSerialization(fmt.Sprintf("'%s' can not be converted to a Blob: Invalid last non-pad Base64 character dectected", enc))
	}
	*b = out[:n]
	return nil
}

// Timestamp is a point in time, epoch seconds (with a fraction) on the wire.
type Timestamp struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *Timestamp) UnmarshalJSON(raw []byte) error {
	if jsonKind(raw) != "class com.amazon.coral.value.json.numbers.TruncatingBigNumber" {
		return typeError(raw, "milliseconds since epoch")
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return errSerialization("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to milliseconds since epoch")
	}
	ms := int64(math.Round(f * 1000))
	t.Time = time.UnixMilli(ms)
	return nil
}

// MarshalJSON writes epoch seconds with millisecond precision.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return appendEpoch(nil, t.Time), nil
}

func appendEpoch(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	b = strconv.AppendInt(b, ms/1000, 10)
	if r := ms % 1000; r != 0 {
		b = append(b, '.')
		b = append(b, byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return b
}

// structuralError maps encoding/json's complaint about a list, map or
// structure member of the wrong kind to Coral's message. Leaf members
// (Int, Str, Blob...) report their own errors; this covers the containers,
// without a second pass over the body.
func structuralError(e *json.UnmarshalTypeError) *Error {
	switch e.Type.Kind() {
	case reflect.Slice:
		if e.Value == "object" {
			return errSerialization("Start of structure or map found where not expected.")
		}
		return errSerialization("Expected list or null")
	case reflect.Map:
		if e.Value == "array" {
			return errSerialization("Start of list found where not expected")
		}
		return errSerialization("Expected map or null")
	case reflect.Struct:
		if e.Value == "array" {
			return errSerialization("Start of list found where not expected")
		}
		return errSerialization("Expected null")
	case reflect.String:
		switch e.Value {
		case "array":
			return errSerialization("Start of list found where not expected")
		case "object":
			return errSerialization("Start of structure or map found where not expected.")
		case "bool":
			return errSerialization("class java.lang.Boolean can not be converted to an String")
		}
		return errSerialization("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String")
	}
	return &Error{Type: "SerializationException", Status: http.StatusBadRequest}
}

// StrList is a JSON list of strings. Its elements' type errors are
// reported by structuralError.
type StrList []string

// StrMap is a JSON map of strings to strings, likewise.
type StrMap map[string]string
