package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/fxamacker/cbor/v2"
)

// The Java SDKs (and so the KCL and the KPL) speak CBOR by default. These
// tests send raw application/x-amz-cbor-1.1 requests for every action and
// decode the answers strictly: blobs must be byte strings, timestamps tag
// 1 holding integer epoch milliseconds, errors CBOR maps. Values are
// checked against what the JSON API (through aws-sdk-go-v2) says about
// the same streams and records.

const cborType = "application/x-amz-cbor-1.1"

// cborActions is every action the server implements (http.go's actions
// map); TestCBOR fails unless its subtests sent each of them over CBOR.
var cborActions = []string{
	"CreateStream", "DeleteStream", "DescribeStream", "DescribeStreamSummary", "ListStreams", "ListShards",
	"IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod",
	"AddTagsToStream", "RemoveTagsFromStream", "ListTagsForStream", "TagResource", "UntagResource", "ListTagsForResource",
	"DescribeLimits", "PutRecord", "PutRecords", "GetShardIterator", "GetRecords",
	"SplitShard", "MergeShards", "UpdateShardCount",
	"RegisterStreamConsumer", "DeregisterStreamConsumer", "DescribeStreamConsumer", "ListStreamConsumers",
	"EnableEnhancedMonitoring", "DisableEnhancedMonitoring", "UpdateStreamMode", "UpdateMaxRecordSize",
	"UpdateStreamWarmThroughput", "UpdateStreamRecordDistributionStrategy",
	"PutResourcePolicy", "GetResourcePolicy", "DeleteResourcePolicy", "DescribeAccountSettings", "UpdateAccountSettings",
}

// msTag is a CBOR timestamp as the Java SDKs write one.
func msTag(ms int64) cbor.Tag { return cbor.Tag{Number: 1, Content: ms} }

// cborTime decodes a timestamp member, failing unless it is tag 1 holding
// an integer (epoch milliseconds).
type cborTime struct{ ms int64 }

func (ts *cborTime) UnmarshalCBOR(b []byte) error {
	var tag cbor.RawTag
	if len(b) == 0 || b[0]>>5 != 6 || cbor.Unmarshal(b, &tag) != nil || tag.Number != 1 {
		return fmt.Errorf("timestamp %x is not CBOR tag 1", b)
	}
	if len(tag.Content) == 0 || tag.Content[0]>>5 > 1 {
		return fmt.Errorf("timestamp content %x is not an integer", tag.Content)
	}
	return cbor.Unmarshal(tag.Content, &ts.ms)
}

// cborBlob decodes a blob member, failing unless it is a byte string.
type cborBlob []byte

func (p *cborBlob) UnmarshalCBOR(b []byte) error {
	if len(b) == 0 || b[0]>>5 != 2 {
		return fmt.Errorf("blob %x is not a CBOR byte string", b)
	}
	var v []byte
	if err := cbor.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = v
	return nil
}

type cborClient struct {
	t    *testing.T
	enc  cbor.EncMode
	sent map[string]bool
	// account, when set, is named by an (unverified) SigV4 credential, as
	// the SDK clients of testserver.WithAccount do.
	account string
}

// newCBORClient returns a client that records in sent the actions it
// sends.
func newCBORClient(t *testing.T, sent map[string]bool) *cborClient {
	enc, err := cbor.EncOptions{Sort: cbor.SortCoreDeterministic}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	return &cborClient{t: t, enc: enc, sent: sent}
}

// call sends one unsigned CBOR request and returns the status and body,
// after checking the headers every answer carries.
func (cc *cborClient) call(action string, body any) (int, http.Header, []byte) {
	t := cc.t
	t.Helper()
	b, err := cc.enc.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	cc.sent[action] = true
	req, err := http.NewRequest(http.MethodPost, shared.Endpoint+"/", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", cborType)
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+action)
	if cc.account != "" {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+cc.account+"/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != cborType {
		t.Fatalf("%s: Content-Type %q, want %s (status %d, body %x)", action, ct, cborType, resp.StatusCode, rb)
	}
	checkRequestIDs(t, resp.Header)
	return resp.StatusCode, resp.Header, rb
}

