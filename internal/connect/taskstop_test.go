package connect_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/data"
	"github.com/tributary-data/tributary/internal/connect/rest"
	"github.com/tributary-data/tributary/internal/syncbuf"
)

// stuckSource is a source whose tasks ignore being stopped: Poll notes
// that its context ended and blocks on until the test releases it, as a
// plugin stuck in a call that takes no context would.
type stuckSource struct {
	testSource
	stuck *stuckTasks
}

func (c *stuckSource) Task() connect.SourceTask { return &stuckTask{s: c.stuck} }

// stuckTasks is what a test knows of its stuck tasks: polling is closed
// once a task polls, asked once a task's context has ended, and release
// lets every task go.
type stuckTasks struct {
	polling, asked, release chan struct{}
	pollOnce, askOnce       sync.Once
	releaseOnce             sync.Once
}

func newStuckTasks() *stuckTasks {
	return &stuckTasks{polling: make(chan struct{}), asked: make(chan struct{}), release: make(chan struct{})}
}

type stuckTask struct{ s *stuckTasks }

func (t *stuckTask) Start(context.Context, map[string]string, connect.SourceTaskContext) error {
	return nil
}

func (t *stuckTask) Poll(ctx context.Context) ([]*data.Record, error) {
	t.s.pollOnce.Do(func() { close(t.s.polling) })
	select {
	case <-ctx.Done():
		t.s.askOnce.Do(func() { close(t.s.asked) })
	case <-t.s.release:
		return nil, nil
	}
	<-t.s.release
	return nil, nil
}

func (t *stuckTask) Stop() error { return nil }

const stuckClass = "test.Stuck"

// stuckWorker is a herder with its REST API, whose connectors' tasks are
// stuck, and whose log is kept.
type stuckWorker struct {
	h     *connect.Herder
	api   *httptest.Server
	stuck *stuckTasks
	log   *syncbuf.Buffer
}

func newStuckWorker(t *testing.T, stopTimeout string) *stuckWorker {
	t.Helper()
	e := newEngine(t, "")
	w := &stuckWorker{stuck: newStuckTasks(), log: &syncbuf.Buffer{}}
	reg := connect.NewRegistry("test", map[string]func() connect.Connector{
		stuckClass: func() connect.Connector { return &stuckSource{stuck: w.stuck} },
	})
	w.h = connect.NewHerder(connect.WorkerConfig{WorkerID: "test:8083", Registry: reg, Streams: e.local, KV: e.kv,
		Logger: slog.New(slog.NewTextHandler(w.log, nil)),
		Props:  map[string]string{"task.shutdown.graceful.timeout.ms": stopTimeout}})
	if err := w.h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	api, err := rest.New(rest.Config{Herder: w.h})
	if err != nil {
		t.Fatal(err)
	}
	w.api = httptest.NewServer(api)
	// Cleanups run last first: the tasks are released before the
	// herder stops, and the server closes after.
	t.Cleanup(w.api.Close)
	t.Cleanup(func() { w.h.Stop(context.Background()) })
	t.Cleanup(w.releaseOnce)
	w.call(t, "POST", "/connectors", `{"name":"s","config":{"connector.class":"`+stuckClass+`","tasks.max":"1"}}`, http.StatusCreated)
	<-w.stuck.polling
	return w
}

// releaseOnce lets the stuck tasks go.
func (w *stuckWorker) releaseOnce() {
	w.stuck.releaseOnce.Do(func() { close(w.stuck.release) })
}

// restClient gives up on a call after 10 s, so that a frozen REST API
// fails the test instead of hanging it.
var restClient = &http.Client{Timeout: 10 * time.Second}

