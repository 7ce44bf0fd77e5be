package connect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/rest"
)

// Distributed mode is tested with several workers in the test process
// over one shared store: each worker has its own herder, REST listener
// and worker_id, and they meet only through the store's KV and its NATS
// request/reply, as the nodes of a cluster do (whose KV is the same
// bucket, replicated).

// groupProps are worker properties with the group's timings shortened.
func groupProps(delay time.Duration) map[string]string {
	return map[string]string{
		"offset.flush.interval.ms":         "100",
		"heartbeat.interval.ms":            "50",
		"session.timeout.ms":               "500",
		"scheduled.rebalance.max.delay.ms": strconv.FormatInt(delay.Milliseconds(), 10),
	}
}

// groupWorker is one worker of a test group, with its REST API.
type groupWorker struct {
	e    *engine
	id   string
	h    *connect.Herder
	url  string
	once sync.Once
	srv  *httptest.Server
}

// stop stops the worker cleanly, as a node shutting down does.
func (w *groupWorker) stop() {
	w.once.Do(func() {
		w.srv.Close()
		w.h.Stop(context.Background())
	})
}

func startGroupWorker(t *testing.T, e *engine, reg *connect.Registry, props map[string]string) *groupWorker {
	t.Helper()
	return startGroupWorkerAt(t, e, reg, props, "127.0.0.1:0")
}

// startGroupWorkerAt starts a worker whose REST API listens on addr,
// so a restarted worker keeps its worker_id.
func startGroupWorkerAt(t *testing.T, e *engine, reg *connect.Registry, props map[string]string, addr string) *groupWorker {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener.Close()
	srv.Listener = ln
	w := &groupWorker{e: e, id: srv.Listener.Addr().String(), srv: srv}
	w.h = connect.NewHerder(connect.WorkerConfig{WorkerID: w.id, Registry: reg, Streams: e.local, KV: e.kv,
		Bus: e.st, Logger: testLogger(), Props: props})
	if err := w.h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	api, err := rest.New(rest.Config{Version: "test", ClusterID: "test", Herder: w.h})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = api
	srv.Start()
	w.url = srv.URL
	t.Cleanup(w.stop)
	return w
}

func testRegistry(log *sinkLog) *connect.Registry {
	return countingRegistry(log, &taskStarts{n: map[string]int{}})
}

// taskStarts counts the starts of each source task (by "<name>/<task>")
// across the workers.
type taskStarts struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *taskStarts) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.n)
}

type countingSource struct {
	testSource
	starts *taskStarts
}

func (c *countingSource) Task() connect.SourceTask { return &countingTask{starts: c.starts} }

type countingTask struct {
	sourceTask
	starts *taskStarts
}

func (t *countingTask) Start(ctx context.Context, p map[string]string, tc connect.SourceTaskContext) error {
	t.starts.mu.Lock()
	t.starts.n[p["name"]+"/"+p["test.task"]]++
	t.starts.mu.Unlock()
	return t.sourceTask.Start(ctx, p, tc)
}

func countingRegistry(log *sinkLog, starts *taskStarts) *connect.Registry {
	return connect.NewRegistry("test", map[string]func() connect.Connector{
		sourceClass: func() connect.Connector { return &countingSource{starts: starts} },
		sinkClass:   func() connect.Connector { return &testSink{testConnector{sink: true, log: log}} },
	})
}

// groupClient bounds each request: while a dead node's share of the
// store fails over, a read in flight to it waits for the request's
// deadline; the waits of the tests then try again.
var groupClient = &http.Client{Timeout: 5 * time.Second}

