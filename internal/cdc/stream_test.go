package cdc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/tributary-data/tributary/internal/testmariadb"
)

// TestOperations streams inserts, updates, deletes and a truncate, each
// its own transaction, and checks what arrives in order.
func TestOperations(t *testing.T) {
	db := newDB(t, shared)
	tbl := quoteTable(db, "t")
	shared.Exec(t, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY, v VARCHAR(20), n INT)")
	from := currentPos(t, shared)
	shared.Exec(t,
		"INSERT INTO "+tbl+" VALUES (1, 'a', 10)",
		"INSERT INTO "+tbl+" VALUES (2, 'b', NULL)",
		"UPDATE "+tbl+" SET v = 'A', n = n + 1 WHERE id = 1",
		"UPDATE "+tbl+" SET id = 3 WHERE id = 2",
		"DELETE FROM "+tbl+" WHERE id = 1",
		"TRUNCATE TABLE "+tbl,
		"INSERT INTO "+tbl+" VALUES (4, 'd', 4)",
	)
	evs := runUntil(t, testConfig(shared, db), &from, changesThenBoundary(7))
	want := []string{
		"c t [1 a 10]",
		"c t [2 b NULL]",
		"u t [1 a 10] [1 A 11]",
		"u t [2 b NULL] [3 b NULL]",
		"d t [1 A 11]",
		"t t",
		"c t [4 d 4]",
	}
	if got := short(changes(evs)); !reflect.DeepEqual(got, want) {
		t.Fatalf("changes:\n got %q\nwant %q", got, want)
	}
	// Every change is its own transaction: each ends with a Boundary at
	// the position its last change reports, and positions grow.
	var last Position
	for i, e := range evs {
		if e.kind != "change" {
			continue
		}
		c := e.change
		if c.TxIndex != 1 || !c.TxLast {
			t.Errorf("%s: TxIndex %d TxLast %v, want 1 true", describe(c), c.TxIndex, c.TxLast)
		}
		next := evs[i+1]
		if next.kind != "boundary" || next.pos != c.Source.Pos {
			t.Errorf("%s: followed by %s, want the boundary %s", describe(c), next, c.Source.Pos)
		}
		if c.Source.GTID == "" || c.Source.File == "" || c.Source.EventPos == 0 || c.Source.ServerID != 1 || c.Source.Time.IsZero() {
			t.Errorf("%s: incomplete source %+v", describe(c), c.Source)
		}
		if c.Op != OpTruncate && (c.Source.XID == 0 || !strings.Contains(c.Source.Query, "t")) {
			t.Errorf("%s: XID %d query %q", describe(c), c.Source.XID, c.Source.Query)
		}
		if c.Source.Pos.Pos <= last.Pos && c.Source.Pos.File == last.File {
			t.Errorf("%s: position %s does not follow %s", describe(c), c.Source.Pos, last)
		}
		last = c.Source.Pos
	}
	trunc := changes(evs)[5]
	if trunc.Before != nil || trunc.After != nil || !strings.HasPrefix(trunc.Source.Query, "TRUNCATE") {
		t.Errorf("truncate change %+v", trunc)
	}
	// Updates carry the whole before image, deletes the whole row.
	if got := changes(evs)[2].Table.PrimaryKey; !reflect.DeepEqual(got, []string{"id"}) {
		t.Errorf("primary key %v", got)
	}
}

