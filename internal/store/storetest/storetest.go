// Package storetest starts clusters of in-process stores for tests: N
// embedded JetStream servers on free loopback ports that name each other
// as peers and share a secret, each on its own temporary data
// directory, every wait bounded and everything closed when the test ends.
// It is for any package whose tests need a store.Store clustered as in
// production (the stream engine, front ends, servers on it). Package
// store's own tests, which cannot import it, use internal/clustertest,
// on which it is built.
package storetest

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/tributary-data/tributary/internal/clustertest"
	"github.com/tributary-data/tributary/internal/store"
)

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

// Stop closes the node's store, as if its process had gone. Close shuts
// the embedded server down in order, which a killed process does not:
// it is the nearest an in-process test comes to killing a node. Stopping
// a stopped node does nothing.
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
// clustertest.Timeout) for the cluster to take it back.
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

// Configs are the configurations of n clustered nodes named n0, n1… on
// loopback (clustertest.Members), sharing the secret, with their data in
// temporary directories; mod, if not nil, adjusts each node's cluster
// settings. Logs are replicated on min(n, 3) nodes, so that two nodes
// make a cluster too. Each node logs to the test's output.
func Configs(t testing.TB, n int, mod func(*store.Cluster)) []store.Config {
	t.Helper()
	var cfgs []store.Config
	for _, m := range clustertest.Members(t, n) {
		cl := &store.Cluster{NodeName: m.Name, Listen: m.Listen, Peers: m.Peers,
			User: clustertest.SecretUser, Password: clustertest.SecretPassword, ReadyTimeout: clustertest.Timeout}
		if mod != nil {
			mod(cl)
		}
		lg := slog.New(slog.NewTextHandler(t.Output(), nil)).With("node", cl.NodeName)
		cfgs = append(cfgs, store.Config{Dir: t.TempDir(), Cluster: cl, Logger: lg,
			Replicas: min(n, store.ClusteredReplicas)})
	}
	return cfgs
}

// Start opens the nodes at once and closes those still open at the end
// of the test.
func Start(t testing.TB, cfgs []store.Config) []*Node {
	t.Helper()
	return clustertest.Start(t, len(cfgs), func(i int) (*Node, error) {
		st, err := store.Open(t.Context(), cfgs[i])
		return &Node{Config: cfgs[i], st: st}, err
	}, (*Node).Stop)
}

// Cluster starts n nodes with the default configuration.
func Cluster(t testing.TB, n int) []*Node {
	t.Helper()
	return Start(t, Configs(t, n, nil))
}

// Stores starts n nodes with the default configuration and returns
// their stores.
func Stores(t testing.TB, n int) []*store.Store {
	t.Helper()
	var sts []*store.Store
	for _, nd := range Cluster(t, n) {
		sts = append(sts, nd.Store())
	}
	return sts
}

// Eventually is clustertest.Eventually: f retried, bounded.
func Eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	clustertest.Eventually(t, what, f)
}
