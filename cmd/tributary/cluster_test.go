package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/server"
	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// clusterNode is one in-process server of a test cluster.
type clusterNode struct {
	name string
	srv  *server.Server // nil once stopped
}

// startServerCluster starts n servers in this process, wired as `serve`
// wires them, whose stores form one JetStream cluster on loopback.
func startServerCluster(t *testing.T, n int) []*clusterNode {
	t.Helper()
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, l.Addr().String())
		l.Close() // the nodes must know each other's addresses before any starts
	}
	cfgs := make([]server.Config, n)
	for i := range n {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		sf := server.RegisterFlags(fs)
		if err := fs.Parse(testserver.ServeArgs("127.0.0.1:0", []string{"-data-dir", t.TempDir(), "-connect-listen", ""})); err != nil {
			t.Fatal(err)
		}
		cfg, err := sf.Config(io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cl := &store.Cluster{NodeName: "n" + strconv.Itoa(i), Listen: addrs[i], ReadyTimeout: 30 * time.Second}
		for j := range n {
			if j != i {
				cl.Peers = append(cl.Peers, addrs[j])
			}
		}
		cfg.Store.Cluster = cl
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})).With("node", cl.NodeName)
		cfgs[i] = cfg
	}
	nodes := make([]*clusterNode, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		nodes[i] = &clusterNode{name: cfgs[i].Store.Cluster.NodeName}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			nodes[i].srv, errs[i] = server.Start(ctx, cfgs[i])
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, nd := range nodes {
			nd.stop(t)
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return nodes
}

func (nd *clusterNode) stop(t *testing.T) {
	if nd.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := nd.srv.Shutdown(ctx); err != nil {
		t.Errorf("stop %s: %v", nd.name, err)
	}
	nd.srv = nil
}

func (nd *clusterNode) endpoint() string { return "http://" + nd.srv.Addr() }

// clusterCLI runs "tributary cluster args..." and returns its exit code,
// stdout and stderr.
func clusterCLI(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"cluster"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// clusterStatus runs "cluster status -o json" against endpoint.
func clusterStatus(endpoint string) (*server.ClusterStatus, error) {
	code, out, errOut := clusterCLI("status", "-o", "json", "-endpoint", endpoint)
	if code != 0 {
		return nil, fmt.Errorf("exit %d: %s", code, errOut)
	}
	var st server.ClusterStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	return &st, nil
}

// eventuallyOK retries f for up to 30 s, for what waits on JetStream.
func eventuallyOK(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after 30s: %v", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestClusterCLI: cluster status through any node of three shows every
// node current and the log of a stream's shards, named by stream and
// shards, with three current replicas; once a node is stopped it shows
// offline and the logs under-replicated. remove-node refuses unknown and
// online nodes, with the server's reason and exit code 1, and removes
// the stopped one.
func TestClusterCLI(t *testing.T) {
	nodes := startServerCluster(t, 3)
	streamsEnv(t, nodes[0].endpoint())
	streams(t, "", "create", "orders", "-shards", "2")

	// Each node names the logs of the streams its catalog knows, which
	// follows the others' changes.
	for _, nd := range nodes {
		eventuallyOK(t, "status through "+nd.name+" shows everything current", func() error {
			st, err := clusterStatus(nd.endpoint())
			if err != nil {
				return err
			}
			return checkAllCurrent(st, nd.name)
		})
	}
	code, table, errOut := clusterCLI("status", "-endpoint", nodes[0].endpoint())
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"cluster tributary, seen from n0; meta leader: n", "NODE  ADDRESS", "current",
		"orders shardId-000000000000..shardId-000000000001 (2 shards)", "(metadata)", "3/3",
		"2 log(s), 0 under-replicated, 0 without a leader"} {
		if !strings.Contains(table, want) {
			t.Errorf("status table lacks %q:\n%s", want, table)
		}
	}

	nodes[2].stop(t)
	eventuallyOK(t, "the stopped node offline and the logs under-replicated", func() error {
		st, err := clusterStatus(nodes[0].endpoint())
		if err != nil {
			return err
		}
		for _, n := range st.Nodes {
			if (n.Name == "n2") != n.Offline {
				return fmt.Errorf("node %+v", n)
			}
		}
		for _, l := range st.Logs {
			if !l.UnderReplicated || l.Current != 2 || l.Leader == "" {
				return fmt.Errorf("log %s: %+v, want under-replicated with 2 current and a leader", l.Name, l.LogStatus)
			}
		}
		return nil
	})
	_, table, _ = clusterCLI("status", "-endpoint", nodes[0].endpoint())
	t.Logf("cluster status with n2 stopped:\n%s", table)
	for _, want := range []string{"offline", "n2:offline", "2/3", "2 log(s), 2 under-replicated"} {
		if !strings.Contains(table, want) {
			t.Errorf("status table lacks %q:\n%s", want, table)
		}
	}

	for _, tc := range []struct {
		node, stderr string
	}{
		{"nobody", `tributary: error: store: no such node in the cluster: "nobody" (the nodes are n0, n1, n2) (UnknownNode)` + "\n"},
		{"n1", `tributary: error: store: the node is online: "n1" is up; remove only a node that is gone for good`},
	} {
		code, _, errOut := clusterCLI("remove-node", tc.node, "-endpoint", nodes[0].endpoint())
		if code != 1 || !strings.HasPrefix(errOut, tc.stderr) {
			t.Errorf("remove-node %s: exit %d, stderr %q; want 1 and %q", tc.node, code, errOut, tc.stderr)
		}
	}
	code, out, errOut := clusterCLI("remove-node", "n2", "-endpoint", nodes[1].endpoint())
	if code != 0 || !strings.HasPrefix(out, "removed n2 from the cluster") {
		t.Fatalf("remove-node n2: exit %d: %s%s", code, out, errOut)
	}
	eventuallyOK(t, "n2 gone from the status", func() error {
		st, err := clusterStatus(nodes[0].endpoint())
		if err != nil {
			return err
		}
		for _, n := range st.Nodes {
			if n.Name == "n2" {
				return fmt.Errorf("n2 still listed: %+v", n)
			}
		}
		return nil
	})
	code, out, errOut = clusterCLI("stepdown", "-endpoint", nodes[0].endpoint())
	if code != 0 || !strings.HasPrefix(out, "new meta leader: n") {
		t.Errorf("stepdown: exit %d: %s%s", code, out, errOut)
	}
}

// checkAllCurrent checks a healthy status of n0..n2 seen from node, with
// the stream's log named by the stream and shards it holds.
func checkAllCurrent(st *server.ClusterStatus, node string) error {
	if !st.Clustered || st.Node != node || st.MetaLeader == "" || len(st.Nodes) != 3 {
		return fmt.Errorf("status %+v", st.ClusterStatus)
	}
	for i, n := range st.Nodes {
		if n.Name != "n"+strconv.Itoa(i) || !n.Current || n.Offline || n.Address == "" {
			return fmt.Errorf("node %+v", n)
		}
	}
	shards := map[string]bool{}
	meta := false
	for _, l := range st.Logs {
		if l.Current != 3 || l.Replicas != 3 || l.UnderReplicated || l.Leader == "" {
			return fmt.Errorf("log %s: %+v", l.Name, l.LogStatus)
		}
		switch l.Holds {
		case "shards":
			if l.Stream != "orders" || l.Account == "" {
				return fmt.Errorf("log %s holds %+v", l.Name, l)
			}
			for _, sh := range l.Shards {
				shards[sh] = true
			}
		case "metadata":
			meta = true
		}
	}
	if len(st.Logs) != 2 || !meta || !shards["shardId-000000000000"] || !shards["shardId-000000000001"] {
		return fmt.Errorf("logs %+v: want both shards of orders and the metadata", st.Logs)
	}
	return nil
}

// TestClusterCLIErrors: wrong invocations exit 2, and failures to reach
// a node, or a server that requires credentials, exit 1 with what went
// wrong. A node alone reports itself with one-replica logs.
func TestClusterCLIErrors(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("AKIDOPS secretops 123456789012\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := inproc.Start(t, "-credentials", creds)
	notTributary := httptest.NewServer(http.NotFoundHandler())
	defer notTributary.Close()
	streamsEnv(t, srv.Endpoint)
	cases := []struct {
		args   []string
		code   int
		stderr string // a substring
	}{
		{[]string{}, 2, "tributary: cluster: missing command\n"},
		{[]string{"explode"}, 2, `tributary: cluster: unknown command "explode"`},
		{[]string{"remove-node"}, 2, "tributary: cluster remove-node: missing node name\n"},
		{[]string{"remove-node", "a", "b"}, 2, `tributary: cluster remove-node: unexpected argument "b"`},
		{[]string{"status", "x"}, 2, `tributary: cluster status: unexpected argument "x"`},
		{[]string{"status", "-o", "yaml"}, 2, `tributary: cluster status: -o: "yaml" is not table or json`},
		{[]string{"status", "-endpoint", "127.0.0.1:4567"}, 2, `tributary: cluster status: -endpoint: "127.0.0.1:4567" is not an http:// or https:// URL`},
		{[]string{"status", "-bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"status", "-endpoint", "http://127.0.0.1:1"}, 1, "tributary: cannot reach the Tributary node at http://127.0.0.1:1: "},
		{[]string{"status"}, 1, "401 Unauthorized: /cluster needs HTTP Basic credentials"},
		{[]string{"status", "-endpoint", notTributary.URL}, 1, "404 Not Found: no cluster operations at this endpoint"},
		{[]string{"help"}, 0, ""},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := clusterCLI(tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.stderr)
			}
		})
	}

	// Signed with a key of the server's, the status of a node alone.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDOPS")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secretops")
	streams(t, "", "create", "solo")
	code, out, errOut := clusterCLI("status")
	if code != 0 {
		t.Fatalf("signed status: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"not clustered: node tributary alone", "solo shardId-000000000000", "1/1", "0 under-replicated"} {
		if !strings.Contains(out, want) {
			t.Errorf("status of a node alone lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut = clusterCLI("stepdown")
	if code != 1 || !strings.Contains(errOut, "(NotClustered)") {
		t.Errorf("stepdown alone: exit %d, %q", code, errOut)
	}
}
