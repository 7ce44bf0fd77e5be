package cdc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testmariadb"
	"github.com/tributary-data/tributary/internal/testserver"
)

// The CDC benchmarks run a private MariaDB, a real `tributary serve` (the
// default interval durability, data on disk) and the Debezium connector
// inside it, all on this machine. Reproduce with
//
//	go test ./test/cdc -run '^$' -bench . -benchtime 100000x
//
// Results are in docs/benchmarks.md.

// tailer follows every shard of a stream with aws-sdk-go-v2.
type tailer struct {
	c      *kinesis.Client
	stream string
	iters  map[string]*string
}

func (tl *tailer) poll(b *testing.B, fn func(types.Record)) {
	ctx := context.Background()
	if tl.iters == nil {
		shards, err := tl.c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(tl.stream)})
		if err != nil {
			return // not created yet
		}
		tl.iters = map[string]*string{}
		for _, sh := range shards.Shards {
			it, err := tl.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(tl.stream),
				ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if err != nil {
				b.Fatal(err)
			}
			tl.iters[*sh.ShardId] = it.ShardIterator
		}
	}
	for id, it := range tl.iters {
		for it != nil {
			res, err := tl.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(10000)})
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res.Records {
				fn(r)
			}
			it = res.NextShardIterator
			if len(res.Records) == 0 {
				break
			}
		}
		tl.iters[id] = it
	}
}

// insertRows inserts rows [from, to) into bench.rows in multi-row
// statements of perTx rows, one transaction each.
func insertRows(b *testing.B, db *testmariadb.Server, from, to, perTx int, stamp bool) {
	b.Helper()
	var sqls []string
	for i := from; i < to; i += perTx {
		var sb strings.Builder
		sb.WriteString("INSERT INTO bench.rows (id, t, v) VALUES ")
		for j := i; j < min(i+perTx, to); j++ {
			if j > i {
				sb.WriteByte(',')
			}
			t := int64(0)
			if stamp {
				t = time.Now().UnixMicro()
			}
			fmt.Fprintf(&sb, "(%d,%d,'row %d payload 0123456789')", j, t, j)
		}
		sqls = append(sqls, sb.String())
	}
	db.Exec(b, sqls...)
}

func benchSetup(b *testing.B) (*testmariadb.Server, *testserver.Proc) {
	b.Helper()
	db := testmariadb.Start(b)
	db.Exec(b, "CREATE DATABASE bench",
		"CREATE TABLE bench.rows (id INT PRIMARY KEY, t BIGINT NOT NULL, v VARCHAR(64) NOT NULL, price DECIMAL(10,2) NOT NULL DEFAULT 9.99)")
	srv := testserver.Start(b, "-data-dir", b.TempDir())
	return db, srv
}

// BenchmarkCDCThroughput: b.N rows are in the binary log before the
// connector starts (snapshot.mode=never reads the log from its start),
// in transactions of 1 or 1,000 rows; the clock runs from the
// connector's creation until every row is in the stream: sustained
// binlog-to-stream throughput.
func BenchmarkCDCThroughput(b *testing.B) {
	for _, perTx := range []int{1000, 1} {
		b.Run(fmt.Sprintf("rows-per-tx=%d", perTx), func(b *testing.B) {
			db, srv := benchSetup(b)
			insertRows(b, db, 0, b.N, perTx, false)
			cfg := debeziumConfig(db, "tp", "bench", 7101)
			cfg["snapshot.mode"] = "never"
			tl := &tailer{c: srv.Client(), stream: "tp.bench.rows"}
			b.ResetTimer()
			start := time.Now()
			post(b, srv.ConnectURL, "tp", cfg)
			n := 0
			for n < b.N {
				tl.poll(b, func(types.Record) { n++ })
				time.Sleep(20 * time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
		})
	}
}

// BenchmarkCDCLag: rows are inserted at 5,000 rows/s (50-row
// transactions every 10 ms) while the connector streams them; each row
// carries its insert time, and its lag is the stream record's arrival
// time minus that. b.N is the number of rows.
func BenchmarkCDCLag(b *testing.B) {
	db, srv := benchSetup(b)
	cfg := debeziumConfig(db, "lag", "bench", 7102)
	cfg["snapshot.mode"] = "no_data"
	post(b, srv.ConnectURL, "lag", cfg)
	time.Sleep(2 * time.Second) // the connector is streaming
	tl := &tailer{c: srv.Client(), stream: "lag.bench.rows"}
	b.ResetTimer()
	done := make(chan struct{})
	var offered time.Duration
	go func() {
		defer close(done)
		start := time.Now()
		defer func() { offered = time.Since(start) }()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < b.N; i += 50 {
			<-tick.C
			insertRows(b, db, i, min(i+50, b.N), 50, true)
		}
	}()
	var lags []time.Duration
	for len(lags) < b.N {
		tl.poll(b, func(r types.Record) {
			var ev struct {
				After struct {
					T int64 `json:"t"`
				} `json:"after"`
			}
			if json.Unmarshal(r.Data, &ev) == nil && ev.After.T > 0 {
				lags = append(lags, r.ApproximateArrivalTimestamp.Sub(time.UnixMicro(ev.After.T)))
			}
		})
		time.Sleep(20 * time.Millisecond)
	}
	<-done
	b.StopTimer()
	slices.Sort(lags)
	q := func(p float64) float64 { return float64(lags[int(p*float64(len(lags)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
	b.ReportMetric(float64(b.N)/offered.Seconds(), "rows/s-inserted")
}

// BenchmarkMaxwellThroughput: the same backlog as BenchmarkCDCThroughput
// (b.N rows in 1,000-row transactions), read by `tributary maxwell`
// (the real binary, init_position at the start of the log) into a
// one-shard stream of the server; the clock runs from the daemon's start
// until every row is in the stream.
func BenchmarkMaxwellThroughput(b *testing.B) {
	db, srv := benchSetup(b)
	insertRows(b, db, 0, b.N, 1000, false)
	c := srv.Client()
	if _, err := c.CreateStream(b.Context(), &kinesis.CreateStreamInput{StreamName: aws.String("maxwell-bench"), ShardCount: aws.Int32(1)}); err != nil {
		b.Fatal(err)
	}
	config := filepath.Join(b.TempDir(), "config.properties")
	if err := os.WriteFile(config, []byte(fmt.Sprintf("producer=kinesis\nkinesis_stream=maxwell-bench\nhost=%s\nport=%d\nuser=%s\npassword=%s\n"+
		"init_position=mysql-bin.000001:4\nkinesis_endpoint=%s\nkinesis_region=us-east-1\n",
		db.Host, db.Port, db.User, db.Password, srv.Endpoint)), 0o644); err != nil {
		b.Fatal(err)
	}
	tl := &tailer{c: c, stream: "maxwell-bench"}
	b.ResetTimer()
	start := time.Now()
	cmd := exec.Command(testserver.Binary(b), "maxwell", "--config", config)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	n := 0
	for n < b.N {
		tl.poll(b, func(r types.Record) {
			if strings.Contains(string(r.Data), `"table":"rows"`) {
				n++
			}
		})
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}
