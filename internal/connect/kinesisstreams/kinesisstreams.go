// Package kinesisstreams implements connect.Streams over the Kinesis API
// with aws-sdk-go-v2. The standalone connect worker (`tributary connect
// standalone`) runs outside the server process, so it cannot use the
// in-process engine; it reaches a Tributary server, or AWS Kinesis itself,
// through this package instead.
//
// What the Kinesis API cannot carry:
//
//   - StreamRecord.Attrs is dropped on Put and never set on Read: Kinesis
//     records have a partition key and data only. Runtimes that need
//     headers or timestamps must encode them in the data.
//   - Per-key order on Put holds for the last copy of each record only;
//     see Streams.Put.
package kinesisstreams

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/tributary-data/tributary/internal/connect"

	"github.com/tributary-data/tributary/internal/backoff"
)

// Kinesis API limits this package works within.
const (
	// maxPutRecords and maxPutBytes bound one PutRecords request.
	maxPutRecords = 500
	maxPutBytes   = 5 << 20
	// maxGetRecords is the largest Limit GetRecords accepts.
	maxGetRecords = 10000
)

// Retry timing.
const (
	// backoffStart and backoffMax bound the exponential backoff used
	// after throttling and failed records.
	backoffStart = 50 * time.Millisecond
	backoffMax   = 2 * time.Second
	// controlAttempts bounds retries of throttled control-plane calls
	// (CreateStream, ListShards, ...): unlike Put, their callers expect
	// an answer soon, and some "limit exceeded" errors never clear.
	controlAttempts = 10
	// describeInterval is the first pause between DescribeStreamSummary
	// polls while waiting for a stream; it doubles up to backoffMax.
	describeInterval = 100 * time.Millisecond
)

// Read defaults.
const (
	// defaultReadWait is how long Read waits for records to arrive
	// before it returns an empty result; connect.Streams allows "about a
	// second".
	defaultReadWait = time.Second
	// defaultReadInterval spaces GetRecords calls on one shard: Kinesis
	// allows 5 per second per shard, shared by all its readers.
	defaultReadInterval = 200 * time.Millisecond
	// defaultIteratorTTL is how long a cached iterator is kept after
	// Kinesis issued it. Kinesis iterators expire 5 minutes after they are issued, so an
	// older one would only earn an ExpiredIteratorException.
	defaultIteratorTTL = 4 * time.Minute
	// maxCachedIterators bounds the iterator cache whatever the TTL.
	maxCachedIterators = 10000
	// maxExpiredRetries bounds how often one Read replaces an expired
	// iterator before it gives up.
	maxExpiredRetries = 3
)

// Streams is a connect.Streams backed by a Kinesis API endpoint. It is
// safe for concurrent use. Its only state is a cache of shard iterators,
// so that a reader that continues where its last Read stopped needs one
// GetRecords call and no GetShardIterator (which Kinesis limits to 5 calls
// per second per shard).
type Streams struct {
	client *kinesis.Client
	opts   options
	iters  *iterCache
}

var _ connect.Streams = (*Streams)(nil)

type options struct {
	readWait     time.Duration
	readInterval time.Duration
	iteratorTTL  time.Duration
}

// Option tunes a Streams. The defaults suit both AWS and Tributary; the
// options exist for callers with unusual latency or throughput needs, and
// for tests.
type Option func(*options)

// WithReadWait sets how long Read waits for records before it returns an
// empty result (default 1s). Longer waits mean fewer empty round trips
// for the caller; shorter ones let it notice other work sooner.
func WithReadWait(d time.Duration) Option {
	return func(o *options) { o.readWait = max(d, 0) }
}

// WithReadInterval sets the least time between two GetRecords calls that
// continue the same read of a shard (default 200ms, which keeps one
// reader within Kinesis' 5 reads per second per shard). A Tributary
// server without -throttle allows any rate, so a catching-up reader can
// go faster with a shorter interval.
func WithReadInterval(d time.Duration) Option {
	return func(o *options) { o.readInterval = max(d, 0) }
}

// WithIteratorTTL sets how long a cached shard iterator is kept after
// Kinesis issued it (default 4 minutes; Kinesis expires iterators after
// 5). It bounds how long the cache holds the iterators of readers that
// stopped reading a shard; 0 turns the cache off.
func WithIteratorTTL(d time.Duration) Option {
	return func(o *options) { o.iteratorTTL = max(d, 0) }
}

// New returns Streams that use client. The client's own retry settings
// apply to each call; Streams adds the retries the connect.Streams
// contract needs on top (failed records of PutRecords, throttling, expired
// iterators).
func New(client *kinesis.Client, opts ...Option) *Streams {
	o := options{readWait: defaultReadWait, readInterval: defaultReadInterval, iteratorTTL: defaultIteratorTTL}
	for _, fn := range opts {
		fn(&o)
	}
	return &Streams{client: client, opts: o, iters: newIterCache(o.iteratorTTL, maxCachedIterators)}
}