// ok sends a request that must succeed and decodes its answer into out;
// a nil out means the action has no output, which is an empty map.
func (cc *cborClient) ok(action string, body, out any) {
	t := cc.t
	t.Helper()
	status, _, b := cc.call(action, body)
	if status != http.StatusOK {
		t.Fatalf("%s: status %d, body %s", action, status, diag(b))
	}
	if out == nil {
		if !bytes.Equal(b, []byte{0xa0}) {
			t.Fatalf("%s: body %x, want an empty CBOR map", action, b)
		}
		return
	}
	if err := cbor.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: decoding %s: %v", action, diag(b), err)
	}
}

// cborError is an error body: the same members as in JSON.
type cborError struct {
	Type    string `cbor:"__type"`
	Message string `cbor:"message"`
	Cap     string `cbor:"Message"`
}

// fail sends a request that must fail with status 400 and the given type
// and, unless msg is empty, message. It returns the message.
func (cc *cborClient) fail(action string, body any, typ, msg string) string {
	t := cc.t
	t.Helper()
	status, h, b := cc.call(action, body)
	var e cborError
	if err := cbor.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s: error body %s: %v", action, diag(b), err)
	}
	if e.Message == "" {
		e.Message = e.Cap
	}
	if status != http.StatusBadRequest || e.Type != typ || h.Get("x-amzn-ErrorType") != typ {
		t.Fatalf("%s: status %d, %s %q, want 400 %s", action, status, e.Type, e.Message, typ)
	}
	if msg != "" && e.Message != msg {
		t.Fatalf("%s: %s message\n got: %s\nwant: %s", action, typ, e.Message, msg)
	}
	return e.Message
}

func diag(b []byte) string {
	s, err := cbor.Diagnose(b)
	if err != nil {
		return fmt.Sprintf("%x", b)
	}
	return s
}

type cborSummary struct {
	StreamDescriptionSummary struct {
		StreamName              string
		StreamARN               string
		StreamStatus            string
		RetentionPeriodHours    int
		StreamCreationTimestamp cborTime
		OpenShardCount          int
	}
}

type cborShard struct {
	ShardId      string
	HashKeyRange struct {
		StartingHashKey, EndingHashKey string
	}
	SequenceNumberRange struct {
		StartingSequenceNumber string
	}
}

type cborRecord struct {
	SequenceNumber              string
	ApproximateArrivalTimestamp cborTime
	Data                        cborBlob
	PartitionKey                string
}

type cborGetRecords struct {
	Records            []cborRecord
	NextShardIterator  *string
	MillisBehindLatest *int64
	ChildShards        []struct {
		ShardId      string
		ParentShards []string
	}
}

func (cc *cborClient) summary(name string) cborSummary {
	cc.t.Helper()
	var s cborSummary
	cc.ok("DescribeStreamSummary", map[string]any{"StreamName": name}, &s)
	return s
}

func (cc *cborClient) waitActive(name string) {
	cc.t.Helper()
	poll(cc.t, name+" ACTIVE over CBOR", 20*time.Second, func() bool {
		return cc.summary(name).StreamDescriptionSummary.StreamStatus == "ACTIVE"
	})
}

func (cc *cborClient) iterator(in map[string]any) string {
	cc.t.Helper()
	var out struct{ ShardIterator string }
	cc.ok("GetShardIterator", in, &out)
	if out.ShardIterator == "" {
		cc.t.Fatalf("GetShardIterator %v: no iterator", in)
	}
	return out.ShardIterator
}

func (cc *cborClient) getRecords(it string) cborGetRecords {
	cc.t.Helper()
	var out cborGetRecords
	cc.ok("GetRecords", map[string]any{"ShardIterator": it}, &out)
	if out.MillisBehindLatest == nil {
		cc.t.Fatal("GetRecords: no MillisBehindLatest")
	}
	return out
}

// TestCBOR round-trips every action over CBOR: binary data with all 256
// byte values comes back byte-exact, timestamps are tag 1 milliseconds
// that agree with the JSON API, AT_TIMESTAMP honours milliseconds, and
// errors are CBOR maps with AWS's types, messages and statuses.
func TestCBOR(t *testing.T) {
	t.Parallel()
	sent := map[string]bool{}
	// Sequential subtests, so that the coverage check below sees them all.
	t.Run("streams and records", func(t *testing.T) { cborStreamsAndRecords(t, sent) })
	t.Run("reshard", func(t *testing.T) { cborReshard(t, newCBORClient(t, sent)) })
	t.Run("settings", func(t *testing.T) { cborSettings(t, sent) })
	for _, a := range cborActions {
		if !sent[a] {
			t.Errorf("%s was never sent over CBOR", a)
		}
	}
}

