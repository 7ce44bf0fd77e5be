// Package testserver runs Tributary servers for tests and hands out
// aws-sdk-go-v2 clients pointed at them. Start builds cmd/tributary once
// per test process and runs `tributary serve`, for tests about the process
// itself; package inproc runs the server in the test process instead, so
// that the race detector and coverage see the server's code, and returns
// the same Proc. Either way clients reach the server over real loopback
// sockets with the real protocols. This package imports no server code,
// so that the tests of the server's own packages can use it.
package testserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
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

	"github.com/tributary-data/tributary/internal/lockfile"
	"github.com/tributary-data/tributary/internal/sdkclient"
	"github.com/tributary-data/tributary/internal/syncbuf"
)

var (
	buildOnce sync.Once
	binDir    string
	binLock   *lockfile.Lock
	binPath   string
	buildErr  error
)

const (
	// binPrefix names the temporary directories binaries are built in.
	binPrefix = "tributary-bin-"
	// binLockName is the lock file in such a directory, held by the test
	// process that uses the binary.
	binLockName = "LOCK"
)

// Binary returns the path of a tributary binary built from this module,
// once per test process. The binary lives in a temporary directory that
// this process holds a lock on: Main removes it when the tests end, and
// a later test process removes any whose process died without doing so.
func Binary(t testing.TB) string {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// binary is Binary reporting a failure to build rather than failing the test.
func binary() (string, error) {
	buildOnce.Do(func() { binPath, buildErr = build() })
	return binPath, buildErr
}

// build builds cmd/tributary into a new locked temporary directory,
// after removing those that dead test processes left.
func build() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	removeOrphanBinaries()
	dir, err := os.MkdirTemp("", binPrefix)
	if err != nil {
		return "", err
	}
	lock, err := lockfile.Acquire(filepath.Join(dir, binLockName))
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	binDir, binLock = dir, lock
	bin := filepath.Join(dir, "tributary")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/tributary")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, b)
	}
	return bin, nil
}

// removeOrphanBinaries removes the binary directories of test processes
// that have ended: those whose lock nobody holds. A directory without a
// lock file is left alone (it may be being made, or not be ours), as is
// one younger than a minute, whose maker may not have locked it yet.
func removeOrphanBinaries() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), binPrefix+"*"))
	for _, dir := range dirs {
		fi, err := os.Stat(filepath.Join(dir, binLockName))
		if err != nil || time.Since(fi.ModTime()) < time.Minute {
			continue
		}
		l, err := lockfile.Acquire(filepath.Join(dir, binLockName))
		if err != nil {
			continue // held: its process still runs
		}
		_ = os.RemoveAll(dir)
		_ = l.Release()
	}
}

// Main runs a package's tests and then removes the binary Binary built,
// if any: call it from TestMain as os.Exit(testserver.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	RemoveBinary()
	return code
}

// RemoveBinary removes the binary Binary built and its directory. A
// TestMain that cannot use Main calls it after m.Run.
func RemoveBinary() {
	if binDir == "" {
		return
	}
	_ = os.RemoveAll(binDir)
	_ = binLock.Release()
	binDir = ""
}

// Proc is a running server: a `tributary serve` process (Start) or one
// in the test process (inproc.Start).
type Proc struct {
	// Endpoint is the server's base URL, http://127.0.0.1:port.
	Endpoint string
	// Addr is host:port.
	Addr string
	// ConnectURL is the Connect REST API's base URL (https:// when the
	// server serves TLS, which covers the Connect API too).
	ConnectURL string
	t          testing.TB
	log        *syncbuf.Buffer

	// A subprocess's command, and done, closed once it has exited;
	// addrFile is its -addr-file, tls whether it serves HTTPS.
	cmd      *exec.Cmd
	done     chan struct{}
	addrFile string
	tls      bool

	// An in-process server's shutdown, and stopOnce, which calls it.
	shutdownFn func(context.Context) error
	stopOnce   sync.Once
}

