package kinesis

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

func mustCBOR(t testing.TB, v any) []byte {
	t.Helper()
	em, _ := cbor.EncOptions{Sort: cbor.SortCoreDeterministic}.EncMode()
	b, err := em.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// TestCBORToJSON pins the request transcoding: byte strings to base64,
// tag 1 milliseconds to epoch seconds, everything else to its JSON twin.
func TestCBORToJSON(t *testing.T) {
	all := allBytes()
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty map", unhex(t, "a0"), `{}`},
		{"strings and ints", mustCBOR(t, map[string]any{"StreamName": "s", "ShardCount": 3}), `{"ShardCount":3,"StreamName":"s"}`},
		{"negative ints", mustCBOR(t, map[string]any{"a": -1, "b": int64(math.MinInt64)}), `{"a":-1,"b":-9223372036854775808}`},
		{"most negative CBOR int", unhex(t, "a1 6161 3b ffffffffffffffff"), `{"a":-18446744073709551616}`},
		{"largest CBOR uint", unhex(t, "a1 6161 1b ffffffffffffffff"), `{"a":18446744073709551615}`},
		{"blob, all byte values", mustCBOR(t, map[string]any{"Data": all}), `{"Data":"` + base64.StdEncoding.EncodeToString(all) + `"}`},
		{"empty blob", mustCBOR(t, map[string]any{"Data": []byte{}}), `{"Data":""}`},
		{"tag 1 int ms", mustCBOR(t, map[string]any{"Timestamp": cbor.Tag{Number: 1, Content: int64(1506440188749)}}), `{"Timestamp":1506440188.749}`},
		{"tag 1 whole seconds", mustCBOR(t, map[string]any{"Timestamp": cbor.Tag{Number: 1, Content: uint64(1506440188000)}}), `{"Timestamp":1506440188}`},
		{"tag 1 trailing zero", mustCBOR(t, map[string]any{"Timestamp": cbor.Tag{Number: 1, Content: 1506440188700}}), `{"Timestamp":1506440188.7}`},
		{"tag 1 float ms rounds", mustCBOR(t, map[string]any{"Timestamp": cbor.Tag{Number: 1, Content: 1506440188749.6}}), `{"Timestamp":1506440188.75}`},
		{"tag 1 half float", unhex(t, "a1 6154 c1 f93c00"), `{"T":0.001}`},
		{"tag 1 negative", mustCBOR(t, map[string]any{"T": cbor.Tag{Number: 1, Content: -1500}}), `{"T":-1.5}`},
		{"untagged timestamp is seconds", mustCBOR(t, map[string]any{"Timestamp": 1506440188.5}), `{"Timestamp":1506440188.5}`},
		{"tag 1 on a string passes the string", unhex(t, "a1 6154 c1 6178"), `{"T":"x"}`},
		{"other tags drop", unhex(t, "d9d9f7 a1 6161 d8 20 6178"), `{"a":"x"}`},
		{"bool, null, undefined", unhex(t, "a3 6161 f5 6162 f6 6163 f7"), `{"a":true,"b":null,"c":null}`},
		{"floats", unhex(t, "a3 6161 f93e00 6162 fa3fc00000 6163 fb3ff8000000000000"), `{"a":1.5,"b":1.5,"c":1.5}`},
		{"nesting", mustCBOR(t, map[string]any{"Records": []any{map[string]any{"Data": []byte("x"), "PartitionKey": "k"}}}), `{"Records":[{"Data":"eA==","PartitionKey":"k"}]}`},
		{"indefinite containers and strings", unhex(t, "bf 6152 9f bf 6144 5f 4161 4162 ff ff ff 7f 6161 6162 ff 9f ff ff"), `{"R":[{"D":"YWI="}],"ab":[]}`},
		{"text needing escapes", mustCBOR(t, map[string]any{"k": "a\"b\\c\n<é>"}), `{"k":"a\"b\\c\n\u003cé\u003e"}`},
	}
	for _, tt := range tests {
		got, err := cborToJSON(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
		if !json.Valid(got) {
			t.Errorf("%s: invalid JSON %s", tt.name, got)
		}
	}

	bad := []struct {
		name string
		in   []byte
	}{
		{"empty body", nil},
		{"not a map", mustCBOR(t, []int{1})},
		{"a string", mustCBOR(t, "x")},
		{"truncated", unhex(t, "a1 6161")},
		{"trailing bytes", unhex(t, "a0 00")},
		{"integer key", unhex(t, "a1 01 02")},
		{"byte string key", unhex(t, "a1 4161 02")},
		{"NaN", unhex(t, "a1 6161 f97e00")},
		{"infinity", unhex(t, "a1 6161 fb7ff0000000000000")},
		{"simple value", unhex(t, "a1 6161 e0")},
		{"break outside indefinite", unhex(t, "a1 6161 ff")},
	}
	for _, tt := range bad {
		if got, err := cborToJSON(tt.in); err == nil || err.Type != "SerializationException" || err.Message != "" {
			t.Errorf("%s: got %s, %v; want a bare SerializationException", tt.name, got, err)
		}
	}
}

// TestCBORSerializationMessages checks that members of the wrong CBOR
// type fail with the JSON path's SerializationException texts.
func TestCBORSerializationMessages(t *testing.T) {
	tests := []struct {
		body map[string]any
		in   any
		want string
	}{
		{map[string]any{"ShardCount": "23"}, &createStreamInput{}, "class java.lang.String can not be converted to an Integer"},
		{map[string]any{"StreamName": 23}, &createStreamInput{}, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},
		{map[string]any{"StreamName": []any{}}, &createStreamInput{}, "Start of list found where not expected"},
		{map[string]any{"Tags": []any{"a"}}, &createStreamInput{}, "Start of list found where not expected"},
		{map[string]any{"Data": true}, &putRecordInput{}, "class java.lang.Boolean can not be converted to a Blob"},
		{map[string]any{"Data": "23456"}, &putRecordInput{}, "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
		{map[string]any{"Timestamp": "now"}, &getShardIteratorInput{}, "class java.lang.String can not be converted to milliseconds since epoch"},
		{map[string]any{"Timestamp": cbor.Tag{Number: 1, Content: "now"}}, &getShardIteratorInput{}, "class java.lang.String can not be converted to milliseconds since epoch"},
	}
	for _, tt := range tests {
		js, err := cborToJSON(mustCBOR(t, tt.body))
		if err == nil {
			err = decodeBody(js, tt.in)
		}
		if err == nil || err.Type != "SerializationException" || err.Message != tt.want {
			t.Errorf("%v: got %v, want SerializationException %q", tt.body, err, tt.want)
		}
	}

	// And the right types decode to the same values as JSON.
	ms := int64(1506440188749)
	js, err := cborToJSON(mustCBOR(t, map[string]any{"Timestamp": cbor.Tag{Number: 1, Content: ms}, "ShardId": "shardId-000000000000"}))
	var in getShardIteratorInput
	if err == nil {
		err = decodeBody(js, &in)
	}
	if err != nil || in.Timestamp.UnixMilli() != ms || *in.ShardId != "shardId-000000000000" {
		t.Fatalf("decoded %+v, %v", in, err)
	}
	js, err = cborToJSON(mustCBOR(t, map[string]any{"Data": allBytes()}))
	var pr putRecordInput
	if err == nil {
		err = decodeBody(js, &pr)
	}
	if err != nil || !bytes.Equal(*pr.Data, allBytes()) {
		t.Fatalf("blob decoded as %v, %v", pr.Data, err)
	}
}

// TestTimestampCBOR: tag 1 holding integer epoch milliseconds.
func TestTimestampCBOR(t *testing.T) {
	for _, ms := range []int64{1506440188749, 1506440188000, 0, -1} {
		b, err := cborEnc.Marshal(struct {
			T Timestamp `json:"T"`
		}{Timestamp{time.UnixMilli(ms)}})
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]cbor.RawTag
		if err := cbor.Unmarshal(b, &v); err != nil {
			t.Fatalf("%d: %x: %v", ms, b, err)
		}
		var got any
		if err := cbor.Unmarshal(v["T"].Content, &got); err != nil {
			t.Fatal(err)
		}
		if v["T"].Number != 1 || reflect.ValueOf(got).Convert(reflect.TypeFor[int64]()).Int() != ms {
			t.Errorf("%d encoded as %x", ms, b)
		}
	}
}

// TestGetRecordsOutputFields is a tripwire: getRecordsOutput encodes
// itself twice, in appendJSON and appendCBOR, and a field added to one
// must be added to the other. Update both, then this count.
func TestGetRecordsOutputFields(t *testing.T) {
	if n := reflect.TypeFor[getRecordsOutput]().NumField(); n != 4 {
		t.Fatalf("getRecordsOutput has %d fields; encode the new one in appendCBOR (cbor.go) as in appendJSON, then update this test", n)
	}
	o := getRecordsOutput{
		records: []outRecord{
			{Seq: "1", Arrival: time.UnixMilli(1506440188749), PartitionKey: "k", Data: allBytes()},
			{Seq: "2", Arrival: time.UnixMilli(1506440189000), PartitionKey: "ké\"", Data: []byte{}},
		},
		next:         "it",
		millisBehind: 7,
		children:     []childShard{{ShardId: "shardId-000000000001", ParentShards: []string{"shardId-000000000000"}, HashKeyRange: hashKeyRange{"0", "1"}}},
	}
	for _, o := range []getRecordsOutput{o, {}} {
		sameAsJSON(t, o.appendJSON(nil), o.appendCBOR(nil))
	}
}

// sameAsJSON fails unless a CBOR response says what the JSON one does.
// Transcoding the CBOR back to JSON (byte strings to base64, tag 1 to
// seconds) must give the same JSON value: an untagged timestamp or a text
// blob would not.
func sameAsJSON(t *testing.T, js, cb []byte) {
	t.Helper()
	back, aerr := cborToJSON(cb)
	if aerr != nil {
		t.Fatalf("CBOR response %x does not transcode: %v", cb, aerr)
	}
	var a, b any
	da, db := json.NewDecoder(bytes.NewReader(js)), json.NewDecoder(bytes.NewReader(back))
	da.UseNumber()
	db.UseNumber()
	if err := da.Decode(&a); err != nil {
		t.Fatal(err)
	}
	if err := db.Decode(&b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("CBOR and JSON responses differ:\nJSON %s\nCBOR %s", js, back)
	}
}

// serveBoth sends one request as JSON and as CBOR (transcoding the JSON
// body with the test's own encoder) and returns both responses.
func serveBoth(t *testing.T, s *Service, action string, body map[string]any) (js, cb *httptest.ResponseRecorder) {
	t.Helper()
	jb, _ := json.Marshal(body)
	for _, ct := range []string{contentTypeJSON, contentTypeCBOR} {
		b := jb
		if ct == contentTypeCBOR {
			b = mustCBOR(t, body)
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(b))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202."+action)
		req.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if got := w.Header().Get("Content-Type"); got != ct {
			t.Fatalf("%s over %s: Content-Type %q", action, ct, got)
		}
		if ct == contentTypeJSON {
			js = w
		} else {
			cb = w
		}
	}
	if js.Code != cb.Code {
		t.Fatalf("%s: JSON status %d, CBOR status %d (%s)", action, js.Code, cb.Code, cb.Body)
	}
	return js, cb
}

// TestCBORServe runs requests through ServeHTTP in both protocols and
// checks that the CBOR answers carry what the JSON ones do, errors
// included.
func TestCBORServe(t *testing.T) {
	s := newTestService(t, Config{})
	ctx := t.Context()
	c := caller{"000000000000", "us-east-1"}
	if _, err := s.createStream(ctx, c, &createStreamInput{StreamName: ptr(Str("s")), ShardCount: ptr(Int(2))}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		action string
		body   map[string]any
	}{
		{"DescribeStream", map[string]any{"StreamName": "s"}},
		{"DescribeStreamSummary", map[string]any{"StreamName": "s"}},
		{"ListStreams", map[string]any{}},
		{"ListShards", map[string]any{"StreamName": "s"}},
		{"DescribeLimits", map[string]any{}},
		{"ListTagsForStream", map[string]any{"StreamName": "s"}},
		{"DescribeStream", map[string]any{"StreamName": "nope"}},
		{"DescribeStream", map[string]any{"StreamName": ""}},
		{"CreateStream", map[string]any{"ShardCount": "x"}},
		{"GetRecords", map[string]any{"ShardIterator": "bad"}},
	} {
		js, cb := serveBoth(t, s, r.action, r.body)
		if cb.Header().Get("x-amzn-ErrorType") != js.Header().Get("x-amzn-ErrorType") {
			t.Errorf("%s: error types %q and %q", r.action, js.Header().Get("x-amzn-ErrorType"), cb.Header().Get("x-amzn-ErrorType"))
		}
		sameAsJSON(t, js.Body.Bytes(), cb.Body.Bytes())
	}

	// An action without output members answers an empty CBOR map.
	_, cb := serveBoth(t, s, "AddTagsToStream", map[string]any{"StreamName": "s", "Tags": map[string]string{"a": "b"}})
	if !bytes.Equal(cb.Body.Bytes(), []byte{0xa0}) {
		t.Errorf("AddTagsToStream over CBOR answered %x", cb.Body.Bytes())
	}

	// Protocol-level errors before any action runs answer in CBOR too.
	for _, r := range []struct {
		target string
		body   []byte
		want   string
	}{
		{"Kinesis_20131202.ListStreams", nil, "SerializationException"},
		{"Kinesis_20131202.Nope", []byte{0xa0}, "UnknownOperationException"},
		{"Kinesis_20131202.ListStreams", []byte{0x01}, "SerializationException"},
		{"Kinesis_20131202.ListStreams", []byte("{}"), "SerializationException"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(r.body))
		req.Header.Set("X-Amz-Target", r.target)
		req.Header.Set("Content-Type", contentTypeCBOR+"; charset=utf-8")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		var e map[string]string
		if err := cbor.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != http.StatusBadRequest || e["__type"] != r.want ||
			w.Header().Get("Content-Type") != contentTypeCBOR {
			t.Errorf("%s %x: %d %s %x (%v), want 400 CBOR %s", r.target, r.body, w.Code, w.Header().Get("Content-Type"), w.Body.Bytes(), err, r.want)
		}
	}
}

// FuzzCBORToJSON: whatever arrives, the transcoder must not panic, and
// what it accepts must be one valid JSON object.
func FuzzCBORToJSON(f *testing.F) {
	for _, s := range []string{
		"a0", "a1616101", "a16144c11b0000015ebf3b5c4d", "bf6152 9fbf61445f41614162ffffff7f61616162ff9fffff",
		"a16154c1fb4275ef0bc5c4d000", "a1616140", "d9d9f7a0", "a1 6161 f97e00", "a2616180616282a0f6",
	} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		js, err := cborToJSON(body)
		if err != nil {
			return
		}
		if !json.Valid(js) || js[0] != '{' {
			t.Fatalf("%x transcoded to %s", body, js)
		}
	})
}

