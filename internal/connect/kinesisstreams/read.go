package kinesisstreams

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/connect"

	"github.com/tributary-data/tributary/internal/backoff"
)

// Read returns up to limit records (at most 10,000, GetRecords' cap; 0 or
// less means the cap) of a shard after sequence number after, or from the
// oldest record when after is "". A read that continues where the last
// one stopped (after is the last sequence number it returned) reuses the
// NextShardIterator that read got, so it costs one GetRecords call.
//
// When no records are there yet, Read polls for them, no more often than
// the read interval (Kinesis allows 5 reads per second per shard), for up
// to the read wait (default 1s), then returns an empty result; it returns
// at once with ctx's error when ctx ends. End is set once a closed shard
// has been read to its end; the records of that last call come with it.
// Expired iterators are replaced, and throttled reads back off (returning
// an empty result if that outlasts the read wait). For a stream that does
// not exist the error wraps connect.ErrStreamNotFound.
func (s *Streams) Read(ctx context.Context, stream, shard, after string, limit int) (connect.ReadResult, error) {
	if limit <= 0 || limit > maxGetRecords {
		limit = maxGetRecords
	}
	start := time.Now()
	key := iterKey{stream: stream, shard: shard, after: after}
	e, ok := s.iters.take(key, start)
	if !ok {
		it, err := s.newIterator(ctx, stream, shard, after)
		if err != nil {
			return connect.ReadResult{}, err
		}
		e = iterEntry{iter: it, issued: time.Now()}
	}
	throttle := backoff.New(s.opts.readInterval+backoffStart, backoffMax)
	expired := 0
	for {
		if err := backoff.Sleep(ctx, time.Until(e.notBefore)); err != nil {
			s.iters.put(key, e, time.Now())
			return connect.ReadResult{}, fmt.Errorf("kinesisstreams: read %s/%s: %w", stream, shard, err)
		}
		out, err := s.client.GetRecords(ctx, &kinesis.GetRecordsInput{
			ShardIterator: aws.String(e.iter), Limit: aws.Int32(int32(limit)),
		})
		now := time.Now()
		e.notBefore = now.Add(s.opts.readInterval)
		if err != nil {
			switch code := errorCode(err); {
			case ctx.Err() != nil:
				// The iterator is still good: GetRecords does not use it up.
				s.iters.put(key, e, now)
				return connect.ReadResult{}, fmt.Errorf("kinesisstreams: read %s/%s: %w", stream, shard, err)
			case code == "ExpiredIteratorException" && expired < maxExpiredRetries:
				// The iterator stands where `after` does: nothing was
				// returned from it yet, so a new one can take its place.
				expired++
				it, err := s.newIterator(ctx, stream, shard, after)
				if err != nil {
					return connect.ReadResult{}, err
				}
				e.iter, e.issued = it, time.Now()
				continue
			case throttled(err):
				e.notBefore = now.Add(throttle.Step())
				if now.Sub(start) >= s.opts.readWait {
					s.iters.put(key, e, now)
					return connect.ReadResult{}, nil
				}
				continue
			case code == "ResourceNotFoundException":
				return connect.ReadResult{}, s.notFound(ctx, stream, shard, err)
			}
			return connect.ReadResult{}, fmt.Errorf("kinesisstreams: read %s/%s: %w", stream, shard, err)
		}
		res := connect.ReadResult{Records: records(out.Records)}
		if out.NextShardIterator == nil {
			// A closed shard read to its end: no iterator to keep.
			res.End = true
			return res, nil
		}
		e.iter, e.issued = *out.NextShardIterator, now
		if n := len(res.Records); n > 0 {
			s.iters.put(iterKey{stream: stream, shard: shard, after: res.Records[n-1].SequenceNumber}, e, now)
			return res, nil
		}
		if now.Sub(start)+s.opts.readInterval > s.opts.readWait {
			s.iters.put(key, e, now)
			return res, nil
		}
	}
}

// records converts GetRecords' records.
func records(in []types.Record) []connect.StreamRecord {
	if len(in) == 0 {
		return nil
	}
	out := make([]connect.StreamRecord, len(in))
	for i, r := range in {
		out[i] = connect.StreamRecord{
			PartitionKey:   aws.ToString(r.PartitionKey),
			Data:           r.Data,
			SequenceNumber: aws.ToString(r.SequenceNumber),
			Arrival:        aws.ToTime(r.ApproximateArrivalTimestamp),
		}
	}
	return out
}

