package faults

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
)

// startNodes runs one `tributary serve` per node's flags, all at once
// (each waits for a quorum of the others), and returns once all serve.
func startNodes(t *testing.T, nodeFlags [][]string) []*testserver.Proc {
	t.Helper()
	procs := make([]*testserver.Proc, len(nodeFlags))
	errs := make([]error, len(nodeFlags))
	var wg sync.WaitGroup
	for i, flags := range nodeFlags {
		wg.Go(func() { procs[i], errs[i] = testserver.TryStart(t, flags...) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return procs
}

// stopNodes sends every node SIGTERM at once and checks that each exits
// cleanly, with status 0.
func stopNodes(t *testing.T, procs []*testserver.Proc) {
	t.Helper()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(p.Stop)
	}
	wg.Wait()
	for i, p := range procs {
		if code := p.ExitCode(); code != 0 {
			t.Errorf("node %d exited with status %d after SIGTERM:\n%s", i, code, p.Log())
		}
	}
}

// TestServeFormsCluster: three `tributary serve` processes given the
// cluster flags, one list of peers and a secret file form one cluster;
// each reports it on /health; a record written through one node is read
// back through it; SIGTERM stops every node with status 0, and started
// again on their data directories the nodes have the record.
func TestServeFormsCluster(t *testing.T) {
	t.Parallel()
	ctx := testserver.Context(t, 2*time.Minute)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("a-secret-of-the-three-nodes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for len(addrs) < 3 {
		if a := testserver.FreeAddr(t); !strings.Contains(strings.Join(addrs, ","), a) {
			addrs = append(addrs, a)
		}
	}
	var nodeFlags [][]string
	for i, addr := range addrs {
		nodeFlags = append(nodeFlags, []string{"-node-name", "node" + string(rune('a'+i)), "-cluster-listen", addr,
			"-peers", strings.Join(addrs, ","), "-cluster-secret-file", secret, "-replicas", "3", "-data-dir", t.TempDir(),
			"-log-level", "info"})
	}
	procs := startNodes(t, nodeFlags)
	for i, p := range procs {
		resp, err := http.Get(p.Endpoint + "/health")
		if err != nil {
			t.Fatal(err)
		}
		var h struct {
			Status  string
			Cluster struct {
				Status, Node string
				Peers        []string
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || h.Cluster.Status != "ok" || h.Cluster.Node != nodeFlags[i][1] || len(h.Cluster.Peers) != 2 {
			t.Fatalf("node %d: GET /health = %d %+v (%v)", i, resp.StatusCode, h, err)
		}
	}
	c := procs[0].Client()
	const stream = "formed"
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	active := func(c *kinesis.Client) func() bool {
		return func() bool {
			out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
			return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
		}
	}
	testserver.WaitUntil(t, "the stream to be ACTIVE", 30*time.Second, active(c))
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), Data: []byte("replicated"), PartitionKey: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	read := func(c *kinesis.Client) {
		t.Helper()
		if recs := testserver.ReadStream(t, c, stream); len(recs) != 1 || string(recs[0].Data) != "replicated" {
			t.Fatalf("read %+v, want the record written", recs)
		}
	}
	read(c)
	stopNodes(t, procs)

	procs = startNodes(t, nodeFlags)
	c = procs[0].Client()
	testserver.WaitUntil(t, "the stream to be ACTIVE after the restart", 30*time.Second, active(c))
	read(c)
	stopNodes(t, procs)
}
