//go:build scale

package scalebench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var (
	mappingFlag   = flag.String("scale.mapping", "B", "A: a JetStream stream per shard; B: a stream per Kinesis stream, a subject per shard")
	shardsFlag    = flag.Int("scale.shards", 1000, "open shards to create")
	perStreamFlag = flag.Int("scale.per-stream", 100, "B: shards per Kinesis stream")
	budgetFlag    = flag.Duration("scale.budget", 4*time.Minute, "time allowed for creating the streams; creation stops there and the run reports how far it got")
	batchesFlag   = flag.Int("scale.batches", 200, "timed put batches of 100 records each (more puts more data behind the reads and the restart)")
	dirFlag       = flag.String("scale.dir", "", "data directory (default: a temporary one)")
)

func TestMain(m *testing.M) {
	// A cluster's nodes are this test binary run again (cluster_test.go).
	if cfg := os.Getenv(childEnv); cfg != "" {
		runChild(cfg)
		return
	}
	flag.Parse()
	os.Exit(m.Run())
}

func benchLayout(t *testing.T) layout {
	l := layout{mapping: *mappingFlag, perStream: *perStreamFlag}
	if l.mapping != "A" && l.mapping != "B" {
		t.Fatalf("-scale.mapping %q: want A or B", l.mapping)
	}
	return l
}

func dataDir(t *testing.T) string {
	if *dirFlag != "" {
		return *dirFlag
	}
	return t.TempDir()
}

// TestScaleSingle measures one embedded server, as one Tributary process
// runs it: creating the shards' streams, what the process holds with
// them open, a small batch of puts to random shards, reads of single
// shards, and a restart until every stream is back.
func TestScaleSingle(t *testing.T) {
	l := benchLayout(t)
	ctx := context.Background()
	n := &node{name: "tributary", opts: newNodeOptions("tributary", dataDir(t), 0, nil)}
	if err := n.start(time.Minute); err != nil {
		t.Fatal(err)
	}
	defer n.stop()
	nc, js, err := n.client()
	if err != nil {
		t.Fatal(err)
	}
	base := readProcStats()
	cfgs := l.configs(*shardsFlag, 1)
	cr := createStreams(ctx, js, cfgs, *budgetFlag)
	report(t, "%s, %d shards, 1 node", l, *shardsFlag)
	report(t, "baseline: %s", base)
	report(t, "create: %d/%d streams in %s (%.0f streams/s), %d API errors, first: %v",
		cr.Created, cr.Wanted, cr.Elapsed.Round(time.Millisecond), float64(cr.Created)/cr.Elapsed.Seconds(), cr.APIErrors, cr.FirstErr)
	report(t, "after create: %s", readProcStats())
	shards := openShards(l, cr.Created, *shardsFlag)
	w := written{}
	pr, err := putBatches(ctx, js, l, shards, *batchesFlag, 100, w)
	if err != nil {
		t.Fatal(err)
	}
	report(t, "put: %d batches x %d records to random shards: batch p50 %s p99 %s, %.0f records/s",
		pr.Batches, pr.BatchSize, pr.P50, pr.P99, pr.RecordsPerSec)
	rr, err := readShards(ctx, nc, l, w)
	if err != nil {
		t.Fatal(err)
	}
	report(t, "read %d shards: from the start p50 %s p99 %s; at the tip p50 %s p99 %s",
		rr.Shards, rr.HorizonP50, rr.HorizonP99, rr.TipP50, rr.TipP99)
	nc.Close()
	n.stop()

	// Restart: the server recovers every stream before it takes
	// connections; listing them all then confirms they are back.
	t0 := time.Now()
	if err := n.start(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	ready := time.Since(t0)
	nc, js, err = n.client()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	got := 0
	for range js.StreamNames(ctx).Name() {
		got++
	}
	if got != cr.Created {
		t.Fatalf("after restart %d streams, want %d", got, cr.Created)
	}
	report(t, "restart: ready in %s, %d streams listed after %s", ready.Round(time.Millisecond), got, time.Since(t0).Round(time.Millisecond))
	report(t, "after restart: %s", readProcStats())
	reportWarnings(t, n.name, n.log.take())
}

// openShards is how many shards the created streams hold.
func openShards(l layout, streams, wanted int) int {
	if l.mapping == "B" {
		return min(streams*l.perStream, wanted)
	}
	return streams
}

// report prints a result line: these tests exist for their figures, so
// they print them whether or not -v is given.
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	fmt.Printf("RESULT "+format+"\n", args...)
}

func reportWarnings(t *testing.T, node string, lines []string) {
	t.Helper()
	if len(lines) == 0 {
		report(t, "%s: no warnings or errors logged", node)
		return
	}
	report(t, "%s: warnings and errors logged (count, format):\n%s", node, strings.Join(lines[:min(len(lines), 8)], "\n"))
}
