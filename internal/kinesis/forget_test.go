package kinesis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-data/tributary/internal/testserver"
)

// streamState is the size of what the service keeps per stream and
// shard outside the catalog.
type streamState struct {
	locks, buckets, signals, series int
}

func (s *Service) streamState(t *testing.T, reg *prometheus.Registry) streamState {
	t.Helper()
	s.appended.mu.Lock()
	signals := len(s.appended.m)
	s.appended.mu.Unlock()
	return streamState{locks: s.locks.len(), buckets: s.limits.len(), signals: signals, series: streamSeries(t, reg)}
}

// streamSeries counts the Prometheus series that carry a stream label.
func streamSeries(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stream" {
					n++
				}
			}
		}
	}
	return n
}

// TestDeletedStreamsLeaveNothing creates, uses and deletes 1,000
// throttled streams, some with a subscription waiting on them: once
// their deletions are complete, the stream locks, throttle buckets,
// wake-up signals, metric series and goroutines are back where they
// were before.
func TestDeletedStreamsLeaveNothing(t *testing.T) {
	const streams = 1000
	reg := prometheus.NewRegistry()
	s := newTestService(t, Config{Throttle: true, Registerer: reg})
	cycle := func(name string, subscribe bool) {
		s.must(t, "CreateStream", `{"StreamName":%q,"ShardCount":2}`, name)
		s.must(t, "PutRecord", `{"StreamName":%q,"PartitionKey":"k","Data":"AAAA"}`, name)
		var it struct{ ShardIterator string }
		json.Unmarshal(s.must(t, "GetShardIterator", `{"StreamName":%q,"ShardId":"shardId-000000000001","ShardIteratorType":"TRIM_HORIZON"}`, name), &it)
		s.must(t, "GetRecords", `{"ShardIterator":%q}`, it.ShardIterator)
		var ended <-chan struct{}
		if subscribe {
			ended = s.subscribed(t, name)
		}
		s.must(t, "DeleteStream", `{"StreamName":%q,"EnforceConsumerDeletion":true}`, name)
		if ended != nil {
			<-ended
		}
	}
	gone := func() bool { return len(s.cat.all("stream.")) == 0 }

	// A first round warms up what is made once (the store's and the
	// runtime's own goroutines); the baseline is taken after it.
	cycle("warm-up", true)
	testserver.WaitUntil(t, "the warm-up stream's deletion", 20*time.Second, gone)
	before := s.streamState(t, reg)
	goroutines := ourGoroutines(t)

	for i := range streams {
		cycle(fmt.Sprintf("s-%d", i), i%100 == 0)
	}
	testserver.WaitUntil(t, "the deletions", time.Minute, gone)
	if logs, err := s.st.Logs(context.Background()); err != nil || len(logs) > 0 {
		t.Fatalf("logs left in the store: %v, %v", logs, err)
	}
	// A deletion leaves the catalog first, and then drops the rest.
	after := s.streamState(t, reg)
	for deadline := time.Now().Add(20 * time.Second); after != before && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		after = s.streamState(t, reg)
	}
	if after != before {
		t.Errorf("after %d streams created and deleted: %+v, before: %+v", streams, after, before)
	}
	waitGoroutines(t, goroutines)
}

