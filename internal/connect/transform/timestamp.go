package transform

import (
	"maps"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// Timestamp representations, as TimestampConverter's target.type names
// them.
const (
	tsString    = "string"
	tsUnix      = "unix"
	tsDate      = "Date"
	tsTime      = "Time"
	tsTimestamp = "Timestamp"
)

// timestampConverter is TimestampConverter$Key/$Value: converts a field,
// or the whole key or value, between epoch numbers, formatted strings and
// the Date/Time/Timestamp logical types.
type timestampConverter struct {
	side                   side
	field                  string
	target                 string
	format                 *dateFormat
	precision              string
	replaceNullWithDefault bool
}

const tsPurpose = "converting timestamp formats"

func newTimestampConverter(c *config, s side) (Transform, error) {
	t := &timestampConverter{side: s, field: c.str("field", "")}
	var err error
	if t.target, err = c.oneOf("target.type", "", tsString, tsUnix, tsDate, tsTime, tsTimestamp); err != nil {
		return nil, err
	}
	if t.precision, err = c.oneOf("unix.precision", "milliseconds", "nanoseconds", "microseconds", "milliseconds", "seconds"); err != nil {
		return nil, err
	}
	pattern := c.str("format", "")
	if t.target == tsString && pattern == "" {
		return nil, &ConfigError{Key: "format", Message: "TimestampConverter requires format option to be specified when using string timestamps"}
	}
	if pattern != "" {
		if t.format, err = compileDateFormat(pattern); err != nil {
			return nil, invalid("format", pattern, "TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: "+pattern+" ("+err.Error()+")")
		}
	}
	if t.replaceNullWithDefault, err = c.replaceNullWithDefault(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *timestampConverter) Apply(r *data.Record) (*data.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		if v == nil || t.field == "" {
			out, err := t.convert(v, "")
			if err != nil {
				return nil, err
			}
			return t.side.with(r, nil, out), nil
		}
		m, err := requireMap(v, tsPurpose)
		if err != nil {
			return nil, err
		}
		out := maps.Clone(m)
		if out[t.field], err = t.convert(m[t.field], ""); err != nil {
			return nil, err
		}
		return t.side.with(r, nil, out), nil
	}
	if t.field == "" {
		from, err := typeFromSchema(schema)
		if err != nil {
			return nil, err
		}
		out, err := t.convert(v, from)
		if err != nil {
			return nil, err
		}
		return t.side.with(r, targetSchema(t.target, schema.Optional), out), nil
	}
	st, err := requireStructOrNull(v, tsPurpose)
	if err != nil {
		return nil, err
	}
	b := newStructBuilder(schema)
	for _, f := range schema.Fields {
		if f.Name == t.field {
			b.field(f.Name, targetSchema(t.target, f.Schema.Optional))
		} else {
			b.field(f.Name, f.Schema)
		}
	}
	ns, err := b.build()
	if err != nil {
		return nil, err
	}
	ns.Optional = schema.Optional
	if d, ok := schema.Default.(*data.Struct); ok {
		if ns.Default, err = t.convertStruct(d, ns); err != nil {
			return nil, err
		}
	}
	out, err := t.convertStruct(st, ns)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return t.side.with(r, ns, nil), nil
	}
	return t.side.with(r, ns, out), nil
}

