//go:build clusterfaults

package clusterfaults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// writer puts to one shard (by explicit hash key) through one node.
type writer struct {
	id, node, shard int
	hashKey         string
}

// attempt is one PutRecords call: its records are "writer:n" for
// consecutive n, new numbers for every attempt, so that a record read
// twice is a duplicate whatever happened to the calls.
type attempt struct {
	writer, node, shard int
	first, count        int // record numbers first .. first+count-1
	sent, done          time.Time
	// acked are the records of the call that were acknowledged, with
	// their sequence numbers (index i is record first+i; "" not acked).
	acked []string
	// err is the call's error; codes counts the records' ErrorCodes.
	err   error
	codes map[string]int
}

// load is continuous write load through every node of a cluster: one
// writer per (shard, node), each putting batches of records to its shard
// through its node, one call at a time, each call bounded by timeout. A
// call that fails or times out is not retried: the next call has new
// records.
type load struct {
	stream    string
	shardIDs  []string
	writers   []writer
	batch     int
	timeout   time.Duration
	clients   []*kinesis.Client
	mu        sync.Mutex
	attempts  []attempt
	stop      chan struct{}
	wg        sync.WaitGroup
	startedAt time.Time
}

// newLoad makes the writers for stream, whose shards it lists through
// the first client.
func newLoad(ctx context.Context, t *testing.T, stream string, clients []*kinesis.Client, batch int, timeout time.Duration) *load {
	t.Helper()
	out, err := clients[0].ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("list shards: %v", err)
	}
	l := &load{stream: stream, batch: batch, timeout: timeout, clients: clients, stop: make(chan struct{})}
	for s, sh := range out.Shards {
		l.shardIDs = append(l.shardIDs, *sh.ShardId)
		for n := range clients {
			l.writers = append(l.writers, writer{id: len(l.writers), node: n, shard: s, hashKey: *sh.HashKeyRange.StartingHashKey})
		}
	}
	return l
}

// start starts every writer.
func (l *load) start(ctx context.Context) {
	l.startedAt = time.Now()
	for _, w := range l.writers {
		l.wg.Go(func() { l.run(ctx, w) })
	}
}

// halt stops the writers and waits for their last calls.
func (l *load) halt() {
	close(l.stop)
	l.wg.Wait()
}

func (l *load) run(ctx context.Context, w writer) {
	c := l.clients[w.node]
	next := 0
	for {
		select {
		case <-l.stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		a := attempt{writer: w.id, node: w.node, shard: w.shard, first: next, count: l.batch, acked: make([]string, l.batch)}
		next += l.batch
		entries := make([]types.PutRecordsRequestEntry, l.batch)
		for i := range entries {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), ExplicitHashKey: aws.String(w.hashKey),
				Data: []byte(payload(w.id, a.first+i))}
		}
		actx, cancel := context.WithTimeout(ctx, l.timeout)
		a.sent = time.Now()
		out, err := c.PutRecords(actx, &kinesis.PutRecordsInput{StreamName: aws.String(l.stream), Records: entries})
		a.done = time.Now()
		cancel()
		a.err = err
		if err == nil {
			for i, r := range out.Records {
				if r.ErrorCode != nil {
					if a.codes == nil {
						a.codes = map[string]int{}
					}
					a.codes[*r.ErrorCode]++
					continue
				}
				a.acked[i] = *r.SequenceNumber
			}
		}
		l.mu.Lock()
		l.attempts = append(l.attempts, a)
		l.mu.Unlock()
		if err != nil {
			// A node that is down refuses at once; don't spin.
			select {
			case <-time.After(50 * time.Millisecond):
			case <-l.stop:
				return
			}
		}
	}
}

func payload(writer, n int) string { return strconv.Itoa(writer) + ":" + strconv.Itoa(n) }

// record is one record read back.
type record struct {
	seq, data string
}

