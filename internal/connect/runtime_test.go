package connect_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/data"
	"github.com/tributary-data/tributary/internal/kinesis"
	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/streams"
)

// engine is an in-process Tributary: a store, the Kinesis service, and
// its Local view, which the runtime writes through.
type engine struct {
	st    *store.Store
	ks    *kinesis.Service
	local *streams.Local
	kv    *connect.MetaKV
}

func newEngine(t *testing.T, dir string) *engine { return newEngineTB(t, dir) }

func newEngineTB(t testing.TB, dir string) *engine {
	t.Helper()
	ctx := context.Background()
	cfg := store.Config{InMemory: dir == "", Dir: dir, Durability: store.Interval, SyncInterval: time.Second}
	st, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := kinesis.New(ctx, st, kinesis.Config{ShardLimit: 100, RetentionHour: time.Hour, SubscriptionDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e := &engine{st: st, ks: ks, local: ks.Local("", ""), kv: connect.NewMetaKV(st)}
	t.Cleanup(e.close)
	return e
}

// call makes a Kinesis API call in process, through the service's HTTP
// handler.
func (e *engine) call(t *testing.T, action, body string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	rec := httptest.NewRecorder()
	e.ks.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", action, rec.Code, rec.Body)
	}
}

func (e *engine) close() {
	e.ks.Close()
	_ = e.st.Close()
}

// sink collects what the test sink connector receives, by connector.
type sinkLog struct {
	mu      sync.Mutex
	records map[string][]*data.Record
	flushes map[string][]map[connect.ShardRef]string
}

func (l *sinkLog) got(name string) []*data.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*data.Record(nil), l.records[name]...)
}

// testConnector is a configurable source or sink for runtime tests:
//
//	test.records   source: how many records each task produces (then idles)
//	test.topic     source: the stream to write
//	test.fail.at   fail the task after this many records
//	test.panic     panic instead of failing
type testConnector struct {
	sink  bool
	log   *sinkLog
	props map[string]string
}

func (c *testConnector) Config() connect.ConfigDef {
	return connect.ConfigDef{{Name: "test.records", Type: connect.ConfigInt, Default: "0"}}
}
func (c *testConnector) Start(_ context.Context, p map[string]string) error { c.props = p; return nil }
func (c *testConnector) TaskConfigs(max int) ([]map[string]string, error) {
	out := make([]map[string]string, max)
	for i := range out {
		out[i] = map[string]string{"test.task": strconv.Itoa(i)}
	}
	return out, nil
}
func (c *testConnector) Stop() error { return nil }

type testSource struct{ testConnector }

func (c *testSource) Task() connect.SourceTask { return &sourceTask{} }

type testSink struct{ testConnector }

func (c *testSink) Task() connect.SinkTask { return &sinkTask{log: c.log} }

type sourceTask struct {
	props    map[string]string
	next, n  int
	failAt   int
	topic    string
	producer string
}

func (t *sourceTask) Start(ctx context.Context, p map[string]string, tc connect.SourceTaskContext) error {
	t.props = p
	t.n, _ = strconv.Atoi(p["test.records"])
	t.failAt, _ = strconv.Atoi(p["test.fail.at"])
	t.topic = p["test.topic"]
	t.producer = p["name"] + "/" + p["test.task"]
	off, err := tc.Offset(ctx, map[string]any{"producer": t.producer})
	if err != nil {
		return err
	}
	if off != nil {
		t.next = int(off["next"].(float64))
	}
	return nil
}

func (t *sourceTask) Poll(ctx context.Context) ([]*data.Record, error) {
	if t.failAt > 0 && t.next >= t.failAt {
		if t.props["test.panic"] == "true" {
			panic("test source panics")
		}
		return nil, errors.New("test source fails on purpose")
	}
	if t.next >= t.n {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
		return nil, nil
	}
	var out []*data.Record
	for ; t.next < t.n && len(out) < 100; t.next++ {
		out = append(out, &data.Record{
			Topic: t.topic, KeySchema: data.Primitive(data.TypeString), Key: fmt.Sprintf("k%d", t.next%7),
			ValueSchema: data.Primitive(data.TypeString), Value: fmt.Sprintf("%s-%d", t.producer, t.next),
			Headers:         []data.Header{{Key: "h", Schema: data.Primitive(data.TypeInt32), Value: int32(t.next)}},
			SourcePartition: map[string]any{"producer": t.producer}, SourceOffset: map[string]any{"next": t.next + 1},
		})
	}
	return out, nil
}
func (t *sourceTask) Stop() error { return nil }

type sinkTask struct {
	log       *sinkLog
	name      string
	retriable int // Put fails retriably this many times first
}

