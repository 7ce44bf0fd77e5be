package converter

import (
	"bytes"
	"container/list"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// JsonConverter's properties, as Kafka names them.
const (
	SchemasEnableConfig          = "schemas.enable"
	SchemasCacheSizeConfig       = "schemas.cache.size"
	DecimalFormatConfig          = "decimal.format"
	ReplaceNullWithDefaultConfig = "replace.null.with.default"

	// DecimalFormatBase64 writes a Decimal as the base64 of its unscaled
	// value's two's complement bytes; DecimalFormatNumeric as a JSON
	// number with every digit.
	DecimalFormatBase64  = "BASE64"
	DecimalFormatNumeric = "NUMERIC"
)

const millisPerDay = 24 * 60 * 60 * 1000

// The JSON names of the schema types, and the envelope's fields.
var jsonTypeNames = map[data.Type]string{
	data.TypeBoolean: "boolean", data.TypeInt8: "int8", data.TypeInt16: "int16",
	data.TypeInt32: "int32", data.TypeInt64: "int64", data.TypeFloat32: "float",
	data.TypeFloat64: "double", data.TypeBytes: "bytes", data.TypeString: "string",
	data.TypeArray: "array", data.TypeMap: "map", data.TypeStruct: "struct",
}

// JSONConverter is Kafka's org.apache.kafka.connect.json.JsonConverter.
// With schemas.enable (the default) every message is an envelope
// {"schema":...,"payload":...} carrying the Connect schema, so a reader
// recovers the exact types; without it messages are plain JSON and read
// back schemaless.
type JSONConverter struct {
	isKey                  bool
	schemasEnabled         bool
	decimalNumeric         bool
	replaceNullWithDefault bool
	// cache maps a schema's JSON to the schema parsed from it. Reading
	// a topic sees the same few schemas over and over; parsing one
	// (defaults included) costs more than the lookup. Schemas it
	// returns are shared between records and must not be modified.
	cache *schemaCache
}

// NewJSONConverter builds a JsonConverter from its properties:
// schemas.enable (default true), schemas.cache.size (default 1000),
// decimal.format (BASE64, the default, or NUMERIC) and
// replace.null.with.default (default true).
func NewJSONConverter(props map[string]string, isKey bool) (*JSONConverter, error) {
	c := &JSONConverter{isKey: isKey}
	var err error
	if c.schemasEnabled, err = boolProp(props, SchemasEnableConfig, true); err != nil {
		return nil, err
	}
	size, err := intProp(props, SchemasCacheSizeConfig, 1000)
	if err != nil {
		return nil, err
	}
	format, err := enumProp(props, DecimalFormatConfig, DecimalFormatBase64, DecimalFormatBase64, DecimalFormatNumeric)
	if err != nil {
		return nil, err
	}
	c.decimalNumeric = format == DecimalFormatNumeric
	if c.replaceNullWithDefault, err = boolProp(props, ReplaceNullWithDefaultConfig, true); err != nil {
		return nil, err
	}
	c.cache = newSchemaCache(size)
	return c, nil
}

// FromConnectData serializes value. No schema and no value is a
// tombstone and gives nil bytes; a null value with a schema is written
// (as a null payload, or "null" without envelope) because the schema
// says it may be null.
func (c *JSONConverter) FromConnectData(_ string, schema *data.Schema, value any) ([]byte, error) {
	if schema == nil && value == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	if c.schemasEnabled {
		buf.WriteString(`{"schema":`)
		if err := c.writeSchema(&buf, schema, nil); err != nil {
			return nil, err
		}
		buf.WriteString(`,"payload":`)
	}
	if err := c.writeValue(&buf, schema, value); err != nil {
		return nil, err
	}
	if c.schemasEnabled {
		buf.WriteByte('}')
	}
	return buf.Bytes(), nil
}

// ToConnectData parses b. Nil bytes (a tombstone) give no schema and a
// nil value.
func (c *JSONConverter) ToConnectData(_ string, b []byte) (*data.Schema, any, error) {
	if b == nil {
		return nil, nil, nil
	}
	root, err := parseJSON(b)
	if err != nil {
		return nil, nil, &DataError{Msg: "Converting byte[] to Kafka Connect data failed due to serialization error", Err: err}
	}
	if !c.schemasEnabled {
		if _, ok := root.(missingNode); ok {
			return nil, nil, nil
		}
		v, err := c.toConnect(nil, root)
		if err != nil {
			return nil, nil, err
		}
		return nil, v, nil
	}
	env, ok := root.(map[string]any)
	_, hasSchema := env["schema"]
	_, hasPayload := env["payload"]
	if !ok || len(env) != 2 || !hasSchema || !hasPayload {
		return nil, nil, dataErr("JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields." +
			" If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.")
	}
	schema, err := c.cachedSchema(env["schema"])
	if err != nil {
		return nil, nil, err
	}
	v, err := c.toConnect(schema, env["payload"])
	if err != nil {
		return nil, nil, err
	}
	return schema, v, nil
}

// missingNode is Jackson's MissingNode: what empty input parses to.
type missingNode struct{}

// parseJSON parses one JSON document into nil, bool, string, json.Number
// (so that no digit is lost), []any and map[string]any. Empty input is
// missingNode, as with Jackson.
func parseJSON(b []byte) (any, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return missingNode{}, nil
		}
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

// nodeType names a parsed JSON value as Jackson's JsonNodeType does, for
// error messages.
func nodeType(v any) string {
	switch v.(type) {
	case nil:
		return "NULL"
	case missingNode:
		return "MISSING"
	case bool:
		return "BOOLEAN"
	case string:
		return "STRING"
	case json.Number:
		return "NUMBER"
	case []any:
		return "ARRAY"
	case map[string]any:
		return "OBJECT"
	}
	return "POJO"
}

// --- Connect schema → JSON ---

// writeSchema writes s as Kafka's asJsonSchema does, key order included:
// type, items / keys, values / fields, optional, name, version, doc,
// parameters, default — and, for a struct field, the field's name last.
func (c *JSONConverter) writeSchema(buf *bytes.Buffer, s *data.Schema, fieldName *string) error {
	if s == nil {
		if fieldName != nil {
			return dataErr("struct field %q has no schema", *fieldName)
		}
		buf.WriteString("null")
		return nil
	}
	name, ok := jsonTypeNames[s.Type]
	if !ok {
		return dataErr("Couldn't translate unsupported schema type %s.", s.Type)
	}
	buf.WriteString(`{"type":"`)
	buf.WriteString(name)
	buf.WriteByte('"')
	if err := c.writeSchemaChildren(buf, s); err != nil {
		return err
	}
	buf.WriteString(`,"optional":`)
	buf.WriteString(strconv.FormatBool(s.Optional))
	if s.Name != "" {
		buf.WriteString(`,"name":`)
		writeJSONString(buf, s.Name)
	}
	if s.Version != 0 {
		buf.WriteString(`,"version":`)
		buf.WriteString(strconv.Itoa(s.Version))
	}
	if s.Doc != "" {
		buf.WriteString(`,"doc":`)
		writeJSONString(buf, s.Doc)
	}
	if s.Parameters != nil {
		buf.WriteString(`,"parameters":`)
		writeParameters(buf, s.Parameters)
	}
	if s.Default != nil {
		buf.WriteString(`,"default":`)
		if err := c.writeValue(buf, s, s.Default); err != nil {
			return err
		}
	}
	if fieldName != nil {
		buf.WriteString(`,"field":`)
		writeJSONString(buf, *fieldName)
	}
	buf.WriteByte('}')
	return nil
}

// writeSchemaChildren writes the schemas inside a container's: an
// array's items, a map's keys and values, a struct's fields.
func (c *JSONConverter) writeSchemaChildren(buf *bytes.Buffer, s *data.Schema) error {
	switch s.Type {
	case data.TypeArray:
		buf.WriteString(`,"items":`)
		return c.writeSchema(buf, s.Elem, nil)
	case data.TypeMap:
		buf.WriteString(`,"keys":`)
		if err := c.writeSchema(buf, s.Key, nil); err != nil {
			return err
		}
		buf.WriteString(`,"values":`)
		return c.writeSchema(buf, s.Value, nil)
	case data.TypeStruct:
		buf.WriteString(`,"fields":[`)
		for i := range s.Fields {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := c.writeSchema(buf, s.Fields[i].Schema, &s.Fields[i].Name); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	}
	return nil
}

// writeParameters writes a schema's parameters as an object, sorted by
// key.
func writeParameters(buf *bytes.Buffer, params map[string]string) {
	buf.WriteByte('{')
	for i, k := range sortedKeys(params) {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeJSONString(buf, k)
		buf.WriteByte(':')
		writeJSONString(buf, params[k])
	}
	buf.WriteByte('}')
}

// --- JSON → Connect schema ---

// cachedSchema parses an envelope's schema, reusing the result for a
// schema seen before. The key is the schema's canonical JSON, so
// formatting and key order do not defeat the cache.
func (c *JSONConverter) cachedSchema(node any) (*data.Schema, error) {
	if node == nil {
		return nil, nil
	}
	if c.cache.max <= 0 {
		return c.asConnectSchema(node)
	}
	kb, err := json.Marshal(node)
	if err != nil {
		return c.asConnectSchema(node)
	}
	key := string(kb)
	if s := c.cache.get(key); s != nil {
		return s, nil
	}
	s, err := c.asConnectSchema(node)
	if err != nil {
		return nil, err
	}
	c.cache.put(key, s)
	return s, nil
}

// schemaTypes are the schema types by their JSON names.
var schemaTypes = func() map[string]data.Type {
	m := make(map[string]data.Type, len(jsonTypeNames))
	for t, name := range jsonTypeNames {
		m[name] = t
	}
	return m
}()

// asConnectSchema reads a schema written by Kafka's asJsonSchema. Like
// Kafka it tolerates absent or mistyped optional, name, version and doc.
func (c *JSONConverter) asConnectSchema(node any) (*data.Schema, error) {
	if node == nil {
		return nil, nil
	}
	obj, _ := node.(map[string]any)
	typ, ok := obj["type"].(string)
	if !ok {
		return nil, dataErr("Schema must contain 'type' field")
	}
	s := &data.Schema{Type: schemaTypes[typ]}
	var err error
	switch s.Type {
	case "":
		return nil, dataErr("Unknown schema type: %s", typ)
	case data.TypeArray:
		err = c.readArraySchema(s, obj)
	case data.TypeMap:
		err = c.readMapSchema(s, obj)
	case data.TypeStruct:
		err = c.readStructSchema(s, obj)
	}
	if err != nil {
		return nil, err
	}
	if err := readSchemaAttributes(s, obj); err != nil {
		return nil, err
	}
	if def, ok := obj["default"]; ok {
		v, err := c.toConnect(s, def)
		if err != nil {
			return nil, err
		}
		s.Default = v
	}
	return s, nil
}

func (c *JSONConverter) readArraySchema(s *data.Schema, obj map[string]any) error {
	items := obj["items"]
	if items == nil {
		return dataErr("Array schema did not specify the element type")
	}
	elem, err := c.asConnectSchema(items)
	s.Elem = elem
	return err
}

func (c *JSONConverter) readMapSchema(s *data.Schema, obj map[string]any) error {
	keys, ok := obj["keys"]
	if !ok {
		return dataErr("Map schema did not specify the key type")
	}
	values, ok := obj["values"]
	if !ok {
		return dataErr("Map schema did not specify the value type")
	}
	var err error
	if s.Key, err = c.asConnectSchema(keys); err != nil {
		return err
	}
	if s.Value, err = c.asConnectSchema(values); err != nil {
		return err
	}
	if s.Key == nil {
		return dataErr("keySchema cannot be null.")
	}
	if s.Value == nil {
		return dataErr("valueSchema cannot be null.")
	}
	return nil
}

func (c *JSONConverter) readStructSchema(s *data.Schema, obj map[string]any) error {
	fields, ok := obj["fields"].([]any)
	if !ok {
		return dataErr("Struct schema's \"fields\" argument is not an array.")
	}
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		fobj, _ := f.(map[string]any)
		name, ok := fobj["field"].(string)
		if !ok {
			return dataErr("Struct schema's field name not specified properly")
		}
		if name == "" {
			return dataErr("fieldName cannot be null.")
		}
		if seen[name] {
			return dataErr("Cannot create field because of field name duplication %s", name)
		}
		seen[name] = true
		fs, err := c.asConnectSchema(fobj)
		if err != nil {
			return err
		}
		s.Fields = append(s.Fields, data.Field{Name: name, Index: len(s.Fields), Schema: fs})
	}
	return nil
}

// readSchemaAttributes reads optional, name, version, doc and
// parameters, tolerating absent or mistyped ones but for parameters
// that are not strings.
func readSchemaAttributes(s *data.Schema, obj map[string]any) error {
	s.Optional, _ = obj["optional"].(bool)
	s.Name, _ = obj["name"].(string)
	if n, ok := obj["version"].(json.Number); ok && isIntegralLiteral(string(n)) {
		if v, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			s.Version = int(int32(v)) // Java's intValue()
		}
	}
	s.Doc, _ = obj["doc"].(string)
	params, ok := obj["parameters"].(map[string]any)
	if !ok || len(params) == 0 {
		return nil
	}
	s.Parameters = make(map[string]string, len(params))
	for k, v := range params {
		str, ok := v.(string)
		if !ok {
			return dataErr("Schema parameters must have string values.")
		}
		s.Parameters[k] = str
	}
	return nil
}

