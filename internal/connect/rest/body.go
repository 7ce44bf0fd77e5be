package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/tributary-data/tributary/internal/connect"
)

// Request bodies are decoded the way Kafka's Jackson provider maps them,
// because tools depend on what it tolerates: a string-valued map takes
// numbers and booleans as their text ({"tasks.max": 1} is "1"), unknown
// fields of an entity are rejected, and a body that cannot be mapped at
// all is a 500, since ConnectExceptionMapper has no better status for a
// Jackson exception. The texts name Kafka's types so that messages read
// the same as Kafka's.

// readBody reads r's body, bounded by maxBody. An empty body is Jackson's
// "No content" failure.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &restError{http.StatusRequestEntityTooLarge, "Request body is larger than " + strconv.Itoa(maxBody) + " bytes"}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, errBodyTimeout
		}
		return nil, badEntity("Reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, badEntity("No content to map due to end-of-input")
	}
	return b, nil
}

// errBodyTimeout answers a body that did not arrive within the server's
// read body timeout. Kafka's Jetty would fail the read with an idle
// timeout; 408 in Kafka's error JSON says the same in HTTP's terms, and
// tells a client that retrying may work. The connection is closed after.
var errBodyTimeout = &restError{http.StatusRequestTimeout, "Request body was not received within the timeout period"}

// jsonKind names the kind of a raw JSON value as Jackson's messages do.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "Object value"
	case '[':
		return "Array value"
	case '"':
		return "String value"
	case 't', 'f':
		return "Boolean value"
	case 'n':
		return "Null value"
	default:
		return "Number value"
	}
}

func syntaxError(err error) error {
	return badEntity("Unexpected character in request body: %v", err)
}

const stringMapType = "java.util.Map<java.lang.String,java.lang.String>"

// decodeObject decodes raw as a JSON object, keeping each value raw.
func decodeObject(raw []byte, typ string) (map[string]json.RawMessage, error) {
	if !json.Valid(raw) {
		var v any
		return nil, syntaxError(json.Unmarshal(raw, &v))
	}
	trimmed := bytes.TrimSpace(raw)
	if trimmed[0] != '{' {
		return nil, badEntity("Cannot deserialize value of type `%s` from %s", typ, jsonKind(trimmed))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &m); err != nil {
		return nil, syntaxError(err)
	}
	return m, nil
}

// stringValue converts one raw value of a string-valued map or field. A
// JSON null is reported as nil.
func stringValue(raw json.RawMessage) (*string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case string(raw) == "null":
		return nil, nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, syntaxError(err)
		}
		return &s, nil
	case raw[0] == '{' || raw[0] == '[':
		return nil, badEntity("Cannot deserialize value of type `java.lang.String` from %s", jsonKind(raw))
	default: // number or boolean: Jackson takes its text
		s := string(raw)
		return &s, nil
	}
}

