// Sequence numbers across faults that make JetStream forget the end of a
// shard's log: they must never go back, old ones must still resolve, and
// damage at a log's very end is reported at start-up.

package faults

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
)

func seqsOf(recs []types.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, aws.ToString(r.SequenceNumber))
	}
	return out
}

// TestLostIndexAndDamagedTail: the double fault. A server's shard log
// loses its index file and the end of its last block (the third and
// fourth batches); JetStream rebuilds the log from its blocks and forgets
// those messages, sequences included. The restarted server must still
// number new records above every number it acknowledged, so a consumer
// resuming after the last one it read gets every new record; the
// surviving records keep their numbers and can be read at them. The
// server was stopped cleanly, or killed (then the index may be stale or
// missing already). An index that fails its checksum is one JetStream
// discards at start-up: it is as good as lost.
func TestLostIndexAndDamagedTail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		killed, damage bool // damage: flip the index's end rather than delete it
	}{{"stopped", false, false}, {"killed", true, false}, {"stopped, index damaged", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testserver.Context(t, 2*time.Minute)
			dir, w := setUpAndEnd(t, ctx, tc.killed)
			file := blockFile(t, dir, "KS_*")
			truncateAt(t, file, "b2-r05-")
			index := filepath.Join(filepath.Dir(file), "index.db")
			if tc.damage {
				flipEnd(t, index)
			} else if err := os.Remove(index); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}

			p := serve(t, dir)
			c := p.Client()
			newSeqs, newData := put(t, ctx, c, "after")
			assertAbove(t, newSeqs, concat(w.seqs...))

			got := readFrom(t, ctx, c, &kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber,
				StartingSequenceNumber: aws.String(w.seqs[batches-1][batchRecs-1])})
			if !slices.Equal(dataOf(got), newData) || !slices.Equal(seqsOf(got), newSeqs) {
				t.Errorf("AFTER_SEQUENCE_NUMBER the last acknowledged record served %q, want the %d new records", dataOf(got), len(newData))
			}
			all := readAll(t, ctx, c)
			if want := concat(w.seqs[0], w.seqs[1], newSeqs); !slices.Equal(seqsOf(all), want) {
				t.Errorf("served sequence numbers\n %q\nwant the surviving ones unchanged, then the new ones:\n %q", seqsOf(all), want)
			}
			if want := concat(w.data[0], w.data[1], newData); !slices.Equal(dataOf(all), want) {
				t.Errorf("served %q, want %q", dataOf(all), want)
			}
			for _, at := range []struct {
				name, seq, first string
			}{
				{"a surviving record", w.seqs[1][3], w.data[1][3]},
				{"a lost record", w.seqs[2][0], newData[0]},
			} {
				got := readFrom(t, ctx, c, &kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber,
					StartingSequenceNumber: aws.String(at.seq)})
				if len(got) == 0 || string(got[0].Data) != at.first {
					t.Errorf("AT_SEQUENCE_NUMBER of %s served %q first, want %q", at.name, dataOf(got), at.first)
				}
			}
		})
	}
}

// setUpAndEnd is setUp, with the server killed instead of stopped if
// killed is set.
func setUpAndEnd(t *testing.T, ctx context.Context, killed bool) (dir string, w written) {
	t.Helper()
	dir = t.TempDir()
	p := serve(t, dir)
	c := p.Client()
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	for b := range batches {
		seqs, data := put(t, ctx, c, fmt.Sprintf("b%d", b))
		w.seqs, w.data = append(w.seqs, seqs), append(w.data, data)
	}
	if killed {
		p.Kill()
	} else {
		p.Stop()
	}
	return dir, w
}

