package server

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/testserver"
)

// TestConnectDistributedOnCluster: three servers whose stores form one
// JetStream cluster are the workers of one Connect group: connectors
// created through one node run spread over the nodes, and every node's
// status reply names the node that runs each connector and task, by its
// Connect address.
func TestConnectDistributedOnCluster(t *testing.T) {
	const n = 3
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		_ = l.Close() // released for the node that binds it below
	}
	addr := func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
	props := map[string]string{"heartbeat.interval.ms": "100", "session.timeout.ms": "1000"}
	servers := make([]*Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		cl := &store.Cluster{NodeName: "n" + strconv.Itoa(i), Listen: addr(ports[i]), User: "route", Password: "s3cret",
			ReadyTimeout: 30 * time.Second}
		for j := range n {
			if j != i {
				cl.Peers = append(cl.Peers, addr(ports[j]))
			}
		}
		cfg := Config{Addr: "127.0.0.1:0", Store: store.Config{Dir: t.TempDir(), Cluster: cl},
			Connect: ConnectConfig{Addr: "127.0.0.1:0", WorkerProps: props, AllowedPaths: []string{}}}
		wg.Go(func() { servers[i], errs[i] = Start(context.Background(), cfg) })
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, s := range servers {
			if s != nil {
				_ = s.Shutdown(context.Background())
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	names := []string{"gen-0", "gen-1", "gen-2"}
	for _, name := range names {
		if code, body := call(t, servers[0], "POST", "/connectors", map[string]any{"name": name, "config": datagen(1)}); code != 201 {
			t.Fatalf("create %s = %d %s", name, code, body)
		}
	}
	nodes := map[string]bool{}
	for _, s := range servers {
		nodes[s.ConnectAddr()] = true
	}
	testserver.WaitUntil(t, "one connector running on each node", 30*time.Second, func() bool {
		used := map[string]bool{}
		for _, name := range names {
			_, body := call(t, servers[2], "GET", "/connectors/"+name+"/status", nil)
			var st struct {
				Connector struct {
					State    string `json:"state"`
					WorkerID string `json:"worker_id"`
				} `json:"connector"`
				Tasks []struct {
					State    string `json:"state"`
					WorkerID string `json:"worker_id"`
				} `json:"tasks"`
			}
			if json.Unmarshal(body, &st) != nil || st.Connector.State != "RUNNING" || len(st.Tasks) != 1 ||
				st.Tasks[0].State != "RUNNING" {
				return false
			}
			if !nodes[st.Connector.WorkerID] || !nodes[st.Tasks[0].WorkerID] {
				t.Fatalf("%s: worker_id %q, task's %q: no node's Connect address (%v)", name, st.Connector.WorkerID, st.Tasks[0].WorkerID, nodes)
			}
			used[st.Connector.WorkerID] = true
		}
		return len(used) == n
	})
}