// TestTransactions checks multi-row statements and multi-table
// transactions: commit order, TxIndex, TxLast, one XID and GTID per
// transaction, and Source.Pos (transaction start, end for the last).
func TestTransactions(t *testing.T) {
	db := newDB(t, shared)
	a, b := quoteTable(db, "a"), quoteTable(db, "b")
	shared.Exec(t,
		"CREATE TABLE "+a+" (id INT PRIMARY KEY, v INT)",
		"CREATE TABLE "+b+" (id INT PRIMARY KEY, v INT)",
		"CREATE TABLE "+quoteTable(db, "skipped")+" (id INT PRIMARY KEY)",
	)
	from := currentPos(t, shared)
	shared.Exec(t,
		"INSERT INTO "+a+" VALUES (1, 1), (2, 2), (3, 3)", // one statement, one transaction
		"BEGIN",
		"INSERT INTO "+b+" VALUES (1, 10)",
		"UPDATE "+a+" SET v = v * 100 WHERE id <= 2",
		"INSERT INTO "+quoteTable(db, "skipped")+" VALUES (1)",
		"DELETE FROM "+b+" WHERE id = 1",
		"COMMIT",
		"BEGIN",
		"INSERT INTO "+quoteTable(db, "skipped")+" VALUES (2)", // nothing captured: no Boundary
		"COMMIT",
		"INSERT INTO "+b+" VALUES (2, 20)",
	)
	cfg := testConfig(shared, db)
	cfg.Include = func(d, table string) bool { return d == db && table != "skipped" }
	evs := runUntil(t, cfg, &from, changesThenBoundary(8))
	var got []string
	for _, e := range evs {
		switch e.kind {
		case "change":
			s := fmt.Sprintf("%s %d", short([]*Change{e.change})[0], e.change.TxIndex)
			if e.change.TxLast {
				s += " last"
			}
			got = append(got, s)
		case "boundary":
			got = append(got, "boundary")
		default:
			t.Fatalf("unexpected call %s", e)
		}
	}
	want := []string{
		"c a [1 1] 1", "c a [2 2] 2", "c a [3 3] 3 last", "boundary",
		"c b [1 10] 1", "u a [1 1] [1 100] 2", "u a [2 2] [2 200] 3", "d b [1 10] 4 last", "boundary",
		"c b [2 20] 1 last", "boundary",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("calls:\n got %q\nwant %q", got, want)
	}
	cs := changes(evs)
	txs := [][]*Change{cs[0:3], cs[3:7], cs[7:8]}
	start := from
	for _, tx := range txs {
		end := tx[len(tx)-1].Source.Pos
		for _, c := range tx {
			if c.Source.GTID != tx[0].Source.GTID || c.Source.XID != tx[0].Source.XID || c.Source.XID == 0 {
				t.Errorf("%s: GTID %q XID %d, transaction has %q %d", describe(c), c.Source.GTID, c.Source.XID, tx[0].Source.GTID, tx[0].Source.XID)
			}
			if !c.TxLast && c.Source.Pos.GTIDSet != start.GTIDSet {
				t.Errorf("%s: Source.Pos %s, want the transaction's start %s", describe(c), c.Source.Pos, start)
			}
		}
		if !strings.HasSuffix(end.GTIDSet, strings.SplitN(tx[0].Source.GTID, "-", 2)[1]) {
			t.Errorf("transaction end %s does not include its GTID %s", end, tx[0].Source.GTID)
		}
		start = end
	}
	// The multi-row statement's rows are numbered within their event.
	for i, c := range cs[0:3] {
		if c.Source.Row != i {
			t.Errorf("%s: Source.Row %d, want %d", describe(c), c.Source.Row, i)
		}
	}
}

