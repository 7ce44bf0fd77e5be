package connect

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"

	"github.com/tributary-data/tributary/internal/syncbuf"
)

// awsEnv is the environment of a standalone worker: dummy credentials,
// which a Tributary server that does not check signatures takes.
var awsEnv = []string{"AWS_ACCESS_KEY_ID=standalone-test", "AWS_SECRET_ACCESS_KEY=standalone-secret", "AWS_REGION=us-east-1"}

// streamRecords is readStream for a stream that may not exist yet: it
// returns nil until the stream does.
func streamRecords(t *testing.T, c *kinesis.Client, stream string) []types.Record {
	t.Helper()
	_, err := c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		t.Fatalf("describe %s: %v", stream, err)
	}
	return testserver.ReadStream(t, c, stream)
}

// standaloneWorker is a running `tributary connect standalone`.
type standaloneWorker struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  *syncbuf.Buffer
	done chan struct{}
}

// startStandalone runs `tributary connect standalone worker connectors...`
// with testEnv(env...). The process is killed when the test ends; its
// output is logged if the test failed.
func startStandalone(t *testing.T, name string, env []string, worker string, connectors ...string) *standaloneWorker {
	t.Helper()
	w := &standaloneWorker{t: t, name: name, log: &syncbuf.Buffer{}, done: make(chan struct{})}
	w.cmd = exec.Command(testserver.Binary(t), append([]string{"connect", "standalone", worker}, connectors...)...)
	w.cmd.Env = testEnv(env...)
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = w.cmd.Wait(); close(w.done) }()
	t.Cleanup(func() {
		select {
		case <-w.done:
		default:
			_ = w.cmd.Process.Kill()
			<-w.done
		}
		if t.Failed() {
			t.Logf("%s worker output:\n%s", w.name, w.log.String())
		}
	})
	return w
}

// alive fails the test if the worker has exited.
func (w *standaloneWorker) alive() {
	w.t.Helper()
	select {
	case <-w.done:
		w.t.Fatalf("%s worker exited (%s):\n%s", w.name, w.cmd.ProcessState, w.log.String())
	default:
	}
}

// stop sends SIGTERM and returns the exit code of the clean exit.
func (w *standaloneWorker) stop() int {
	w.t.Helper()
	w.alive()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		w.t.Fatal(err)
	}
	select {
	case <-w.done:
	case <-time.After(time.Minute):
		w.t.Fatalf("%s worker did not exit within a minute of SIGTERM", w.name)
	}
	return w.cmd.ProcessState.ExitCode()
}