// --- JSON → Connect value ---

// toConnect converts a parsed JSON value as Kafka's convertToConnect
// does: typed by s, or, without a schema, as what JSON holds, integers
// as int64 and other numbers as float64.
func (c *JSONConverter) toConnect(s *data.Schema, v any) (any, error) {
	if s == nil {
		return schemaless(v)
	}
	if v == nil {
		switch {
		case s.Default != nil && c.replaceNullWithDefault:
			return s.Default, nil // already converted when the schema was read
		case s.Optional:
			return nil, nil
		}
		return nil, dataErr("Invalid null value for required %s field", s.Type)
	}
	switch s.Name {
	case data.DecimalName:
		return toDecimal(s, v)
	case data.DateName:
		return toDate(v)
	case data.TimeName:
		return toTime(v)
	case data.TimestampName:
		return toTimestamp(v)
	}
	switch s.Type {
	case data.TypeArray:
		return c.toArray(s, v)
	case data.TypeMap:
		return c.toMap(s, v)
	case data.TypeStruct:
		return c.toStruct(s, v)
	}
	return toPrimitive(s, v)
}

// toDate reads a Date: days since the epoch.
func toDate(v any) (any, error) {
	days, ok := integralNode(v, 32)
	if !ok {
		return nil, dataErr("Invalid type for Date, underlying representation should be integer but was %s", nodeType(v))
	}
	return time.UnixMilli(days * millisPerDay).UTC(), nil
}

