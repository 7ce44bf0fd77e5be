package integration

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// Storage layouts (docs/scale.md): new streams keep a stripe of shards
// in one JetStream stream (layout B), where a shard's message sequences
// are sparse; streams made before keep a JetStream stream per shard
// (layout A).

// putTo puts one record per (shard, data) pair in one PutRecords,
// routed by explicit hash key, and returns the sequence numbers.
func putTo(t *testing.T, c *kinesis.Client, name string, rs []shardRange, shards []int, data []string) []string {
	t.Helper()
	var in []types.PutRecordsRequestEntry
	for i, sh := range shards {
		in = append(in, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"),
			ExplicitHashKey: aws.String(rs[sh].start.String()), Data: []byte(data[i])})
	}
	out, err := c.PutRecords(ctxFor(t), &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: in})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords: %v %+v", err, out)
	}
	var seqs []string
	for i, r := range out.Records {
		if aws.ToString(r.ShardId) != rs[shards[i]].id {
			t.Fatalf("record %d went to %s, want %s", i, aws.ToString(r.ShardId), rs[shards[i]].id)
		}
		seqs = append(seqs, aws.ToString(r.SequenceNumber))
	}
	return seqs
}

// readShard reads a shard from an iterator of the given kind.
func readShard(t *testing.T, c *kinesis.Client, name, shardID string, kind types.ShardIteratorType, seq string, at *time.Time) []types.Record {
	t.Helper()
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String(shardID), ShardIteratorType: kind, Timestamp: at}
	if seq != "" {
		in.StartingSequenceNumber = aws.String(seq)
	}
	return readAll(t, c, iterator(t, c, in))
}

func bigOf(seq string) *big.Int {
	n, _ := new(big.Int).SetString(seq, 10)
	return n
}

func seqsOfRecords(recs []types.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = aws.ToString(r.SequenceNumber)
	}
	return out
}

// TestSparsePositions writes two shards of one stripe interleaved, so
// that each shard's message sequences skip the other's, and reads each
// shard with every iterator type: each sees exactly its own records, in
// order, at the tip with MillisBehindLatest 0, and no gap is taken for
// storage damage.
func TestSparsePositions(t *testing.T) {
	t.Parallel()
	ctx := ctxFor(t)
	dir := t.TempDir()
	p := inproc.Start(t, "-stripe-shards", "2", "-data-dir", dir)
	c := p.Client()
	name := streamName(t)
	createStream(t, c, name, 2)
	rs := listShardRanges(t, c, name)

	want := map[int][]string{}
	seqs := map[int][]string{}
	var batch2 time.Time
	for b := range 3 {
		if b == 2 {
			// A moment between the second and third batches, for
			// AT_TIMESTAMP (arrival times have millisecond resolution).
			time.Sleep(20 * time.Millisecond)
			batch2 = time.Now()
			time.Sleep(20 * time.Millisecond)
		}
		shards := []int{0, 1, 1, 0, 1}
		var data []string
		for i, sh := range shards {
			data = append(data, fmt.Sprintf("b%d-%d-s%d", b, i, sh))
		}
		for i, q := range putTo(t, c, name, rs, shards, data) {
			want[shards[i]] = append(want[shards[i]], data[i])
			seqs[shards[i]] = append(seqs[shards[i]], q)
		}
	}
	for sh := range 2 {
		id := rs[sh].id
		all := readShard(t, c, name, id, types.ShardIteratorTypeTrimHorizon, "", nil)
		if !slices.Equal(dataOf(all), want[sh]) || !slices.Equal(seqsOfRecords(all), seqs[sh]) {
			t.Fatalf("shard %d from TRIM_HORIZON: %q, want %q", sh, dataOf(all), want[sh])
		}
		if got := readShard(t, c, name, id, types.ShardIteratorTypeAtSequenceNumber, seqs[sh][1], nil); !slices.Equal(dataOf(got), want[sh][1:]) {
			t.Errorf("shard %d AT_SEQUENCE_NUMBER of its 2nd record: %q, want %q", sh, dataOf(got), want[sh][1:])
		}
		if got := readShard(t, c, name, id, types.ShardIteratorTypeAfterSequenceNumber, seqs[sh][1], nil); !slices.Equal(dataOf(got), want[sh][2:]) {
			t.Errorf("shard %d AFTER_SEQUENCE_NUMBER of its 2nd record: %q, want %q", sh, dataOf(got), want[sh][2:])
		}
		third := len(want[sh]) * 2 / 3
		if got := readShard(t, c, name, id, types.ShardIteratorTypeAtTimestamp, "", &batch2); !slices.Equal(dataOf(got), want[sh][third:]) {
			t.Errorf("shard %d AT_TIMESTAMP of the third batch: %q, want %q", sh, dataOf(got), want[sh][third:])
		}
		out, err := c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(iterator(t, c, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(name), ShardId: aws.String(id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}))})
		if err != nil || len(out.Records) != len(want[sh]) || aws.ToInt64(out.MillisBehindLatest) != 0 {
			t.Errorf("shard %d read whole: %d records, MillisBehindLatest %d, %v; want %d and 0", sh, len(out.Records), aws.ToInt64(out.MillisBehindLatest), err, len(want[sh]))
		}
	}
	// LATEST on shard 0 sees only what shard 0 gets afterwards, however
	// many messages shard 1 takes before and after.
	latest := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String(rs[0].id), ShardIteratorType: types.ShardIteratorTypeLatest})
	putTo(t, c, name, rs, []int{1, 1, 0, 1}, []string{"l-1a", "l-1b", "l-0", "l-1c"})
	if got := dataOf(readAll(t, c, latest)); !slices.Equal(got, []string{"l-0"}) {
		t.Errorf("shard 0 from LATEST: %q, want [l-0]", got)
	}
	if strings.Contains(p.Log(), "records lost") {
		t.Errorf("the other shard's messages were taken for damage:\n%s", p.Log())
	}
	p.Stop()
	if logs := storeLogs(ctx, t, dir); len(logs) != 1 || !strings.HasPrefix(logs[0], "KSB_") {
		t.Fatalf("JetStream streams of a stream of 2 shards in stripes of 2: %q, want one stripe", logs)
	}
}