// EnsureStream creates the stream with the given number of shards unless
// it exists, and waits until it is writable (ACTIVE, or UPDATING, in which
// state Kinesis also takes writes and reads). An existing stream is used as
// it is, whatever its shard count. It looks before it creates, so that a
// worker whose credentials may not create streams can still use existing
// ones. The wait has no limit of its own: ctx bounds it.
func (s *Streams) EnsureStream(ctx context.Context, name string, shards int) error {
	if shards < 1 {
		return fmt.Errorf("kinesisstreams: ensure stream %s: shard count %d is not positive", name, shards)
	}
	for {
		missing, err := s.waitWritable(ctx, name)
		if err != nil {
			return fmt.Errorf("kinesisstreams: ensure stream %s: %w", name, err)
		}
		if !missing {
			return nil
		}
		_, err = retryThrottled(ctx, controlAttempts, func() (*kinesis.CreateStreamOutput, error) {
			return s.client.CreateStream(ctx, &kinesis.CreateStreamInput{
				StreamName: aws.String(name), ShardCount: aws.Int32(int32(min(shards, 1<<30))),
			})
		})
		// ResourceInUseException: someone else created it meanwhile, or
		// it is still being deleted; either way, wait and look again.
		if err != nil && errorCode(err) != "ResourceInUseException" {
			return fmt.Errorf("kinesisstreams: create stream %s: %w", name, err)
		}
	}
}

// waitWritable polls a stream's status until it takes writes. It reports
// missing, without waiting, when the stream does not exist.
func (s *Streams) waitWritable(ctx context.Context, name string) (missing bool, err error) {
	pause := backoff.New(describeInterval, backoffMax)
	for {
		out, err := retryThrottled(ctx, controlAttempts, func() (*kinesis.DescribeStreamSummaryOutput, error) {
			return s.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		})
		switch {
		case errorCode(err) == "ResourceNotFoundException":
			return true, nil
		case err != nil:
			return false, err
		}
		switch out.StreamDescriptionSummary.StreamStatus {
		case types.StreamStatusActive, types.StreamStatusUpdating:
			return false, nil
		}
		if err := pause.Wait(ctx); err != nil {
			return false, err
		}
	}
}

// ListStreams returns the names of all streams of the account and region,
// following NextToken through every page.
func (s *Streams) ListStreams(ctx context.Context) ([]string, error) {
	var names []string
	p := kinesis.NewListStreamsPaginator(s.client, &kinesis.ListStreamsInput{})
	for p.HasMorePages() {
		out, err := retryThrottled(ctx, controlAttempts, func() (*kinesis.ListStreamsOutput, error) {
			return p.NextPage(ctx)
		})
		if err != nil {
			return nil, fmt.Errorf("kinesisstreams: list streams: %w", err)
		}
		names = append(names, out.StreamNames...)
	}
	return names, nil
}

// Shards lists a stream's shards, open and closed (those Kinesis still
// keeps within the retention period), following NextToken through every
// page.
func (s *Streams) Shards(ctx context.Context, stream string) ([]connect.Shard, error) {
	var shards []connect.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(stream)}
	for {
		out, err := retryThrottled(ctx, controlAttempts, func() (*kinesis.ListShardsOutput, error) {
			return s.client.ListShards(ctx, in)
		})
		if err != nil {
			if errorCode(err) == "ResourceNotFoundException" {
				s.iters.dropStream(stream)
				return nil, fmt.Errorf("kinesisstreams: list shards of %s: %w: %w", stream, connect.ErrStreamNotFound, err)
			}
			return nil, fmt.Errorf("kinesisstreams: list shards of %s: %w", stream, err)
		}
		for _, sh := range out.Shards {
			c := connect.Shard{ID: aws.ToString(sh.ShardId)}
			for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
				if aws.ToString(p) != "" {
					c.Parents = append(c.Parents, *p)
				}
			}
			c.Closed = sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil
			shards = append(shards, c)
		}
		if aws.ToString(out.NextToken) == "" {
			return shards, nil
		}
		// A page after the first names only the token: Kinesis refuses
		// NextToken together with StreamName.
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// errorCode returns the API error code of err, or "" when err is not an
// API error.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// throttled reports whether err says "too fast, try again later". Kinesis
// uses several codes for it, and a few for transient server trouble that
// clears the same way.
func throttled(err error) bool {
	switch errorCode(err) {
	case "ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException",
		"KMSThrottlingException", "InternalFailure", "ServiceUnavailable", "SlowDown":
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
	}
	return false
}

// retryThrottled runs op until it returns anything but a throttling
// error, pausing with exponential backoff between attempts. attempts
// bounds the calls (0: until ctx ends).
func retryThrottled[T any](ctx context.Context, attempts int, op func() (T, error)) (T, error) {
	b := backoff.New(backoffStart, backoffMax)
	for n := 1; ; n++ {
		v, err := op()
		if err == nil || !throttled(err) || (attempts > 0 && n >= attempts) {
			return v, err
		}
		if werr := b.Wait(ctx); werr != nil {
			return v, fmt.Errorf("%w (while retrying: %w)", werr, err)
		}
	}
}
