package store_test

import (
	"testing"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/store/storetest"
)

// BenchmarkTipRead measures what reading at the tip of a log costs on a
// follower's node, where the store checks the leader's last sequence
// (follower.go), against a node alone and against the follower's
// unchecked direct get. Reads not at the tip pay no check. Run it with
//
//	go test -run '^$' -bench TipRead ./internal/store
func BenchmarkTipRead(b *testing.B) {
	ctx := b.Context()
	alone, err := store.Open(ctx, store.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer alone.Close()
	nodes := storetest.Cluster(b, 3)
	for _, st := range []*store.Store{alone, nodes[0].Store()} {
		if err := st.CreateLog(ctx, "L", 0); err != nil {
			b.Fatal(err)
		}
		if _, err := st.Create(ctx, "k", []byte("v")); err != nil {
			b.Fatal(err)
		}
		for range 100 {
			if _, err := st.AppendAsync("L", make([]byte, 1000)).Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The reading node is not the log's leader's.
	leader := streamInfo(b, nodes[0].Store(), "L").Cluster.Leader
	follower := nodes[0].Store()
	for _, n := range nodes {
		if n.Name() != leader {
			follower = n.Store()
		}
	}
	for _, bc := range []struct {
		name string
		read func() error
	}{
		{"alone/Read at tip", func() error { _, err := alone.Read(ctx, "L", 100, 10, 1<<20); return err }},
		{"alone/Read mid-log", func() error { _, err := alone.Read(ctx, "L", 50, 10, 1<<20); return err }},
		{"alone/Get", func() error { _, err := alone.Get(ctx, "k"); return err }},
		{"cluster/unchecked direct get at tip", func() error {
			_, err := follower.ReplicaGet(ctx, "L", 100, 10, 1<<20)
			return err
		}},
		{"cluster/Read at tip", func() error { _, err := follower.Read(ctx, "L", 100, 10, 1<<20); return err }},
		{"cluster/Read mid-log", func() error { _, err := follower.Read(ctx, "L", 50, 10, 1<<20); return err }},
		{"cluster/Get", func() error { _, err := follower.Get(ctx, "k"); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := bc.read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
