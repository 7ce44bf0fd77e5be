// Package testserver runs the real tributary binary for tests: it builds
// cmd/tributary once per test process, starts `tributary serve` on a free
// loopback port, and hands out aws-sdk-go-v2 clients pointed at it. Tests
// that go through it exercise the same process, sockets and protocol that
// users do.
package testserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/sdkclient"

	"github.com/tributary-data/tributary/internal/syncbuf"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the path of a tributary binary built from this module.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(out)))
		dir, err := os.MkdirTemp("", "tributary-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tributary")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/tributary")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, b)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Proc is a running `tributary serve`.
type Proc struct {
	// Endpoint is the server's base URL, http://127.0.0.1:port.
	Endpoint string
	// Addr is host:port.
	Addr string
	// ConnectURL is the Connect REST API's base URL (https:// when the
	// server serves TLS, which covers the Connect API too).
	ConnectURL string
	t          testing.TB
	cmd        *exec.Cmd
	log        *syncbuf.Buffer
	done       chan struct{}
}

// FreeAddr returns a loopback address with a port nothing listens on now.
// It picks the port below Linux's ephemeral range (32768 and up), where
// the kernel never places the local end of an outgoing connection: a port
// from ":0" is from that range, and a client socket of any test could
// take it between this check and the server's bind.
func FreeAddr(t testing.TB) string {
	t.Helper()
	for range 200 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(10000+rand.IntN(22000)))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs `tributary serve` with the given extra flags on a free port
// and waits until it answers. Unless the flags say otherwise the server
// keeps data in memory and streams change state without delay. The
// process is killed when the test ends.
func Start(t testing.TB, flags ...string) *Proc {
	t.Helper()
	return start(t, "", flags)
}

// StartAt is Start on a given address, so a restarted server keeps its port.
func StartAt(t testing.TB, addr string, flags ...string) *Proc {
	t.Helper()
	return start(t, addr, flags)
}

// start starts the server on addr, or on a free address when addr is
// empty. Another process can still take a port FreeAddr chose before the
// server binds it; when a port chosen here was taken, start tries again
// on new ones.
func start(t testing.TB, addr string, flags []string) *Proc {
	t.Helper()
	for try := 1; ; try++ {
		a := addr
		if a == "" {
			a = FreeAddr(t)
		}
		p, err := launch(t, a, addr == "", flags)
		if err == nil {
			return p
		}
		if !errors.Is(err, errPortTaken) || try == 5 {
			t.Fatal(err)
		}
		t.Logf("%v; trying other ports", err)
	}
}

// errPortTaken is a start-up that failed because a port the test server
// chose was taken meanwhile.
var errPortTaken = errors.New("a port chosen for the server was taken before it could bind it")

// launch runs the server and waits until it answers. pickedAddr says
// that addr came from FreeAddr, so that its being taken is worth a retry.
func launch(t testing.TB, addr string, pickedAddr bool, flags []string) (*Proc, error) {
	t.Helper()
	args := []string{"serve", "-listen", addr, "-log-level", "warn",
		"-create-stream-delay", "0", "-delete-stream-delay", "0", "-update-stream-delay", "0"}
	hasDir, connectAddr := false, ""
	for i, f := range flags {
		name := strings.TrimLeft(f, "-")
		if name == "data-dir" || strings.HasPrefix(name, "data-dir=") {
			hasDir = true
		}
		if name == "connect-listen" && i+1 < len(flags) {
			connectAddr = flags[i+1]
		} else if v, ok := strings.CutPrefix(name, "connect-listen="); ok {
			connectAddr = v
		}
	}
	if !hasDir {
		args = append(args, "-in-memory")
	}
	pickedConnect := connectAddr == ""
	if pickedConnect {
		connectAddr = FreeAddr(t)
		args = append(args, "-connect-listen", connectAddr)
	}
	args = append(args, flags...)
	scheme, probe := "http", http.DefaultClient
	if usesTLS(flags) {
		scheme, probe = "https", InsecureHTTPClient()
	}
	p := &Proc{Endpoint: scheme + "://" + addr, Addr: addr, ConnectURL: scheme + "://" + connectAddr, t: t, log: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(Binary(t), args...)
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("server log:\n%s", p.log.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := probe.Get(p.Endpoint + "/health")
		if err == nil {
			resp.Body.Close()
			// /health answers without credentials, -credentials or not.
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			log := p.log.String()
			if pickedConnect && strings.Contains(log, "Connect REST API: "+connectAddr+" is already in use") ||
				pickedAddr && strings.Contains(log, "Kinesis API: "+addr+" is already in use") {
				return nil, fmt.Errorf("%w:\n%s", errPortTaken, log)
			}
			return nil, fmt.Errorf("tributary serve exited during start-up:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("tributary serve did not answer within 30s:\n%s", p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// usesTLS reports whether serve flags turn on HTTPS.
func usesTLS(flags []string) bool {
	for _, f := range flags {
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if name == "tls-self-signed" || name == "tls-cert" {
			return true
		}
	}
	return false
}

// InsecureHTTPClient is an HTTP client (HTTP/1.1 or HTTP/2 by ALPN) that
// trusts any server certificate. Only tests may use it: it is how they
// reach a server with a self-signed certificate.
func InsecureHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // tests against a self-signed server
		ForceAttemptHTTP2: true,
	}}
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop ends the server with SIGTERM and waits for a clean exit.
func (p *Proc) Stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Errorf("server did not stop within 30s of SIGTERM")
		p.Kill()
	}
}

// Result is what a finished run of a program produced.
type Result struct {
	Stdout, Stderr string
	// Code is the exit status.
	Code int
}

// Run runs bin with args to completion (at most a minute), with env as
// its whole environment (nil: this process's), and returns its output
// and exit status. It
// fails the test if bin cannot be run or does not exit by itself; a
// non-zero exit status is for the caller to judge.
func Run(t testing.TB, env []string, bin string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		res.Code = ee.ExitCode()
	default:
		t.Fatalf("%s %s: %v\nstderr:\n%s", bin, strings.Join(args, " "), err, res.Stderr)
	}
	return res
}

// PID is the server process's id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Log returns what the server has printed so far.
func (p *Proc) Log() string { return p.log.String() }

// Client returns an aws-sdk-go-v2 Kinesis client for the server, with
// retries off so tests see every error. Region defaults to us-east-1 and
// the access key to "test"; a 12-digit access key selects that account.
func (p *Proc) Client(optFns ...func(*kinesis.Options)) *kinesis.Client {
	return NewClient(p.Endpoint, optFns...)
}

// NewClient is Client for any endpoint.
func NewClient(endpoint string, optFns ...func(*kinesis.Options)) *kinesis.Client {
	noRetries := func(o *kinesis.Options) { o.RetryMaxAttempts = 1 }
	return sdkclient.New(endpoint, "us-east-1", "test", append([]func(*kinesis.Options){noRetries}, optFns...)...)
}

// WithAccount makes a client act as the given 12-digit account.
func WithAccount(account string) func(*kinesis.Options) {
	return func(o *kinesis.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(account, "secret", "")
	}
}

// WithRegion makes a client sign for the given region.
func WithRegion(region string) func(*kinesis.Options) {
	return func(o *kinesis.Options) { o.Region = region }
}

// Context returns a context that ends with the test or after d.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
