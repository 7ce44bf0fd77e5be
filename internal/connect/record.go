package connect

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/tributary-data/tributary/internal/connect/converter"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// codec maps Connect records onto stream records and back (see
// docs/connect.md, "Mapping a Connect record onto a stream record"):
//
//   - the value converter's bytes are the record data, exactly;
//   - the key converter's bytes, read as UTF-8, are the partition key
//     when they are valid UTF-8 of 1 to 256 characters; otherwise the
//     partition key is the key's MD5 in hex (so equal keys still share a
//     shard) and the exact key travels in the attributes;
//   - headers, the timestamp, and null keys and values travel in the
//     attributes, which the in-process engine stores beside the record
//     and the Kinesis API never shows;
//   - with record.envelope=true (streams reached through the Kinesis
//     API, which has no attributes) everything travels in a JSON
//     envelope in the record data instead.
type codec struct {
	key, value converter.Converter
	headers    converter.Converter
	envelope   bool
}

func newCodec(props map[string]string, worker map[string]string) (*codec, error) {
	c := &codec{envelope: boolSetting(props, cfgEnvelope)}
	var err error
	if c.key, err = newConverter(props, worker, cfgKeyConverter, true); err != nil {
		return nil, err
	}
	if c.value, err = newConverter(props, worker, cfgValueConverter, false); err != nil {
		return nil, err
	}
	c.headers, err = newHeaderConverter()
	return c, err
}

// newConverter builds key.converter or value.converter from the
// connector's settings, falling back to the worker's, as Kafka does. With
// neither, it is StringConverter, the default of MSK Connect's worker
// configuration, so the MSK configurations this runtime takes run as
// they do there.
func newConverter(props, worker map[string]string, key string, isKey bool) (converter.Converter, error) {
	src := props
	if props[key] == "" {
		src = worker
	}
	class := src[key]
	if class == "" {
		class = converter.StringConverterClass
	}
	c, err := converter.New(class, withPrefix(src, key+"."), isKey)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return c, nil
}

// Attribute flags, the first byte of a record's attributes.
const (
	attrNullKey   = 1 << iota // the key was null
	attrNullValue             // the value was null (a tombstone)
	attrKey                   // the exact key bytes follow
	attrTime                  // a timestamp (Unix ms, varint) follows
	attrHeaders               // headers follow
	attrMarker                // a source task's offsets marker follows (source.go)
)

// envelope is the JSON form of a record in record.envelope mode.
type envelope struct {
	Key     *[]byte          `json:"k"`
	Value   *[]byte          `json:"v"`
	Time    *int64           `json:"t,omitempty"`
	Headers []envelopeHeader `json:"h,omitempty"`
}

type envelopeHeader struct {
	Key   string          `json:"k"`
	Value json.RawMessage `json:"v"`
}

// encode converts a transformed source record into a stream record.
func (c *codec) encode(r *data.Record) (StreamRecord, error) {
	kb, err := c.key.FromConnectData(r.Topic, r.KeySchema, r.Key)
	if err != nil {
		return StreamRecord{}, fmt.Errorf("converting key: %w", err)
	}
	vb, err := c.value.FromConnectData(r.Topic, r.ValueSchema, r.Value)
	if err != nil {
		return StreamRecord{}, fmt.Errorf("converting value: %w", err)
	}
	headers, err := convertHeaders(c.headers, r.Topic, r.Headers)
	if err != nil {
		return StreamRecord{}, err
	}
	sr := StreamRecord{PartitionKey: partitionKey(kb)}
	if c.envelope {
		env := envelope{Headers: headers}
		if kb != nil {
			env.Key = &kb
		}
		if vb != nil {
			env.Value = &vb
		}
		if !r.Timestamp.IsZero() {
			ms := r.Timestamp.UnixMilli()
			env.Time = &ms
		}
		sr.Data, err = json.Marshal(env)
		return sr, err
	}
	sr.Data = vb
	sr.Attrs = packAttrs(kb, sr.PartitionKey, vb == nil, r.Timestamp, headers)
	return sr, nil
}

