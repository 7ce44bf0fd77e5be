package inproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tributary-data/tributary/internal/testserver"
)

// Node is one node of a Cluster.
type Node struct {
	// Proc is the running server, nil until Start.
	*testserver.Proc
	// Name is the node's -node-name, ClusterAddr its -cluster-listen,
	// DataDir its -data-dir.
	Name, ClusterAddr, DataDir string
	args                       []string
}

// ClusterSecret is the shared secret of a Cluster's nodes.
const ClusterSecret = "inproc-test-cluster-secret"

// Cluster is n nodes of one cluster, to run in the test process as n
// `tributary serve -node-name ... -peers ...` would run on n machines:
// node i is named n<i>, accepts its peers on a free loopback port, keeps
// its data in a temporary directory of the test's (removed when the test
// ends) and knows every node's cluster address (its own included, as an
// operator may give every node one list) and the shared secret.
type Cluster struct {
	Nodes []*Node
}

// NewCluster lays out a cluster of n nodes; none is started.
func NewCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	secret := filepath.Join(t.TempDir(), "cluster-secret")
	if err := os.WriteFile(secret, []byte(ClusterSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &Cluster{}
	seen := map[string]bool{}
	var addrs []string
	for i := range n {
		addr := testserver.FreeAddr(t)
		for seen[addr] {
			addr = testserver.FreeAddr(t)
		}
		seen[addr] = true
		addrs = append(addrs, addr)
		c.Nodes = append(c.Nodes, &Node{Name: "n" + strconv.Itoa(i), ClusterAddr: addr, DataDir: t.TempDir()})
	}
	for _, nd := range c.Nodes {
		nd.args = []string{"-node-name", nd.Name, "-cluster-listen", nd.ClusterAddr,
			"-peers", strings.Join(addrs, ","), "-cluster-secret-file", secret, "-data-dir", nd.DataDir}
	}
	// Stop the nodes together: one at a time, the last ones would wait
	// out their timeouts for a quorum that has gone.
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, nd := range c.Nodes {
			if p := nd.Proc; p != nil {
				wg.Go(p.Stop)
			}
		}
		wg.Wait()
	})
	return c
}

// Start starts the nodes at once, since each waits for a quorum of the
// others, on the Kinesis address addr (127.0.0.1:0 for any port), with
// flags given to every node, and returns when all of them serve.
func (c *Cluster) Start(t testing.TB, addr string, nodes []*Node, flags ...string) {
	t.Helper()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, nd := range nodes {
		wg.Go(func() { errs[i] = nd.Start(t, addr, flags...) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// Start starts the node on the Kinesis address addr and returns once it
// serves: once its cluster has a quorum. It may be called from any
// goroutine.
func (nd *Node) Start(t testing.TB, addr string, flags ...string) error {
	p, err := start(t, addr, append(append([]string{}, nd.args...), flags...))
	if err != nil {
		return fmt.Errorf("node %s: %w", nd.Name, err)
	}
	nd.Proc = p
	return nil
}

// StartCluster lays out a cluster of n nodes (NewCluster) and starts
// them all with flags.
func StartCluster(t testing.TB, n int, flags ...string) []*Node {
	t.Helper()
	c := NewCluster(t, n)
	c.Start(t, "127.0.0.1:0", c.Nodes, flags...)
	return c.Nodes
}
