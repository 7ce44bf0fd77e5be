package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/tributary-data/tributary/internal/bench"
)

// benchCluster measures, in one run, one node alone and a cluster of n
// nodes (n replicas) on loopback with the same workload, writing and
// reading through every node of the cluster, and SubscribeToShard push
// latency on each: on the node alone, and with the subscriber on one
// node of the cluster and the writer on another. It prints the
// cluster's throughput as a share of the node alone's (issue 12's target
// is at least 50 %) and the latencies (target: cluster p99 under 20 ms).
func benchCluster(ctx context.Context, w bench.Workload, n, subRecords int, stdout, stderr io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()

	dir, err := os.MkdirTemp("", "tributary-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr, err := bench.FreeAddr()
	if err != nil {
		return err
	}
	single, err := bench.StartProcess(ctx, addr, self, "serve", "-listen", addr, "-data-dir", dir, "-connect-listen", "",
		"-create-stream-delay", "0", "-delete-stream-delay", "0", "-log-level", "warn")
	if err != nil {
		return err
	}
	alone, aloneLat, err := benchTarget(ctx, "1 node", []string{single.Endpoint}, w, subRecords, stderr)
	single.Stop()
	if err != nil {
		return err
	}

	c, err := bench.StartCluster(ctx, self, n)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%d nodes, R%d", n, n)
	clustered, clusterLat, err := benchTarget(ctx, name, c.Endpoints(), w, subRecords, stderr)
	c.Stop()
	if err != nil {
		return err
	}
	clusterLat.Target = name + ", subscriber on n0, writer on n1"

	fmt.Fprintln(stdout, "| target | put records/s | put p50 | put p99 | get records/s | get p50 | get p99 | put vs 1 node | get vs 1 node |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range []bench.Result{alone, clustered} {
		fmt.Fprintf(stdout, "| %s | %.0f | %v | %v | %.0f | %v | %v | %s | %s |\n", r.Target,
			r.PutPerSec, round(r.PutP50), round(r.PutP99), r.GetPerSec, round(r.GetP50), round(r.GetP99),
			percent(r.PutPerSec/alone.PutPerSec), percent(r.GetPerSec/alone.GetPerSec))
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "| SubscribeToShard push | records | p50 | p99 | max |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|")
	for _, l := range []bench.Latency{aloneLat, clusterLat} {
		fmt.Fprintf(stdout, "| %s | %d | %v | %v | %v |\n", l.Target, l.Records, round(l.P50), round(l.P99), round(l.Max))
	}
	return nil
}

// benchTarget runs the put/get workload and then the push latency
// measurement against one target (a node, or a cluster's nodes: the
// subscriber on the first, the writer on the second).
func benchTarget(ctx context.Context, target string, endpoints []string, w bench.Workload, subRecords int, stderr io.Writer) (bench.Result, bench.Latency, error) {
	r, err := bench.Run(ctx, target, endpoints, w, stderr)
	if err != nil {
		return r, bench.Latency{}, err
	}
	writer := endpoints[min(1, len(endpoints)-1)]
	l, err := bench.SubscribeLatency(ctx, target, endpoints[0], writer, subRecords, stderr)
	return r, l, err
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }

func percent(f float64) string { return strconv.FormatFloat(100*f, 'f', 0, 64) + " %" }
