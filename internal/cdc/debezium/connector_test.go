package debezium

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// offsets is a SourceTaskContext holding stored offsets.
type offsets map[string]map[string]any

func (o offsets) Offset(_ context.Context, p map[string]any) (map[string]any, error) {
	return o[p["server"].(string)], nil
}

// script is a fake engine: it makes the handler calls of a Run and then
// returns err, or waits for the end of its context when block is set.
type script struct {
	calls []func(ctx context.Context, h *handler) error
	err   error
	block bool
	// from receives the position Run was given.
	from chan *cdc.Position
}

func (s *script) run(ctx context.Context, _ *Settings, from *cdc.Position, h *handler, _ *slog.Logger) error {
	if s.from != nil {
		s.from <- from
	}
	for _, c := range s.calls {
		if err := c(ctx, h); err != nil {
			return err
		}
	}
	if s.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.err
}

func change(c *cdc.Change) func(context.Context, *handler) error {
	return func(ctx context.Context, h *handler) error { return h.Change(ctx, c) }
}

func schema(sc *cdc.SchemaChange) func(context.Context, *handler) error {
	return func(ctx context.Context, h *handler) error { return h.Schema(ctx, sc) }
}

func boundary(p cdc.Position) func(context.Context, *handler) error {
	return func(ctx context.Context, h *handler) error { return h.Boundary(ctx, p) }
}

func heartbeat(p cdc.Position) func(context.Context, *handler) error {
	return func(ctx context.Context, h *handler) error { return h.Heartbeat(ctx, p) }
}

// startTask starts a task on a script with stored offsets.
func startTask(t *testing.T, sc *script, stored offsets, kv ...string) *task {
	t.Helper()
	props := baseProps("srv")
	for i := 0; i+1 < len(kv); i += 2 {
		props[kv[i]] = kv[i+1]
	}
	tk := &task{run: sc.run, wait: time.Millisecond}
	if err := tk.Start(context.Background(), props, stored); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tk.Stop() })
	return tk
}

// pollAll polls until the engine has stopped and everything is out,
// returning the records and Poll's error.
func pollAll(t *testing.T, tk *task) ([]*data.Record, error) {
	t.Helper()
	var out []*data.Record
	for {
		recs, err := tk.Poll(context.Background())
		if len(recs) > pollMax {
			t.Fatalf("Poll returned %d records, more than %d", len(recs), pollMax)
		}
		out = append(out, recs...)
		if err != nil {
			return out, err
		}
		select {
		case <-tk.done:
			if len(recs) == 0 && len(tk.out) == 0 {
				return out, nil
			}
		default:
		}
	}
}

// describe is a record's topic, op (or "tombstone") and offset.
func describe(r *data.Record) string {
	op := "tombstone"
	if st, ok := r.Value.(*data.Struct); ok {
		if v, err := st.Get("op"); err == nil {
			op = v.(string)
		} else if v, err := st.Get("status"); err == nil {
			op = v.(string)
		} else {
			op = "value"
		}
	}
	return r.Topic + " " + op + " " + offsetString(r.SourceOffset)
}

func offsetString(o map[string]any) string {
	s := ""
	if f, ok := o["file"]; ok {
		s = f.(string) + ":" + strconv.FormatInt(o["pos"].(int64), 10)
	}
	if v, ok := o["snapshot"]; ok {
		s += " snapshot=" + v.(string)
	}
	return s
}

var (
	p100 = cdc.Position{File: "b.000001", Pos: 100}
	p200 = cdc.Position{File: "b.000001", Pos: 200}
	p300 = cdc.Position{File: "b.000001", Pos: 300}
)

func src(pos cdc.Position) cdc.Source {
	return cdc.Source{Pos: pos, File: pos.File, EventPos: pos.Pos + 10, ServerID: 1, Time: time.Unix(1700000000, 0)}
}

