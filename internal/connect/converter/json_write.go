package converter

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strconv"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
	"github.com/tributary-data/tributary/internal/connect/javafmt"
)

// --- Connect value → JSON ---

// valueWriter writes a non-null value of one schema type (or logical
// type) as Kafka's convertToJson does; s is nil for a schemaless value.
type valueWriter func(c *JSONConverter, buf *bytes.Buffer, s *data.Schema, v any) error

// writeValue writes v as Kafka's convertToJson does: null by the
// schema's rules, a logical type by its name, any other value by its
// schema's type, or schemaless by its Go type.
func (c *JSONConverter) writeValue(buf *bytes.Buffer, s *data.Schema, v any) error {
	if v == nil {
		return c.writeNull(buf, s)
	}
	if s != nil {
		if w := logicalWriter(s.Name); w != nil {
			return w(c, buf, s, v)
		}
		return writeTyped(c, buf, s, s.Type, v)
	}
	if d, ok := v.(data.Decimal); ok {
		// Kafka has no schemaless decimal and fails here. Tributary
		// reads integers too big for int64 as Decimals (rather than
		// truncating them as Kafka does), so it writes them back as
		// the numbers they were.
		buf.WriteString(decimalString(d))
		return nil
	}
	typ, ok := schemalessType(v)
	if !ok {
		return dataErr("Go type %T does not have corresponding schema type.", v)
	}
	return writeTyped(c, buf, nil, typ, v)
}

// writeNull writes a null value: the schema's default when
// replace.null.with.default is on, null when the schema is optional
// (or absent), else an error.
func (c *JSONConverter) writeNull(buf *bytes.Buffer, s *data.Schema) error {
	switch {
	case s == nil:
		buf.WriteString("null")
		return nil
	case s.Default != nil && c.replaceNullWithDefault:
		return c.writeValue(buf, s, s.Default)
	case s.Optional:
		buf.WriteString("null")
		return nil
	}
	return dataErr("Conversion error: null value for field that is required and has no default value")
}

// writeTyped writes v by the writer of schema type typ.
func writeTyped(c *JSONConverter, buf *bytes.Buffer, s *data.Schema, typ data.Type, v any) error {
	w := typeWriter(typ)
	if w == nil {
		return dataErr("Couldn't convert %v to JSON.", v)
	}
	return w(c, buf, s, v)
}

// typeWriter is the dispatch table over the schema types (nil for an
// unknown one).
func typeWriter(t data.Type) valueWriter {
	switch t {
	case data.TypeInt8:
		return writeSmallInt[int8]
	case data.TypeInt16:
		return writeSmallInt[int16]
	case data.TypeInt32:
		return writeSmallInt[int32]
	case data.TypeInt64:
		return writeInt64
	case data.TypeFloat32:
		return writeFloat32
	case data.TypeFloat64:
		return writeFloat64
	case data.TypeBoolean:
		return writeBoolean
	case data.TypeString:
		return writeString
	case data.TypeBytes:
		return writeBytes
	case data.TypeArray:
		return (*JSONConverter).writeArray
	case data.TypeMap:
		return (*JSONConverter).writeMap
	case data.TypeStruct:
		return (*JSONConverter).writeStruct
	}
	return nil
}

// logicalWriter is the dispatch table over the logical types the
// converter writes by their own rules (nil for others, which are
// written by their schema type).
func logicalWriter(name string) valueWriter {
	switch name {
	case data.DecimalName:
		return (*JSONConverter).writeDecimal
	case data.DateName:
		return writeDate
	case data.TimeName:
		return writeTime
	case data.TimestampName:
		return writeTimestamp
	}
	return nil
}

// schemalessType is the schema type of a schemaless value's Go type.
func schemalessType(v any) (data.Type, bool) {
	switch v.(type) {
	case int8:
		return data.TypeInt8, true
	case int16:
		return data.TypeInt16, true
	case int32:
		return data.TypeInt32, true
	case int64, int:
		return data.TypeInt64, true
	case float32:
		return data.TypeFloat32, true
	case float64:
		return data.TypeFloat64, true
	case bool:
		return data.TypeBoolean, true
	case string:
		return data.TypeString, true
	case []byte:
		return data.TypeBytes, true
	case []any:
		return data.TypeArray, true
	case map[string]any, map[any]any:
		return data.TypeMap, true
	case *data.Struct:
		return data.TypeStruct, true
	}
	return "", false
}

