package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestClusterFailureModes measures what docs/operations.md says about
// losing nodes: with one of three nodes down an R3 log goes on and an
// R1 log on that node is unavailable; with two down nothing is written
// (no quorum) and the status says there is no meta leader; once the
// nodes are back, writes resume and nothing acknowledged is lost.
func TestClusterFailureModes(t *testing.T) {
	t.Parallel() // mostly waits on elections: it overlaps well with the other cluster tests
	ctx := t.Context()
	cfgs := clusterConfigs(t, 3, nil)
	for i := range cfgs {
		cfgs[i].WriteTimeout = 2 * time.Second
	}
	nodes := startCluster(t, cfgs)
	if err := nodes[0].st.CreateLog(ctx, "L", 0); err != nil {
		t.Fatal(err)
	}
	// An R1 log, as -replicas 1 makes them.
	c, err := nodes[0].st.conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.js.CreateStream(ctx, jetstream.StreamConfig{Name: "R1", Subjects: []string{logSubject("R1")},
		Storage: jetstream.FileStorage, AllowDirect: true, Replicas: 1}); err != nil {
		t.Fatal(err)
	}
	var acked []uint64
	for range 3 {
		seq, err := nodes[1].st.AppendAsync("L", []byte("x")).Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, seq)
	}
	r1Node := streamInfo(t, nodes[0].st, "R1").Cluster.Leader
	byName := map[string]int{}
	for i, n := range nodes {
		byName[n.cfg.Cluster.NodeName] = i
	}
	x := byName[r1Node]
	nodes[x].st.Close()
	nodes[x].st = nil
	y, z := (x+1)%3, (x+2)%3

	t.Run("one node down", func(t *testing.T) {
		start := time.Now()
		eventually(t, "an R3 append through a node that is up", func() error {
			seq, err := nodes[y].st.AppendAsync("L", []byte("x")).Wait(ctx)
			if err == nil {
				acked = append(acked, seq)
			}
			return err
		})
		t.Logf("R3 log: writes resumed %s after its node stopped", time.Since(start).Round(time.Millisecond))
		start = time.Now()
		_, err := nodes[y].st.AppendAsync("R1", []byte("x")).Wait(ctx)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("append to the R1 log of the stopped node: %v, want ErrUnavailable", err)
		}
		t.Logf("R1 log on the stopped node: append failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
		eventually(t, "status: R1 without a leader, L under-replicated", func() error {
			st, err := nodes[z].st.ClusterStatus(ctx)
			if err != nil {
				return err
			}
			_, r1 := statusOf(st, "", "R1")
			_, l := statusOf(st, "", "L")
			if r1 == nil || r1.Leader != "" || !r1.UnderReplicated {
				return fmt.Errorf("R1: %+v", r1)
			}
			if l == nil || l.Leader == "" || !l.UnderReplicated || l.Current != 2 {
				return fmt.Errorf("L: %+v", l)
			}
			return nil
		})
	})

	t.Run("two nodes down", func(t *testing.T) {
		nodes[z].st.Close()
		nodes[z].st = nil
		stopped := time.Now()
		start := time.Now()
		_, err := nodes[y].st.AppendAsync("L", []byte("x")).Wait(ctx)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("append with one node of three: %v, want ErrUnavailable", err)
		}
		t.Logf("no quorum: an append failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
		mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = nodes[y].st.Create(mctx, "k.noquorum", []byte("v"))
		cancel()
		if err == nil {
			t.Fatal("a metadata write succeeded without a quorum")
		}
		t.Logf("no quorum: a metadata write failed: %v", err)
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, rerr := nodes[y].st.Read(rctx, "L", 1, 10, 1<<20)
		cancel()
		t.Logf("no quorum: a read of the log from its start: %d messages, pending %d, err %v", len(res.Messages), res.Pending, rerr)
		eventually(t, "status: no meta leader", func() error {
			st, err := nodes[y].st.ClusterStatus(ctx)
			if err != nil {
				return err
			}
			if st.MetaLeader != "" || len(st.Warnings) == 0 {
				return fmt.Errorf("meta leader %q, warnings %q", st.MetaLeader, st.Warnings)
			}
			if !strings.Contains(strings.Join(st.Warnings, "; "), "no JetStream meta leader") {
				return fmt.Errorf("warnings %q", st.Warnings)
			}
			if _, l := statusOf(st, "", "L"); l == nil || l.Leader != "" || !l.UnderReplicated {
				return fmt.Errorf("L: %+v, want no leader", l)
			}
			return nil
		})
		t.Logf("no quorum: the status showed no meta leader %s after the second node stopped", time.Since(stopped).Round(100*time.Millisecond))
		if err := nodes[y].st.RemoveNode(ctx, nodes[z].cfg.Cluster.NodeName); !errors.Is(err, ErrNoMetaLeader) {
			t.Fatalf("remove-node without a quorum: %v, want ErrNoMetaLeader", err)
		}
	})

	t.Run("back", func(t *testing.T) {
		start := time.Now()
		for _, i := range []int{z, x} {
			st, err := Open(ctx, nodes[i].cfg)
			if err != nil {
				t.Fatal(err)
			}
			nodes[i].st = st
		}
		t.Logf("nodes back: both reopened (each waits until the cluster is usable) in %s", time.Since(start).Round(100*time.Millisecond))
		eventually(t, "appends resume", func() error {
			seq, err := nodes[x].st.AppendAsync("L", []byte("x")).Wait(ctx)
			if err == nil {
				acked = append(acked, seq)
			}
			return err
		})
		t.Logf("nodes back: appends resumed %s after the first reopen began", time.Since(start).Round(100*time.Millisecond))
		eventually(t, "the R1 log is back with its node", func() error {
			_, err := nodes[y].st.AppendAsync("R1", []byte("x")).Wait(ctx)
			return err
		})
		for _, n := range nodes {
			checkLog(t, n.st, acked)
		}
	})
}

// TestClusterNodeLosesItsDataDir: a node whose data directory is lost
// (a replaced disk) and that starts again empty, under the same name,
// gets its replicas back from the other nodes: every acknowledged record
// is on its own replica again, and the status shows it current.
func TestClusterNodeLosesItsDataDir(t *testing.T) {
	t.Parallel() // mostly waits on elections: it overlaps well with the other cluster tests
	ctx := t.Context()
	nodes := startCluster(t, clusterConfigs(t, 3, nil))
	if err := nodes[0].st.CreateLog(ctx, "L", 0); err != nil {
		t.Fatal(err)
	}
	var acked []uint64
	for i := range 50 {
		seq, err := nodes[i%3].st.AppendAsync("L", []byte("x")).Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, seq)
	}
	lost := nodes[2]
	lost.st.Close()
	lost.st = nil
	if err := os.RemoveAll(lost.cfg.Dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(lost.cfg.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	st, err := Open(ctx, lost.cfg)
	if err != nil {
		t.Fatal(err)
	}
	lost.st = st
	last := acked[len(acked)-1]
	eventually(t, "the emptied node's own replica has every acknowledged record", func() error {
		res, err := st.replicaGet(ctx, "L", readRequest{Seq: 1, Batch: len(acked) + 10, MaxBytes: 1 << 20})
		if err != nil {
			return err
		}
		if n := len(res.Messages); n == 0 || res.Messages[n-1].Seq < last {
			return fmt.Errorf("its replica has %d messages, want up to %d", n, last)
		}
		return nil
	})
	t.Logf("an emptied node was serving its full replica %s after it started", time.Since(start).Round(100*time.Millisecond))
	checkLog(t, st, acked)
	waitHealthy(t, nodes[0].st, 3)
}
