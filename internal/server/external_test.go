package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/tributary-data/tributary/internal/server"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// TestExternalNATSServes: a server with -nats-url runs no JetStream of
// its own and keeps its streams on the user's nats-server, reached with
// a user and a password read from a file: a record put through it is
// read back, also after the server restarts with nothing on its disk.
func TestExternalNATSServes(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, JetStream: true,
		StoreDir: t.TempDir(), Username: "app", Password: "app-password", NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	pw := filepath.Join(t.TempDir(), "nats-password")
	if err := os.WriteFile(pw, []byte("app-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := []string{"-nats-url", ns.ClientURL(), "-nats-user", "app", "-nats-password-file", pw}
	ctx := testserver.Context(t, time.Minute)

	p := inproc.Start(t, flags...)
	var h server.Health
	if code := getJSON(t, p.Endpoint+"/health", &h); code != http.StatusOK || h.Cluster == nil ||
		h.Cluster.Status != "ok" || !h.Cluster.External || h.Cluster.Replicas != 1 {
		t.Fatalf("GET /health = %d %+v %+v", code, h, h.Cluster)
	}
	c := p.Client()
	const stream = "on-external-nats"
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	testserver.WaitUntil(t, "the stream to be ACTIVE", 30*time.Second, func() bool {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})
	put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), Data: []byte("kept by nats"), PartitionKey: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	check := func(c *kinesis.Client) {
		t.Helper()
		recs := testserver.ReadStream(t, c, stream)
		if len(recs) != 1 || string(recs[0].Data) != "kept by nats" || aws.ToString(recs[0].SequenceNumber) != aws.ToString(put.SequenceNumber) {
			t.Fatalf("read %+v, want the one record put (%s)", recs, aws.ToString(put.SequenceNumber))
		}
	}
	check(c)
	p.Stop()

	p = inproc.Start(t, flags...)
	check(p.Client())
}
