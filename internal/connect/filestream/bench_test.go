package filestream

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// BenchmarkSourcePoll reads a 20 MB file of 100-byte lines from the
// start, as a new connector does, and reports lines per second.
func BenchmarkSourcePoll(b *testing.B) {
	path := filepath.Join(b.TempDir(), "in.txt")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	const size = 20 << 20
	filler := strings.Repeat("x", 88)
	lines := 0
	for written := 0; written < size; lines++ {
		n, _ := fmt.Fprintf(w, "%010d %s\n", lines, filler)
		written += n
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.SetBytes(size)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		task := NewSource().Task().(*sourceTask)
		task.idleWait = 0
		if err := task.Start(context.Background(), map[string]string{"file": path, "topic": "s"}, nil); err != nil {
			b.Fatal(err)
		}
		got := 0
		for got < lines {
			recs, err := task.Poll(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if len(recs) == 0 {
				b.Fatalf("read %d of %d lines", got, lines)
			}
			got += len(recs)
		}
		task.Stop()
	}
	b.ReportMetric(float64(lines)*float64(b.N)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkSinkPut writes 100-byte string records in batches of 2000
// and flushes (with its fsyncs) every 100,000, reporting records per
// second.
func BenchmarkSinkPut(b *testing.B) {
	path := filepath.Join(b.TempDir(), "out.txt")
	task := NewSink().Task()
	ctx := context.Background()
	if err := task.Start(ctx, map[string]string{"file": path}, nil); err != nil {
		b.Fatal(err)
	}
	defer task.Stop()
	batch := make([]*data.Record, 2000)
	for i := range batch {
		batch[i] = &data.Record{Topic: "s", Value: fmt.Sprintf("%010d %s", i, strings.Repeat("y", 88))}
	}
	const perIter = 100_000
	b.SetBytes(perIter * 100)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for n := 0; n < perIter; n += len(batch) {
			if err := task.Put(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		if err := task.Flush(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(perIter)*float64(b.N)/time.Since(start).Seconds(), "records/s")
}
