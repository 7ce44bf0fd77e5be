package ops

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testserver"
)

// TestAddrFile: serve on port 0 writes the ports it bound to -addr-file,
// and they answer; a file it cannot write stops it, exit 1, naming the
// flag.
func TestAddrFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "addr.json")
	p := startProc(t, "serve", "-in-memory", "-listen", "127.0.0.1:0", "-connect-listen", "127.0.0.1:0", "-addr-file", path)
	p.waitFor(t, "tributary serving")
	var b []byte
	testserver.WaitUntil(t, "the -addr-file", 30*time.Second, func() bool {
		var err error
		b, err = os.ReadFile(path)
		return err == nil
	})
	var addrs map[string]string
	if err := json.Unmarshal(b, &addrs); err != nil || len(addrs) != 2 {
		t.Fatalf("-addr-file holds %q (%v), want the two APIs' addresses", b, err)
	}
	for api, path := range map[string]string{"kinesis": "/health", "connect": "/"} {
		resp, err := http.Get("http://" + addrs[api] + path)
		if err != nil {
			t.Fatalf("%s at %s: %v", api, addrs[api], err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s on the %s API: %s", path, api, resp.Status)
		}
	}

	res := run(t, "serve", "-in-memory", "-listen", "127.0.0.1:0", "-connect-listen", "127.0.0.1:0",
		"-addr-file", filepath.Join(dir, "missing", "addr.json"))
	if res.Code != 1 {
		t.Fatalf("serve with an unwritable -addr-file exited %d, want 1:\n%s", res.Code, res.Stderr)
	}
	contains(t, "error", res.Stderr, "-addr-file", "missing")
}
