package kinesis

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-data/tributary/internal/sdkclient"
	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/store/storetest"
	"github.com/tributary-data/tributary/internal/streams"
)

// clusterNode is one node's Kinesis service, served over a loopback
// socket, with an aws-sdk-go-v2 client that does not retry.
type clusterNode struct {
	svc *Service
	reg *prometheus.Registry
	c   *sdk.Client
}

func startNode(t *testing.T, st *store.Store, cfg Config) *clusterNode {
	t.Helper()
	n := &clusterNode{reg: prometheus.NewRegistry()}
	cfg.Registerer = n.reg
	var err error
	if n.svc, err = New(t.Context(), st, cfg); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.svc)
	t.Cleanup(func() {
		n.svc.EndSubscriptions()
		srv.Close()
		n.svc.Close()
	})
	n.c = sdkclient.New(srv.URL, "us-east-1", "AKIDEXAMPLE", func(o *sdk.Options) { o.Retryer = aws.NopRetryer{} })
	return n
}

// TestClusterNodes runs two nodes of a cluster. Node A makes the streams;
// node B opens after, and finds them in the metadata bucket.
func TestClusterNodes(t *testing.T) {
	sts := storetest.Stores(t, 2)
	a := startNode(t, sts[0], Config{Throttle: true})
	ctx := t.Context()
	for _, name := range []string{"fanout", "limited"} {
		if _, err := a.c.CreateStream(ctx, &sdk.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
	}
	b := startNode(t, sts[1], Config{Throttle: true})
	t.Run("SubscribeToShard on A gets what B stores", func(t *testing.T) { subscribeAcrossNodes(t, a, b, true) })
	t.Run("throttled at one shard's limits across nodes", func(t *testing.T) { throttleAcrossNodes(t, a, b) })
}

// subscribeAcrossNodes: an enhanced fan-out subscription on node A is
// pushed, in order, every record put one by one through node B: woken
// by B's notifications if notified, else by A's fallback poll alone.
func subscribeAcrossNodes(t *testing.T, a, b *clusterNode, notified bool) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	d, err := a.c.DescribeStreamSummary(ctx, &sdk.DescribeStreamSummaryInput{StreamName: aws.String("fanout")})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := a.c.RegisterStreamConsumer(ctx, &sdk.RegisterStreamConsumerInput{
		StreamARN: d.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("c")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.c.SubscribeToShard(ctx, &sdk.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN,
		ShardId: aws.String("shardId-000000000000"), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	if err != nil {
		t.Fatal(err)
	}
	stream := out.GetStream()
	defer stream.Close()
	// The subscription is waiting once its first (empty) read is done:
	// records put from here on are pushed, not found by that read.
	for !a.svc.eng.Waiting(mustStream(t, a, "fanout").Meta, 0) {
		time.Sleep(time.Millisecond)
	}
	const n = 100
	put := make(chan error, 1)
	go func() {
		for i := range n {
			_, err := b.c.PutRecord(ctx, &sdk.PutRecordInput{StreamName: aws.String("fanout"),
				PartitionKey: aws.String("k"), Data: fmt.Appendf(nil, "r%03d", i)})
			if err != nil {
				put <- err
				return
			}
		}
		put <- nil
	}()
	var got []string
	for ev := range stream.Events() {
		e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
		if !ok {
			continue
		}
		for _, r := range e.Value.Records {
			got = append(got, string(r.Data))
		}
		if len(got) >= n {
			break
		}
	}
	if err := <-put; err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("got %d records before the subscription ended (%v), want %d", len(got), stream.Err(), n)
	}
	for i, r := range got {
		if want := fmt.Sprintf("r%03d", i); r != want {
			t.Fatalf("record %d is %q, want %q", i, r, want)
		}
	}
	sent := gathered(t, b.reg, "tributary_cluster_wake_notifications_sent_total")
	heard := gathered(t, a.reg, "tributary_cluster_wake_notifications_received_total")
	t.Logf("B sent %v notifications for %d puts; A heard %v", sent, n, heard)
	if sent == 0 || sent > n {
		t.Fatalf("B sent %v notifications for %d puts", sent, n)
	}
	if !notified {
		if polls := gathered(t, a.reg, "tributary_cluster_wake_fallback_polls_total"); heard != 0 || polls == 0 {
			t.Fatalf("with notifications blocked, A heard %v and polled %v times", heard, polls)
		}
		return
	}
	// A's interest reaches B's server a moment after A listens: should it
	// have come after every put above, more puts must still be heard.
	for deadline := time.Now().Add(10 * time.Second); heard == 0; heard = gathered(t, a.reg, "tributary_cluster_wake_notifications_received_total") {
		if time.Now().After(deadline) {
			t.Fatal("A heard no notification of B's puts")
		}
		if _, err := b.c.PutRecord(ctx, &sdk.PutRecordInput{StreamName: aws.String("fanout"),
			PartitionKey: aws.String("k"), Data: []byte("more")}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustStream(t *testing.T, n *clusterNode, name string) *streams.Stream {
	t.Helper()
	s, err := n.svc.eng.Lookup(streamRef{"000000000000", "us-east-1", name}.id())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// gathered is the value of a counter without labels in reg.
func gathered(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}

// throttleAcrossNodes puts and reads as fast as it can through both nodes
// into one shard for a while: together they are admitted about one
// shard's limits (1,000 records/s, 5 GetRecords/s), not twice that.
// The bounds allow each node its one-second burst and half a second more
// for usage reports in flight, against the elapsed time the test itself
// measures, so a slow machine only loosens them.
func throttleAcrossNodes(t *testing.T, a, b *clusterNode) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const run = 4 * time.Second
	nodes := []*clusterNode{a, b}
	type counts struct{ stored, throttled, reads, readsThrottled int }
	res := make([]counts, 2)
	errs := make([]error, 4)
	start := time.Now()
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { res[i].stored, res[i].throttled, errs[i] = putFlat(ctx, n.c, start.Add(run)) })
		wg.Go(func() { res[i].reads, res[i].readsThrottled, errs[2+i] = readFlat(ctx, n.c, start.Add(run)) })
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("in %.1fs: %+v", elapsed, res)
	const slack = 0.5 // seconds of the limit's rate per node, for reports in flight
	stored, throttled := res[0].stored+res[1].stored, res[0].throttled+res[1].throttled
	if most := writeRecordsPerSec * (elapsed + 2*(1+slack)); float64(stored) > most {
		t.Errorf("%d records stored in %.1fs through two nodes, more than one shard's %.0f", stored, elapsed, most)
	}
	if throttled == 0 || stored < writeRecordsPerSec {
		t.Errorf("%d records stored, %d throttled: want both", stored, throttled)
	}
	reads, readsThrottled := res[0].reads+res[1].reads, res[0].readsThrottled+res[1].readsThrottled
	if most := readCallsPerSec * (elapsed + 2*(1+slack)); float64(reads) > most {
		t.Errorf("%d GetRecords admitted in %.1fs through two nodes, more than one shard's %.0f", reads, elapsed, most)
	}
	if readsThrottled == 0 || reads < readCallsPerSec {
		t.Errorf("%d GetRecords admitted, %d throttled: want both", reads, readsThrottled)
	}
}

// putFlat sends PutRecords of 500 small records to "limited" until
// deadline, counting the records stored and those refused with
// ProvisionedThroughputExceededException; any other failure is an error.
func putFlat(ctx context.Context, c *sdk.Client, deadline time.Time) (stored, throttled int, err error) {
	entries := make([]types.PutRecordsRequestEntry, 500)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(strconv.Itoa(i)), Data: []byte("x")}
	}
	for time.Now().Before(deadline) {
		out, err := c.PutRecords(ctx, &sdk.PutRecordsInput{StreamName: aws.String("limited"), Records: entries})
		if err != nil {
			return stored, throttled, err
		}
		if int(aws.ToInt32(out.FailedRecordCount)) == len(entries) {
			time.Sleep(5 * time.Millisecond) // all throttled: no need to spin
		}
		for _, r := range out.Records {
			switch aws.ToString(r.ErrorCode) {
			case "":
				stored++
			case "ProvisionedThroughputExceededException":
				throttled++
			default:
				return stored, throttled, fmt.Errorf("record refused: %s: %s", *r.ErrorCode, aws.ToString(r.ErrorMessage))
			}
		}
	}
	return stored, throttled, nil
}

// readFlat calls GetRecords on "limited" until deadline, counting the
// calls admitted and those refused with
// ProvisionedThroughputExceededException.
func readFlat(ctx context.Context, c *sdk.Client, deadline time.Time) (admitted, throttled int, err error) {
	it, err := c.GetShardIterator(ctx, &sdk.GetShardIteratorInput{StreamName: aws.String("limited"),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
	if err != nil {
		return 0, 0, err
	}
	iter := it.ShardIterator
	for time.Now().Before(deadline) {
		out, err := c.GetRecords(ctx, &sdk.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1)})
		var pe *types.ProvisionedThroughputExceededException
		switch {
		case errors.As(err, &pe):
			throttled++
			time.Sleep(5 * time.Millisecond)
			continue
		case err != nil:
			return admitted, throttled, err
		}
		admitted++
		iter = out.NextShardIterator
	}
	return admitted, throttled, nil
}

// TestExternalNATSFallback: two nodes on one external NATS server, where
// node A's NATS user may not subscribe to wake-up notifications (as an
// operator's permissions might have it): B's records still reach a
// SubscribeToShard on A, in order, through A's fallback poll.
func TestExternalNATSFallback(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: t.TempDir(), NoSigs: true, Users: []*server.User{
			{Username: "a", Password: "pa", Permissions: &server.Permissions{
				Subscribe: &server.SubjectPermission{Deny: []string{"tributary.wake.>"}}}},
			{Username: "b", Password: "pb"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	open := func(user, pw string) *store.Store {
		st, err := store.Open(t.Context(), store.Config{InMemory: true,
			External: &store.External{URL: ns.ClientURL(), User: user, Password: pw}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	a := startNode(t, open("a", "pa"), Config{})
	if _, err := a.c.CreateStream(t.Context(), &sdk.CreateStreamInput{StreamName: aws.String("fanout"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	b := startNode(t, open("b", "pb"), Config{})
	subscribeAcrossNodes(t, a, b, false)
}