// cborStreamsAndRecords covers the stream, record, retention, tag and
// limit actions, and errors.
func cborStreamsAndRecords(t *testing.T, sent map[string]bool) {
	c := client()
	ctx := ctxFor(t)
	cc := newCBORClient(t, sent)
	name := streamName(t)
	arn := arnOf("us-east-1", defaultAccount, name)

	cc.ok("CreateStream", map[string]any{"StreamName": name, "ShardCount": 2, "Tags": map[string]string{"team": "data"}}, nil)
	cc.waitActive(name)

	// Stream descriptions: StreamCreationTimestamp is tag 1 ms and agrees
	// with the JSON API everywhere it appears.
	js, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	created := js.StreamDescriptionSummary.StreamCreationTimestamp.UnixMilli()
	sum := cc.summary(name).StreamDescriptionSummary
	if sum.StreamName != name || sum.StreamARN != arn || sum.OpenShardCount != 2 || sum.RetentionPeriodHours != 24 ||
		sum.StreamCreationTimestamp.ms != created {
		t.Fatalf("DescribeStreamSummary over CBOR = %+v; JSON says created at %d ms", sum, created)
	}
	var desc struct {
		StreamDescription struct {
			StreamName              string
			StreamStatus            string
			Shards                  []cborShard
			HasMoreShards           bool
			StreamCreationTimestamp cborTime
		}
	}
	cc.ok("DescribeStream", map[string]any{"StreamName": name}, &desc)
	if d := desc.StreamDescription; d.StreamName != name || len(d.Shards) != 2 || d.HasMoreShards || d.StreamCreationTimestamp.ms != created {
		t.Fatalf("DescribeStream over CBOR = %+v; JSON says created at %d ms", d, created)
	}
	var list struct {
		StreamNames     []string
		HasMoreStreams  bool
		StreamSummaries []struct {
			StreamName              string
			StreamCreationTimestamp cborTime
		}
	}
	cc.ok("ListStreams", map[string]any{"Limit": 10000}, &list)
	if !slices.Contains(list.StreamNames, name) {
		t.Fatalf("ListStreams over CBOR lacks %s", name)
	}
	for _, s := range list.StreamSummaries {
		if s.StreamName == name && s.StreamCreationTimestamp.ms != created {
			t.Fatalf("ListStreams: %s created at %d ms, JSON says %d", name, s.StreamCreationTimestamp.ms, created)
		}
	}
	var shards struct{ Shards []cborShard }
	cc.ok("ListShards", map[string]any{"StreamName": name, "ShardFilter": map[string]any{"Type": "AT_TIMESTAMP", "Timestamp": msTag(time.Now().UnixMilli())}}, &shards)
	if len(shards.Shards) != 2 || shards.Shards[1].ShardId != "shardId-000000000001" {
		t.Fatalf("ListShards over CBOR = %+v", shards)
	}

	// Writes: every byte value, an empty blob and a large random one.
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	reversed := slices.Clone(all)
	slices.Reverse(reversed)
	big := make([]byte, 200<<10)
	for i := range big {
		big[i] = byte(rand.UintN(256))
	}
	wrote := map[string][]byte{} // by sequence number
	var put struct{ ShardId, SequenceNumber, EncryptionType string }
	cc.ok("PutRecord", map[string]any{"StreamName": name, "PartitionKey": "a", "Data": all, "ExplicitHashKey": "0"}, &put)
	if put.ShardId != "shardId-000000000000" || len(put.SequenceNumber) != 56 || put.EncryptionType != "NONE" {
		t.Fatalf("PutRecord over CBOR = %+v", put)
	}
	wrote[put.SequenceNumber] = all
	first := put.SequenceNumber
	time.Sleep(30 * time.Millisecond) // so that the next records arrive at a later millisecond
	entries := []map[string]any{
		{"PartitionKey": "b", "Data": reversed, "ExplicitHashKey": "0"},
		{"PartitionKey": "c", "Data": []byte{}, "ExplicitHashKey": "0"},
		{"PartitionKey": "d", "Data": big, "ExplicitHashKey": "340282366920938463463374607431768211455"},
	}
	var puts struct {
		FailedRecordCount int
		Records           []struct{ SequenceNumber, ShardId, ErrorCode string }
		EncryptionType    string
	}
	cc.ok("PutRecords", map[string]any{"StreamName": name, "Records": entries}, &puts)
	if puts.FailedRecordCount != 0 || len(puts.Records) != 3 || puts.Records[2].ShardId != "shardId-000000000001" {
		t.Fatalf("PutRecords over CBOR = %+v", puts)
	}
	for i, r := range puts.Records {
		wrote[r.SequenceNumber] = entries[i]["Data"].([]byte)
	}

	// Reads: byte-exact data, and arrival times that agree with JSON's.
	arrival := map[string]int64{}
	for shard := range 2 {
		id := fmt.Sprintf("shardId-%012d", shard)
		it := cc.iterator(map[string]any{"StreamName": name, "ShardId": id, "ShardIteratorType": "TRIM_HORIZON"})
		out := cc.getRecords(it)
		if want := []int{3, 1}[shard]; len(out.Records) != want || out.NextShardIterator == nil {
			t.Fatalf("%s: GetRecords over CBOR returned %d records (next %v), want %d", id, len(out.Records), out.NextShardIterator, want)
		}
		for _, r := range out.Records {
			if !bytes.Equal(r.Data, wrote[r.SequenceNumber]) {
				t.Fatalf("%s: record %s data differs: %d bytes back, %d sent", id, r.SequenceNumber, len(r.Data), len(wrote[r.SequenceNumber]))
			}
			arrival[r.SequenceNumber] = r.ApproximateArrivalTimestamp.ms
		}
		if more := cc.getRecords(*out.NextShardIterator); len(more.Records) != 0 || more.NextShardIterator == nil {
			t.Fatalf("%s: second GetRecords = %+v", id, more)
		}
		jrecs := readAll(t, c, iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String(id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}))
		for _, r := range jrecs {
			if ms, ok := arrival[*r.SequenceNumber]; !ok || ms != r.ApproximateArrivalTimestamp.UnixMilli() || !bytes.Equal(r.Data, wrote[*r.SequenceNumber]) {
				t.Fatalf("%s: record %s: CBOR arrival %d ms, JSON %d ms", id, *r.SequenceNumber, ms, r.ApproximateArrivalTimestamp.UnixMilli())
			}
		}
		if len(jrecs) != len(out.Records) {
			t.Fatalf("%s: %d records over JSON, %d over CBOR", id, len(jrecs), len(out.Records))
		}
	}
	if len(arrival) != len(wrote) {
		t.Fatalf("read %d records back, sent %d", len(arrival), len(sent))
	}

	// AT_TIMESTAMP takes tag-1 milliseconds: at the first record's arrival
	// millisecond it is included, one millisecond later it is not.
	atTime := func(ts any) []cborRecord {
		t.Helper()
		it := cc.iterator(map[string]any{"StreamName": name, "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": ts})
		return cc.getRecords(it).Records
	}
	t0 := arrival[first]
	if recs := atTime(msTag(t0)); len(recs) != 3 || recs[0].SequenceNumber != first {
		t.Fatalf("AT_TIMESTAMP %d ms returned %d records", t0, len(recs))
	}
	if recs := atTime(cbor.Tag{Number: 1, Content: float64(t0) + 0.4}); len(recs) != 3 || recs[0].SequenceNumber != first {
		t.Fatalf("AT_TIMESTAMP %d.4 ms (float) returned %d records", t0, len(recs))
	}
	if recs := atTime(msTag(t0 + 1)); len(recs) != 2 || recs[0].SequenceNumber == first {
		t.Fatalf("AT_TIMESTAMP %d ms returned %d records, want the 2 after the first", t0+1, len(recs))
	}
	future := time.Now().Add(time.Hour).UnixMilli()
	msg := cc.fail("GetShardIterator", map[string]any{"StreamName": name, "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": msTag(future)},
		"InvalidArgumentException", "")
	if !strings.Contains(msg, fmt.Sprintf("timestampInMillis: %d,", future)) {
		t.Fatalf("future AT_TIMESTAMP: %q, want it to echo %d ms", msg, future)
	}

	// Retention.
	cc.ok("IncreaseStreamRetentionPeriod", map[string]any{"StreamName": name, "RetentionPeriodHours": 48}, nil)
	if h := cc.summary(name).StreamDescriptionSummary.RetentionPeriodHours; h != 48 {
		t.Fatalf("retention %d after increase to 48", h)
	}
	cc.ok("DecreaseStreamRetentionPeriod", map[string]any{"StreamARN": arn, "RetentionPeriodHours": 24}, nil)
	if h := cc.summary(name).StreamDescriptionSummary.RetentionPeriodHours; h != 24 {
		t.Fatalf("retention %d after decrease to 24", h)
	}

	// Tags, by name and by ARN.
	type tags struct {
		Tags        []struct{ Key, Value string }
		HasMoreTags bool
	}
	tagsOf := func(action string, body map[string]any) string {
		t.Helper()
		var out tags
		cc.ok(action, body, &out)
		var s []string
		for _, tg := range out.Tags {
			s = append(s, tg.Key+"="+tg.Value)
		}
		return strings.Join(s, ",")
	}
	cc.ok("AddTagsToStream", map[string]any{"StreamName": name, "Tags": map[string]string{"k1": "v1"}}, nil)
	if got := tagsOf("ListTagsForStream", map[string]any{"StreamName": name}); got != "k1=v1,team=data" {
		t.Fatalf("ListTagsForStream = %s", got)
	}
	cc.ok("RemoveTagsFromStream", map[string]any{"StreamName": name, "TagKeys": []string{"k1"}}, nil)
	cc.ok("TagResource", map[string]any{"ResourceARN": arn, "Tags": map[string]string{"r": "1"}}, nil)
	if got := tagsOf("ListTagsForResource", map[string]any{"ResourceARN": arn}); got != "r=1,team=data" {
		t.Fatalf("ListTagsForResource = %s", got)
	}
	cc.ok("UntagResource", map[string]any{"ResourceARN": arn, "TagKeys": []string{"r"}}, nil)
	if got := tagsOf("ListTagsForStream", map[string]any{"StreamName": name}); got != "team=data" {
		t.Fatalf("ListTagsForStream after removals = %s", got)
	}

	var limits struct{ ShardLimit, OpenShardCount, OnDemandStreamCount, OnDemandStreamCountLimit int }
	cc.ok("DescribeLimits", map[string]any{}, &limits)
	if jl, err := c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{}); err != nil || int(*jl.ShardLimit) != limits.ShardLimit || limits.OpenShardCount < 2 {
		t.Fatalf("DescribeLimits over CBOR = %+v (JSON %v)", limits, err)
	}

	// Errors are CBOR maps with JSON's types and messages.
	for _, e := range []struct {
		action string
		body   map[string]any
	}{
		{"DescribeStream", map[string]any{"StreamName": name + "-missing"}},
		{"PutRecord", map[string]any{"StreamName": name + "-missing", "PartitionKey": "a", "Data": []byte("x")}},
		{"CreateStream", map[string]any{"StreamName": "bad name!", "ShardCount": 0}},
		{"GetRecords", map[string]any{"ShardIterator": "bogus", "Limit": 0}},
		{"GetRecords", map[string]any{"ShardIterator": "bogus"}},
	} {
		jb, _ := json.Marshal(e.body)
		var ae smithy.APIError
		if !errors.As(rawErr(t, e.action, string(jb)), &ae) {
			t.Fatalf("%s %s succeeded over JSON", e.action, jb)
		}
		cc.fail(e.action, e.body, ae.ErrorCode(), ae.ErrorMessage())
	}
	cc.fail("DescribeStream", map[string]any{"StreamName": name + "-missing"}, "ResourceNotFoundException",
		fmt.Sprintf("Stream %s-missing under account %s not found.", name, defaultAccount))
	cc.fail("CreateStream", map[string]any{"StreamName": name, "ShardCount": "two"}, "SerializationException",
		"class java.lang.String can not be converted to an Integer")
	cc.fail("PutRecord", map[string]any{"StreamName": name, "PartitionKey": "a", "Data": 5}, "SerializationException",
		"class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob")

	cc.ok("DeleteStream", map[string]any{"StreamName": name}, nil)
	poll(t, name+" gone", 20*time.Second, func() bool {
		status, _, _ := cc.call("DescribeStreamSummary", map[string]any{"StreamName": name})
		return status == http.StatusBadRequest
	})
	cc.fail("DescribeStreamSummary", map[string]any{"StreamName": name}, "ResourceNotFoundException",
		fmt.Sprintf("Stream %s under account %s not found.", name, defaultAccount))

}

