//go:build clusterfaults

package clusterfaults

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/testserver"
)

// startTimeout bounds a node's start: a clustered node serves only once
// it has found a quorum of its peers and JetStream has elected leaders.
const startTimeout = 90 * time.Second

// node is one `tributary serve` process of a test cluster. Its addresses
// and data directory stay the same across restarts, as a real node's do.
type node struct {
	name   string
	api    string   // Kinesis API host:port
	route  string   // cluster (route) host:port
	dir    string   // data directory
	prefix []string // the command that runs it (ip netns exec NS), if any
	flags  []string
	proc   *testserver.Proc
}

// cluster is three (or more) nodes forming one JetStream cluster with
// every stream and the metadata replicated on all of them.
type cluster struct {
	t     *testing.T
	nodes []*node
}

// host is where a node lives: its IP, and the command that runs a
// process there (nil on this host's loopback).
type host struct {
	ip     string
	prefix []string
}

// startCluster starts one node on each host with the agreed cluster
// flags (-node-name, -cluster-listen, -peers, -replicas,
// -cluster-secret-file), all at once, and waits until every node serves.
// On loopback the ports are free ones; on hosts of their own (network
// namespaces) every node uses the same ports.
func startCluster(t *testing.T, hosts []host) *cluster {
	t.Helper()
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	secretFile := filepath.Join(t.TempDir(), "cluster-secret")
	if err := os.WriteFile(secretFile, []byte(hex.EncodeToString(secret)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t}
	for i, h := range hosts {
		n := &node{name: "n" + strconv.Itoa(i), dir: t.TempDir(), prefix: h.prefix}
		if h.prefix == nil {
			n.api, n.route = testserver.FreeAddr(t), testserver.FreeAddr(t)
		} else {
			n.api, n.route = net.JoinHostPort(h.ip, "4567"), net.JoinHostPort(h.ip, "7422")
		}
		c.nodes = append(c.nodes, n)
	}
	for _, n := range c.nodes {
		var peers []string
		for _, o := range c.nodes {
			if o != n {
				peers = append(peers, o.route)
			}
		}
		n.flags = []string{"-data-dir", n.dir, "-connect-listen", "", "-log-level", "info",
			"-node-name", n.name, "-cluster-listen", n.route, "-peers", strings.Join(peers, ","),
			"-replicas", strconv.Itoa(len(hosts)), "-cluster-secret-file", secretFile}
		n.proc = testserver.Spawn(t, n.prefix, n.api, n.flags...)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes))
	for i, n := range c.nodes {
		wg.Go(func() { errs[i] = n.proc.WaitServing(startTimeout) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %s: %v", c.nodes[i].name, err)
		}
	}
	if err := c.waitHealthy(t.Context(), startTimeout); err != nil {
		t.Fatal(err)
	}
	return c
}

// kill ends node i with SIGKILL and waits for it to exit.
func (c *cluster) kill(i int) { c.nodes[i].proc.Kill() }

// restart starts node i again on its data directory and addresses and
// waits until it serves.
func (c *cluster) restart(i int) error {
	n := c.nodes[i]
	n.proc = testserver.Spawn(c.t, n.prefix, n.api, n.flags...)
	if err := n.proc.WaitServing(startTimeout); err != nil {
		return fmt.Errorf("restart %s: %w", n.name, err)
	}
	// A node listens before it has rejoined the cluster; it serves once
	// /health says so.
	if err := waitHealthy(context.Background(), c.endpoint(i), startTimeout); err != nil {
		// It listens but never became healthy: end it, with its
		// goroutines in its log for the report, so that it can be
		// started again on the same addresses and data.
		_ = syscall.Kill(n.proc.PID(), syscall.SIGQUIT)
		sleep(context.Background(), 2*time.Second)
		n.proc.Kill()
		return fmt.Errorf("restart %s: %w (its goroutines when it was ended follow):\n%s", n.name, err, n.proc.Log())
	}
	return nil
}

// endpoint is node i's Kinesis API base URL (the same across restarts).
func (c *cluster) endpoint(i int) string { return "http://" + c.nodes[i].api }

// client is an aws-sdk-go-v2 client for node i with the SDK's retries
// off, so that the tests see every error.
func (c *cluster) client(i int) *kinesis.Client { return testserver.NewClient(c.endpoint(i)) }

// waitHealthy waits up to timeout for every node's /health to answer
// 200.
func (c *cluster) waitHealthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for i, n := range c.nodes {
		if err := waitHealthy(ctx, c.endpoint(i), timeout); err != nil {
			return fmt.Errorf("%s: %w", n.name, err)
		}
	}
	return nil
}

// waitHealthy waits up to timeout for endpoint's /health to answer 200,
// and says what its last answer was if it did not.
func waitHealthy(ctx context.Context, endpoint string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		code, body, err := health(ctx, endpoint)
		if err == nil && code == http.StatusOK {
			return nil
		}
		last = fmt.Sprintf("%d %s %v", code, body, err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("not healthy within %v: %s", timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// health is one GET /health.
func health(ctx context.Context, endpoint string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/health", nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}