// Records of a transaction carry the offset of the boundary before it,
// and the transaction's last record the boundary after it, so that a
// restart resumes only at transaction boundaries.
func TestTaskOffsetsFollowTransactions(t *testing.T) {
	cust := customers()
	a, b := row(int64(1), "a", "b", "c"), row(int64(2), "a", "b", "c")
	sc := &script{from: make(chan *cdc.Position, 1), calls: []func(context.Context, *handler) error{
		// Transaction 1: two inserts, from 100 to 200.
		change(&cdc.Change{Op: cdc.OpCreate, Table: cust, After: a, Source: src(p100), TxIndex: 1}),
		change(&cdc.Change{Op: cdc.OpCreate, Table: cust, After: b, Source: src(p200), TxIndex: 2, TxLast: true}),
		boundary(p200),
		// Transaction 2: a delete (and its tombstone), from 200 to 300.
		change(&cdc.Change{Op: cdc.OpDelete, Table: cust, Before: a, Source: src(p300), TxIndex: 1, TxLast: true}),
		boundary(p300),
	}}
	tk := startTask(t, sc, offsets{"srv": Offset(p100, time.Unix(1, 0), 1, false)})
	if from := <-sc.from; from == nil || *from != p100 {
		t.Fatalf("engine started from %+v, want %+v", from, p100)
	}
	recs, err := pollAll(t, tk)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		checkRecord(t, r)
		if !reflect.DeepEqual(r.SourcePartition, map[string]any{"server": "srv"}) {
			t.Errorf("partition %v", r.SourcePartition)
		}
		got = append(got, describe(r))
	}
	want := []string{
		"srv.inventory.customers c b.000001:100",
		"srv.inventory.customers c b.000001:200",
		"srv.inventory.customers d b.000001:200",
		"srv.inventory.customers tombstone b.000001:300",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records\ngot  %q\nwant %q", got, want)
	}
	if ts := recs[1].SourceOffset["ts_sec"]; ts != int64(1700000000) {
		t.Errorf("ts_sec %v", ts)
	}
}

// With transaction metadata, END is the transaction's last record.
func TestTaskTransactionMetadataOffsets(t *testing.T) {
	cust := customers()
	sc := &script{calls: []func(context.Context, *handler) error{
		change(&cdc.Change{Op: cdc.OpCreate, Table: cust, After: row(int64(1), "a", "b", "c"), Source: src(p100), TxIndex: 1, TxLast: true}),
		boundary(p200),
	}}
	tk := startTask(t, sc, offsets{"srv": Offset(p100, time.Time{}, 0, false)}, "provide.transaction.metadata", "true")
	recs, err := pollAll(t, tk)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, describe(r))
	}
	want := []string{"srv.transaction BEGIN b.000001:100", "srv.inventory.customers c b.000001:100", "srv.transaction END b.000001:200"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records\ngot  %q\nwant %q", got, want)
	}
}

// Snapshot records carry a snapshot offset (restart snapshots again)
// until the last, which carries the position streaming starts from, and
// get Debezium's per-table markers.
func TestTaskSnapshot(t *testing.T) {
	cust, ord := customers(), orders()
	snap := func(marker string) cdc.Source {
		s := src(p100)
		s.Snapshot = marker
		s.ThreadID = 0
		return s
	}
	read := func(tbl *cdc.Table, marker string) func(context.Context, *handler) error {
		r := row(int64(1), "a", "b", "c")
		if tbl == ord {
			r = row(int64(1), nil, nil, nil, nil)
		}
		return change(&cdc.Change{Op: cdc.OpRead, Table: tbl, After: r, Source: snap(marker)})
	}
	sc := &script{from: make(chan *cdc.Position, 1), calls: []func(context.Context, *handler) error{
		schema(&cdc.SchemaChange{DB: "inventory", DDL: "CREATE TABLE customers (...)", Kind: "CREATE", Tables: []*cdc.Table{cust}, Source: snap("true")}),
		schema(&cdc.SchemaChange{DB: "ecommerce", DDL: "CREATE TABLE orders (...)", Kind: "CREATE", Tables: []*cdc.Table{ord}, Source: snap("true")}),
		read(cust, "first"), read(cust, "true"), read(ord, "true"), read(ord, "last"),
		boundary(p100),
		change(&cdc.Change{Op: cdc.OpCreate, Table: cust, After: row(int64(5), "a", "b", "c"), Source: src(p200), TxIndex: 1, TxLast: true}),
		boundary(p200),
	}}
	// An offset written during a snapshot: the snapshot starts over.
	tk := startTask(t, sc, offsets{"srv": Offset(p100, time.Time{}, 0, true)})
	if from := <-sc.from; from != nil {
		t.Fatalf("engine started from %+v, want no position", from)
	}
	recs, err := pollAll(t, tk)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		checkRecord(t, r)
		d := describe(r)
		if st, ok := r.Value.(*data.Struct); ok {
			if s, err := st.Get("source"); err == nil {
				m, _ := s.(*data.Struct).Get("snapshot")
				if m != nil {
					d += " " + m.(string)
				}
			}
		}
		got = append(got, d)
	}
	want := []string{
		"srv value b.000001:100 snapshot=INITIAL true",
		"srv value b.000001:100 snapshot=INITIAL true",
		"srv.inventory.customers r b.000001:100 snapshot=INITIAL first",
		"srv.inventory.customers r b.000001:100 snapshot=INITIAL last_in_data_collection",
		"srv.ecommerce.orders r b.000001:100 snapshot=INITIAL first_in_data_collection",
		"srv.ecommerce.orders r b.000001:100 last",
		"srv.inventory.customers c b.000001:200",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records\ngot  %q\nwant %q", got, want)
	}
}

