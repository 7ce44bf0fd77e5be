package kinesisstreams

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// calls counts the API calls a client makes, by operation, and makes
// list calls return small pages so that pagination is exercised.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) option(o *kinesis.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				switch p := in.Parameters.(type) {
				case *kinesis.ListStreamsInput:
					p.Limit = aws.Int32(2)
				case *kinesis.ListShardsInput:
					p.MaxResults = aws.Int32(2)
				}
				c.mu.Lock()
				if c.n == nil {
					c.n = map[string]int{}
				}
				c.n[fmt.Sprintf("%T", in.Parameters)]++
				c.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

// count returns how many calls took input of in's type.
func (c *calls) count(in any) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[fmt.Sprintf("%T", in)]
}

type env struct {
	proc   *testserver.Proc
	client *kinesis.Client // plain, for setting up and checking
	calls  *calls
	s      *Streams
}

// setup starts a server and returns Streams over a client without SDK
// retries, so that the package's own retries are what is tested.
func setup(t *testing.T, flags []string, opts ...Option) *env {
	t.Helper()
	p := inproc.Start(t, flags...)
	c := &calls{}
	return &env{proc: p, client: p.Client(), calls: c, s: New(p.Client(c.option), opts...)}
}

var (
	nameSeq    atomic.Int64
	nameUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)
)

func streamName(t *testing.T) string {
	n := nameUnsafe.ReplaceAllString(strings.TrimPrefix(t.Name(), "Test"), ".")
	if len(n) > 80 {
		n = n[:80]
	}
	return fmt.Sprintf("%s-%d", n, nameSeq.Add(1))
}

func ctxFor(t *testing.T) context.Context { return testserver.Context(t, 2*time.Minute) }

// record numbers a record of a key: data "key:n".
func record(key string, n int) connect.StreamRecord {
	return connect.StreamRecord{PartitionKey: key, Data: fmt.Appendf(nil, "%s:%d", key, n)}
}

func parse(t *testing.T, r connect.StreamRecord) (string, int) {
	t.Helper()
	key, num, ok := strings.Cut(string(r.Data), ":")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || key != r.PartitionKey {
		t.Fatalf("unexpected record %q with key %q", r.Data, r.PartitionKey)
	}
	return key, n
}

// readAll reads a shard from after until a read returns nothing (an open
// shard) or End (a closed one).
func readAll(t *testing.T, s *Streams, stream, shard, after string, limit int) (recs []connect.StreamRecord, end bool) {
	t.Helper()
	for {
		res, err := s.Read(ctxFor(t), stream, shard, after, limit)
		if err != nil {
			t.Fatalf("read %s after %q: %v", shard, after, err)
		}
		if limit > 0 && len(res.Records) > limit {
			t.Fatalf("read %s: %d records, limit %d", shard, len(res.Records), limit)
		}
		recs = append(recs, res.Records...)
		if res.End {
			return recs, true
		}
		if len(res.Records) == 0 {
			return recs, false
		}
		after = res.Records[len(res.Records)-1].SequenceNumber
	}
}

func seqLess(t *testing.T, a, b string) bool {
	x, ok1 := new(big.Int).SetString(a, 10)
	y, ok2 := new(big.Int).SetString(b, 10)
	if !ok1 || !ok2 {
		t.Fatalf("bad sequence numbers %q, %q", a, b)
	}
	return x.Cmp(y) < 0
}

