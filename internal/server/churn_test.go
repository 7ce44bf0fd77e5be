package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/sdkclient"
	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/testserver"
)

// churnRSSBound is how much more memory than before the server may hold
// once 1,000 streams have been created, used and deleted: the store's and
// the runtime's caches, not anything per stream (which would be a leak
// of about 100 KiB per stream at this bound).
const churnRSSBound = 100 << 20

// TestStreamChurn creates, writes and deletes 1,000 streams
// through aws-sdk-go-v2, some with a consumer subscribed while the
// stream is deleted, and checks from outside what they leave: the
// server's /metrics carries no more series, its goroutines are back to
// what they were, and its resident memory is within churnRSSBound.
// (TestDeletedStreamsLeaveNothing, in internal/kinesis, counts the
// service's per-stream maps.)
func TestStreamChurn(t *testing.T) {
	const streams = 1000
	ctx := context.Background()
	s, err := Start(ctx, Config{Addr: "127.0.0.1:0", Store: store.Config{InMemory: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(ctx) })
	endpoint := "http://" + s.Addr()
	c := testserver.NewClient(endpoint, noKeepAlive)

	churn(t, c, endpoint, "warm-up", true) // what is made once is made now
	series, goroutines, rss := seriesCount(t, s), ourGoroutines(), residentBytes(t)
	for i := range streams {
		churn(t, c, endpoint, fmt.Sprintf("s-%d", i), i%100 == 0)
	}
	testserver.WaitUntil(t, "the deletions", time.Minute, func() bool {
		out, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{})
		return err == nil && len(out.StreamNames) == 0
	})
	// A deletion leaves the stream list first, and then its series.
	testserver.WaitUntil(t, fmt.Sprintf("/metrics back to %d stream series", series), 20*time.Second, func() bool {
		return seriesCount(t, s) == series
	})
	testserver.WaitUntil(t, fmt.Sprintf("goroutines back to %d", goroutines), 20*time.Second, func() bool {
		return ourGoroutines() <= goroutines
	})
	grown := residentBytes(t) - rss
	t.Logf("resident memory: %d MiB before, grown by %d KiB", rss>>20, grown>>10)
	if grown > churnRSSBound {
		t.Errorf("resident memory grew by %d MiB, over the bound of %d MiB", grown>>20, churnRSSBound>>20)
	}
}

// churn makes a stream, writes to it, and deletes it; with subscribe, a
// consumer reads it, subscribed while the stream is deleted.
func churn(t *testing.T, c *kinesis.Client, endpoint, name string, subscribe bool) {
	t.Helper()
	ctx := testserver.Context(t, time.Minute)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	var events <-chan types.SubscribeToShardEventStream
	if subscribe {
		events = subscribed(t, c, endpoint, name)
	}
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if events != nil {
		for range events { // the subscription ends with the stream
		}
	}
}

// subscribed registers a consumer of a stream and subscribes it to
// shard 0, with a client of its own (aws/smithy-go#714).
func subscribed(t *testing.T, c *kinesis.Client, endpoint, name string) <-chan types.SubscribeToShardEventStream {
	t.Helper()
	ctx := testserver.Context(t, time.Minute)
	d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN: d.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := testserver.NewClient(endpoint, noKeepAlive).SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{
		ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}})
	if err != nil {
		t.Fatal(err)
	}
	stream := out.GetStream()
	t.Cleanup(func() { stream.Close() })
	return stream.Events()
}

// noKeepAlive makes a client close each connection after its request,
// so that idle connections do not count among the goroutines.
func noKeepAlive(o *kinesis.Options) {
	o.HTTPClient = sdkclient.Stable(awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.DisableKeepAlives = true
	}))
}

// seriesCount counts the series of /metrics that name a stream.
func seriesCount(t *testing.T, s *Server) int {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "#") && strings.Contains(sc.Text(), `stream="`) {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// residentBytes is the process's resident memory after a collection
// that returns what it can to the system.
func residentBytes(t *testing.T) int64 {
	t.Helper()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatalf("reading resident memory: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// ourGoroutines counts the process's goroutines but JetStream streams'
// own loops: nats-server 2.15.2 leaves some when a stream is deleted
// before they have started (stream.go: internalLoop and
// signalConsumersLoop read mset.qch after stop has set it to nil, and
// wait forever). They are not ours to free; the streams themselves are
// gone.
func ourGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "(*stream).internalLoop") && !strings.Contains(g, "(*stream).signalConsumersLoop") {
			n++
		}
	}
	return n
}
