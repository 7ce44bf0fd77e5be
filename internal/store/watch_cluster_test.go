package store_test

import (
	"testing"
	"time"

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