// BenchmarkCBORPutRecords measures the transcoding a KPL-sized PutRecords
// (500 records of 10 KiB) pays before the JSON decoder sees it.
func BenchmarkCBORPutRecords(b *testing.B) {
	recs := make([]any, 500)
	for i := range recs {
		recs[i] = map[string]any{"PartitionKey": "pk", "Data": bytes.Repeat([]byte{byte(i)}, 10<<10)}
	}
	body := mustCBOR(b, map[string]any{"StreamName": "s", "Records": recs})
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		js, err := cborToJSON(body)
		if err != nil {
			b.Fatal(err)
		}
		var in putRecordsInput
		if !decodePutRecordsFast(js, &in) {
			b.Fatal("fast path refused a transcoded body")
		}
	}
}

// BenchmarkGetRecordsCBOR compares the two encodings of a large read.
func BenchmarkGetRecordsCBOR(b *testing.B) {
	o := getRecordsOutput{next: "it"}
	for i := range 1000 {
		o.records = append(o.records, outRecord{Seq: strings.Repeat("4", 56), Arrival: time.Now(), PartitionKey: "pk", Data: bytes.Repeat([]byte{byte(i)}, 10<<10)})
	}
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			o.appendJSON(nil)
		}
	})
	b.Run("cbor", func(b *testing.B) {
		for b.Loop() {
			o.appendCBOR(nil)
		}
	})
}