func (t *timestampConverter) convertStruct(st *data.Struct, ns *data.Schema) (*data.Struct, error) {
	if st == nil {
		return nil, nil
	}
	out := data.NewStruct(ns)
	for i := range st.Schema.Fields {
		f := &st.Schema.Fields[i]
		fv := fieldValue(st, f, t.replaceNullWithDefault)
		if f.Name == t.field {
			from, err := typeFromSchema(f.Schema)
			if err != nil {
				return nil, err
			}
			if fv, err = t.convert(fv, from); err != nil {
				return nil, err
			}
		}
		if err := put(out, f.Name, fv); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// typeFromSchema tells a timestamp's representation from its schema.
func typeFromSchema(s *data.Schema) (string, error) {
	switch {
	case s.Name == data.TimestampName:
		return tsTimestamp, nil
	case s.Name == data.DateName:
		return tsDate, nil
	case s.Name == data.TimeName:
		return tsTime, nil
	case s.Type == data.TypeString:
		return tsString, nil
	case s.Type == data.TypeInt64:
		return tsUnix, nil
	}
	return "", dataErrorf("Schema %s does not correspond to a known timestamp type format", schemaString(s))
}

func targetSchema(target string, optional bool) *data.Schema {
	var s *data.Schema
	switch target {
	case tsString:
		s = data.Primitive(data.TypeString)
	case tsUnix:
		s = data.Primitive(data.TypeInt64)
	case tsDate:
		s = data.DateSchema()
	case tsTime:
		s = data.TimeSchema()
	default:
		s = data.TimestampSchema()
	}
	s.Optional = optional
	return s
}

// convert turns v, of representation from (inferred from its Go type when
// empty), into the target representation, through epoch milliseconds.
func (t *timestampConverter) convert(v any, from string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if from == "" {
		switch v.(type) {
		case time.Time:
			from = tsTimestamp
		case int64:
			from = tsUnix
		case string:
			from = tsString
		default:
			return nil, dataErrorf("TimestampConverter does not support class %s objects as timestamps", javaClass(v))
		}
	}
	var raw time.Time
	switch from {
	case tsString:
		s, ok := v.(string)
		if !ok {
			return nil, dataErrorf("Expected string timestamp to be a String, but found class %s", javaClass(v))
		}
		if t.format == nil {
			return nil, dataErrorf("TimestampConverter requires format option to be specified when using string timestamps")
		}
		p, err := t.format.parse(s)
		if err != nil {
			return nil, dataErrorf("Could not parse timestamp: value (%s) does not match pattern (%s)", s, t.format.pattern)
		}
		raw = p
	case tsUnix:
		n, ok := v.(int64)
		if !ok {
			return nil, dataErrorf("Expected Unix timestamp to be a Long, but found class %s", javaClass(v))
		}
		// Java's TimeUnit conversions truncate toward zero, as Go's
		// integer division does.
		switch t.precision {
		case "seconds":
			n = saturatingMul(n, 1000)
		case "microseconds":
			n /= 1000
		case "nanoseconds":
			n /= 1000000
		}
		raw = time.UnixMilli(n).UTC()
	default:
		tv, ok := v.(time.Time)
		if !ok {
			return nil, dataErrorf("Expected %s to be a java.util.Date, but found class %s", from, javaClass(v))
		}
		raw = time.UnixMilli(tv.UnixMilli()).UTC()
	}
	ms := raw.UnixMilli()
	switch t.target {
	case tsString:
		return t.format.format(raw), nil
	case tsUnix:
		switch t.precision {
		case "seconds":
			return ms / 1000, nil
		case "microseconds":
			return saturatingMul(ms, 1000), nil
		case "nanoseconds":
			return saturatingMul(ms, 1000000), nil
		}
		return ms, nil
	case tsDate:
		return time.UnixMilli(floorDiv(ms, 86400000) * 86400000).UTC(), nil
	case tsTime:
		return time.UnixMilli(ms - floorDiv(ms, 86400000)*86400000).UTC(), nil
	}
	return raw, nil
}

// saturatingMul is Java's TimeUnit scaling, which clamps on overflow.
func saturatingMul(n, m int64) int64 {
	const maxI, minI = int64(^uint64(0) >> 1), -int64(^uint64(0)>>1) - 1
	switch {
	case n > maxI/m:
		return maxI
	case n < minI/m:
		return minI
	}
	return n * m
}

// timestampRouter is TimestampRouter: rewrites the topic (stream) from a
// template of the topic and the record's formatted timestamp, e.g. to
// route into daily tables or indexes.
type timestampRouter struct {
	topicFormat string
	format      *dateFormat
}

func newTimestampRouter(c *config, _ side) (Transform, error) {
	t := &timestampRouter{topicFormat: c.str("topic.format", "${topic}-${timestamp}")}
	pattern := c.str("timestamp.format", "yyyyMMdd")
	f, err := compileDateFormat(pattern)
	if err != nil {
		return nil, invalid("timestamp.format", pattern, err.Error())
	}
	t.format = f
	return t, nil
}

func (t *timestampRouter) Apply(r *data.Record) (*data.Record, error) {
	if r.Timestamp.IsZero() {
		return nil, dataErrorf("Timestamp missing on record: topic=%s shard=%s sequenceNumber=%s", r.Topic, r.Shard, r.SequenceNumber)
	}
	topic := strings.ReplaceAll(t.topicFormat, "${topic}", r.Topic)
	topic = strings.ReplaceAll(topic, "${timestamp}", t.format.format(r.Timestamp))
	c := r.Copy()
	c.Topic = topic
	return c, nil
}
