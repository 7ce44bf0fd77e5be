package testserver

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/server"
	"github.com/tributary-data/tributary/internal/syncbuf"
)

// StartInProcess runs a server inside the test process, wired by
// internal/server exactly as `tributary serve` wires it and configured
// by the same flags Start takes, so the race detector and coverage see
// its request paths. Both APIs listen on 127.0.0.1:0 unless the flags
// say otherwise; the server binds them itself and the Proc reports the
// addresses it got, so no port is chosen before it is bound. The server
// is shut down, and waited for, when the test ends.
//
// Use Start when the process boundary is what a test is about: a kill,
// a crash, the data directory's lock, flags and exit codes, what the
// process prints.
func StartInProcess(t testing.TB, flags ...string) *Proc {
	t.Helper()
	return startInProcess(t, "127.0.0.1:0", flags)
}

// StartInProcessAt is StartInProcess on a given address, so a server
// restarted over the same data directory keeps its port.
func StartInProcessAt(t testing.TB, addr string, flags ...string) *Proc {
	t.Helper()
	return startInProcess(t, addr, flags)
}

func startInProcess(t testing.TB, addr string, flags []string) *Proc {
	t.Helper()
	args := serveArgs(addr, flags)
	if !hasFlag(flags, "connect-listen") {
		args = append(args, "-connect-listen", "127.0.0.1:0")
	}
	args = append(args, flags...)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sf := server.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("serve flags %q: %v", args, err)
	}
	p := &Proc{t: t, log: &syncbuf.Buffer{}}
	cfg, err := sf.Config(p.log)
	if err != nil {
		t.Fatalf("serve flags %q: %v", args, err)
	}
	// What an unreleased build of the binary reports (cmd/tributary's
	// version.go); the test binary carries no VCS stamp.
	cfg.Connect.Version, cfg.Connect.Commit = "(devel)", "unknown"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("in-process server: %v\n%s", err, p.log.String())
	}
	p.srv = srv
	scheme := "http"
	if usesTLS(flags) {
		scheme = "https"
	}
	p.Addr = srv.Addr()
	p.Endpoint = scheme + "://" + p.Addr
	if ca := srv.ConnectAddr(); ca != "" {
		p.ConnectURL = scheme + "://" + ca
	}
	t.Cleanup(func() {
		p.shutdown(func(format string, args ...any) { t.Logf(format, args...) })
		if t.Failed() {
			t.Logf("server log:\n%s", p.log.String())
		}
	})
	return p
}

// shutdown stops an in-process server once, as SIGTERM would, reporting
// through report a shutdown that did not finish cleanly.
func (p *Proc) shutdown(report func(format string, args ...any)) {
	p.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.srv.Shutdown(ctx); err != nil {
			report("in-process server shutdown: %v", err)
		}
	})
}

// serveArgs are the flags every test server starts with, before the
// test's own: listen on addr, log warnings and errors only, change
// stream states without delay, and keep data in memory unless the test
// gives a data directory.
func serveArgs(addr string, flags []string) []string {
	args := []string{"-listen", addr, "-log-level", "warn",
		"-create-stream-delay", "0", "-delete-stream-delay", "0", "-update-stream-delay", "0"}
	if !hasFlag(flags, "data-dir") {
		args = append(args, "-in-memory")
	}
	return args
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
