//go:build scale

package scalebench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Each node of a cluster runs in a child process, the test binary run
// again with childEnv set, so that it can be killed with SIGKILL, as a
// machine dies, and its memory and descriptors read from /proc. An
// in-process server's Shutdown hands its Raft leaderships over first,
// which would measure a polite handover instead of a failure.
const childEnv = "SCALEBENCH_NODE"

// childConfig is what a child needs to start its node.
type childConfig struct {
	Name                          string
	Dir                           string
	ClusterPort, ClientPort, HTTP int
	Routes                        []string
}

// runChild runs one clustered node until the parent kills it. It has a
// client port and a monitoring port on loopback so that the parent can
// talk to it and ask who leads what.
func runChild(cfgJSON string) {
	var c childConfig
	if err := json.Unmarshal([]byte(cfgJSON), &c); err != nil {
		fmt.Fprintln(os.Stderr, "child config:", err)
		os.Exit(2)
	}
	opts := newNodeOptions(c.Name, c.Dir, c.ClusterPort, c.Routes)
	opts.DontListen, opts.Host, opts.Port = false, "127.0.0.1", c.ClientPort
	opts.HTTPHost, opts.HTTPPort = "127.0.0.1", c.HTTP
	opts.LogFile = filepath.Join(c.Dir, "node.log")
	ns, err := server.NewServer(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		os.Exit(2)
	}
	ns.ConfigureLogger()
	ns.Start()
	// A node outlives no parent: if the test dies, so do its nodes.
	ppid := os.Getppid()
	for os.Getppid() == ppid {
		time.Sleep(time.Second)
	}
	os.Exit(1)
}

// child is a running node process.
type child struct {
	cfg childConfig
	cmd *exec.Cmd
}

func (c *child) start() error {
	b, err := json.Marshal(c.cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.cfg.Dir, 0o755); err != nil {
		return err
	}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	c.cmd.Stderr = os.Stderr
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", c.cfg.Name, err)
	}
	return nil
}

// kill ends the node at once, as a crash would.
func (c *child) kill() {
	if c.cmd != nil && c.cmd.Process != nil {
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		_ = c.cmd.Wait()
		c.cmd = nil
	}
}

func (c *child) url() string { return "nats://127.0.0.1:" + strconv.Itoa(c.cfg.ClientPort) }

// jsz is the part of the monitoring endpoint's /jsz?raft=1 we use.
type jsz struct {
	Streams       int `json:"streams"`
	StreamsLeader int `json:"streams_leader"`
	Meta          *struct {
		Leader   string `json:"leader"`
		Replicas []struct {
			Current bool `json:"current"`
		} `json:"replicas"`
	} `json:"meta_cluster"`
}

func (c *child) jsz() (jsz, error) {
	var j jsz
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://127.0.0.1:" + strconv.Itoa(c.cfg.HTTP) + "/jsz?raft=1")
	if err != nil {
		return j, err
	}
	defer resp.Body.Close()
	return j, json.NewDecoder(resp.Body).Decode(&j)
}

// healthy reports whether /healthz says the node's JetStream is
// current: every stream it holds has caught up with its leader.
func (c *child) healthy() bool {
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://127.0.0.1:" + strconv.Itoa(c.cfg.HTTP) + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stats reads the node process's resident memory, threads and open
// descriptors from /proc.
func (c *child) stats() string {
	pid := c.cmd.Process.Pid
	var rss, threads string
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.Atoi(f[1])
				rss = strconv.Itoa(kb/1024) + "MiB"
			}
			if len(f) >= 2 && f[0] == "Threads:" {
				threads = f[1]
			}
		}
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return fmt.Sprintf("%s rss=%s threads=%s fds=%d", c.cfg.Name, rss, threads, len(fds))
}

func startChildren(t *testing.T, dir string, size int) []*child {
	ports := make([][3]int, size)
	for i := range ports {
		for j := range ports[i] {
			p, err := freePort()
			if err != nil {
				t.Fatal(err)
			}
			ports[i][j] = p
		}
	}
	kids := make([]*child, size)
	for i := range kids {
		var routes []string
		for j := range ports {
			if j != i {
				routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(ports[j][0]))
			}
		}
		name := "n" + strconv.Itoa(i+1)
		kids[i] = &child{cfg: childConfig{Name: name, Dir: filepath.Join(dir, name),
			ClusterPort: ports[i][0], ClientPort: ports[i][1], HTTP: ports[i][2], Routes: routes}}
		if err := kids[i].start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(kids[i].kill)
	}
	return kids
}

