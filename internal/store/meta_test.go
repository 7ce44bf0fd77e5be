package store

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestListAndGetSkipDeletedKeys checks that a deleted key, whose delete
// marker the bucket's index still counts, reads as not found and is left
// out of List, and is not mistaken for a damaged one.
func TestListAndGetSkipDeletedKeys(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, k := range []string{"a.one", "a.two", "a.three", "b.one"} {
		if _, err := s.Create(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	e, err := s.Get(ctx, "a.two")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "a.two", []byte("2"), e.Revision); err != nil {
		t.Fatal(err)
	}
	e, err = s.Get(ctx, "a.three")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a.three", e.Revision); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a.three", "never.written"} {
		if _, err := s.Get(ctx, k); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%s) = %v, want ErrNotFound", k, err)
		}
	}
	got, err := s.List(ctx, "a.>")
	if err != nil {
		t.Fatal(err)
	}
	var keys, values []string
	for _, e := range got {
		keys, values = append(keys, e.Key), append(values, string(e.Value))
		if cur, err := s.Get(ctx, e.Key); err != nil || cur.Revision != e.Revision {
			t.Errorf("List's revision of %s is %d, Get's %d (%v)", e.Key, e.Revision, cur.Revision, err)
		}
	}
	if want := []string{"a.one", "a.two"}; !slices.Equal(keys, want) {
		t.Errorf("List(a.>) keys = %q, want %q", keys, want)
	}
	if want := []string{"a.one", "2"}; !slices.Equal(values, want) {
		t.Errorf("List(a.>) values = %q, want %q", values, want)
	}
}
