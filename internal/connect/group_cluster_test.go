package connect_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/plugins"
	"github.com/tributary-data/tributary/internal/kinesis"
	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/testmariadb"
)

// clusterEngines opens n stores joined into one JetStream cluster on
// loopback (R3 metadata), each with its own Kinesis service: the
// engines of n nodes. setup, if not nil, runs on the first engine
// before the others' services start, so that they load what it made
// (until the streams catalog follows changes made on other nodes, a
// stream must exist before a node starts for that node to see it).
func clusterEngines(t *testing.T, n int, setup func(*engine)) []*engine {
	t.Helper()
	// Free loopback ports, released before the nodes bind them: each
	// node must know the others' addresses before any starts.
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		_ = l.Close()
	}
	addr := func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
	cfgs := make([]store.Config, n)
	for i := range n {
		cl := &store.Cluster{NodeName: "n" + strconv.Itoa(i), Listen: addr(ports[i]), User: "route", Password: "s3cret",
			ReadyTimeout: 30 * time.Second}
		for j := range n {
			if j != i {
				cl.Peers = append(cl.Peers, addr(ports[j]))
			}
		}
		cfgs[i] = store.Config{Dir: t.TempDir(), Cluster: cl, Logger: slog.New(slog.DiscardHandler)}
	}
	sts := make([]*store.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { sts[i], errs[i] = store.Open(t.Context(), cfgs[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var es []*engine
	for _, st := range sts {
		ks, err := kinesis.New(context.Background(), st, kinesis.Config{ShardLimit: 100, RetentionHour: time.Hour, SubscriptionDuration: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		e := &engine{st: st, ks: ks, local: ks.Local("", ""), kv: connect.NewMetaKV(st)}
		t.Cleanup(e.close)
		if len(es) == 0 && setup != nil {
			setup(e)
		}
		es = append(es, e)
	}
	return es
}

// TestGroupOverClusteredStores runs one worker on each node of a
// three-node cluster, each with its own store: the connectors spread
// over the nodes, a change made through one node's REST API reaches the
// worker on another (NATS request/reply over the cluster's routes), and
// when a node's worker stops its connector moves to another node after
// the rebalance delay.
func TestGroupOverClusteredStores(t *testing.T) {
	const delay = time.Second
	es := clusterEngines(t, 3, nil)
	reg := testRegistry(newLog())
	var ws []*groupWorker
	for _, e := range es {
		ws = append(ws, startGroupWorker(t, e, reg, groupProps(delay)))
	}
	names := []string{"c0", "c1", "c2"}
	for i, n := range names {
		if code := call(t, "POST", ws[i].url+"/connectors", map[string]any{"name": n, "config": sourceConfig(0)}, nil); code != http.StatusCreated {
			t.Fatalf("create %s = %d", n, code)
		}
	}
	var where map[string]string
	waitFor(t, "one connector on each node", func() bool {
		where = placement(t, ws[0].url, names, 2)
		per := map[string]int{}
		for _, w := range where {
			per[w]++
		}
		return len(per) == 3
	})
	// Pause, through node 2, the connector that node 0 runs.
	var onA string
	for n, w := range where {
		if w == ws[0].id {
			onA = n
		}
	}
	if code := call(t, "PUT", ws[2].url+"/connectors/"+onA+"/pause", nil, nil); code != http.StatusAccepted {
		t.Fatalf("pause through another node = %d", code)
	}
	waitFor(t, "the pause on node 0 and wherever its tasks run", func() bool {
		st := status(t, ws[0].url, onA)
		return st.Connector.State == connect.StatePaused && st.Connector.WorkerID == ws[0].id && len(st.Tasks) == 2 &&
			st.Tasks[0].State == connect.StatePaused && st.Tasks[1].State == connect.StatePaused
	})
	stopped := time.Now()
	ws[0].stop()
	waitFor(t, fmt.Sprintf("%s on another node", onA), func() bool {
		st := status(t, ws[1].url, onA)
		if st.Connector.State != connect.StatePaused || st.Connector.WorkerID == ws[0].id || len(st.Tasks) != 2 {
			return false
		}
		for _, ts := range st.Tasks {
			if ts.State != connect.StatePaused || ts.WorkerID == ws[0].id || ts.WorkerID == "" {
				return false
			}
		}
		return true
	})
	if took := time.Since(stopped); took < delay {
		t.Fatalf("moved %s after its worker stopped, before the %s delay", took, delay)
	}
}

// die kills the worker's node as abruptly as one test process allows:
// its REST listener and its store close, and with the store the node's
// embedded NATS server shuts down and leaves the JetStream cluster. Its
// worker is neither stopped nor told: it does not stop its tasks, commit
// their offsets or leave the group; it finds its store gone at its next
// heartbeat. This is not a SIGKILL: the NATS server's shutdown hands its
// Raft leaderships to the other nodes before it stops.
func (w *groupWorker) die(t *testing.T) {
	t.Helper()
	w.srv.Close()
	if err := w.e.st.Close(); err != nil {
		t.Logf("closing the dead node's store: %v", err)
	}
}

// TestGroupClusterNodeDies is acceptance 5's file pipeline on a
// three-node JetStream cluster: FileStreamSource → stream →
// FileStreamSink, with one worker on each node; while the input grows,
// the node running the source's task dies (die). The task moves to a
// live node after the rebalance delay and the output is byte-identical
// to the input.
//
// The node running the sink's task dying is not a case yet: on this
// branch each node numbers a shard's records with its own epoch, so the
// sink's new task, resuming after a sequence number another node issued,
// reads the stream again from its start (the output repeats what was
// written before the kill); the catalog that follows the metadata
// bucket numbers them alike on every node.
func TestGroupClusterNodeDies(t *testing.T) {
	for _, dies := range []string{"file-in"} {
		t.Run(dies, func(t *testing.T) {
			const delay = time.Second
			es := clusterEngines(t, 3, func(e *engine) {
				if err := e.local.EnsureStream(context.Background(), "lines", 1); err != nil {
					t.Fatal(err)
				}
			})
			reg := plugins.Registry("test")
			var ws []*groupWorker
			for _, e := range es {
				ws = append(ws, startGroupWorker(t, e, reg, groupProps(delay)))
			}
			dir := t.TempDir()
			in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
			appendLines(t, in, 0, 2000)
			for name, config := range map[string]map[string]string{
				"file-in":  {"connector.class": "FileStreamSource", "file": in, "topic": "lines"},
				"file-out": {"connector.class": "FileStreamSink", "file": out, "topics": "lines"},
			} {
				if code := call(t, "POST", ws[1].url+"/connectors", map[string]any{"name": name, "config": config}, nil); code != http.StatusCreated {
					t.Fatalf("create %s = %d", name, code)
				}
			}
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				appendLines(t, in, 2000, 20000)
			}()
			victim := workerOf(t, ws, dies, 1)
			waitFor(t, "output to grow", func() bool { return fileSizeOf(out) > 0 })
			_, tasks := fullPlacement(t, ws[0].url, []string{"file-in", "file-out"}, 1)
			victim.die(t)
			t.Logf("node of %s, running %s's task, died with %d bytes out; tasks were on %v", victim.id, dies, fileSizeOf(out), tasks)
			taskMoved(t, ws, victim, dies)
			wg.Wait()
			want, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(time.Minute)
			for fileSizeOf(out) < int64(len(want)) {
				if time.Now().After(deadline) {
					t.Fatalf("%d bytes of %d at the sink after a minute; file-in %+v, file-out %+v", fileSizeOf(out), len(want),
						status(t, ws[1].url, "file-in").Tasks, status(t, ws[1].url, "file-out").Tasks)
				}
				time.Sleep(50 * time.Millisecond)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("output (%d bytes) differs from input (%d bytes)", len(got), len(want))
			}
		})
	}
}

// TestGroupClusterNodeDiesDebezium is acceptance 5's Debezium case on a
// three-node JetStream cluster: the node running the connector's task
// dies (die) while transactions commit, and every change arrives (some twice:
// at-least-once from the last committed binlog position).
func TestGroupClusterNodeDiesDebezium(t *testing.T) {
	db := testmariadb.Start(t)
	es := clusterEngines(t, 3, func(e *engine) {
		for _, name := range []string{"grp", "grp.shop.counters"} {
			if err := e.local.EnsureStream(context.Background(), name, 1); err != nil {
				t.Fatal(err)
			}
		}
	})
	reg := plugins.Registry("test")
	var ws []*groupWorker
	for _, e := range es {
		ws = append(ws, startGroupWorker(t, e, reg, groupProps(time.Second)))
	}
	debeziumAcrossLoss(t, db, ws, func(w *groupWorker) *engine {
		w.die(t)
		for _, o := range ws {
			if o != w {
				return o.e
			}
		}
		return nil
	})
}
