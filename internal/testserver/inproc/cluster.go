package inproc

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tributary-data/tributary/internal/testserver"
)

// Node is one node of a cluster started by StartCluster.
type Node struct {
	*testserver.Proc
	// Name is the node's -node-name, ClusterAddr its -cluster-listen,
	// DataDir its -data-dir.
	Name, ClusterAddr, DataDir string
}

// ClusterSecret is the shared secret StartCluster's nodes are given.
const ClusterSecret = "inproc-test-cluster-secret"

// StartCluster runs n nodes of one cluster in the test process, as n
// `tributary serve -node-name ... -peers ...` would run on n machines:
// node i is named n<i>, accepts its peers on a free loopback port, keeps
// its data in a temporary directory of the test's and knows every node's
// cluster address (its own included, as an operator may give each node
// one list) and the shared secret. flags are given to every node. The
// nodes start at once, since each waits for a quorum of the others, and
// StartCluster returns when all serve; every node is shut down, and its
// directory removed, when the test ends.
func StartCluster(t testing.TB, n int, flags ...string) []*Node {
	t.Helper()
	secret := filepath.Join(t.TempDir(), "cluster-secret")
	if err := os.WriteFile(secret, []byte(ClusterSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nodes := make([]*Node, n)
	seen := map[string]bool{}
	var addrs []string
	for i := range nodes {
		addr := testserver.FreeAddr(t)
		for seen[addr] {
			addr = testserver.FreeAddr(t)
		}
		seen[addr] = true
		addrs = append(addrs, addr)
		nodes[i] = &Node{Name: "n" + strconv.Itoa(i), ClusterAddr: addr, DataDir: t.TempDir()}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, nd := range nodes {
		args := append([]string{"-node-name", nd.Name, "-cluster-listen", nd.ClusterAddr,
			"-peers", strings.Join(addrs, ","), "-cluster-secret-file", secret, "-data-dir", nd.DataDir}, flags...)
		wg.Go(func() { nd.Proc, errs[i] = start(t, "127.0.0.1:0", args) })
	}
	wg.Wait()
	// Stop the nodes together: one at a time, the last ones would wait
	// out their timeouts for a quorum that has gone.
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, nd := range nodes {
			if nd.Proc != nil {
				wg.Go(nd.Stop)
			}
		}
		wg.Wait()
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return nodes
}
