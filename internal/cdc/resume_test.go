package cdc

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
)

// writeTransactions commits n transactions of 1..3 rows into db.t and
// returns the ids in commit order.
func writeTransactions(t *testing.T, db string, first, n int) []int64 {
	t.Helper()
	var ids []int64
	var stmts []string
	id := first
	for i := 0; i < n; i++ {
		rows := 1 + i%3
		stmts = append(stmts, "BEGIN")
		for r := 0; r < rows; r++ {
			stmts = append(stmts, fmt.Sprintf("INSERT INTO %s VALUES (%d)", quoteTable(db, "t"), id))
			ids = append(ids, int64(id))
			id++
		}
		stmts = append(stmts, "COMMIT")
	}
	shared.Exec(t, stmts...)
	return ids
}

func changeIDs(cs []*Change) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.After[0].(int64)
	}
	return out
}

// TestResume stops at a Boundary and resumes from its position, by GTID
// and by file and offset: nothing is lost and nothing repeated.
func TestResume(t *testing.T) {
	for _, form := range []string{"gtid", "gtid only", "file:pos"} {
		t.Run(form, func(t *testing.T) {
			db := newDB(t, shared)
			shared.Exec(t, "CREATE TABLE "+quoteTable(db, "t")+" (id INT PRIMARY KEY)")
			from := currentPos(t, shared)
			ids := writeTransactions(t, db, 1, 6)
			// Commit at the third boundary and stop there.
			boundaries := 0
			var committed Position
			first := runUntil(t, testConfig(shared, db), &from, func(evs []event) bool {
				if e := evs[len(evs)-1]; e.kind == "boundary" {
					boundaries++
					committed = e.pos
				}
				return boundaries == 3
			})
			switch form {
			case "gtid only":
				committed.File, committed.Pos = "", 0
			case "file:pos":
				committed.GTIDSet = ""
			}
			// More transactions after the stop.
			ids = append(ids, writeTransactions(t, db, 100, 3)...)
			got := changeIDs(changes(first))
			second := runUntil(t, testConfig(shared, db), &committed, changesThenBoundary(len(ids)-len(got)))
			got = append(got, changeIDs(changes(second))...)
			if fmt.Sprint(got) != fmt.Sprint(ids) {
				t.Fatalf("ids across the restart:\n got %v\nwant %v", got, ids)
			}
		})
	}
}

// TestCrashMidTransaction stops inside a transaction, before its
// Boundary, as a crash would: resuming from the last committed Boundary
// delivers the whole transaction again and loses nothing.
func TestCrashMidTransaction(t *testing.T) {
	db := newDB(t, shared)
	tbl := quoteTable(db, "t")
	shared.Exec(t, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY)")
	from := currentPos(t, shared)
	shared.Exec(t,
		"INSERT INTO "+tbl+" VALUES (1)",
		"BEGIN",
		"INSERT INTO "+tbl+" VALUES (2), (3)",
		"INSERT INTO "+tbl+" VALUES (4)",
		"INSERT INTO "+tbl+" VALUES (5), (6)",
		"COMMIT",
		"INSERT INTO "+tbl+" VALUES (7)",
	)
	var committed Position
	rec := &recorder{onChange: func(c *Change) error {
		if c.TxIndex == 3 && c.After[0] == int64(4) {
			return errStop // the process dies while writing the transaction
		}
		return nil
	}, until: func(evs []event) bool {
		if e := evs[len(evs)-1]; e.kind == "boundary" {
			committed = e.pos
		}
		return false
	}}
	if err := runWith(t, testConfig(shared, db), &from, rec); !errors.Is(err, errStop) {
		t.Fatalf("Run: %v", err)
	}
	crashed := changeIDs(changes(rec.snapshot()))
	if fmt.Sprint(crashed) != "[1 2 3]" {
		t.Fatalf("before the crash: %v", crashed)
	}
	resumed := runUntil(t, testConfig(shared, db), &committed, changesThenBoundary(6))
	got := changeIDs(changes(resumed))
	if fmt.Sprint(got) != "[2 3 4 5 6 7]" {
		t.Fatalf("after resuming from %s: %v, want the whole transaction again and what follows", committed, got)
	}
	for i, c := range changes(resumed)[:5] {
		if c.TxIndex != i+1 || c.TxLast != (i == 4) {
			t.Errorf("%s: TxIndex %d TxLast %v", describe(c), c.TxIndex, c.TxLast)
		}
	}
}

