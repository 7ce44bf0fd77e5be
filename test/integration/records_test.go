package integration

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

func seqLess(a, b string) bool {
	x, _ := new(big.Int).SetString(a, 10)
	y, _ := new(big.Int).SetString(b, 10)
	return x.Cmp(y) < 0
}

// TestPutRecord pins PutRecord's routing (MD5 of the partition key, or
// ExplicitHashKey when given), its response, SequenceNumberForOrdering,
// the record size limit, and its InvalidArgumentException and
// ResourceNotFoundException texts.
func TestPutRecord(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 4)
	ranges := listShardRanges(t, c, name)
	put := func(t *testing.T, in kinesis.PutRecordInput) (*kinesis.PutRecordOutput, error) {
		in.StreamName = aws.String(name)
		return c.PutRecord(ctxFor(t), &in)
	}

	t.Run("routes by MD5 of the partition key", func(t *testing.T) {
		t.Parallel()
		seen := map[string]bool{}
		for i := 0; i < 40; i++ {
			pk := fmt.Sprintf("key-%d", i)
			out, err := put(t, kinesis.PutRecordInput{PartitionKey: aws.String(pk), Data: []byte(pk)})
			if err != nil {
				t.Fatal(err)
			}
			if want := owner(t, ranges, hashOf(pk)); *out.ShardId != want {
				t.Errorf("%s went to %s, want %s", pk, *out.ShardId, want)
			}
			if len(*out.SequenceNumber) != 56 || out.EncryptionType != types.EncryptionTypeNone {
				t.Errorf("response = %s %s", *out.SequenceNumber, out.EncryptionType)
			}
			seen[*out.ShardId] = true
		}
		if len(seen) != 4 {
			t.Errorf("40 keys reached %d of 4 shards", len(seen))
		}
	})

	t.Run("ExplicitHashKey overrides the partition key", func(t *testing.T) {
		t.Parallel()
		mid := new(big.Int).Add(ranges[2].start, big.NewInt(12345))
		tests := []struct {
			ehk  string
			want string
		}{
			{"0", ranges[0].id},
			{ranges[1].start.String(), ranges[1].id},
			{ranges[1].end.String(), ranges[1].id},
			{mid.String(), ranges[2].id},
			{maxHashKey.String(), ranges[3].id},
		}
		for _, tc := range tests {
			out, err := put(t, kinesis.PutRecordInput{PartitionKey: aws.String("same-key"), ExplicitHashKey: aws.String(tc.ehk), Data: []byte("x")})
			if err != nil {
				t.Fatal(err)
			}
			if *out.ShardId != tc.want {
				t.Errorf("ExplicitHashKey %s went to %s, want %s", tc.ehk, *out.ShardId, tc.want)
			}
		}
		_, err := put(t, kinesis.PutRecordInput{PartitionKey: aws.String("k"), ExplicitHashKey: aws.String("340282366920938463463374607431768211456"), Data: []byte("x")})
		wantAPIError(t, err, "InvalidArgumentException", "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was 340282366920938463463374607431768211456")
	})

	t.Run("sequence numbers increase and SequenceNumberForOrdering is accepted", func(t *testing.T) {
		t.Parallel()
		var prev string
		for i := 0; i < 5; i++ {
			in := kinesis.PutRecordInput{PartitionKey: aws.String("ordered"), Data: []byte{byte(i)}}
			if prev != "" {
				in.SequenceNumberForOrdering = aws.String(prev)
			}
			out, err := put(t, in)
			if err != nil {
				t.Fatal(err)
			}
			if prev != "" && !seqLess(prev, *out.SequenceNumber) {
				t.Errorf("sequence %s does not follow %s", *out.SequenceNumber, prev)
			}
			prev = *out.SequenceNumber
		}
		_, err := put(t, kinesis.PutRecordInput{PartitionKey: aws.String("k"), Data: []byte("x"), SequenceNumberForOrdering: aws.String("12345")})
		wantAPIError(t, err, "InvalidArgumentException",
			fmt.Sprintf("ExclusiveMinimumSequenceNumber 12345 used in PutRecord on stream %s under account %s is invalid.", name, defaultAccount))
	})

	t.Run("record size", func(t *testing.T) {
		t.Parallel()
		pk := "size-key"
		// Data plus partition key up to 1 MiB is accepted and read back whole.
		data := bytes.Repeat([]byte{0xab}, 1<<20-len(pk))
		out, err := put(t, kinesis.PutRecordInput{PartitionKey: aws.String(pk), Data: data})
		if err != nil {
			t.Fatalf("a record of exactly 1 MiB: %v", err)
		}
		it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: out.ShardId,
			ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: out.SequenceNumber})
		got, err := c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Records) != 1 || !bytes.Equal(got.Records[0].Data, data) {
			t.Fatalf("read back %d records", len(got.Records))
		}
		// One byte more is InvalidArgumentException; data alone over the
		// stream's 1 MiB is the ValidationException AWS gives for it (data
		// over 10 MiB fails validation before the stream is looked up: see
		// TestValidation).
		_, err = put(t, kinesis.PutRecordInput{PartitionKey: aws.String(pk), Data: append(data, 0)})
		wantAPIError(t, err, "InvalidArgumentException", fmt.Sprintf("Record size (data and partition key) of 1048577 bytes exceeds the maximum record size of 1024 KiB of stream %s.", name))
		_, err = put(t, kinesis.PutRecordInput{PartitionKey: aws.String(pk), Data: make([]byte, 1<<20+1)})
		wantAPIError(t, err, "ValidationException", "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576")
		// Empty data is a valid record.
		if _, err := put(t, kinesis.PutRecordInput{PartitionKey: aws.String(pk), Data: []byte{}}); err != nil {
			t.Errorf("empty data: %v", err)
		}
	})

	t.Run("missing stream", func(t *testing.T) {
		t.Parallel()
		_, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String("no-such-stream"), PartitionKey: aws.String("k"), Data: []byte("x")})
		wantAPIError(t, err, "ResourceNotFoundException", "Stream no-such-stream under account 000000000000 not found.")
	})
}