// Heartbeats are records only with heartbeat.interval.ms, never during a
// snapshot, and carry the position they report.
func TestTaskHeartbeats(t *testing.T) {
	for _, tc := range []struct {
		interval string
		want     []string
	}{
		{"0", nil},
		{"1000", []string{"__debezium-heartbeat.srv value b.000001:300"}},
	} {
		snapSrc := src(p100)
		snapSrc.Snapshot = "first"
		sc := &script{calls: []func(context.Context, *handler) error{
			heartbeat(p300),
		}}
		tk := startTask(t, sc, offsets{"srv": Offset(p100, time.Time{}, 0, false)}, "heartbeat.interval.ms", tc.interval)
		recs, err := pollAll(t, tk)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			checkRecord(t, r)
			got = append(got, describe(r))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("interval %s: %q, want %q", tc.interval, got, tc.want)
		}
		// During a snapshot the position is no place to resume.
		h := &handler{f: NewFormatter(testSettings(t, "srv", "heartbeat.interval.ms", "1000"), nil, "r"),
			s: testSettings(t, "srv", "heartbeat.interval.ms", "1000"), out: make(chan *data.Record, 4)}
		if err := h.Change(context.Background(), &cdc.Change{Op: cdc.OpRead, Table: customers(), After: row(int64(1), "a", "b", "c"), Source: snapSrc}); err != nil {
			t.Fatal(err)
		}
		if err := h.Heartbeat(context.Background(), p300); err != nil || len(h.out) != 0 {
			t.Errorf("heartbeat during a snapshot: %d records, %v", len(h.out), err)
		}
	}
}

// Poll hands records out in order, at most pollMax at a time.
func TestTaskPollBatches(t *testing.T) {
	cust := customers()
	const n = 2500
	calls := make([]func(context.Context, *handler) error, 0, n+1)
	for i := 0; i < n; i++ {
		calls = append(calls, change(&cdc.Change{Op: cdc.OpCreate, Table: cust, After: row(int64(i), "a", "b", "c"),
			Source: src(p100), TxIndex: i + 1, TxLast: i == n-1}))
	}
	calls = append(calls, boundary(p200))
	tk := startTask(t, &script{calls: calls}, nil)
	recs, err := pollAll(t, tk)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		after, _ := r.Value.(*data.Struct).Get("after")
		if id, _ := after.(*data.Struct).Get("id"); id != int32(i) {
			t.Fatalf("record %d has id %v", i, id)
		}
	}
}

