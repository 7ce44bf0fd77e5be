package streams

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/storage"
	"github.com/tributary-data/tributary/internal/store/storetest"
)

// The catalog on several nodes: engines on the stores of an in-process
// JetStream cluster (storetest), each with its own copy of the catalog,
// sharing one metadata bucket.

// clusterNode is one node: its store and the engine on it.
type clusterNode struct {
	*storetest.Node
	mu sync.Mutex
	e  *Engine
}

func (n *clusterNode) engine() *Engine {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.e
}

// kill stops the node as near to a crash as an in-process test can: its
// store is closed under the engine (Close cannot skip JetStream's
// handing over of leaderships, but nothing of the engine's is finished
// or written), then the engine's background work ends.
func (n *clusterNode) kill() {
	n.Stop()
	n.mu.Lock()
	e := n.e
	n.e = nil
	n.mu.Unlock()
	if e != nil {
		e.Close()
	}
}

// restart reopens a killed node's store and an engine on it.
func (n *clusterNode) restart(t *testing.T, cfg Config) {
	t.Helper()
	n.Restart(t)
	e, err := Open(t.Context(), n.Store(), cfg)
	if err != nil {
		t.Fatalf("node %s: %v", n.Name(), err)
	}
	n.mu.Lock()
	n.e = e
	n.mu.Unlock()
}