// TestScaleCluster measures a 3-node R3 cluster on loopback: creating
// the shards' streams, each node's memory with them open, putting to
// random shards, and then what SIGKILL of the meta leader costs: how
// long until a new meta leader, until every stream has a leader again,
// and until the killed node, restarted, is current.
func TestScaleCluster(t *testing.T) {
	l := benchLayout(t)
	ctx := context.Background()
	kids := startChildren(t, dataDir(t), 3)
	var urls []string
	for _, k := range kids {
		urls = append(urls, k.url())
	}
	nc, err := connectRetry(strings.Join(urls, ","), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(16384), jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := waitJetStream(wctx, js); err != nil {
		t.Fatal(err)
	}
	if err := waitPeers(kids, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	report(t, "%s, %d shards, 3 nodes R3", l, *shardsFlag)
	cr := createStreams(ctx, js, l.configs(*shardsFlag, 3), *budgetFlag)
	report(t, "create: %d/%d streams in %s (%.0f streams/s), %d API errors, first: %v",
		cr.Created, cr.Wanted, cr.Elapsed.Round(time.Millisecond), float64(cr.Created)/cr.Elapsed.Seconds(), cr.APIErrors, cr.FirstErr)
	for _, k := range kids {
		report(t, "after create: %s", k.stats())
	}
	if cr.Created == 0 {
		t.Fatal("no stream created")
	}
	// A cluster that cannot take the puts is a result too: the run goes
	// on to the failover and the nodes' complaints, then fails.
	pr, putErr := putBatches(ctx, js, l, openShards(l, cr.Created, *shardsFlag), *batchesFlag, 100, written{})
	if putErr != nil {
		report(t, "put: failed: %v", putErr)
	} else {
		report(t, "put: %d batches x %d records to random shards: batch p50 %s p99 %s, %.0f records/s",
			pr.Batches, pr.BatchSize, pr.P50, pr.P99, pr.RecordsPerSec)
	}
	failover(t, kids, cr.Created)
	for _, k := range kids {
		reportWarnings(t, k.cfg.Name, logWarnings(filepath.Join(k.cfg.Dir, "node.log")))
	}
	if putErr != nil {
		t.Fatal(putErr)
	}
}

// failover kills the meta leader and times the cluster's recovery.
func failover(t *testing.T, kids []*child, streams int) {
	t.Helper()
	var dead *child
	var live []*child
	j, err := kids[0].jsz()
	if err != nil || j.Meta == nil {
		t.Fatalf("jsz: %v", err)
	}
	for _, k := range kids {
		if k.cfg.Name == j.Meta.Leader {
			dead = k
		} else {
			live = append(live, k)
		}
	}
	if dead == nil {
		t.Fatalf("meta leader %q is not a node", j.Meta.Leader)
	}
	// How many streams must elect a new leader: those the dead node led.
	before, err := dead.jsz()
	if err != nil {
		t.Fatalf("jsz: %v", err)
	}
	t0 := time.Now()
	dead.kill()
	var meta, leaders time.Duration
	for time.Since(t0) < 3*time.Minute && (meta == 0 || leaders == 0) {
		time.Sleep(100 * time.Millisecond)
		led := 0
		for _, k := range live {
			j, err := k.jsz()
			if err != nil {
				continue
			}
			if meta == 0 && j.Meta != nil && j.Meta.Leader != "" && j.Meta.Leader != dead.cfg.Name {
				meta = time.Since(t0)
			}
			led += j.StreamsLeader
		}
		if leaders == 0 && led >= streams {
			leaders = time.Since(t0)
		}
	}
	report(t, "kill meta leader %s (leading %d of %d streams): new meta leader after %s, all streams led again after %s (0 = not within 3m)",
		dead.cfg.Name, before.StreamsLeader, streams, meta.Round(time.Millisecond), leaders.Round(time.Millisecond))
	t1 := time.Now()
	if err := dead.start(); err != nil {
		t.Fatal(err)
	}
	for time.Since(t1) < 3*time.Minute && !dead.healthy() {
		time.Sleep(100 * time.Millisecond)
	}
	report(t, "restart %s: healthy (current) after %s (3m = gave up)", dead.cfg.Name, time.Since(t1).Round(time.Millisecond))
	report(t, "after restart: %s", dead.stats())
}

// waitPeers waits until the meta leader sees every other node as
// current: before that, placing an R3 stream fails for want of peers.
func waitPeers(kids []*child, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, k := range kids {
			j, err := k.jsz()
			if err != nil || j.Meta == nil || j.Meta.Leader != k.cfg.Name || len(j.Meta.Replicas) != len(kids)-1 {
				continue
			}
			current := 0
			for _, r := range j.Meta.Replicas {
				if r.Current {
					current++
				}
			}
			if current == len(kids)-1 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("meta leader does not see %d current peers within %s", len(kids)-1, timeout)
}

func connectRetry(urls string, timeout time.Duration) (*nats.Conn, error) {
	deadline := time.Now().Add(timeout)
	for {
		nc, err := nats.Connect(urls, nats.MaxReconnects(-1), nats.MaxPingsOutstanding(10))
		if err == nil || time.Now().After(deadline) {
			return nc, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var digits = regexp.MustCompile(`[0-9]+`)

// logWarnings counts a node log's warning and error lines, with numbers
// and names masked so that one kind of complaint counts once.
func logWarnings(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return []string{"cannot read log: " + err.Error()}
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, lvl := range []string{"[WRN]", "[ERR]", "[FTL]"} {
			if i := strings.Index(line, lvl); i >= 0 {
				msg := line[i:]
				msg = digits.ReplaceAllString(msg, "N")
				if len(msg) > 140 {
					msg = msg[:140]
				}
				counts[msg]++
			}
		}
	}
	var out []string
	for m, c := range counts {
		out = append(out, fmt.Sprintf("%6d  %s", c, m))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}
