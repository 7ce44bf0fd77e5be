package streams

import (
	"context"
	"testing"

	"github.com/tributary-data/tributary/internal/store"
)

// newTestEngine opens an engine over a fresh in-memory store, closed
// when the test ends.
func newTestEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(ctx, st, cfg)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Close()
		st.Close()
	})
	return e
}
