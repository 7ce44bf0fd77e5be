package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/testserver"
)

// TestShutdownEndsSubscriptions shuts a server down under 10 live
// SubscribeToShard calls: the shutdown finishes within 2 s, well before
// the subscriptions' five minutes, and each subscriber sees its event
// stream end cleanly, as when its time is up, with no error.
func TestShutdownEndsSubscriptions(t *testing.T) {
	const subscribers = 10
	ctx := context.Background()
	s, err := Start(ctx, Config{Addr: "127.0.0.1:0", Store: store.Config{InMemory: true}})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = s.Shutdown(ctx)
		}
	})
	endpoint := "http://" + s.Addr()
	c := testserver.NewClient(endpoint)
	consumer := subscribable(t, c, subscribers)

	ends := make(chan error, subscribers)
	for i := range subscribers {
		// A client of its own for each subscriber: event streams sharing
		// one client race in smithy-go (aws/smithy-go#714).
		sc := testserver.NewClient(endpoint)
		out, err := sc.SubscribeToShard(testserver.Context(t, time.Minute), &kinesis.SubscribeToShardInput{
			ConsumerARN: consumer, ShardId: aws.String(fmt.Sprintf("shardId-%012d", i)),
			StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
		if err != nil {
			t.Fatalf("subscriber %d: %v", i, err)
		}
		stream := out.GetStream()
		go func() {
			for range stream.Events() {
			}
			ends <- stream.Err()
			stream.Close()
		}()
	}

	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err = s.Shutdown(sctx)
	stopped = true
	if err != nil {
		t.Fatalf("shutdown with %d live subscriptions: %v", subscribers, err)
	}
	for i := range subscribers {
		if err := <-ends; err != nil {
			t.Errorf("subscriber %d: the event stream ended with %v", i, err)
		}
	}
}

// subscribable makes a stream of n shards with an ACTIVE enhanced
// fan-out consumer, and returns the consumer's ARN.
func subscribable(t *testing.T, c *kinesis.Client, n int) *string {
	t.Helper()
	ctx := testserver.Context(t, time.Minute)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(int32(n))}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN: d.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	return reg.Consumer.ConsumerARN
}
