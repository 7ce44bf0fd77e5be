// Package storetest starts clusters of in-process stores for tests: N
// embedded JetStream servers on free loopback ports that name each other
// as peers and share a secret, each on its own temporary data
// directory, every wait bounded and everything closed when the test ends.
// It is for any package whose tests need a store.Store clustered like
// production's (the store itself, the stream engine, servers on it).
package storetest

import (
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/store"
)

// Secret is the shared route user and password of every test cluster.
const (
	SecretUser     = "route"
	SecretPassword = "s3cret"
)

// ReadyTimeout bounds each node's wait for the cluster to form, and
// Eventually's retries: clustered JetStream start-up and elections take
// seconds.
const ReadyTimeout = 30 * time.Second

// Node is one member of a test cluster: its configuration, kept to
// reopen it, and its open store (nil while stopped).
type Node struct {
	Config store.Config
	mu     sync.Mutex
	st     *store.Store
}

// Name is the node's name in the cluster.
func (n *Node) Name() string { return n.Config.Cluster.NodeName }

// Store is the node's open store, nil while it is stopped.
func (n *Node) Store() *store.Store {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.st
}

// Stop closes the node's store, as if its process had gone: Close shuts
// the embedded server down without handing its leaderships over first,
// the nearest an in-process test comes to killing a node. Stopping a
// stopped node does nothing.
func (n *Node) Stop() {
	n.mu.Lock()
	st := n.st
	n.st = nil
	n.mu.Unlock()
	if st != nil {
		st.Close()
	}
}

// Restart reopens a stopped node on its data directory; it waits (up to
// ReadyTimeout) for the cluster to take it back.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	st, err := store.Open(t.Context(), n.Config)
	if err != nil {
		t.Fatalf("restart node %s: %v", n.Name(), err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.st != nil {
		st.Close()
		t.Fatalf("restart node %s: it is running", n.Name())
	}
	n.st = st
}

// FreePorts finds n free loopback ports. The listeners are closed just
// before the servers bind the ports: the cluster's nodes must know each
// other's addresses before any of them starts.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// Addr is the loopback address of port.
func Addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// Configs are the configurations of n nodes named n0, n1… on loopback
// that name each other as peers, share the secret, and keep their data
// in temporary directories; mod, if not nil, adjusts each node's
// cluster settings. Each node logs to the test's output.
func Configs(t testing.TB, n int, mod func(*store.Cluster)) []store.Config {
	ports := FreePorts(t, n)
	var cfgs []store.Config
	for i := range n {
		cl := &store.Cluster{NodeName: "n" + strconv.Itoa(i), Listen: Addr(ports[i]),
			User: SecretUser, Password: SecretPassword, ReadyTimeout: ReadyTimeout}
		for j := range n {
			if j != i {
				cl.Peers = append(cl.Peers, Addr(ports[j]))
			}
		}
		if mod != nil {
			mod(cl)
		}
		lg := slog.New(slog.NewTextHandler(t.Output(), nil)).With("node", cl.NodeName)
		cfgs = append(cfgs, store.Config{Dir: t.TempDir(), Cluster: cl, Logger: lg})
	}
	return cfgs
}

// Start opens the nodes at once (each Open waits for a quorum of the
// others) and closes those still open at the end of the test.
func Start(t testing.TB, cfgs []store.Config) []*Node {
	t.Helper()
	nodes := make([]*Node, len(cfgs))
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		nodes[i] = &Node{Config: cfg}
		wg.Go(func() {
			st, err := store.Open(t.Context(), cfg)
			nodes[i].st, errs[i] = st, err
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, n := range nodes {
			n.Stop()
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return nodes
}

// Cluster starts n nodes with the default configuration.
func Cluster(t testing.TB, n int) []*Node {
	t.Helper()
	return Start(t, Configs(t, n, nil))
}

// Eventually retries f every 100 ms until it succeeds, failing the test
// if it still fails after ReadyTimeout: for what waits on an election or
// on a change reaching another node.
func Eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(ReadyTimeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %s: %v", what, ReadyTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