// InProcess makes a Proc of a server running in the test process (see
// package inproc, which starts one): addr and connectAddr are where it
// listens (connectAddr "" without the Connect API), log what it logs, and
// shutdown stops it as SIGTERM would. The Proc shuts it down when the
// test ends, if Stop has not.
func InProcess(t testing.TB, addr, connectAddr string, tls bool, log *syncbuf.Buffer, shutdown func(context.Context) error) *Proc {
	t.Helper()
	scheme := "http"
	if tls {
		scheme = "https"
	}
	p := &Proc{t: t, log: log, shutdownFn: shutdown, Addr: addr, Endpoint: scheme + "://" + addr}
	if connectAddr != "" {
		p.ConnectURL = scheme + "://" + connectAddr
	}
	t.Cleanup(func() {
		p.shutdown(t.Logf)
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	})
	return p
}

// shutdown stops an in-process server once, reporting through report a
// shutdown that did not finish cleanly.
func (p *Proc) shutdown(report func(format string, args ...any)) {
	p.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.shutdownFn(ctx); err != nil {
			report("in-process server shutdown: %v", err)
		}
	})
}

// ServeArgs are the serve flags a test server runs with: listen on addr
// (and the Connect API on 127.0.0.1:0), log warnings and errors only,
// change stream states without delay, keep data in memory (unless it is
// on external NATS servers), unless the test's flags, which come last, say
// otherwise.
func ServeArgs(addr string, flags []string) []string {
	args := []string{"-listen", addr, "-log-level", "warn",
		"-create-stream-delay", "0", "-delete-stream-delay", "0", "-update-stream-delay", "0"}
	if !hasFlag(flags, "data-dir") && !hasFlag(flags, "nats-url") {
		args = append(args, "-in-memory")
	}
	if !hasFlag(flags, "connect-listen") {
		args = append(args, "-connect-listen", "127.0.0.1:0")
	}
	return append(args, flags...)
}

// hasFlag reports whether flags set the flag name, as "-name value" or
// "-name=value".
func hasFlag(flags []string, name string) bool {
	for _, f := range flags {
		n, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if n == name {
			return true
		}
	}
	return false
}

// FreeAddr returns a loopback address with a port nothing listens on now.
// It picks the port below Linux's ephemeral range (32768 and up), where
// the kernel never places the local end of an outgoing connection: a port
// from ":0" is from that range, and a client socket of any test could
// take it between this check and the server's bind. Another process can
// still take it before whoever it is for binds it: servers should rather
// bind port 0 themselves (Start and inproc.Start do); FreeAddr is for
// what cannot, such as an address that must be known before a start.
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