// A full queue makes the engine wait (it stops reading) rather than
// grow: a send on a full queue returns only when its context ends.
func TestHandlerBackpressure(t *testing.T) {
	out := make(chan *data.Record, 2)
	h := &handler{out: out}
	ctx, cancel := context.WithCancel(context.Background())
	for i := 0; i < 2; i++ {
		if err := h.send(ctx, &data.Record{}); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := h.send(ctx, &data.Record{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("send on a full queue: %v", err)
	}
	if len(out) != 2 {
		t.Errorf("queue holds %d", len(out))
	}
}

// The engine's failure fails the task through Poll, after the records
// read before it, with the engine's message.
func TestTaskEngineError(t *testing.T) {
	engineErr := errors.New("cdc: binlog_format is STATEMENT: set binlog_format=ROW")
	sc := &script{err: engineErr, calls: []func(context.Context, *handler) error{
		change(&cdc.Change{Op: cdc.OpCreate, Table: customers(), After: row(int64(1), "a", "b", "c"), Source: src(p100), TxIndex: 1}),
	}}
	tk := startTask(t, sc, nil)
	recs, err := pollAll(t, tk)
	if len(recs) != 1 {
		t.Errorf("%d records before the error", len(recs))
	}
	if !errors.Is(err, engineErr) || !strings.Contains(err.Error(), "binlog_format is STATEMENT") {
		t.Errorf("Poll error %v", err)
	}
}

// A record the formatter cannot build stops the engine with an error
// naming the column.
func TestTaskFormatError(t *testing.T) {
	bad := &cdc.Table{DB: "d", Name: "t", Columns: []cdc.Column{{Name: "price", DataType: "decimal", ColumnType: "decimal(5,1)", Length: 5, Scale: 1}}}
	sc := &script{calls: []func(context.Context, *handler) error{
		change(&cdc.Change{Op: cdc.OpCreate, Table: bad, After: row(cdc.Decimal("1.25")), Source: src(p100)}),
	}}
	_, err := pollAll(t, startTask(t, sc, nil))
	if err == nil || !strings.Contains(err.Error(), "price") {
		t.Errorf("Poll error %v", err)
	}
}

// An engine that finishes (initial_only) leaves the task idle.
func TestTaskFinished(t *testing.T) {
	tk := startTask(t, &script{}, nil)
	<-tk.done
	for i := 0; i < 3; i++ {
		recs, err := tk.Poll(context.Background())
		if len(recs) != 0 || err != nil {
			t.Fatalf("Poll after the engine finished: %d records, %v", len(recs), err)
		}
	}
}

// Stop cancels the engine and waits for it.
func TestTaskStop(t *testing.T) {
	tk := startTask(t, &script{block: true}, nil)
	if err := tk.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tk.done:
	default:
		t.Fatal("Stop returned before the engine stopped")
	}
	if !errors.Is(tk.err, context.Canceled) {
		t.Errorf("engine ended with %v", tk.err)
	}
}

// The stored offset is read under {"server": topic.prefix}; a broken one
// fails Start.
func TestTaskStartOffsets(t *testing.T) {
	tk := &task{run: (&script{}).run, wait: time.Millisecond}
	err := tk.Start(context.Background(), baseProps("srv"), offsets{"srv": {"pos": 4}})
	if err == nil || !strings.Contains(err.Error(), "file") {
		t.Errorf("Start with a broken offset: %v", err)
	}
	bad := baseProps("srv")
	bad["decimal.handling.mode"] = "exact"
	if err := (&task{run: (&script{}).run}).Start(context.Background(), bad, offsets{}); err == nil {
		t.Error("Start accepted an invalid configuration")
	}
}

func TestConnector(t *testing.T) {
	var c connect.SourceConnector = NewConnector()
	props := baseProps("srv")
	props["tasks.max"] = "8"
	if err := c.Start(context.Background(), props); err != nil {
		t.Fatal(err)
	}
	cfgs, err := c.TaskConfigs(8)
	if err != nil || len(cfgs) != 1 || cfgs[0]["topic.prefix"] != "srv" {
		t.Fatalf("task configs %v, %v", cfgs, err)
	}
	if _, ok := c.Task().(*task); !ok {
		t.Errorf("task %T", c.Task())
	}
	if _, ok := c.(connect.ConfigValidator); !ok {
		t.Error("the connector does not validate its configuration")
	}
	bad := baseProps("srv")
	delete(bad, "database.hostname")
	if err := NewConnector().Start(context.Background(), bad); err == nil {
		t.Error("Start accepted a configuration without database.hostname")
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if ConnectorClass != "io.debezium.connector.mysql.MySqlConnector" {
		t.Errorf("class %s", ConnectorClass)
	}
}

// The engine is configured from Debezium's keys.
func TestEngineConfig(t *testing.T) {
	s := testSettings(t, "srv", "database.port", "3307", "database.password", "pw", "snapshot.mode", "when_needed",
		"heartbeat.interval.ms", "250", "table.include.list", `shop\.orders`)
	cfg := engineConfig(s, slog.Default())
	if cfg.Host != "db.example" || cfg.Port != 3307 || cfg.User != "debezium" || cfg.Password != "pw" || cfg.ServerID != 184054 ||
		cfg.Snapshot != cdc.SnapshotWhenNeeded || cfg.HeartbeatInterval != 250*time.Millisecond || cfg.Keys != cdc.DebeziumKeys || cfg.Logger == nil {
		t.Errorf("config %+v", cfg)
	}
	if !cfg.Include("shop", "orders") || cfg.Include("shop", "items") {
		t.Error("Include does not follow table.include.list")
	}
}
