package transform

import (
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// The fixtures of Kafka's TimestampConverterTest: 2017-01-01, 01:02:03.004
// and their combination.
const (
	dateMs         = int64(1483228800000)
	timeMs         = int64(3723004)
	datePlusTimeMs = dateMs + timeMs
	stringFmt      = "yyyy MM dd HH mm ss SSS z"
	datePlusTimeS  = "2017 01 01 01 02 03 004 UTC"
)

func TestTimestampConverterSchemaless(t *testing.T) {
	cases := []struct {
		props map[string]string
		in    any
		want  any
	}{
		{map[string]string{"target.type": "Timestamp"}, ms(datePlusTimeMs), ms(datePlusTimeMs)},
		{map[string]string{"target.type": "Date"}, ms(datePlusTimeMs), ms(dateMs)},
		{map[string]string{"target.type": "Time"}, ms(datePlusTimeMs), ms(timeMs)},
		{map[string]string{"target.type": "unix"}, ms(datePlusTimeMs), datePlusTimeMs},
		{map[string]string{"target.type": "string", "format": stringFmt}, ms(datePlusTimeMs), datePlusTimeS},
		{map[string]string{"target.type": "Timestamp"}, datePlusTimeMs, ms(datePlusTimeMs)},
		{map[string]string{"target.type": "Timestamp", "format": stringFmt}, datePlusTimeS, ms(datePlusTimeMs)},
		{map[string]string{"target.type": "Date", "format": stringFmt}, datePlusTimeS, ms(dateMs)},
		{map[string]string{"target.type": "unix", "unix.precision": "seconds"}, ms(datePlusTimeMs), datePlusTimeMs / 1000},
		{map[string]string{"target.type": "unix", "unix.precision": "microseconds"}, ms(datePlusTimeMs), datePlusTimeMs * 1000},
		{map[string]string{"target.type": "unix", "unix.precision": "nanoseconds"}, ms(datePlusTimeMs), datePlusTimeMs * 1000000},
		{map[string]string{"target.type": "Timestamp", "unix.precision": "seconds"}, datePlusTimeMs / 1000, ms(datePlusTimeMs / 1000 * 1000)},
		{map[string]string{"target.type": "Timestamp", "unix.precision": "microseconds"}, datePlusTimeMs*1000 + 123, ms(datePlusTimeMs)},
		{map[string]string{"target.type": "Timestamp", "unix.precision": "nanoseconds"}, datePlusTimeMs*1000000 + 456789, ms(datePlusTimeMs)},
		{map[string]string{"target.type": "string", "format": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"}, datePlusTimeMs, "2017-01-01T01:02:03.004Z"},
		{map[string]string{"target.type": "unix", "format": "yyyy-MM-dd'T'HH:mm:ssXXX"}, "2017-01-01T03:02:03+02:00", dateMs + 3723000},
		{map[string]string{"target.type": "unix"}, nil, nil},
	}
	for _, c := range cases {
		for _, side := range []string{"Key", "Value"} {
			tr := build(t, "TimestampConverter$"+side, c.props)
			var got any
			if side == "Key" {
				got = apply(t, tr, keyRec(nil, c.in)).Key
			} else {
				got = apply(t, tr, valueRec(nil, c.in)).Value
			}
			deepEqual(t, side+" "+c.props["target.type"]+" from "+javaClass(c.in), got, c.want)
		}
	}

	// A field of a map.
	tr := build(t, "TimestampConverter$Value", map[string]string{"target.type": "unix", "field": "ts"})
	out := apply(t, tr, valueRec(nil, map[string]any{"ts": ms(datePlusTimeMs), "other": "x"}))
	deepEqual(t, "field", out.Value, map[string]any{"ts": datePlusTimeMs, "other": "x"})
	// Kafka puts the (null) field even when it was absent.
	out = apply(t, tr, valueRec(nil, map[string]any{"other": "x"}))
	deepEqual(t, "absent field", out.Value, map[string]any{"ts": nil, "other": "x"})
}

func TestTimestampConverterWithSchema(t *testing.T) {
	cases := []struct {
		props  map[string]string
		schema *data.Schema
		in     any
		want   any
		wantS  *data.Schema
	}{
		{map[string]string{"target.type": "Date"}, data.TimestampSchema(), ms(datePlusTimeMs), ms(dateMs), data.DateSchema()},
		{map[string]string{"target.type": "Time"}, data.TimestampSchema(), ms(datePlusTimeMs), ms(timeMs), data.TimeSchema()},
		{map[string]string{"target.type": "unix"}, data.DateSchema(), ms(dateMs), dateMs, prim(data.TypeInt64)},
		{map[string]string{"target.type": "Timestamp"}, prim(data.TypeInt64), datePlusTimeMs, ms(datePlusTimeMs), data.TimestampSchema()},
		{map[string]string{"target.type": "string", "format": stringFmt}, data.TimestampSchema(), ms(datePlusTimeMs), datePlusTimeS, prim(data.TypeString)},
		{map[string]string{"target.type": "Timestamp", "format": stringFmt}, prim(data.TypeString), datePlusTimeS, ms(datePlusTimeMs), data.TimestampSchema()},
		{map[string]string{"target.type": "Timestamp"}, data.OptionalOf(data.TimestampSchema()), nil, nil, data.OptionalOf(data.TimestampSchema())},
	}
	for _, c := range cases {
		tr := build(t, "TimestampConverter$Value", c.props)
		out := apply(t, tr, valueRec(c.schema, c.in))
		deepEqual(t, c.props["target.type"]+" value", out.Value, c.want)
		deepEqual(t, c.props["target.type"]+" schema", out.ValueSchema, c.wantS)
	}

	// A struct field; the others are kept, optionality carried over.
	s := data.StructSchema("rec", field("ts", data.OptionalOf(data.TimestampSchema())), field("other", prim(data.TypeString)))
	tr := build(t, "TimestampConverter$Value", map[string]string{"target.type": "unix", "field": "ts"})
	out := apply(t, tr, valueRec(s, newStruct(t, s, ms(datePlusTimeMs), "x")))
	deepEqual(t, "fields", fieldSummary(out.ValueSchema), []string{"ts:INT64?", "other:STRING"})
	deepEqual(t, "values", structValues(out.Value.(*data.Struct)), map[string]any{"ts": datePlusTimeMs, "other": "x"})
	out = apply(t, tr, valueRec(s, nil))
	if out.Value != nil || out.ValueSchema.Fields[0].Schema.Type != data.TypeInt64 {
		t.Errorf("null struct: %+v", out)
	}
}

func TestTimestampConverterErrors(t *testing.T) {
	configErr(t, "TimestampConverter$Value", map[string]string{}, "target.type", "Missing required configuration")
	configErr(t, "TimestampConverter$Value", map[string]string{"target.type": "invalid"}, "target.type", "String must be one of")
	configErr(t, "TimestampConverter$Value", map[string]string{"target.type": "string"}, "format", "TimestampConverter requires format option to be specified when using string timestamps")
	configErr(t, "TimestampConverter$Value", map[string]string{"target.type": "string", "format": "bad-format-q"}, "format", "TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: bad-format-q")
	configErr(t, "TimestampConverter$Value", map[string]string{"target.type": "unix", "unix.precision": "hours"}, "unix.precision", "String must be one of")

	tr := build(t, "TimestampConverter$Value", map[string]string{"target.type": "Timestamp", "format": "yyyy-MM-dd"})
	applyErr(t, tr, valueRec(nil, "not a date"), "Could not parse timestamp: value (not a date) does not match pattern (yyyy-MM-dd)")
	applyErr(t, tr, valueRec(nil, 1.5), "TimestampConverter does not support class java.lang.Double objects as timestamps")
	applyErr(t, tr, valueRec(prim(data.TypeInt32), int32(1)), "Schema Schema{INT32} does not correspond to a known timestamp type format")
	applyErr(t, tr, valueRec(prim(data.TypeInt64), "x"), "Expected Unix timestamp to be a Long, but found class java.lang.String")
	f := build(t, "TimestampConverter$Value", map[string]string{"target.type": "Timestamp", "field": "ts"})
	applyErr(t, f, valueRec(nil, "x"), "Only Map objects supported in absence of schema for [converting timestamp formats], found: java.lang.String")
	applyErr(t, f, valueRec(prim(data.TypeString), "x"), "Only Struct objects supported for [converting timestamp formats], found: java.lang.String")
}

func TestTimestampRouter(t *testing.T) {
	r := valueRec(nil, "v")
	r.Timestamp = ms(1483425001864)
	out := apply(t, build(t, "TimestampRouter", map[string]string{}), r)
	deepEqual(t, "default", out.Topic, "test-20170103")
	out = apply(t, build(t, "TimestampRouter", map[string]string{"topic.format": "${timestamp}_${topic}_${topic}", "timestamp.format": "yyyy-MM-dd'T'HH"}), r)
	deepEqual(t, "custom", out.Topic, "2017-01-03T06_test_test")
	if r.Topic != "test" {
		t.Error("input modified")
	}
	applyErr(t, build(t, "TimestampRouter", map[string]string{}), valueRec(nil, "v"), "Timestamp missing on record")
	configErr(t, "TimestampRouter", map[string]string{"timestamp.format": "yyyyq"}, "timestamp.format", "Illegal pattern character 'q'")
}

func TestDateFormat(t *testing.T) {
	at := time.Date(2024, 3, 5, 14, 7, 9, 45e6, time.UTC) // a Tuesday
	cases := []struct{ pattern, want string }{
		{"yyyyMMdd", "20240305"},
		{"yyyy-MM-dd HH:mm:ss.SSS", "2024-03-05 14:07:09.045"},
		{"yy/M/d H:m:s", "24/3/5 14:7:9"},
		{"dd MMM yyyy", "05 Mar 2024"},
		{"EEEE, MMMM d, yyyy", "Tuesday, March 5, 2024"},
		{"EEE h:mm a", "Tue 2:07 PM"},
		{"K k", "2 14"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2024-03-05T14:07:09.045+0000"},
		{"yyyy-MM-dd'T'HH:mm:ssXXX", "2024-03-05T14:07:09Z"},
		{"HH:mm:ss z", "14:07:09 UTC"},
		{"'It''s' h 'o''clock'", "It's 2 o'clock"},
		{"D u F", "65 2 1"},
		{"S SSSSSS", "45 000045"},
		{"G yyyy w W", "AD 2024 10 2"},
	}
	for _, c := range cases {
		f, err := compileDateFormat(c.pattern)
		if err != nil {
			t.Errorf("%q: %v", c.pattern, err)
			continue
		}
		if got := f.format(at); got != c.want {
			t.Errorf("format %q = %q, want %q", c.pattern, got, c.want)
		}
	}

	parses := []struct {
		pattern, in string
		want        time.Time
	}{
		{"yyyyMMdd", "20240305", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"yyyy-MM-dd HH:mm:ss.SSS", "2024-03-05 14:07:09.045", at},
		{"dd MMM yyyy", "05 mar 2024", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"EEEE, MMMM d, yyyy", "Tuesday, March 5, 2024", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"h:mm a", "2:07 PM", time.Date(1970, 1, 1, 14, 7, 0, 0, time.UTC)},
		{"h:mm a", "12:07 AM", time.Date(1970, 1, 1, 0, 7, 0, 0, time.UTC)},
		{"yyyy-MM-dd'T'HH:mm:ssZ", "2024-03-05T16:07:09+0200", time.Date(2024, 3, 5, 14, 7, 9, 0, time.UTC)},
		{"yyyy-MM-dd'T'HH:mm:ssXXX", "2024-03-05T09:07:09-05:00", time.Date(2024, 3, 5, 14, 7, 9, 0, time.UTC)},
		{"yyyy-MM-dd'T'HH:mm:ssX", "2024-03-05T14:07:09Z", time.Date(2024, 3, 5, 14, 7, 9, 0, time.UTC)},
		// Lenient, like Java: month 13 rolls into the next year, any
		// width for numbers not abutting others, trailing text ignored.
		{"yyyy-MM-dd", "2024-13-01", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"yyyy-M-d", "2024-3-5", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"yyyy-MM-dd", "2024-03-05T10:00", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"yyyyMMddHHmm", "202403051407", time.Date(2024, 3, 5, 14, 7, 0, 0, time.UTC)},
	}
	for _, c := range parses {
		f, _ := compileDateFormat(c.pattern)
		got, err := f.parse(c.in)
		if err != nil {
			t.Errorf("parse %q with %q: %v", c.in, c.pattern, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("parse %q with %q = %v, want %v", c.in, c.pattern, got, c.want)
		}
	}
	for _, bad := range []struct{ pattern, in string }{{"yyyy-MM-dd", "2024/03/05"}, {"yyyy", "abc"}, {"MMM", "Foo"}} {
		f, _ := compileDateFormat(bad.pattern)
		if _, err := f.parse(bad.in); err == nil {
			t.Errorf("parse %q with %q succeeded", bad.in, bad.pattern)
		}
	}
	for _, bad := range []string{"yyyy-MM-dd'T", "yyyy-qq", "XXXX"} {
		if _, err := compileDateFormat(bad); err == nil {
			t.Errorf("compile %q succeeded", bad)
		}
	}
}
