package connect_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/plugins"
	"github.com/tributary-data/tributary/internal/testmariadb"
)

// Acceptance 5 of issue 12: a file pipeline and a Debezium connector
// survive the stop of the worker running their tasks.

// workerOf returns the worker of ws that runs a connector's task 0.
func workerOf(t *testing.T, ws []*groupWorker, name string, tasks int) *groupWorker {
	t.Helper()
	_, byTask := fullPlacement(t, ws[0].url, []string{name}, tasks)
	where := byTask[name][0]
	for _, w := range ws {
		if w.id == where {
			return w
		}
	}
	t.Fatalf("%s's task runs on %s, no worker of the group", name, where)
	return nil
}

// taskMoved waits until a connector's only task runs on a worker of ws
// other than lost, as the REST API of another worker reports it. A
// worker that died (rather than stopped) leaves its task's status
// RUNNING under its worker_id until the task runs elsewhere.
func taskMoved(t *testing.T, ws []*groupWorker, lost *groupWorker, name string) *groupWorker {
	t.Helper()
	var rest []*groupWorker
	for _, w := range ws {
		if w != lost {
			rest = append(rest, w)
		}
	}
	var moved *groupWorker
	waitFor(t, name+"'s task running on a live worker", func() bool {
		st := status(t, rest[0].url, name)
		if len(st.Tasks) != 1 || st.Tasks[0].State != connect.StateRunning {
			return false
		}
		for _, w := range rest {
			if w.id == st.Tasks[0].WorkerID {
				moved = w
			}
		}
		return moved != nil
	})
	return moved
}