// TestStripesWiderStream has a stream of more shards than a stripe
// holds (three stripes of at most 2), resharded so that children open in
// stripes old and new, and then deleted: every shard keeps its own
// records, a parent closes at its end with its children named, puts go
// to the children, and the deletion removes every stripe.
func TestStripesWiderStream(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	flags := []string{"-stripe-shards", "2", "-data-dir", dir}
	p := inproc.Start(t, flags...)
	c := p.Client()
	ctx := ctxFor(t)
	name := streamName(t)
	createStream(t, c, name, 5)
	rs := listShardRanges(t, c, name)
	all := []int{0, 1, 2, 3, 4, 4, 3, 2, 1, 0}
	var data []string
	for i, sh := range all {
		data = append(data, fmt.Sprintf("r%d-s%d", i, sh))
	}
	putTo(t, c, name, rs, all, data)
	for sh := range 5 {
		want := []string{fmt.Sprintf("r%d-s%d", sh, sh), fmt.Sprintf("r%d-s%d", 9-sh, sh)}
		if got := dataOf(readShard(t, c, name, rs[sh].id, types.ShardIteratorTypeTrimHorizon, "", nil)); !slices.Equal(got, want) {
			t.Errorf("shard %d: %q, want %q", sh, got, want)
		}
	}

	// Split shard 4 (children 5 in its stripe, 6 in a new one), merge
	// shards 0 and 1 (child 7, with 6).
	splitAt := new(big.Int).Add(rs[4].start, rs[4].end)
	splitAt.Rsh(splitAt, 1)
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: aws.String(rs[4].id), NewStartingHashKey: aws.String(splitAt.String())}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, name, "ACTIVE")
	if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name), ShardToMerge: aws.String(rs[0].id), AdjacentShardToMerge: aws.String(rs[1].id)}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, name, "ACTIVE")
	after := listShardRanges(t, c, name)
	if len(after) != 8 {
		t.Fatalf("after split and merge: %d shards, want 8", len(after))
	}
	// Records for the parents' ranges now land in the children.
	res, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("k"), ExplicitHashKey: aws.String(rs[0].start.String()), Data: []byte("to-7")},
		{PartitionKey: aws.String("k"), ExplicitHashKey: aws.String(rs[4].end.String()), Data: []byte("to-6")},
	}})
	if err != nil || aws.ToInt32(res.FailedRecordCount) != 0 {
		t.Fatal(err, res)
	}
	if a, b := aws.ToString(res.Records[0].ShardId), aws.ToString(res.Records[1].ShardId); a != "shardId-000000000007" || b != "shardId-000000000006" {
		t.Fatalf("puts after the reshards went to %s and %s, want shards 7 and 6", a, b)
	}
	for _, tc := range []struct {
		shard string
		want  []string
	}{{"shardId-000000000006", []string{"to-6"}}, {"shardId-000000000007", []string{"to-7"}}, {"shardId-000000000005", nil}} {
		if got := dataOf(readShard(t, c, name, tc.shard, types.ShardIteratorTypeTrimHorizon, "", nil)); !slices.Equal(got, tc.want) && len(got)+len(tc.want) > 0 {
			t.Errorf("%s: %q, want %q", tc.shard, got, tc.want)
		}
	}
	// A parent reads to its end, then names its children.
	it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String(rs[4].id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
	if err != nil || len(out.Records) != 2 || out.NextShardIterator != nil || len(out.ChildShards) != 2 {
		t.Fatalf("closed parent read: %d records, next %v, children %+v, %v", len(out.Records), out.NextShardIterator, out.ChildShards, err)
	}

	// Four stripes (shards 0-1, 2-3, 4-5, 6-7); a restart finds them all.
	p.Stop()
	logs := storeLogs(ctx, t, dir)
	if len(logs) != 4 || !strings.HasPrefix(logs[0], "KSB_") || !strings.HasSuffix(logs[3], "_3") {
		t.Fatalf("JetStream streams of 8 shards in stripes of 2: %q", logs)
	}
	p = inproc.Start(t, flags...)
	c = p.Client()
	if got := dataOf(readShard(t, c, name, "shardId-000000000007", types.ShardIteratorTypeTrimHorizon, "", nil)); !slices.Equal(got, []string{"to-7"}) {
		t.Fatalf("shard 7 after a restart: %q", got)
	}
	putTo(t, c, name, listShardRanges(t, c, name), []int{7}, []string{"after-restart"})
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	poll(t, "the stream's deletion", 20*time.Second, func() bool {
		_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		return err != nil
	})
	p.Stop()
	if logs := storeLogs(ctx, t, dir); len(logs) != 0 {
		t.Fatalf("JetStream streams left after the deletion: %q", logs)
	}
}

