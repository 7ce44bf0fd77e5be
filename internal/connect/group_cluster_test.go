package connect_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/kinesis"
	"github.com/tributary-data/tributary/internal/store"
)

// clusterEngines opens n stores joined into one JetStream cluster on
// loopback (R3 metadata), each with its own Kinesis service: the
// engines of n nodes.
func clusterEngines(t *testing.T, n int) []*engine {
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
	es := clusterEngines(t, 3)
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
