package kinesis

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzServeHTTP feeds arbitrary bodies to every action. Whatever arrives,
// the server must answer with a well-formed AWS response (JSON error or
// success) and never panic; 5xx answers would mean a bug, since every bad
// input has a 4xx error.
func FuzzServeHTTP(f *testing.F) {
	seeds := []string{
		`{}`, `{"StreamName":"s","ShardCount":2}`, `{"StreamName":"s","PartitionKey":"k","Data":"eA=="}`,
		`{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"eA==","ExplicitHashKey":"1"}]}`,
		`{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"1"}`,
		`{"ShardIterator":"AAAA","Limit":0}`, `{"StreamName":"s","ShardFilter":{"Type":"AT_TIMESTAMP","Timestamp":1.5}}`,
		`{"StreamName":"s","Tags":{"a":"b"}}`, `{"ResourceARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}`,
		`{"StreamName":"s","RetentionPeriodHours":-1}`, `{"NextToken":"x"}`, `[1,2]`, `{"Data":"\u0000"}`,
	}
	names := make([]string, 0, len(actions))
	for n := range actions {
		names = append(names, n)
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	svc := newTestService(f, Config{})
	// A stream for the fuzzed requests to find.
	name := Str("s")
	if _, err := svc.createStream(f.Context(), caller{"000000000000", "us-east-1"}, &createStreamInput{StreamName: &name, ShardCount: ptr(Int(2))}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		action := names[int(which)%len(names)]
		if action == "DeleteStream" {
			return // keep the stream for the other actions
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202."+action)
		req.Header.Set("Content-Type", contentTypeJSON)
		w := httptest.NewRecorder()
		svc.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %q: status %d %s", action, body, w.Code, w.Body)
		}
		if w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %q: invalid JSON response %q", action, body, w.Body)
		}
	})
}

// FuzzPutRecordsFast checks the fast PutRecords decoder against the
// general one: whenever the fast path accepts a body, it must decode it
// exactly as encoding/json does.
func FuzzPutRecordsFast(f *testing.F) {
	for _, s := range []string{
		`{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"eA=="},{"Data":"","PartitionKey":"a","ExplicitHashKey":"12"}]}`,
		` { "Records" : [ ] , "StreamARN" : "arn" } `, `{}`, `{"Records":[{}]}`, `{"StreamName":"a\"b"}`,
		`{"Records":[{"Data":"=+/="}]}`, `{"StreamName":"s","StreamName":"t"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast putRecordsInput
		if !decodePutRecordsFast(body, &fast) {
			return
		}
		var slow putRecordsInput
		if err := decodeBody(body, &slow); err != nil {
			t.Fatalf("%q: fast path accepted, encoding/json failed: %v", body, err)
		}
		fb, _ := json.Marshal(fast)
		sb, _ := json.Marshal(slow)
		if !bytes.Equal(fb, sb) {
			t.Fatalf("%q: fast %s, slow %s", body, fb, sb)
		}
	})
}