// startEngines starts a cluster of n nodes with an engine on each; the
// engines close before the stores when the test ends.
func startEngines(t *testing.T, n int, cfg Config) []*clusterNode {
	t.Helper()
	var out []*clusterNode
	for _, sn := range storetest.Cluster(t, n) {
		out = append(out, &clusterNode{Node: sn})
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, cn := range out {
		// At once: they race to make the keys kept in the bucket.
		wg.Go(func() { cn.e, errs[i] = Open(t.Context(), cn.Store(), cfg) })
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, cn := range out {
			if e := cn.engine(); e != nil {
				e.Close()
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

// eventually waits, bounded, for what a node learns through its watch.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	storetest.Eventually(t, what, f)
}

// TestClusterCatalogAcrossNodes: a node answers for a stream another
// node has just made, before its watch has brought it; every change
// made on one node (settings, encryption, a reshard, consumers, a
// deletion) reaches the others' catalogs by itself; Sync brings a
// node's catalog up to every acknowledged change at once; records
// sealed on one node open on another (one master key).
func TestClusterCatalogAcrossNodes(t *testing.T) {
	ctx := t.Context()
	nodes := startEngines(t, 3, Config{})
	a, b, c := nodes[0].engine(), nodes[1].engine(), nodes[2].engine()

	t.Run("a stream not seen yet", func(t *testing.T) {
		ref := mustCreate(t, a, "unseen", 1)
		if _, err := b.Lookup(ref); err != nil {
			t.Fatalf("node 1 does not find the stream just made through node 0: %v", err)
		}
		mustPut(t, c, ref, "k")
	})

	t.Run("changes reach every node", func(t *testing.T) {
		ref := mustCreate(t, a, "changed", 1)
		if err := a.SetRetention(ctx, ref, 48, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Update(ctx, ref, func(m *Meta) error {
			m.Tags = map[string]string{"team": "x"}
			m.KeyID = "alias/k"
			m.Mode = ModeOnDemand
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := a.Split(ctx, ref, shard.ID(0), halfKey); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.RegisterConsumer(ctx, ref, "reader", nil, 20); err != nil {
			t.Fatal(err)
		}
		// On a cluster a reshard is recorded as pending and then
		// completed, even with no update delay (reshard.go).
		eventually(t, "the split completes", func() error {
			if m := lookupOK(t, a, ref).Meta; m.Reshard != nil || len(m.Shards) != 3 {
				return fmt.Errorf("%d shards, pending %v", len(m.Shards), m.Reshard)
			}
			return nil
		})
		want := describe(lookupOK(t, a, ref).Meta)
		for _, n := range []*Engine{b, c} {
			// The node's own copy, never read from the bucket here.
			eventually(t, "the changes reach another node's catalog", func() error {
				s, ok := n.cat.get(ref.Key())
				if !ok {
					return errors.New("no stream")
				}
				if got := describe(s.Meta); got != want {
					return fmt.Errorf("has\n%s\nwant\n%s", got, want)
				}
				return nil
			})
		}
	})

	t.Run("sealed on one node, opened on another", func(t *testing.T) {
		ref := named("changed")
		res := mustPut(t, a, ref, "secret")
		idx := res[0].Shard
		batch := readAll(t, c, ref, idx)
		if len(batch.Records) != 1 || string(batch.Records[0].Data) != "data-secret" || batch.Records[0].Seq != res[0].Seq {
			t.Fatalf("node 2 reads %+v from the shard node 0 wrote %s to", batch.Records, res[0].Seq)
		}
	})

	t.Run("consumers", func(t *testing.T) {
		ref := mustCreate(t, a, "consumed", 1)
		if _, _, err := a.RegisterConsumer(ctx, ref, "c1", nil, 20); err != nil {
			t.Fatal(err)
		}
		s, err := b.Fresh(ctx, ref)
		if err != nil || s.Meta.FindConsumer("c1", time.Now()) == nil {
			t.Fatalf("node 1 reading afresh does not find the consumer registered through node 0: %v", err)
		}
		if _, _, err := c.RegisterConsumer(ctx, ref, "c1", nil, 20); !errors.Is(err, ErrConsumerExists) {
			t.Fatalf("registering the consumer again through node 2: %v, want ErrConsumerExists", err)
		}
		created := s.Meta.FindConsumer("c1", time.Now()).Created
		if err := c.DeregisterConsumer(ctx, ref, "c1", created); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the deregistration reaches node 0", func() error {
			s, _ := a.cat.get(ref.Key())
			if c := s.Meta.FindConsumer("c1", time.Now()); c != nil {
				return fmt.Errorf("consumer %s", c.Status)
			}
			return nil
		})
	})

	t.Run("list and deletion", func(t *testing.T) {
		ref := mustCreate(t, b, "listed", 1)
		if err := c.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(c.List(scope.Account, scope.Region), func(m *Meta) bool { return m.Name == "listed" }) {
			t.Fatal("node 2's list after Sync lacks the stream made through node 1")
		}
		m := lookupOK(t, c, ref).Meta
		if err := a.Delete(ctx, ref); err != nil {
			t.Fatal(err)
		}
		for _, n := range []*Engine{b, c} {
			eventually(t, "the deletion reaches another node", func() error {
				if _, ok := n.cat.get(ref.Key()); ok {
					return errors.New("the stream is still in the catalog")
				}
				if !n.Gone(m) {
					return errors.New("not gone")
				}
				return nil
			})
		}
		if _, err := b.Lookup(ref); !errors.Is(err, ErrStreamNotFound) {
			t.Fatalf("node 1 looks up the deleted stream: %v", err)
		}
	})
}

func lookupOK(t *testing.T, e *Engine, ref Ref) *Stream {
	t.Helper()
	s, err := e.Lookup(ref)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// describe renders what a node reports of a stream, for comparing nodes.
func describe(m *Meta) string {
	var b strings.Builder
	now := time.Now()
	fmt.Fprintf(&b, "%s uid %s %s retention %d mode %s key %q tags %v\n", m.Name, m.UID, m.EffectiveStatus(now),
		m.RetentionHours, m.Mode, m.KeyID, m.Tags)
	for _, sh := range m.Shards {
		fmt.Fprintf(&b, "  shard %d [%s, %s] parents %q %q end %q\n", sh.Index, sh.Start, sh.End, sh.Parent, sh.AdjacentParent, sh.EndingSeq)
	}
	if m.Reshard != nil {
		fmt.Fprintf(&b, "  pending %+v\n", *m.Reshard)
	}
	for _, c := range m.Consumers {
		fmt.Fprintf(&b, "  consumer %s %s %d\n", c.Name, c.StatusAt(now), c.Created.Unix())
	}
	return b.String()
}

// catalogOf renders a node's whole catalog after Sync.
func catalogOf(ctx context.Context, e *Engine) (string, error) {
	if err := e.Sync(ctx); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, m := range e.List(scope.Account, scope.Region) {
		b.WriteString(describe(m))
	}
	return b.String(), nil
}

// refusal reports whether err is one of the engine's answers to a
// request that lost a race or does not apply any more, which the
// concurrent workload expects; anything else is a failure of the store
// (an election after a node's death) or a bug.
func refusal(err error) bool {
	for _, want := range []error{ErrStreamExists, ErrStreamNotFound, ErrLimitExceeded, ErrInUse, ErrBusy, ErrNotActive,
		ErrShardClosed, ErrShardNotFound, ErrConsumerExists, ErrConsumerNotFound,
		ErrInvalidArgument, // a merge of shards another node's reshard has made non-adjacent
	} {
		if errors.Is(err, want) {
			return true
		}
	}
	return false
}

const quarterKey = "85070591730234615865843651857942052864" // 2^126

// TestClusterConcurrentCatalogChanges is acceptance 3 of issue 12:
// streams created and deleted, resharded (split, merge, UpdateShardCount)
// and consumers registered through three nodes at once, on the same
// streams and names, leave one catalog that every node reports alike;
// the shard quota holds across the nodes; every shard map covers the
// hash key space exactly, and every log it names exists. The second
// case kills a node (its store closed under its engine) in the middle
// and brings it back at the end.
func TestClusterConcurrentCatalogChanges(t *testing.T) {
	for _, tc := range []struct {
		name string
		kill bool
	}{
		{"all nodes up", false},
		{"a node killed midway", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{ShardLimit: 16}
			nodes := startEngines(t, 3, cfg)
			ctx := t.Context()
			killed := make(chan struct{})
			var (
				mu       sync.Mutex
				created  = map[string]int{}
				consumed = map[string]int{}
			)
			var wg sync.WaitGroup
			for i, n := range nodes {
				victim := tc.kill && i == 2
				wg.Go(func() {
					e := n.engine()
					do := func(what string, op func() error) bool {
						deadline := time.Now().Add(20 * time.Second)
						for {
							err := op()
							if err == nil {
								return true
							}
							if refusal(err) {
								return false
							}
							select {
							case <-killed:
								if victim {
									return false // its store is closed
								}
							default:
							}
							if time.Now().After(deadline) {
								t.Errorf("node %s: %s: %v", n.Name(), what, err)
								return false
							}
							time.Sleep(100 * time.Millisecond)
						}
					}
					for round := range 6 {
						if victim && round == 2 {
							n.kill()
							close(killed)
							return
						}
						shared := named(fmt.Sprint("s", round))
						if do("create "+shared.Name, func() error {
							return e.Create(ctx, CreateSpec{Ref: shared, Shards: 2})
						}) {
							mu.Lock()
							created[shared.Name]++
							mu.Unlock()
						}
						own := named(fmt.Sprintf("own-%d-%d", i, round))
						do("create "+own.Name, func() error { return e.Create(ctx, CreateSpec{Ref: own, Shards: 3}) })
						prev := named(fmt.Sprint("s", max(round-1, 0)))
						do("split", func() error { return e.Split(ctx, prev, shard.ID(0), quarterKey) })
						do("merge", func() error { return e.Merge(ctx, prev, shard.ID(2), shard.ID(3)) })
						do("update shard count", func() error {
							_, err := e.UpdateShardCount(ctx, shared, 1+i)
							return err
						})
						for _, name := range []string{"c0", "c1"} {
							if do("register "+name, func() error {
								_, _, err := e.RegisterConsumer(ctx, prev, name, nil, 20)
								return err
							}) {
								mu.Lock()
								consumed[prev.Name+"/"+name]++
								mu.Unlock()
							}
						}
						if round%2 == 1 {
							do("delete", func() error { return e.Delete(ctx, named(fmt.Sprintf("own-%d-%d", (i+1)%3, round-1))) })
						}
					}
				})
			}
			if tc.kill {
				// The kill happens while the others work.
				select {
				case <-killed:
				case <-time.After(60 * time.Second):
					t.Fatal("node 2 did not get to its kill")
				}
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			for name, n := range created {
				if n > 1 {
					t.Errorf("stream %s created %d times", name, n)
				}
			}
			for name, n := range consumed {
				if n > 1 {
					t.Errorf("consumer %s registered %d times", name, n)
				}
			}
			live := nodes
			if tc.kill {
				live = nodes[:2]
			}
			want := sameCatalog(t, live)
			checkCatalog(t, live[0], cfg.ShardLimit)
			if tc.kill {
				nodes[2].restart(t, cfg)
				if got := sameCatalog(t, nodes); got != want {
					t.Fatalf("after the restart the catalog is\n%s\nwas\n%s", got, want)
				}
			}
		})
	}
}

// sameCatalog waits (bounded) until every node reports the same catalog
// with no reshard pending, and returns it. (On a cluster a reshard is
// recorded as pending and completed just after, even with no update
// delay: reshard.go.)
func sameCatalog(t *testing.T, nodes []*clusterNode) string {
	t.Helper()
	var cat string
	eventually(t, "every node reports the same catalog", func() error {
		var first string
		for i, n := range nodes {
			got, err := catalogOf(t.Context(), n.engine())
			if err != nil {
				return err
			}
			if i == 0 {
				first = got
				for _, m := range n.engine().List(scope.Account, scope.Region) {
					if m.Reshard != nil {
						return fmt.Errorf("%s: a reshard is pending", m.Name)
					}
				}
			} else if got != first {
				return fmt.Errorf("node %s reports\n%s\nnode %s\n%s", n.Name(), got, nodes[0].Name(), first)
			}
		}
		cat = first
		return nil
	})
	return cat
}

// checkCatalog checks what must hold of any catalog: the scope's open
// shards within the quota, no reshard left pending (there is no update
// delay), consumers named once, each stream's open shards covering the
// hash key space without gap or overlap, and every log named existing.
func checkCatalog(t *testing.T, n *clusterNode, limit int) {
	t.Helper()
	ctx := t.Context()
	e := n.engine()
	open := 0
	for _, m := range e.List(scope.Account, scope.Region) {
		open += m.OpenShardsAfterUpdate()
		if m.Reshard != nil {
			t.Errorf("%s: a reshard left pending: %+v", m.Name, *m.Reshard)
		}
		names := map[string]bool{}
		for _, c := range m.Consumers {
			if !c.Gone(time.Now()) && names[c.Name] {
				t.Errorf("%s: consumer %s twice", m.Name, c.Name)
			}
			names[c.Name] = true
		}
		r, err := newRouting(m)
		if err != nil {
			t.Fatal(err)
		}
		var next shard.HashKey
		for i, rg := range r.ranges {
			if rg.Start != next {
				t.Errorf("%s: open shard %d starts at %s, want %s", m.Name, r.indexes[i], rg.Start, next)
			}
			next = rg.End.Add1()
		}
		if n := len(r.ranges); n == 0 || r.ranges[n-1].End != shard.MaxHashKey {
			t.Errorf("%s: open shards do not reach the last hash key", m.Name)
		}
		for _, log := range m.LogNames() {
			if _, err := n.Store().State(ctx, log); errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s: log %s is missing", m.Name, log)
			} else if err != nil {
				t.Fatal(err)
			}
		}
	}
	if open > limit {
		t.Errorf("%d open shards, over the quota of %d", open, limit)
	}
}

// TestClusterFinishesADeadNodesWork: a reshard and a deletion accepted by
// a node that dies before they are due are finished by the others.
func TestClusterFinishesADeadNodesWork(t *testing.T) {
	ctx := t.Context()
	cfg := Config{UpdateDelay: 2 * time.Second, DeleteDelay: 2 * time.Second}
	nodes := startEngines(t, 3, cfg)
	a := nodes[0].engine()
	split := mustCreate(t, a, "split", 1)
	gone := mustCreate(t, a, "gone", 1)
	goneLog := lookupOK(t, a, gone).Meta.LogName(0)
	if err := a.Split(ctx, split, shard.ID(0), halfKey); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	nodes[0].kill()
	for _, n := range nodes[1:] {
		e := n.engine()
		eventually(t, "the split is completed", func() error {
			if err := e.Sync(ctx); err != nil {
				return err
			}
			s, err := e.Lookup(split)
			if err != nil {
				return err
			}
			if st := s.Meta.EffectiveStatus(time.Now()); st != StatusActive || len(s.Meta.Shards) != 3 {
				return fmt.Errorf("%s with %d shards", st, len(s.Meta.Shards))
			}
			return nil
		})
		eventually(t, "the deletion is finished", func() error {
			if err := e.Sync(ctx); err != nil {
				return err
			}
			if e.Exists(gone) {
				return errors.New("the stream's metadata is still there")
			}
			if _, err := n.Store().State(ctx, goneLog); !errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("its log: %v", err)
			}
			return nil
		})
	}
}
