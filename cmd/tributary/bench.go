package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/bench"
)

// runBench runs the put/get workload against Tributary in each requested
// durability mode and, when available, against kinesalite, then prints a
// Markdown table with the ratios. Progress goes to stderr.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var w bench.Workload
	fs.IntVar(&w.Producers, "producers", 8, "concurrent producers")
	fs.IntVar(&w.Shards, "shards", 4, "shards in the stream")
	fs.IntVar(&w.CallsPerWriter, "calls", 100, "timed PutRecords calls per producer")
	fs.IntVar(&w.WarmupCalls, "warmup-calls", 2, "untimed PutRecords calls per producer before timing starts")
	fs.IntVar(&w.RecordsPerCall, "records-per-call", 500, "records per PutRecords call")
	fs.IntVar(&w.RecordSize, "record-size", 100, "bytes of data per record")
	modes := fs.String("durability", "interval,sync", "comma-separated Tributary durability modes to measure")
	kinesalite := fs.String("kinesalite", "node_modules/.bin/kinesalite", "kinesalite executable to compare against; empty to skip")
	endpoint := fs.String("endpoint", "", "benchmark this running endpoint instead of starting servers; several comma-separated URLs are the nodes of one cluster, written and read through all")
	cluster := fs.Int("cluster", 0, "compare one node alone with a cluster of this many nodes on loopback (replicas = nodes), writing and reading through all nodes, and measure SubscribeToShard push latency across nodes")
	subRecords := fs.Int("subscribe-records", 1000, "with -cluster: records put one at a time to measure SubscribeToShard push latency")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cluster != 0 && (*cluster < 2 || *endpoint != "" || *subRecords < 1) {
		return usageError{errors.New("bench: -cluster needs at least 2 nodes and a positive -subscribe-records, and cannot be combined with -endpoint")}
	}
	if w.Producers < 1 || w.Shards < 1 || w.CallsPerWriter < 1 || w.WarmupCalls < 0 || w.RecordsPerCall < 1 || w.RecordsPerCall > 500 || w.RecordSize < 1 {
		return usageError{errors.New("bench: counts must be positive and -records-per-call at most 500")}
	}
	fmt.Fprintf(stderr, "workload: %d producers x (%d warm-up + %d timed) PutRecords calls x %d records of %d bytes into %d shards\n",
		w.Producers, w.WarmupCalls, w.CallsPerWriter, w.RecordsPerCall, w.RecordSize, w.Shards)

	var results []bench.Result
	switch {
	case *cluster > 0:
		return benchCluster(ctx, w, *cluster, *subRecords, stdout, stderr)
	case *endpoint != "":
		r, err := bench.Run(ctx, *endpoint, strings.Split(*endpoint, ","), w, stderr)
		if err != nil {
			return err
		}
		results = append(results, r)
	default:
		var err error
		if results, err = benchServers(ctx, w, strings.Split(*modes, ","), *kinesalite, stderr); err != nil {
			return err
		}
	}
	printTable(stdout, results)
	return nil
}

// benchServers runs the workload against Tributary in each durability
// mode and then kinesalite (unless its path is empty), each a process
// of its own started for the run.
func benchServers(ctx context.Context, w bench.Workload, modes []string, kinesalite string, stderr io.Writer) ([]bench.Result, error) {
	var results []bench.Result
	runOne := func(target string, start func(addr string) (*bench.Process, error)) error {
		addr, err := bench.FreeAddr()
		if err != nil {
			return err
		}
		p, err := start(addr)
		if err != nil {
			return err
		}
		defer p.Stop()
		rctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
		defer cancel()
		r, err := bench.Run(rctx, target, []string{p.Endpoint}, w, stderr)
		if err != nil {
			return err
		}
		results = append(results, r)
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	for _, mode := range modes {
		dir, err := os.MkdirTemp("", "tributary-bench-")
		if err != nil {
			return nil, err
		}
		err = runOne("tributary ("+mode+")", func(addr string) (*bench.Process, error) {
			// The Connect runtime is off: the benchmark measures the
			// Kinesis API, and :8083 may be taken.
			return bench.StartProcess(ctx, addr, self, "serve", "-listen", addr, "-data-dir", dir, "-connect-listen", "",
				"-durability", mode, "-create-stream-delay", "0", "-delete-stream-delay", "0", "-log-level", "warn")
		})
		os.RemoveAll(dir)
		if err != nil {
			return nil, err
		}
	}
	if kinesalite == "" {
		return results, nil
	}
	if _, err := os.Stat(kinesalite); err != nil {
		return nil, fmt.Errorf("%w: %s", bench.ErrNoKinesalite, kinesalite)
	}
	err = runOne("kinesalite", func(addr string) (*bench.Process, error) {
		port := addr[strings.LastIndexByte(addr, ':')+1:]
		return bench.StartProcess(ctx, addr, kinesalite, "--port", port,
			"--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0", "--shardLimit", "1000")
	})
	return results, err
}

func printTable(w io.Writer, results []bench.Result) {
	var base *bench.Result
	for i := range results {
		if results[i].Target == "kinesalite" {
			base = &results[i]
		}
	}
	fmt.Fprintln(w, "| target | put records/s | put p50 | put p99 | get records/s | get p50 | get p99 | put ratio | get ratio |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		pr, gr := "-", "-"
		if base != nil {
			pr = fmt.Sprintf("%.1fx", r.PutPerSec/base.PutPerSec)
			gr = fmt.Sprintf("%.1fx", r.GetPerSec/base.GetPerSec)
		}
		fmt.Fprintf(w, "| %s | %.0f | %v | %v | %.0f | %v | %v | %s | %s |\n", r.Target,
			r.PutPerSec, r.PutP50.Round(100*time.Microsecond), r.PutP99.Round(100*time.Microsecond),
			r.GetPerSec, r.GetP50.Round(100*time.Microsecond), r.GetP99.Round(100*time.Microsecond), pr, gr)
	}
}
