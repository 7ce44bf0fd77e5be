package connect

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// TestHostileConnectorNames: connector names of any length and with the
// characters NATS gives a meaning (dots, wildcards, spaces) or cannot
// carry in a subject (unicode, a 2,100-character name) are stored like
// any other, as Kafka Connect stores them. They run, are read back,
// listed, have offsets, are deleted; and no name takes the store down:
// PutRecord and other Connect writes still succeed afterwards. Before
// keys were bounded, the long name's metadata key closed the server's
// only connection to JetStream and every later write failed with 500.
func TestHostileConnectorNames(t *testing.T) {
	srv := start(t)
	a := api{t: t, base: srv.ConnectURL}
	c := srv.Client()
	ctx := testserver.Context(t, 60*time.Second)
	put := func(stream string) {
		t.Helper()
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream),
			PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
			t.Fatalf("PutRecord after hostile names: %v", err)
		}
	}
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("after"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	put("after")

	long := strings.Repeat("n", 2100)
	names := []string{long, "dots.in.the.name", "spaces in the name", "*", ">", "a.*.>", "ünïcødé 名前 ✓", "=starts-with-equals"}
	label := func(name string) string {
		if len(name) > 40 {
			return fmt.Sprintf("the %d-character name", len(name))
		}
		return fmt.Sprintf("%q", name)
	}
	path := func(name string) string { return "/connectors/" + url.PathEscape(name) }
	stream := func(i int) string { return fmt.Sprintf("hostile-%d", i) }
	// All are created first and checked together: each source then
	// runs concurrently with the others.
	for i, name := range names {
		in := writeFile(t, "in.txt", "one\ntwo\nthree\n")
		config := map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": stream(i), "tasks.max": "1"}
		// The long name is created with PUT .../config, the others with
		// POST: the issue found both.
		if name == long {
			if code, _, body := a.do("PUT", path(name)+"/config", config); code != 201 {
				t.Fatalf("PUT config of %s = %d %.300v", label(name), code, body)
			}
		} else if code, msg := postConnector(t, a, name, config); code != 201 {
			t.Fatalf("POST %s = %d %.300s", label(name), code, msg)
		}
		put("after")
	}
	_, _, list := a.do("GET", "/connectors", nil)
	for i, name := range names {
		code, _, body := a.do("GET", path(name), nil)
		if code != 200 || body.(map[string]any)["name"] != name {
			t.Fatalf("GET %s = %d %.300v", label(name), code, body)
		}
		if !contains(list, name) {
			t.Fatalf("GET /connectors lacks %s: %.300v", label(name), list)
		}
		testserver.WaitUntil(t, "three records from "+label(name), 20*time.Second, func() bool {
			return len(testserver.ReadStream(t, c, stream(i))) == 3
		})
		testserver.WaitUntil(t, "committed offsets of "+label(name), 20*time.Second, func() bool {
			_, _, b := a.do("GET", path(name)+"/offsets", nil)
			offs, _ := b.(map[string]any)["offsets"].([]any)
			return len(offs) == 1
		})
		_, _, st := a.do("GET", path(name)+"/status", nil)
		if st.(map[string]any)["name"] != name {
			t.Fatalf("status of %s = %.300v", label(name), st)
		}
	}
	for _, name := range names {
		if code, _, body := a.do("DELETE", path(name), nil); code != 204 {
			t.Fatalf("DELETE %s = %d %.300v", label(name), code, body)
		}
		if code, _, _ := a.do("GET", path(name), nil); code != 404 {
			t.Fatalf("GET %s after DELETE = %d", label(name), code)
		}
	}
	if _, _, list := a.do("GET", "/connectors", nil); fmt.Sprint(list) != "[]" {
		t.Fatalf("GET /connectors after the deletes = %.300v", list)
	}
	// Every kind of write still works: the data plane, and a connector
	// created, run and deleted afterwards.
	put("after")
	out := filepath.Join(t.TempDir(), "out.txt")
	if code, _, body := a.do("PUT", "/connectors/plain/config", map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": "after"}); code != 201 {
		t.Fatalf("PUT plain = %d %v", code, body)
	}
	testserver.WaitUntil(t, "the sink to copy the stream", 20*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		return strings.Count(string(b), "\n") == len(names)+2
	})
	if code, _, body := a.do("DELETE", "/connectors/plain", nil); code != 204 {
		t.Fatalf("DELETE plain = %d %v", code, body)
	}
	if _, err := c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("after")}); err != nil {
		t.Fatal(err)
	}
}

func contains(list any, name string) bool {
	l, _ := list.([]any)
	for _, n := range l {
		if n == name {
			return true
		}
	}
	return false
}

// TestHostileConnectorNamesSurviveRestart: a connector whose name is
// stored under hashed keys comes back after a restart on the same data
// directory, listed under its own name, and resumes from its committed
// offset rather than copying its file again.
func TestHostileConnectorNamesSurviveRestart(t *testing.T) {
	data := t.TempDir()
	worker := writeFile(t, "worker.properties", "offset.flush.interval.ms=200\n")
	flags := []string{"-data-dir", data, "-connect-worker-config", worker, allowTemp()}
	srv := inproc.Start(t, flags...)
	a := api{t: t, base: srv.ConnectURL}
	name := strings.Repeat("é.*>", 600) // 3,000 bytes of UTF-8
	path := "/connectors/" + url.PathEscape(name)
	in := writeFile(t, "in.txt", "one\ntwo\nthree\n")
	if code, msg := postConnector(t, a, name, map[string]string{
		"connector.class": "FileStreamSource", "file": in, "topic": "restarted", "tasks.max": "1"}); code != 201 {
		t.Fatalf("POST = %d %.300s", code, msg)
	}
	testserver.WaitUntil(t, "committed offsets", 20*time.Second, func() bool {
		_, _, b := a.do("GET", path+"/offsets", nil)
		offs, _ := b.(map[string]any)["offsets"].([]any)
		return len(offs) == 1
	})
	srv.Stop()

	srv = inproc.Start(t, flags...)
	a = api{t: t, base: srv.ConnectURL}
	_, _, list := a.do("GET", "/connectors", nil)
	if !contains(list, name) {
		t.Fatalf("after restart, GET /connectors = %.300v", list)
	}
	testserver.WaitUntil(t, "the connector RUNNING again", 20*time.Second, func() bool {
		_, _, st := a.do("GET", path+"/status", nil)
		m, _ := st.(map[string]any)
		c, _ := m["connector"].(map[string]any)
		return c["state"] == "RUNNING"
	})
	f, err := os.OpenFile(in, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("four\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var recs int
	testserver.WaitUntil(t, "the appended line", 20*time.Second, func() bool {
		recs = len(testserver.ReadStream(t, srv.Client(), "restarted"))
		return recs >= 4
	})
	if recs != 4 {
		t.Fatalf("%d records after the restart, want 4: the source did not resume from its offset", recs)
	}
}
