//go:build scale

package scalebench

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// node is one embedded JetStream server with an in-process client, set
// up as internal/store.Open sets up its own (no client port, 16 MiB
// payloads, 256 MiB pending output, no storage caps). In a cluster each
// node is a child process (cluster_test.go) with a route listener and a
// client port on loopback instead.
type node struct {
	name string
	opts *server.Options
	ns   *server.Server
	log  *countingLogger
}

// newNodeOptions returns the options of one node. With clusterPort zero
// the node runs alone, exactly as a single Tributary process does.
func newNodeOptions(name, dir string, clusterPort int, routes []string) *server.Options {
	opts := &server.Options{
		ServerName: name,
		DontListen: true,
		JetStream:  true,
		NoSigs:     true,
		MaxPayload: 16 << 20,
		MaxPending: 256 << 20,
		// internal/store's explicit "no cap": left at zero (or -1),
		// JetStream caps itself at 75% of the disk free at start-up.
		JetStreamMaxStore:  math.MaxInt64,
		JetStreamMaxMemory: math.MaxInt64,
		StoreDir:           dir,
	}
	if clusterPort != 0 {
		opts.Cluster = server.ClusterOpts{Name: "scale", Host: "127.0.0.1", Port: clusterPort}
		opts.Routes = server.RoutesFromStr(strings.Join(routes, ","))
	}
	return opts
}

// start runs the node's server and waits until it takes connections;
// for a single node that is after JetStream has recovered every stream
// in its directory, since the server does that before it listens.
func (n *node) start(timeout time.Duration) error {
	ns, err := server.NewServer(n.opts)
	if err != nil {
		return fmt.Errorf("node %s: %w", n.name, err)
	}
	if n.log == nil {
		n.log = &countingLogger{counts: map[string]int{}}
	}
	ns.SetLoggerV2(n.log, false, false, false)
	go ns.Start()
	if !ns.ReadyForConnections(timeout) {
		ns.Shutdown()
		return fmt.Errorf("node %s: not ready within %s", n.name, timeout)
	}
	n.ns = ns
	return nil
}

func (n *node) stop() {
	if n.ns != nil {
		n.ns.Shutdown()
		n.ns.WaitForShutdown()
		n.ns = nil
	}
}

// client connects to the node in-process, as Tributary does, with the
// same asynchronous-publish window as internal/store.
func (n *node) client() (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect("", nats.InProcessServer(n.ns), nats.MaxReconnects(-1))
	if err != nil {
		return nil, nil, fmt.Errorf("node %s: connect: %w", n.name, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(16384),
		jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("node %s: jetstream: %w", n.name, err)
	}
	return nc, js, nil
}

// waitJetStream waits until JetStream answers an account info request:
// in a cluster, once a meta leader has been elected.
func waitJetStream(ctx context.Context, js jetstream.JetStream) error {
	for {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.AccountInfo(c)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("jetstream not ready: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// countingLogger counts the servers' warnings and errors by format, to
// tell a stable cluster from one that complains; their text is not
// otherwise printed, since at 10k streams it would drown the results.
type countingLogger struct {
	mu     sync.Mutex
	counts map[string]int
}

func (l *countingLogger) count(kind, format string) {
	l.mu.Lock()
	l.counts[kind+": "+format]++
	l.mu.Unlock()
}

func (l *countingLogger) Noticef(string, ...any)        {}
func (l *countingLogger) Debugf(string, ...any)         {}
func (l *countingLogger) Tracef(string, ...any)         {}
func (l *countingLogger) Warnf(format string, _ ...any) { l.count("WRN", format) }
func (l *countingLogger) Errorf(format string, _ ...any) {
	l.count("ERR", format)
}
func (l *countingLogger) Fatalf(format string, _ ...any) { l.count("FTL", format) }

// take returns the counts so far, largest first, and starts again.
func (l *countingLogger) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for f, c := range l.counts {
		out = append(out, fmt.Sprintf("%6d  %s", c, strings.TrimSpace(f)))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	l.counts = map[string]int{}
	return out
}

// procStats is what the process holds: all its nodes together.
type procStats struct {
	RSSMiB, HeapMiB float64
	Goroutines, FDs int
}

func (p procStats) String() string {
	return fmt.Sprintf("rss=%.0fMiB heap=%.0fMiB goroutines=%d fds=%d", p.RSSMiB, p.HeapMiB, p.Goroutines, p.FDs)
}

// readProcStats reads the resident set from /proc after a GC, so that
// it shows what the mapping keeps rather than garbage not yet collected.
func readProcStats() procStats {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p := procStats{HeapMiB: float64(ms.HeapAlloc) / (1 << 20), Goroutines: runtime.NumGoroutine()}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				p.RSSMiB = kb / 1024
			}
		}
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		p.FDs = len(fds)
	}
	return p
}