// decodeStringMap decodes a flat configuration, keeping JSON nulls as nil
// (PATCH uses them to remove keys).
func decodeStringMap(raw []byte) (map[string]*string, error) {
	obj, err := decodeObject(raw, stringMapType)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*string, len(obj))
	for k, v := range obj {
		s, err := stringValue(v)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

// decodeConfig decodes a flat configuration for PUT and validate. A key
// set to null is treated as absent.
func decodeConfig(raw []byte) (map[string]string, error) {
	m, err := decodeStringMap(raw)
	if err != nil {
		return nil, err
	}
	return dropNulls(m), nil
}

func dropNulls(m map[string]*string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// unknownField is Jackson's failure for a field an entity does not have.
func unknownField(obj map[string]json.RawMessage, class string, known ...string) error {
	var extra []string
	for k := range obj {
		if !contains(known, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	quoted := make([]string, len(known))
	for i, k := range known {
		quoted[i] = strconv.Quote(k)
	}
	return badEntity("Unrecognized field %q (class %s), not marked as ignorable (%d known properties: %s])",
		extra[0], class, len(known), "["+strings.Join(quoted, ", "))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

const createRequestClass = "org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest"

// createRequest is Kafka's CreateConnectorRequest.
type createRequest struct {
	name    string
	config  map[string]string
	initial connect.TargetState // "" when not given
}

// initialStates maps the initial_state values to target states.
var initialStates = map[string]connect.TargetState{
	"RUNNING": connect.TargetStarted,
	"PAUSED":  connect.TargetPaused,
	"STOPPED": connect.TargetStopped,
}

func decodeCreateRequest(raw []byte) (*createRequest, error) {
	obj, err := decodeObject(raw, createRequestClass)
	if err != nil {
		return nil, err
	}
	if err := unknownField(obj, createRequestClass, "name", "config", "initial_state"); err != nil {
		return nil, err
	}
	req := &createRequest{config: map[string]string{}}
	if v, ok := obj["name"]; ok {
		s, err := stringValue(v)
		if err != nil {
			return nil, err
		}
		if s != nil {
			req.name = *s
		}
	}
	if v, ok := obj["config"]; ok && string(bytes.TrimSpace(v)) != "null" {
		if req.config, err = decodeConfig(v); err != nil {
			return nil, err
		}
	}
	if v, ok := obj["initial_state"]; ok {
		s, err := stringValue(v)
		if err != nil {
			return nil, err
		}
		if s != nil {
			ts, ok := initialStates[strings.ToUpper(*s)]
			if !ok {
				return nil, badEntity("Cannot construct instance of `%s$InitialState`, problem: No enum constant %s.InitialState.%s",
					createRequestClass, createRequestClass, strings.ToUpper(*s))
			}
			req.initial = ts
		}
	}
	return req, nil
}

const (
	offsetsClass = "org.apache.kafka.connect.runtime.rest.entities.ConnectorOffsets"
	offsetClass  = "org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset"
	anyMapType   = "java.util.Map<java.lang.String,?>"
)

// decodeOffsets decodes a KIP-875 alter request, {"offsets": [...]}. It
// returns nil offsets when the list is absent, null or empty; the caller
// reports that as Kafka's 400.
func decodeOffsets(raw []byte) ([]connect.PartitionOffset, error) {
	obj, err := decodeObject(raw, offsetsClass)
	if err != nil {
		return nil, err
	}
	if err := unknownField(obj, offsetsClass, "offsets"); err != nil {
		return nil, err
	}
	list, ok := obj["offsets"]
	if !ok || string(bytes.TrimSpace(list)) == "null" {
		return nil, nil
	}
	list = bytes.TrimSpace(list)
	if list[0] != '[' {
		return nil, badEntity("Cannot deserialize value of type `java.util.ArrayList<%s>` from %s", offsetClass, jsonKind(list))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(list, &items); err != nil {
		return nil, syntaxError(err)
	}
	out := make([]connect.PartitionOffset, 0, len(items))
	for _, item := range items {
		item = bytes.TrimSpace(item)
		if item[0] != '{' {
			return nil, badEntity("Cannot construct instance of `%s` from %s", offsetClass, jsonKind(item))
		}
		fields, err := decodeObject(item, offsetClass)
		if err != nil {
			return nil, err
		}
		if err := unknownField(fields, offsetClass, "partition", "offset"); err != nil {
			return nil, err
		}
		var po connect.PartitionOffset
		if po.Partition, err = anyMap(fields["partition"]); err != nil {
			return nil, err
		}
		if po.Offset, err = anyMap(fields["offset"]); err != nil {
			return nil, err
		}
		out = append(out, po)
	}
	return out, nil
}

// anyMap decodes a partition or offset object; absent or null is nil.
// Integers become int64 and other numbers float64, so that a Kafka-style
// offset such as 9007199254740993 keeps its precision.
func anyMap(raw json.RawMessage) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, badEntity("Cannot deserialize value of type `%s` from %s", anyMapType, jsonKind(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, syntaxError(err)
	}
	for k, v := range m {
		m[k] = numbers(v)
	}
	return m, nil
}

// numbers replaces the json.Numbers in v with int64 or float64.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}
