package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testfs"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// TestFullDiskConnector runs a FileStreamSource connector into a server
// whose data directory fills up: the task keeps RUNNING while its writes
// are refused, and once space is freed every line of the file reaches
// the stream without a restart of the task or the server.
func TestFullDiskConnector(t *testing.T) {
	fsDir := testfs.Tmpfs(t, 64<<20)
	files := t.TempDir() // off the full filesystem
	worker := filepath.Join(files, "worker.properties")
	if err := os.WriteFile(worker, []byte("offset.flush.interval.ms=200\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(files, "in.txt")
	p := inproc.Start(t, "-data-dir", fsDir+"/data", "-connect-worker-config", worker,
		"-connect-allowed-paths="+files)
	appendLines(t, in, 1, 100)
	status := connectJSON(t, http.MethodPost, p.ConnectURL+"/connectors", map[string]any{"name": "lines", "config": map[string]string{
		"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
		"file":            in,
		"topic":           "lines",
	}})
	if status != http.StatusCreated {
		t.Fatalf("create connector: %d", status)
	}
	c := p.Client()
	waitLines := func(n int) {
		t.Helper()
		testserver.WaitUntil(t, fmt.Sprintf("%d lines in the stream", n), callTimeout, func() bool {
			return len(distinct(testserver.ReadStream(t, c, "lines"))) >= n
		})
	}
	waitLines(100)
	filler := testfs.Fill(t, fsDir)
	appendLines(t, in, 101, 200)
	testserver.WaitUntil(t, "the connector's write to be refused", callTimeout, func() bool {
		return strings.Contains(p.Log(), `msg="storing records" component=kinesis stream=lines`)
	})
	if st := taskState(t, p.ConnectURL); st != "RUNNING" {
		t.Fatalf("task state with a full disk: %s, want RUNNING", st)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitLines(200)
	if st := taskState(t, p.ConnectURL); st != "RUNNING" {
		t.Errorf("task state after space was freed: %s, want RUNNING", st)
	}
	got := distinct(testserver.ReadStream(t, c, "lines"))
	for i := 1; i <= 200; i++ {
		if !got[fmt.Sprintf("line %d", i)] {
			t.Errorf("line %d missing", i)
		}
	}
}

func appendLines(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := from; i <= to; i++ {
		fmt.Fprintf(f, "line %d\n", i)
	}
}

// lineRE finds a line's text in a record's value, whatever the
// converter wrapped it in.
var lineRE = regexp.MustCompile(`line \d+`)

// distinct returns the lines the records hold, as a set: the source
// delivers each line at least once.
func distinct(recs []types.Record) map[string]bool {
	out := map[string]bool{}
	for _, r := range recs {
		if l := lineRE.FindString(string(r.Data)); l != "" {
			out[l] = true
		}
	}
	return out
}

// connectJSON sends a request with a JSON body to the Connect REST API
// and returns the status.
func connectJSON(t *testing.T, method, url string, body any) int {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// taskState is the state of task 0 of connector "lines".
func taskState(t *testing.T, base string) string {
	t.Helper()
	client := &http.Client{Timeout: callTimeout}
	resp, err := client.Get(base + "/connectors/lines/tasks/0/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		State string `json:"state"`
		Trace string `json:"trace"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("task status: %d: %v", resp.StatusCode, err)
	}
	if st.Trace != "" {
		t.Logf("task trace: %s", st.Trace)
	}
	return st.State
}
