package store_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/store/storetest"
)

// streamInfo is JetStream's view of a log or of the metadata bucket.
func streamInfo(t testing.TB, st *store.Store, name string) *jetstream.StreamInfo {
	t.Helper()
	info, err := st.StreamInfo(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestClusterReadsEveryAckedWrite: three nodes form a cluster; a log and
// the metadata bucket have three replicas; whatever is acknowledged
// through one node is read through each of the others right after the
// acknowledgement, by every read the store offers.
func TestClusterReadsEveryAckedWrite(t *testing.T) {
	ctx := t.Context()
	nodes := storetest.Cluster(t, 3)
	for i, n := range nodes {
		if n.Store().Replicas() != store.ClusteredReplicas {
			t.Fatalf("node %d: Replicas() = %d, want %d", i, n.Store().Replicas(), store.ClusteredReplicas)
		}
	}
	if err := nodes[0].Store().CreateLog(ctx, "L", 0); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"L", store.MetaStream} {
		info := streamInfo(t, nodes[1].Store(), name)
		if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			t.Fatalf("%s: replicas %d, cluster %+v; want 3 replicas", name, info.Config.Replicas, info.Cluster)
		}
	}
	// The data directory is laid out as a node alone lays it out.
	for _, n := range nodes {
		if n.Store().Dir() != n.Config.Dir {
			t.Fatalf("Dir() = %q, want %q", n.Store().Dir(), n.Config.Dir)
		}
		if _, err := os.Stat(filepath.Join(n.Store().MetaDir(), "meta.inf")); err != nil {
			t.Fatalf("node %s: %v", n.Name(), err)
		}
	}
	if streamInfo(t, nodes[2].Store(), store.MetaStream).Config.AllowDirect {
		t.Fatal("the metadata bucket allows direct gets: followers could answer metadata reads with stale values")
	}

	// JetStream's followers start answering direct gets a few seconds
	// after a log is made; until then the leader answers them all, and
	// what follows could not fail. Wait for a follower to answer one
	// without the write just acknowledged.
	storetest.Eventually(t, "a follower answers a direct get without the last acknowledged write", func() error {
		for i := range 20 {
			seq, err := nodes[i%3].Store().AppendAsync("L", []byte("warm-up")).Wait(ctx)
			if err != nil {
				return err
			}
			for _, n := range nodes {
				res, err := n.Store().ReplicaGet(ctx, "L", seq, 1, 1<<20)
				if err == nil && len(res.Messages) == 0 {
					return nil
				}
			}
		}
		return errors.New("every direct get found the last write")
	})

	reads := []struct {
		name string
		read func(st *store.Store, seq uint64, at time.Time) (bool, error)
	}{
		{"Read", func(st *store.Store, seq uint64, _ time.Time) (bool, error) {
			r, err := st.Read(ctx, "L", seq, 10, 1<<20)
			return len(r.Messages) == 1 && r.Messages[0].Seq == seq && r.Pending == 0, err
		}},
		{"Read from an earlier position", func(st *store.Store, seq uint64, _ time.Time) (bool, error) {
			r, err := st.Read(ctx, "L", 1, 1000, 1<<20)
			n := len(r.Messages)
			return n > 0 && r.Messages[n-1].Seq == seq && r.Pending == 0, err
		}},
		{"ReadFromTime", func(st *store.Store, seq uint64, at time.Time) (bool, error) {
			r, err := st.ReadFromTime(ctx, "L", at, 10, 1<<20)
			n := len(r.Messages)
			return n > 0 && r.Messages[n-1].Seq == seq, err
		}},
		{"HasMessage", func(st *store.Store, seq uint64, _ time.Time) (bool, error) {
			return st.HasMessage(ctx, "L", seq)
		}},
		{"LastMessage", func(st *store.Store, seq uint64, _ time.Time) (bool, error) {
			last, err := st.LastMessage(ctx, "L")
			return last == seq, err
		}},
		{"State", func(st *store.Store, seq uint64, _ time.Time) (bool, error) {
			s, err := st.State(ctx, "L")
			return s.LastSeq == seq, err
		}},
	}
	const rounds = 30
	var stale, total int
	for _, rd := range reads {
		t.Run(rd.name, func(t *testing.T) {
			for round := range rounds {
				w := round % 3
				at := time.Now().Add(-time.Millisecond)
				seq, err := nodes[w].Store().AppendAsync("L", []byte(fmt.Sprint(rd.name, round))).Wait(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for r := range nodes {
					if r == w {
						continue
					}
					if rd.name == "Read" {
						// The replica's own answer, to report how often
						// followers lag.
						res, err := nodes[r].Store().ReplicaGet(ctx, "L", seq, 1, 1<<20)
						total++
						if err == nil && len(res.Messages) == 0 {
							stale++
						}
					}
					ok, err := rd.read(nodes[r].Store(), seq, at)
					if err != nil || !ok {
						t.Fatalf("round %d: written through node %d as %d, node %d's %s misses it (err %v)",
							round, w, seq, r, rd.name, err)
					}
				}
			}
		})
	}
	t.Logf("a direct get on the reader's own replica missed the write just acknowledged in %d of %d reads", stale, total)

	t.Run("metadata", func(t *testing.T) {
		for round := range rounds {
			w := round % 3
			key := "k." + strconv.Itoa(round)
			rev, err := nodes[w].Store().Create(ctx, key, []byte("v"))
			if err != nil {
				t.Fatal(err)
			}
			for r := range nodes {
				if r == w {
					continue
				}
				e, err := nodes[r].Store().Get(ctx, key)
				if err != nil || e.Revision != rev {
					t.Fatalf("round %d: key written through node %d at revision %d, node %d reads %+v, %v", round, w, rev, r, e, err)
				}
				l, err := nodes[r].Store().List(ctx, "k.>")
				if err != nil || len(l) != round+1 {
					t.Fatalf("round %d: node %d lists %d keys (%v), want %d", round, r, len(l), err, round+1)
				}
			}
		}
	})
}

// TestClusterSurvivesANode: with one of three nodes stopped, writes and
// reads go on through the other two once the logs and the metadata
// bucket have leaders among them; the node, reopened on its data
// directory, catches up and serves everything written while it was away.
func TestClusterSurvivesANode(t *testing.T) {
	ctx := t.Context()
	nodes := storetest.Cluster(t, 3)
	if err := nodes[0].Store().CreateLog(ctx, "L", 0); err != nil {
		t.Fatal(err)
	}
	var acked []uint64
	appendVia := func(n *storetest.Node) error {
		seq, err := n.Store().AppendAsync("L", []byte("x")).Wait(ctx)
		if err == nil {
			acked = append(acked, seq)
		}
		return err
	}
	for _, n := range nodes {
		if err := appendVia(n); err != nil {
			t.Fatal(err)
		}
	}
	// Stop the log's leader's node: the worst case for it.
	leader := streamInfo(t, nodes[0].Store(), "L").Cluster.Leader
	down := 0
	for i, n := range nodes {
		if n.Name() == leader {
			down = i
		}
	}
	nodes[down].Stop()
	up := []*storetest.Node{nodes[(down+1)%3], nodes[(down+2)%3]}

	for i, n := range up {
		storetest.Eventually(t, fmt.Sprintf("append through node %s", n.Name()), func() error { return appendVia(n) })
		other := up[1-i]
		storetest.Eventually(t, "metadata write", func() error {
			_, err := n.Store().Create(ctx, "key."+n.Name(), []byte("v"))
			return err
		})
		storetest.Eventually(t, "metadata read", func() error {
			_, err := other.Store().Get(ctx, "key."+n.Name())
			return err
		})
		checkLog(t, other.Store(), acked)
	}

	t.Run("rejoin", func(t *testing.T) {
		nodes[down].Restart(t)
		st := nodes[down].Store()
		checkLog(t, st, acked)
		// Its own replica catches up: a direct get it answers itself
		// finds the last write.
		last := acked[len(acked)-1]
		storetest.Eventually(t, "rejoined replica catches up", func() error {
			res, err := st.ReplicaGet(ctx, "L", last, 1, 1<<20)
			if err != nil || len(res.Messages) != 1 {
				return fmt.Errorf("replica has not got %d: %v", last, err)
			}
			return nil
		})
		if err := appendVia(nodes[down]); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			checkLog(t, n.Store(), acked)
		}
	})
}