// storeLogs lists the JetStream streams holding logs in a stopped
// server's data directory.
func storeLogs(ctx context.Context, t *testing.T, dir string) []string {
	t.Helper()
	st, err := store.Open(ctx, store.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logs, err := st.Logs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(logs)
	return logs
}

// TestLayoutADirectoryReopens makes a data directory as servers did
// before layout B (-stripe-shards 0: a JetStream stream per shard) and
// opens it with today's default: the old stream's records keep their
// sequence numbers, an iterator handed out before still reads, the
// stream takes records and reshards, and only a stream made now gets
// layout B.
func TestLayoutADirectoryReopens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := testserver.Context(t, time.Minute)
	p := inproc.Start(t, "-data-dir", dir, "-stripe-shards", "0")
	c := p.Client()
	createStream(t, c, "old", 2)
	rs := listShardRanges(t, c, "old")
	seqs := putTo(t, c, "old", rs, []int{0, 1, 0}, []string{"a0", "a1", "b0"})
	it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String("old"), ShardId: aws.String(rs[0].id),
		ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(seqs[0])})
	p.Stop()
	var uid string
	for _, l := range storeLogs(ctx, t, dir) {
		if !strings.HasPrefix(l, "KS_") {
			t.Fatalf("a layout A server made %s", l)
		}
		uid = strings.Split(l, "_")[1]
	}

	p = inproc.Start(t, "-data-dir", dir)
	c = p.Client()
	if got := readAll(t, c, it); !slices.Equal(dataOf(got), []string{"b0"}) || aws.ToString(got[0].SequenceNumber) != seqs[2] {
		t.Fatalf("the iterator from before the restart read %q", dataOf(got))
	}
	got := readShard(t, c, "old", rs[0].id, types.ShardIteratorTypeAtSequenceNumber, seqs[0], nil)
	if !slices.Equal(seqsOfRecords(got), []string{seqs[0], seqs[2]}) {
		t.Fatalf("old records' sequence numbers: %q, want %q", seqsOfRecords(got), []string{seqs[0], seqs[2]})
	}
	more := putTo(t, c, "old", rs, []int{0}, []string{"c0"})
	if a, b := bigOf(more[0]), bigOf(seqs[2]); a.Cmp(b) <= 0 {
		t.Fatalf("new record %s not after %s", more[0], seqs[2])
	}
	if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("old"), ShardToMerge: aws.String(rs[0].id), AdjacentShardToMerge: aws.String(rs[1].id)}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, "old", "ACTIVE")
	res := putTo(t, c, "old", listShardRanges(t, c, "old"), []int{2}, []string{"merged"})
	if got := dataOf(readShard(t, c, "old", "shardId-000000000002", types.ShardIteratorTypeAtSequenceNumber, res[0], nil)); !slices.Equal(got, []string{"merged"}) {
		t.Fatalf("merged child of the old stream: %q", got)
	}
	createStream(t, c, "new", 1)
	p.Stop()
	logs := storeLogs(ctx, t, dir) // "KSB_" sorts before "KS_"
	want := []string{"KS_" + uid + "_0", "KS_" + uid + "_1", "KS_" + uid + "_2"}
	if len(logs) != 4 || !slices.Equal(logs[1:], want) || !strings.HasPrefix(logs[0], "KSB_") {
		t.Fatalf("JetStream streams: %q, want %q and one stripe of the new stream", logs, want)
	}
}