func (t *sinkTask) Start(_ context.Context, p map[string]string, _ connect.SinkTaskContext) error {
	t.name = p["name"]
	t.retriable, _ = strconv.Atoi(p["test.retriable"])
	return nil
}
func (t *sinkTask) Put(_ context.Context, recs []*data.Record) error {
	if t.retriable > 0 {
		t.retriable--
		return &connect.RetriableError{Err: errors.New("sink busy, try again")}
	}
	t.log.mu.Lock()
	defer t.log.mu.Unlock()
	t.log.records[t.name] = append(t.log.records[t.name], recs...)
	return nil
}
func (t *sinkTask) Flush(_ context.Context, pos map[connect.ShardRef]string) error {
	t.log.mu.Lock()
	defer t.log.mu.Unlock()
	t.log.flushes[t.name] = append(t.log.flushes[t.name], pos)
	return nil
}
func (t *sinkTask) Stop() error { return nil }

const (
	sourceClass = "test.Source"
	sinkClass   = "test.Sink"
)

func newHerder(t *testing.T, e *engine, log *sinkLog) *connect.Herder {
	t.Helper()
	return newHerderWith(t, e, log, nil)
}

// newHerderWith is newHerder with its metrics registered on prom.
func newHerderWith(t *testing.T, e *engine, log *sinkLog, prom prometheus.Registerer) *connect.Herder {
	t.Helper()
	reg := connect.NewRegistry("test", map[string]func() connect.Connector{
		sourceClass: func() connect.Connector { return &testSource{} },
		sinkClass:   func() connect.Connector { return &testSink{testConnector{sink: true, log: log}} },
	})
	h := connect.NewHerder(connect.WorkerConfig{WorkerID: "test:8083", Registry: reg, Streams: e.local, KV: e.kv,
		Logger: slog.New(slog.DiscardHandler), Props: map[string]string{"offset.flush.interval.ms": "100"},
		Registerer: prom})
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func state(t *testing.T, h *connect.Herder, name string) (connect.State, []connect.State) {
	t.Helper()
	st, err := h.ConnectorStatus(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	var tasks []connect.State
	for _, ts := range st.Tasks {
		tasks = append(tasks, ts.State)
	}
	return st.Connector.State, tasks
}

func newLog() *sinkLog {
	return &sinkLog{records: map[string][]*data.Record{}, flushes: map[string][]map[connect.ShardRef]string{}}
}

// TestSourceToSinkThroughStreams runs a 3-task source into a 4-shard
// stream and a 2-task sink out of it: every record arrives once, in
// per-key order, with key, value, headers and offsets intact.
func TestSourceToSinkThroughStreams(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, "")
	log := newLog()
	h := newHerder(t, e, log)
	defer h.Stop(ctx)
	if err := e.local.EnsureStream(ctx, "events", 4); err != nil {
		t.Fatal(err)
	}
	const perTask = 500
	if _, err := h.CreateConnector(ctx, "src", map[string]string{"connector.class": sourceClass, "tasks.max": "3",
		"test.records": strconv.Itoa(perTask), "test.topic": "events",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.CreateConnector(ctx, "snk", map[string]string{"connector.class": sinkClass, "tasks.max": "2", "topics": "events",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"}, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all records at the sink", func() bool { return len(log.got("snk")) >= 3*perTask })
	recs := log.got("snk")
	if len(recs) != 3*perTask {
		t.Fatalf("sink got %d records, want %d", len(recs), 3*perTask)
	}
	seen := map[string]bool{}
	lastByProducerKey := map[string]int{}
	for _, r := range recs {
		v := r.Value.(string)
		if seen[v] {
			t.Fatalf("duplicate %s", v)
		}
		seen[v] = true
		i := strings.LastIndexByte(v, '-')
		n, _ := strconv.Atoi(v[i+1:])
		if want := fmt.Sprintf("k%d", n%7); r.Key != want {
			t.Fatalf("record %s key %v, want %s", v, r.Key, want)
		}
		if len(r.Headers) != 1 || r.Headers[0].Key != "h" || r.Headers[0].Value != int32(n) {
			t.Fatalf("record %s headers %+v", v, r.Headers)
		}
		pk := v[:i] + "/" + r.Key.(string)
		if prev, ok := lastByProducerKey[pk]; ok && prev >= n {
			t.Fatalf("out of order for %s: %d after %d", pk, n, prev)
		}
		lastByProducerKey[pk] = n
		if r.Shard == "" || r.SequenceNumber == "" || r.Timestamp.IsZero() {
			t.Fatalf("record %s lacks its position: %+v", v, r)
		}
	}
	waitFor(t, "source offsets committed", func() bool {
		offs, _ := h.Offsets(ctx, "src")
		done := 0
		for _, po := range offs {
			if po.Offset["next"] == float64(perTask) {
				done++
			}
		}
		return done == 3
	})
	topics, _ := h.Topics(ctx, "src")
	if len(topics) != 1 || topics[0] != "events" {
		t.Fatalf("source topics = %v", topics)
	}
}

// TestLifecycle walks a connector through pause, resume, stop, offsets
// changes and restarts, checking the states Kafka reports.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, "")
	h := newHerder(t, e, newLog())
	defer h.Stop(ctx)
	cfg := map[string]string{"connector.class": sourceClass, "tasks.max": "2", "test.records": "50", "test.topic": "life"}
	info, err := h.CreateConnector(ctx, "life", cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != connect.TypeSource || len(info.Tasks) != 2 || info.Config["name"] != "life" {
		t.Fatalf("info = %+v", info)
	}
	if _, err := h.CreateConnector(ctx, "life", cfg, ""); !isCode(err, http.StatusConflict) {
		t.Fatalf("duplicate create: %v", err)
	}
	steps := []struct {
		name  string
		do    func() error
		conn  connect.State
		tasks []connect.State
	}{
		{"running", func() error { return nil }, connect.StateRunning, []connect.State{"RUNNING", "RUNNING"}},
		{"pause", func() error { return h.PauseConnector(ctx, "life") }, connect.StatePaused, []connect.State{"PAUSED", "PAUSED"}},
		{"pause again", func() error { return h.PauseConnector(ctx, "life") }, connect.StatePaused, []connect.State{"PAUSED", "PAUSED"}},
		{"resume", func() error { return h.ResumeConnector(ctx, "life") }, connect.StateRunning, []connect.State{"RUNNING", "RUNNING"}},
		{"stop", func() error { return h.StopConnector(ctx, "life") }, connect.StateStopped, nil},
		{"resume from stopped", func() error { return h.ResumeConnector(ctx, "life") }, connect.StateRunning, []connect.State{"RUNNING", "RUNNING"}},
		{"restart task", func() error { return h.RestartTask(ctx, "life", 1) }, connect.StateRunning, []connect.State{"RUNNING", "RUNNING"}},
		{"restart all", func() error { _, err := h.RestartConnector(ctx, "life", true, false); return err }, connect.StateRunning, []connect.State{"RUNNING", "RUNNING"}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		conn, tasks := state(t, h, "life")
		if conn != s.conn || fmt.Sprint(tasks) != fmt.Sprint(s.tasks) {
			t.Fatalf("%s: state %s %v, want %s %v", s.name, conn, tasks, s.conn, s.tasks)
		}
	}
	waitFor(t, "both tasks' offsets", func() bool {
		offs, _ := h.Offsets(ctx, "life")
		return len(offs) == 2 && offs[0].Offset["next"] == float64(50) && offs[1].Offset["next"] == float64(50)
	})
	// Offsets may only change while stopped.
	alter := []connect.PartitionOffset{{Partition: map[string]any{"producer": "life/0"}, Offset: map[string]any{"next": 40}}}
	if err := h.AlterOffsets(ctx, "life", alter); !isCode(err, http.StatusBadRequest) {
		t.Fatalf("alter while running: %v", err)
	}
	if err := h.StopConnector(ctx, "life"); err != nil {
		t.Fatal(err)
	}
	if err := h.AlterOffsets(ctx, "life", alter); err != nil {
		t.Fatal(err)
	}
	offs, _ := h.Offsets(ctx, "life")
	got := map[string]any{}
	for _, po := range offs {
		got[po.Partition["producer"].(string)] = po.Offset["next"]
	}
	if got["life/0"] != float64(40) || got["life/1"] != float64(50) {
		t.Fatalf("offsets after alter = %v", got)
	}
	if err := h.ResetOffsets(ctx, "life"); err != nil {
		t.Fatal(err)
	}
	if offs, _ := h.Offsets(ctx, "life"); len(offs) != 0 {
		t.Fatalf("offsets after reset = %v", offs)
	}
	if err := h.DeleteConnector(ctx, "life"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ConnectorStatus(ctx, "life"); !isCode(err, http.StatusNotFound) {
		t.Fatalf("status after delete: %v", err)
	}
}

func isCode(err error, code int) bool {
	var ce *connect.Error
	return errors.As(err, &ce) && ce.Code == code
}

// TestFailureIsolation: a failing task and a panicking one are FAILED
// with a trace, while the other task and other connectors keep running;
// restarting only the failed tasks brings them back.
func TestFailureIsolation(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, "")
	log := newLog()
	h := newHerder(t, e, log)
	defer h.Stop(ctx)
	for _, c := range []struct{ name, panic string }{{"fails", "false"}, {"panics", "true"}} {
		if _, err := h.CreateConnector(ctx, c.name, map[string]string{"connector.class": sourceClass, "test.records": "1000",
			"test.fail.at": "200", "test.panic": c.panic, "test.topic": "iso"}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.CreateConnector(ctx, "healthy", map[string]string{"connector.class": sourceClass, "test.records": "300", "test.topic": "iso2"}, ""); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fails", "panics"} {
		waitFor(t, name+" failed", func() bool { _, ts := state(t, h, name); return ts[0] == connect.StateFailed })
		st, _ := h.ConnectorStatus(ctx, name)
		if st.Connector.State != connect.StateRunning || !strings.Contains(st.Tasks[0].Trace, "test source") {
			t.Fatalf("%s status = %+v", name, st)
		}
	}
	waitFor(t, "healthy offsets", func() bool {
		offs, _ := h.Offsets(ctx, "healthy")
		return len(offs) == 1 && offs[0].Offset["next"] == float64(300)
	})
	if _, ts := state(t, h, "healthy"); ts[0] != connect.StateRunning {
		t.Fatalf("healthy task = %v", ts)
	}
	st, err := h.RestartConnector(ctx, "fails", true, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.Connector.State != connect.StateRunning || st.Tasks[0].State != connect.StateRestarting {
		t.Fatalf("restart reply = %+v", st)
	}
}

// TestTargetStateSurvivesRestart: a paused and a stopped connector come
// back paused and stopped after the worker restarts on the same store.
func TestTargetStateSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := newEngine(t, dir)
	h := newHerder(t, e, newLog())
	base := map[string]string{"connector.class": sourceClass, "test.records": "10", "test.topic": "ts"}
	for _, n := range []string{"a", "b", "c"} {
		if _, err := h.CreateConnector(ctx, n, base, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.PauseConnector(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	// The status is recorded in the KV too.
	waitFor(t, "status of b in the KV", func() bool {
		raw, err := e.kv.Get(ctx, "connect.status."+hex.EncodeToString([]byte("b")))
		var st connect.ConnectorStatus
		return err == nil && json.Unmarshal(raw, &st) == nil && st.Connector.State == connect.StatePaused
	})
	if err := h.StopConnector(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	h.Stop(ctx)
	e.close()

	e2 := newEngine(t, dir)
	h2 := newHerder(t, e2, newLog())
	defer h2.Stop(ctx)
	names, _ := h2.Connectors(ctx)
	sort.Strings(names)
	if fmt.Sprint(names) != "[a b c]" {
		t.Fatalf("connectors after restart = %v", names)
	}
	for n, want := range map[string]connect.State{"a": connect.StateRunning, "b": connect.StatePaused, "c": connect.StateStopped} {
		if got, _ := state(t, h2, n); got != want {
			t.Errorf("%s after restart = %s, want %s", n, got, want)
		}
	}
}

// TestErrorTolerance: with errors.tolerance=all a record the converter
// cannot read is skipped and dead-lettered with context headers; with
// none it fails the task.
func TestErrorTolerance(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, "")
	log := newLog()
	h := newHerder(t, e, log)
	defer h.Stop(ctx)
	if err := e.local.EnsureStream(ctx, "mixed", 1); err != nil {
		t.Fatal(err)
	}
	var recs []connect.StreamRecord
	for i := range 10 {
		v := fmt.Sprintf(`{"n":%d}`, i)
		if i%3 == 0 {
			v = "not json"
		}
		recs = append(recs, connect.StreamRecord{PartitionKey: "k", Data: []byte(v)})
	}
	if err := e.local.Put(ctx, "mixed", recs); err != nil {
		t.Fatal(err)
	}
	json := map[string]string{"connector.class": sinkClass, "topics": "mixed",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"key.converter": "org.apache.kafka.connect.storage.StringConverter"}
	tolerant := map[string]string{"errors.tolerance": "all", "topics.regex": "mix.*", "errors.deadletterqueue.topic.name": "mixed-dlq",
		"errors.deadletterqueue.context.headers.enable": "true", "errors.log.enable": "true"}
	for k, v := range json {
		tolerant[k] = v
	}
	// The tolerant sink reads by pattern, which also matches its own
	// dead letter stream: the runtime must not read that back.
	delete(tolerant, "topics")
	if _, err := h.CreateConnector(ctx, "tolerant", tolerant, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.CreateConnector(ctx, "strict", json, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "tolerant sink", func() bool { return len(log.got("tolerant")) == 6 })
	waitFor(t, "strict failure", func() bool { _, ts := state(t, h, "strict"); return ts[0] == connect.StateFailed })
	var dlq []connect.StreamRecord
	waitFor(t, "dead letters", func() bool {
		res, err := e.local.Read(ctx, "mixed-dlq", "shardId-000000000000", "", 100)
		if err == nil {
			dlq = append(dlq, res.Records...)
		}
		return len(dlq) >= 4
	})
	if len(dlq) != 4 || string(dlq[0].Data) != "not json" {
		t.Fatalf("dead letters = %d, first %q", len(dlq), dlq[0].Data)
	}
	// Read the dead letter back through a sink: the context headers are
	// there.
	if _, err := h.CreateConnector(ctx, "dlq-reader", map[string]string{"connector.class": sinkClass, "topics": "mixed-dlq",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter"}, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dlq reader", func() bool { return len(log.got("dlq-reader")) == 4 })
	hdrs := map[string]any{}
	for _, hd := range log.got("dlq-reader")[0].Headers {
		hdrs[hd.Key] = hd.Value
	}
	if hdrs["__connect.errors.topic"] != "mixed" || hdrs["__connect.errors.connector.name"] != "tolerant" ||
		hdrs["__connect.errors.stage"] != "VALUE_CONVERTER" || hdrs["__connect.errors.exception.message"] == nil {
		t.Fatalf("dead letter headers = %v", hdrs)
	}
}

// TestSinkFollowsResharding: after a split, the sink reads the parent to
// its end before the children, so each key stays in order.
func TestSinkFollowsResharding(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, "")
	log := newLog()
	h := newHerder(t, e, log)
	defer h.Stop(ctx)
	if err := e.local.EnsureStream(ctx, "split", 1); err != nil {
		t.Fatal(err)
	}
	put := func(from, to int) {
		var recs []connect.StreamRecord
		for i := from; i < to; i++ {
			recs = append(recs, connect.StreamRecord{PartitionKey: fmt.Sprintf("k%d", i%5), Data: []byte(strconv.Itoa(i))})
		}
		if err := e.local.Put(ctx, "split", recs); err != nil {
			t.Fatal(err)
		}
	}
	put(0, 300)
	e.call(t, "SplitShard", `{"StreamName":"split","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"170141183460469231731687303715884105728"}`)
	put(300, 600)
	if _, err := h.CreateConnector(ctx, "follow", map[string]string{"connector.class": sinkClass, "topics": "split", "tasks.max": "3",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter", "key.converter": "org.apache.kafka.connect.storage.StringConverter"}, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all records", func() bool { return len(log.got("follow")) >= 600 })
	last := map[string]int{}
	for _, r := range log.got("follow") {
		n, _ := strconv.Atoi(r.Value.(string))
		k := r.Key.(string)
		if p, ok := last[k]; ok && p >= n {
			t.Fatalf("key %s: %d after %d", k, n, p)
		}
		last[k] = n
	}
	if n := len(log.got("follow")); n != 600 {
		t.Fatalf("got %d records", n)
	}
}

// TestRetry: a sink whose Put fails with a RetriableError is retried
// within errors.retry.timeout, and fails once the timeout is 0.
func TestRetry(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, "")
	log := newLog()
	h := newHerder(t, e, log)
	defer h.Stop(ctx)
	if err := e.local.EnsureStream(ctx, "retry", 1); err != nil {
		t.Fatal(err)
	}
	if err := e.local.Put(ctx, "retry", []connect.StreamRecord{{PartitionKey: "k", Data: []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, timeout string
		want          connect.State
	}{
		{"patient", "30000", connect.StateRunning},
		{"impatient", "0", connect.StateFailed},
	} {
		if _, err := h.CreateConnector(ctx, tc.name, map[string]string{"connector.class": sinkClass, "topics": "retry",
			"test.retriable": "2", "errors.retry.timeout": tc.timeout, "errors.retry.delay.max.ms": "50"}, ""); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the patient sink's record", func() bool { return len(log.got("patient")) == 1 })
	waitFor(t, "the impatient sink's failure", func() bool { _, ts := state(t, h, "impatient"); return ts[0] == connect.StateFailed })
	if _, ts := state(t, h, "patient"); ts[0] != connect.StateRunning {
		t.Fatalf("patient sink = %v", ts)
	}
	st, _ := h.ConnectorStatus(ctx, "impatient")
	if !strings.Contains(st.Tasks[0].Trace, "sink busy") {
		t.Fatalf("trace = %q", st.Tasks[0].Trace)
	}
}
