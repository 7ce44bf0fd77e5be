package ops

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/testserver"
)

// TestBusyPort starts serve on ports another program holds: the error
// names the flag that moves each API, and how to turn Connect off.
func TestBusyPort(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken := busy.Addr().String()
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"kinesis", []string{"-listen", taken, "-connect-listen", "127.0.0.1:0"},
			[]string{"Kinesis API: " + taken + " is already in use", "choose another address with -listen"}},
		{"connect", []string{"-listen", "127.0.0.1:0", "-connect-listen", taken},
			[]string{"Connect REST API: " + taken + " is already in use", "with -connect-listen", `-connect-listen ""`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, append([]string{"serve", "-in-memory"}, tc.args...)...)
			if res.Code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", res.Code, res.Stderr)
			}
			contains(t, "error", res.Stderr, tc.want...)
			if strings.Contains(res.Stderr, "bind: address already in use") {
				t.Errorf("bare bind error shown:\n%s", res.Stderr)
			}
		})
	}
}

// TestListenDefaults checks the defaults `serve -h` documents: both APIs
// on loopback.
func TestListenDefaults(t *testing.T) {
	t.Parallel()
	res := run(t, "serve", "-h")
	contains(t, "serve -h", res.Stderr, `-listen string`, `(default "127.0.0.1:4567")`, `(default "127.0.0.1:8083")`)
}

// TestExposedWarning checks that listening beyond loopback without
// -credentials is logged as a warning for each API, and that loopback
// is not.
func TestExposedWarning(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		host      string
		wantWarns int
	}{
		{"loopback", "127.0.0.1", 0},
		{"every interface", "0.0.0.0", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testserver.Start(t, "-listen", tc.host+":0", "-connect-listen", tc.host+":0")
			p.Stop()
			if got := strings.Count(p.Log(), "listens on a non-loopback address without -credentials"); got != tc.wantWarns {
				t.Fatalf("%d warnings, want %d:\n%s", got, tc.wantWarns, p.Log())
			}
			if tc.wantWarns > 0 {
				contains(t, "log", p.Log(), "level=WARN", "Kinesis API listens", "Connect REST API listens")
			}
		})
	}
}

// TestHealth reads GET /health with no credentials, on a server that has
// -credentials and one with Connect turned off.
func TestHealth(t *testing.T) {
	t.Parallel()
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte("AKIDOPSTEST opssecret 111122223333\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	signed := func(o *kinesis.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider("AKIDOPSTEST", "opssecret", "")
	}
	for _, tc := range []struct {
		name        string
		flags       []string
		wantConnect string
	}{
		{"connect running", nil, "running"},
		{"connect disabled", []string{"-connect-listen", ""}, "disabled"},
		{"with credentials", []string{"-credentials", creds}, "running"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testserver.Start(t, tc.flags...)
			ctx := testserver.Context(t, time.Minute)
			for _, name := range []string{"h1", "h2"} {
				if _, err := p.Client(signed).CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := http.Get(p.Endpoint + "/health")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var h struct {
				Status  string
				Version string
				Storage struct{ Status string }
				Connect struct{ Status string }
				Streams struct{ Count int }
			}
			if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" ||
				h.Status != "ok" || h.Storage.Status != "ok" || h.Connect.Status != tc.wantConnect || h.Streams.Count != 2 || h.Version == "" {
				t.Fatalf("GET /health = %d %s %+v", resp.StatusCode, resp.Header.Get("Content-Type"), h)
			}
		})
	}
}
