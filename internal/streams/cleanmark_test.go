package streams

import (
	"errors"
	"testing"

	"github.com/tributary-data/tributary/internal/storage"
	"github.com/tributary-data/tributary/internal/store"
)

// TestCleanMark: a process alone records its clean stop, and takes the
// mark away while it runs, so that a crash counts as one; where the logs
// outlive its crash (a cluster, an external NATS) no mark is read or
// written, and every start counts as clean.
func TestCleanMark(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, store.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	open := func(cfg Config) *Engine {
		t.Helper()
		e, err := Open(ctx, st, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	marked := func(key string) bool {
		t.Helper()
		_, err := st.Get(ctx, key)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	for _, step := range []struct {
		name      string
		cfg       Config
		wantClean bool   // the previous run of this node stopped cleanly
		wantMark  string // the key the clean stop writes, "" for none
	}{
		{"alone, first start", Config{}, false, cleanKey},
		{"alone, after a clean stop", Config{}, true, cleanKey},
		{"logs outlive a crash", Config{LogsOutliveCrash: true}, true, ""},
	} {
		e := open(step.cfg)
		if e.cleanStart != step.wantClean {
			t.Errorf("%s: cleanStart = %v, want %v", step.name, e.cleanStart, step.wantClean)
		}
		if step.wantMark != "" && marked(step.wantMark) {
			t.Errorf("%s: mark %s still there while running: a crash now would count as a clean stop", step.name, step.wantMark)
		}
		e.Close()
		if step.wantMark != "" && !marked(step.wantMark) {
			t.Errorf("%s: no mark %s after a clean stop", step.name, step.wantMark)
		}
	}
	// The mark the last engine alone left is untouched.
	if !marked(cleanKey) {
		t.Error("an engine whose logs outlive its crash took the mark away")
	}
}