// toTime reads a Time: milliseconds since midnight.
func toTime(v any) (any, error) {
	ms, ok := integralNode(v, 32)
	if !ok {
		return nil, dataErr("Invalid type for Time, underlying representation should be integer but was %s", nodeType(v))
	}
	if ms < 0 || ms > millisPerDay {
		return nil, dataErr("Time values must use number of milliseconds greater than 0 and less than 86400000")
	}
	return time.UnixMilli(ms).UTC(), nil
}

// toTimestamp reads a Timestamp: milliseconds since the epoch.
func toTimestamp(v any) (any, error) {
	n, ok := v.(json.Number)
	if !ok || !isIntegralLiteral(string(n)) {
		return nil, dataErr("Invalid type for Timestamp, underlying representation should be integral but was %s", nodeType(v))
	}
	ms, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return nil, dataErr("Timestamp %s is out of range for int64 milliseconds", n)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// integralNode reads an integer literal that fits in bits.
func integralNode(v any, bits int) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok || !isIntegralLiteral(string(n)) {
		return 0, false
	}
	x, err := strconv.ParseInt(string(n), 10, bits)
	return x, err == nil
}

// toPrimitive reads a value of a primitive schema type.
func toPrimitive(s *data.Schema, v any) (any, error) {
	switch s.Type {
	case data.TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, mismatch(s, "boolean", v)
		}
		return b, nil
	case data.TypeInt8:
		n, err := toInt(s, v, 8)
		return int8(n), err
	case data.TypeInt16:
		n, err := toInt(s, v, 16)
		return int16(n), err
	case data.TypeInt32:
		n, err := toInt(s, v, 32)
		return int32(n), err
	case data.TypeInt64:
		return toInt(s, v, 64)
	case data.TypeFloat32:
		f, err := toFloat(s, v, 32)
		return float32(f), err
	case data.TypeFloat64:
		return toFloat(s, v, 64)
	case data.TypeString:
		str, ok := v.(string)
		if !ok {
			return nil, mismatch(s, "string", v)
		}
		return str, nil
	case data.TypeBytes:
		str, ok := v.(string)
		if !ok {
			return nil, mismatch(s, "base64 string", v)
		}
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return nil, &DataError{Msg: "Invalid bytes field", Err: err}
		}
		return b, nil
	}
	return nil, dataErr("Unknown schema type: %s", s.Type)
}