// newIterator asks for an iterator at the oldest record of a shard (after
// == "") or just after sequence number after.
func (s *Streams) newIterator(ctx context.Context, stream, shard, after string) (string, error) {
	in := &kinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: aws.String(shard),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	}
	if after != "" {
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.StartingSequenceNumber = aws.String(after)
	}
	out, err := retryThrottled(ctx, controlAttempts, func() (*kinesis.GetShardIteratorOutput, error) {
		return s.client.GetShardIterator(ctx, in)
	})
	if err != nil {
		if errorCode(err) == "ResourceNotFoundException" {
			return "", s.notFound(ctx, stream, shard, err)
		}
		return "", fmt.Errorf("kinesisstreams: shard iterator for %s/%s: %w", stream, shard, err)
	}
	if out.ShardIterator == nil {
		return "", fmt.Errorf("kinesisstreams: shard iterator for %s/%s: none returned", stream, shard)
	}
	return *out.ShardIterator, nil
}

// notFound turns a ResourceNotFoundException of a shard operation into
// the error Read returns. Kinesis uses that code both for a missing stream
// and for a missing shard of an existing one; only the first is
// connect.ErrStreamNotFound, so it asks which one it is.
func (s *Streams) notFound(ctx context.Context, stream, shard string, err error) error {
	_, derr := s.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if derr == nil || errorCode(derr) != "ResourceNotFoundException" {
		return fmt.Errorf("kinesisstreams: read %s/%s: %w", stream, shard, err)
	}
	s.iters.dropStream(stream)
	return fmt.Errorf("kinesisstreams: read %s/%s: %w: %w", stream, shard, connect.ErrStreamNotFound, err)
}

// iterKey names a position in a shard: just after sequence number after
// ("" for the oldest record).
type iterKey struct{ stream, shard, after string }

// iterEntry is a cached iterator at a position.
type iterEntry struct {
	iter string
	// notBefore is when the iterator may next be used: one read interval
	// after the GetRecords that returned it, later after throttling.
	notBefore time.Time
	// issued is when Kinesis returned the iterator; it expires 5
	// minutes later.
	issued time.Time
}

// iterCache holds the next iterator of recent reads, so that the read
// that continues one finds it. Entries expire ttl after their iterator was
// issued, and the cache holds at most max of them, dropping the oldest; a
// Read takes its entry out while it uses it.
type iterCache struct {
	ttl time.Duration
	max int

	mu        sync.Mutex
	m         map[iterKey]iterEntry
	lastSweep time.Time
}

func newIterCache(ttl time.Duration, max int) *iterCache {
	return &iterCache{ttl: ttl, max: max, m: map[iterKey]iterEntry{}}
}

// take removes and returns the fresh entry for k, if there is one.
func (c *iterCache) take(k iterKey, now time.Time) (iterEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return iterEntry{}, false
	}
	delete(c.m, k)
	if now.Sub(e.issued) > c.ttl {
		return iterEntry{}, false
	}
	return e, true
}

// put stores e for k, dropping expired entries now and then and the
// oldest entries when the cache is full.
func (c *iterCache) put(k iterKey, e iterEntry, now time.Time) {
	if c.ttl <= 0 || c.max <= 0 || now.Sub(e.issued) > c.ttl {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = e
	if now.Sub(c.lastSweep) > c.ttl/4 || len(c.m) > c.max {
		c.lastSweep = now
		for key, old := range c.m {
			if now.Sub(old.issued) > c.ttl {
				delete(c.m, key)
			}
		}
	}
	for len(c.m) > c.max {
		var oldest iterKey
		first := true
		for key, old := range c.m {
			if first || old.issued.Before(c.m[oldest].issued) {
				oldest, first = key, false
			}
		}
		delete(c.m, oldest)
	}
}

// dropStream forgets the iterators of a stream that no longer exists.
func (c *iterCache) dropStream(stream string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.stream == stream {
			delete(c.m, k)
		}
	}
}

// size returns how many iterators are cached.
func (c *iterCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