// ourGoroutines counts the process's goroutines other than the caller,
// by the function each started in, without the
// per-stream loops of JetStream streams: nats-server leaks some when a
// stream is deleted before they have started (nats-server 2.15.2,
// stream.go: internalLoop and signalConsumersLoop read mset.qch after
// stop has set it to nil, and then wait forever). The streams
// themselves are gone (the test checks the store's logs).
func ourGoroutines(t *testing.T) map[string]int {
	t.Helper()
	var b strings.Builder
	if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
		t.Fatal(err)
	}
	_, profile, _ := strings.Cut(b.String(), "\n") // after the header
	out := map[string]int{}
	for _, g := range strings.Split(strings.TrimSpace(profile), "\n\n") {
		head, stack, _ := strings.Cut(g, "\n")
		var count int
		if _, err := fmt.Sscanf(head, "%d @", &count); err != nil {
			t.Fatalf("goroutine profile: %q: %v", head, err)
		}
		if strings.Contains(stack, "(*stream).internalLoop") || strings.Contains(stack, "(*stream).signalConsumersLoop") ||
			strings.Contains(stack, "kinesis.ourGoroutines") {
			continue
		}
		// A goroutine is known by the function it started in: where it
		// waits changes as it runs.
		frames := strings.Split(strings.TrimSpace(stack), "\n")
		fn, _, _ := strings.Cut(strings.Fields(frames[len(frames)-1])[2], "+")
		out[fn] += count
	}
	return out
}

// waitGoroutines waits until no goroutine is left beyond those of
// before, and fails the test naming those left if that takes over 20 s.
func waitGoroutines(t *testing.T, before map[string]int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var extra []string
		for stack, n := range ourGoroutines(t) {
			if n > before[stack] {
				extra = append(extra, fmt.Sprintf("%d more of %s", n-before[stack], stack))
			}
		}
		if len(extra) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after 20 s: %s", strings.Join(extra, "; "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// subscribed registers a consumer of a stream and subscribes it to shard
// 0, and returns once the subscription waits for records; the channel
// closes when the subscription ends.
func (s *Service) subscribed(t *testing.T, name string) <-chan struct{} {
	t.Helper()
	var d struct{ StreamDescriptionSummary struct{ StreamARN string } }
	json.Unmarshal(s.must(t, "DescribeStreamSummary", `{"StreamName":%q}`, name), &d)
	var reg struct{ Consumer struct{ ConsumerARN string } }
	json.Unmarshal(s.must(t, "RegisterStreamConsumer", `{"StreamARN":%q,"ConsumerName":"app"}`, d.StreamDescriptionSummary.StreamARN), &reg)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(fmt.Sprintf(
		`{"ConsumerARN":%q,"ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"}}`, reg.Consumer.ConsumerARN)))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.SubscribeToShard")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		s.ServeHTTP(httptest.NewRecorder(), req)
	}()
	e, ok := s.cat.get(streamKey(s.cfg.DefaultAccount, s.cfg.DefaultRegion, name))
	if !ok {
		t.Fatalf("stream %s not in the catalog", name)
	}
	testserver.WaitUntil(t, "the subscription to wait", 20*time.Second, func() bool {
		s.appended.mu.Lock()
		defer s.appended.mu.Unlock()
		_, waiting := s.appended.m[e.meta.logName(0)]
		return waiting
	})
	return ended
}

// must calls an action through the service's HTTP handler, as a client
// would, and fails the test unless it succeeds.
func (s *Service) must(t *testing.T, action, format string, args ...any) []byte {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(fmt.Sprintf(format, args...)))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", action, rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// TestKeyLocksExclude has many goroutines take one key's lock for
// writing, and others for reading, while entries come and go: at most
// one writer at a time holds it, never beside a reader, and the entry
// is gone once all have let go.
func TestKeyLocksExclude(t *testing.T) {
	var (
		l                keyLocks
		writers, readers atomic.Int32
		wg               sync.WaitGroup
	)
	check := func() {
		if w, r := writers.Load(), readers.Load(); w > 1 || (w == 1 && r > 0) {
			t.Errorf("%d writers and %d readers hold the lock together", w, r)
		}
	}
	for i := range 64 {
		wg.Go(func() {
			for range 200 {
				k := l.take("s")
				if i%2 == 0 {
					k.Lock()
					writers.Add(1)
					check()
					writers.Add(-1)
					k.Unlock()
				} else {
					k.RLock()
					readers.Add(1)
					check()
					readers.Add(-1)
					k.RUnlock()
				}
			}
		})
	}
	wg.Wait()
	if n := l.len(); n != 0 {
		t.Errorf("%d lock entries left after every user let go", n)
	}
}