// TestReconnectMidTransaction kills the binlog connection in the middle
// of a transaction too big to hold: the reader reconnects from the last
// boundary and hands over the rest without repeating what it delivered.
func TestReconnectMidTransaction(t *testing.T) {
	db := newDB(t, shared)
	tbl := quoteTable(db, "t")
	shared.Exec(t, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY, pad VARCHAR(100))")
	from := currentPos(t, shared)
	const n = 3 * maxBufferedChanges
	var values []string
	for i := 1; i <= n; i++ {
		values = append(values, fmt.Sprintf("(%d, REPEAT('x', 100))", i))
	}
	shared.Exec(t, "INSERT INTO "+tbl+" VALUES "+strings.Join(values, ", "), "INSERT INTO "+tbl+" VALUES (0, 'last')")
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	cfg := testConfig(shared, db)
	cfg.wrapBinlogConn = func(c net.Conn) net.Conn {
		mu.Lock()
		defer mu.Unlock()
		conns = append(conns, c)
		return c
	}
	killed := false
	rec := &recorder{onChange: func(c *Change) error {
		if c.TxIndex == n/2 && !killed {
			// The network fails: the server's side and ours.
			killed = true
			killBinlogDumps(t)
			mu.Lock()
			conns[len(conns)-1].Close()
			mu.Unlock()
		}
		return nil
	}, until: changesThenBoundary(n + 1)}
	if err := runWith(t, cfg, &from, rec); !errors.Is(err, errStop) {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	dials := len(conns)
	mu.Unlock()
	if !killed || dials < 2 {
		t.Fatalf("killed %v, %d binlog connections: the reader did not reconnect", killed, dials)
	}
	cs := changes(rec.snapshot())
	if len(cs) != n+1 {
		t.Fatalf("%d changes, want %d", len(cs), n+1)
	}
	for i, c := range cs[:n] {
		if c.After[0] != int64(i+1) || c.TxIndex != i+1 || c.TxLast != (i == n-1) {
			t.Fatalf("change %d: %s TxIndex %d TxLast %v", i, describe(c), c.TxIndex, c.TxLast)
		}
	}
	var boundaries int
	for _, e := range rec.snapshot() {
		if e.kind == "boundary" {
			boundaries++
		}
	}
	if boundaries != 2 {
		t.Fatalf("%d boundaries, want 2", boundaries)
	}
}

// killBinlogDumps ends the server's binlog dump threads, as a network
// failure would.
func killBinlogDumps(t *testing.T) {
	r := shared.Query(t, "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump'")
	for i := range r.Values {
		id, _ := r.GetInt(i, 0)
		shared.Exec(t, fmt.Sprintf("KILL %d", id))
	}
	if len(r.Values) == 0 {
		t.Error("no binlog dump thread to kill")
	}
}

// TestRestartsUnderLoad kills the reader again and again while
// transactions are written, each time resuming from the last committed
// Boundary: every change arrives at least once, each key's changes in
// commit order, and a change arrives twice only if the crash came after
// it was handed over and before its Boundary was committed.
func TestRestartsUnderLoad(t *testing.T) {
	db := newDB(t, shared)
	a, b := quoteTable(db, "a"), quoteTable(db, "b")
	const keys, txs = 8, 300
	shared.Exec(t, "CREATE TABLE "+a+" (id INT PRIMARY KEY, n INT)", "CREATE TABLE "+b+" (id INT PRIMARY KEY, n INT)")
	committed := currentPos(t, shared)

	// The writer: inserts, then transactions each adding one to a few
	// keys of both tables, so every key's values count up by one.
	var inserts []string
	for k := 0; k < keys; k++ {
		inserts = append(inserts, fmt.Sprintf("(%d, 0)", k))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := shared.Connect(t.Context())
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		stmts := []string{"INSERT INTO " + a + " VALUES " + strings.Join(inserts, ", "), "INSERT INTO " + b + " VALUES " + strings.Join(inserts, ", ")}
		for i := 0; i < txs; i++ {
			stmts = append(stmts, "BEGIN")
			for j := 0; j <= i%3; j++ {
				tbl := a
				if (i+j)%2 == 1 {
					tbl = b
				}
				stmts = append(stmts, fmt.Sprintf("UPDATE %s SET n = n + 1 WHERE id = %d", tbl, (i*7+j)%keys))
			}
			stmts = append(stmts, "COMMIT")
		}
		for _, q := range stmts {
			if _, err := c.Execute(q); err != nil {
				t.Error(err)
				return
			}
		}
	}()

	type seen struct {
		key       string // table/id
		n         int64
		run       int
		committed bool // its Boundary was committed before a crash
	}
	var (
		out       []seen
		finals    map[string]int64
		crashes   = []int{5, 17, 3, 40, 11, 1, 64, 9, 23, 2}
		restarts  int
		lastFinal bool
	)
	complete := func() bool {
		if finals == nil {
			return false
		}
		latest := map[string]int64{}
		for _, s := range out {
			if s.n > latest[s.key] {
				latest[s.key] = s.n
			}
		}
		for k, n := range finals {
			if latest[k] != n {
				return false
			}
		}
		return true
	}
	for !lastFinal {
		select {
		case <-done:
			if finals == nil {
				finals = map[string]int64{}
				for _, tbl := range []string{"a", "b"} {
					r := shared.Query(t, "SELECT id, n FROM "+quoteTable(db, tbl))
					for i := range r.Values {
						id, _ := r.GetInt(i, 0)
						n, _ := r.GetInt(i, 1)
						finals[fmt.Sprintf("%s/%d", tbl, id)] = n
					}
				}
			}
		default:
		}
		crashAfter := -1
		if restarts < len(crashes) {
			crashAfter = crashes[restarts]
		}
		uncommitted := len(out)
		handed := 0
		rec := &recorder{
			onChange: func(c *Change) error {
				if handed == crashAfter {
					return errStop // crash: what was handed over stays handed over
				}
				handed++
				out = append(out, seen{key: fmt.Sprintf("%s/%d", c.Table.Name, c.After[0]), n: c.After[1].(int64), run: restarts})
				return nil
			},
			until: func(evs []event) bool {
				if e := evs[len(evs)-1]; e.kind == "boundary" {
					committed = e.pos
					for i := uncommitted; i < len(out); i++ {
						out[i].committed = true
					}
					uncommitted = len(out)
					if crashAfter < 0 && complete() {
						lastFinal = true
						return true
					}
				}
				return false
			},
		}
		if err := runWith(t, testConfig(shared, db), &committed, rec); !errors.Is(err, errStop) {
			t.Fatalf("Run: %v", err)
		}
		restarts++
		if restarts > len(crashes)+50 {
			t.Fatal("the reader does not catch up")
		}
	}

	// At least once, in order per key; repeats only of what was not
	// committed when the reader crashed.
	type value struct {
		key string
		n   int64
	}
	where := map[value]int{}
	next := map[string]int64{}
	lastInRun := map[string]int64{}
	repeats, run := 0, -1
	for i, s := range out {
		if s.run != run {
			run = s.run
			clear(lastInRun)
		}
		if prev, ok := lastInRun[s.key]; ok && s.n != prev+1 {
			t.Fatalf("run %d: %s went from %d to %d", run, s.key, prev, s.n)
		}
		lastInRun[s.key] = s.n
		v := value{s.key, s.n}
		if j, ok := where[v]; ok {
			if out[j].committed {
				t.Fatalf("%s=%d repeated although its boundary was committed", s.key, s.n)
			}
			repeats++
		} else if s.n != next[s.key] {
			t.Fatalf("%s: %d arrived before %d: a change was lost or reordered", s.key, s.n, next[s.key])
		} else {
			next[s.key]++
		}
		where[v] = i
	}
	for k, n := range finals {
		if next[k] != n+1 {
			t.Fatalf("%s reached %d, want %d", k, next[k]-1, n)
		}
	}
	if repeats == 0 {
		t.Fatal("no crash fell inside a transaction: the test did not exercise repeats")
	}
	t.Logf("%d restarts, %d changes handed over, %d repeated", restarts, len(out), repeats)
}