// TestSnapshotThenStream snapshots existing rows (schemas first, reads
// marked first/true/last, Boundary), then streams what follows, with no
// gap and no overlap.
func TestSnapshotThenStream(t *testing.T) {
	db := newDB(t, shared)
	a, b := quoteTable(db, "a"), quoteTable(db, "b")
	shared.Exec(t,
		"CREATE TABLE "+a+" (id INT PRIMARY KEY, v VARCHAR(10))",
		"CREATE TABLE "+b+" (k VARCHAR(10), n INT, PRIMARY KEY (n, k))",
		"INSERT INTO "+a+" VALUES (1, 'x'), (2, 'y')",
		"INSERT INTO "+b+" VALUES ('p', 1)",
	)
	cfg := testConfig(shared, db)
	cfg.Snapshot = SnapshotInitial
	var once sync.Once
	rec := &recorder{until: func(evs []event) bool {
		last := evs[len(evs)-1]
		if last.kind == "boundary" && countChanges(evs) == 3 {
			// The snapshot is committed: write more.
			once.Do(func() {
				shared.Exec(t, "INSERT INTO "+a+" VALUES (3, 'z')", "UPDATE "+b+" SET n = 2")
			})
		}
		return countChanges(evs) == 5 && last.kind == "boundary"
	}}
	if err := runWith(t, cfg, nil, rec); !errors.Is(err, errStop) {
		t.Fatalf("Run: %v\n%s", err, dump(rec.snapshot()))
	}
	evs := rec.snapshot()
	var got []string
	for _, e := range evs {
		switch e.kind {
		case "schema":
			got = append(got, "schema "+e.schema.Kind+" "+e.schema.Tables[0].Name)
			if !strings.HasPrefix(e.schema.DDL, "CREATE TABLE") || e.schema.DB != db || e.schema.Source.Snapshot != "true" {
				t.Errorf("snapshot schema %+v", e.schema)
			}
		case "change":
			got = append(got, short([]*Change{e.change})[0]+" "+e.change.Source.Snapshot)
		case "boundary":
			got = append(got, "boundary")
		}
	}
	want := []string{
		"schema CREATE a", "schema CREATE b",
		"r a [1 x] first", "r a [2 y] true", "r b [p 1] last", "boundary",
		"c a [3 z] ", "boundary", "u b [p 1] [p 2] ", "boundary",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("calls:\n got %q\nwant %q", got, want)
	}
	cs := changes(evs)
	if !reflect.DeepEqual(cs[2].Table.PrimaryKey, []string{"n", "k"}) {
		t.Errorf("primary key %v, want [n k]", cs[2].Table.PrimaryKey)
	}
	snapPos := evs[5].pos
	for _, c := range cs[:3] {
		if c.Source.Pos != snapPos || c.Source.XID != 0 {
			t.Errorf("snapshot read %s: Source.Pos %s XID %d, want %s 0", describe(c), c.Source.Pos, c.Source.XID, snapPos)
		}
	}
	if !cs[2].TxLast || cs[0].TxLast || cs[0].TxIndex != 1 || cs[2].TxIndex != 3 {
		t.Errorf("snapshot order marks: %+v %+v", cs[0], cs[2])
	}
	if snapPos.GTIDSet == "" || snapPos.File == "" {
		t.Errorf("snapshot position %s lacks coordinates", snapPos)
	}
}

// TestSnapshotModes checks what each mode does with and without a
// stored position.
func TestSnapshotModes(t *testing.T) {
	db := newDB(t, shared)
	tbl := quoteTable(db, "t")
	shared.Exec(t, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY)", "INSERT INTO "+tbl+" VALUES (1)")
	stored := currentPos(t, shared)
	shared.Exec(t, "INSERT INTO "+tbl+" VALUES (2)")
	cases := []struct {
		mode SnapshotMode
		from *Position
		// want is the calls up to the stop: a snapshot read "r1", a
		// streamed insert "c2", "s" a schema, "b" a boundary.
		want string
		// stream is false when Run returns nil by itself.
		stream bool
	}{
		{SnapshotInitial, nil, "s r1 r2 b", true},
		{SnapshotInitial, &stored, "c2 b", true},
		{SnapshotAlways, &stored, "s r1 r2 b", true},
		{SnapshotInitialOnly, nil, "s r1 r2 b", false},
		{SnapshotInitialOnly, &stored, "", false},
		{SnapshotNoData, nil, "s b", true},
		{SnapshotNoData, &stored, "c2 b", true},
		{SnapshotWhenNeeded, nil, "s r1 r2 b", true},
		{SnapshotWhenNeeded, &stored, "c2 b", true},
		{SnapshotNever, &stored, "c2 b", true},
	}
	for _, c := range cases {
		name := string(c.mode)
		if c.from != nil {
			name += " stored"
		}
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(shared, db)
			cfg.Snapshot = c.mode
			want := strings.Fields(c.want)
			var got []string
			rec := &recorder{until: func(evs []event) bool {
				e := evs[len(evs)-1]
				switch e.kind {
				case "schema":
					got = append(got, "s")
				case "boundary":
					got = append(got, "b")
				case "change":
					got = append(got, fmt.Sprintf("%c%d", e.change.Op, e.change.After[0]))
				}
				return c.stream && len(got) >= len(want)
			}}
			err := runWith(t, cfg, c.from, rec)
			if c.stream && !errors.Is(err, errStop) || !c.stream && err != nil {
				t.Fatalf("Run: %v\n%s", err, dump(rec.snapshot()))
			}
			if strings.Join(got, " ") != c.want {
				t.Fatalf("calls %q, want %q", strings.Join(got, " "), c.want)
			}
		})
	}
}