// typeErr is Kafka's error for a value whose Go type does not fit its
// schema type.
func typeErr(s *data.Schema, v any) error {
	if s == nil {
		return dataErr("Invalid type for unknown schema: %T", v)
	}
	return dataErr("Invalid type for %s: %T", s.Type, v)
}

func writeSmallInt[T int8 | int16 | int32](_ *JSONConverter, buf *bytes.Buffer, s *data.Schema, v any) error {
	x, ok := v.(T)
	if !ok {
		return typeErr(s, v)
	}
	buf.WriteString(strconv.FormatInt(int64(x), 10))
	return nil
}

// writeInt64 writes an int64, or schemaless a Go int.
func writeInt64(_ *JSONConverter, buf *bytes.Buffer, s *data.Schema, v any) error {
	switch x := v.(type) {
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case int:
		if s != nil {
			return typeErr(s, v)
		}
		buf.WriteString(strconv.Itoa(x))
	default:
		return typeErr(s, v)
	}
	return nil
}

func writeFloat32(_ *JSONConverter, buf *bytes.Buffer, s *data.Schema, v any) error {
	x, ok := v.(float32)
	if !ok {
		return typeErr(s, v)
	}
	writeJSONFloat(buf, float64(x), 32)
	return nil
}

func writeFloat64(_ *JSONConverter, buf *bytes.Buffer, s *data.Schema, v any) error {
	x, ok := v.(float64)
	if !ok {
		return typeErr(s, v)
	}
	writeJSONFloat(buf, x, 64)
	return nil
}

func writeBoolean(_ *JSONConverter, buf *bytes.Buffer, s *data.Schema, v any) error {
	x, ok := v.(bool)
	if !ok {
		return typeErr(s, v)
	}
	buf.WriteString(strconv.FormatBool(x))
	return nil
}

func writeString(_ *JSONConverter, buf *bytes.Buffer, s *data.Schema, v any) error {
	x, ok := v.(string)
	if !ok {
		return typeErr(s, v)
	}
	writeJSONString(buf, x)
	return nil
}

// writeBytes writes bytes as a base64 string.
func writeBytes(_ *JSONConverter, buf *bytes.Buffer, _ *data.Schema, v any) error {
	x, ok := v.([]byte)
	if !ok {
		return dataErr("Invalid type for bytes type: %T", v)
	}
	writeBase64(buf, x)
	return nil
}

func writeBase64(buf *bytes.Buffer, b []byte) {
	buf.WriteByte('"')
	buf.WriteString(base64.StdEncoding.EncodeToString(b))
	buf.WriteByte('"')
}

func (c *JSONConverter) writeArray(buf *bytes.Buffer, s *data.Schema, v any) error {
	x, ok := v.([]any)
	if !ok {
		return typeErr(s, v)
	}
	var elem *data.Schema
	if s != nil {
		elem = s.Elem
	}
	buf.WriteByte('[')
	for i, e := range x {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := c.writeValue(buf, elem, e); err != nil {
			return err
		}
	}
	buf.WriteByte(']')
	return nil
}

