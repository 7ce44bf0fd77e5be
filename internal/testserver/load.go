package testserver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Ack is one record a PutRecords response acknowledged.
type Ack struct {
	Writer, N  int
	Shard, Seq string
}

// Load is write load for crash tests: writers put batches of records
// with PutRecords, each writer under its own partition key and numbering
// its records "writer:n" in order, and Load remembers what was
// acknowledged. A crash test runs it until it kills the server, restarts
// the server, and runs it again; Verify then checks every acknowledged
// record against the stream.
type Load struct {
	Stream             string
	Writers, BatchSize int
	// Acked is every acknowledged record, over all runs.
	Acked []Ack
	// Unacked counts records sent whose put failed or went unanswered:
	// each may be stored at most once.
	Unacked int
	next    []int // next record number per writer
}

// NewLoad returns write load for stream.
func NewLoad(stream string, writers, batchSize int) *Load {
	return &Load{Stream: stream, Writers: writers, BatchSize: batchSize, next: make([]int, writers)}
}

// RunUntilKilled runs the writers against p, kills the server with
// SIGKILL after d while they are still writing, and returns how many
// records were acknowledged in this run.
func (l *Load) RunUntilKilled(ctx context.Context, p *Proc, d time.Duration) int {
	c := p.Client()
	var (
		mu      sync.Mutex
		acked   []Ack
		unacked int
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range l.Writers {
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
				entries := make([]types.PutRecordsRequestEntry, l.BatchSize)
				for i := range entries {
					entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(key),
						Data: []byte(fmt.Sprintf("%d:%d", w, l.next[w]+i))}
				}
				out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(l.Stream), Records: entries})
				mu.Lock()
				if err != nil {
					// The server died mid-request: nothing here was
					// acknowledged. Later numbers must not reuse these,
					// since they may be stored.
					unacked += l.BatchSize
					mu.Unlock()
					l.next[w] += l.BatchSize
					return
				}
				for i, r := range out.Records {
					if r.ErrorCode != nil {
						unacked++
						continue
					}
					acked = append(acked, Ack{w, l.next[w] + i, *r.ShardId, *r.SequenceNumber})
				}
				mu.Unlock()
				l.next[w] += l.BatchSize
			}
		}()
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	p.Kill()
	close(stop)
	wg.Wait()
	l.Acked = append(l.Acked, acked...)
	l.Unacked += unacked
	return len(acked)
}

// Check is what Verify found: the figures a crash test reports, and the
// first few problems in words.
type Check struct {
	Read, Acked int
	// Lost counts acknowledged records missing from the stream, or
	// found under another shard or sequence number than acknowledged.
	Lost int
	// Duplicated counts records read more than once (acknowledged or
	// not: an unacknowledged record may be stored, but only once).
	Duplicated int
	// Reordered counts records read after a later one of their writer.
	Reordered int
	// UnackedStored counts records never acknowledged that were stored
	// anyway (allowed: the server died before it could answer).
	UnackedStored int
	Problems      []string
}

// OK reports whether nothing was lost, duplicated or reordered.
func (c Check) OK() bool { return c.Lost == 0 && c.Duplicated == 0 && c.Reordered == 0 }

func (c *Check) problem(format string, args ...any) {
	if len(c.Problems) < 10 {
		c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
	}
}

// Verify reads every shard of the stream from TRIM_HORIZON through c and
// checks the acknowledged records: all present, each once, with the
// acknowledged shard and sequence number, and every writer's records in
// the order it wrote them. It fails the test only if the stream cannot be
// read; what it finds is in the Check.
func (l *Load) Verify(ctx context.Context, t testing.TB, c *kinesis.Client) Check {
	t.Helper()
	type rec struct{ shard, seq string }
	var chk Check
	seen := map[string]rec{}
	lastN := map[int]int{}
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(l.Stream)})
	if err != nil {
		t.Fatalf("list shards of %s: %v", l.Stream, err)
	}
	for _, sh := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(l.Stream),
			ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("iterator of %s: %v", *sh.ShardId, err)
		}
		for iter := it.ShardIterator; ; {
			out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatalf("read %s: %v", *sh.ShardId, err)
			}
			for _, r := range out.Records {
				chk.Read++
				data := string(r.Data)
				if prev, dup := seen[data]; dup {
					chk.Duplicated++
					chk.problem("record %q read twice (%s and %s)", data, prev.seq, *r.SequenceNumber)
					continue
				}
				seen[data] = rec{*sh.ShardId, *r.SequenceNumber}
				w, n, err := parsePayload(data)
				if err != nil {
					t.Fatalf("read %s: %v", *sh.ShardId, err)
				}
				if last, ok := lastN[w]; ok && n <= last {
					chk.Reordered++
					chk.problem("writer %d's record %d read after %d", w, n, last)
				}
				lastN[w] = n
			}
			if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	chk.Acked = len(l.Acked)
	for _, a := range l.Acked {
		key := fmt.Sprintf("%d:%d", a.Writer, a.N)
		got, ok := seen[key]
		switch {
		case !ok:
			chk.Lost++
			chk.problem("acknowledged record %s (%s %s) is missing", key, a.Shard, a.Seq)
		case got.seq != a.Seq || got.shard != a.Shard:
			chk.Lost++
			chk.problem("record %s acknowledged as %s/%s, read as %s/%s", key, a.Shard, a.Seq, got.shard, got.seq)
		}
		delete(seen, key)
	}
	chk.UnackedStored = len(seen)
	return chk
}

func parsePayload(s string) (writer, n int, err error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, errors.New("malformed payload " + s)
	}
	if writer, err = strconv.Atoi(a); err != nil {
		return 0, 0, fmt.Errorf("payload %s: %w", s, err)
	}
	if n, err = strconv.Atoi(b); err != nil {
		return 0, 0, fmt.Errorf("payload %s: %w", s, err)
	}
	return writer, n, nil
}
