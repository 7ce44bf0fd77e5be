//go:build scale

package streams

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/store"
)

// TestScaleEngine measures many open shards through the real engine and
// store on one node, on disk: how long creating them takes, the memory
// the process holds afterwards, and how long a restart takes (the store
// and the engine opened again, every stream's logs checked). Build tag
// scale keeps it out of the ordinary tests; docs/benchmarks.md ("Scale")
// has the figures and the commands.
//
//	go test -tags scale -c -o /tmp/streams-scale.test ./internal/streams
//	nice -n 19 /tmp/streams-scale.test -test.run TestScaleEngine -test.v -scale.streams 500 -scale.shards 100
var (
	scaleStreams = flag.Int("scale.streams", 500, "streams to create")
	scaleShards  = flag.Int("scale.shards", 100, "shards per stream")
	scaleStripe  = flag.Int("scale.stripe", DefaultStripeShards, "shards per JetStream stream (-1: layout A)")
	scaleDir     = flag.String("scale.dir", "", "data directory (default: a temporary one)")
)

func TestScaleEngine(t *testing.T) {
	dir := *scaleDir
	if dir == "" {
		dir = t.TempDir()
	}
	scaleRun(t, func() []store.Config { return []store.Config{{Dir: dir}} })
}

// TestScaleEngineCluster is TestScaleEngine on three in-process nodes
// of a JetStream cluster (R3), the engine on the first; the restart
// stops and reopens all three. RSS is the one process's, all three
// nodes together.
//
//	nice -n 19 /tmp/streams-scale.test -test.run TestScaleEngineCluster -test.v -scale.streams 100 -scale.shards 100
func TestScaleEngineCluster(t *testing.T) {
	var ports []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Addr().String())
		l.Close()
	}
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	scaleRun(t, func() []store.Config {
		var cfgs []store.Config
		for i := range 3 {
			cl := &store.Cluster{NodeName: fmt.Sprint("n", i), Listen: ports[i], User: "route", Password: "s3cret", ReadyTimeout: time.Minute}
			for j := range 3 {
				if j != i {
					cl.Peers = append(cl.Peers, ports[j])
				}
			}
			cfgs = append(cfgs, store.Config{Dir: dirs[i], Cluster: cl})
		}
		return cfgs
	})
}

// scaleRun creates, writes and restarts the streams over the stores
// configs makes (the engine runs over the first).
func scaleRun(t *testing.T, configs func() []store.Config) {
	ctx := context.Background()
	cfg := Config{ShardLimit: *scaleStreams * *scaleShards, StripeShards: *scaleStripe}
	var stores []*store.Store
	closeAll := func() {
		for _, st := range stores {
			st.Close()
		}
		stores = nil
	}
	open := func() (*store.Store, *Engine) {
		cfgs := configs()
		stores = make([]*store.Store, len(cfgs))
		errs := make([]error, len(cfgs))
		var wg sync.WaitGroup
		for i, c := range cfgs {
			wg.Go(func() { stores[i], errs[i] = store.Open(ctx, c) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		// On a cluster just restarted, the streams elect their leaders
		// after the store opens; the engine's start-up checks read every
		// stripe's state from its leader and fail until then.
		deadline := time.Now().Add(2 * time.Minute)
		for {
			e, err := Open(ctx, stores[0], cfg)
			if err == nil {
				return stores[0], e
			}
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			t.Logf("engine start-up: %v; again", err)
			time.Sleep(100 * time.Millisecond)
		}
	}
	st, e := open()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, *scaleStreams)
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				if err := e.Create(ctx, CreateSpec{Ref: named(fmt.Sprintf("s%05d", i)), Shards: *scaleShards, Mode: ModeProvisioned}); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range *scaleStreams {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	created := time.Since(start)
	// One record in each shard of every tenth stream, so the restart
	// recovers written stripes too.
	putStart := time.Now()
	records := 0
	for i := 0; i < *scaleStreams; i += 10 {
		ref := named(fmt.Sprintf("s%05d", i))
		for sh := range *scaleShards {
			res, err := e.PutShard(ctx, ref, sh, []Record{{PartitionKey: "k", Data: []byte("0123456789")}})
			if err != nil || res[0].Err != nil {
				t.Fatal(err, res)
			}
			records++
		}
	}
	puts := time.Since(putStart)
	runtime.GC()
	rss := rssMiB(t)
	logs, err := st.Logs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	closeAll()

	start = time.Now()
	st, e = open()
	restarted := time.Since(start)
	defer closeAll()
	defer e.Close()
	if n := len(e.List("000000000000", "us-east-1")); n != *scaleStreams {
		t.Fatalf("after the restart: %d streams, want %d", n, *scaleStreams)
	}
	_ = st
	fmt.Printf("RESULT nodes=%d streams=%d shards/stream=%d shards=%d stripe=%d jetstream_streams=%d create=%v rss_after_create=%dMiB puts=%d in %v restart=%v goroutines=%d\n",
		len(stores), *scaleStreams, *scaleShards, *scaleStreams**scaleShards, *scaleStripe, len(logs), created.Round(time.Millisecond), rss,
		records, puts.Round(time.Millisecond), restarted.Round(time.Millisecond), runtime.NumGoroutine())
}

// rssMiB is the process's resident memory.
func rssMiB(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			var kb int
			fmt.Sscan(f[1], &kb)
			return kb / 1024
		}
	}
	return 0
}
