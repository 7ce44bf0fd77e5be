package kinesis

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/streams"
)

// newTestService is a Service over an in-memory store, with cfg's delays
// and settings; both are closed when the test ends.
func newTestService(t testing.TB, cfg Config) *Service {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(ctx, st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestExpiredIterator pins AWS's ExpiredIteratorException, which no
// end-to-end test can reach without waiting five minutes.
func TestExpiredIterator(t *testing.T) {
	s := newTestService(t, Config{})
	ctx := context.Background()
	c := caller{"000000000000", "us-east-1"}
	name := Str("s")
	if _, err := s.createStream(ctx, c, &createStreamInput{StreamName: &name, ShardCount: ptr(Int(1))}); err != nil {
		t.Fatal(err)
	}
	e, _ := s.eng.Lookup(streams.Ref{Account: c.account, Region: c.region, Name: "s"})
	created := time.Date(2026, 1, 22, 1, 22, 2, 0, time.UTC)
	it := s.iters.seal(iterator{Created: created, UID: e.Meta.UID, Account: c.account, Region: c.region, Stream: "s"})
	_, err := s.getRecords(ctx, c, &getRecordsInput{ShardIterator: ptr(Str(it))})
	if err == nil || err.Type != "ExpiredIteratorException" {
		t.Fatalf("got %v, want ExpiredIteratorException", err)
	}
	want := regexp.MustCompile(`^Iterator expired\. The iterator was created at time Thu Jan 22 01:22:02 UTC 2026 while right now it is \w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4} which is further in the future than the tolerated delay of 300000 milliseconds\.$`)
	if !want.MatchString(err.Message) {
		t.Fatalf("message %q does not match AWS's form", err.Message)
	}

	// Just inside the limit the same iterator works.
	fresh := s.iters.seal(iterator{Created: time.Now().Add(-iteratorTTL + 5*time.Second), UID: e.Meta.UID, Account: c.account, Region: c.region, Stream: "s"})
	if _, err := s.getRecords(ctx, c, &getRecordsInput{ShardIterator: ptr(Str(fresh))}); err != nil {
		t.Fatalf("iterator 4m55s old: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestIteratorCodec(t *testing.T) {
	c, err := newIteratorCodec(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	in := iterator{Created: time.UnixMilli(1700000000123), Seq: 1 << 40, Index: 499,
		AtTime: time.UnixMilli(1600000000000), ShardIndex: 12, UID: "abc", Account: "111122223333", Region: "eu-west-1",
		Stream: strings.Repeat("n", 128)}
	s := c.seal(in)
	if len(s) > 512 {
		t.Fatalf("iterator is %d characters; AWS allows 512", len(s))
	}
	out, err := c.open(s)
	if err != nil || !out.Created.Equal(in.Created) || !out.AtTime.Equal(in.AtTime) ||
		out.Seq != in.Seq || out.Index != in.Index || out.ShardIndex != in.ShardIndex ||
		out.UID != in.UID || out.Account != in.Account || out.Region != in.Region || out.Stream != in.Stream {
		t.Fatalf("round trip: %+v, %v", out, err)
	}
	// Any change to the sealed bytes is detected. (The first character is
	// random: replace it with one it is not.)
	first := "x"
	if s[0] == 'x' {
		first = "y"
	}
	for _, bad := range []string{"", "AAAA", s[:len(s)-4] + "AAAA", first + s[1:], s + "="} {
		if _, err := c.open(bad); err == nil {
			t.Errorf("open(%q) accepted a tampered iterator", bad)
		}
	}
}

// TestSerializationMessages pins the SerializationException texts AWS's
// front end produces for members of the wrong JSON type.
func TestSerializationMessages(t *testing.T) {
	tests := []struct {
		body, want string
	}{
		{`{"ShardCount":"23"}`, "class java.lang.String can not be converted to an Integer"},
		{`{"ShardCount":true}`, "class java.lang.Boolean can not be converted to an Integer"},
		{`{"StreamName":23}`, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},
		{`{"StreamName":true}`, "class java.lang.Boolean can not be converted to an String"},
		{`{"StreamName":[]}`, "Start of list found where not expected"},
		{`{"StreamName":{}}`, "Start of structure or map found where not expected."},
		{`{"Tags":"x"}`, "Expected map or null"},
		{`{"Tags":[]}`, "Start of list found where not expected"},
		{`{"Tags":{"a":1}}`, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},
		{`{"StreamModeDetails":"x"}`, "Expected null"},
		{`{"StreamModeDetails":[]}`, "Start of list found where not expected"},
	}
	for _, tt := range tests {
		var in createStreamInput
		err := decodeBody([]byte(tt.body), &in)
		if err == nil || err.Type != "SerializationException" || err.Message != tt.want {
			t.Errorf("%s: got %v, want SerializationException %q", tt.body, err, tt.want)
		}
	}
	blobs := []struct{ body, want string }{
		{`{"Data":true}`, "class java.lang.Boolean can not be converted to a Blob"},
		{`{"Data":"23456"}`, "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
		{`{"Data":"=+/="}`, "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"},
		{`{"Data":"+/+="}`, "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"},
		{`{"Records":"x"}`, "Expected list or null"},
		{`{"Records":{}}`, "Start of structure or map found where not expected."},
		{`{"Records":["x"]}`, "Expected null"},
	}
	for _, tt := range blobs {
		var in struct {
			putRecordInput
			Records *putRecordsEntries `json:"Records"`
		}
		err := decodeBody([]byte(tt.body), &in)
		if err == nil || err.Type != "SerializationException" || err.Message != tt.want {
			t.Errorf("%s: got %v, want SerializationException %q", tt.body, err, tt.want)
		}
	}
	var n struct{ N *Int }
	if err := decodeBody([]byte(`{"N":1.9}`), &n); err != nil || *n.N != 1 {
		t.Errorf("1.9 decoded as %v, %v; AWS floors it to 1", n.N, err)
	}
	if err := decodeBody([]byte(`{"N":100000000000}`), &n); err != nil || *n.N != 2147483647 {
		t.Errorf("1e11 decoded as %v, %v; AWS clamps it to 2147483647", n.N, err)
	}
	for _, body := range []string{``, `[]`, `hello`, `{"a":`, `null`} {
		var in createStreamInput
		if err := decodeBody([]byte(body), &in); err == nil || err.Type != "SerializationException" || err.Message != "" {
			t.Errorf("%q: got %v, want a bare SerializationException", body, err)
		}
	}
}

func TestTimestampEncoding(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.UnixMilli(1506440188749), "1506440188.749"},
		{time.UnixMilli(1506440188700), "1506440188.7"},
		{time.UnixMilli(1506440188000), "1506440188"},
	} {
		b, _ := json.Marshal(Timestamp{tt.t})
		if string(b) != tt.want {
			t.Errorf("%v encoded as %s, want %s", tt.t, b, tt.want)
		}
	}
}
