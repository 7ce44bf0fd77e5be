package integration

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestPartitionKeyUTF8 pins that a partition key is stored exactly as
// sent or refused, never changed: JSON and CBOR text must be UTF-8, so a
// key with invalid UTF-8, or a JSON \u escape of half a surrogate pair,
// is a SerializationException (as a body Coral's parser cannot read is),
// where it used to be stored as U+FFFD with a 200.
func TestPartitionKeyUTF8(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	put := func(pk string) string {
		return fmt.Sprintf(`{"StreamName":%q,"PartitionKey":"%s","Data":"eA=="}`, name, pk)
	}
	for _, tc := range []struct{ name, action, body string }{
		{"invalid byte", "PutRecord", put("k\xffk")},
		{"truncated sequence", "PutRecords", fmt.Sprintf(`{"StreamName":%q,"Records":[{"PartitionKey":"ok","Data":"eA=="},{"PartitionKey":"\xc3","Data":"eA=="}]}`, name)},
		{"invalid byte beside an escape", "PutRecord", put(`\"\xfe`)},
		{"overlong encoding", "PutRecord", put("\xc0\xaf")},
		{"encoded surrogate", "PutRecord", put("\xed\xa0\x80")},
		{"lone high surrogate escape", "PutRecord", put(`\ud800`)},
		{"lone low surrogate escape", "PutRecord", put(`x\udc00`)},
		{"high surrogate escape before a letter", "PutRecord", put(`\uD800\u0041`)},
		{"invalid byte in the stream name", "PutRecord", `{"StreamName":"s\xff","PartitionKey":"k","Data":"eA=="}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := rawCall(t, shared.Endpoint, tc.action, tc.body)
			if code != http.StatusBadRequest || string(body) != `{"__type":"SerializationException"}` {
				t.Fatalf("%s: %d %s, want 400 SerializationException", tc.action, code, body)
			}
		})
	}
	t.Run("CBOR", func(t *testing.T) {
		cc := newCBORClient(t, map[string]bool{})
		cc.fail("PutRecord", map[string]any{"StreamName": name, "PartitionKey": "k\xffk", "Data": []byte("x")}, "SerializationException", "")
		cc.fail("PutRecords", map[string]any{"StreamName": name, "Records": []any{
			map[string]any{"PartitionKey": "\xc3", "Data": []byte("x")}}}, "SerializationException", "")
	})

	// Valid keys, however written, are kept byte for byte, U+FFFD itself
	// included.
	valid := []struct{ sent, want string }{
		{`\ud83d\ude00`, "😀"},
		{"é€😀", "é€😀"},
		{`\ufffd`, "\uFFFD"},
		{"\uFFFD", "\uFFFD"},
		{`a\\ud800`, `a\ud800`},
		{`\u00e9\/`, "é/"},
	}
	for _, v := range valid {
		if code, _, body := rawCall(t, shared.Endpoint, "PutRecord", put(v.sent)); code != http.StatusOK {
			t.Fatalf("PutRecord %s: %d %s", v.sent, code, body)
		}
	}
	recs := readAll(t, c, iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}))
	if len(recs) != len(valid) {
		t.Fatalf("%d records stored, want %d (refused keys must store nothing)", len(recs), len(valid))
	}
	for i, r := range recs {
		if got := aws.ToString(r.PartitionKey); got != valid[i].want {
			t.Errorf("key sent as %s read back as %+q, want %+q", valid[i].sent, got, valid[i].want)
		}
	}
}
