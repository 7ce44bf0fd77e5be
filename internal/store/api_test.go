package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// openMemWith opens an in-memory store with cfg, closed when the test
// ends.
func openMemWith(t *testing.T, cfg Config) *Store {
	t.Helper()
	cfg.InMemory = true
	st, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// appendAll appends payloads to a log and returns their sequences.
func appendAll(t *testing.T, st *Store, name string, payloads ...string) []uint64 {
	t.Helper()
	var seqs []uint64
	for _, p := range payloads {
		seq, err := st.AppendAsync(name, []byte(p)).Wait(context.Background())
		if err != nil {
			t.Fatalf("append %q to %s: %v", p, name, err)
		}
		seqs = append(seqs, seq)
	}
	return seqs
}

func datas(msgs []Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Data)
	}
	return out
}

// TestLogRead pins Read's window: where it starts, what it returns past
// the end, and how maxMsgs and maxBytes cut it, with Pending counting
// what lies beyond.
func TestLogRead(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	if err := st.CreateLog(ctx, "R", 0); err != nil {
		t.Fatal(err)
	}
	if seqs := appendAll(t, st, "R", "a", "bb", "ccc", "dddd", "eeeee"); !slices.Equal(seqs, []uint64{1, 2, 3, 4, 5}) {
		t.Fatalf("sequences %v, want 1..5", seqs)
	}
	for _, tc := range []struct {
		name              string
		from              uint64
		maxMsgs, maxBytes int
		want              []string
		pending           uint64
	}{
		{"from 0 is the oldest", 0, 10, 1 << 20, []string{"a", "bb", "ccc", "dddd", "eeeee"}, 0},
		{"from the middle", 3, 10, 1 << 20, []string{"ccc", "dddd", "eeeee"}, 0},
		{"maxMsgs cuts", 1, 2, 1 << 20, []string{"a", "bb"}, 3},
		{"maxBytes cuts after the message that passes it", 1, 10, 1, []string{"a"}, 4},
		{"past the end", 6, 10, 1 << 20, nil, 0},
		{"maxBytes below 1 reads one", 2, 10, 0, []string{"bb"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := st.Read(ctx, "R", tc.from, tc.maxMsgs, tc.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			if got := datas(res.Messages); !slices.Equal(got, tc.want) {
				t.Errorf("read %q, want %q", got, tc.want)
			}
			if len(tc.want) > 0 && res.Pending != tc.pending {
				t.Errorf("pending %d, want %d", res.Pending, tc.pending)
			}
			for i, m := range res.Messages {
				if i > 0 && m.Seq != res.Messages[i-1].Seq+1 {
					t.Errorf("sequences not consecutive: %d after %d", m.Seq, res.Messages[i-1].Seq)
				}
				if m.Time.IsZero() {
					t.Errorf("message %d has no time", m.Seq)
				}
			}
		})
	}
}

// TestLogReadFromTime reads from a moment between two appends: the first
// message at or after it comes first.
func TestLogReadFromTime(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	if err := st.CreateLog(ctx, "T", 0); err != nil {
		t.Fatal(err)
	}
	appendAll(t, st, "T", "old1", "old2")
	res, err := st.Read(ctx, "T", 2, 1, 1<<20)
	if err != nil || len(res.Messages) != 1 {
		t.Fatalf("read old2: %+v, %v", res, err)
	}
	// JetStream stamps messages with its clock; wait until that clock has
	// passed old2's stamp, so that the next append is strictly later.
	mid := res.Messages[0].Time.Add(time.Millisecond)
	for time.Now().Before(mid.Add(time.Millisecond)) {
		time.Sleep(time.Millisecond)
	}
	appendAll(t, st, "T", "new1", "new2")
	for _, tc := range []struct {
		name string
		at   time.Time
		want []string
	}{
		{"before everything", time.Unix(0, 0), []string{"old1", "old2", "new1", "new2"}},
		{"between", mid, []string{"new1", "new2"}},
		{"in the future", time.Now().Add(time.Hour), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := st.ReadFromTime(ctx, "T", tc.at, 10, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if got := datas(res.Messages); !slices.Equal(got, tc.want) {
				t.Errorf("read %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMissingLog: every operation on a log that does not exist says
// ErrNotFound, except DeleteLog, which is idempotent, and AppendAsync,
// which fails.
func TestMissingLog(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	for _, tc := range []struct {
		name string
		op   func() error
		want error
	}{
		{"State", func() error { _, err := st.State(ctx, "nope"); return err }, ErrNotFound},
		{"Read", func() error { _, err := st.Read(ctx, "nope", 1, 1, 1); return err }, ErrNotFound},
		{"ReadFromTime", func() error { _, err := st.ReadFromTime(ctx, "nope", time.Now(), 1, 1); return err }, ErrNotFound},
		{"SetLogMaxAge", func() error { return st.SetLogMaxAge(ctx, "nope", time.Hour) }, ErrNotFound},
		{"DeleteLog", func() error { return st.DeleteLog(ctx, "nope") }, nil},
	} {
		if err := tc.op(); !errors.Is(err, tc.want) {
			t.Errorf("%s on a missing log = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := st.AppendAsync("nope", []byte("x")).Wait(ctx); err == nil {
		t.Error("append to a missing log succeeded")
	}
}

// TestLogLifecycle follows one log through state, retention and
// deletion, and RecreateLog's numbering after a loss.
func TestLogLifecycle(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	if err := st.CreateLog(ctx, "L", time.Hour); err != nil {
		t.Fatal(err)
	}
	s, err := st.State(ctx, "L")
	if err != nil {
		t.Fatal(err)
	}
	if s.Msgs != 0 || s.LastSeq != 0 || s.FirstSeq > s.LastSeq+1 {
		t.Errorf("empty log's state %+v", s)
	}
	appendAll(t, st, "L", "x", "yy", "zzz")
	s, err = st.State(ctx, "L")
	if err != nil {
		t.Fatal(err)
	}
	if s.FirstSeq != 1 || s.LastSeq != 3 || s.Msgs != 3 || s.Bytes == 0 || s.LastTime.IsZero() || s.Lost != nil {
		t.Errorf("state after 3 appends: %+v", s)
	}

	// Retention shortened below the records' age (JetStream's least is
	// 100ms) removes them all, and the log keeps its numbering.
	time.Sleep(150 * time.Millisecond)
	if err := st.SetLogMaxAge(ctx, "L", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "expiry", func() bool {
		s, err := st.State(ctx, "L")
		return err == nil && s.Msgs == 0
	})
	if s, _ := st.State(ctx, "L"); s.FirstSeq != 4 || s.LastSeq != 3 {
		t.Errorf("expired log's state %+v, want first 4, last 3", s)
	}
	if seqs := appendAll(t, st, "L", "after"); seqs[0] != 4 {
		t.Errorf("append after expiry got sequence %d, want 4", seqs[0])
	}
	if err := st.CreateLog(ctx, "L", time.Hour); !errors.Is(err, ErrExists) {
		t.Errorf("CreateLog with the old max age after SetLogMaxAge = %v, want ErrExists", err)
	}

	if err := st.DeleteLog(ctx, "L"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteLog(ctx, "L"); err != nil {
		t.Errorf("second DeleteLog = %v, want nil", err)
	}
	if _, err := st.State(ctx, "L"); !errors.Is(err, ErrNotFound) {
		t.Errorf("State after DeleteLog = %v, want ErrNotFound", err)
	}

	if err := st.RecreateLog(ctx, "L", time.Hour, 100); err != nil {
		t.Fatal(err)
	}
	if seqs := appendAll(t, st, "L", "a", "b"); !slices.Equal(seqs, []uint64{100, 101}) {
		t.Errorf("recreated log numbered %v, want [100 101]", seqs)
	}
	logs, err := st.Logs(ctx)
	if err != nil || !slices.Equal(logs, []string{"L"}) {
		t.Errorf("Logs = %q (%v), want [L]", logs, err)
	}
}

// waitFor polls cond until it holds, for at most ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestKV pins the metadata bucket's compare-and-set API, step by step on
// one key.
func TestKV(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	var rev uint64 // the key's current revision, kept by the steps
	for _, tc := range []struct {
		name string
		op   func() (uint64, error)
		want error
		// value is what Get returns after the step ("" when missing).
		value string
	}{
		{"get missing", func() (uint64, error) { e, err := st.Get(ctx, "k"); return e.Revision, err }, ErrNotFound, ""},
		{"update missing", func() (uint64, error) { return st.Update(ctx, "k", []byte("v"), 1) }, ErrConflict, ""},
		{"create", func() (uint64, error) { return st.Create(ctx, "k", []byte("v1")) }, nil, "v1"},
		{"create again", func() (uint64, error) { return st.Create(ctx, "k", []byte("v2")) }, ErrExists, "v1"},
		{"update at current revision", func() (uint64, error) { return st.Update(ctx, "k", []byte("v2"), rev) }, nil, "v2"},
		{"update at stale revision", func() (uint64, error) { return st.Update(ctx, "k", []byte("v3"), rev-1) }, ErrConflict, "v2"},
		{"delete at stale revision", func() (uint64, error) { return 0, st.Delete(ctx, "k", rev-1) }, ErrConflict, "v2"},
		{"delete at current revision", func() (uint64, error) { return 0, st.Delete(ctx, "k", rev) }, nil, ""},
		{"create after delete", func() (uint64, error) { return st.Create(ctx, "k", []byte("v4")) }, nil, "v4"},
	} {
		got, err := tc.op()
		if !errors.Is(err, tc.want) {
			t.Fatalf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
		if err == nil && got != 0 {
			if got <= rev {
				t.Errorf("%s: revision %d, not after %d", tc.name, got, rev)
			}
			rev = got
		}
		e, err := st.Get(ctx, "k")
		switch {
		case tc.value == "" && !errors.Is(err, ErrNotFound):
			t.Errorf("%s: then Get = %+v, %v; want ErrNotFound", tc.name, e, err)
		case tc.value != "" && (err != nil || string(e.Value) != tc.value || e.Revision != rev || e.Key != "k"):
			t.Errorf("%s: then Get = %+v, %v; want %q at revision %d", tc.name, e, err, tc.value, rev)
		}
	}
}

// TestKVKeys writes keys of every shape the services use, and some no
// NATS subject could hold (the empty key too), and reads them back by Get
// and List.
func TestKVKeys(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	keys := []string{
		"stream.000000000000.us-east-1.orders",
		"stream.000000000000.us-east-1.name with spaces",
		"stream.000000000000.eu-west-1.ünïcödé",
		"connector.copy.config",
		"connector.a.b.c.d.e.offsets",
		"offset.*.>",
		"x",
		strings.Repeat("long.", 100) + "end",
		"",
	}
	for i, k := range keys {
		if _, err := st.Create(ctx, k, fmt.Appendf(nil, "value %d", i)); err != nil {
			t.Fatalf("Create(%q): %v", k, err)
		}
	}
	for i, k := range keys {
		e, err := st.Get(ctx, k)
		if err != nil || !bytes.Equal(e.Value, fmt.Appendf(nil, "value %d", i)) {
			t.Errorf("Get(%q) = %q, %v", k, e.Value, err)
		}
	}
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{"stream.>", keys[:3]},
		{"stream.000000000000.us-east-1.>", keys[:2]},
		{"connector.>", keys[3:5]},
		{"nothing.>", nil},
		{">", keys},
	} {
		got, err := st.List(ctx, tc.filter)
		if err != nil {
			t.Fatalf("List(%q): %v", tc.filter, err)
		}
		var names []string
		for _, e := range got {
			names = append(names, e.Key)
		}
		slices.Sort(names)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("List(%q) = %q, want %q", tc.filter, names, want)
		}
	}
}

// TestMaxBytes: past Config.MaxBytes appends fail with ErrUnavailable
// (retriable), metadata writes still work, and deleting a log makes room
// again.
func TestMaxBytes(t *testing.T) {
	ctx := context.Background()
	st := openMemWith(t, Config{MaxBytes: 64 << 10})
	if err := st.CreateLog(ctx, "big", 0); err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("x"), 8<<10)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = st.AppendAsync("big", chunk).Wait(ctx)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("appends past MaxBytes: %v, want ErrUnavailable", err)
	}
	if _, err := st.Create(ctx, "meta.key", []byte("still writable")); err != nil {
		t.Errorf("metadata write at MaxBytes: %v", err)
	}
	if err := st.DeleteLog(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateLog(ctx, "small", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendAsync("small", chunk).Wait(ctx); err != nil {
		t.Errorf("append after deleting the full log: %v", err)
	}
}

// TestHeadroom: JetStream's own limit sits above MaxBytes by an eighth,
// and by at least 16 MiB.
func TestHeadroom(t *testing.T) {
	for _, tc := range []struct{ max, want int64 }{
		{1 << 20, 16 << 20},
		{128 << 20, 16 << 20},
		{1 << 30, 128 << 20},
	} {
		if got := headroom(tc.max); got != tc.want {
			t.Errorf("headroom(%d) = %d, want %d", tc.max, got, tc.want)
		}
	}
}

func TestParseDurability(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Durability
		err  bool
	}{
		{"sync", Sync, false},
		{"interval", Interval, false},
		{"", "", true},
		{"SYNC", "", true},
		{"always", "", true},
	} {
		got, err := ParseDurability(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseDurability(%q) = %q, %v", tc.in, got, err)
		}
	}
	if _, err := Open(context.Background(), Config{InMemory: true, Durability: "always"}); err == nil {
		t.Error("Open accepted an unknown durability")
	}
}

// TestFailedAppend: a Pending made from an error returns it.
func TestFailedAppend(t *testing.T) {
	want := errors.New("refused")
	if seq, err := FailedAppend(want).Wait(context.Background()); seq != 0 || !errors.Is(err, want) {
		t.Errorf("FailedAppend.Wait = %d, %v", seq, err)
	}
}

// TestWaitHonoursContext: Wait on an append gives up when its context
// ends.
func TestWaitHonoursContext(t *testing.T) {
	st := openMem(t)
	if err := st.CreateLog(context.Background(), "W", 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := st.AppendAsync("W", []byte("x"))
	// The acknowledgement may already be in; either answer is right, but
	// a cancelled context must not block.
	if _, err := p.Wait(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context = %v", err)
	}
}

// TestFileStoreReopens: a store on disk keeps logs and keys across a
// close and reopen, in both durabilities.
func TestFileStoreReopens(t *testing.T) {
	for _, d := range []Durability{Sync, Interval} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			cfg := Config{Dir: dir, Durability: d, SyncInterval: 10 * time.Millisecond}
			st, err := Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if st.Dir() == "" {
				t.Error("a store on disk reports no Dir")
			}
			if err := st.CreateLog(ctx, "D", 0); err != nil {
				t.Fatal(err)
			}
			appendAll(t, st, "D", "kept")
			if _, err := st.Create(ctx, "k", []byte("v")); err != nil {
				t.Fatal(err)
			}
			if err := st.Ping(ctx); err != nil {
				t.Errorf("Ping: %v", err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			st, err = Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			res, err := st.Read(ctx, "D", 1, 10, 1<<20)
			if err != nil || !slices.Equal(datas(res.Messages), []string{"kept"}) {
				t.Errorf("after reopening, the log reads %q, %v", datas(res.Messages), err)
			}
			if e, err := st.Get(ctx, "k"); err != nil || string(e.Value) != "v" {
				t.Errorf("after reopening, Get(k) = %q, %v", e.Value, err)
			}
		})
	}
}