func waitActive(t *testing.T, c *kinesis.Client, name string) {
	t.Helper()
	for {
		out, err := c.DescribeStreamSummary(ctxFor(t), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func shardIDs(shards []connect.Shard) []string {
	var ids []string
	for _, sh := range shards {
		ids = append(ids, sh.ID)
	}
	return ids
}

func TestEnsureStreamAndListStreams(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	ctx := ctxFor(t)
	cases := []struct {
		name   string
		shards int
	}{
		{streamName(t), 1},
		{streamName(t), 2},
		{streamName(t), 4},
		{streamName(t), 3},
		{streamName(t), 5},
	}
	for _, c := range cases {
		// Three at once, racing to create the stream, then once more
		// when it exists: all succeed.
		errs := make(chan error, 3)
		for range cap(errs) {
			go func() { errs <- e.s.EnsureStream(ctx, c.name, c.shards) }()
		}
		for range cap(errs) {
			if err := <-errs; err != nil {
				t.Fatalf("EnsureStream(%s, %d): %v", c.name, c.shards, err)
			}
		}
		if err := e.s.EnsureStream(ctx, c.name, c.shards); err != nil {
			t.Fatalf("EnsureStream(%s, %d) again: %v", c.name, c.shards, err)
		}
		// Another shard count does not change an existing stream.
		if err := e.s.EnsureStream(ctx, c.name, c.shards+1); err != nil {
			t.Fatalf("EnsureStream(%s, %d) of an existing stream: %v", c.name, c.shards+1, err)
		}
		out, err := e.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(c.name)})
		if err != nil {
			t.Fatal(err)
		}
		if st := out.StreamDescriptionSummary.StreamStatus; st != types.StreamStatusActive {
			t.Errorf("%s: status %s after EnsureStream", c.name, st)
		}
		shards, err := e.s.Shards(ctx, c.name)
		if err != nil {
			t.Fatal(err)
		}
		if len(shards) != c.shards {
			t.Errorf("%s: %d shards %v, want %d", c.name, len(shards), shardIDs(shards), c.shards)
		}
		for _, sh := range shards {
			if sh.Closed || len(sh.Parents) != 0 {
				t.Errorf("%s: new shard %+v is closed or has parents", c.name, sh)
			}
		}
	}
	if err := e.s.EnsureStream(ctx, streamName(t), 0); err == nil {
		t.Errorf("EnsureStream with 0 shards succeeded")
	}

	names, err := e.s.ListStreams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{}
	for _, c := range cases {
		want = append(want, c.name)
	}
	slices.Sort(want)
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("ListStreams = %v, want %v", names, want)
	}
	if n := e.calls.count(&kinesis.ListStreamsInput{}); n < 3 {
		t.Errorf("ListStreams made %d calls for %d streams in pages of 2", n, len(want))
	}
}

