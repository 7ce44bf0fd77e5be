package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// nextChange waits (up to 10 s) for the next change a watch sends.
func nextChange(t *testing.T, ch <-chan Change) Change {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("the watch ended")
		}
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no change within 10s")
	}
	return Change{}
}

// TestWatch: a watch sends the changes after its starting revision, in
// order, values and deletions, hashed keys with their spelling; only
// keys under its filter; it goes on across a replaced connection
// without losing or repeating a change; Revision names the last change,
// a deletion included.
func TestWatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s := openMem(t)
	before, err := s.Create(ctx, "w.before", []byte("old"))
	if err != nil {
		t.Fatal(err)
	}
	if rev, err := s.Revision(ctx, "w.>"); err != nil || rev != before {
		t.Fatalf("Revision = %d, %v; want %d", rev, err, before)
	}
	if rev, err := s.Revision(ctx, "none.>"); err != nil || rev != 0 {
		t.Fatalf("Revision of no key = %d, %v; want 0", rev, err)
	}
	wctx, stop := context.WithCancel(ctx)
	ch, err := s.Watch(wctx, "w.>", before)
	if err != nil {
		t.Fatal(err)
	}
	long := "w." + strings.Repeat("é", 2000) // stored hashed (keys.go)
	r1, _ := s.Create(ctx, "w.a", []byte("1"))
	if _, err := s.Create(ctx, "other.a", []byte("x")); err != nil {
		t.Fatal(err)
	}
	r2, _ := s.Update(ctx, "w.a", []byte("2"), r1)
	r3, _ := s.Create(ctx, long, []byte("L"))
	if err := s.Delete(ctx, "w.a", r2); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		key, value string
		rev        uint64
		deleted    bool
	}{
		{"w.a", "1", r1, false}, {"w.a", "2", r2, false}, {long, "L", r3, false}, {"w.a", "", 0, true},
	}
	var last uint64
	for i, w := range want {
		c := nextChange(t, ch)
		if c.Key != w.key || string(c.Value) != w.value || c.Deleted != w.deleted || (w.rev != 0 && c.Revision != w.rev) {
			t.Fatalf("change %d: %q=%q rev %d deleted %v; want %q=%q rev %d deleted %v",
				i, c.Key, c.Value, c.Revision, c.Deleted, w.key, w.value, w.rev, w.deleted)
		}
		last = c.Revision
	}
	if rev, err := s.Revision(ctx, "w.>"); err != nil || rev != last {
		t.Fatalf("Revision after a deletion = %d, %v; want the deletion's %d", rev, err, last)
	}

	// The connection is replaced: the watch goes on after its last change.
	s.cur.Load().nc.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	r4, err := s.Create(ctx, "w.after", []byte("4"))
	if err != nil {
		t.Fatal(err)
	}
	if c := nextChange(t, ch); c.Key != "w.after" || c.Revision != r4 {
		t.Fatalf("after reconnecting: %+v, want w.after at %d", c, r4)
	}
	e, _ := s.Get(ctx, long)
	if err := s.Delete(ctx, long, e.Revision); err != nil {
		t.Fatal(err)
	}
	if c := nextChange(t, ch); !c.Deleted || c.Key != "" {
		t.Fatalf("deletion of a hashed key: %+v, want a deletion without a key", c)
	}
	stop()
	for range ch {
	}
}