// newHeaderConverter returns the converter headers are stored with: JSON
// with schemas, which keeps a header's Connect schema and value exactly.
func newHeaderConverter() (converter.Converter, error) {
	return converter.NewJSONConverter(map[string]string{"schemas.enable": "true"}, false)
}

func convertHeaders(hc converter.Converter, topic string, hs []data.Header) ([]envelopeHeader, error) {
	out := make([]envelopeHeader, len(hs))
	for i, h := range hs {
		b, err := hc.FromConnectData(topic, h.Schema, h.Value)
		if err != nil {
			return nil, fmt.Errorf("converting header %s: %w", h.Key, err)
		}
		out[i] = envelopeHeader{Key: h.Key, Value: b} // nil for a null header
	}
	return out, nil
}

// packAttrs builds a record's attributes: nil when the partition key and
// data say everything.
func packAttrs(kb []byte, pk string, nullValue bool, ts time.Time, headers []envelopeHeader) []byte {
	var flags byte
	switch {
	case kb == nil:
		flags |= attrNullKey
	case pk != string(kb):
		flags |= attrKey
	}
	if nullValue {
		flags |= attrNullValue
	}
	if !ts.IsZero() {
		flags |= attrTime
	}
	if len(headers) > 0 {
		flags |= attrHeaders
	}
	if flags == 0 {
		return nil
	}
	a := []byte{flags}
	if flags&attrKey != 0 {
		a = binary.AppendUvarint(a, uint64(len(kb)))
		a = append(a, kb...)
	}
	if flags&attrTime != 0 {
		a = binary.AppendVarint(a, ts.UnixMilli())
	}
	if flags&attrHeaders != 0 {
		a = binary.AppendUvarint(a, uint64(len(headers)))
		for _, h := range headers {
			a = binary.AppendUvarint(a, uint64(len(h.Key)))
			a = append(a, h.Key...)
			a = binary.AppendUvarint(a, uint64(len(h.Value)))
			a = append(a, h.Value...)
		}
	}
	return a
}

// partitionKey is the partition key for key bytes.
func partitionKey(kb []byte) string {
	if kb == nil {
		return "null"
	}
	if n := utf8.RuneCount(kb); n >= 1 && n <= 256 && utf8.Valid(kb) {
		return string(kb)
	}
	sum := md5.Sum(kb)
	return hex.EncodeToString(sum[:])
}

var errBadAttrs = errors.New("corrupt record attributes")

// raw is a stream record unpacked into the converter inputs.
type raw struct {
	key, value []byte
	time       time.Time
	headers    []envelopeHeader
}

// unpack reverses encode's packing, without conversion.
func (c *codec) unpack(sr StreamRecord) (raw, error) {
	out := raw{key: []byte(sr.PartitionKey), value: sr.Data, time: sr.Arrival}
	if c.envelope {
		var env envelope
		if err := json.Unmarshal(sr.Data, &env); err != nil {
			return raw{}, fmt.Errorf("record %s is not a Connect envelope (record.envelope=true): %w", sr.SequenceNumber, err)
		}
		out.key, out.value, out.headers = nil, nil, env.Headers
		if env.Key != nil {
			out.key = *env.Key
		}
		if env.Value != nil {
			out.value = *env.Value
		}
		if env.Time != nil {
			out.time = time.UnixMilli(*env.Time)
		}
		return out, nil
	}
	if len(sr.Attrs) == 0 {
		return out, nil
	}
	f, err := parseAttrs(sr.Attrs)
	if err != nil {
		return raw{}, err
	}
	if f.flags&attrNullKey != 0 {
		out.key = nil
	}
	if f.flags&attrNullValue != 0 {
		out.value = nil
	}
	if f.flags&attrKey != 0 {
		out.key = f.key
	}
	if f.flags&attrTime != 0 {
		out.time = f.time
	}
	out.headers = f.headers
	return out, nil
}