func TestPutAndReadBack(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	ctx := ctxFor(t)
	name := streamName(t)
	if err := e.s.EnsureStream(ctx, name, 4); err != nil {
		t.Fatal(err)
	}
	const total, keys = 2000, 97
	var recs []connect.StreamRecord
	next := map[string]int{}
	for i := range total {
		key := fmt.Sprintf("key-%d", (i*31)%keys)
		if i%7 == 0 {
			key = fmt.Sprintf("other-%d", i%5)
		}
		r := record(key, next[key])
		r.Attrs = []byte("ignored")
		recs = append(recs, r)
		next[key]++
	}
	if err := e.s.Put(ctx, name, recs); err != nil {
		t.Fatal(err)
	}
	if n := e.calls.count(&kinesis.PutRecordsInput{}); n != total/maxPutRecords {
		t.Errorf("%d PutRecords calls for %d records, want %d", n, total, total/maxPutRecords)
	}
	shards, err := e.s.Shards(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(shards) != 4 {
		t.Fatalf("%d shards, want 4", len(shards))
	}

	limits := []int{37, 100, 499, 0}
	got := make([][]connect.StreamRecord, len(shards))
	t.Run("read", func(t *testing.T) {
		for i, sh := range shards {
			t.Run(sh.ID, func(t *testing.T) {
				t.Parallel()
				recs, end := readAll(t, e.s, name, sh.ID, "", limits[i])
				if end {
					t.Errorf("End on an open shard")
				}
				got[i] = recs
			})
		}
	})
	if t.Failed() {
		return
	}
	// Each shard was read in one chain of iterators.
	if n := e.calls.count(&kinesis.GetShardIteratorInput{}); n != len(shards) {
		t.Errorf("%d GetShardIterator calls reading %d shards", n, len(shards))
	}
	seen := map[string]int{}
	shardOf := map[string]string{}
	for i, recs := range got {
		id := shards[i].ID
		for j, r := range recs {
			key, n := parse(t, r)
			if want := seen[key]; n != want {
				t.Fatalf("%s: record %d of %s read after %d of its records", id, n, key, want)
			}
			seen[key]++
			if s, ok := shardOf[key]; ok && s != id {
				t.Fatalf("key %s in %s and %s", key, s, id)
			}
			shardOf[key] = id
			if j > 0 && !seqLess(t, recs[j-1].SequenceNumber, r.SequenceNumber) {
				t.Fatalf("%s: sequence numbers out of order: %s then %s", id, recs[j-1].SequenceNumber, r.SequenceNumber)
			}
			if r.Arrival.IsZero() || r.Attrs != nil {
				t.Fatalf("%s: record %+v lacks an arrival time or has attrs", id, r)
			}
		}
	}
	for key, n := range next {
		if seen[key] != n {
			t.Errorf("key %s: read %d records, wrote %d", key, seen[key], n)
		}
	}
	used := map[string]bool{}
	for _, s := range shardOf {
		used[s] = true
	}
	if len(used) < 2 {
		t.Errorf("records went to %d shards only", len(used))
	}
}

func TestReadAfter(t *testing.T) {
	t.Parallel()
	e := setup(t, nil, WithReadWait(300*time.Millisecond))
	ctx := ctxFor(t)
	name := streamName(t)
	if err := e.s.EnsureStream(ctx, name, 1); err != nil {
		t.Fatal(err)
	}
	var recs []connect.StreamRecord
	for i := range 10 {
		recs = append(recs, record("k", i))
	}
	if err := e.s.Put(ctx, name, recs); err != nil {
		t.Fatal(err)
	}
	const shard = "shardId-000000000000"
	all, _ := readAll(t, e.s, name, shard, "", 100)
	if len(all) != 10 {
		t.Fatalf("read %d records, want 10", len(all))
	}
	cases := []struct {
		name  string
		after string
		want  []int
	}{
		{"oldest", "", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"after first", all[0].SequenceNumber, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"after middle", all[4].SequenceNumber, []int{5, 6, 7, 8, 9}},
		{"after last", all[9].SequenceNumber, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A fresh Streams, so that no cached iterator answers.
			s := New(e.proc.Client(), WithReadWait(300*time.Millisecond))
			for range 2 { // the second time from the cache, for "" and "after last"
				res, err := s.Read(ctx, name, shard, c.after, 100)
				if err != nil {
					t.Fatal(err)
				}
				var got []int
				for _, r := range res.Records {
					_, n := parse(t, r)
					got = append(got, n)
				}
				if !slices.Equal(got, c.want) || res.End {
					t.Fatalf("Read after %q = %v (End %v), want %v", c.after, got, res.End, c.want)
				}
			}
		})
	}
}

func TestShardsAfterReshard(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	ctx := ctxFor(t)
	name := streamName(t)
	if err := e.s.EnsureStream(ctx, name, 2); err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	put := func(n int) {
		t.Helper()
		var recs []connect.StreamRecord
		for i := range n {
			key := fmt.Sprintf("key-%d", i%23)
			recs = append(recs, record(key, next[key]))
			next[key]++
		}
		if err := e.s.Put(ctx, name, recs); err != nil {
			t.Fatal(err)
		}
	}
	put(300)

	ls, err := e.client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	start, _ := new(big.Int).SetString(*ls.Shards[0].HashKeyRange.StartingHashKey, 10)
	end, _ := new(big.Int).SetString(*ls.Shards[0].HashKeyRange.EndingHashKey, 10)
	mid := new(big.Int).Add(start, new(big.Int).Rsh(new(big.Int).Sub(end, start), 1))
	if _, err := e.client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name),
		ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, e.client, name)
	put(100)
	if _, err := e.client.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name),
		ShardToMerge: aws.String("shardId-000000000002"), AdjacentShardToMerge: aws.String("shardId-000000000003")}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, e.client, name)
	put(200)

	shards, err := e.s.Shards(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	want := []connect.Shard{
		{ID: "shardId-000000000000", Closed: true},
		{ID: "shardId-000000000001"},
		{ID: "shardId-000000000002", Parents: []string{"shardId-000000000000"}, Closed: true},
		{ID: "shardId-000000000003", Parents: []string{"shardId-000000000000"}, Closed: true},
		{ID: "shardId-000000000004", Parents: []string{"shardId-000000000002", "shardId-000000000003"}},
	}
	if fmt.Sprint(shards) != fmt.Sprint(want) {
		t.Fatalf("Shards = %+v\nwant     %+v", shards, want)
	}
	if n := e.calls.count(&kinesis.ListShardsInput{}); n < 3 {
		t.Errorf("Shards made %d ListShards calls for 5 shards in pages of 2", n)
	}

	// Read the lineage parents first; per-key order holds across it.
	seen := map[string]int{}
	for _, sh := range shards {
		recs, end := readAll(t, e.s, name, sh.ID, "", 50)
		if end != sh.Closed {
			t.Errorf("%s: End %v, closed %v", sh.ID, end, sh.Closed)
		}
		for _, r := range recs {
			key, n := parse(t, r)
			if n != seen[key] {
				t.Fatalf("%s: record %d of %s read after %d of its records", sh.ID, n, key, seen[key])
			}
			seen[key]++
		}
		if end {
			// Reading the end again still says End, and nothing stays
			// cached for a finished shard.
			after := ""
			if len(recs) > 0 {
				after = recs[len(recs)-1].SequenceNumber
			}
			res, err := e.s.Read(ctx, name, sh.ID, after, 10)
			if err != nil || !res.End || len(res.Records) != 0 {
				t.Errorf("%s: read at the end = %+v, %v; want End", sh.ID, res, err)
			}
			e.s.iters.mu.Lock()
			for k := range e.s.iters.m {
				if k.shard == sh.ID {
					t.Errorf("%s: iterator still cached after End", sh.ID)
				}
			}
			e.s.iters.mu.Unlock()
		}
	}
	for key, n := range next {
		if seen[key] != n {
			t.Errorf("key %s: read %d records, wrote %d", key, seen[key], n)
		}
	}
}

