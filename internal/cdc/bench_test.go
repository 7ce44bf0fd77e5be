package cdc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// countingHandler does nothing but count, and stops Run after n changes.
type countingHandler struct{ n, seen int }

func (h *countingHandler) Change(ctx context.Context, c *Change) error {
	h.seen++
	if h.seen == h.n {
		return errStop
	}
	return nil
}
func (h *countingHandler) Schema(ctx context.Context, s *SchemaChange) error { return nil }
func (h *countingHandler) Boundary(ctx context.Context, pos Position) error  { return nil }
func (h *countingHandler) Heartbeat(ctx context.Context, pos Position) error { return nil }

// BenchmarkStream measures row changes per second from the binary log to
// the handler: rows are inserted beforehand, in transactions of 100 rows
// or of one, and each iteration runs Run over all of them.
func BenchmarkStream(b *testing.B) {
	for _, c := range []struct {
		name        string
		rows, batch int
	}{
		{"100 rows per transaction", 100_000, 100},
		{"1 row per transaction", 20_000, 1},
	} {
		b.Run(c.name, func(b *testing.B) { benchmarkStream(b, c.rows, c.batch) })
	}
}

func benchmarkStream(b *testing.B, rows, batch int) {
	db := newDB(b, shared)
	tbl := quoteTable(db, "bench")
	shared.Exec(b, "CREATE TABLE "+tbl+` (id INT PRIMARY KEY, account BIGINT UNSIGNED, name VARCHAR(64),
		amount DECIMAL(12,2), created DATETIME(3), note TEXT)`)
	from := currentPos(b, shared)
	stmts := make([]string, 0, rows/batch)
	for i := 0; i < rows; i += batch {
		values := make([]string, batch)
		for j := range values {
			id := i + j
			values[j] = fmt.Sprintf("(%d, %d, 'customer %d', %d.%02d, '2024-05-01 12:00:00.123', 'note')", id, id*7, id, id, id%100)
		}
		stmts = append(stmts, "INSERT INTO "+tbl+" VALUES "+strings.Join(values, ", "))
	}
	shared.Exec(b, stmts...)
	cfg := testConfig(shared, db)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := &countingHandler{n: rows}
		if err := Run(context.Background(), cfg, &from, h); !errors.Is(err, errStop) {
			b.Fatalf("Run: %v (after %d changes)", err, h.seen)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