// readAll reads every shard of the stream through c from TRIM_HORIZON to
// its tip. Errors (a leader being elected) are retried from the last
// record read, for up to a minute in all.
func readAll(ctx context.Context, c *kinesis.Client, stream string, shardIDs []string) ([][]record, error) {
	deadline := time.Now().Add(time.Minute)
	out := make([][]record, len(shardIDs))
	for s, id := range shardIDs {
		var iter *string
		for {
			if iter == nil {
				in := &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(id),
					ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
				if n := len(out[s]); n > 0 {
					in.ShardIteratorType, in.StartingSequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(out[s][n-1].seq)
				}
				it, err := c.GetShardIterator(ctx, in)
				if err != nil {
					if time.Now().After(deadline) {
						return nil, fmt.Errorf("iterator of %s: %w", id, err)
					}
					time.Sleep(200 * time.Millisecond)
					continue
				}
				iter = it.ShardIterator
			}
			res, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				if time.Now().After(deadline) {
					return nil, fmt.Errorf("read %s: %w", id, err)
				}
				iter = nil
				time.Sleep(200 * time.Millisecond)
				continue
			}
			for _, r := range res.Records {
				out[s] = append(out[s], record{*r.SequenceNumber, string(r.Data)})
			}
			if len(res.Records) == 0 && aws.ToInt64(res.MillisBehindLatest) == 0 {
				break
			}
			iter = res.NextShardIterator
		}
	}
	return out, nil
}

// check is what verify found.
type check struct {
	Read, Acked int
	// Lost: acknowledged records missing.
	Lost int
	// Renumbered: acknowledged records read under another shard or
	// sequence number than they were acknowledged with.
	Renumbered int
	// Duplicated: records read more than once (acknowledged or not).
	Duplicated int
	// Reordered: acknowledged records read after a later acknowledged
	// record of their writer, or sequence numbers not increasing in a
	// shard.
	Reordered int
	// UnackedStored: records never acknowledged that were stored (the
	// call failed or timed out after they were).
	UnackedStored int
	// Diverged: nodes whose reading of the stream differs from the
	// first node's.
	Diverged int
	Problems []string
}

// counts is the check's figures, as key=value pairs.
func (c check) counts() string {
	return fmt.Sprintf("acked=%d lost=%d renumbered=%d duplicated=%d reordered=%d diverged=%d unacked_stored=%d",
		c.Acked, c.Lost, c.Renumbered, c.Duplicated, c.Reordered, c.Diverged, c.UnackedStored)
}

func (c check) ok() bool { return c.Lost+c.Renumbered+c.Duplicated+c.Reordered+c.Diverged == 0 }

func (c *check) problem(format string, args ...any) {
	if len(c.Problems) < 20 {
		c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
	}
}