func TestStreamNotFound(t *testing.T) {
	t.Parallel()
	e := setup(t, nil, WithReadWait(100*time.Millisecond))
	ctx := ctxFor(t)
	name := streamName(t)
	if err := e.s.EnsureStream(ctx, name, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Put(ctx, name, []connect.StreamRecord{record("k", 0)}); err != nil {
		t.Fatal(err)
	}
	const shard0 = "shardId-000000000000"
	res, err := e.s.Read(ctx, name, shard0, "", 10)
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("Read = %+v, %v", res, err)
	}
	last := res.Records[0].SequenceNumber
	// Delete the stream while its iterator is cached.
	deleted := streamName(t)
	if err := e.s.EnsureStream(ctx, deleted, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Put(ctx, deleted, []connect.StreamRecord{record("k", 0)}); err != nil {
		t.Fatal(err)
	}
	dres, err := e.s.Read(ctx, deleted, shard0, "", 10)
	if err != nil || len(dres.Records) != 1 {
		t.Fatalf("Read = %+v, %v", dres, err)
	}
	if _, err := e.client.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(deleted)}); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := e.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(deleted)})
		if errorCode(err) == "ResourceNotFoundException" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}

	missing := "no-such-stream"
	cases := []struct {
		name     string
		call     func() error
		notFound bool
	}{
		{"Shards", func() error { _, err := e.s.Shards(ctx, missing); return err }, true},
		{"Read", func() error { _, err := e.s.Read(ctx, missing, shard0, "", 10); return err }, true},
		{"Read after", func() error { _, err := e.s.Read(ctx, missing, shard0, last, 10); return err }, true},
		{"Put", func() error { return e.s.Put(ctx, missing, []connect.StreamRecord{record("k", 0)}) }, true},
		{"Read deleted with cached iterator", func() error {
			_, err := e.s.Read(ctx, deleted, shard0, dres.Records[0].SequenceNumber, 10)
			return err
		}, true},
		{"Shards deleted", func() error { _, err := e.s.Shards(ctx, deleted); return err }, true},
		{"Read missing shard", func() error { _, err := e.s.Read(ctx, name, "shardId-000000000009", "", 10); return err }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, connect.ErrStreamNotFound) != c.notFound {
				t.Fatalf("error %v: ErrStreamNotFound %v, want %v", err, !c.notFound, c.notFound)
			}
			if !strings.HasPrefix(err.Error(), "kinesisstreams: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestReadCancel(t *testing.T) {
	t.Parallel()
	// A read wait of an hour: only the cancellation can end the Read.
	e := setup(t, nil, WithReadWait(time.Hour))
	name := streamName(t)
	if err := e.s.EnsureStream(ctxFor(t), name, 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctxFor(t))
	done := make(chan error, 1)
	go func() {
		_, err := e.s.Read(ctx, name, "shardId-000000000000", "", 10)
		done <- err
	}()
	// Let the Read reach its wait for records (a few empty GetRecords).
	for e.calls.count(&kinesis.GetRecordsInput{}) < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Read returned %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Read did not return after its context was canceled")
	}
	// The iterator was kept: the next Read continues without a new one.
	before := e.calls.count(&kinesis.GetShardIteratorInput{})
	s := e.s
	s.opts.readWait = 0
	if _, err := s.Read(ctxFor(t), name, "shardId-000000000000", "", 10); err != nil {
		t.Fatal(err)
	}
	if n := e.calls.count(&kinesis.GetShardIteratorInput{}); n != before {
		t.Errorf("%d GetShardIterator calls after a canceled Read, want %d", n, before)
	}
}

