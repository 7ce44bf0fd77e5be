package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/store/storetest"
)

// TestClusterWatch: a watch on one node sends the changes made through
// the others, and Revision on any node names the last of them.
func TestClusterWatch(t *testing.T) {
	ctx := t.Context()
	nodes := storetest.Cluster(t, 3)
	ch, err := nodes[2].Store().Watch(ctx, "w.>", 0)
	if err != nil {
		t.Fatal(err)
	}
	var revs []uint64
	for i, n := range nodes[:2] {
		rev, err := n.Store().Create(ctx, "w."+n.Name(), []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, rev)
	}
	for _, n := range nodes {
		if rev, err := n.Store().Revision(ctx, "w.>"); err != nil || rev != revs[1] {
			t.Fatalf("node %s: Revision = %d, %v; want %d", n.Name(), rev, err, revs[1])
		}
	}
	for i, want := range revs {
		select {
		case c := <-ch:
			if c.Revision != want || c.Key != "w."+nodes[i].Name() {
				t.Fatalf("change %d: %+v, want w.%s at %d", i, c, nodes[i].Name(), want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("node 2 saw no change %d within 10s", i)
		}
	}
}

// TestClusterRefusedWriteIsReadable: when nodes race to create or
// update a key, every loser's refusal is followed by a read that finds
// the winner's write. (The bucket's leader refuses a write that
// conflicts with one still in flight, which reads do not find yet.)
func TestClusterRefusedWriteIsReadable(t *testing.T) {
	ctx := t.Context()
	nodes := storetest.Cluster(t, 3)
	for round := range 40 {
		key := fmt.Sprint("race.", round)
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(func() {
				st := n.Store()
				_, err := st.Create(ctx, key, []byte(n.Name()))
				if errors.Is(err, store.ErrExists) {
					_, err = st.Get(ctx, key)
				}
				if err != nil {
					t.Errorf("round %d, node %s: created elsewhere, then %v", round, n.Name(), err)
				}
			})
		}
		wg.Wait()
		e, err := nodes[0].Store().Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			wg.Go(func() {
				st := n.Store()
				_, err := st.Update(ctx, key, []byte(n.Name()), e.Revision)
				if errors.Is(err, store.ErrConflict) {
					var now store.Entry
					if now, err = st.Get(ctx, key); err == nil && now.Revision == e.Revision {
						err = fmt.Errorf("still at revision %d", e.Revision)
					}
				}
				if err != nil {
					t.Errorf("round %d, node %s: updated elsewhere, then %v", round, n.Name(), err)
				}
			})
		}
		wg.Wait()
	}
}
