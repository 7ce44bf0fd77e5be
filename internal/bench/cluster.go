package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Cluster is a cluster of `tributary serve` processes on loopback that
// the benchmark started, each with a data directory of its own.
type Cluster struct {
	Nodes []*Process
	dir   string
}

// Endpoints are the nodes' Kinesis API base URLs, in node order.
func (c *Cluster) Endpoints() []string {
	var e []string
	for _, n := range c.Nodes {
		e = append(e, n.Endpoint)
	}
	return e
}

// Stop stops every node and removes their data.
func (c *Cluster) Stop() {
	for _, n := range c.Nodes {
		n.Stop()
	}
	_ = os.RemoveAll(c.dir)
}

// clusterStartTimeout bounds the wait for a cluster's nodes to serve:
// each waits for the others to elect JetStream's leaders first.
const clusterStartTimeout = 90 * time.Second

// StartCluster runs n nodes of `self serve` (a tributary binary) as one
// cluster with n replicas of everything, on loopback ports of its
// choosing and with a shared secret, adding flags to each node's command
// line. They start at once, since each waits for a quorum of the others
// before it serves.
func StartCluster(ctx context.Context, self string, n int, flags ...string) (*Cluster, error) {
	if n < 2 {
		return nil, errors.New("bench: a cluster needs at least two nodes")
	}
	dir, err := os.MkdirTemp("", "tributary-bench-cluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir}
	fail := func(err error) (*Cluster, error) {
		c.Stop()
		return nil, err
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(hex.EncodeToString(secret)+"\n"), 0o600); err != nil {
		return fail(err)
	}
	var apiAddrs, routeAddrs []string
	for range n {
		a, err := FreeAddr()
		if err != nil {
			return fail(err)
		}
		r, err := FreeAddr()
		if err != nil {
			return fail(err)
		}
		apiAddrs, routeAddrs = append(apiAddrs, a), append(routeAddrs, r)
	}
	for i := range n {
		var peers []string
		for j, r := range routeAddrs {
			if j != i {
				peers = append(peers, r)
			}
		}
		data := filepath.Join(dir, "node"+strconv.Itoa(i))
		args := append([]string{"serve", "-listen", apiAddrs[i], "-data-dir", data, "-connect-listen", "",
			"-create-stream-delay", "0", "-delete-stream-delay", "0", "-log-level", "warn",
			"-node-name", "n" + strconv.Itoa(i), "-cluster-listen", routeAddrs[i],
			"-peers", strings.Join(peers, ","), "-replicas", strconv.Itoa(n), "-cluster-secret-file", secretFile},
			flags...)
		p, err := spawn(ctx, apiAddrs[i], self, args...)
		if err != nil {
			return fail(err)
		}
		c.Nodes = append(c.Nodes, p)
	}
	for i, p := range c.Nodes {
		if err := p.waitListening(apiAddrs[i], clusterStartTimeout); err != nil {
			return fail(fmt.Errorf("cluster node %d: %w", i, err))
		}
		if err := waitHealthy(ctx, p.Endpoint, clusterStartTimeout); err != nil {
			return fail(fmt.Errorf("cluster node %d: %w", i, err))
		}
	}
	return c, nil
}

// waitHealthy waits until GET /health answers 200: a node may listen
// before it can reach its store.
func waitHealthy(ctx context.Context, endpoint string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/health", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s/health not OK within %v: %s", endpoint, timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