// TestPutRetriesThrottled writes faster than a throttled shard takes
// (1,000 records/s) so that PutRecords fails some records, and checks that
// every record arrives with the last copy of each in per-key order.
func TestPutRetriesThrottled(t *testing.T) {
	t.Parallel()
	e := setup(t, []string{"-throttle"})
	ctx := ctxFor(t)
	name := streamName(t)
	if err := e.s.EnsureStream(ctx, name, 1); err != nil {
		t.Fatal(err)
	}
	const total = 3000
	next := map[string]int{}
	var recs []connect.StreamRecord
	for i := range total {
		key := fmt.Sprintf("key-%d", i%5)
		recs = append(recs, record(key, next[key]))
		next[key]++
	}
	if err := e.s.Put(ctx, name, recs); err != nil {
		t.Fatal(err)
	}
	if n := e.calls.count(&kinesis.PutRecordsInput{}); n <= total/maxPutRecords {
		t.Errorf("%d PutRecords calls: the shard never throttled, nothing was retried", n)
	}
	got, _ := readAll(t, e.s, name, "shardId-000000000000", "", 10000)
	// The last copy of each record, in per-key order, is every record.
	lastAt := map[string]int{}
	for i, r := range got {
		lastAt[string(r.Data)] = i
	}
	for key, n := range next {
		prev := -1
		for i := range n {
			at, ok := lastAt[fmt.Sprintf("%s:%d", key, i)]
			if !ok {
				t.Fatalf("record %d of %s missing", i, key)
			}
			if at < prev {
				t.Fatalf("last copy of record %d of %s precedes that of record %d", i, key, i-1)
			}
			prev = at
		}
	}
	t.Logf("%d records read for %d written, in %d PutRecords calls", len(got), total, e.calls.count(&kinesis.PutRecordsInput{}))
}

func TestRetryEntries(t *testing.T) {
	t.Parallel()
	ok, fail := types.PutRecordsResultEntry{}, types.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException")}
	cases := []struct {
		name    string
		keys    string // one letter per entry
		results []types.PutRecordsResultEntry
		want    []int // indexes of the entries to send again
	}{
		{"all ok", "abab", []types.PutRecordsResultEntry{ok, ok, ok, ok}, nil},
		{"all failed", "abab", []types.PutRecordsResultEntry{fail, fail, fail, fail}, []int{0, 1, 2, 3}},
		{"later records of a failed key", "aabab", []types.PutRecordsResultEntry{ok, fail, ok, ok, ok}, []int{1, 3}},
		{"first failure per key", "abcabc", []types.PutRecordsResultEntry{ok, fail, ok, fail, ok, ok}, []int{1, 3, 4}},
		{"last failed", "aaa", []types.PutRecordsResultEntry{ok, ok, fail}, []int{2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var entries []types.PutRecordsRequestEntry
			for i, k := range c.keys {
				entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(string(k)), Data: []byte{byte(i)}})
			}
			var got []int
			for _, e := range retryEntries(entries, c.results) {
				got = append(got, int(e.Data[0]))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("retryEntries = %v, want %v", got, c.want)
			}
		})
	}
}

