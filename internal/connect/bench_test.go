package connect_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/plugins"
)

// The connector benchmarks run the real runtime with the real plugins
// over the in-process engine (a store in a temporary directory, interval
// durability, as `tributary serve` runs by default). One benchmark
// iteration is one record; run them with a fixed count, e.g.
//
//	go test ./internal/connect -run '^$' -bench Connector -benchtime 500000x
//
// Results are in docs/benchmarks.md.

func benchHerder(b *testing.B, e *engine) *connect.Herder {
	b.Helper()
	h := connect.NewHerder(connect.WorkerConfig{WorkerID: "bench", Registry: plugins.Registry("bench"), Streams: e.local,
		KV: e.kv, Logger: slog.New(slog.DiscardHandler)})
	if err := h.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Stop(context.Background()) })
	return h
}

func benchEngine(b *testing.B) *engine {
	b.Helper()
	dir, err := os.MkdirTemp("", "tributary-bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return newEngineTB(b, dir)
}

// countRecords reads a stream's shards from where the last call stopped
// and returns how many records it has seen in all.
type counter struct {
	e     *engine
	after map[string]string
	n     int
}

func (c *counter) count(b *testing.B, stream string) int {
	ctx := context.Background()
	shards, err := c.e.local.Shards(ctx, stream)
	if err != nil {
		return c.n
	}
	for _, s := range shards {
		for {
			res, err := c.e.local.Read(ctx, stream, s.ID, c.after[s.ID], 10000)
			if errors.Is(err, connect.ErrStreamNotFound) {
				return c.n // still being created
			}
			if err != nil {
				b.Fatal(err)
			}
			if len(res.Records) == 0 {
				break
			}
			c.n += len(res.Records)
			c.after[s.ID] = res.Records[len(res.Records)-1].SequenceNumber
		}
	}
	return c.n
}

// BenchmarkConnectorDatagenToStream: the MSK Data Generator with no
// throttle writing records of a UUID key and three generated fields into
// a one-shard stream.
func BenchmarkConnectorDatagenToStream(b *testing.B) {
	for _, tasks := range []int{1, 2} {
		b.Run(fmt.Sprintf("tasks=%d", tasks), func(b *testing.B) {
			e := benchEngine(b)
			h := benchHerder(b, e)
			ctx := context.Background()
			per := (b.N + tasks - 1) / tasks
			b.ResetTimer()
			start := time.Now()
			if _, err := h.CreateConnector(ctx, "gen", map[string]string{
				"connector.class":                   "com.amazonaws.mskdatagen.GeneratorSourceConnector",
				"tasks.max":                         strconv.Itoa(tasks),
				"genkp.bench.with":                  "#{Internet.uuid}",
				"genv.bench.title.with":             "#{Book.title}",
				"genv.bench.author.with":            "#{Book.author}",
				"genv.bench.quantity.with":          "#{number.number_between '1','5'}",
				"global.throttle.ms":                "0",
				"topic.bench.records.exactly":       strconv.Itoa(per),
				"value.converter":                   "org.apache.kafka.connect.json.JsonConverter",
				"value.converter.schemas.enable":    "false",
				"topic.creation.default.partitions": "1",
			}, ""); err != nil {
				b.Fatal(err)
			}
			c := &counter{e: e, after: map[string]string{}}
			for c.count(b, "bench") < per*tasks {
				time.Sleep(5 * time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(per*tasks)/time.Since(start).Seconds(), "records/s")
		})
	}
}

// BenchmarkConnectorStreamToFileSink: FileStreamSink copying a one-shard
// stream of 100-byte string records to a file.
func BenchmarkConnectorStreamToFileSink(b *testing.B) {
	e := benchEngine(b)
	h := benchHerder(b, e)
	ctx := context.Background()
	if err := e.local.EnsureStream(ctx, "lines", 1); err != nil {
		b.Fatal(err)
	}
	line := strings.Repeat("x", 99)
	batch := make([]connect.StreamRecord, 0, 500)
	for i := 0; i < b.N; i++ {
		batch = append(batch, connect.StreamRecord{PartitionKey: "null", Data: []byte(line)})
		if len(batch) == cap(batch) || i == b.N-1 {
			if err := e.local.Put(ctx, "lines", batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	out := filepath.Join(b.TempDir(), "out.txt")
	want := int64(b.N) * int64(len(line)+1)
	b.ResetTimer()
	start := time.Now()
	if _, err := h.CreateConnector(ctx, "sink", map[string]string{"connector.class": "FileStreamSink", "file": out, "topics": "lines"}, ""); err != nil {
		b.Fatal(err)
	}
	for fileSizeOf(out) < want {
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}

func fileSizeOf(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
