package connect

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// TestCodecRoundTrip maps Connect records onto stream records and back,
// with attributes (in-process) and with the JSON envelope (Kinesis API),
// and checks what plain Kinesis consumers see.
func TestCodecRoundTrip(t *testing.T) {
	str := data.Primitive(data.TypeString)
	ts := time.UnixMilli(1700000000123)
	long := strings.Repeat("ключ", 100) // 400 characters
	cases := []struct {
		name    string
		props   map[string]string
		rec     data.Record
		wantPK  string
		wantRaw string // the record data plain consumers see (no envelope)
	}{
		{"string key and value", nil,
			data.Record{KeySchema: str, Key: "k1", ValueSchema: str, Value: "v1"}, "k1", "v1"},
		{"null key", nil,
			data.Record{ValueSchema: str, Value: "v"}, "null", "v"},
		{"tombstone", nil,
			data.Record{KeySchema: str, Key: "k"}, "k", ""},
		{"empty key", nil,
			data.Record{KeySchema: str, Key: "", ValueSchema: str, Value: "v"}, "d41d8cd98f00b204e9800998ecf8427e", "v"},
		{"long key", nil,
			data.Record{KeySchema: str, Key: long, ValueSchema: str, Value: "v"}, "", "v"},
		{"binary key", map[string]string{"key.converter": "org.apache.kafka.connect.converters.ByteArrayConverter"},
			data.Record{KeySchema: data.Primitive(data.TypeBytes), Key: []byte{0xff, 0x00, 0xfe}, ValueSchema: str, Value: "v"}, "", "v"},
		{"headers and timestamp", nil,
			data.Record{KeySchema: str, Key: "k", ValueSchema: str, Value: "v", Timestamp: ts, Headers: []data.Header{
				{Key: "a", Schema: data.Primitive(data.TypeInt64), Value: int64(7)},
				{Key: "b", Schema: str, Value: "x"},
				{Key: "a", Schema: nil, Value: nil},
			}}, "k", "v"},
		{"json value", map[string]string{"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false"},
			data.Record{KeySchema: str, Key: "k", Value: map[string]any{"n": int64(1)}}, "k", `{"n":1}`},
	}
	for _, envelope := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(tc.name+map[bool]string{false: "", true: "/envelope"}[envelope], func(t *testing.T) {
				props := map[string]string{}
				for k, v := range tc.props {
					props[k] = v
				}
				if envelope {
					props[cfgEnvelope] = "true"
				}
				c, err := newCodec(props, nil)
				if err != nil {
					t.Fatal(err)
				}
				in := tc.rec
				in.Topic = "s"
				sr, err := c.encode(&in)
				if err != nil {
					t.Fatal(err)
				}
				if n := len([]rune(sr.PartitionKey)); n < 1 || n > 256 {
					t.Fatalf("partition key of %d characters", n)
				}
				if tc.wantPK != "" && sr.PartitionKey != tc.wantPK {
					t.Errorf("partition key = %q, want %q", sr.PartitionKey, tc.wantPK)
				}
				if envelope {
					if sr.Attrs != nil || !json.Valid(sr.Data) {
						t.Fatalf("envelope record: attrs %q, data %q", sr.Attrs, sr.Data)
					}
				} else if string(sr.Data) != tc.wantRaw {
					t.Errorf("data = %q, want %q", sr.Data, tc.wantRaw)
				}
				sr.SequenceNumber, sr.Arrival = "49", time.UnixMilli(1)
				out, err := c.decode("s", "shardId-000000000000", sr)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(out.Key, in.Key) || !reflect.DeepEqual(out.Value, in.Value) {
					t.Errorf("decoded key %#v value %#v, want %#v %#v", out.Key, out.Value, in.Key, in.Value)
				}
				if len(out.Headers) != len(in.Headers) {
					t.Fatalf("headers = %+v", out.Headers)
				}
				for i, h := range in.Headers {
					if out.Headers[i].Key != h.Key || !reflect.DeepEqual(out.Headers[i].Value, h.Value) {
						t.Errorf("header %d = %+v, want %+v", i, out.Headers[i], h)
					}
				}
				wantTime := sr.Arrival
				if !in.Timestamp.IsZero() {
					wantTime = in.Timestamp
				}
				if !out.Timestamp.Equal(wantTime) || out.Shard != "shardId-000000000000" || out.SequenceNumber != "49" {
					t.Errorf("position/time = %v %s %s", out.Timestamp, out.Shard, out.SequenceNumber)
				}
			})
		}
	}
}

// TestMarker: a source offsets marker rides after the other attributes
// and leaves them readable.
func TestMarker(t *testing.T) {
	c, err := newCodec(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	str := data.Primitive(data.TypeString)
	for _, rec := range []data.Record{
		{Topic: "s", KeySchema: str, Key: "k", ValueSchema: str, Value: "v"},
		{Topic: "s", ValueSchema: str, Value: "v", Timestamp: time.UnixMilli(5), Headers: []data.Header{{Key: "h", Schema: str, Value: "x"}}},
	} {
		sr, err := c.encode(&rec)
		if err != nil {
			t.Fatal(err)
		}
		m := marker{Task: "c#0", Batch: 9, Offsets: []PartitionOffset{{Partition: map[string]any{"f": "a"}, Offset: map[string]any{"p": 10.0}}}}
		if sr.Attrs, err = withMarker(sr.Attrs, &m); err != nil {
			t.Fatal(err)
		}
		got, ok := markerOf(sr.Attrs)
		if !ok || !reflect.DeepEqual(*got, m) {
			t.Fatalf("marker = %+v, %v", got, ok)
		}
		out, err := c.decode("s", "shard", sr)
		if err != nil {
			t.Fatal(err)
		}
		if out.Key != rec.Key || out.Value != rec.Value || len(out.Headers) != len(rec.Headers) {
			t.Fatalf("decoded %+v", out)
		}
	}
	if _, ok := markerOf([]byte{attrTime, 2}); ok {
		t.Fatal("marker found in attributes without one")
	}
}

// TestCorruptAttrs: truncated attributes are an error, not a panic.
func TestCorruptAttrs(t *testing.T) {
	c, _ := newCodec(nil, nil)
	str := data.Primitive(data.TypeString)
	rec := data.Record{Topic: "s", KeySchema: data.Primitive(data.TypeBytes), Key: "k", ValueSchema: str, Value: "v",
		Timestamp: time.UnixMilli(5), Headers: []data.Header{{Key: "h", Schema: str, Value: "x"}}}
	sr, err := c.encode(&rec)
	if err != nil {
		t.Fatal(err)
	}
	full := bytes.Clone(sr.Attrs)
	for cut := 1; cut < len(full); cut++ {
		sr.Attrs = full[:cut]
		if _, err := c.decode("s", "shard", sr); err == nil {
			t.Fatalf("attributes cut at %d of %d decoded", cut, len(full))
		}
	}
}
