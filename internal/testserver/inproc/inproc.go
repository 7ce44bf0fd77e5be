// Package inproc runs a Tributary server inside the test process, wired
// by internal/server exactly as `tributary serve` wires it and configured
// by the same flags testserver.Start passes to a subprocess, so that the
// race detector and coverage see its request paths (as nats-server's own
// tests and franz-go's kfake run their servers). Both APIs listen on
// 127.0.0.1:0 unless the flags say otherwise: the server binds the ports
// itself and the Proc reports the addresses it got, so no port is chosen
// before it is bound.
//
// Use testserver.Start when the process boundary is what a test is
// about: a kill, a crash, the data directory's lock, flags and exit
// codes, what the process prints.
package inproc

import (
	"context"
	"flag"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/server"
	"github.com/tributary-data/tributary/internal/syncbuf"
	"github.com/tributary-data/tributary/internal/testserver"
)

// Start runs a server in the test process with the given serve flags
// (those testserver.Start takes) and returns it once it serves. It is
// shut down, and waited for, when the test ends.
func Start(t testing.TB, flags ...string) *testserver.Proc {
	t.Helper()
	return StartAt(t, "127.0.0.1:0", flags...)
}

// StartAt is Start on a given address, so a server restarted over the
// same data directory keeps its port.
func StartAt(t testing.TB, addr string, flags ...string) *testserver.Proc {
	t.Helper()
	p, err := start(t, addr, flags)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// start is StartAt reporting a failure rather than failing the test, so
// that several servers can start at once from goroutines of their own.
func start(t testing.TB, addr string, flags []string) (*testserver.Proc, error) {
	args := testserver.ServeArgs(addr, flags)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sf := server.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("serve flags %q: %w", args, err)
	}
	log := &syncbuf.Buffer{}
	cfg, err := sf.Config(log)
	if err != nil {
		return nil, fmt.Errorf("serve flags %q: %w", args, err)
	}
	// What an unreleased build of the binary reports (cmd/tributary's
	// version.go); a test binary carries no VCS stamp.
	cfg.Connect.Version, cfg.Connect.Commit = "(devel)", "unknown"
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("in-process server: %w\n%s", err, log.String())
	}
	return testserver.InProcess(t, srv.Addr(), srv.ConnectAddr(), testserver.UsesTLS(flags), log, srv.Shutdown), nil
}

// startTimeout bounds a server's start-up, a cluster node's wait for a
// quorum of the others included.
const startTimeout = 30 * time.Second