// call makes a REST request and decodes the JSON reply into out (if
// not nil), returning the status code. A GET that gets no reply returns
// 0, for the caller's wait to try again.
func call(t *testing.T, method, url string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := groupClient.Do(req)
	if err != nil && method == http.MethodGet {
		t.Logf("%s %s: %v", method, url, err)
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func status(t *testing.T, base, name string) connect.ConnectorStatus {
	t.Helper()
	var st connect.ConnectorStatus
	call(t, "GET", base+"/connectors/"+name+"/status", nil, &st)
	return st
}

// runningOn returns the worker running a connector's instance once it
// and all its tasks run (wherever they do), or "" while they do not.
func runningOn(st connect.ConnectorStatus, tasks int) string {
	if st.Connector.State != connect.StateRunning || len(st.Tasks) != tasks {
		return ""
	}
	for _, ts := range st.Tasks {
		if ts.State != connect.StateRunning || ts.WorkerID == "" {
			return ""
		}
	}
	return st.Connector.WorkerID
}

// placement waits until every connector runs with its tasks, and
// returns the worker of each instance, as the REST API of base reports
// it.
func placement(t *testing.T, base string, names []string, tasks int) map[string]string {
	t.Helper()
	out, _ := fullPlacement(t, base, names, tasks)
	return out
}

// fullPlacement is placement with the worker of each task too, by
// connector.
func fullPlacement(t *testing.T, base string, names []string, tasks int) (map[string]string, map[string][]string) {
	t.Helper()
	out, byTask := map[string]string{}, map[string][]string{}
	waitFor(t, "every connector running", func() bool {
		for _, n := range names {
			st := status(t, base, n)
			if out[n] = runningOn(st, tasks); out[n] == "" {
				return false
			}
			byTask[n] = nil
			for _, ts := range st.Tasks {
				byTask[n] = append(byTask[n], ts.WorkerID)
			}
		}
		return true
	})
	return out, byTask
}

// perWorker counts the instances and tasks on each worker.
func perWorker(conns map[string]string, tasks map[string][]string) (map[string]int, map[string]int) {
	nc, nt := map[string]int{}, map[string]int{}
	for _, w := range conns {
		nc[w]++
	}
	for _, ws := range tasks {
		for _, w := range ws {
			nt[w]++
		}
	}
	return nc, nt
}

func sourceConfig(records int) map[string]string {
	return map[string]string{"connector.class": sourceClass, "tasks.max": "2", "test.records": strconv.Itoa(records),
		"test.topic": "events", "key.converter": "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"}
}

// TestGroupSpreadsConnectors: connectors created through one worker are
// spread evenly over three, each status names the worker that runs it,
// and every worker's REST API reports the same.
func TestGroupSpreadsConnectors(t *testing.T) {
	e := newEngine(t, "")
	reg := testRegistry(newLog())
	var ws []*groupWorker
	for range 3 {
		ws = append(ws, startGroupWorker(t, e, reg, groupProps(time.Minute)))
	}
	var names []string
	for i := range 6 {
		name := fmt.Sprintf("src-%d", i)
		names = append(names, name)
		if code := call(t, "POST", ws[0].url+"/connectors", map[string]any{"name": name, "config": sourceConfig(0)}, nil); code != http.StatusCreated {
			t.Fatalf("create %s = %d", name, code)
		}
	}
	// Created as the group forms, they may start on fewer workers; the
	// leader then revokes some and gives them to the others.
	var where map[string]string
	waitFor(t, "two connectors and four tasks on each worker", func() bool {
		var tasks map[string][]string
		where, tasks = fullPlacement(t, ws[2].url, names, 2)
		nc, nt := perWorker(where, tasks)
		for _, w := range ws {
			if nc[w.id] != 2 || nt[w.id] != 4 {
				return false
			}
		}
		return true
	})
	var expanded map[string]struct {
		Status connect.ConnectorStatus `json:"status"`
	}
	call(t, "GET", ws[1].url+"/connectors?expand=status", nil, &expanded)
	for _, n := range names {
		if got := expanded[n].Status.Connector.WorkerID; got != where[n] {
			t.Fatalf("expand=status on another worker: %s on %q, want %q", n, got, where[n])
		}
	}
	var list []string
	call(t, "GET", ws[1].url+"/connectors", nil, &list)
	if len(list) != len(names) {
		t.Fatalf("GET /connectors = %v", list)
	}
	if code := call(t, "POST", ws[2].url+"/connectors", map[string]any{"name": "src-0", "config": sourceConfig(0)}, nil); code != http.StatusConflict {
		t.Fatalf("create of an existing connector through another worker = %d, want 409", code)
	}
}

// TestGroupRESTOnAnyWorker: the REST API of one worker manages a
// connector that another runs: pause, resume, reconfigure, restart,
// offsets and delete take effect where it runs.
func TestGroupRESTOnAnyWorker(t *testing.T) {
	e := newEngine(t, "")
	reg := testRegistry(newLog())
	a := startGroupWorker(t, e, reg, groupProps(time.Minute))
	b := startGroupWorker(t, e, reg, groupProps(time.Minute))
	for _, n := range []string{"one", "two"} {
		if code := call(t, "POST", a.url+"/connectors", map[string]any{"name": n, "config": sourceConfig(0)}, nil); code != http.StatusCreated {
			t.Fatalf("create %s = %d", n, code)
		}
	}
	where := placement(t, a.url, []string{"one", "two"}, 2)
	name, other := "one", b // a connector, and the worker that does not run it
	if where["one"] == b.id {
		other = a
	}
	if where["two"] == where["one"] {
		t.Fatalf("both connectors on %s", where["one"])
	}
	runner := a
	if other == a {
		runner = b
	}
	steps := []struct {
		what, method, path string
		body               any
		code               int
		want               func(connect.ConnectorStatus) bool
	}{
		{"pause", "PUT", "/pause", nil, http.StatusAccepted, func(st connect.ConnectorStatus) bool {
			return st.Connector.State == connect.StatePaused && len(st.Tasks) == 2 && st.Tasks[0].State == connect.StatePaused
		}},
		{"resume", "PUT", "/resume", nil, http.StatusAccepted, func(st connect.ConnectorStatus) bool { return runningOn(st, 2) == runner.id }},
		{"reconfigure", "PUT", "/config", func() map[string]string { c := sourceConfig(0); c["tasks.max"] = "3"; return c }(), http.StatusOK,
			func(st connect.ConnectorStatus) bool { return runningOn(st, 3) == runner.id }},
		{"restart", "POST", "/restart?includeTasks=true", nil, http.StatusAccepted, func(st connect.ConnectorStatus) bool { return runningOn(st, 3) == runner.id }},
		{"stop", "PUT", "/stop", nil, http.StatusNoContent, func(st connect.ConnectorStatus) bool {
			return st.Connector.State == connect.StateStopped && st.Connector.WorkerID == runner.id && len(st.Tasks) == 0
		}},
		{"reset offsets", "DELETE", "/offsets", nil, http.StatusOK, func(st connect.ConnectorStatus) bool { return st.Connector.State == connect.StateStopped }},
	}
	for _, s := range steps {
		if code := call(t, s.method, other.url+"/connectors/"+name+s.path, s.body, nil); code != s.code {
			t.Fatalf("%s through the other worker = %d, want %d", s.what, code, s.code)
		}
		// The worker that runs it shows the change.
		waitFor(t, s.what+" taking effect", func() bool { return s.want(status(t, runner.url, name)) })
		if st := status(t, other.url, name); st.Connector.WorkerID != runner.id {
			t.Fatalf("%s: the other worker reports worker_id %q, want %q", s.what, st.Connector.WorkerID, runner.id)
		}
	}
	var cfg map[string]string
	call(t, "GET", other.url+"/connectors/"+name+"/config", nil, &cfg)
	if cfg["tasks.max"] != "3" {
		t.Fatalf("config read through the other worker = %v", cfg)
	}
	if code := call(t, "DELETE", other.url+"/connectors/"+name, nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete through the other worker = %d", code)
	}
	for _, w := range []*groupWorker{a, b} {
		if code := call(t, "GET", w.url+"/connectors/"+name+"/status", nil, nil); code != http.StatusNotFound {
			t.Fatalf("status after delete on %s = %d, want 404", w.id, code)
		}
	}
	if code := call(t, "PUT", other.url+"/connectors/nobody/pause", nil, nil); code != http.StatusNotFound {
		t.Fatalf("pause of an unknown connector = %d, want 404", code)
	}
	var bad struct {
		Code int `json:"error_code"`
	}
	if code := call(t, "POST", other.url+"/connectors", map[string]any{"name": "bad", "config": map[string]string{"connector.class": "nope"}}, &bad); code != http.StatusBadRequest || bad.Code != http.StatusBadRequest {
		t.Fatalf("invalid create = %d %+v, want 400", code, bad)
	}
}

// TestGroupWorkerLeaves: the connectors of a worker that stops move to
// the others after scheduled.rebalance.max.delay.ms and not before,
// their source tasks resume from their committed offsets, and a worker
// that joins takes a share, while the tasks it does not take go on
// running where they are, never restarted.
func TestGroupWorkerLeaves(t *testing.T) {
	const delay = 2 * time.Second
	e := newEngine(t, "")
	starts := &taskStarts{n: map[string]int{}}
	reg := countingRegistry(newLog(), starts)
	a := startGroupWorker(t, e, reg, groupProps(delay))
	b := startGroupWorker(t, e, reg, groupProps(delay))
	names := []string{"s0", "s1", "s2", "s3"}
	const records = 3000
	for _, n := range names {
		if code := call(t, "POST", b.url+"/connectors", map[string]any{"name": n, "config": sourceConfig(records)}, nil); code != http.StatusCreated {
			t.Fatalf("create %s = %d", n, code)
		}
	}
	var where map[string]string
	var split []string // tasks on b of connectors whose instance runs on a
	waitFor(t, "two connectors and four tasks on each worker, some split", func() bool {
		var byTask map[string][]string
		where, byTask = fullPlacement(t, b.url, names, 2)
		nc, nt := perWorker(where, byTask)
		split = nil
		for n, ws := range byTask {
			for task, w := range ws {
				if w == b.id && where[n] == a.id {
					split = append(split, fmt.Sprintf("%s/%d", n, task))
				}
			}
		}
		return nc[a.id] == 2 && nt[a.id] == 4 && len(split) > 0
	})
	beforeMove := starts.snapshot()
	stopped := time.Now()
	a.stop()
	var moved map[string]string
	var tasks map[string][]string
	waitFor(t, "every connector and task on the remaining worker", func() bool {
		moved, tasks = fullPlacement(t, b.url, names, 2)
		nc, nt := perWorker(moved, tasks)
		return nc[b.id] == len(names) && nt[b.id] == 2*len(names)
	})
	if took := time.Since(stopped); took < delay {
		t.Fatalf("connectors moved %s after their worker stopped, before %s=%s", took, "scheduled.rebalance.max.delay.ms", delay)
	}
	// A task that ran on b for a's connector goes on running when the
	// connector's instance comes to b.
	afterMove := starts.snapshot()
	for _, k := range split {
		if afterMove[k] != beforeMove[k] {
			t.Fatalf("task %s, on the remaining worker, was restarted when its connector moved there", k)
		}
	}
	t.Logf("%d tasks ran on the remaining worker for the stopped worker's connectors", len(split))
	// Every source task produced its records exactly once in order
	// across the move: it resumed from its committed offset.
	waitFor(t, "every record of the moved tasks", func() bool { return countEvents(t, e) >= len(names)*2*records })
	values := eventValues(t, e)
	for _, n := range names {
		for task := range 2 {
			for i := range records {
				if v := fmt.Sprintf("%s/%d-%d", n, task, i); values[v] == 0 {
					t.Fatalf("record %s missing after the move", v)
				}
			}
		}
	}
	before := starts.snapshot()
	c := startGroupWorker(t, e, reg, groupProps(delay))
	var after map[string][]string
	waitFor(t, "the new worker to take a share", func() bool {
		var conns map[string]string
		conns, after = fullPlacement(t, c.url, names, 2)
		nc, nt := perWorker(conns, after)
		return nc[c.id] == 2 && nt[c.id] == 4
	})
	now := starts.snapshot()
	for _, n := range names {
		for task, w := range after[n] {
			if k := fmt.Sprintf("%s/%d", n, task); w == b.id && now[k] != before[k] {
				t.Fatalf("task %s, which stayed on %s, was restarted when a worker joined (%d starts, %d before)", k, w, now[k], before[k])
			}
		}
	}
}

// eventValues counts the values in the events stream.
func eventValues(t *testing.T, e *engine) map[string]int { return streamValues(t, e, "events") }

// streamValues counts the values in a stream.
func streamValues(t *testing.T, e *engine, stream string) map[string]int {
	t.Helper()
	out, err := readValues(context.Background(), e, stream)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readValues counts the values of a stream's records, reading every
// shard through e.
func readValues(ctx context.Context, e *engine, stream string) (map[string]int, error) {
	out := map[string]int{}
	shards, err := e.local.Shards(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("shards of %s: %w", stream, err)
	}
	for _, sh := range shards {
		after := ""
		for {
			res, err := e.local.Read(ctx, stream, sh.ID, after, 10000)
			if err != nil {
				return nil, fmt.Errorf("reading %s/%s: %w", stream, sh.ID, err)
			}
			if len(res.Records) == 0 {
				break
			}
			for _, r := range res.Records {
				out[string(r.Data)]++
			}
			after = res.Records[len(res.Records)-1].SequenceNumber
		}
	}
	return out, nil
}

func countEvents(t *testing.T, e *engine) int {
	n := 0
	for _, c := range eventValues(t, e) {
		n += c
	}
	return n
}

// TestGroupWorkerBackInTime: a worker that stops and comes back (same
// worker_id) before scheduled.rebalance.max.delay.ms gets its
// connectors back; none moved to the other worker meanwhile.
func TestGroupWorkerBackInTime(t *testing.T) {
	e := newEngine(t, "")
	reg := testRegistry(newLog())
	a := startGroupWorker(t, e, reg, groupProps(time.Minute))
	b := startGroupWorker(t, e, reg, groupProps(time.Minute))
	names := []string{"x0", "x1", "x2", "x3"}
	for _, n := range names {
		if code := call(t, "POST", a.url+"/connectors", map[string]any{"name": n, "config": sourceConfig(0)}, nil); code != http.StatusCreated {
			t.Fatalf("create %s = %d", n, code)
		}
	}
	var before map[string]string
	var beforeTasks map[string][]string
	waitFor(t, "two connectors and four tasks on each worker", func() bool {
		before, beforeTasks = fullPlacement(t, b.url, names, 2)
		nc, nt := perWorker(before, beforeTasks)
		return nc[a.id] == 2 && nt[a.id] == 4
	})
	a.stop()
	waitFor(t, "the stopped worker's connectors and tasks UNASSIGNED", func() bool {
		for _, n := range names {
			st := status(t, b.url, n)
			if before[n] == a.id && (st.Connector.State != connect.StateUnassigned || st.Connector.WorkerID != a.id) {
				return false
			}
			for i, ts := range st.Tasks {
				if beforeTasks[n][i] == a.id && (ts.State != connect.StateUnassigned || ts.WorkerID != a.id) {
					return false
				}
			}
		}
		return true
	})
	startGroupWorkerAt(t, e, reg, groupProps(time.Minute), a.id)
	after, afterTasks := fullPlacement(t, b.url, names, 2)
	if !maps.Equal(after, before) || !maps.EqualFunc(afterTasks, beforeTasks, slices.Equal) {
		t.Fatalf("placement after the worker came back %v %v, want %v %v as before", after, afterTasks, before, beforeTasks)
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("GROUP_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}
