// Package durability checks that what a crash interrupts comes back
// whole: a reshard's lineage, consumers and encryption, and the leftovers
// of operations cut short. The long kill tests (kill -9 under write load,
// during every metadata operation) are in test/faults.
package durability

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// TestReshardSurvivesCrash splits a shard, registers a consumer and
// encrypts the stream, kills the server with SIGKILL, and checks after a
// restart that the lineage (a closed parent with its ending sequence
// number, two children), the consumer, the encryption and every record
// before and after the split are as they were.
func TestReshardSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	flags := []string{"-data-dir", dir, "-durability", "sync"}
	p := testserver.Start(t, flags...)
	c := p.Client()
	ctx := testserver.Context(t, 2*time.Minute)
	name := aws.String("lineage")
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	put := func(c *kinesis.Client, from, to int) {
		for i := from; i < to; i++ {
			if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: name, PartitionKey: aws.String(fmt.Sprint(i)), Data: []byte(fmt.Sprint(i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(c, 0, 20)
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
		t.Fatal(err)
	}
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: sum.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: name, EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("k1")}); err != nil {
		t.Fatal(err)
	}
	put(c, 20, 40)
	before, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name})
	if err != nil {
		t.Fatal(err)
	}

	p.Kill()
	p = inproc.Start(t, flags...) // in this process, so -race and -cover see recovery
	c = p.Client()
	after, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", shardsOf(before.Shards)) != fmt.Sprintf("%+v", shardsOf(after.Shards)) {
		t.Fatalf("shards changed across the crash:\nbefore %+v\nafter  %+v", shardsOf(before.Shards), shardsOf(after.Shards))
	}
	if len(after.Shards) != 3 || after.Shards[0].SequenceNumberRange.EndingSequenceNumber == nil {
		t.Fatalf("lineage after restart: %+v", shardsOf(after.Shards))
	}
	cons, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: sum.StreamDescriptionSummary.StreamARN})
	if err != nil || len(cons.Consumers) != 1 || *cons.Consumers[0].ConsumerName != "app" {
		t.Fatalf("consumers after restart: %+v, %v", cons, err)
	}
	d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: name})
	if err != nil || d.StreamDescriptionSummary.EncryptionType != types.EncryptionTypeKms {
		t.Fatalf("encryption after restart: %+v, %v", d, err)
	}
	seen := map[string]bool{}
	for _, sh := range after.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: name, ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Records {
				seen[string(r.Data)] = true
			}
			if len(out.Records) == 0 && (out.NextShardIterator == nil || aws.ToInt64(out.MillisBehindLatest) == 0) {
				break
			}
			iter = out.NextShardIterator
		}
	}
	for i := range 40 {
		if !seen[fmt.Sprint(i)] {
			t.Fatalf("record %d lost across the crash", i)
		}
	}
	// The stream takes writes again, into the children.
	put(c, 40, 41)
}

type shardView struct{ ID, Parent, Start, End, Ending string }

func shardsOf(shards []types.Shard) []shardView {
	var out []shardView
	for _, sh := range shards {
		out = append(out, shardView{*sh.ShardId, aws.ToString(sh.ParentShardId), *sh.HashKeyRange.StartingHashKey,
			*sh.HashKeyRange.EndingHashKey, aws.ToString(sh.SequenceNumberRange.EndingSequenceNumber)})
	}
	return out
}

// TestCrashWhileUpdating kills the server while a split is UPDATING,
// after records were put on the still-open parent, and checks that the
// restarted server shows either the whole old map (UPDATING) or the whole
// new one (ACTIVE), never a mix; that it completes the split on its own;
// that the parent's end then covers every record acknowledged before the
// crash and after it; and that a reader following parents before children
// reads each record exactly once. The StreamId survives the restart too.
func TestCrashWhileUpdating(t *testing.T) {
	dir := t.TempDir()
	flags := []string{"-data-dir", dir, "-durability", "sync", "-update-stream-delay", "2s"}
	p := testserver.Start(t, flags...)
	c := p.Client()
	ctx := testserver.Context(t, 2*time.Minute)
	name := aws.String("updating")
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	put := func(c *kinesis.Client, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: name, PartitionKey: aws.String(fmt.Sprint(i)), Data: []byte(fmt.Sprint(i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	status := func(c *kinesis.Client) *types.StreamDescriptionSummary {
		t.Helper()
		s, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: name})
		if err != nil {
			t.Fatal(err)
		}
		return s.StreamDescriptionSummary
	}
	put(c, 0, 20)
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
		t.Fatal(err)
	}
	put(c, 20, 40)
	before := status(c)
	if before.StreamStatus != types.StreamStatusUpdating {
		t.Fatalf("the split completed before the crash (status %s): the machine is too slow for the 2s update", before.StreamStatus)
	}
	p.Kill()

	p = inproc.Start(t, flags...) // in this process, so -race and -cover see recovery
	c = p.Client()
	d, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: name})
	if err != nil {
		t.Fatal(err)
	}
	switch sd := d.StreamDescription; {
	case sd.StreamStatus == types.StreamStatusUpdating && len(sd.Shards) == 1 && sd.Shards[0].SequenceNumberRange.EndingSequenceNumber == nil:
	case sd.StreamStatus == types.StreamStatusActive && len(sd.Shards) == 3 && sd.Shards[0].SequenceNumberRange.EndingSequenceNumber != nil:
	default:
		t.Fatalf("after the restart the stream is %s with shards %+v: neither the old map nor the new one", sd.StreamStatus, shardsOf(sd.Shards))
	}
	put(c, 40, 50)
	testserver.WaitUntil(t, "the split to complete", 30*time.Second, func() bool { return status(c).StreamStatus == types.StreamStatusActive })
	after := status(c)
	if aws.ToString(after.StreamId) != aws.ToString(before.StreamId) {
		t.Errorf("StreamId %s became %s across the restart", aws.ToString(before.StreamId), aws.ToString(after.StreamId))
	}
	ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Shards) != 3 || ls.Shards[0].SequenceNumberRange.EndingSequenceNumber == nil ||
		aws.ToString(ls.Shards[1].ParentShardId) != "shardId-000000000000" || aws.ToString(ls.Shards[2].ParentShardId) != "shardId-000000000000" {
		t.Fatalf("lineage after the update: %+v", shardsOf(ls.Shards))
	}
	put(c, 50, 60)
	count := map[string]int{}
	for _, r := range testserver.ReadStream(t, c, *name) {
		count[string(r.Data)]++
	}
	for i := range 60 {
		if n := count[fmt.Sprint(i)]; n != 1 {
			t.Errorf("record %d read %d times", i, n)
		}
	}
	if len(count) != 60 {
		t.Errorf("read %d distinct records, want 60", len(count))
	}
}
