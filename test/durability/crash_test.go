// Package durability checks Tributary's central promise: a write that was
// acknowledged survives a crash. The tests kill -9 a real server while
// writes are in flight, restart it on the same data directory and read
// everything back through the Kinesis API.
package durability

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
)

const (
	stream    = "crash"
	shards    = 4
	writers   = 8
	batchSize = 10
	rounds    = 4
)

// ack is one acknowledged record.
type ack struct {
	writer, n int
	shard     string
	seq       string
}

// TestKillDuringWrites kills the server with SIGKILL while eight writers
// are putting records, several times in a row, and checks after each
// restart that every acknowledged record is readable exactly once and in
// order. Both durability modes promise this: sync fsyncs before the
// acknowledgement, interval hands the data to the OS before it, and a
// process crash loses neither.
func TestKillDuringWrites(t *testing.T) {
	for _, durability := range []string{"sync", "interval"} {
		t.Run(durability, func(t *testing.T) {
			dir := t.TempDir()
			addr := testserver.FreeAddr(t)
			flags := []string{"-data-dir", dir, "-durability", durability}
			p := testserver.StartAt(t, addr, flags...)
			ctx := testserver.Context(t, 5*time.Minute)
			c := p.Client()
			if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(shards)}); err != nil {
				t.Fatal(err)
			}

			var acked []ack
			next := make([]int, writers) // next record number per writer
			for round := range rounds {
				got := writeUntilKilled(ctx, t, p, next, time.Duration(200+rand.IntN(400))*time.Millisecond)
				acked = append(acked, got...)
				p = testserver.StartAt(t, addr, flags...)
				verify(ctx, t, p.Client(), acked, round)
			}
			if len(acked) < rounds*writers {
				t.Fatalf("only %d records were acknowledged; the test did not exercise the server", len(acked))
			}
			t.Logf("%s: %d acknowledged records survived %d kills", durability, len(acked), rounds)
		})
	}
}

// writeUntilKilled runs the writers, kills the server after d while they
// are still writing, and returns what was acknowledged.
func writeUntilKilled(ctx context.Context, t *testing.T, p *testserver.Proc, next []int, d time.Duration) []ack {
	t.Helper()
	c := p.Client()
	var (
		mu    sync.Mutex
		acked []ack
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "writer-" + strconv.Itoa(w)
			for {
				select {
				case <-stop:
					return
				default:
				}
				entries := make([]types.PutRecordsRequestEntry, batchSize)
				for i := range entries {
					entries[i] = types.PutRecordsRequestEntry{
						PartitionKey: aws.String(key),
						Data:         []byte(fmt.Sprintf("%d:%d", w, next[w]+i)),
					}
				}
				out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
				if err != nil {
					// The server died mid-request: nothing here was acknowledged.
					// Later numbers must not reuse these, since they may be stored.
					next[w] += batchSize
					return
				}
				mu.Lock()
				for i, r := range out.Records {
					if r.ErrorCode != nil {
						continue
					}
					acked = append(acked, ack{w, next[w] + i, *r.ShardId, *r.SequenceNumber})
				}
				mu.Unlock()
				next[w] += batchSize
			}
		}()
	}
	time.Sleep(d)
	p.Kill()
	close(stop)
	wg.Wait()
	return acked
}

// verify reads every shard from TRIM_HORIZON and checks the acknowledged
// records: all present, each once, with the acknowledged sequence number,
// and every writer's records in the order it wrote them.
func verify(ctx context.Context, t *testing.T, c *kinesis.Client, acked []ack, round int) {
	t.Helper()
	type rec struct{ shard, seq string }
	seen := map[string]rec{}
	lastN := map[int]int{}
	for s := range shards {
		shardID := fmt.Sprintf("shardId-%012d", s)
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: aws.String(shardID),
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		iter := it.ShardIterator
		for {
			out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			for _, r := range out.Records {
				data := string(r.Data)
				if prev, dup := seen[data]; dup {
					t.Fatalf("round %d: record %q read twice (%s and %s)", round, data, prev.seq, *r.SequenceNumber)
				}
				seen[data] = rec{shardID, *r.SequenceNumber}
				w, n, err := parsePayload(data)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if last, ok := lastN[w]; ok && n <= last {
					t.Fatalf("round %d: writer %d's record %d read after %d", round, w, n, last)
				}
				lastN[w] = n
			}
			if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	for _, a := range acked {
		got, ok := seen[fmt.Sprintf("%d:%d", a.writer, a.n)]
		if !ok {
			t.Fatalf("round %d: acknowledged record %d:%d (%s %s) is missing after restart", round, a.writer, a.n, a.shard, a.seq)
		}
		if got.seq != a.seq || got.shard != a.shard {
			t.Fatalf("round %d: record %d:%d acknowledged as %s/%s, read as %s/%s", round, a.writer, a.n, a.shard, a.seq, got.shard, got.seq)
		}
	}
}

func parsePayload(s string) (writer, n int, err error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, errors.New("malformed payload " + s)
	}
	if writer, err = strconv.Atoi(a); err != nil {
		return 0, 0, err
	}
	n, err = strconv.Atoi(b)
	return writer, n, err
}