func (c *JSONConverter) toArray(s *data.Schema, v any) (any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, dataErr("Arrays should be encoded as JSON arrays, but found %s", nodeType(v))
	}
	out := make([]any, len(arr))
	for i, e := range arr {
		x, err := c.toConnect(s.Elem, e)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func (c *JSONConverter) toStruct(s *data.Schema, v any) (any, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, dataErr("Structs should be encoded as JSON objects, but found %s", nodeType(v))
	}
	st := data.NewStruct(s)
	for _, f := range s.Fields {
		x, err := c.toConnect(f.Schema, obj[f.Name])
		if err != nil {
			return nil, err
		}
		if err := st.Put(f.Name, x); err != nil {
			return nil, &DataError{Msg: "Invalid struct value", Err: err}
		}
	}
	return st, nil
}

func (c *JSONConverter) toMap(s *data.Schema, v any) (any, error) {
	if s.Key == nil {
		return nil, dataErr("Map schema did not specify the key type")
	}
	out := make(map[any]any)
	if s.Key.Type == data.TypeString {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, dataErr("Maps with string fields should be encoded as JSON objects, but found %s", nodeType(v))
		}
		for k, e := range obj {
			x, err := c.toConnect(s.Value, e)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, dataErr("Maps with non-string fields should be encoded as JSON array of tuples, but found %s", nodeType(v))
	}
	for _, e := range arr {
		pair, ok := e.([]any)
		if !ok {
			return nil, dataErr("Found invalid map entry instead of array tuple: %s", nodeType(e))
		}
		if len(pair) != 2 {
			return nil, dataErr("Found invalid map entry, expected length 2 but found :%d", len(pair))
		}
		k, err := c.toConnect(s.Key, pair[0])
		if err != nil {
			return nil, err
		}
		if k != nil && !reflect.TypeOf(k).Comparable() {
			// Java maps hash any key; Go maps cannot hold slices or maps.
			return nil, dataErr("map keys of schema type %s (Go %T) cannot be held in a Go map", s.Key.Type, k)
		}
		x, err := c.toConnect(s.Value, pair[1])
		if err != nil {
			return nil, err
		}
		out[k] = x
	}
	return out, nil
}