// checkLog reads the whole log through st: every acknowledged sequence
// must be there, in order. A write that timed out during an election
// was not acknowledged and may or may not be there.
func checkLog(t *testing.T, st *store.Store, acked []uint64) {
	t.Helper()
	var got []uint64
	storetest.Eventually(t, "read the log", func() error {
		res, err := st.Read(t.Context(), "L", 1, 1000, 1<<20)
		got = got[:0]
		for _, m := range res.Messages {
			got = append(got, m.Seq)
		}
		return err
	})
	i := 0
	for j, seq := range got {
		if j > 0 && seq <= got[j-1] {
			t.Fatalf("the log reads %v: not in order", got)
		}
		if i < len(acked) && seq == acked[i] {
			i++
		}
	}
	if i != len(acked) {
		t.Fatalf("the log reads %v, without the acknowledged %d (acknowledged: %v)", got, acked[i], acked)
	}
}

// TestClusterRefusesPeerWithoutSecret: a node presenting no secret, or
// the wrong one, gets no route into the cluster and cannot open; one
// with the secret joins.
func TestClusterRefusesPeerWithoutSecret(t *testing.T) {
	nodes := storetest.Cluster(t, 3)
	// The newcomer knows one member; the members do not know it (had
	// they named it as a peer, they would connect to it with the secret
	// and it, asking none, would let them in).
	port := storetest.FreePorts(t, 1)[0]
	for _, tc := range []struct {
		name           string
		user, password string
		joins          bool
	}{
		{"no secret", "", "", false},
		{"wrong password", "route", "guess", false},
		{"the secret", "route", "s3cret", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := &store.Cluster{NodeName: "newcomer", Listen: storetest.Addr(port), Peers: []string{nodes[0].Config.Cluster.Listen},
				User: tc.user, Password: tc.password, ReadyTimeout: 3 * time.Second}
			if tc.joins {
				cl.ReadyTimeout = 30 * time.Second
			}
			st, err := store.Open(t.Context(), store.Config{Dir: t.TempDir(), Cluster: cl})
			if tc.joins {
				if err != nil {
					t.Fatalf("a node with the secret cannot join: %v", err)
				}
				defer st.Close()
				if !routedTo(t, nodes[0].Store(), cl.NodeName) {
					t.Fatal("the node with the secret opened without a route to the cluster")
				}
				return
			}
			if err == nil {
				st.Close()
				t.Fatal("a node without the secret opened")
			}
			if !strings.Contains(err.Error(), "did not form") {
				t.Fatalf("error %q does not say the cluster did not form", err)
			}
			for _, n := range nodes {
				if routedTo(t, n.Store(), cl.NodeName) {
					t.Fatalf("node %s has a route to the node without the secret", n.Name())
				}
			}
		})
	}
}

