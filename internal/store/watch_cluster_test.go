package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestClusterWatch: a watch on one node sends the changes made through
// the others, and Revision on any node names the last of them.
func TestClusterWatch(t *testing.T) {
	ctx := t.Context()
	nodes := startCluster(t, clusterConfigs(t, 3, nil))
	ch, err := nodes[2].st.Watch(ctx, "w.>", 0)
	if err != nil {
		t.Fatal(err)
	}
	var revs []uint64
	for i, n := range nodes[:2] {
		rev, err := n.st.Create(ctx, "w."+n.cfg.Cluster.NodeName, []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, rev)
	}
	for _, n := range nodes {
		if rev, err := n.st.Revision(ctx, "w.>"); err != nil || rev != revs[1] {
			t.Fatalf("node %s: Revision = %d, %v; want %d", n.cfg.Cluster.NodeName, rev, err, revs[1])
		}
	}
	for i, want := range revs {
		select {
		case c := <-ch:
			if c.Revision != want || c.Key != "w."+nodes[i].cfg.Cluster.NodeName {
				t.Fatalf("change %d: %+v, want w.%s at %d", i, c, nodes[i].cfg.Cluster.NodeName, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("node 2 saw no change %d within 10s", i)
		}
	}
}

// TestClusterRefusedWriteIsReadable: when nodes race to create or
// update a key, every loser's refusal is followed by a read that finds
// the winner's write; racing to create it again once deleted, one wins
// and the others are told it exists. (The bucket's leader refuses a write that
// conflicts with one still in flight, which reads do not find yet.)
func TestClusterRefusedWriteIsReadable(t *testing.T) {
	ctx := t.Context()
	nodes := startCluster(t, clusterConfigs(t, 3, nil))
	for round := range 40 {
		key := fmt.Sprint("race.", round)
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(func() {
				st := n.st
				_, err := st.Create(ctx, key, []byte(n.cfg.Cluster.NodeName))
				if errors.Is(err, ErrExists) {
					_, err = st.Get(ctx, key)
				}
				if err != nil {
					t.Errorf("round %d, node %s: created elsewhere, then %v", round, n.cfg.Cluster.NodeName, err)
				}
			})
		}
		wg.Wait()
		e, err := nodes[0].st.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			wg.Go(func() {
				st := n.st
				_, err := st.Update(ctx, key, []byte(n.cfg.Cluster.NodeName), e.Revision)
				if errors.Is(err, ErrConflict) {
					var now Entry
					if now, err = st.Get(ctx, key); err == nil && now.Revision == e.Revision {
						err = fmt.Errorf("still at revision %d", e.Revision)
					}
				}
				if err != nil {
					t.Errorf("round %d, node %s: updated elsewhere, then %v", round, n.cfg.Cluster.NodeName, err)
				}
			})
		}
		wg.Wait()
		// Created again once deleted: one node wins, the others are
		// refused as for a key that exists.
		if e, err = nodes[0].st.Get(ctx, key); err != nil {
			t.Fatal(err)
		}
		if err := nodes[0].st.Delete(ctx, key, e.Revision); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		created := 0
		for _, n := range nodes {
			wg.Go(func() {
				_, err := n.st.Create(ctx, key, []byte(n.cfg.Cluster.NodeName))
				switch {
				case err == nil:
					mu.Lock()
					created++
					mu.Unlock()
				case !errors.Is(err, ErrExists):
					t.Errorf("round %d, node %s: creating the deleted key: %v, want success or ErrExists", round, n.cfg.Cluster.NodeName, err)
				}
			})
		}
		wg.Wait()
		if created != 1 {
			t.Errorf("round %d: %d nodes created the deleted key", round, created)
		}
	}
}