func TestIterCacheBounds(t *testing.T) {
	t.Parallel()
	now := time.Now()
	c := newIterCache(time.Minute, 3)
	for i := range 5 {
		at := now.Add(time.Duration(i) * time.Second)
		c.put(iterKey{"s", "sh", strconv.Itoa(i)}, iterEntry{iter: strconv.Itoa(i), issued: at}, at)
	}
	if n := c.size(); n != 3 {
		t.Fatalf("%d entries, want at most 3", n)
	}
	if _, ok := c.take(iterKey{"s", "sh", "0"}, now.Add(5*time.Second)); ok {
		t.Errorf("oldest entry kept beyond the cache size")
	}
	if e, ok := c.take(iterKey{"s", "sh", "4"}, now.Add(5*time.Second)); !ok || e.iter != "4" {
		t.Errorf("newest entry = %+v, %v", e, ok)
	}
	if _, ok := c.take(iterKey{"s", "sh", "4"}, now.Add(5*time.Second)); ok {
		t.Errorf("an entry was taken twice")
	}
	if _, ok := c.take(iterKey{"s", "sh", "3"}, now.Add(2*time.Minute)); ok {
		t.Errorf("an expired entry was returned")
	}
	c.put(iterKey{"t", "sh", ""}, iterEntry{issued: now.Add(10 * time.Minute)}, now.Add(10*time.Minute))
	if n := c.size(); n != 1 {
		t.Errorf("%d entries after expiry sweep, want 1", n)
	}
	c.dropStream("t")
	if n := c.size(); n != 0 {
		t.Errorf("%d entries after dropStream, want 0", n)
	}
}

// TestFromProperties builds Streams from worker properties against a
// server that tells accounts apart by access key and regions by signature,
// which shows where the credentials and region came from.
func TestFromProperties(t *testing.T) {
	p := inproc.Start(t)
	// Keep the host's AWS setup out of the test.
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_KINESIS": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "",
	} {
		t.Setenv(k, v)
	}
	cases := []struct {
		name  string
		props map[string]string
		env   map[string]string
		// check is the client that must see the stream created.
		check   func(*kinesis.Options)
		wantErr string
	}{
		{name: "endpoint, no credentials", props: map[string]string{PropEndpoint: p.Endpoint}},
		{name: "endpoint and region", props: map[string]string{PropEndpoint: p.Endpoint, PropRegion: "eu-west-1"},
			check: testserver.WithRegion("eu-west-1")},
		{name: "region from the environment", props: map[string]string{PropEndpoint: p.Endpoint},
			env: map[string]string{"AWS_REGION": "ap-south-1"}, check: testserver.WithRegion("ap-south-1")},
		{name: "credentials from the environment", props: map[string]string{PropEndpoint: p.Endpoint + "/"},
			env:   map[string]string{"AWS_ACCESS_KEY_ID": "111122223333", "AWS_SECRET_ACCESS_KEY": "x"},
			check: testserver.WithAccount("111122223333")},
		{name: "credentials from the shared file", props: map[string]string{PropEndpoint: p.Endpoint},
			env:   map[string]string{"AWS_SHARED_CREDENTIALS_FILE": writeFile(t, "[default]\naws_access_key_id = 444455556666\naws_secret_access_key = x\n")},
			check: testserver.WithAccount("444455556666")},
		{name: "endpoint without scheme", props: map[string]string{PropEndpoint: p.Addr}, wantErr: "not an http(s) URL"},
		{name: "no endpoint, no region", props: map[string]string{}, wantErr: "no region"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			ctx := ctxFor(t)
			s, err := FromProperties(ctx, c.props)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("FromProperties error %v, want one saying %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			name := streamName(t)
			if err := s.EnsureStream(ctx, name, 1); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, name, []connect.StreamRecord{record("k", 0), record("k", 1)}); err != nil {
				t.Fatal(err)
			}
			recs, _ := readAll(t, s, name, "shardId-000000000000", "", 10)
			if len(recs) != 2 {
				t.Fatalf("read %d records, want 2", len(recs))
			}
			var opts []func(*kinesis.Options)
			if c.check != nil {
				opts = append(opts, c.check)
			}
			if _, err := p.Client(opts...).DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)}); err != nil {
				t.Errorf("stream not where the properties put it: %v", err)
			}
			if c.check != nil {
				if _, err := p.Client().DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)}); err == nil {
					t.Errorf("stream in the default account and region too")
				}
			}
		})
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := t.TempDir() + "/credentials"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