// writeStruct writes a struct as an object of its schema's fields, in
// their order; the struct's own schema must equal the one written with.
func (c *JSONConverter) writeStruct(buf *bytes.Buffer, s *data.Schema, v any) error {
	x, ok := v.(*data.Struct)
	if !ok || x == nil || s == nil || !schemaEqual(x.Schema, s) {
		return dataErr("Mismatching schema.")
	}
	buf.WriteByte('{')
	for i, f := range s.Fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeJSONString(buf, f.Name)
		buf.WriteByte(':')
		var fv any
		if f.Index >= 0 && f.Index < len(x.Values) {
			fv = x.Values[f.Index]
		}
		if err := c.writeValue(buf, f.Schema, fv); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// writeDate writes a Date as days since the epoch.
func writeDate(_ *JSONConverter, buf *bytes.Buffer, _ *data.Schema, v any) error {
	t, ok := v.(time.Time)
	if !ok {
		return dataErr("Invalid type for Date, expected Date but was %T", v)
	}
	days, err := dateToDays(t)
	if err != nil {
		return err
	}
	buf.WriteString(strconv.FormatInt(int64(days), 10))
	return nil
}

// writeTime writes a Time as milliseconds since midnight.
func writeTime(_ *JSONConverter, buf *bytes.Buffer, _ *data.Schema, v any) error {
	t, ok := v.(time.Time)
	if !ok {
		// Kafka's message says Date here too.
		return dataErr("Invalid type for Time, expected Date but was %T", v)
	}
	ms := t.UnixMilli()
	if ms < 0 || ms > millisPerDay {
		return dataErr("Kafka Connect Time type should not have any date fields set to non-zero values.")
	}
	buf.WriteString(strconv.FormatInt(ms, 10))
	return nil
}

// writeTimestamp writes a Timestamp as milliseconds since the epoch.
func writeTimestamp(_ *JSONConverter, buf *bytes.Buffer, _ *data.Schema, v any) error {
	t, ok := v.(time.Time)
	if !ok {
		return dataErr("Invalid type for Timestamp, expected Date but was %T", v)
	}
	buf.WriteString(strconv.FormatInt(t.UnixMilli(), 10))
	return nil
}

// writeJSONFloat writes f as Jackson does: Java's number format, and
// NaN and the infinities as strings, since JSON has no literal for them.
func writeJSONFloat(buf *bytes.Buffer, f float64, bits int) {
	s := javafmt.Float(f, bits)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		buf.WriteByte('"')
		buf.WriteString(s)
		buf.WriteByte('"')
		return
	}
	buf.WriteString(s)
}

// mapEntry is a map entry rendered: its key and value as JSON, and for
// an object, the key's text.
type mapEntry struct {
	k, v []byte
	key  string
}

// writeMap writes a map as a JSON object when its keys are strings (by
// schema, or, schemaless, by inspection) and otherwise as an array of
// [key, value] pairs, as Kafka does. Entries are sorted by key so that
// equal maps give equal bytes.
func (c *JSONConverter) writeMap(buf *bytes.Buffer, s *data.Schema, v any) error {
	var keySchema, valueSchema *data.Schema
	if s != nil {
		if s.Key == nil {
			return dataErr("Map schema did not specify the key type")
		}
		keySchema, valueSchema = s.Key, s.Value
	}
	var entries []mapEntry
	add := func(k, val any) error {
		e, err := c.renderEntry(keySchema, valueSchema, k, val)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	}
	var objectMode bool
	switch m := v.(type) {
	case map[string]any:
		objectMode = s == nil || s.Key.Type == data.TypeString
		for k, val := range m {
			if err := add(k, val); err != nil {
				return err
			}
		}
	case map[any]any:
		objectMode = stringKeys(s, m)
		for k, val := range m {
			if err := add(k, val); err != nil {
				return err
			}
		}
	default:
		return typeErr(s, v)
	}
	if objectMode {
		writeObjectEntries(buf, entries)
	} else {
		writePairEntries(buf, entries)
	}
	return nil
}

// stringKeys reports whether a map[any]any is written as an object: by
// its schema's key type, or schemaless, when every key is a string.
func stringKeys(s *data.Schema, m map[any]any) bool {
	if s != nil {
		return s.Key.Type == data.TypeString
	}
	for k := range m {
		if _, ok := k.(string); !ok {
			return false
		}
	}
	return true
}

// renderEntry writes a map entry's key and value.
func (c *JSONConverter) renderEntry(keySchema, valueSchema *data.Schema, k, v any) (mapEntry, error) {
	var kb, vb bytes.Buffer
	if err := c.writeValue(&kb, keySchema, k); err != nil {
		return mapEntry{}, err
	}
	if err := c.writeValue(&vb, valueSchema, v); err != nil {
		return mapEntry{}, err
	}
	return mapEntry{k: kb.Bytes(), v: vb.Bytes()}, nil
}