// TestDamagedTailReportedAtStart: the end of a stopped server's last
// block is cut off (the third and fourth batches), or its last message
// fails its checksum, while the log's index keeps its last sequence. Nothing follows the lost messages for a reader
// to find the gap, so start-up itself must report them, at ERROR and in
// tributary_kinesis_lost_messages_total, before any read.
func TestDamagedTailReportedAtStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, file string)
		lo, hi int // the messages lost
	}{
		{"truncated", func(t *testing.T, f string) { truncateAt(t, f, "b2-r05-") }, 3, 4},
		// The last message's checksum: JetStream truncates it away.
		{"last checksum flipped", flipEnd, 4, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testserver.Context(t, 2*time.Minute)
			dir, _ := setUp(t, ctx)
			tc.damage(t, blockFile(t, dir, "KS_*"))

			p := serve(t, dir)
			var line string
			testserver.WaitUntil(t, fmt.Sprintf("an ERROR line at start-up reporting messages %d-%d lost", tc.lo, tc.hi), 30*time.Second,
				func() bool { line = errorLine(p.Log(), tc.lo, tc.hi); return line != "" })
			if !strings.Contains(line, "stream="+stream) {
				t.Errorf("ERROR line does not name the stream: %s", line)
			}
			series := `tributary_kinesis_lost_messages_total{account="000000000000",region="us-east-1",shard="` + shardID + `",stream="` + stream + `"}`
			if v, want := metric(t, p, series), fmt.Sprint(tc.hi-tc.lo+1); v != want {
				t.Errorf("%s = %q, want %s", series, v, want)
			}
		})
	}
}

// TestCrashKeepsNumbering: SIGKILL without damage, between two reshards.
// Every number acknowledged before the crash still reads its record,
// every new one is higher than those of its shard, and ListShards' ranges
// (a shard closed before the crash, and shards closed after it) hold the
// numbers of every record of their shard.
func TestCrashKeepsNumbering(t *testing.T) {
	t.Parallel()
	ctx := testserver.Context(t, 2*time.Minute)
	dir := t.TempDir()
	p := serve(t, dir)
	c := p.Client()
	createStream(t, c, stream, 1)
	acked := map[string][]types.Record{} // by shard, in order
	putSome := func(prefix string) {
		t.Helper()
		for i := range 20 {
			d := fmt.Sprintf("%s-%02d", prefix, i)
			out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String(d), Data: []byte(d)})
			if err != nil {
				t.Fatal(err)
			}
			acked[*out.ShardId] = append(acked[*out.ShardId], types.Record{SequenceNumber: out.SequenceNumber, Data: []byte(d)})
		}
	}
	putSome("before-split")
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(stream), ShardToSplit: aws.String(shardID),
		NewStartingHashKey: aws.String(new(big.Int).Lsh(big.NewInt(1), 127).String())}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, ctx, c)
	putSome("before-crash")
	before := listShards(t, ctx, c)
	p.Kill()

	p = serve(t, dir)
	c = p.Client()
	if after := listShards(t, ctx, c); !slices.EqualFunc(before, after, sameRange) {
		t.Errorf("ListShards changed across the crash:\n%+v\n%+v", before, after)
	}
	old := map[string][]types.Record{}
	for id, recs := range acked {
		old[id] = slices.Clone(recs)
	}
	putSome("after-crash")
	for id, recs := range acked {
		assertAbove(t, seqsOf(recs[len(old[id]):]), seqsOf(old[id]))
	}
	if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(stream),
		ShardToMerge: aws.String("shardId-000000000001"), AdjacentShardToMerge: aws.String("shardId-000000000002")}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, ctx, c)
	for _, sh := range listShards(t, ctx, c) {
		recs := acked[*sh.ShardId]
		for i, r := range recs {
			got := readShardFrom(t, ctx, c, *sh.ShardId, types.ShardIteratorTypeAtSequenceNumber, *r.SequenceNumber)
			if want := recs[i:]; !slices.Equal(dataOf(got), dataOf(want)) || !slices.Equal(seqsOf(got), seqsOf(want)) {
				t.Errorf("%s AT_SEQUENCE_NUMBER %s served %q, want %q", *sh.ShardId, *r.SequenceNumber, dataOf(got), dataOf(want))
			}
		}
		if sh.SequenceNumberRange.EndingSequenceNumber == nil {
			continue
		}
		rng := []string{*sh.SequenceNumberRange.StartingSequenceNumber, *sh.SequenceNumberRange.EndingSequenceNumber}
		assertAbove(t, rng[1:], seqsOf(recs))
		assertAbove(t, seqsOf(recs), rng[:1])
		if got := readShardFrom(t, ctx, c, *sh.ShardId, types.ShardIteratorTypeAfterSequenceNumber, rng[1]); len(got) != 0 {
			t.Errorf("%s AFTER_SEQUENCE_NUMBER its ending number served %q, want nothing", *sh.ShardId, dataOf(got))
		}
	}
}

