package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/sdkclient"
)

// Latency is what SubscribeLatency measured: from the start of each
// PutRecord to the record's arrival in an enhanced fan-out subscription.
type Latency struct {
	Target   string
	Records  int
	P50, P99 time.Duration
	Max      time.Duration
}

// SubscribeLatency registers a consumer of a new one-shard stream through
// subEndpoint, subscribes to the shard there, and puts n records one at a
// time through putEndpoint, timing each from the start of its PutRecord
// to its arrival in the subscription. With two nodes of a cluster this is
// the cross-node push latency: the write on one node must wake the
// subscriber on the other. A subscription lasts five minutes (as AWS's),
// so n should be at most a few thousand.
func SubscribeLatency(ctx context.Context, target, subEndpoint, putEndpoint string, n int, progress io.Writer) (Latency, error) {
	sub := sdkclient.New(subEndpoint, "us-east-1", "bench")
	put := sdkclient.New(putEndpoint, "us-east-1", "bench")
	name := "bench-sub-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	fail := func(what string, err error) (Latency, error) {
		return Latency{}, fmt.Errorf("%s: subscribe latency: %s: %w", target, what, err)
	}
	if _, err := sub.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(1)}); err != nil {
		return fail("create stream", err)
	}
	defer func() {
		_, _ = sub.DeleteStream(context.WithoutCancel(ctx), &kinesis.DeleteStreamInput{StreamName: &name})
	}()
	if err := waitActiveAll(ctx, []*kinesis.Client{sub, put}, name); err != nil {
		return fail("wait for the stream", err)
	}
	sum, err := sub.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	if err != nil {
		return fail("describe stream", err)
	}
	reg, err := sub.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN: sum.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("bench")})
	if err != nil {
		return fail("register consumer", err)
	}
	wctx, cancel := context.WithTimeout(ctx, activeTimeout)
	defer cancel()
	if err := waitConsumerActive(wctx, sub, reg.Consumer.ConsumerARN); err != nil {
		return fail("wait for the consumer", err)
	}
	out, err := sub.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN,
		ShardId: aws.String("shardId-000000000000"), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	if err != nil {
		return fail("subscribe", err)
	}
	stream := out.GetStream()
	defer stream.Close()
	lat := make([]time.Duration, 0, n)
	for i := range n {
		want := strconv.Itoa(i)
		t0 := time.Now()
		if _, err := put.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: &name, PartitionKey: aws.String("k"), Data: []byte(want)}); err != nil {
			return fail("put", err)
		}
		if err := awaitRecord(stream, want); err != nil {
			return fail("record "+want, err)
		}
		lat = append(lat, time.Since(t0))
	}
	res := Latency{Target: target, Records: n}
	res.P50, res.P99 = percentiles(lat)
	res.Max = slices.Max(lat)
	fmt.Fprintf(progress, "%s: %d records pushed, p50 %v, p99 %v\n", target, n, res.P50, res.P99)
	return res, nil
}

// awaitTimeout bounds the wait for one record's push: a record that takes
// longer was not pushed at all (nothing woke the subscription).
const awaitTimeout = 10 * time.Second

// awaitRecord reads the subscription until the record with data want
// arrives. Records put before it have arrived already, since each put
// waits for its record.
func awaitRecord(stream *kinesis.SubscribeToShardEventStream, want string) error {
	timeout := time.NewTimer(awaitTimeout)
	defer timeout.Stop()
	for {
		select {
		case <-timeout.C:
			return fmt.Errorf("not pushed within %v", awaitTimeout)
		case ev, ok := <-stream.Events():
			if !ok {
				if err := stream.Err(); err != nil {
					return fmt.Errorf("subscription ended: %w", err)
				}
				return errors.New("subscription ended before the record arrived")
			}
			e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
			if !ok {
				continue
			}
			for _, r := range e.Value.Records {
				if string(r.Data) == want {
					return nil
				}
			}
		}
	}
}

// waitConsumerActive waits until a registered consumer can subscribe.
func waitConsumerActive(ctx context.Context, c *kinesis.Client, arn *string) error {
	for {
		out, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: arn})
		if err != nil {
			return fmt.Errorf("describe consumer: %w", err)
		}
		if out.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