// writeObjectEntries writes entries as an object keyed by their keys'
// text, sorted.
func writeObjectEntries(buf *bytes.Buffer, entries []mapEntry) {
	for i := range entries {
		entries[i].key = jsonAsText(entries[i].k)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	buf.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeJSONString(buf, e.key)
		buf.WriteByte(':')
		buf.Write(e.v)
	}
	buf.WriteByte('}')
}

// writePairEntries writes entries as an array of [key, value] pairs,
// sorted by key, then value.
func writePairEntries(buf *bytes.Buffer, entries []mapEntry) {
	sort.Slice(entries, func(i, j int) bool {
		if d := bytes.Compare(entries[i].k, entries[j].k); d != 0 {
			return d < 0
		}
		return bytes.Compare(entries[i].v, entries[j].v) < 0
	})
	buf.WriteByte('[')
	for i, e := range entries {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('[')
		buf.Write(e.k)
		buf.WriteByte(',')
		buf.Write(e.v)
		buf.WriteByte(']')
	}
	buf.WriteByte(']')
}

// jsonAsText is Jackson's JsonNode.asText for a rendered key: a string's
// text, a scalar's literal ("null" for null).
func jsonAsText(b []byte) string {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) == nil {
			return s
		}
	}
	return string(b)
}

func (c *JSONConverter) writeDecimal(buf *bytes.Buffer, s *data.Schema, v any) error {
	d, ok := v.(data.Decimal)
	if !ok {
		return dataErr("Invalid type for Decimal, expected Decimal but was %T", v)
	}
	if c.decimalNumeric {
		buf.WriteString(decimalString(d))
		return nil
	}
	scale, err := decimalScale(s)
	if err != nil {
		return err
	}
	if d.Scale != scale {
		return dataErr("BigDecimal has mismatching scale value for given Decimal schema")
	}
	writeBase64(buf, twosComplement(d.Unscaled))
	return nil
}

// decimalScale is the scale a Decimal schema declares.
func decimalScale(s *data.Schema) (int, error) {
	str, ok := s.Parameters[data.DecimalScaleParam]
	if !ok {
		return 0, dataErr("Invalid Decimal schema: scale parameter not found.")
	}
	n, err := strconv.ParseInt(str, 10, 32)
	if err != nil {
		return 0, &DataError{Msg: "Invalid scale parameter found in Decimal schema", Err: err}
	}
	return int(n), nil
}

// dateToDays is Kafka's Date.fromLogical: days since the epoch of a
// midnight UTC.
func dateToDays(t time.Time) (int32, error) {
	ms := t.UnixMilli()
	if ms%millisPerDay != 0 {
		return 0, dataErr("Kafka Connect Date type should not have any time fields set to non-zero values.")
	}
	days := ms / millisPerDay
	if days < math.MinInt32 || days > math.MaxInt32 {
		return 0, dataErr("Date %s is out of range for Kafka Connect's Date type", t.UTC().Format(time.RFC3339))
	}
	return int32(days), nil
}

// schemaEqual is Kafka's ConnectSchema.equals, which a struct's schema
// must satisfy against the schema it is written with.
func schemaEqual(a, b *data.Schema) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	if a.Type != b.Type || a.Optional != b.Optional || a.Name != b.Name || a.Version != b.Version ||
		a.Doc != b.Doc || !reflect.DeepEqual(a.Parameters, b.Parameters) || !reflect.DeepEqual(a.Default, b.Default) ||
		len(a.Fields) != len(b.Fields) || !schemaEqual(a.Key, b.Key) || !schemaEqual(a.Value, b.Value) || !schemaEqual(a.Elem, b.Elem) {
		return false
	}
	for i := range a.Fields {
		fa, fb := a.Fields[i], b.Fields[i]
		if fa.Name != fb.Name || fa.Index != fb.Index || !schemaEqual(fa.Schema, fb.Schema) {
			return false
		}
	}
	return true
}