// restAddr waits for the worker to log that it has started and returns
// the address its REST API listens on: the workers here listen on
// 127.0.0.1:0, so the port is the one the worker bound.
func (w *standaloneWorker) restAddr() string {
	w.t.Helper()
	var addr string
	testserver.WaitUntil(w.t, w.name+" worker's start", 30*time.Second, func() bool {
		w.alive()
		m := startedRE.FindStringSubmatch(w.log.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	return addr
}

// startedRE finds the REST address in a standalone worker's start line.
var startedRE = regexp.MustCompile(`msg="connect standalone worker started" rest=(\S+)`)

// waitRunning waits until the worker's REST API answers and reports the
// connector and its one task RUNNING, and returns the API's base URL.
func (w *standaloneWorker) waitRunning(connector string) string {
	w.t.Helper()
	base := "http://" + w.restAddr()
	testserver.WaitUntil(w.t, w.name+" worker's REST API", 30*time.Second, func() bool {
		w.alive()
		resp, err := http.Get(base + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	a := api{t: w.t, base: base}
	var last any
	testserver.WaitUntil(w.t, connector+" RUNNING on the "+w.name+" worker", 30*time.Second, func() bool {
		w.alive()
		code, _, body := a.do("GET", "/connectors/"+connector+"/status", nil)
		last = body
		if code != 200 {
			return false
		}
		m := body.(map[string]any)
		tasks, _ := m["tasks"].([]any)
		return m["connector"].(map[string]any)["state"] == "RUNNING" && len(tasks) == 1 &&
			tasks[0].(map[string]any)["state"] == "RUNNING"
	})
	if m, _ := last.(map[string]any); m["type"] != "source" {
		w.t.Errorf("status = %v, want a source", last)
	}
	return base
}

// numbered is line i of the test input.
func numbered(i int) string { return fmt.Sprintf("%06d the line numbered %d", i, i) }

// appendLines appends lines from..to-1 to path and returns its new size.
func appendLines(t *testing.T, path string, from, to int) int64 {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString(numbered(i) + "\n")
	}
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return fileSize(path)
}

// checkLines checks that recs are lines 0..n-1, in order, each once.
func checkLines(t *testing.T, recs []types.Record, n int) {
	t.Helper()
	for i := 0; i < min(len(recs), n); i++ {
		if got := string(recs[i].Data); got != numbered(i) {
			t.Fatalf("record %d of %d is %q, want %q", i, len(recs), got, numbered(i))
		}
	}
	if len(recs) != n {
		extra := ""
		if len(recs) > n {
			extra = fmt.Sprintf("; record %d is %q", n, recs[n].Data)
		}
		t.Fatalf("the stream holds %d records, want %d%s", len(recs), n, extra)
	}
}

// committedPosition returns the position the offsets file holds for the
// source's one partition, {"filename": in}.
func committedPosition(t *testing.T, path, in string) int64 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("offsets file: %v", err)
	}
	var stored map[string]struct {
		Partition map[string]any `json:"partition"`
		Offset    map[string]any `json:"offset"`
	}
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatalf("offsets file %s is not a JSON object of offsets: %v\n%s", path, err, raw)
	}
	if len(stored) != 1 {
		t.Fatalf("offsets file holds %d entries, want 1:\n%s", len(stored), raw)
	}
	for _, po := range stored {
		pos, ok := po.Offset["position"].(float64)
		if fmt.Sprint(po.Partition) != fmt.Sprint(map[string]any{"filename": in}) || len(po.Offset) != 1 || !ok {
			t.Fatalf("offsets file holds %v → %v, want {filename: %s} → {position: n}:\n%s", po.Partition, po.Offset, in, raw)
		}
		return int64(pos)
	}
	panic("unreachable")
}

// checkOffsetsFile checks that the offsets file holds the source's one
// partition, {"filename": in}, at position.
func checkOffsetsFile(t *testing.T, path, in string, position int64) {
	t.Helper()
	if got := committedPosition(t, path, in); got != position {
		t.Fatalf("offsets file holds position %d, want %d", got, position)
	}
}

// TestStandalone runs `tributary connect standalone` as users do: a
// worker and a FileStreamSource from properties files, reaching a
// Tributary server through the Kinesis API. The source copies 1,000
// lines; after a clean stop (SIGTERM) the offsets are in the file; a
// second run with 500 more lines in the input resumes from them and
// sends only the new lines. It runs with offsets committed every 200 ms,
// and with an interval so long that only the commit on stop can have
// written them.
func TestStandalone(t *testing.T) {
	for _, c := range []struct {
		name    string
		flushMS int
	}{
		{"periodic commits", 200},
		{"commit on stop", 3_600_000},
	} {
		t.Run(c.name, func(t *testing.T) { testStandalone(t, c.flushMS) })
	}
}

func testStandalone(t *testing.T, flushMS int) {
	srv := inproc.Start(t)
	c := srv.Client()
	dir := t.TempDir()
	offsets := filepath.Join(dir, "offsets.json")
	in := filepath.Join(dir, "input.txt")
	size1 := appendLines(t, in, 0, 1000)

	worker := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(worker, []byte(fmt.Sprintf(`# connect-standalone worker against a local Tributary server
kinesis.endpoint=%s
kinesis.region=us-east-1
offset.storage.file.filename=%s
offset.flush.interval.ms=%d
listeners=http://127.0.0.1:0
`, srv.Endpoint, offsets, flushMS)), 0o644); err != nil {
		t.Fatal(err)
	}
	source := filepath.Join(dir, "source.properties")
	if err := os.WriteFile(source, []byte(fmt.Sprintf(`name=file-in
connector.class=FileStreamSource
file=%s
topic=standalone-lines
`, in)), 0o644); err != nil {
		t.Fatal(err)
	}
	// First run: the 1,000 lines.
	w := startStandalone(t, "first", awsEnv, worker, source)
	base := w.waitRunning("file-in")
	// The CLI manages a standalone worker too; its worker id is the
	// REST API's address.
	if r := runTributary(t, nil, "connect", "list", "-url", base); r.code != 0 {
		t.Errorf("connect list against the standalone worker: %s", r)
	} else {
		checkTable(t, "standalone list", r.stdout, []string{"NAME", "TYPE", "STATE", "TASKS", "WORKER"},
			[]string{"file-in", "source", "RUNNING", "1/1", strings.TrimPrefix(base, "http://")})
	}
	var recs []types.Record
	testserver.WaitUntil(t, "1,000 records in standalone-lines", time.Minute, func() bool {
		w.alive()
		recs = streamRecords(t, c, "standalone-lines")
		return len(recs) >= 1000
	})
	checkLines(t, recs, 1000)
	if code := w.stop(); code != 0 {
		t.Fatalf("first worker exited %d after SIGTERM:\n%s", code, w.log.String())
	}
	checkOffsetsFile(t, offsets, in, size1)
	// Nothing more arrived while it stopped.
	checkLines(t, streamRecords(t, c, "standalone-lines"), 1000)

	// Second run, same files: it resumes at the committed position.
	size2 := appendLines(t, in, 1000, 1500)
	w = startStandalone(t, "second", awsEnv, worker, source)
	base = w.waitRunning("file-in")
	testserver.WaitUntil(t, "1,500 records in standalone-lines", time.Minute, func() bool {
		w.alive()
		recs = streamRecords(t, c, "standalone-lines")
		return len(recs) >= 1500
	})
	// The worker's REST API shows the offsets it committed, if it
	// commits before it stops.
	a := api{t: t, base: base}
	if flushMS < 10_000 {
		testserver.WaitUntil(t, "the second worker's offsets at the end of the input", 30*time.Second, func() bool {
			_, _, body := a.do("GET", "/connectors/file-in/offsets", nil)
			return fmt.Sprint(body) == fmt.Sprint(map[string]any{"offsets": []any{map[string]any{
				"partition": map[string]any{"filename": in}, "offset": map[string]any{"position": float64(size2)}}}})
		})
	}
	if code := w.stop(); code != 0 {
		t.Fatalf("second worker exited %d after SIGTERM:\n%s", code, w.log.String())
	}
	checkLines(t, streamRecords(t, c, "standalone-lines"), 1500)
	checkOffsetsFile(t, offsets, in, size2)
}

// copyJob is a standalone worker's files for copying a file of numbered
// lines into a stream.
type copyJob struct {
	in, offsets, worker, source string
	// end[k] is the position in the input just after line k-1.
	end []int64
}

// newCopyJob writes an input of the given number of lines, a worker
// configuration against srv that commits offsets every 200 ms, and a
// FileStreamSource configuration copying the input into stream, with
// the given batch.size.
func newCopyJob(t *testing.T, srv *testserver.Proc, stream string, lines, batchSize int) copyJob {
	t.Helper()
	dir := t.TempDir()
	j := copyJob{in: filepath.Join(dir, "input.txt"), offsets: filepath.Join(dir, "offsets.json"),
		worker: filepath.Join(dir, "worker.properties"), source: filepath.Join(dir, "source.properties"),
		end: make([]int64, lines+1)}
	appendLines(t, j.in, 0, lines)
	for i := range lines {
		j.end[i+1] = j.end[i] + int64(len(numbered(i))+1)
	}
	if err := os.WriteFile(j.worker, []byte(fmt.Sprintf("kinesis.endpoint=%s\nkinesis.region=us-east-1\noffset.storage.file.filename=%s\noffset.flush.interval.ms=200\nlisteners=http://127.0.0.1:0\n",
		srv.Endpoint, j.offsets)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(j.source, []byte(fmt.Sprintf("name=file-in\nconnector.class=FileStreamSource\nfile=%s\ntopic=%s\nbatch.size=%d\n", j.in, stream, batchSize)), 0o644); err != nil {
		t.Fatal(err)
	}
	return j
}

// streamTail follows a one-shard stream, reading each record once.
type streamTail struct {
	c      *kinesis.Client
	stream string
	recs   []types.Record
}

// poll reads what arrived since the last poll and returns every record
// read so far.
func (s *streamTail) poll(t *testing.T) []types.Record {
	t.Helper()
	ctx := context.Background()
	shards, err := s.c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(s.stream)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return s.recs
	}
	if err != nil {
		t.Fatalf("list shards of %s: %v", s.stream, err)
	}
	if len(shards.Shards) != 1 {
		t.Fatalf("%s has %d shards, want 1", s.stream, len(shards.Shards))
	}
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(s.stream), ShardId: shards.Shards[0].ShardId,
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
	if n := len(s.recs); n > 0 {
		in.ShardIteratorType, in.StartingSequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, s.recs[n-1].SequenceNumber
	}
	it, err := s.c.GetShardIterator(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for iter := it.ShardIterator; iter != nil; {
		res, err := s.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatal(err)
		}
		s.recs = append(s.recs, res.Records...)
		if len(res.Records) == 0 {
			break
		}
		iter = res.NextShardIterator
	}
	return s.recs
}

// TestStandaloneStopMidCopy stops a standalone worker with SIGTERM
// again and again while its FileStreamSource is copying a file of
// 100,000 lines, restarting it each time, until the whole file is in the
// stream. A clean stop commits the offsets of everything sent, so after
// each stop the stream holds lines 0..k-1, each once, and the offsets
// file the position just after line k-1; and the file ends up in the
// stream exactly once. Where the stops land does not matter: that holds
// after any clean stop.
func TestStandaloneStopMidCopy(t *testing.T) {
	const lines = 100_000
	srv := inproc.Start(t)
	j := newCopyJob(t, srv, "mid-copy", lines, 2000)
	tail := &streamTail{c: srv.Client(), stream: "mid-copy"}
	copied := 0
	for run := 1; copied < lines; run++ {
		if run > 100 {
			t.Fatalf("%d runs copied only %d of %d lines", run-1, copied, lines)
		}
		w := startStandalone(t, fmt.Sprintf("run %d", run), awsEnv, j.worker, j.source)
		// Let it copy a 25th of the file (or the rest), then stop it,
		// most likely in the middle of its work.
		target := min(copied+lines/25, lines)
		testserver.WaitUntil(t, fmt.Sprintf("%d records in mid-copy", target), time.Minute, func() bool {
			w.alive()
			return len(tail.poll(t)) >= target
		})
		if code := w.stop(); code != 0 {
			t.Fatalf("run %d: exit code %d after SIGTERM", run, code)
		}
		recs := tail.poll(t)
		n := min(len(recs), lines)
		checkLines(t, recs, n)
		if pos := committedPosition(t, j.offsets, j.in); pos != j.end[n] {
			k, _ := slices.BinarySearch(j.end, pos)
			t.Fatalf("run %d: after SIGTERM the stream holds %d lines, but the offsets committed (position %d, want %d) cover %d: "+
				"a restart sends %d lines again", run, n, pos, j.end[n], k, n-k)
		}
		t.Logf("run %d: %d lines copied", run, n)
		copied = n
	}
	checkLines(t, streamRecords(t, srv.Client(), "mid-copy"), lines)
}

// TestStandaloneCustomCABundle copies a file of 100,000 lines with a
// standalone worker whose AWS configuration names a CA bundle
// (AWS_CA_BUNDLE, the usual way to trust a company's TLS proxy). Each
// line must reach the stream once, as without the bundle.
func TestStandaloneCustomCABundle(t *testing.T) {
	// Small polls make many PutRecords calls, each a chance to go wrong.
	const lines, batchSize = 100_000, 50
	srv := inproc.Start(t)
	j := newCopyJob(t, srv, "ca-bundle", lines, batchSize)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, selfSignedCA(t), 0o644); err != nil {
		t.Fatal(err)
	}
	w := startStandalone(t, "ca-bundle", append([]string{"AWS_CA_BUNDLE=" + bundle}, awsEnv...), j.worker, j.source)
	// Once the whole file's offsets are committed, everything is sent.
	a := api{t: t, base: w.waitRunning("file-in")}
	want := fmt.Sprint(map[string]any{"offsets": []any{map[string]any{
		"partition": map[string]any{"filename": j.in}, "offset": map[string]any{"position": float64(j.end[lines])}}}})
	testserver.WaitUntil(t, "the whole file's offsets committed", 2*time.Minute, func() bool {
		w.alive()
		_, _, body := a.do("GET", "/connectors/file-in/offsets", nil)
		return fmt.Sprint(body) == want
	})
	if code := w.stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	checkLines(t, streamRecords(t, srv.Client(), "ca-bundle"), lines)
}

// selfSignedCA returns a PEM CA certificate.
func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tributary test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestStandaloneBadInput checks how `tributary connect standalone`
// fails on bad command lines and files: exit code 2 for a wrong
// invocation, 1 for the rest, and a message saying what is wrong.
func TestStandaloneBadInput(t *testing.T) {
	srv := inproc.Start(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// workerFile is a valid worker configuration listening on its own port.
	workerFile := func(name string) string {
		return write(name, fmt.Sprintf("kinesis.endpoint=%s\nkinesis.region=us-east-1\noffset.storage.file.filename=%s\nlisteners=http://127.0.0.1:0\n",
			srv.Endpoint, filepath.Join(dir, name+".offsets.json")))
	}
	in := write("in.txt", "a line\n")
	missing := filepath.Join(dir, "missing.properties")
	noName := write("no-name.properties", "connector.class=FileStreamSource\nfile="+in+"\ntopic=bad-input\n")
	noTopic := write("no-topic.properties", "name=no-topic\nconnector.class=FileStreamSource\nfile="+in+"\n")
	unknownClass := write("unknown-class.properties", "name=unknown\nconnector.class=com.example.Nope\n")
	httpsWorker := write("https-worker.properties", "kinesis.endpoint="+srv.Endpoint+"\nlisteners=https://127.0.0.1:0\n")

	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no arguments", nil, 2,
			[]string{"usage: tributary connect standalone worker.properties [connector.properties ...]"}},
		{"a flag", []string{"-verbose", "worker.properties"}, 2,
			[]string{"usage: tributary connect standalone worker.properties"}},
		{"missing worker file", []string{missing}, 1,
			[]string{"tributary: worker properties: ", missing, "no such file or directory"}},
		{"https listener", []string{httpsWorker}, 2,
			[]string{"only an http:// listener is supported"}},
		{"missing connector file", []string{workerFile("w1.properties"), missing}, 1,
			[]string{"tributary: connector properties: ", missing, "no such file or directory"}},
		{"connector without name", []string{workerFile("w2.properties"), noName}, 1,
			[]string{"tributary: " + noName + ": the connector has no name"}},
		{"connector without topic", []string{workerFile("w3.properties"), noTopic}, 1,
			[]string{"tributary: " + noTopic + ": ", "Connector configuration is invalid and contains the following 1 error(s):",
				`Missing required configuration "topic" which has no default value.`}},
		{"unknown connector class", []string{workerFile("w4.properties"), unknownClass}, 1,
			[]string{"tributary: " + unknownClass + ": ", "com.example.Nope"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runTributary(t, awsEnv, append([]string{"connect", "standalone"}, c.args...)...)
			if r.code != c.code {
				t.Errorf("exit code %d, want %d\n%s", r.code, c.code, r)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}
