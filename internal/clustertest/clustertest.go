// Package clustertest is what every in-process cluster test needs before
// it has a store: free loopback ports, the members of a cluster that
// name each other as peers and share a secret, nodes opened at once and
// closed when the test ends, and bounded waits. It imports nothing of
// Tributary's, so that package store's own tests can use it as well as
// internal/store/storetest, which builds clustered stores on it for
// every other package.
package clustertest

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The shared route secret of every test cluster.
const (
	SecretUser     = "route"
	SecretPassword = "s3cret"
)

// Timeout bounds a node's wait for its cluster to form and Eventually's
// retries: clustered JetStream start-up and elections take seconds.
const Timeout = 30 * time.Second

// Member is one node's place in a cluster: its name, the loopback
// address it takes routes on, and its peers' addresses.
type Member struct {
	Name   string
	Listen string
	Peers  []string
}

// Members are n members named n0, n1… on free loopback ports, each
// naming all the others as peers.
func Members(t testing.TB, n int) []Member {
	t.Helper()
	ports := FreePorts(t, n)
	out := make([]Member, n)
	for i := range n {
		out[i] = Member{Name: "n" + strconv.Itoa(i), Listen: Addr(ports[i])}
		for j := range n {
			if j != i {
				out[i].Peers = append(out[i].Peers, Addr(ports[j]))
			}
		}
	}
	return out
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

// Start opens n nodes at once (each waits for a quorum of the others to
// be up) and stops them, with stop, at the end of the test; it fails the
// test if any did not open. open returns the node even when it fails,
// for stop to find it.
func Start[N any](t testing.TB, n int, open func(i int) (N, error), stop func(N)) []N {
	t.Helper()
	nodes := make([]N, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { nodes[i], errs[i] = open(i) })
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, nd := range nodes {
			stop(nd)
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return nodes
}

// Eventually retries f every 100 ms until it succeeds, failing the test
// if it still fails after Timeout: for what waits on an election or on
// a change reaching another node.
func Eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %s: %v", what, Timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