// TestPutRecords pins PutRecords: one result per entry in request order,
// each entry routed to the shard MD5 (or its ExplicitHashKey) selects, the
// records readable in that order per shard, the 500-entry maximum as
// ValidationException, and whole-request failures for a bad hash key, the
// 5 MB request limit and a missing stream.
func TestPutRecords(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 3)
	ranges := listShardRanges(t, c, name)

	t.Run("500 entries", func(t *testing.T) {
		ctx := ctxFor(t)
		var entries []types.PutRecordsRequestEntry
		for i := 0; i < 500; i++ {
			e := types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("pk-%d", i)), Data: []byte(fmt.Sprintf("record-%03d", i))}
			if i%50 == 7 {
				e.ExplicitHashKey = aws.String(ranges[2].start.String())
			}
			entries = append(entries, e)
		}
		out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
		if err != nil {
			t.Fatal(err)
		}
		if *out.FailedRecordCount != 0 || len(out.Records) != 500 || out.EncryptionType != types.EncryptionTypeNone {
			t.Fatalf("FailedRecordCount %d, %d results, encryption %s", *out.FailedRecordCount, len(out.Records), out.EncryptionType)
		}
		wantByShard := map[string][]string{}
		seqs := map[string]string{}
		for i, r := range out.Records {
			want := owner(t, ranges, hashOf(*entries[i].PartitionKey))
			if entries[i].ExplicitHashKey != nil {
				want = ranges[2].id
			}
			if r.ShardId == nil || *r.ShardId != want || r.ErrorCode != nil {
				t.Fatalf("entry %d: shard %v error %v, want %s", i, aws.ToString(r.ShardId), aws.ToString(r.ErrorCode), want)
			}
			wantByShard[want] = append(wantByShard[want], string(entries[i].Data))
			seqs[string(entries[i].Data)] = *r.SequenceNumber
		}
		for _, rg := range ranges {
			it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String(rg.id),
				ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			recs := readAll(t, c, it)
			if got := dataOf(recs); !equalStrings(got, wantByShard[rg.id]) {
				t.Errorf("%s holds %d records %v..., want %d in request order", rg.id, len(got), got[:min(3, len(got))], len(wantByShard[rg.id]))
			}
			for _, r := range recs {
				if *r.SequenceNumber != seqs[string(r.Data)] {
					t.Errorf("%s: read sequence %s, PutRecords said %s", r.Data, *r.SequenceNumber, seqs[string(r.Data)])
				}
			}
		}
	})

	t.Run("501 entries", func(t *testing.T) {
		entries := make([]types.PutRecordsRequestEntry, 501)
		for i := range entries {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte("x")}
		}
		_, err := c.PutRecords(ctxFor(t), &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
		item := "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@c965e310"
		wantAPIError(t, err, "ValidationException", "1 validation error detected: Value '["+
			strings.TrimSuffix(strings.Repeat(item+", ", 501), ", ")+
			"]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500")
	})

	t.Run("bad ExplicitHashKey fails the whole request", func(t *testing.T) {
		ctx := ctxFor(t)
		before := readAll(t, c, iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name),
			ShardId: aws.String(ranges[0].id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}))
		_, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: []types.PutRecordsRequestEntry{
			{PartitionKey: aws.String("a"), ExplicitHashKey: aws.String("0"), Data: []byte("must not be stored")},
			{PartitionKey: aws.String("b"), ExplicitHashKey: aws.String("340282366920938463463374607431768211456"), Data: []byte("x")},
			{PartitionKey: aws.String("c"), ExplicitHashKey: aws.String("340282366920938463463374607431768211457"), Data: []byte("x")},
		}})
		wantAPIError(t, err, "InvalidArgumentException", "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was 340282366920938463463374607431768211456")
		after := readAll(t, c, iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name),
			ShardId: aws.String(ranges[0].id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}))
		if len(after) != len(before) {
			t.Errorf("a failed PutRecords stored %d records", len(after)-len(before))
		}
	})

	t.Run("over 5 MB", func(t *testing.T) {
		var entries []types.PutRecordsRequestEntry
		for i := 0; i < 5; i++ {
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: make([]byte, 1_040_000)})
		}
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: make([]byte, 250_000)})
		_, err := c.PutRecords(ctxFor(t), &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
		wantAPIError(t, err, "InvalidArgumentException", "Records size exceeds 5 MB limit")
	})

	t.Run("missing stream", func(t *testing.T) {
		_, err := c.PutRecords(ctxFor(t), &kinesis.PutRecordsInput{StreamName: aws.String("no-such-stream"),
			Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte("x")}}})
		wantAPIError(t, err, "ResourceNotFoundException", "Stream no-such-stream under account 000000000000 not found.")
	})
}

