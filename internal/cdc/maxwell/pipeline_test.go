package maxwell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tributary-data/tributary/internal/cdc"
)

// fakeEmitter records what the pipeline emits, boundaries included.
type fakeEmitter struct {
	mu     sync.Mutex
	events []string // JSON documents, and "@file:pos" for boundaries
	keys   []string
}

func (f *fakeEmitter) emit(_ context.Context, m message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, string(m.value))
	f.keys = append(f.keys, m.key)
	return nil
}

func (f *fakeEmitter) boundary(_ context.Context, pos cdc.Position) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, "@"+formatPosition(pos))
	return nil
}

func testConfig(t *testing.T, props map[string]string) *Config {
	t.Helper()
	c, err := ParseConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tx builds the changes of one transaction on the orders table: inserts
// of the given ids.
func tx(xid uint64, table *cdc.Table, ids ...int64) []*cdc.Change {
	var out []*cdc.Change
	for i, id := range ids {
		out = append(out, &cdc.Change{Op: cdc.OpCreate, Table: table,
			After:   cdc.Row{id, id * 10, fmt.Sprintf("item %d", id), cdc.Decimal("1.00"), "2021-08-16 10:11:12"},
			Source:  cdc.Source{File: "bin.000001", EventPos: uint32(100 * xid), XID: xid, Time: seedTime},
			TxIndex: i + 1, TxLast: i == len(ids)-1})
	}
	return out
}

func feed(t *testing.T, p *pipeline, changes []*cdc.Change, boundary uint32) {
	t.Helper()
	ctx := context.Background()
	for _, c := range changes {
		if err := p.Change(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Boundary(ctx, cdc.Position{File: "bin.000001", Pos: boundary}); err != nil {
		t.Fatal(err)
	}
}

// summary reduces emitted rows to "table:id:xoffset|commit" for
// comparison.
func summary(t *testing.T, events []string) string {
	t.Helper()
	var parts []string
	for _, e := range events {
		if strings.HasPrefix(e, "@") {
			parts = append(parts, e)
			continue
		}
		var m struct {
			Table   string         `json:"table"`
			Type    string         `json:"type"`
			XOffset *int           `json:"xoffset"`
			Commit  bool           `json:"commit"`
			Data    map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(e), &m); err != nil {
			t.Fatalf("bad JSON %s: %v", e, err)
		}
		s := fmt.Sprintf("%s:%v", m.Table, m.Data["order_id"])
		if m.Type != "insert" {
			s = m.Type + " " + s
		}
		if m.XOffset != nil {
			s += fmt.Sprintf(":%d", *m.XOffset)
		}
		if m.Commit {
			s += "|commit"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestPipelineCommitAndXOffset(t *testing.T) {
	orders := ordersTable()
	hidden := ordersTable()
	hidden.Name = "hidden"
	out := &fakeEmitter{}
	p := newPipeline(testConfig(t, map[string]string{"filter": "exclude: ecommerce.hidden, exclude: ecommerce.orders.customer_id=30"}), out, nil)

	feed(t, p, tx(1, orders, 1, 2, 11), 1000)
	// the transaction's last row is filtered out: the one before it is
	// the last that is output, so it carries commit
	mixed := append(tx(2, orders, 4), tx(2, hidden, 5)...)
	mixed[0].TxLast, mixed[1].TxIndex = false, 2
	feed(t, p, mixed, 2000)
	// a column-value filter drops row 3 in the middle
	feed(t, p, tx(3, orders, 6, 3, 7), 3000)
	// nothing output at all
	feed(t, p, tx(4, hidden, 8), 4000)
	// a single row
	feed(t, p, tx(5, orders, 9), 5000)

	want := "orders:1:0 orders:2:1 orders:11|commit @bin.000001:1000 " +
		"orders:4|commit @bin.000001:2000 " +
		"orders:6:0 orders:7|commit @bin.000001:3000 " +
		"@bin.000001:4000 " +
		"orders:9|commit @bin.000001:5000"
	if got := summary(t, out.events); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if p.rows.Load() != 7 {
		t.Errorf("rows = %d", p.rows.Load())
	}
}

func TestPipelineWithoutTxLast(t *testing.T) {
	// An engine that only marks transactions by Boundary still gets the
	// commit on the last row.
	out := &fakeEmitter{}
	p := newPipeline(testConfig(t, nil), out, nil)
	changes := tx(1, ordersTable(), 1, 2)
	changes[1].TxLast = false
	feed(t, p, changes, 10)
	if got, want := summary(t, out.events), "orders:1:0 orders:2|commit @bin.000001:10"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestPipelineSchemaDatabase(t *testing.T) {
	out := &fakeEmitter{}
	cfg := testConfig(t, map[string]string{"schema_database": "mx", "bootstrapper": "none"})
	p := newPipeline(cfg, out, nil)
	boot := &cdc.Table{DB: "mx", Name: "bootstrap", Columns: []cdc.Column{
		{Name: "id", DataType: "bigint"}, {Name: "database_name", DataType: "varchar"}, {Name: "table_name", DataType: "varchar"}},
		PrimaryKey: []string{"id"}}
	positions := &cdc.Table{DB: "mx", Name: "positions", Columns: []cdc.Column{{Name: "server_id", DataType: "int"}}}
	ctx := context.Background()
	src := cdc.Source{File: "bin.000001", XID: 9, Time: seedTime}
	for _, c := range []*cdc.Change{
		{Op: cdc.OpCreate, Table: boot, After: cdc.Row{int64(1), "shop", "orders"}, Source: src, TxIndex: 1, TxLast: true},
		{Op: cdc.OpUpdate, Table: boot, Before: cdc.Row{int64(1), "shop", "orders"}, After: cdc.Row{int64(1), "shop", "orders"}, Source: src, TxIndex: 1, TxLast: true},
		{Op: cdc.OpUpdate, Table: positions, Before: cdc.Row{int64(1)}, After: cdc.Row{int64(2)}, Source: src, TxIndex: 1, TxLast: true},
	} {
		if err := p.Change(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"database":"mx","table":"bootstrap","type":"insert","ts":1629108672,"xid":9,"commit":true,"data":{"id":1,"database_name":"shop","table_name":"orders"}}`
	if len(out.events) != 1 || out.events[0] != want {
		t.Errorf("got %q\nwant only %s", out.events, want)
	}
}

func TestPipelineDDL(t *testing.T) {
	ctx := context.Background()
	create := &cdc.SchemaChange{DB: "ecommerce", Kind: "CREATE", DDL: "CREATE TABLE orders (...)", Tables: []*cdc.Table{ordersTable()},
		Source: cdc.Source{File: "bin.000001", EventPos: 4, Time: seedTime}}
	other := &cdc.SchemaChange{DB: "other", Kind: "CREATE", DDL: "CREATE TABLE t (id int)", Tables: []*cdc.Table{{DB: "other", Name: "t"}},
		Source: cdc.Source{File: "bin.000001", EventPos: 5, Time: seedTime}}

	out := &fakeEmitter{}
	p := newPipeline(testConfig(t, map[string]string{"filter": "exclude: other.*"}), out, nil)
	if err := p.Schema(ctx, create); err != nil {
		t.Fatal(err)
	}
	if len(out.events) != 0 {
		t.Errorf("DDL emitted without output_ddl: %q", out.events)
	}

	out = &fakeEmitter{}
	p = newPipeline(testConfig(t, map[string]string{"filter": "exclude: other.*", "output_ddl": "true", "producer_partition_by": "table"}), out, nil)
	for _, sc := range []*cdc.SchemaChange{create, other} {
		if err := p.Schema(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	if len(out.events) != 1 || !strings.HasPrefix(out.events[0], `{"type":"table-create","database":"ecommerce","table":"orders","def":{"database":"ecommerce","charset":"utf8mb4",`) {
		t.Errorf("got %q", out.events)
	}
	if out.keys[0] != "orders" {
		t.Errorf("key %q", out.keys[0])
	}
}

func TestPipelineHeartbeat(t *testing.T) {
	out := &fakeEmitter{}
	p := newPipeline(testConfig(t, nil), out, nil)
	ctx := context.Background()
	if err := p.Heartbeat(ctx, cdc.Position{File: "bin.000002", Pos: 4}); err != nil {
		t.Fatal(err)
	}
	// a heartbeat inside a transaction (a row held back) moves nothing
	c := tx(1, ordersTable(), 1, 2)
	if err := p.Change(ctx, c[0]); err != nil {
		t.Fatal(err)
	}
	if err := p.Heartbeat(ctx, cdc.Position{File: "bin.000002", Pos: 99}); err != nil {
		t.Fatal(err)
	}
	if got, want := summary(t, out.events), "@bin.000002:4"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestPipelineEmitError(t *testing.T) {
	boom := errors.New("boom")
	p := newPipeline(testConfig(t, nil), failingEmitter{boom}, nil)
	if err := p.Change(context.Background(), tx(1, ordersTable(), 1)[0]); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}

type failingEmitter struct{ err error }

func (f failingEmitter) emit(context.Context, message) error          { return f.err }
func (f failingEmitter) boundary(context.Context, cdc.Position) error { return nil }

// BenchmarkPipeline measures the daemon's own cost per row: filtering,
// Maxwell's JSON, the partition key, and the batching writer (with a
// producer that discards), one row per transaction.
func BenchmarkPipeline(b *testing.B) {
	cfg, err := ParseConfig(map[string]string{"producer_partition_by": "primary_key"})
	if err != nil {
		b.Fatal(err)
	}
	s := newSink(noneProducer{}, false, quiet)
	go s.run(context.Background())
	p := newPipeline(cfg, s, nil)
	ctx := context.Background()
	table := ordersTable()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := &cdc.Change{Op: cdc.OpCreate, Table: table,
			After:  cdc.Row{int64(i), int64(1001), "Wireless mouse", cdc.Decimal("50.00"), "2021-08-16 10:11:12"},
			Source: cdc.Source{File: "bin.000001", EventPos: uint32(i), XID: uint64(i), Time: seedTime}, TxIndex: 1, TxLast: true}
		if err := p.Change(ctx, c); err != nil {
			b.Fatal(err)
		}
		if err := p.Boundary(ctx, cdc.Position{File: "bin.000001", Pos: uint32(i)}); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.drain(ctx); err != nil {
		b.Fatal(err)
	}
}