// FuzzServeCBOR is FuzzServeHTTP for CBOR bodies: no panic, no 5xx, and
// every answer a well-formed CBOR item.
func FuzzServeCBOR(f *testing.F) {
	seeds := []map[string]any{
		{}, {"StreamName": "s", "ShardCount": 2}, {"StreamName": "s", "PartitionKey": "k", "Data": []byte{0, 255}},
		{"StreamName": "s", "Records": []any{map[string]any{"PartitionKey": "k", "Data": []byte("x"), "ExplicitHashKey": "1"}}},
		{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": cbor.Tag{Number: 1, Content: 1}},
		{"StreamName": "s", "ShardFilter": map[string]any{"Type": "AT_TIMESTAMP", "Timestamp": cbor.Tag{Number: 1, Content: 1.5}}},
		{"ShardIterator": "AAAA", "Limit": 0}, {"StreamName": "s", "Tags": map[string]any{"a": "b"}},
	}
	names := make([]string, 0, len(actions))
	for n := range actions {
		names = append(names, n)
	}
	for i, s := range seeds {
		f.Add(uint8(i), mustCBOR(f, s))
	}
	svc := newTestService(f, Config{})
	name := Str("s")
	if _, err := svc.createStream(f.Context(), caller{"000000000000", "us-east-1"}, &createStreamInput{StreamName: &name, ShardCount: ptr(Int(2))}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		action := names[int(which)%len(names)]
		if action == "DeleteStream" {
			return
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202."+action)
		req.Header.Set("Content-Type", contentTypeCBOR)
		w := httptest.NewRecorder()
		svc.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %x: status %d %x", action, body, w.Code, w.Body)
		}
		if err := cbor.Wellformed(w.Body.Bytes()); err != nil {
			t.Fatalf("%s %x: response %x: %v", action, body, w.Body.Bytes(), err)
		}
	})
}