// TestGetShardIterator pins the five iterator types (where each starts
// reading) and GetShardIterator's errors: a sequence number of another
// shard, a missing or superfluous sequence number, an unparseable one, a
// missing or future timestamp, and unknown shards and streams.
func TestGetShardIterator(t *testing.T) {
	t.Parallel()
	c := client()
	ctx := ctxFor(t)
	name := streamName(t)
	createStream(t, c, name, 2)
	putTo0 := func(data string) string {
		out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"),
			ExplicitHashKey: aws.String("0"), Data: []byte(data)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.SequenceNumber
	}
	var seqs []string
	for i := 0; i < 5; i++ {
		seqs = append(seqs, putTo0(fmt.Sprintf("r%d", i)))
	}
	// A moment strictly after the first five records and strictly before
	// the next ones, to the millisecond.
	mid := time.Now().Add(2 * time.Millisecond).Truncate(time.Millisecond)
	latest := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"),
		ShardIteratorType: types.ShardIteratorTypeLatest})
	poll(t, "the clock to pass the midpoint", 5*time.Second, func() bool { return time.Now().After(mid.Add(2 * time.Millisecond)) })
	seqs = append(seqs, putTo0("r5"), putTo0("r6"))
	all := []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6"}

	shard0 := aws.String("shardId-000000000000")
	r5, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{Limit: aws.Int32(1), ShardIterator: aws.String(iterator(t, c, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(name), ShardId: shard0, ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: &seqs[5]}))})
	if err != nil || len(r5.Records) != 1 || string(r5.Records[0].Data) != "r5" {
		t.Fatalf("reading r5: %v", err)
	}
	arrival5 := *r5.Records[0].ApproximateArrivalTimestamp
	past := time.Now().Add(-time.Hour)
	tests := []struct {
		name string
		in   kinesis.GetShardIteratorInput
		want []string
	}{
		{"TRIM_HORIZON", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeTrimHorizon}, all},
		{"TRIM_HORIZON with the bare shard number", kinesis.GetShardIteratorInput{ShardId: aws.String("0"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}, all},
		{"AT_SEQUENCE_NUMBER first", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: &seqs[0]}, all},
		{"AT_SEQUENCE_NUMBER middle", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: &seqs[2]}, all[2:]},
		{"AFTER_SEQUENCE_NUMBER middle", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: &seqs[2]}, all[3:]},
		{"AFTER_SEQUENCE_NUMBER last", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: &seqs[6]}, nil},
		{"LATEST taken before later puts", kinesis.GetShardIteratorInput{}, all[5:]},
		{"LATEST now", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeLatest}, nil},
		{"AT_TIMESTAMP before the stream", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: &past}, all},
		{"AT_TIMESTAMP between puts", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: &mid}, all[5:]},
		{"AT_TIMESTAMP of a record's arrival", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: &arrival5}, all[5:]},
		{"other shard TRIM_HORIZON", kinesis.GetShardIteratorInput{ShardId: aws.String("shardId-000000000001"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			it := latest
			if tc.in.ShardIteratorType != "" {
				in := tc.in
				in.StreamName = aws.String(name)
				if in.ShardId == nil {
					in.ShardId = shard0
				}
				it = iterator(t, c, &in)
			}
			if got := dataOf(readAll(t, c, it)); !equalStrings(got, tc.want) {
				t.Errorf("read %q, want %q", got, tc.want)
			}
		})
	}

	either := "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s StartingSequenceNumber."
	future := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	errTests := []struct {
		name string
		in   kinesis.GetShardIteratorInput
		code string
		msg  string
		re   string
	}{
		{"sequence number of another shard", kinesis.GetShardIteratorInput{ShardId: aws.String("shardId-000000000001"),
			ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: &seqs[0]}, "InvalidArgumentException",
			"Invalid StartingSequenceNumber. It encodes shardId-000000000000, while it was used in a call to a shard with shardId-000000000001", ""},
		{"AT_SEQUENCE_NUMBER without a sequence number", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber},
			"InvalidArgumentException", fmt.Sprintf(either, "AT_SEQUENCE_NUMBER and no"), ""},
		{"AFTER_SEQUENCE_NUMBER without a sequence number", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber},
			"InvalidArgumentException", fmt.Sprintf(either, "AFTER_SEQUENCE_NUMBER and no"), ""},
		{"LATEST with a sequence number", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeLatest, StartingSequenceNumber: &seqs[0]},
			"InvalidArgumentException", fmt.Sprintf(either, "LATEST and also a"), ""},
		{"TRIM_HORIZON with a sequence number", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeTrimHorizon, StartingSequenceNumber: &seqs[0]},
			"InvalidArgumentException", fmt.Sprintf(either, "TRIM_HORIZON and also a"), ""},
		{"unparseable sequence number", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String("12345")},
			"InvalidArgumentException", fmt.Sprintf("StartingSequenceNumber 12345 used in GetShardIterator on shard shardId-000000000000 in stream %s under account %s is invalid.", name, defaultAccount), ""},
		{"AT_TIMESTAMP without a timestamp", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp},
			"InvalidArgumentException", "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.", ""},
		{"future timestamp", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: &future},
			"InvalidArgumentException", "", fmt.Sprintf(`^The timestampInMillis parameter cannot be greater than the currentTimestampInMillis\. timestampInMillis: %d, currentTimestampInMillis: \d{13}$`, future.UnixMilli())},
		{"unknown shard", kinesis.GetShardIteratorInput{ShardId: aws.String("shardId-000000000002"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon},
			"ResourceNotFoundException", fmt.Sprintf("Shard shardId-000000000002 in stream %s under account %s does not exist", name, defaultAccount), ""},
		{"unknown shard by number", kinesis.GetShardIteratorInput{ShardId: aws.String("7"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon},
			"ResourceNotFoundException", fmt.Sprintf("Shard 7 in stream %s under account %s does not exist", name, defaultAccount), ""},
		{"shard id that is not one", kinesis.GetShardIteratorInput{ShardId: aws.String("shard-zero"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon},
			"ResourceNotFoundException", fmt.Sprintf("Could not find shard shard-zero in stream %s under account %s.", name, defaultAccount), ""},
		{"missing stream", kinesis.GetShardIteratorInput{StreamName: aws.String("no-such-stream"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon},
			"ResourceNotFoundException", "Stream no-such-stream under account 000000000000 not found.", ""},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.in
			if in.StreamName == nil {
				in.StreamName = aws.String(name)
			}
			if in.ShardId == nil {
				in.ShardId = shard0
			}
			_, err := c.GetShardIterator(ctxFor(t), &in)
			wantAPIError(t, err, tc.code, tc.msg)
			if tc.re != "" {
				var ae smithy.APIError
				if errors.As(err, &ae) && !regexp.MustCompile(tc.re).MatchString(ae.ErrorMessage()) {
					t.Errorf("message %q does not match %s", ae.ErrorMessage(), tc.re)
				}
			}
		})
	}
}

