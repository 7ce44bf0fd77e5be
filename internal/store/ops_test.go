package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// statusOf finds a node and a log in a status.
func statusOf(st *ClusterStatus, node, log string) (*NodeStatus, *LogStatus) {
	var n *NodeStatus
	var l *LogStatus
	for i := range st.Nodes {
		if st.Nodes[i].Name == node {
			n = &st.Nodes[i]
		}
	}
	for i := range st.Logs {
		if st.Logs[i].Name == log {
			l = &st.Logs[i]
		}
	}
	return n, l
}

// allCurrent checks that the status shows every node current and online
// and the log with all its replicas current.
func allCurrent(st *ClusterStatus, nodes []string, log string) error {
	if st.MetaLeader == "" {
		return errors.New("no meta leader")
	}
	var names []string
	for _, n := range st.Nodes {
		names = append(names, n.Name)
		if !n.Current || n.Offline {
			return fmt.Errorf("node %+v is not current", n)
		}
		if n.MetaLeader != (n.Name == st.MetaLeader) {
			return fmt.Errorf("node %+v: meta leader is %s", n, st.MetaLeader)
		}
		if n.Address == "" {
			return fmt.Errorf("node %s has no address", n.Name)
		}
	}
	if !slices.Equal(names, nodes) {
		return fmt.Errorf("nodes %v, want %v", names, nodes)
	}
	_, l := statusOf(st, "", log)
	if l == nil {
		return fmt.Errorf("log %s not listed", log)
	}
	if l.Leader == "" || l.Replicas != 3 || l.Current != 3 || l.UnderReplicated || len(l.Peers) != 3 {
		return fmt.Errorf("log %+v: want a leader and 3 current replicas", l)
	}
	return nil
}

// TestClusterStatusAndNodeReplacement: the status of a 3-node cluster
// shows every node and replica current; a stopped node shows offline
// and the logs under-replicated; the stopped node can then be removed
// (an online or unknown one cannot), and a new node joining in its place
// gets the missing replicas from JetStream without any other step.
func TestClusterStatusAndNodeReplacement(t *testing.T) {
	t.Parallel() // mostly waits on elections: it overlaps well with the other cluster tests
	ctx := t.Context()
	cfgs := clusterConfigs(t, 4, nil)
	// n3 is the replacement: it knows the others; they know it as a peer
	// from their configuration, as a deployment that lists a spare would.
	nodes := startCluster(t, cfgs[:3])
	if err := nodes[0].st.CreateLog(ctx, "L", 0); err != nil {
		t.Fatal(err)
	}
	three := []string{"n0", "n1", "n2"}
	for _, n := range nodes {
		eventually(t, "every node and replica current, seen from "+n.cfg.Cluster.NodeName, func() error {
			st, err := n.st.ClusterStatus(ctx)
			if err != nil {
				return err
			}
			if !st.Clustered || st.Cluster != DefaultClusterName || st.Node != n.cfg.Cluster.NodeName || st.Replicas != 3 {
				return fmt.Errorf("status header %+v", st)
			}
			return allCurrent(st, three, "L")
		})
	}

	t.Run("stepdown", func(t *testing.T) {
		st, err := nodes[1].st.ClusterStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, l := statusOf(st, "", "L")
		for _, tc := range []struct{ log, before string }{{"", st.MetaLeader}, {"L", l.Leader}} {
			after, err := nodes[2].st.StepDown(ctx, tc.log)
			if err != nil {
				t.Fatalf("stepdown %q: %v", tc.log, err)
			}
			if after == "" || after == tc.before {
				t.Fatalf("stepdown %q: leader was %s, is %q", tc.log, tc.before, after)
			}
		}
		if _, err := nodes[0].st.StepDown(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("stepdown of an unknown log: %v, want ErrNotFound", err)
		}
	})

	// Stop a node that leads neither the meta group nor L, so that what
	// follows does not wait on elections. (Its loss as a leader is the
	// rolling-restart test's business.)
	var down int
	eventually(t, "pick a follower", func() error {
		st, err := nodes[0].st.ClusterStatus(ctx)
		if err != nil {
			return err
		}
		_, l := statusOf(st, "", "L")
		for i, n := range nodes {
			name := n.cfg.Cluster.NodeName
			if name != st.MetaLeader && l != nil && name != l.Leader && l.Leader != "" {
				down = i
				return nil
			}
		}
		return errors.New("no node is a follower of both")
	})
	downName := nodes[down].cfg.Cluster.NodeName
	nodes[down].st.Close()
	nodes[down].st = nil
	up := nodes[(down+1)%3]

	eventually(t, "the stopped node offline and L under-replicated", func() error {
		st, err := up.st.ClusterStatus(ctx)
		if err != nil {
			return err
		}
		n, l := statusOf(st, downName, "L")
		if n == nil || !n.Offline || n.Current {
			return fmt.Errorf("node %s: %+v, want offline", downName, n)
		}
		if l == nil || !l.UnderReplicated || l.Current != 2 || l.Leader == "" {
			return fmt.Errorf("log %+v: want under-replicated with 2 current replicas and a leader", l)
		}
		for _, p := range l.Peers {
			if p.Node == downName && p.State() != "offline" {
				return fmt.Errorf("replica on %s is %s", downName, p.State())
			}
		}
		return nil
	})

	t.Run("remove errors", func(t *testing.T) {
		for _, tc := range []struct {
			name, node string
			want       error
			says       string
		}{
			{"unknown", "nobody", ErrUnknownNode, "the nodes are"},
			{"online", up.cfg.Cluster.NodeName, ErrNodeOnline, "is up"},
		} {
			err := up.st.RemoveNode(ctx, tc.node)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%s: %v, want %v saying %q", tc.name, err, tc.want, tc.says)
			}
		}
	})

	if err := up.st.RemoveNode(ctx, downName); err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, n := range nodes {
		if n.st != nil {
			live = append(live, n.cfg.Cluster.NodeName)
		}
	}
	eventually(t, "the removed node gone from the cluster", func() error {
		st, err := up.st.ClusterStatus(ctx)
		if err != nil {
			return err
		}
		if n, _ := statusOf(st, downName, ""); n != nil {
			return fmt.Errorf("node %s still listed: %+v", downName, n)
		}
		return nil
	})

	// The replacement: a new name and an empty data directory, joining
	// with the same peers.
	repl := cfgs[3]
	repl.Cluster.Peers = []string{nodes[(down+1)%3].cfg.Cluster.Listen, nodes[(down+2)%3].cfg.Cluster.Listen}
	st, err := Open(ctx, repl)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want := append(live, repl.Cluster.NodeName)
	slices.Sort(want)
	eventually(t, "the replacement holds current replicas of L and of the metadata", func() error {
		s, err := st.ClusterStatus(ctx)
		if err != nil {
			return err
		}
		if err := allCurrent(s, want, "L"); err != nil {
			return err
		}
		_, meta := statusOf(s, "", metaStream)
		if meta == nil || meta.Current != 3 {
			return fmt.Errorf("metadata bucket: %+v", meta)
		}
		return nil
	})
	t.Logf("replacement %s joined; took over the replicas of %s", repl.Cluster.NodeName, downName)
}