// verify reads the stream back through every client and checks the
// acknowledged records against what the first node reads; every other
// node must read exactly the same records under the same numbers.
func (l *load) verify(ctx context.Context, t *testing.T) check {
	t.Helper()
	var chk check
	reads := make([][][]record, len(l.clients))
	for i, c := range l.clients {
		r, err := readAll(ctx, c, l.stream, l.shardIDs)
		if err != nil {
			t.Fatalf("read back through node %d: %v", i, err)
		}
		reads[i] = r
	}
	for i := 1; i < len(reads); i++ {
		for s := range l.shardIDs {
			if !slices.Equal(reads[0][s], reads[i][s]) {
				chk.Diverged++
				chk.problem("node %d reads %s as %d records, node 0 as %d (first difference at %d)", i, l.shardIDs[s],
					len(reads[i][s]), len(reads[0][s]), firstDiff(reads[0][s], reads[i][s]))
			}
		}
	}
	type pos struct {
		shard int
		seq   string
	}
	seen := map[string]pos{}
	for s, recs := range reads[0] {
		var prev *big.Int
		for _, r := range recs {
			chk.Read++
			if p, dup := seen[r.data]; dup {
				chk.Duplicated++
				chk.problem("record %q read twice (%s %s and %s %s)", r.data, l.shardIDs[p.shard], p.seq, l.shardIDs[s], r.seq)
				continue
			}
			seen[r.data] = pos{s, r.seq}
			n, ok := new(big.Int).SetString(r.seq, 10)
			if !ok {
				chk.problem("%s: sequence number %q", l.shardIDs[s], r.seq)
				chk.Reordered++
				continue
			}
			if prev != nil && n.Cmp(prev) <= 0 {
				chk.Reordered++
				chk.problem("%s: sequence number %s after %s", l.shardIDs[s], r.seq, prev)
			}
			prev = n
		}
	}
	lastSeq := map[int]*big.Int{} // per writer, the last acknowledged record's number
	lastN := map[int]int{}
	for _, a := range l.attempts {
		for i, seq := range a.acked {
			if seq == "" {
				continue
			}
			chk.Acked++
			key := payload(a.writer, a.first+i)
			got, ok := seen[key]
			switch {
			case !ok:
				chk.Lost++
				chk.problem("acknowledged record %s (%s %s, through node %d at %s) is missing", key, l.shardIDs[a.shard], seq,
					a.node, a.done.Format("15:04:05.000"))
				continue
			case got.shard != a.shard || got.seq != seq:
				chk.Renumbered++
				chk.problem("record %s acknowledged as %s %s (through node %d at %s), read as %s %s", key, l.shardIDs[a.shard], seq,
					a.node, a.done.Format("15:04:05.000"), l.shardIDs[got.shard], got.seq)
			}
			delete(seen, key)
			n, _ := new(big.Int).SetString(seq, 10)
			if p, ok := lastSeq[a.writer]; ok && n != nil && n.Cmp(p) <= 0 {
				chk.Reordered++
				chk.problem("writer %d: record %d acknowledged as %s, after record %d as %s", a.writer, a.first+i, seq, lastN[a.writer], p)
			}
			lastSeq[a.writer], lastN[a.writer] = n, a.first+i
		}
	}
	chk.UnackedStored = len(seen)
	return chk
}

func firstDiff(a, b []record) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// errorKind names what a failed call got back, for the figures: the AWS
// error code with its HTTP status, or what kept it from an answer.
func errorKind(err error) string {
	var ae smithy.APIError
	var re interface{ HTTPStatusCode() int }
	switch {
	case errors.As(err, &ae) && errors.As(err, &re):
		return fmt.Sprintf("%s/%d", ae.ErrorCode(), re.HTTPStatusCode())
	case errors.As(err, &ae):
		return ae.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer (client timeout)"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "connection reset by peer"):
		return "connection reset"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed (EOF)"
	}
	return "other: " + err.Error()
}

// retriable says whether aws-sdk-go-v2's standard retryer retries err.
func retriable(err error) bool {
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// percentile is the p-th percentile (0-100) of d, by the nearest rank.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// resumed is how long after at each shard next had a write acknowledged
// through a node other than down (-1: none) that was sent at or after
// at; the largest of those is how long writes were unavailable. A shard
// with no such write before until counts as until-at, and the second
// result is false.
func (l *load) resumed(at, until time.Time, down int) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := make([]time.Time, len(l.shardIDs))
	for _, a := range l.attempts {
		if a.node == down || a.sent.Before(at) || !a.done.Before(until) || allEmpty(a.acked) {
			continue
		}
		if first[a.shard].IsZero() || a.done.Before(first[a.shard]) {
			first[a.shard] = a.done
		}
	}
	worst, all := time.Duration(0), true
	for _, f := range first {
		d := until.Sub(at)
		if f.IsZero() {
			all = false
		} else {
			d = f.Sub(at)
		}
		worst = max(worst, d)
	}
	return worst, all
}

func allEmpty(s []string) bool {
	for _, x := range s {
		if x != "" {
			return false
		}
	}
	return true
}