// TestGetRecords pins GetRecords: Limit, NextShardIterator chaining through
// a shard in put order, MillisBehindLatest 0 at the tip, arrival
// timestamps, binary data and partition keys returned intact, and the
// errors for an invalid iterator and for an iterator of a deleted stream.
func TestGetRecords(t *testing.T) {
	t.Parallel()
	c := client()
	ctx := ctxFor(t)
	name := streamName(t)
	createStream(t, c, name, 1)
	before := time.Now().Add(-time.Second)
	var want []string
	// Records arrive in several requests so that pages cross batches.
	for b := 0; b < 3; b++ {
		var entries []types.PutRecordsRequestEntry
		for i := 0; i < 4; i++ {
			d := fmt.Sprintf("b%d-r%d", b, i)
			want = append(want, d)
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("pk-" + d), Data: []byte(d)})
		}
		if _, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries}); err != nil {
			t.Fatal(err)
		}
	}
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	const oddKey = `ключ "quoted" <&> \ key`
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(oddKey), Data: binary}); err != nil {
		t.Fatal(err)
	}
	want = append(want, string(binary))
	after := time.Now().Add(time.Second)
	trim := func() string {
		return iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"),
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	}

	for _, limit := range []int32{1, 3, 4, 5, 13, 10000} {
		t.Run(fmt.Sprintf("Limit %d", limit), func(t *testing.T) {
			t.Parallel()
			it := trim()
			var got []types.Record
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatal("too many pages")
				}
				out, err := c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(limit)})
				if err != nil {
					t.Fatal(err)
				}
				if len(out.Records) > int(limit) {
					t.Fatalf("page of %d records with Limit %d", len(out.Records), limit)
				}
				if out.NextShardIterator == nil || out.MillisBehindLatest == nil {
					t.Fatal("open shard page without NextShardIterator or MillisBehindLatest")
				}
				got = append(got, out.Records...)
				it = *out.NextShardIterator
				if len(got) == len(want) {
					if *out.MillisBehindLatest != 0 {
						t.Errorf("MillisBehindLatest at the tip = %d, want 0", *out.MillisBehindLatest)
					}
					break
				}
				if len(out.Records) == 0 {
					t.Fatalf("empty page after %d of %d records", len(got), len(want))
				}
			}
			if d := dataOf(got); !equalStrings(d, want) {
				t.Fatalf("read %q, want %q", d, want)
			}
			for i, r := range got {
				if i > 0 && !seqLess(*got[i-1].SequenceNumber, *r.SequenceNumber) {
					t.Errorf("record %d sequence %s does not follow %s", i, *r.SequenceNumber, *got[i-1].SequenceNumber)
				}
				if r.ApproximateArrivalTimestamp == nil || r.ApproximateArrivalTimestamp.Before(before) || r.ApproximateArrivalTimestamp.After(after) {
					t.Errorf("record %d ApproximateArrivalTimestamp %v not between %v and %v", i, r.ApproximateArrivalTimestamp, before, after)
				}
				if i > 0 && r.ApproximateArrivalTimestamp.Before(*got[i-1].ApproximateArrivalTimestamp) {
					t.Errorf("record %d arrived before record %d", i, i-1)
				}
			}
			if last := got[len(got)-1]; *last.PartitionKey != oddKey || *got[0].PartitionKey != "pk-b0-r0" {
				t.Errorf("partition keys %q, %q", *got[0].PartitionKey, *last.PartitionKey)
			}
			// At the tip: nothing more, still an iterator, 0 behind.
			out, err := c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(limit)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Records) != 0 || out.NextShardIterator == nil || *out.MillisBehindLatest != 0 {
				t.Errorf("at the tip: %d records, next %v, behind %v", len(out.Records), out.NextShardIterator != nil, aws.ToInt64(out.MillisBehindLatest))
			}
		})
	}

	t.Run("AT and AFTER_SEQUENCE_NUMBER inside batches", func(t *testing.T) {
		t.Parallel()
		recs := readAll(t, c, trim())
		for i, r := range recs {
			for _, tc := range []struct {
				typ  types.ShardIteratorType
				want []string
			}{
				{types.ShardIteratorTypeAtSequenceNumber, want[i:]},
				{types.ShardIteratorTypeAfterSequenceNumber, want[i+1:]},
			} {
				it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"),
					ShardIteratorType: tc.typ, StartingSequenceNumber: r.SequenceNumber})
				if got := dataOf(readAll(t, c, it)); !equalStrings(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
					t.Errorf("%s record %d: read %q, want %q", tc.typ, i, got, tc.want)
				}
			}
		}
	})

	t.Run("empty shard", func(t *testing.T) {
		t.Parallel()
		other := streamName(t)
		createStream(t, c, other, 1)
		it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(other), ShardId: aws.String("shardId-000000000000"),
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		out, err := c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Records) != 0 || out.NextShardIterator == nil || *out.MillisBehindLatest != 0 {
			t.Errorf("empty shard: %d records, next %v, behind %d", len(out.Records), out.NextShardIterator != nil, *out.MillisBehindLatest)
		}
		// The next iterator sees records put afterwards.
		if _, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(other), PartitionKey: aws.String("k"), Data: []byte("late")}); err != nil {
			t.Fatal(err)
		}
		if got := dataOf(readAll(t, c, *out.NextShardIterator)); !equalStrings(got, []string{"late"}) {
			t.Errorf("after an empty read: %q", got)
		}
	})

	t.Run("invalid iterator", func(t *testing.T) {
		t.Parallel()
		real := trim()
		tampered := []byte(real)
		tampered[len(tampered)/2] ^= 1
		if tampered[len(tampered)/2] == '=' || tampered[len(tampered)/2] < '0' {
			tampered[len(tampered)/2] = 'A'
		}
		for _, it := range []string{"not an iterator", "AAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", string(tampered)} {
			_, err := c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
			wantAPIError(t, err, "InvalidArgumentException", "Invalid ShardIterator.")
		}
	})

	t.Run("deleted stream", func(t *testing.T) {
		t.Parallel()
		other := streamName(t)
		createStream(t, c, other, 1)
		it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(other), ShardId: aws.String("shardId-000000000000"),
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if _, err := c.DeleteStream(ctxFor(t), &kinesis.DeleteStreamInput{StreamName: aws.String(other)}); err != nil {
			t.Fatal(err)
		}
		_, err := c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		wantAPIError(t, err, "ResourceNotFoundException", fmt.Sprintf("Shard shardId-000000000000 in stream %s under account %s does not exist", other, defaultAccount))
		// A new stream of the same name does not accept the old iterator.
		createStream(t, c, other, 1)
		_, err = c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		wantAPIError(t, err, "ResourceNotFoundException", fmt.Sprintf("Shard shardId-000000000000 in stream %s under account %s does not exist", other, defaultAccount))
	})
}

