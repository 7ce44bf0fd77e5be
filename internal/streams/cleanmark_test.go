package streams

import (
	"errors"
	"testing"

	"github.com/tributary-data/tributary/internal/storage"
	"github.com/tributary-data/tributary/internal/store"
)

// TestCleanMarkPerNode: nodes sharing one metadata bucket each record
// their own clean stop, so one node's clean stop does not let another,
// which crashed, skip its new epoch; a node alone keeps the key it
// always had; with remote logs no mark is read or written.
func TestCleanMarkPerNode(t *testing.T) {
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
		{"node a, first start", Config{Node: "a"}, false, cleanKey + ".a"},
		{"node b, a stopped cleanly", Config{Node: "b"}, false, cleanKey + ".b"},
		{"node a, after its clean stop", Config{Node: "a"}, true, cleanKey + ".a"},
		{"remote logs", Config{Node: "c", LogsOutliveCrash: true}, true, ""},
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
	if marked(cleanKey + ".c") {
		t.Error("an engine over remote logs wrote a clean-shutdown mark")
	}
}