// TestSnapshotNeverFromStart reads the whole binary log when there is no
// stored position and the mode is never.
func TestSnapshotNeverFromStart(t *testing.T) {
	db := newDB(t, shared)
	tbl := quoteTable(db, "t")
	shared.Exec(t, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY)", "INSERT INTO "+tbl+" VALUES (1)", "INSERT INTO "+tbl+" VALUES (2)")
	evs := runUntil(t, testConfig(shared, db), nil, changesThenBoundary(2))
	if got := short(changes(evs)); !reflect.DeepEqual(got, []string{"c t [1]", "c t [2]"}) {
		t.Fatalf("changes %q", got)
	}
	if evs[0].kind != "schema" || evs[0].schema.Kind != "CREATE" {
		t.Fatalf("first call %s, want the CREATE TABLE from the log", evs[0])
	}
}

// TestLockingSnapshots covers the snapshot's locking paths (used on
// MySQL; MariaDB needs no lock).
func TestLockingSnapshots(t *testing.T) {
	db := newDB(t, shared)
	tbl := quoteTable(db, "t")
	shared.Exec(t, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY)", "INSERT INTO "+tbl+" VALUES (1), (2)")
	for _, c := range []struct {
		name string
		lock lockMode
	}{{"global read lock", lockGlobal}, {"table locks", lockTables}} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(shared, db)
			cfg.Snapshot = SnapshotInitialOnly
			cfg.snapshotLock = c.lock
			rec := &recorder{}
			if err := runWith(t, cfg, nil, rec); err != nil {
				t.Fatal(err)
			}
			evs := rec.snapshot()
			if got := short(changes(evs)); !reflect.DeepEqual(got, []string{"r t [1]", "r t [2]"}) {
				t.Fatalf("reads %q", got)
			}
			pos := evs[len(evs)-1].pos
			if evs[len(evs)-1].kind != "boundary" || pos.File == "" || pos.GTIDSet == "" {
				t.Fatalf("last call %s", evs[len(evs)-1])
			}
			// The tables are unlocked again.
			shared.Exec(t, "INSERT INTO "+tbl+" VALUES (3)", "DELETE FROM "+tbl+" WHERE id = 3")
		})
	}
}

// TestHeartbeat checks heartbeats while nothing is captured, carrying
// the position of transactions that were read but filtered out.
func TestHeartbeat(t *testing.T) {
	db := newDB(t, shared)
	other := newDB(t, shared)
	shared.Exec(t, "CREATE TABLE "+quoteTable(other, "t")+" (id INT PRIMARY KEY)")
	from := currentPos(t, shared)
	shared.Exec(t, "INSERT INTO "+quoteTable(other, "t")+" VALUES (1)")
	after := currentPos(t, shared)
	cfg := testConfig(shared, db)
	cfg.HeartbeatInterval = 50e6 // 50ms
	evs := runUntil(t, cfg, &from, func(evs []event) bool {
		e := evs[len(evs)-1]
		return e.kind == "heartbeat" && e.pos.GTIDSet == after.GTIDSet
	})
	for _, e := range evs {
		if e.kind != "heartbeat" {
			t.Fatalf("unexpected call %s", e)
		}
	}
}

