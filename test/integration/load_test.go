package integration

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
)

// TestConcurrentLargeReads has many consumers read large records at once,
// far more bytes in flight than one read's 10 MiB. Every read must succeed
// and return its shard's data intact: the server must never lose replies
// from its own store under read load (it once did, when the store's
// connection to its embedded server was cut off as a slow consumer). It
// also pins GetRecords' 10 MiB response limit.
//
// It is a load test: it runs on a server process of its own, built without
// -race, so that its 80 MiB neither starve the shared server's other
// tests nor time out in a store instrumented by -race.
func TestConcurrentLargeReads(t *testing.T) {
	t.Parallel()
	c := testserver.Start(t).Client()
	name := streamName(t)
	const shards = 4
	createStream(t, c, name, shards)

	// 4 shards x 20 MiB, in records of 256 KiB.
	const recordSize = 256 << 10
	const perShard = 80
	payload := func(shard, i int) []byte {
		b := bytes.Repeat([]byte{byte(shard), byte(i)}, recordSize/2)
		return b
	}
	ranges := listShardRanges(t, c, name)
	for s := range shards {
		for start := 0; start < perShard; start += 16 {
			var entries []types.PutRecordsRequestEntry
			for i := start; i < start+16; i++ {
				entries = append(entries, types.PutRecordsRequestEntry{
					PartitionKey:    aws.String("k"),
					ExplicitHashKey: aws.String(ranges[s].start.String()),
					Data:            payload(s, i),
				})
			}
			out, err := c.PutRecords(ctxFor(t), &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
			if err != nil || *out.FailedRecordCount != 0 {
				t.Fatalf("put shard %d: %v", s, err)
			}
		}
	}

	const readersPerShard = 4
	var wg sync.WaitGroup
	errs := make(chan error, shards*readersPerShard)
	for s := range shards {
		for range readersPerShard {
			wg.Add(1)
			go func() {
				defer wg.Done()
				it, err := c.GetShardIterator(ctxFor(t), &kinesis.GetShardIteratorInput{
					StreamName: aws.String(name), ShardId: aws.String(fmt.Sprintf("shardId-%012d", s)),
					ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
				})
				if err != nil {
					errs <- err
					return
				}
				n := 0
				iter := it.ShardIterator
				for {
					out, err := c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: iter})
					if err != nil {
						errs <- fmt.Errorf("shard %d after %d records: %w", s, n, err)
						return
					}
					size := 0
					for _, r := range out.Records {
						size += len(r.Data)
					}
					// GetRecords returns at most 10 MiB: 40 of these records.
					if size > 10<<20 || (len(out.Records) < 40 && perShard-n > len(out.Records) && len(out.Records) > 0) {
						errs <- fmt.Errorf("shard %d: a GetRecords returned %d records (%d bytes) with %d left; want 40 (10 MiB) while enough remain", s, len(out.Records), size, perShard-n)
						return
					}
					for _, r := range out.Records {
						if !bytes.Equal(r.Data, payload(s, n)) {
							errs <- fmt.Errorf("shard %d record %d: wrong data", s, n)
							return
						}
						n++
					}
					if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
						break
					}
					iter = out.NextShardIterator
				}
				if n != perShard {
					errs <- fmt.Errorf("shard %d: read %d records, want %d", s, n, perShard)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