// schemaless converts JSON without a schema: objects to map[string]any,
// integers to int64, other numbers to float64. Integers beyond int64,
// which Kafka silently truncates, become exact Decimals of scale 0.
func schemaless(v any) (any, error) {
	switch x := v.(type) {
	case nil, missingNode:
		return nil, nil
	case bool, string:
		return x, nil
	case json.Number:
		lit := string(x)
		if isIntegralLiteral(lit) {
			if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
				return n, nil
			}
			u, ok := new(big.Int).SetString(lit, 10)
			if !ok {
				return nil, dataErr("invalid number %q", lit)
			}
			return data.Decimal{Unscaled: u, Scale: 0}, nil
		}
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, dataErr("invalid number %q", lit)
		}
		return f, nil // out of range: ±Inf or 0, as Java's doubleValue gives
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := schemaless(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := schemaless(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	return nil, dataErr("Unknown schema type: %s", nodeType(v))
}

// isIntegralLiteral says whether a JSON number literal is what Jackson
// reads as an integer node: no fraction and no exponent.
func isIntegralLiteral(lit string) bool { return !strings.ContainsAny(lit, ".eE") }

func mismatch(s *data.Schema, want string, v any) error {
	return dataErr("Invalid value for %s schema: expected a JSON %s but found %s", s.Type, want, nodeType(v))
}

// toInt reads an integer of the given width. Kafka narrows silently
// (300 read as int8 is 44, 1.5 as int32 is 1); Tributary refuses values
// that do not fit, because that silently corrupts data.
func toInt(s *data.Schema, v any, bits int) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, mismatch(s, "number", v)
	}
	lit := string(n)
	if isIntegralLiteral(lit) {
		x, err := strconv.ParseInt(lit, 10, bits)
		if err != nil {
			return 0, dataErr("Invalid value %s for %s schema: out of range", lit, s.Type)
		}
		return x, nil
	}
	d, err := parseDecimal(lit)
	if err != nil {
		return 0, &DataError{Msg: "Invalid number", Err: err}
	}
	u := new(big.Int).Set(d.Unscaled)
	digits := len(u.String())
	switch {
	case u.Sign() == 0:
		return 0, nil
	case d.Scale > 0:
		if d.Scale > digits {
			return 0, dataErr("Invalid value %s for %s schema: not an integer", lit, s.Type)
		}
		var rem big.Int
		u.QuoRem(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil), &rem)
		if rem.Sign() != 0 {
			return 0, dataErr("Invalid value %s for %s schema: not an integer", lit, s.Type)
		}
	case d.Scale < 0:
		if -d.Scale+digits > 20 {
			return 0, dataErr("Invalid value %s for %s schema: out of range", lit, s.Type)
		}
		u.Mul(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-d.Scale)), nil))
	}
	if !u.IsInt64() {
		return 0, dataErr("Invalid value %s for %s schema: out of range", lit, s.Type)
	}
	x := u.Int64()
	if bits < 64 && (x < -(1<<(bits-1)) || x >= 1<<(bits-1)) {
		return 0, dataErr("Invalid value %s for %s schema: out of range", lit, s.Type)
	}
	return x, nil
}