// appendLines appends numbered lines to path in small chunks, with a
// pause between them, so that connectors read a file that grows.
func appendLines(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	for i := from; i < to; i++ {
		if _, err := fmt.Fprintf(f, "%07d %s\n", i, strings.Repeat("ü-line ", i%13)); err != nil {
			t.Error(err)
			return
		}
		if i%200 == 199 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestGroupFilePipelineSurvivesWorkerStop: FileStreamSource → stream →
// FileStreamSink over three workers; the worker running the source
// stops mid-file, then the one running the sink; the output ends
// byte-identical to the input.
func TestGroupFilePipelineSurvivesWorkerStop(t *testing.T) {
	const delay = 500 * time.Millisecond
	e := newEngine(t, "")
	reg := plugins.Registry("test")
	var ws []*groupWorker
	for range 3 {
		ws = append(ws, startGroupWorker(t, e, reg, groupProps(delay)))
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	appendLines(t, in, 0, 2000)
	for name, config := range map[string]map[string]string{
		"file-in":  {"connector.class": "FileStreamSource", "file": in, "topic": "lines"},
		"file-out": {"connector.class": "FileStreamSink", "file": out, "topics": "lines"},
	} {
		if code := call(t, "POST", ws[1].url+"/connectors", map[string]any{"name": name, "config": config}, nil); code != http.StatusCreated {
			t.Fatalf("create %s = %d", name, code)
		}
	}
	const lines = 30000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		appendLines(t, in, 2000, lines)
	}()
	for _, name := range []string{"file-in", "file-out"} {
		w := workerOf(t, ws, name, 1)
		waitFor(t, "output to grow", func() bool { return fileSizeOf(out) > 0 })
		w.stop()
		t.Logf("stopped %s, which ran %s, with %d bytes out", w.id, name, fileSizeOf(out))
		var rest []*groupWorker
		for _, o := range ws {
			if o != w {
				rest = append(rest, o)
			}
		}
		ws = rest
		if moved := workerOf(t, ws, name, 1); moved == w {
			t.Fatalf("%s still on the stopped worker", name)
		}
	}
	wg.Wait()
	want, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the whole file at the sink", func() bool { return fileSizeOf(out) >= int64(len(want)) })
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output (%d bytes) differs from input (%d bytes)", len(got), len(want))
	}
}

// TestGroupDebeziumSurvivesWorkerStop: a Debezium MySQL connector whose
// worker stops while transactions commit resumes on another worker from
// its committed binlog position: every change arrives. Duplicates are
// allowed (at-least-once: the changes after the last committed offset
// are captured again), and counted.
func TestGroupDebeziumSurvivesWorkerStop(t *testing.T) {
	e := newEngine(t, "")
	reg := plugins.Registry("test")
	var ws []*groupWorker
	for range 2 {
		ws = append(ws, startGroupWorker(t, e, reg, groupProps(500*time.Millisecond)))
	}
	debeziumAcrossLoss(t, testmariadb.Start(t), ws, func(w *groupWorker) *engine {
		w.stop()
		return e
	})
}

// debeziumAcrossLoss creates a Debezium connector (topic prefix "grp")
// on a group, commits transactions that increment counters, loses the
// worker running its task with lose (which returns an engine of a live
// node, to read the stream through) while they commit, and checks that
// every change arrives.
func debeziumAcrossLoss(t *testing.T, db *testmariadb.Server, ws []*groupWorker, lose func(*groupWorker) *engine) {
	const keys, rounds = 10, 100
	db.Exec(t, "CREATE DATABASE shop", "CREATE TABLE shop.counters (id INT PRIMARY KEY, n INT NOT NULL)")
	for k := range keys {
		db.Exec(t, fmt.Sprintf("INSERT INTO shop.counters VALUES (%d, 0)", k))
	}
	config := map[string]string{
		"connector.class":                "io.debezium.connector.mysql.MySqlConnector",
		"database.hostname":              db.Host,
		"database.port":                  strconv.Itoa(db.Port),
		"database.user":                  db.User,
		"database.password":              db.Password,
		"database.server.id":             "7101",
		"topic.prefix":                   "grp",
		"database.include.list":          "shop",
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "false",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
	if code := call(t, "POST", ws[1].url+"/connectors", map[string]any{"name": "shop", "config": config}, nil); code != http.StatusCreated {
		t.Fatalf("create = %d", code)
	}
	const stream = "grp.shop.counters"
	// changes reads the stream through e; a read that fails (the stream
	// not made yet, or its log failing over from a dead node) gives what
	// was read so far, for the caller's wait to try again.
	changes := func(e *engine) map[int][]int {
		byKey := map[int][]int{}
		values, err := readValues(t.Context(), e, stream)
		if err != nil {
			return byKey
		}
		for v := range values {
			var ch struct {
				After map[string]any `json:"after"`
			}
			if json.Unmarshal([]byte(v), &ch) != nil || ch.After == nil {
				continue
			}
			k, n := int(ch.After["id"].(float64)), int(ch.After["n"].(float64))
			byKey[k] = append(byKey[k], n)
		}
		return byKey
	}
	w := workerOf(t, ws, "shop", 1)
	var e *engine
	for _, o := range ws {
		if o != w {
			e = o.e
		}
	}
	waitFor(t, "the snapshot", func() bool { return len(changes(e)) == keys })
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := db.Connect(t.Context())
		if err != nil {
			t.Errorf("connect to mariadb: %v", err)
			return
		}
		defer c.Quit()
		for range rounds {
			for _, q := range []string{"BEGIN", "UPDATE shop.counters SET n = n + 1", "COMMIT"} {
				if _, err := c.Execute(q); err != nil {
					t.Errorf("mariadb: %s: %v", q, err)
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	waitFor(t, "some updates captured", func() bool { return len(changes(e)[0]) > 5 })
	e = lose(w)
	taskMoved(t, ws, w, "shop")
	wg.Wait()
	if t.Failed() {
		return
	}
	var byKey map[int][]int
	waitFor(t, "every change", func() bool {
		byKey = changes(e)
		for k := range keys {
			if !slices.Contains(byKey[k], rounds) {
				return false
			}
		}
		return true
	})
	dups := 0
	for k := range keys {
		seen := map[int]bool{}
		for _, n := range byKey[k] {
			if seen[n] {
				dups++
			}
			seen[n] = true
		}
		for n := 0; n <= rounds; n++ {
			if !seen[n] {
				t.Fatalf("key %d: change n=%d lost across the move (got %v)", k, n, byKey[k])
			}
		}
	}
	t.Logf("%d changes of %d keys, %d delivered twice (at-least-once)", keys*(rounds+1), keys, dups)
}
