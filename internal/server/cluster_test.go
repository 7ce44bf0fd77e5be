package server_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/tributary-data/tributary/internal/server"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// getJSON decodes a GET's JSON answer, returning its status code.
func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode
}

// metric is the value of an unlabelled metric on a server's /metrics.
func metric(t *testing.T, p *testserver.Proc, name string) string {
	t.Helper()
	resp, err := http.Get(p.Endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// TestClusterNodesServe: three nodes form a cluster and each serves
// both APIs. /health on every node says the cluster is usable, with its
// peers, meta leader and three replicas; the metrics say so too. A
// stream created through one node takes records through it and gives
// them back in order; every node answers ListStreams and
// DescribeStreamSummary with the stream or AWS's not-found error (which
// nodes see another's new stream at once is the catalog's business),
// and every node's Connect API reports the one Kafka cluster id.
func TestClusterNodesServe(t *testing.T) {
	nodes := inproc.StartCluster(t, 3)
	ctx := testserver.Context(t, time.Minute)
	var clusterID string
	for _, nd := range nodes {
		var h server.Health
		if code := getJSON(t, nd.Endpoint+"/health", &h); code != http.StatusOK || h.Status != "ok" || h.Cluster == nil {
			t.Fatalf("%s: GET /health = %d %+v", nd.Name, code, h)
		}
		if c := h.Cluster; c.Status != "ok" || c.Node != nd.Name || c.MetaLeader == "" || !c.JetStreamCurrent ||
			len(c.Peers) != 2 || c.Replicas != 3 || c.Error != "" {
			t.Fatalf("%s: /health cluster = %+v", nd.Name, c)
		}
		if p, cur := metric(t, nd.Proc, "tributary_cluster_peers"), metric(t, nd.Proc, "tributary_cluster_jetstream_current"); p != "2" || cur != "1" {
			t.Errorf("%s: tributary_cluster_peers %q, tributary_cluster_jetstream_current %q; want 2 and 1", nd.Name, p, cur)
		}
		var root struct {
			ClusterID string `json:"kafka_cluster_id"`
		}
		if code := getJSON(t, nd.ConnectURL+"/", &root); code != http.StatusOK || root.ClusterID == "" {
			t.Fatalf("%s: Connect GET / = %d %+v", nd.Name, code, root)
		}
		if clusterID == "" {
			clusterID = root.ClusterID
		} else if root.ClusterID != clusterID {
			t.Errorf("%s: kafka_cluster_id %q, another node's %q: one cluster, one id", nd.Name, root.ClusterID, clusterID)
		}
	}

	a := nodes[0].Client()
	const stream = "through-a"
	if _, err := a.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	testserver.WaitUntil(t, "the stream to be ACTIVE", 30*time.Second, func() bool {
		out, err := a.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})
	var want []string
	for i := range 20 {
		data := fmt.Sprintf("record-%02d", i)
		if _, err := a.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), Data: []byte(data),
			PartitionKey: aws.String("one-key")}); err != nil {
			t.Fatal(err)
		}
		want = append(want, data)
	}
	var got []string
	for _, r := range testserver.ReadStream(t, a, stream) {
		got = append(got, string(r.Data))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("read back through the node that took them: %q, want %q", got, want)
	}

	for _, nd := range nodes {
		c := nd.Client()
		if _, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
			t.Errorf("%s: ListStreams: %v", nd.Name, err)
		}
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		var nf *types.ResourceNotFoundException
		switch {
		case err == nil && out.StreamDescriptionSummary.OpenShardCount == nil:
			t.Errorf("%s: DescribeStreamSummary without OpenShardCount: %+v", nd.Name, out.StreamDescriptionSummary)
		case err == nil && *out.StreamDescriptionSummary.OpenShardCount != 2:
			t.Errorf("%s: DescribeStreamSummary: %d open shards, want 2", nd.Name, *out.StreamDescriptionSummary.OpenShardCount)
		case err != nil && (nd == nodes[0] || !errors.As(err, &nf)):
			t.Errorf("%s: DescribeStreamSummary: %v", nd.Name, err)
		}
	}
}

// TestClusterNodeWaitsForQuorum: a node started before the others waits
// for a quorum with its port answering: /health says 503, the cluster
// forming and why (the node reaches none of its peers), and API requests
// get AWS's retriable ServiceUnavailable. Once the others start it
// serves, and /health says ok.
func TestClusterNodeWaitsForQuorum(t *testing.T) {
	c := inproc.NewCluster(t, 3)
	addr := testserver.FreeAddr(t)
	first := make(chan error, 1)
	go func() { first <- c.Nodes[0].Start(t, addr) }()
	t.Cleanup(func() { <-first }) // the start is bounded; a failed test waits for it

	var h server.Health
	testserver.WaitUntil(t, "/health to say what the waiting node lacks", 20*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/health")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		h = server.Health{}
		return resp.StatusCode == http.StatusServiceUnavailable && json.NewDecoder(resp.Body).Decode(&h) == nil &&
			h.Cluster != nil && strings.Contains(h.Cluster.Error, "connected to 0 node(s)")
	})
	if h.Status != "unavailable" || h.Cluster.Status != "forming" || h.Cluster.Node != "n0" || h.Storage.Status != "starting" {
		t.Fatalf("waiting node's /health: %+v %+v", h, h.Cluster)
	}
	_, err := testserver.NewClient("http://"+addr).ListStreams(t.Context(), &kinesis.ListStreamsInput{})
	var apiErr smithy.APIError
	var respErr *smithyhttp.ResponseError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ServiceUnavailable" ||
		!errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusServiceUnavailable {
		t.Fatalf("ListStreams on a waiting node: %v; want a 503 ServiceUnavailable", err)
	}

	c.Start(t, "127.0.0.1:0", c.Nodes[1:])
	select {
	case err := <-first:
		first <- err
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the first node did not start within 30s of the others")
	}
	h = server.Health{}
	if code := getJSON(t, c.Nodes[0].Endpoint+"/health", &h); code != http.StatusOK || h.Cluster == nil || h.Cluster.Status != "ok" {
		t.Fatalf("GET /health once the cluster formed = %d %+v", code, h)
	}
	if _, err := c.Nodes[0].Client().ListStreams(t.Context(), &kinesis.ListStreamsInput{}); err != nil {
		t.Fatal(err)
	}
}