// attrFields are the parsed attributes of a record.
type attrFields struct {
	flags   byte
	key     []byte
	time    time.Time
	headers []envelopeHeader
	marker  []byte
}

func parseAttrs(a []byte) (attrFields, error) {
	var f attrFields
	if len(a) == 0 {
		return f, nil
	}
	f.flags = a[0]
	a = a[1:]
	next := func() ([]byte, bool) {
		n, k := binary.Uvarint(a)
		if k <= 0 || uint64(len(a)-k) < n {
			return nil, false
		}
		v := a[k : k+int(n)]
		a = a[k+int(n):]
		return v, true
	}
	var ok bool
	if f.flags&attrKey != 0 {
		if f.key, ok = next(); !ok {
			return f, errBadAttrs
		}
	}
	if f.flags&attrTime != 0 {
		ms, k := binary.Varint(a)
		if k <= 0 {
			return f, errBadAttrs
		}
		a = a[k:]
		f.time = time.UnixMilli(ms)
	}
	if f.flags&attrHeaders != 0 {
		n, k := binary.Uvarint(a)
		if k <= 0 || n > uint64(len(a)) {
			return f, errBadAttrs
		}
		a = a[k:]
		f.headers = make([]envelopeHeader, n)
		for i := range f.headers {
			hk, ok1 := next()
			hv, ok2 := next()
			if !ok1 || !ok2 {
				return f, errBadAttrs
			}
			f.headers[i] = envelopeHeader{Key: string(hk), Value: hv}
		}
	}
	if f.flags&attrMarker != 0 {
		if f.marker, ok = next(); !ok {
			return f, errBadAttrs
		}
	}
	return f, nil
}

// withMarker adds a source offsets marker to a record's attributes. The
// marker is the last section, so it is appended.
func withMarker(attrs []byte, m *marker) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(attrs)+len(b)+binary.MaxVarintLen64+1)
	if len(attrs) == 0 {
		out = append(out, attrMarker)
	} else {
		out = append(out, attrs[0]|attrMarker)
		out = append(out, attrs[1:]...)
	}
	out = binary.AppendUvarint(out, uint64(len(b)))
	return append(out, b...), nil
}

// markerOf returns the source offsets marker in attributes, if any.
func markerOf(attrs []byte) (*marker, bool) {
	if len(attrs) == 0 || attrs[0]&attrMarker == 0 {
		return nil, false
	}
	f, err := parseAttrs(attrs)
	if err != nil {
		return nil, false
	}
	var m marker
	if json.Unmarshal(f.marker, &m) != nil {
		return nil, false
	}
	return &m, true
}

// decode converts a stream record into a sink record.
func (c *codec) decode(stream, shardID string, sr StreamRecord) (*data.Record, error) {
	u, err := c.unpack(sr)
	if err != nil {
		return nil, err
	}
	r := &data.Record{Topic: stream, Shard: shardID, SequenceNumber: sr.SequenceNumber, Timestamp: u.time}
	if r.KeySchema, r.Key, err = c.key.ToConnectData(stream, u.key); err != nil {
		return nil, fmt.Errorf("converting key: %w", err)
	}
	if r.ValueSchema, r.Value, err = c.value.ToConnectData(stream, u.value); err != nil {
		return nil, fmt.Errorf("converting value: %w", err)
	}
	for _, h := range u.headers {
		hv := []byte(h.Value)
		if len(hv) == 0 || string(hv) == "null" {
			hv = nil // a null header: no schema, no value
		}
		s, v, err := c.headers.ToConnectData(stream, hv)
		if err != nil {
			return nil, fmt.Errorf("converting header %s: %w", h.Key, err)
		}
		r.Headers = append(r.Headers, data.Header{Key: h.Key, Schema: s, Value: v})
	}
	return r, nil
}