// toFloat reads a float of the given width, rounding the literal once,
// directly to that width. It also accepts the strings Jackson writes for
// NaN and the infinities (Kafka itself reads those back as 0).
func toFloat(s *data.Schema, v any, bits int) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), bits)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, &DataError{Msg: "Invalid number", Err: err}
		}
		return f, nil
	case string:
		switch x {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
	}
	return 0, mismatch(s, "number", v)
}

// toDecimal reads a Decimal written in either format, whatever this
// converter's decimal.format: a number keeps its own digits and scale
// (as Kafka does: "1.5" under a scale 2 schema is 15 scale 1), a string is
// the base64 of the unscaled value at the schema's scale.
func toDecimal(s *data.Schema, v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		d, err := parseDecimal(string(x))
		if err != nil {
			return nil, &DataError{Msg: "Invalid number for Decimal field", Err: err}
		}
		return d, nil
	case string:
		b, err := base64.StdEncoding.DecodeString(x)
		if err != nil {
			return nil, &DataError{Msg: "Invalid bytes for Decimal field", Err: err}
		}
		scale, err := decimalScale(s)
		if err != nil {
			return nil, &DataError{Msg: "Invalid bytes for Decimal field", Err: err}
		}
		u, err := fromTwosComplement(b)
		if err != nil {
			return nil, &DataError{Msg: "Invalid bytes for Decimal field", Err: err}
		}
		return data.Decimal{Unscaled: u, Scale: scale}, nil
	}
	return nil, dataErr("Invalid type for Decimal, underlying representation should be numeric or bytes but was %s", nodeType(v))
}

// --- schema cache ---

// schemaCache is a small LRU map, Kafka's LRUCache: schemas.cache.size
// bounds it, 0 disables it.
type schemaCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used
	byKey map[string]*list.Element
}

type cacheEntry struct {
	key    string
	schema *data.Schema
}

func newSchemaCache(max int) *schemaCache {
	return &schemaCache{max: max, order: list.New(), byKey: make(map[string]*list.Element)}
}

func (c *schemaCache) get(key string) *data.Schema {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).schema
}

func (c *schemaCache) put(key string, s *data.Schema) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key: key, schema: s})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*cacheEntry).key)
	}
}

func (c *schemaCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

var _ Converter = (*JSONConverter)(nil)