// Start runs `tributary serve` with the given extra flags and waits until
// it serves. Unless the flags say otherwise the server keeps data in
// memory, streams change state without delay, and both APIs listen on
// 127.0.0.1:0: the server binds the ports and reports them through
// -addr-file. The process is killed when the test ends. Prefer
// inproc.Start unless the process itself is under test.
func Start(t testing.TB, flags ...string) *Proc {
	t.Helper()
	p, err := launch(t, "127.0.0.1:0", flags)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// StartAt is Start on a given address, so a restarted server keeps its port.
func StartAt(t testing.TB, addr string, flags ...string) *Proc {
	t.Helper()
	p, err := launch(t, addr, flags)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TryStart is Start reporting a failure rather than failing the test,
// so that several servers can start at once from goroutines of their
// own, as the nodes of a cluster must (each waits for the others).
func TryStart(t testing.TB, flags ...string) (*Proc, error) {
	return launch(t, "127.0.0.1:0", flags)
}

// launch runs the server and waits until it has written its addresses.
func launch(t testing.TB, addr string, flags []string) (*Proc, error) {
	p, err := spawn(t, nil, addr, flags)
	if err != nil {
		return nil, err
	}
	if err := p.WaitServing(30 * time.Second); err != nil {
		return nil, err
	}
	return p, nil
}

// Spawn starts `tributary serve` as StartAt does but returns at once,
// before it serves; WaitServing waits for it. The nodes of a cluster
// are started so, all at once, since each serves only once a quorum of
// them is up. A non-empty prefix is a command that runs the server, such
// as ip netns exec NAME.
func Spawn(t testing.TB, prefix []string, addr string, flags ...string) *Proc {
	t.Helper()
	p, err := spawn(t, prefix, addr, flags)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// spawn starts the server through prefix, if any. The process's
// temporary files (an in-memory store's directory) go to a directory of
// the test's, removed when the test ends even if the process was killed
// and could not remove them itself.
func spawn(t testing.TB, prefix []string, addr string, flags []string) (*Proc, error) {
	tmp, err := os.MkdirTemp("", "tributary-serve-")
	if err != nil {
		return nil, err
	}
	p := &Proc{t: t, log: &syncbuf.Buffer{}, done: make(chan struct{}), addrFile: filepath.Join(tmp, "addr.json"),
		tls: UsesTLS(flags)}
	args := append([]string{"serve", "-addr-file", p.addrFile}, ServeArgs(addr, flags)...)
	bin, err := binary()
	if err != nil {
		_ = os.RemoveAll(tmp)
		return nil, err
	}
	cmd := append(append(append([]string{}, prefix...), bin), args...)
	p.cmd = exec.Command(cmd[0], cmd[1:]...)
	p.cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Kill()
		_ = os.RemoveAll(tmp)
		if t.Failed() {
			t.Logf("server log:\n%s", p.log.String())
		}
	})
	return p, nil
}

// WaitServing waits up to timeout for a server from Spawn to write its
// addresses, which it does once both APIs listen, and fills in Addr,
// Endpoint and ConnectURL.
func (p *Proc) WaitServing(timeout time.Duration) error {
	addrs, err := p.waitAddrs(p.addrFile, timeout)
	if err != nil {
		return err
	}
	scheme := "http"
	if p.tls {
		scheme = "https"
	}
	p.Addr, p.Endpoint = addrs.Kinesis, scheme+"://"+addrs.Kinesis
	if addrs.Connect != "" {
		p.ConnectURL = scheme + "://" + addrs.Connect
	}
	return nil
}

// servingAddrs is what serve writes to its -addr-file.
type servingAddrs struct {
	Kinesis string `json:"kinesis"`
	Connect string `json:"connect"`
}

// waitAddrs waits for the server to write its addresses, which it does
// once both APIs listen, and returns them.
func (p *Proc) waitAddrs(path string, timeout time.Duration) (servingAddrs, error) {
	deadline := time.Now().Add(timeout)
	for {
		var a servingAddrs
		b, err := os.ReadFile(path)
		if err == nil {
			if err := json.Unmarshal(b, &a); err != nil {
				return a, fmt.Errorf("serve's -addr-file %q: %w", b, err)
			}
			return a, nil
		}
		select {
		case <-p.done:
			return a, fmt.Errorf("tributary serve exited during start-up:\n%s", p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			// Go prints every goroutine's stack on SIGQUIT: where the
			// start-up hangs.
			_ = p.cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
			}
			return a, fmt.Errorf("tributary serve did not start within %v (its goroutines at that moment follow):\n%s", timeout, p.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// UsesTLS reports whether serve flags turn on HTTPS.
func UsesTLS(flags []string) bool {
	return hasFlag(flags, "tls-self-signed") || hasFlag(flags, "tls-cert")
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
// Only a subprocess can be killed.
func (p *Proc) Kill() {
	p.needProcess("Kill")
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop ends the server as SIGTERM does (a subprocess gets the signal)
// and waits for a clean exit.
func (p *Proc) Stop() {
	if p.shutdownFn != nil {
		p.shutdown(p.t.Errorf)
		return
	}
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

// ExitCode waits for the server process to end and returns its exit
// status (-1 if a signal ended it).
func (p *Proc) ExitCode() int {
	p.needProcess("ExitCode")
	<-p.done
	return p.cmd.ProcessState.ExitCode()
}

// PID is the server process's id. Only a subprocess has one.
func (p *Proc) PID() int {
	p.needProcess("PID")
	return p.cmd.Process.Pid
}

// needProcess fails the test when what it asks of the server needs a
// process of its own.
func (p *Proc) needProcess(what string) {
	if p.cmd == nil {
		p.t.Helper()
		p.t.Fatalf("testserver: %s needs a server process; start it with Start, not inproc.Start", what)
	}
}

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
