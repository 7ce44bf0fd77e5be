package ops

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/testserver"
)

// TestDataDirLock runs two servers on one data directory: the second is
// refused with a message naming the directory and the first server's
// pid, and the first keeps serving. After the first is killed with
// SIGKILL, which leaves its LOCK file behind, a new server starts on the
// directory at once and finds the data.
func TestDataDirLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := testserver.Start(t, "-data-dir", dir)
	ctx := testserver.Context(t, time.Minute)
	if _, err := first.Client().CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("locked"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}

	second := run(t, "serve", "-data-dir", dir, "-listen", "127.0.0.1:0", "-connect-listen", "127.0.0.1:0")
	if second.Code != 1 {
		t.Fatalf("second serve on %s exited %d; want 1:\n%s", dir, second.Code, second.Stderr)
	}
	contains(t, "second serve's error", second.Stderr, dir, pidText(first.PID()), "serve", "-data-dir")

	// The first server lost nothing and still takes writes.
	out, err := first.Client().ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil || len(out.StreamNames) != 1 {
		t.Fatalf("first server after the refused start: %v, %v", out, err)
	}
	if _, err := first.Client().PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("locked"),
		PartitionKey: aws.String("k"), Data: []byte("kept")}); err != nil {
		t.Fatalf("first server after the refused start: %v", err)
	}

	first.Kill()
	if b, err := os.ReadFile(filepath.Join(dir, "LOCK")); err != nil || len(b) == 0 {
		t.Fatalf("a killed server's LOCK file should remain (%q, %v): the test would not show it is harmless", b, err)
	}
	third := testserver.Start(t, "-data-dir", dir)
	if recs := testserver.ReadStream(t, third.Client(), "locked"); len(recs) != 1 || string(recs[0].Data) != "kept" {
		t.Fatalf("after the restart the stream holds %d records; want the one acknowledged before SIGKILL", len(recs))
	}
	b, err := os.ReadFile(filepath.Join(dir, "LOCK"))
	if err != nil {
		t.Fatal(err)
	}
	contains(t, "LOCK file", string(b), fmt.Sprintf("pid: %d\n", third.PID()), "command: ")
}

// TestStandaloneOffsetsLock runs two standalone workers on one offsets
// file: the second is refused, naming the file and the first's pid.
func TestStandaloneOffsetsLock(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, "-connect-listen", "")
	dir := t.TempDir()
	offsets := filepath.Join(dir, "offsets")
	worker := func(name string) string {
		path := filepath.Join(dir, name)
		body := fmt.Sprintf("kinesis.endpoint=%s\nkinesis.region=us-east-1\noffset.storage.file.filename=%s\nlisteners=http://%s\n",
			srv.Endpoint, offsets, "127.0.0.1:0")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	first := startProc(t, "connect", "standalone", worker("a.properties"))
	first.waitFor(t, "connect standalone worker started")

	second := run(t, "connect", "standalone", worker("b.properties"))
	if second.Code != 1 {
		t.Fatalf("second worker exited %d; want 1:\n%s", second.Code, second.Stderr)
	}
	contains(t, "second worker's error", second.Stderr, "offsets file "+offsets, pidText(first.cmd.Process.Pid))
}