// call makes a REST call and checks its status.
func (w *stuckWorker) call(t *testing.T, method, path, body string, want int) string {
	t.Helper()
	req, err := http.NewRequest(method, w.api.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := restClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Errorf("%s %s = %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	return string(b)
}

// stopPaths are the changes that stop a connector's tasks.
var stopPaths = []struct {
	name         string
	method, path string
	body         string
	want         int
}{
	{"delete", "DELETE", "/connectors/s", "", http.StatusNoContent},
	{"restart with tasks", "POST", "/connectors/s/restart?includeTasks=true", "", http.StatusAccepted},
	{"restart task", "POST", "/connectors/s/tasks/0/restart", "", http.StatusNoContent},
	{"stop", "PUT", "/connectors/s/stop", "", http.StatusNoContent},
	{"new config", "PUT", "/connectors/s/config", `{"connector.class":"` + stuckClass + `","tasks.max":"1","x":"1"}`, http.StatusOK},
	{"worker stop", "", "", "", 0},
}

// change runs a stop path: a REST call, or the worker's Stop. A REST
// call held up answers 500 (the API's request timeout); a Stop held up
// for 30 s, which only a stop that waits forever is, fails the test and
// lets the task go so that it ends.
func (w *stuckWorker) change(t *testing.T, method, path, body string, want int) {
	if method != "" {
		w.call(t, method, path, body, want)
		return
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		w.h.Stop(context.Background())
	}()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Errorf("the worker's Stop waits for its stuck task")
		w.releaseOnce()
		<-stopped
	}
}

// TestStuckTaskDoesNotFreezeREST stops a connector whose task ignores
// being stopped, by every path that stops tasks. While the stop waits,
// the REST API answers; once the task lets go, the change completes.
func TestStuckTaskDoesNotFreezeREST(t *testing.T) {
	for _, p := range stopPaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			w := newStuckWorker(t, "60000")
			done := make(chan struct{})
			go func() {
				defer close(done)
				w.change(t, p.method, p.path, p.body, p.want)
			}()
			<-w.stuck.asked
			if got := w.call(t, "GET", "/connectors", "", http.StatusOK); got != `["s"]` {
				w.releaseOnce()
				t.Fatalf("GET /connectors while a task stops = %q", got)
			}
			// The stopping task keeps its last state, as in Kafka.
			if st := w.call(t, "GET", "/connectors/s/status", "", http.StatusOK); strings.Contains(st, "UNASSIGNED") {
				t.Errorf("status while a task stops = %s", st)
			}
			w.call(t, "GET", "/connectors/s/config", "", http.StatusOK)
			w.call(t, "GET", "/connector-plugins", "", http.StatusOK)
			select {
			case <-done:
				t.Fatal("the change finished while its task was still running")
			default:
			}
			w.releaseOnce()
			<-done
			if strings.Contains(w.log.String(), "Graceful stop") {
				t.Errorf("a task that stopped was reported abandoned:\n%s", w.log)
			}
		})
	}
}

// TestStuckTaskAbandoned stops a connector whose task never stops, with
// task.shutdown.graceful.timeout.ms short: each change returns once the
// timeout has passed, with the task reported at ERROR as Kafka reports
// it, and the REST API goes on answering.
func TestStuckTaskAbandoned(t *testing.T) {
	const timeout = 200 * time.Millisecond
	for _, p := range stopPaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			w := newStuckWorker(t, "200")
			start := time.Now()
			w.change(t, p.method, p.path, p.body, p.want)
			if took := time.Since(start); took < timeout {
				t.Errorf("the change returned after %s, before the stop timeout of %s", took, timeout)
			}
			select {
			case <-w.stuck.release:
				t.Fatal("the task was released before the change returned")
			default:
			}
			if log := w.log.String(); !strings.Contains(log, `level=ERROR msg="Graceful stop of task s-0 failed."`) {
				t.Errorf("no ERROR for the abandoned task in the log:\n%s", log)
			}
			w.call(t, "GET", "/connectors", "", http.StatusOK)
			w.call(t, "GET", "/connector-plugins", "", http.StatusOK)
		})
	}
}