// TestRetentionExpiry pins that retention is enforced: on a server whose
// retention hour is 100ms (so the default 24 hours is 2.4s), records older
// than the retention period disappear, TRIM_HORIZON then starts after them,
// and records put later are still read.
func TestRetentionExpiry(t *testing.T) {
	t.Parallel()
	p := inproc.Start(t, "-retention-hour", "100ms")
	c := p.Client()
	ctx := ctxFor(t)
	const name = "short-lived"
	createStream(t, c, name, 1)
	put := func(data string) {
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	trimHorizon := func() []string {
		it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"),
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		return dataOf(readAll(t, c, it))
	}
	put("old-1")
	put("old-2")
	if got := trimHorizon(); !equalStrings(got, []string{"old-1", "old-2"}) {
		t.Fatalf("before expiry: %q", got)
	}
	// An iterator taken now, before expiry, positioned at the old records.
	early := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	poll(t, "records older than 24 (short) hours to expire", 30*time.Second, func() bool { return len(trimHorizon()) == 0 })
	put("new-1")
	if got := trimHorizon(); !equalStrings(got, []string{"new-1"}) {
		t.Fatalf("after expiry TRIM_HORIZON reads %q, want only the later record", got)
	}
	if got := dataOf(readAll(t, c, early)); !equalStrings(got, []string{"new-1"}) {
		t.Errorf("an iterator from before expiry reads %q, want only the later record", got)
	}
}