// TestPerKeyOrder writes concurrently to a few keys, each update adding
// one, and checks that every key's values arrive in commit order: each
// exactly one more than the last.
func TestPerKeyOrder(t *testing.T) {
	db := newDB(t, shared)
	tbl := quoteTable(db, "t")
	const keys, updates = 4, 50
	var inserts []string
	for k := 0; k < keys; k++ {
		inserts = append(inserts, fmt.Sprintf("(%d, 0)", k))
	}
	shared.Exec(t, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY, n INT)")
	from := currentPos(t, shared)
	shared.Exec(t, "INSERT INTO "+tbl+" VALUES "+strings.Join(inserts, ", "))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := shared.Connect(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for i := 0; i < updates; i++ {
				if _, err := c.Execute(fmt.Sprintf("UPDATE %s SET n = n + 1 WHERE id = %d", tbl, (i+w)%keys)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	total := keys + 4*updates
	evs := runUntil(t, testConfig(shared, db), &from, changesThenBoundary(total))
	last := map[int64]int64{}
	for _, c := range changes(evs) {
		id, n := c.After[0].(int64), c.After[1].(int64)
		if prev, ok := last[id]; ok && n != prev+1 {
			t.Fatalf("key %d: %d after %d", id, n, prev)
		}
		last[id] = n
	}
	sum := int64(0)
	for _, n := range last {
		sum += n
	}
	if sum != 4*updates {
		t.Fatalf("final values sum to %d, want %d", sum, 4*updates)
	}
}

// TestGeneratedColumnsAndSequences: virtual, stored and invisible columns
// arrive with their values (the same as the snapshot's); a sequence's
// NEXTVAL, which MariaDB logs as a row, is not a table change.
func TestGeneratedColumnsAndSequences(t *testing.T) {
	db := newDB(t, shared)
	g := quoteTable(db, "g")
	shared.Exec(t,
		"CREATE TABLE "+g+" (id INT PRIMARY KEY, a INT, v INT AS (a * 2) VIRTUAL, s INT AS (a * 3) STORED, h INT INVISIBLE DEFAULT 7)",
		"CREATE SEQUENCE "+quoteTable(db, "seq"))
	from := currentPos(t, shared)
	shared.Exec(t,
		"INSERT INTO "+g+" (id, a) VALUES (1, 5)",
		"SELECT NEXTVAL("+quoteTable(db, "seq")+")",
		"INSERT INTO "+g+" (id, a) VALUES (2, 6)")
	evs := runUntil(t, testConfig(shared, db), &from, changesThenBoundary(2))
	got := short(changes(evs))
	if want := []string{"c g [1 5 10 15 7]", "c g [2 6 12 18 7]"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("changes %q, want %q", got, want)
	}
	cfg := testConfig(shared, db)
	cfg.Snapshot = SnapshotInitialOnly
	rec := &recorder{}
	if err := runWith(t, cfg, nil, rec); err != nil {
		t.Fatal(err)
	}
	for i, c := range changes(rec.snapshot()) {
		if !reflect.DeepEqual(c.After, changes(evs)[i].After) {
			t.Errorf("snapshot %s, binlog %s", describe(c), describe(changes(evs)[i]))
		}
	}
}

// TestCompressedBinlog reads MariaDB's compressed row and query events
// (log_bin_compress).
func TestCompressedBinlog(t *testing.T) {
	srv := testmariadb.Start(t, testmariadb.WithArgs("--log-bin-compress=ON", "--log-bin-compress-min-len=10"))
	srv.Exec(t, "CREATE DATABASE d")
	from := currentPos(t, srv)
	long := strings.Repeat("compressible ", 50)
	srv.Exec(t,
		"CREATE TABLE d.t (id INT PRIMARY KEY, v TEXT, n BIGINT UNSIGNED) /* "+long+" */",
		"INSERT INTO d.t VALUES (1, '"+long+"', 18446744073709551615), (2, 'b', 0)",
		"UPDATE d.t SET v = 'c' WHERE id = 1",
		"DELETE FROM d.t WHERE id = 2",
	)
	types := srv.Query(t, "SHOW BINLOG EVENTS IN '"+from.File+"'")
	compressed := false
	for i := range types.Values {
		typ, _ := types.GetString(i, 2)
		compressed = compressed || strings.Contains(typ, "compressed")
	}
	if !compressed {
		t.Fatal("the server wrote no compressed events")
	}
	evs := runUntil(t, testConfig(srv, "d"), &from, changesThenBoundary(4))
	want := []string{
		"c t [1 " + long + " 18446744073709551615]",
		"c t [2 b 0]",
		"u t [1 " + long + " 18446744073709551615] [1 c 18446744073709551615]",
		"d t [2 b 0]",
	}
	if got := short(changes(evs)); !reflect.DeepEqual(got, want) {
		t.Fatalf("changes:\n got %q\nwant %q", got, want)
	}
	if evs[0].kind != "schema" || !strings.Contains(evs[0].schema.DDL, "compressible") || columnNames(evs[0].schema.Tables[0]) != "id v n" {
		t.Fatalf("first call %s, want the CREATE TABLE", evs[0])
	}
}

// TestSnapshotLargeTable snapshots more rows than any buffer holds: they
// stream through in key order, numbered, the last one marked.
func TestSnapshotLargeTable(t *testing.T) {
	db := newDB(t, shared)
	tbl := quoteTable(db, "big")
	shared.Exec(t, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY, pad VARCHAR(200))")
	const rows = 30_000
	var stmts []string
	for i := 0; i < rows; i += 1000 {
		var values []string
		for j := i; j < i+1000; j++ {
			values = append(values, fmt.Sprintf("(%d, REPEAT('p', 200))", j))
		}
		stmts = append(stmts, "INSERT INTO "+tbl+" VALUES "+strings.Join(values, ", "))
	}
	shared.Exec(t, stmts...)
	cfg := testConfig(shared, db)
	cfg.Snapshot = SnapshotInitialOnly
	var count int
	var lastMark string
	h := &recorder{onChange: func(c *Change) error {
		if c.After[0] != int64(count) || c.TxIndex != count+1 || c.TxLast != (count == rows-1) {
			return fmt.Errorf("read %d: %s TxIndex %d TxLast %v", count, describe(c), c.TxIndex, c.TxLast)
		}
		count++
		lastMark = c.Source.Snapshot
		return nil
	}}
	if err := runWith(t, cfg, nil, h); err != nil {
		t.Fatal(err)
	}
	if count != rows || lastMark != "last" {
		t.Fatalf("%d reads, last marked %q", count, lastMark)
	}
}

// TestThreadIDs: a change carries the thread of its own transaction,
// never another's. Two connections write after a DDL statement from a
// third; the DDL's schema change carries the third's thread.
func TestThreadIDs(t *testing.T) {
	db := newDB(t, shared)
	tbl := quoteTable(db, "t")
	from := currentPos(t, shared)
	ddl, a, b := shared.Conn(t), shared.Conn(t), shared.Conn(t)
	ids := map[string]uint64{}
	for name, c := range map[string]*client.Conn{"ddl": ddl, "a": a, "b": b} {
		ids[name] = uint64(c.GetConnectionID())
	}
	mustExec := func(c *client.Conn, q string) {
		t.Helper()
		if _, err := c.Execute(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(ddl, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY, who VARCHAR(5))")
	mustExec(a, "INSERT INTO "+tbl+" VALUES (1, 'a')")
	mustExec(b, "INSERT INTO "+tbl+" VALUES (2, 'b')")
	mustExec(a, "BEGIN")
	mustExec(a, "UPDATE "+tbl+" SET who = 'aa' WHERE id = 1")
	mustExec(a, "COMMIT")
	evs := runUntil(t, testConfig(shared, db), &from, func(evs []event) bool { return len(changes(evs)) == 3 })

	var schemaThread uint64
	for _, e := range evs {
		if e.kind == "schema" {
			schemaThread = e.schema.Source.ThreadID
		}
	}
	if schemaThread != ids["ddl"] {
		t.Errorf("CREATE TABLE thread %d, want %d (the DDL connection)", schemaThread, ids["ddl"])
	}
	// The binary log gives a row transaction's thread only in a BEGIN
	// statement; MariaDB starts transactions with a GTID event instead.
	begins := binlogHasBegin(t, from)
	for i, c := range changes(evs) {
		who := fmt.Sprintf("%s", c.After[1])[:1]
		want := ids[who]
		if !begins {
			want = 0
		}
		if c.Source.ThreadID != want {
			t.Errorf("change %d (%s by connection %d): thread %d, want %d", i, describe(c), ids[who], c.Source.ThreadID, want)
		}
	}
}

// binlogHasBegin reports whether the server logs a BEGIN statement at
// the start of row transactions after from.
func binlogHasBegin(t *testing.T, from Position) bool {
	t.Helper()
	r := shared.Query(t, fmt.Sprintf("SHOW BINLOG EVENTS IN '%s' FROM %d", from.File, from.Pos))
	for i := range r.Values {
		info, _ := r.GetString(i, 5)
		typ, _ := r.GetString(i, 2)
		t.Logf("%s %s", typ, info)
		if typ == "Query" && strings.EqualFold(strings.TrimSpace(info), "BEGIN") {
			return true
		}
	}
	return false
}
