package integration

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
)

// BenchmarkSubscribeToShardLatency measures how long a record takes from
// the start of its PutRecord to its arrival in an enhanced fan-out
// subscription, through aws-sdk-go-v2, with a shard split halfway through
// (the subscription follows the record's key to the child shard). It
// reports p50 and p99 in milliseconds; docs/benchmarks.md has figures.
//
//	go test ./test/integration -run '^$' -bench SubscribeToShardLatency -benchtime 1000x
func BenchmarkSubscribeToShardLatency(b *testing.B) {
	// A server process of its own, built without -race: the figures are
	// the server's, comparable with docs/benchmarks.md.
	p := testserver.Start(b)
	c := p.Client()
	ctx := testserver.Context(b, 10*time.Minute)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("lat"), ShardCount: aws.Int32(1)}); err != nil {
		b.Fatal(err)
	}
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("lat")})
	if err != nil {
		b.Fatal(err)
	}
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: sum.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("lat")})
	if err != nil {
		b.Fatal(err)
	}
	consumer := *reg.Consumer.ConsumerARN
	open := func(shardID string, typ types.ShardIteratorType) *kinesis.SubscribeToShardEventStream {
		out, err := c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(consumer),
			ShardId: aws.String(shardID), StartingPosition: &types.StartingPosition{Type: typ}})
		if err != nil {
			b.Fatal(err)
		}
		return out.GetStream()
	}
	stream := open("shardId-000000000000", types.ShardIteratorTypeLatest)
	const key = "k" // md5("k") is in the upper half of the key space: child shardId-000000000002
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		if i == b.N/2 {
			if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("lat"), ShardToSplit: aws.String("shardId-000000000000"),
				NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
				b.Fatal(err)
			}
			for range stream.Events() { // drain to the parent's end
			}
			stream.Close()
			stream = open("shardId-000000000002", types.ShardIteratorTypeTrimHorizon)
		}
		want := strconv.Itoa(i)
		t0 := time.Now()
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("lat"), PartitionKey: aws.String(key), Data: []byte(want)}); err != nil {
			b.Fatal(err)
		}
	wait:
		for ev := range stream.Events() {
			e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
			if !ok {
				continue
			}
			for _, r := range e.Value.Records {
				if string(r.Data) == want {
					lat = append(lat, time.Since(t0))
					break wait
				}
			}
		}
		if len(lat) != i+1 {
			b.Fatalf("record %d never arrived: %v", i, stream.Err())
		}
	}
	b.StopTimer()
	stream.Close()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
}
