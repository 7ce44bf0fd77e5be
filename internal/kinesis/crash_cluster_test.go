package kinesis

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestClusterSequenceNumbersSurviveANodeCrash: a node's crash and
// restart change no acknowledged record's sequence number. Records are
// put through every node, then through the two others while the third is
// down and while it restarts, then through all three again; every node
// must read back every acknowledged record once, under the sequence
// number PutRecord returned. (A node's crash once started a new
// sequence-number epoch that renumbered what the others acknowledged
// while it restarted.)
func TestClusterSequenceNumbersSurviveANodeCrash(t *testing.T) {
	ctx := t.Context()
	nodes := catalogNodes(t, 3, Config{})
	if _, err := nodes[0].c.CreateStream(ctx, &sdk.CreateStreamInput{StreamName: aws.String("seq"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, nodes[0].c, "seq")
	var (
		mu    sync.Mutex
		acked = map[string]string{} // data -> sequence number
		tries int
	)
	// put stores one record through c, trying again (with new data, so
	// that an unacknowledged try that was stored anyway is not taken
	// for it) while the cluster elects leaders.
	put := func(c *sdk.Client, what string) error {
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			tries++
			data := fmt.Sprintf("%s-%d", what, tries)
			mu.Unlock()
			out, err := c.PutRecord(ctx, &sdk.PutRecordInput{StreamName: aws.String("seq"), PartitionKey: aws.String("k"), Data: []byte(data)})
			if err == nil {
				mu.Lock()
				acked[data] = *out.SequenceNumber
				mu.Unlock()
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("put %s: %w", what, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	phase := func(name string, through []*kinesisNode, n int) {
		for i := range n {
			if err := put(through[i%len(through)].c, fmt.Sprint(name, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	phase("before", nodes, 30)
	nodes[2].kill()
	phase("down", nodes[:2], 30)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var during error
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if during = put(nodes[i%2].c, fmt.Sprint("restart", i)); during != nil {
				return
			}
		}
	})
	nodes[2].restart(t)
	close(stop)
	wg.Wait()
	if during != nil {
		t.Fatal(during)
	}
	phase("after", nodes, 30)

	for _, n := range nodes {
		got := readShard(t, n.c, "seq", len(acked))
		for data, seq := range acked {
			if got[data] != seq {
				t.Errorf("node %s reads %q under %q, acknowledged as %q", n.Name(), data, got[data], seq)
			}
		}
	}
}

// readShard reads the first shard of a stream from its start through c
// until it has at least want records (bounded), and returns each record's
// sequence number by its data, failing on data read twice.
func readShard(t *testing.T, c *sdk.Client, stream string, want int) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	it, err := c.GetShardIterator(ctx, &sdk.GetShardIteratorInput{StreamName: aws.String(stream),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for iter := it.ShardIterator; len(got) < want; {
		out, err := c.GetRecords(ctx, &sdk.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatalf("read %s after %d records: %v", stream, len(got), err)
		}
		for _, r := range out.Records {
			if prev, ok := got[string(r.Data)]; ok {
				t.Fatalf("%q read twice, under %s and %s", r.Data, prev, *r.SequenceNumber)
			}
			got[string(r.Data)] = *r.SequenceNumber
		}
		iter = out.NextShardIterator
	}
	return got
}