func waitActive(t *testing.T, ctx context.Context, c *kinesis.Client) {
	t.Helper()
	testserver.WaitUntil(t, "the stream ACTIVE", 30*time.Second, func() bool {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})
}

func listShards(t *testing.T, ctx context.Context, c *kinesis.Client) []types.Shard {
	t.Helper()
	out, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Shards
}

func sameRange(a, b types.Shard) bool {
	return aws.ToString(a.ShardId) == aws.ToString(b.ShardId) &&
		aws.ToString(a.SequenceNumberRange.StartingSequenceNumber) == aws.ToString(b.SequenceNumberRange.StartingSequenceNumber) &&
		aws.ToString(a.SequenceNumberRange.EndingSequenceNumber) == aws.ToString(b.SequenceNumberRange.EndingSequenceNumber)
}

// readShardFrom reads a shard of the stream from a sequence number to
// the end of its records.
func readShardFrom(t *testing.T, ctx context.Context, c *kinesis.Client, id string, typ types.ShardIteratorType, seq string) []types.Record {
	t.Helper()
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(id),
		ShardIteratorType: typ, StartingSequenceNumber: aws.String(seq)})
	if err != nil {
		t.Fatal(err)
	}
	var out []types.Record
	for iter := it.ShardIterator; iter != nil; {
		res, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Records...)
		if len(res.Records) == 0 {
			return out
		}
		iter = res.NextShardIterator
	}
	return out
}

// TestIteratorAcrossLostTail: a consumer reads a shard to its tip and
// keeps its NextShardIterator; the server stops, the log loses its index
// and the end of its last block (the last records the consumer read),
// and the server starts again. New records take the lost ones' message
// sequences, in a new epoch; the consumer's iterator, used after the
// restart, must serve them all, not skip those stored under the
// sequences it had already passed.
func TestIteratorAcrossLostTail(t *testing.T) {
	t.Parallel()
	ctx := testserver.Context(t, 2*time.Minute)
	dir := t.TempDir()
	p := serve(t, dir)
	c := p.Client()
	createStream(t, c, stream, 1)
	for b := range batches {
		put(t, ctx, c, fmt.Sprintf("b%d", b))
	}
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shardID),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	tip, read := it.ShardIterator, 0
	for {
		res, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: tip})
		if err != nil {
			t.Fatal(err)
		}
		tip, read = res.NextShardIterator, read+len(res.Records)
		if len(res.Records) == 0 {
			break
		}
	}
	if read != batches*batchRecs {
		t.Fatalf("read %d records before the stop, want %d", read, batches*batchRecs)
	}
	p.Stop()
	file := blockFile(t, dir, "KS_*")
	truncateAt(t, file, "b2-r05-")
	if err := os.Remove(filepath.Join(filepath.Dir(file), "index.db")); err != nil {
		t.Fatal(err)
	}

	p = serve(t, dir)
	c = p.Client()
	_, newData := put(t, ctx, c, "after")
	res, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: tip})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dataOf(res.Records), newData) {
		t.Errorf("the iterator kept across the restart served %q, want the %d new records", dataOf(res.Records), len(newData))
	}
}