// routedTo says whether st has a route to the node named name.
func routedTo(t *testing.T, st *store.Store, name string) bool {
	ok, err := st.RoutedTo(name)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestClusterConfigErrors: what cannot work is refused before anything
// starts, with what to fix.
func TestClusterConfigErrors(t *testing.T) {
	ok := store.Cluster{NodeName: "a", Listen: "127.0.0.1:0", Peers: []string{"127.0.0.1:1"}}
	for _, tc := range []struct {
		name string
		mod  func(*store.Config)
		want string
	}{
		{"no node name", func(c *store.Config) { c.Cluster.NodeName = "" }, "node name is required"},
		{"no peers", func(c *store.Config) { c.Cluster.Peers = nil }, "at least one peer"},
		{"bad listen", func(c *store.Config) { c.Cluster.Listen = "localhost" }, "listen address"},
		{"bad peer", func(c *store.Config) { c.Cluster.Peers = []string{"b:x"} }, "peer"},
		{"half a secret", func(c *store.Config) { c.Cluster.Password = ""; c.Cluster.User = "u" }, "both a user and a password"},
		{"replicas alone", func(c *store.Config) { c.Cluster = nil; c.Replicas = 3 }, "need a cluster"},
		{"external and cluster", func(c *store.Config) { c.External = &store.External{URL: "nats://127.0.0.1:1"} }, "exclude each other"},
		{"external with a data dir", func(c *store.Config) {
			c.Cluster = nil
			c.External = &store.External{URL: "nats://127.0.0.1:1"}
		}, "no data directory"},
		{"external with sync", func(c *store.Config) {
			c.Cluster, c.Dir, c.Durability = nil, "", store.Sync
			c.External = &store.External{URL: "nats://127.0.0.1:1"}
		}, "sync_interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := ok
			cfg := store.Config{Dir: t.TempDir(), Cluster: &cl}
			tc.mod(&cfg)
			st, err := store.Open(t.Context(), cfg)
			if err == nil {
				st.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestClusterUnreachablePeers: a node whose peers are all down gives up
// after its ready timeout and says which peers it could not reach.
func TestClusterUnreachablePeers(t *testing.T) {
	cfg := storetest.Configs(t, 3, func(c *store.Cluster) { c.ReadyTimeout = 2 * time.Second })[0]
	st, err := store.Open(t.Context(), cfg)
	if err == nil {
		st.Close()
		t.Fatal("opened with no peer up")
	}
	for _, want := range []string{"did not form within 2s", "connected to 0 node(s)", cfg.Cluster.Peers[0]} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestClusterSamePeerListEverywhere: every node may be given the same
// list of all the nodes, its own address among them, as a deployment
// template would; a node ignores the route to itself.
func TestClusterSamePeerListEverywhere(t *testing.T) {
	cfgs := storetest.Configs(t, 3, nil)
	all := []string{cfgs[0].Cluster.Listen, cfgs[1].Cluster.Listen, cfgs[2].Cluster.Listen}
	for _, cfg := range cfgs {
		cfg.Cluster.Peers = all
	}
	nodes := storetest.Start(t, cfgs)
	if err := nodes[2].Store().CreateLog(t.Context(), "L", 0); err != nil {
		t.Fatal(err)
	}
	if info := streamInfo(t, nodes[0].Store(), "L"); info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("the log's cluster: %+v, want a leader and two followers", info.Cluster)
	}
}
