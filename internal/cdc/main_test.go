package cdc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testmariadb"
)

// shared is the MariaDB server most tests use, each in its own
// databases. Tests that need other settings or purge the log start their
// own.
var shared *testmariadb.Server

func TestMain(m *testing.M) {
	s, err := testmariadb.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = s
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "mariadb error log:\n%s\n", lastLines(s.ErrorLog(), 40))
	}
	_ = s.Close()
	os.Exit(code)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// errStop is what test handlers return to end Run.
var errStop = errors.New("stop")

var (
	serverIDs atomic.Uint32
	dbSeq     atomic.Uint32
)

func init() { serverIDs.Store(1000) }

// newDB creates a database for one test and returns its name.
func newDB(t testing.TB, srv *testmariadb.Server) string {
	t.Helper()
	name := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "_"))
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("%s_%d", name, dbSeq.Add(1))
	srv.Exec(t, "CREATE DATABASE "+quoteName(name)+" CHARACTER SET utf8mb4")
	return name
}

// testConfig reads the given databases of a server.
func testConfig(srv *testmariadb.Server, dbs ...string) Config {
	cfg := Config{
		Host:     srv.Host,
		Port:     srv.Port,
		User:     srv.User,
		Password: srv.Password,
		ServerID: serverIDs.Add(1),
		Snapshot: SnapshotNever,
	}
	if len(dbs) > 0 {
		set := map[string]bool{}
		for _, d := range dbs {
			set[d] = true
		}
		cfg.Include = func(db, table string) bool { return set[db] }
	}
	if os.Getenv("CDC_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cfg
}

// currentPos is the server's binlog position now, as Run positions are.
func currentPos(t testing.TB, srv *testmariadb.Server) Position {
	t.Helper()
	r := srv.Query(t, "SHOW MASTER STATUS")
	file, _ := r.GetString(0, 0)
	p, _ := r.GetUint(0, 1)
	gtid := srv.QueryString(t, fmt.Sprintf("SELECT BINLOG_GTID_POS('%s', %d)", file, p))
	return Position{File: file, Pos: uint32(p), GTIDSet: gtid, Flavor: flavorMariaDB}
}

// event is one handler call.
type event struct {
	kind   string // "change", "schema", "boundary", "heartbeat"
	change *Change
	schema *SchemaChange
	pos    Position
}

func (e event) String() string {
	switch e.kind {
	case "change":
		return "change " + describe(e.change)
	case "schema":
		return fmt.Sprintf("schema %s %q", e.schema.Kind, abbreviate(e.schema.DDL))
	default:
		return e.kind + " " + e.pos.String()
	}
}

// recorder is a Handler that keeps every call and stops Run when its
// condition holds.
type recorder struct {
	mu     sync.Mutex
	events []event
	// until is asked after each call; true stops Run with errStop.
	until func(events []event) bool
	// onChange, if set, runs before a change is recorded; an error
	// stops Run.
	onChange func(c *Change) error
}

func (r *recorder) add(e event) error {
	r.mu.Lock()
	r.events = append(r.events, e)
	evs := r.events
	r.mu.Unlock()
	if r.until != nil && r.until(evs) {
		return errStop
	}
	return nil
}

func (r *recorder) Change(ctx context.Context, c *Change) error {
	if r.onChange != nil {
		if err := r.onChange(c); err != nil {
			return err
		}
	}
	return r.add(event{kind: "change", change: c})
}

func (r *recorder) Schema(ctx context.Context, s *SchemaChange) error {
	return r.add(event{kind: "schema", schema: s})
}

func (r *recorder) Boundary(ctx context.Context, pos Position) error {
	return r.add(event{kind: "boundary", pos: pos})
}

func (r *recorder) Heartbeat(ctx context.Context, pos Position) error {
	return r.add(event{kind: "heartbeat", pos: pos})
}

func (r *recorder) snapshot() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}

// runUntil runs Run until the condition holds on the handler's calls and
// returns them; the test fails if Run ends otherwise or takes over a
// minute (a deadline for a hung test, not a timing assertion).
func runUntil(t testing.TB, cfg Config, from *Position, until func([]event) bool) []event {
	t.Helper()
	rec := &recorder{until: until}
	err := runWith(t, cfg, from, rec)
	if !errors.Is(err, errStop) {
		t.Fatalf("Run: %v\ncalls:\n%s", err, dump(rec.snapshot()))
	}
	return rec.snapshot()
}

// runWith runs Run with a handler under the test deadline.
func runWith(t testing.TB, cfg Config, from *Position, h Handler) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	err := Run(ctx, cfg, from, h)
	if errors.Is(err, context.DeadlineExceeded) {
		if rec, ok := h.(*recorder); ok {
			t.Fatalf("Run did not reach the expected state in time\ncalls:\n%s", dump(rec.snapshot()))
		}
		t.Fatal("Run did not reach the expected state in time")
	}
	return err
}

func dump(events []event) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString("  " + e.String() + "\n")
	}
	return b.String()
}

// changes returns the change calls.
func changes(events []event) []*Change {
	var out []*Change
	for _, e := range events {
		if e.kind == "change" {
			out = append(out, e.change)
		}
	}
	return out
}

// countChanges counts change calls.
func countChanges(events []event) int {
	n := 0
	for _, e := range events {
		if e.kind == "change" {
			n++
		}
	}
	return n
}

// changesThenBoundary is a stop condition: n changes and the boundary
// after the last.
func changesThenBoundary(n int) func([]event) bool {
	return func(evs []event) bool {
		return countChanges(evs) >= n && evs[len(evs)-1].kind == "boundary"
	}
}

// describe renders a change compactly: "c db.t [1 a]".
func describe(c *Change) string {
	s := string(c.Op) + " " + c.Table.DB + "." + c.Table.Name
	if c.Before != nil {
		s += " " + rowText(c.Before)
	}
	if c.After != nil {
		s += " " + rowText(c.After)
	}
	return s
}

func rowText(r Row) string {
	parts := make([]string, len(r))
	for i, v := range r {
		switch x := v.(type) {
		case nil:
			parts[i] = "NULL"
		case []byte:
			parts[i] = fmt.Sprintf("%q", x)
		case string:
			parts[i] = x
		case Decimal:
			parts[i] = string(x)
		case int64:
			parts[i] = strconv.FormatInt(x, 10)
		case time.Time:
			parts[i] = x.Format(time.RFC3339Nano)
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// short renders changes without database names.
func short(cs []*Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		s := string(c.Op) + " " + c.Table.Name
		if c.Before != nil {
			s += " " + rowText(c.Before)
		}
		if c.After != nil {
			s += " " + rowText(c.After)
		}
		out[i] = s
	}
	return out
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
