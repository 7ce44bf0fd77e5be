package ops

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/testserver"
)

// TestLogFormatJSON starts and stops serve with -log-format json at
// debug level, with every component busy (store, Kinesis, Connect with a
// connector), and checks that each line it wrote is a JSON object with
// time, level and msg. connect standalone gets the same check.
func TestLogFormatJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := testserver.Start(t, "-data-dir", dir, "-log-format", "json", "-log-level", "debug")
	ctx := testserver.Context(t, time.Minute)
	if _, err := p.Client().CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("logs"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(dir, "files", "input.txt") // where -connect-allowed-paths lets connectors read
	if err := os.WriteFile(input, []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, "connect", "create", "-url", p.ConnectURL, "-name", "file-src",
		"-c", "connector.class=FileStreamSource", "-c", "file="+input, "-c", "topic=logs")
	if res.Code != 0 {
		t.Fatalf("connect create: %d %s", res.Code, res.Stderr)
	}
	testserver.WaitUntil(t, "the connector's records", time.Minute, func() bool {
		return len(testserver.ReadStream(t, p.Client(), "logs")) == 2
	})
	p.Stop()
	checkJSONLines(t, "serve", p.Log(), 5)
	for _, dump := range []string{"JETSTREAM", "Max Memory", "Store Directory"} {
		if strings.Contains(p.Log(), dump) {
			t.Errorf("start-up dumped configuration (%q):\n%s", dump, p.Log())
		}
	}

	// Secrets from -credentials never reach the log, whatever the level.
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("AKIDLOGTEST s3cr3t-never-logged 111122223333\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withCreds := testserver.Start(t, "-credentials", creds, "-log-format", "json", "-log-level", "debug")
	withCreds.Stop()
	checkJSONLines(t, "serve -credentials", withCreds.Log(), 2)
	if strings.Contains(withCreds.Log(), "s3cr3t") {
		t.Errorf("the log shows a secret key:\n%s", withCreds.Log())
	}

	worker := filepath.Join(dir, "worker.properties")
	body := fmt.Sprintf("kinesis.endpoint=%s\nkinesis.region=us-east-1\noffset.storage.file.filename=%s\nlisteners=http://%s\n",
		"http://"+testserver.FreeAddr(t), filepath.Join(dir, "offsets"), "127.0.0.1:0")
	if err := os.WriteFile(worker, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	w := startProc(t, "connect", "standalone", "-log-format", "json", worker)
	w.waitFor(t, "connect standalone worker started")
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest := new(strings.Builder)
	for {
		line, err := w.stderr.ReadString('\n')
		rest.WriteString(line)
		if err != nil {
			break
		}
	}
	checkJSONLines(t, "connect standalone", w.log.String()+rest.String(), 2)
}

// checkJSONLines checks that every line of out is a JSON log record, and
// that there are at least min of them.
func checkJSONLines(t *testing.T, what, out string, min int) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < min {
		t.Fatalf("%s wrote %d lines, want at least %d:\n%s", what, len(lines), min, out)
	}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("%s: line is not JSON: %q", what, line)
			continue
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("%s: line lacks %q: %s", what, k, line)
			}
		}
	}
}
