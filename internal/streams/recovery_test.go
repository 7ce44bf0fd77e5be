package streams

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/storage"
)

// recorder is an Observer that remembers what it heard.
type recorder struct {
	mu        sync.Mutex
	recreated []int
	removed   []string
	stored    int
}

func (r *recorder) LogRecreated(_ *Meta, shard int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recreated = append(r.recreated, shard)
}
func (r *recorder) MessagesLost(*Meta, int, uint64) {}
func (r *recorder) StreamRemoved(m *Meta) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = append(r.removed, m.Name)
}
func (r *recorder) Stored(_ *Meta, _, records, _ int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stored += records
}

// TestRecovery reopens an engine over a store with a stream's log lost
// and logs that no stream names: the lost log is re-created numbering
// above every number it issued, an empty orphan is removed, and one
// holding records is kept.
//
// Under layout B the log lost is a stripe, which holds both shards: both
// are re-created.
func TestRecovery(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stripe int
	}{{"layout A", LayoutA}, {"layout B", DefaultStripeShards}} {
		t.Run(tc.name, func(t *testing.T) { testRecovery(t, tc.stripe) })
	}
}

func testRecovery(t *testing.T, stripe int) {
	ctx := context.Background()
	rec := &recorder{}
	e1 := newTestEngine(t, Config{Observer: rec, StripeShards: stripe})
	ref := mustCreate(t, e1, "s", 2)
	before := mustPut(t, e1, ref, "a")[0]
	if rec.stored != 1 {
		t.Fatalf("observer heard of %d records stored, want 1", rec.stored)
	}
	st := e1.Store()
	s, _ := e1.Lookup(ref)
	lost, wantRecreated := s.Meta.LogName(before.Shard), []int{before.Shard}
	if stripe != LayoutA {
		lost, wantRecreated = s.Meta.StoreNames()[0], []int{0, 1}
	}
	if err := st.DeleteLog(ctx, lost); err != nil {
		t.Fatal(err)
	}
	for _, orphan := range []string{"KS_feedfacefeedface_0", "KS_feedfacefeedface_1"} {
		if err := st.CreateLog(ctx, orphan, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.AppendAsync("KS_feedfacefeedface_1", []byte("unnamed")).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	e1.Close()

	e2, err := Open(ctx, st, Config{Observer: rec, StripeShards: stripe})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if !slices.Equal(rec.recreated, wantRecreated) {
		t.Fatalf("logs re-created: %v, want shards %v", rec.recreated, wantRecreated)
	}
	for _, tc := range []struct {
		log  string
		want error
	}{{"KS_feedfacefeedface_0", storage.ErrNotFound}, {"KS_feedfacefeedface_1", nil}} {
		if _, err := st.State(ctx, tc.log); !errors.Is(err, tc.want) {
			t.Errorf("orphan %s: %v, want %v", tc.log, err, tc.want)
		}
	}
	after := mustPut(t, e2, ref, "a")[0]
	b, _ := ParseSequence(before.Seq, false)
	a, _ := ParseSequence(after.Seq, false)
	if a.ShardIndex != b.ShardIndex || a.Index <= b.Index {
		t.Fatalf("number after the loss %s is not above %s", after.Seq, before.Seq)
	}
	if err := e2.Delete(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if len(rec.removed) != 1 || rec.removed[0] != "s" {
		t.Fatalf("streams removed: %v", rec.removed)
	}
}