// cborReshard splits, merges and rescales a stream over CBOR, and reads a
// closed shard to its end, where GetRecords carries ChildShards.
func cborReshard(t *testing.T, cc *cborClient) {
	t.Helper()
	name := streamName(t, "reshard")
	cc.ok("CreateStream", map[string]any{"StreamName": name, "ShardCount": 1}, nil)
	cc.waitActive(name)
	var put struct{ SequenceNumber string }
	cc.ok("PutRecord", map[string]any{"StreamName": name, "PartitionKey": "a", "Data": []byte{0, 1, 2}}, &put)
	cc.ok("SplitShard", map[string]any{"StreamName": name, "ShardToSplit": "shardId-000000000000",
		"NewStartingHashKey": "170141183460469231731687303715884105728"}, nil)
	cc.waitActive(name)

	it := cc.iterator(map[string]any{"StreamName": name, "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})
	var got []cborRecord
	for range 20 {
		out := cc.getRecords(it)
		got = append(got, out.Records...)
		if out.NextShardIterator == nil {
			if len(out.ChildShards) != 2 || out.ChildShards[0].ShardId != "shardId-000000000001" ||
				!slices.Equal(out.ChildShards[1].ParentShards, []string{"shardId-000000000000"}) {
				t.Fatalf("ChildShards over CBOR = %+v", out.ChildShards)
			}
			break
		}
		it = *out.NextShardIterator
	}
	if len(got) != 1 || got[0].SequenceNumber != put.SequenceNumber || !bytes.Equal(got[0].Data, []byte{0, 1, 2}) {
		t.Fatalf("closed shard read %+v", got)
	}

	cc.ok("MergeShards", map[string]any{"StreamName": name, "ShardToMerge": "shardId-000000000001", "AdjacentShardToMerge": "shardId-000000000002"}, nil)
	cc.waitActive(name)
	var upd struct {
		StreamName                          string
		CurrentShardCount, TargetShardCount int
	}
	cc.ok("UpdateShardCount", map[string]any{"StreamName": name, "TargetShardCount": 2, "ScalingType": "UNIFORM_SCALING"}, &upd)
	if upd.StreamName != name || upd.CurrentShardCount != 1 || upd.TargetShardCount != 2 {
		t.Fatalf("UpdateShardCount over CBOR = %+v", upd)
	}
	cc.waitActive(name)
	if n := cc.summary(name).StreamDescriptionSummary.OpenShardCount; n != 2 {
		t.Fatalf("%d open shards after UpdateShardCount to 2", n)
	}
	cc.ok("DeleteStream", map[string]any{"StreamName": name}, nil)
}

// cborSettings covers the consumer, monitoring, stream-setting,
// resource-policy and account actions.
func cborSettings(t *testing.T, sent map[string]bool) {
	c := client()
	ctx := ctxFor(t)
	cc := newCBORClient(t, sent)
	name := streamName(t)
	arn := arnOf("us-east-1", defaultAccount, name)
	cc.ok("CreateStream", map[string]any{"StreamName": name, "ShardCount": 1}, nil)
	cc.waitActive(name)

	// Consumers: ConsumerCreationTimestamp is tag 1 ms, as JSON says.
	type consumer struct {
		ConsumerName, ConsumerARN, ConsumerStatus string
		ConsumerCreationTimestamp                 cborTime
	}
	var reg struct{ Consumer consumer }
	cc.ok("RegisterStreamConsumer", map[string]any{"StreamARN": arn, "ConsumerName": "app"}, &reg)
	jc, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(reg.Consumer.ConsumerARN)})
	if err != nil {
		t.Fatal(err)
	}
	created := jc.ConsumerDescription.ConsumerCreationTimestamp.UnixMilli()
	if reg.Consumer.ConsumerName != "app" || reg.Consumer.ConsumerCreationTimestamp.ms != created {
		t.Fatalf("RegisterStreamConsumer over CBOR = %+v; JSON says created at %d ms", reg.Consumer, created)
	}
	var desc struct{ ConsumerDescription consumer }
	cc.ok("DescribeStreamConsumer", map[string]any{"ConsumerARN": reg.Consumer.ConsumerARN}, &desc)
	if desc.ConsumerDescription.ConsumerCreationTimestamp.ms != created {
		t.Fatalf("DescribeStreamConsumer over CBOR = %+v", desc)
	}
	var list struct{ Consumers []consumer }
	cc.ok("ListStreamConsumers", map[string]any{"StreamARN": arn}, &list)
	if len(list.Consumers) != 1 || list.Consumers[0].ConsumerCreationTimestamp.ms != created {
		t.Fatalf("ListStreamConsumers over CBOR = %+v", list)
	}
	var any200 map[string]cbor.RawMessage
	cc.ok("DeregisterStreamConsumer", map[string]any{"ConsumerARN": reg.Consumer.ConsumerARN}, &any200)

	var mon struct {
		StreamName                                         string
		CurrentShardLevelMetrics, DesiredShardLevelMetrics []string
	}
	cc.ok("EnableEnhancedMonitoring", map[string]any{"StreamName": name, "ShardLevelMetrics": []string{"IncomingBytes"}}, &mon)
	if mon.StreamName != name || !slices.Equal(mon.DesiredShardLevelMetrics, []string{"IncomingBytes"}) {
		t.Fatalf("EnableEnhancedMonitoring over CBOR = %+v", mon)
	}
	cc.ok("DisableEnhancedMonitoring", map[string]any{"StreamName": name, "ShardLevelMetrics": []string{"IncomingBytes"}}, &mon)
	if len(mon.DesiredShardLevelMetrics) != 0 {
		t.Fatalf("DisableEnhancedMonitoring over CBOR = %+v", mon)
	}

	cc.ok("UpdateMaxRecordSize", map[string]any{"StreamARN": arn, "MaxRecordSizeInKiB": 2048}, &any200)
	cc.waitActive(name)
	cc.ok("UpdateStreamRecordDistributionStrategy", map[string]any{"StreamARN": arn, "RecordDistributionStrategy": "AUTO"}, &any200)
	cc.waitActive(name)
	cc.ok("UpdateStreamMode", map[string]any{"StreamARN": arn, "StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"}}, &any200)
	cc.waitActive(name)
	var warm struct {
		StreamName     string
		WarmThroughput struct{ TargetMiBps int }
	}
	cc.ok("UpdateStreamWarmThroughput", map[string]any{"StreamName": name, "WarmThroughputMiBps": 25}, &warm)
	if warm.StreamName != name || warm.WarmThroughput.TargetMiBps != 25 {
		t.Fatalf("UpdateStreamWarmThroughput over CBOR = %+v", warm)
	}

	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kinesis:GetRecords","Resource":"` + arn + `"}]}`
	cc.ok("PutResourcePolicy", map[string]any{"ResourceARN": arn, "Policy": policy}, &any200)
	var pol struct{ Policy string }
	cc.ok("GetResourcePolicy", map[string]any{"ResourceARN": arn}, &pol)
	if pol.Policy != policy {
		t.Fatalf("GetResourcePolicy over CBOR = %q", pol.Policy)
	}
	cc.ok("DeleteResourcePolicy", map[string]any{"ResourceARN": arn}, &any200)

	// Account settings, in an account of the test's own: the commitment's
	// times are tag 1 ms.
	ac := newCBORClient(t, sent)
	ac.account = uniqueAccount()
	type commitment struct {
		MinimumThroughputBillingCommitment struct {
			Status                          string
			StartedAt, EarliestAllowedEndAt *cborTime
		}
	}
	var d commitment
	ac.ok("DescribeAccountSettings", map[string]any{}, &d)
	if d.MinimumThroughputBillingCommitment.Status != "DISABLED" {
		t.Fatalf("DescribeAccountSettings over CBOR = %+v", d)
	}
	ac.ok("UpdateAccountSettings", map[string]any{"MinimumThroughputBillingCommitment": map[string]any{"Status": "ENABLED"}}, &d)
	m := d.MinimumThroughputBillingCommitment
	if m.Status != "ENABLED" || m.StartedAt == nil || m.EarliestAllowedEndAt == nil || m.EarliestAllowedEndAt.ms <= m.StartedAt.ms {
		t.Fatalf("UpdateAccountSettings over CBOR = %+v", m)
	}
	cc.ok("DeleteStream", map[string]any{"StreamName": name}, nil)
}
