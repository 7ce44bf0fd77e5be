package integration

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
)

// TestReadRightAfterCreate: with no create delay (this server's
// setting) a stream is ACTIVE as soon as it is visible, so a reader that
// sees it must be able to read its shards at once. Its shard logs once
// appeared after the stream did, and such a read failed with
// ResourceNotFoundException.
func TestReadRightAfterCreate(t *testing.T) {
	t.Parallel()
	// An account of its own: the rounds' shards count against its quota,
	// not the shared one, and each round's stream is deleted after it.
	c := client(testserver.WithAccount(uniqueAccount()))
	ctx := ctxFor(t)
	for i := range 30 {
		name := streamName(t, fmt.Sprint(i))
		var wg sync.WaitGroup
		var readErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
				if err != nil {
					continue // not created yet
				}
				// The last shard's log was created last.
				last := shards.Shards[len(shards.Shards)-1].ShardId
				it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name),
					ShardId: last, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
				if err != nil {
					readErr = fmt.Errorf("GetShardIterator: %w", err)
					return
				}
				if _, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator}); err != nil {
					readErr = fmt.Errorf("GetRecords: %w", err)
				}
				return
			}
		}()
		if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(16)}); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if readErr != nil {
			t.Fatalf("round %d: reading a stream as soon as it is listed: %v", i, readErr)
		}
		if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
}
