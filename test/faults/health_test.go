package faults

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/testfs"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// healthReport is what the health endpoints and the gauge say at one
// moment.
type healthReport struct {
	kinesisCode, connectCode  int
	storage, storageError     string
	connectStatus, connectMsg string
	gauge                     string // tributary_store_full's value
}

// full says whether every part reports the store full, and healthy
// whether every part reports it well.
func (h healthReport) full() bool {
	return h.kinesisCode == http.StatusServiceUnavailable && h.storage == "full" &&
		h.connectCode == http.StatusInternalServerError && h.connectStatus == "unhealthy" && h.gauge == "1"
}

func (h healthReport) healthy() bool {
	return h.kinesisCode == http.StatusOK && h.storage == "ok" &&
		h.connectCode == http.StatusOK && h.connectStatus == "healthy" && h.gauge == "0"
}

// httpGet returns the status and body of a GET, failing the test if it
// cannot be sent.
func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	c := http.Client{Timeout: callTimeout}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, b
}

// checkHealth reads GET /health on both ports and the full gauge.
func checkHealth(t *testing.T, p *testserver.Proc) healthReport {
	t.Helper()
	var h healthReport
	code, b := httpGet(t, p.Endpoint+"/health")
	var kh struct {
		Storage struct{ Status, Error string } `json:"storage"`
	}
	if err := json.Unmarshal(b, &kh); err != nil {
		t.Fatalf("GET /health on the Kinesis port: %v: %s", err, b)
	}
	h.kinesisCode, h.storage, h.storageError = code, kh.Storage.Status, kh.Storage.Error
	code, b = httpGet(t, p.ConnectURL+"/health")
	var ch struct{ Status, Message string }
	if err := json.Unmarshal(b, &ch); err != nil {
		t.Fatalf("GET /health on the Connect port: %v: %s", err, b)
	}
	h.connectCode, h.connectStatus, h.connectMsg = code, ch.Status, ch.Message
	_, b = httpGet(t, p.Endpoint+"/metrics")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "tributary_store_full "); ok {
			h.gauge = v
		}
	}
	return h
}

// waitHealth polls until cond holds for the health report.
func waitHealth(t *testing.T, p *testserver.Proc, what string, cond func(healthReport) bool) healthReport {
	t.Helper()
	var h healthReport
	testserver.WaitUntil(t, what, callTimeout, func() bool {
		h = checkHealth(t, p)
		return cond(h)
	})
	return h
}

// TestHealthReportsFullStore fills the store, once to -max-store-bytes
// and once by filling the data directory's filesystem (a tmpfs), and
// checks that both health endpoints and the tributary_store_full gauge
// say writes are refused and why, and that they report healthy again by
// themselves once space is freed.
func TestHealthReportsFullStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		// fill makes the store full and returns what frees it again.
		fill    func(t *testing.T) (flags []string, fill func(*testserver.Proc) (free func()))
		wantMsg string
	}{
		{"max-store-bytes", func(t *testing.T) ([]string, func(*testserver.Proc) func()) {
			return []string{"-in-memory", "-max-store-bytes", fmt.Sprint(4 << 20)}, fillToLimit(t)
		}, "-max-store-bytes"},
		{"full disk", func(t *testing.T) ([]string, func(*testserver.Proc) func()) {
			dir := testfs.Tmpfs(t, 64<<20)
			return []string{"-data-dir", dir + "/data"}, func(*testserver.Proc) func() {
				filler := testfs.Fill(t, dir)
				return func() {
					if err := os.Remove(filler); err != nil {
						t.Fatal(err)
					}
				}
			}
		}, "is full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags, fill := tc.fill(t)
			p := inproc.Start(t, flags...)
			if h := checkHealth(t, p); !h.healthy() {
				t.Fatalf("before filling: %+v", h)
			}
			free := fill(p)
			h := checkHealth(t, p)
			if !h.full() {
				t.Fatalf("store full: health reports %+v", h)
			}
			for _, msg := range []string{h.storageError, h.connectMsg} {
				if !strings.Contains(strings.ToLower(msg), "writes are refused") || !strings.Contains(msg, tc.wantMsg) {
					t.Errorf("message %q does not say writes are refused and %q", msg, tc.wantMsg)
				}
			}
			free()
			waitHealth(t, p, "health to report healthy after space was freed", healthReport.healthy)
		})
	}
}

// fillToLimit puts records to a stream until -max-store-bytes refuses
// one, and frees the space by deleting the stream.
func fillToLimit(t *testing.T) func(*testserver.Proc) func() {
	return func(p *testserver.Proc) func() {
		c := p.Client()
		createStream(t, c, "filler", 1)
		w := newWriter(t, c, "filler")
		var err error
		for i := 0; i < 1000 && err == nil; i++ {
			err = w.put(512 << 10)
		}
		wantRetriable(t, "PutRecord past -max-store-bytes", err)
		return func() {
			ctx := testserver.Context(t, callTimeout)
			if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("filler")}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
