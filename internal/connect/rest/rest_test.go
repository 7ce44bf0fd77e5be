package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
)

// fakeHerder is an in-memory Herder with two connectors: "src", a
// running source whose task 0 has failed, and "sink", a stopped sink.
type fakeHerder struct {
	mu      sync.Mutex
	configs map[string]map[string]string
	targets map[string]connect.TargetState
	ghosts  []string // listed by Connectors but gone by the time they are looked up
	listErr error
	health  [2]string
	calls   []string
	altered []connect.PartitionOffset
	patched map[string]*string
	valCfg  map[string]string
}

func newFake() *fakeHerder {
	return &fakeHerder{
		configs: map[string]map[string]string{
			"src":  {"name": "src", "connector.class": "FileStreamSource", "file": "/tmp/in", "topic": "in-stream"},
			"sink": {"name": "sink", "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "topics.regex": "a<b&c>"},
		},
		targets: map[string]connect.TargetState{"src": connect.TargetStarted, "sink": connect.TargetStopped},
		health:  [2]string{"healthy", ""},
	}
}

func herr(code int, format string, args ...any) error {
	return &connect.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func notFound(name string) error { return herr(404, "Connector %s not found", name) }

func (f *fakeHerder) record(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeHerder) WorkerID() string { return "w1:8083" }

func (f *fakeHerder) Health(ctx context.Context) (string, string) { return f.health[0], f.health[1] }

func (f *fakeHerder) Connectors(ctx context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	names := append([]string(nil), f.ghosts...)
	for n := range f.configs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func typeOf(cfg map[string]string) connect.ConnectorType {
	if strings.Contains(cfg["connector.class"], "Source") {
		return connect.TypeSource
	}
	return connect.TypeSink
}

func (f *fakeHerder) info(name string) (*connect.ConnectorInfo, error) {
	cfg, ok := f.configs[name]
	if !ok {
		return nil, notFound(name)
	}
	info := &connect.ConnectorInfo{Name: name, Config: cfg, Type: typeOf(cfg)}
	if f.targets[name] != connect.TargetStopped {
		info.Tasks = []connect.TaskID{{Connector: name, Task: 0}}
	}
	return info, nil
}

func (f *fakeHerder) ConnectorInfo(ctx context.Context, name string) (*connect.ConnectorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info(name)
}

func (f *fakeHerder) ConnectorConfig(ctx context.Context, name string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cfg, ok := f.configs[name]
	if !ok {
		return nil, notFound(name)
	}
	return cfg, nil
}

const missingClass = "Connector configuration is invalid and contains the following 1 error(s):\nMissing required configuration \"connector.class\" which has no default value."

func (f *fakeHerder) CreateConnector(ctx context.Context, name string, config map[string]string, initial connect.TargetState) (*connect.ConnectorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("create %s %s", name, initial)
	if _, ok := f.configs[name]; ok {
		return nil, herr(409, "Connector %s already exists", name)
	}
	if config["connector.class"] == "" {
		return nil, herr(400, "%s", missingClass)
	}
	f.configs[name] = config
	f.targets[name] = initial
	return f.info(name)
}

func (f *fakeHerder) PutConnectorConfig(ctx context.Context, name string, config map[string]string) (*connect.ConnectorInfo, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if config["connector.class"] == "" {
		return nil, false, herr(400, "%s", missingClass)
	}
	_, exists := f.configs[name]
	f.configs[name] = config
	if !exists {
		f.targets[name] = connect.TargetStarted
	}
	info, err := f.info(name)
	return info, !exists, err
}

func (f *fakeHerder) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (*connect.ConnectorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cfg, ok := f.configs[name]
	if !ok {
		return nil, notFound(name)
	}
	f.patched = patch
	for k, v := range patch {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = *v
		}
	}
	return f.info(name)
}

func (f *fakeHerder) status(name string, restarting bool) (*connect.ConnectorStatus, error) {
	cfg, ok := f.configs[name]
	if !ok {
		return nil, notFound(name)
	}
	st := &connect.ConnectorStatus{Name: name, Type: typeOf(cfg),
		Connector: connect.StateInfo{State: connect.StateRunning, WorkerID: "w1:8083"}}
	if f.targets[name] == connect.TargetStopped {
		st.Connector.State = connect.StateStopped
		return st, nil
	}
	st.Tasks = []connect.TaskState{{ID: 0, State: connect.StateFailed, WorkerID: "w1:8083", Trace: "boom\n\tat task"}}
	if restarting {
		st.Connector.State = connect.StateRestarting
		st.Tasks[0] = connect.TaskState{ID: 0, State: connect.StateRestarting, WorkerID: "w1:8083"}
	}
	return st, nil
}

func (f *fakeHerder) ConnectorStatus(ctx context.Context, name string) (*connect.ConnectorStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status(name, false)
}

func (f *fakeHerder) Tasks(ctx context.Context, name string) ([]connect.TaskInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.configs[name]; !ok {
		return nil, notFound(name)
	}
	if f.targets[name] == connect.TargetStopped {
		return nil, nil
	}
	return []connect.TaskInfo{{ID: connect.TaskID{Connector: name, Task: 0}, Config: map[string]string{"task.class": "FileStreamSourceTask"}}}, nil
}

func (f *fakeHerder) TaskStatus(ctx context.Context, name string, task int) (*connect.TaskState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := f.status(name, false)
	if err != nil {
		return nil, err
	}
	if task < 0 || task >= len(st.Tasks) {
		return nil, herr(404, "No status found for task %s-%d", name, task)
	}
	return &st.Tasks[task], nil
}

func (f *fakeHerder) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*connect.ConnectorStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("restart %s includeTasks=%t onlyFailed=%t", name, includeTasks, onlyFailed)
	return f.status(name, true)
}

func (f *fakeHerder) RestartTask(ctx context.Context, name string, task int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("restart-task %s %d", name, task)
	if _, ok := f.configs[name]; !ok {
		return notFound(name)
	}
	if task != 0 {
		return herr(404, "Task %s-%d not found", name, task)
	}
	return nil
}

func (f *fakeHerder) action(verb, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("%s %s", verb, name)
	if _, ok := f.configs[name]; !ok {
		return notFound(name)
	}
	return nil
}

func (f *fakeHerder) PauseConnector(ctx context.Context, name string) error {
	return f.action("pause", name)
}

func (f *fakeHerder) ResumeConnector(ctx context.Context, name string) error {
	return f.action("resume", name)
}

func (f *fakeHerder) StopConnector(ctx context.Context, name string) error {
	return f.action("stop", name)
}

func (f *fakeHerder) DeleteConnector(ctx context.Context, name string) error {
	return f.action("delete", name)
}

func (f *fakeHerder) ResetTopics(ctx context.Context, name string) error {
	return f.action("reset-topics", name)
}

func (f *fakeHerder) Topics(ctx context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.configs[name]; !ok {
		return nil, notFound(name)
	}
	if name == "src" {
		return []string{"in-stream"}, nil
	}
	return nil, nil
}

func (f *fakeHerder) Offsets(ctx context.Context, name string) ([]connect.PartitionOffset, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.configs[name]; !ok {
		return nil, notFound(name)
	}
	if name == "src" {
		return []connect.PartitionOffset{{Partition: map[string]any{"filename": "/tmp/in"}, Offset: map[string]any{"position": 42}}}, nil
	}
	return nil, nil
}

const notStopped = "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/src/stop' endpoint"

func (f *fakeHerder) checkStopped(name string) error {
	if _, ok := f.configs[name]; !ok {
		return notFound(name)
	}
	if f.targets[name] != connect.TargetStopped {
		return herr(400, notStopped)
	}
	return nil
}

func (f *fakeHerder) AlterOffsets(ctx context.Context, name string, offsets []connect.PartitionOffset) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.checkStopped(name); err != nil {
		return err
	}
	f.altered = offsets
	return nil
}

func (f *fakeHerder) ResetOffsets(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("reset-offsets %s", name)
	return f.checkStopped(name)
}

func (f *fakeHerder) Plugins(connectorsOnly bool) []connect.PluginInfo {
	all := []connect.PluginInfo{
		{Class: "org.apache.kafka.connect.file.FileStreamSinkConnector", Type: "sink", Version: "1.0"},
		{Class: "org.apache.kafka.connect.file.FileStreamSourceConnector", Type: "source", Version: "1.0"},
		{Class: "org.apache.kafka.connect.transforms.InsertField$Value", Type: "transformation", Version: "1.0"},
	}
	if connectorsOnly {
		return all[:2]
	}
	return all
}

var fileKey = connect.ConfigKeyInfo{Name: "file", Type: "STRING", Importance: "HIGH",
	Documentation: "Source filename.", Order: -1, Width: "NONE", DisplayName: "file"}

const fileKeyJSON = `{"name":"file","type":"STRING","required":false,"default_value":null,"importance":"HIGH","documentation":"Source filename.","group":null,"order":-1,"width":"NONE","display_name":"file","dependents":[]}`

func (f *fakeHerder) PluginConfig(class string) ([]connect.ConfigKeyInfo, error) {
	if !strings.HasPrefix(class, "FileStream") && !strings.HasPrefix(class, "org.apache.kafka.connect.file.") {
		return nil, herr(404, "Unknown plugin %s.", class)
	}
	return []connect.ConfigKeyInfo{fileKey}, nil
}

func (f *fakeHerder) Validate(ctx context.Context, class string, config map[string]string) (*connect.ConfigInfos, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.valCfg = config
	v := config["file"]
	return &connect.ConfigInfos{Name: class, Configs: []connect.ConfigInfo{{
		Definition: fileKey,
		Value:      connect.ConfigValueInfo{Name: "file", Value: &v, Visible: true},
	}}}, nil
}

// restCase is one request against a fresh fake and its expected reply.
type restCase struct {
	name   string
	setup  func(f *fakeHerder)
	method string
	path   string
	body   string
	status int
	// want is the exact body; with contains set, a substring of it
	// instead. Both empty: the body must be empty.
	want     string
	contains string
	// header holds exact header values; "{base}" stands for the
	// server's URL.
	header map[string]string
	check  func(t *testing.T, f *fakeHerder)
}

func wantCalls(calls ...string) func(t *testing.T, f *fakeHerder) {
	return func(t *testing.T, f *fakeHerder) {
		t.Helper()
		if !reflect.DeepEqual(f.calls, calls) {
			t.Errorf("herder calls = %q, want %q", f.calls, calls)
		}
	}
}

const (
	srcInfo    = `{"name":"src","config":{"connector.class":"FileStreamSource","file":"/tmp/in","name":"src","topic":"in-stream"},"tasks":[{"connector":"src","task":0}],"type":"source"}`
	sinkInfo   = `{"name":"sink","config":{"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector","name":"sink","topics.regex":"a<b&c>"},"tasks":[],"type":"sink"}`
	srcStatus  = `{"name":"src","connector":{"state":"RUNNING","worker_id":"w1:8083"},"tasks":[{"id":0,"state":"FAILED","worker_id":"w1:8083","trace":"boom\n\tat task"}],"type":"source"}`
	sinkStatus = `{"name":"sink","connector":{"state":"STOPPED","worker_id":"w1:8083"},"tasks":[],"type":"sink"}`
)

func errJSON(code int, msg string) string {
	return `{"error_code":` + strconv.Itoa(code) + `,"message":` + strconv.Quote(msg) + `}`
}

// rootCases are the REST cases of root.
func rootCases() []restCase {
	return []restCase{
		{name: "server info", method: "GET", path: "/", status: 200,
			want: `{"version":"1.2.3","commit":"abc123","kafka_cluster_id":"cluster-1"}`},
		{name: "health healthy", method: "GET", path: "/health", status: 200,
			want: `{"status":"healthy","message":"Worker has completed startup and is ready to handle requests."}`},
		{name: "health starting", setup: func(f *fakeHerder) { f.health = [2]string{"starting", "Loading plugins."} },
			method: "GET", path: "/health", status: 503,
			want: `{"status":"starting","message":"Worker is still starting up. Loading plugins."}`},
		{name: "health starting no detail", setup: func(f *fakeHerder) { f.health = [2]string{"starting", ""} },
			method: "GET", path: "/health", status: 503,
			want: `{"status":"starting","message":"Worker is still starting up."}`},
		{name: "health unhealthy", setup: func(f *fakeHerder) { f.health = [2]string{"unhealthy", ""} },
			method: "GET", path: "/health", status: 500,
			want: `{"status":"unhealthy","message":"Worker was unable to handle this request and may be unable to handle other requests."}`},
		{name: "health full text kept", setup: func(f *fakeHerder) {
			f.health = [2]string{"unhealthy", unhealthyMessage + " Stuck reading the config topic."}
		},
			method: "GET", path: "/health", status: 500,
			want: `{"status":"unhealthy","message":"` + unhealthyMessage + ` Stuck reading the config topic."}`},
	}
}

// listCases are the REST cases of listing.
func listCases() []restCase {
	return []restCase{
		{name: "list", method: "GET", path: "/connectors", status: 200, want: `["sink","src"]`},
		{name: "list empty is []", setup: func(f *fakeHerder) { f.configs = map[string]map[string]string{} },
			method: "GET", path: "/connectors", status: 200, want: `[]`},
		{name: "list trailing slash", method: "GET", path: "/connectors/", status: 200, want: `["sink","src"]`},
		{name: "expand status", method: "GET", path: "/connectors?expand=status", status: 200,
			want: `{"sink":{"status":` + sinkStatus + `},"src":{"status":` + srcStatus + `}}`},
		{name: "expand both and unknown", method: "GET", path: "/connectors?expand=info&expand=bogus&expand=status", status: 200,
			want: `{"sink":{"info":` + sinkInfo + `,"status":` + sinkStatus + `},"src":{"info":` + srcInfo + `,"status":` + srcStatus + `}}`},
		{name: "expand only unknown", method: "GET", path: "/connectors?expand=bogus", status: 200,
			want: `{"sink":{},"src":{}}`},
		{name: "expand comma is not a list", method: "GET", path: "/connectors?expand=status,info", status: 200,
			want: `{"sink":{},"src":{}}`},
		{name: "expand skips vanished", setup: func(f *fakeHerder) { f.ghosts = []string{"ghost"} },
			method: "GET", path: "/connectors?expand=info", status: 200,
			want: `{"sink":{"info":` + sinkInfo + `},"src":{"info":` + srcInfo + `}}`},
		{name: "list herder failure", setup: func(f *fakeHerder) { f.listErr = errors.New("config store unreachable") },
			method: "GET", path: "/connectors", status: 500, want: errJSON(500, "config store unreachable")},
		{name: "list herder 409", setup: func(f *fakeHerder) {
			f.listErr = fmt.Errorf("wrapped: %w", herr(409, "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"))
		},
			method: "GET", path: "/connectors", status: 409,
			want: errJSON(409, "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)")},
	}
}

// createCases are the REST cases of create.
func createCases() []restCase {
	emptyName := errJSON(400, emptyNameMessage)
	return []restCase{
		{name: "create", method: "POST", path: "/connectors",
			body:   `{"name":"  new ","config":{"connector.class":"FileStreamSink","tasks.max":2,"enabled":true}}`,
			status: 201, header: map[string]string{"Location": "{base}/connectors/new"},
			want:  `{"name":"new","config":{"connector.class":"FileStreamSink","enabled":"true","name":"new","tasks.max":"2"},"tasks":[{"connector":"new","task":0}],"type":"sink"}`,
			check: wantCalls("create new STARTED")},
		{name: "create escapes location", method: "POST", path: "/connectors",
			body:   `{"name":"a b/c","config":{"connector.class":"FileStreamSink"}}`,
			status: 201, header: map[string]string{"Location": "{base}/connectors/a%20b%2Fc"},
			contains: `"name":"a b/c"`},
		{name: "create paused", method: "POST", path: "/connectors",
			body:   `{"name":"new","config":{"connector.class":"FileStreamSink"},"initial_state":"paused"}`,
			status: 201, contains: `"name":"new"`, check: wantCalls("create new PAUSED")},
		{name: "create stopped", method: "POST", path: "/connectors",
			body:   `{"name":"new","config":{"connector.class":"FileStreamSink","name":"new"},"initial_state":"STOPPED"}`,
			status: 201, contains: `"tasks":[]`, check: wantCalls("create new STOPPED")},
		{name: "create bad initial state", method: "POST", path: "/connectors",
			body:   `{"name":"new","config":{"connector.class":"FileStreamSink"},"initial_state":"sleeping"}`,
			status: 500, contains: `No enum constant`, check: wantCalls()},
		{name: "create duplicate", method: "POST", path: "/connectors",
			body:   `{"name":"src","config":{"connector.class":"FileStreamSource"}}`,
			status: 409, want: errJSON(409, "Connector src already exists")},
		{name: "create invalid config", method: "POST", path: "/connectors",
			body: `{"name":"new","config":{"file":"x"}}`, status: 400, want: errJSON(400, missingClass)},
		{name: "create name mismatch", method: "POST", path: "/connectors",
			body:   `{"name":"new","config":{"connector.class":"FileStreamSink","name":"other"}}`,
			status: 400, want: errJSON(400, "Connector name configuration (other) doesn't match connector name in the URL (new)"),
			check: wantCalls()},
		{name: "create empty name", method: "POST", path: "/connectors",
			body: `{"name":"   ","config":{"connector.class":"FileStreamSink"}}`, status: 400, want: emptyName, check: wantCalls()},
		{name: "create missing name", method: "POST", path: "/connectors",
			body: `{"config":{"connector.class":"FileStreamSink"}}`, status: 400, want: emptyName},
		{name: "create missing config", method: "POST", path: "/connectors",
			body: `{"name":"new"}`, status: 400, want: errJSON(400, missingClass)},
		{name: "create malformed json", method: "POST", path: "/connectors",
			body: `{"name":"new","config":{`, status: 500, contains: `"error_code":500`, check: wantCalls()},
		{name: "create unknown field", method: "POST", path: "/connectors",
			body:   `{"name":"new","config":{"connector.class":"FileStreamSink"},"tasks":[]}`,
			status: 500, contains: `Unrecognized field \"tasks\"`},
		{name: "create empty body", method: "POST", path: "/connectors",
			status: 500, want: errJSON(500, "No content to map due to end-of-input")},
		{name: "create body is array", method: "POST", path: "/connectors",
			body: `[]`, status: 500, contains: `Cannot deserialize value`},
		{name: "create config value object", method: "POST", path: "/connectors",
			body: `{"name":"new","config":{"x":{}}}`, status: 500, contains: "java.lang.String"},
	}
}

// configCases are the REST cases of info and config.
func configCases() []restCase {
	return []restCase{
		{name: "get info", method: "GET", path: "/connectors/src", status: 200, want: srcInfo},
		{name: "get info stopped has [] tasks", method: "GET", path: "/connectors/sink", status: 200, want: sinkInfo},
		{name: "get info unknown", method: "GET", path: "/connectors/nope", status: 404, want: errJSON(404, "Connector nope not found")},
		{name: "get info escaped name", method: "GET", path: "/connectors/a%2Fb", status: 404, want: errJSON(404, "Connector a/b not found")},
		{name: "get config", method: "GET", path: "/connectors/sink/config", status: 200,
			want: `{"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector","name":"sink","topics.regex":"a<b&c>"}`},
		{name: "get config unknown", method: "GET", path: "/connectors/nope/config", status: 404, want: errJSON(404, "Connector nope not found")},
		{name: "put config existing", method: "PUT", path: "/connectors/src/config",
			body:   `{"connector.class":"FileStreamSource","file":"/tmp/other","tasks.max":1}`,
			status: 200, header: map[string]string{"Location": ""},
			want: `{"name":"src","config":{"connector.class":"FileStreamSource","file":"/tmp/other","name":"src","tasks.max":"1"},"tasks":[{"connector":"src","task":0}],"type":"source"}`},
		{name: "put config creates", method: "PUT", path: "/connectors/fresh/config",
			body:   `{"connector.class":"FileStreamSink","name":"fresh"}`,
			status: 201, header: map[string]string{"Location": "{base}/connectors/fresh"},
			want: `{"name":"fresh","config":{"connector.class":"FileStreamSink","name":"fresh"},"tasks":[{"connector":"fresh","task":0}],"type":"sink"}`},
		{name: "put config name mismatch", method: "PUT", path: "/connectors/src/config",
			body:   `{"connector.class":"FileStreamSource","name":"other"}`,
			status: 400, want: errJSON(400, "Connector name configuration (other) doesn't match connector name in the URL (src)")},
		{name: "put config invalid", method: "PUT", path: "/connectors/src/config",
			body: `{"file":"x"}`, status: 400, want: errJSON(400, missingClass)},
		{name: "put config not an object", method: "PUT", path: "/connectors/src/config",
			body: `["a"]`, status: 500, contains: "Cannot deserialize value"},
		{name: "put config malformed", method: "PUT", path: "/connectors/src/config",
			body: `{"a":}`, status: 500, contains: `"error_code":500`},
		{name: "patch config", method: "PATCH", path: "/connectors/src/config",
			body:   `{"file":null,"batch.size":"10"}`,
			status: 200,
			want:   `{"name":"src","config":{"batch.size":"10","connector.class":"FileStreamSource","name":"src","topic":"in-stream"},"tasks":[{"connector":"src","task":0}],"type":"source"}`,
			check: func(t *testing.T, f *fakeHerder) {
				if v, ok := f.patched["file"]; !ok || v != nil {
					t.Errorf("patch[file] = %v, %t; want nil, true", v, ok)
				}
			}},
		{name: "patch config unknown", method: "PATCH", path: "/connectors/nope/config",
			body: `{"a":"b"}`, status: 404, want: errJSON(404, "Connector nope not found")},
	}
}

// statusCases are the REST cases of status and tasks.
func statusCases() []restCase {
	return []restCase{
		{name: "status with trace", method: "GET", path: "/connectors/src/status", status: 200, want: srcStatus},
		{name: "status stopped", method: "GET", path: "/connectors/sink/status", status: 200, want: sinkStatus},
		{name: "status unknown", method: "GET", path: "/connectors/nope/status", status: 404, want: errJSON(404, "Connector nope not found")},
		{name: "tasks", method: "GET", path: "/connectors/src/tasks", status: 200,
			want: `[{"id":{"connector":"src","task":0},"config":{"task.class":"FileStreamSourceTask"}}]`},
		{name: "tasks none is []", method: "GET", path: "/connectors/sink/tasks", status: 200, want: `[]`},
		{name: "task status", method: "GET", path: "/connectors/src/tasks/0/status", status: 200,
			want: `{"id":0,"state":"FAILED","worker_id":"w1:8083","trace":"boom\n\tat task"}`},
		{name: "task status unknown task", method: "GET", path: "/connectors/src/tasks/7/status", status: 404,
			want: errJSON(404, "No status found for task src-7")},
		{name: "task status bad id", method: "GET", path: "/connectors/src/tasks/abc/status", status: 404,
			want: errJSON(404, "HTTP 404 Not Found")},
	}
}

// restartCases are the REST cases of restarts.
func restartCases() []restCase {
	return []restCase{
		{name: "restart connector only", method: "POST", path: "/connectors/src/restart", status: 204,
			check: wantCalls("restart src includeTasks=false onlyFailed=false")},
		{name: "restart explicit false", method: "POST", path: "/connectors/src/restart?includeTasks=false&onlyFailed=false", status: 204,
			check: wantCalls("restart src includeTasks=false onlyFailed=false")},
		{name: "restart with tasks", method: "POST", path: "/connectors/src/restart?includeTasks=true", status: 202,
			want:  `{"name":"src","connector":{"state":"RESTARTING","worker_id":"w1:8083"},"tasks":[{"id":0,"state":"RESTARTING","worker_id":"w1:8083"}],"type":"source"}`,
			check: wantCalls("restart src includeTasks=true onlyFailed=false")},
		{name: "restart only failed", method: "POST", path: "/connectors/src/restart?onlyFailed=TRUE", status: 202,
			contains: `"RESTARTING"`, check: wantCalls("restart src includeTasks=false onlyFailed=true")},
		{name: "restart unknown", method: "POST", path: "/connectors/nope/restart", status: 404, want: errJSON(404, "Connector nope not found")},
		{name: "restart task", method: "POST", path: "/connectors/src/tasks/0/restart", status: 204,
			check: wantCalls("restart-task src 0")},
		{name: "restart task unknown", method: "POST", path: "/connectors/src/tasks/3/restart", status: 404,
			want: errJSON(404, "Task src-3 not found")},
		{name: "restart task bad id", method: "POST", path: "/connectors/src/tasks/x/restart", status: 404,
			want: errJSON(404, "HTTP 404 Not Found"), check: wantCalls()},
	}
}

// targetStateCases are the REST cases of target states and deletion.
func targetStateCases() []restCase {
	return []restCase{
		{name: "pause", method: "PUT", path: "/connectors/src/pause", status: 202, check: wantCalls("pause src")},
		{name: "resume", method: "PUT", path: "/connectors/src/resume", status: 202, check: wantCalls("resume src")},
		{name: "stop", method: "PUT", path: "/connectors/src/stop", status: 204, check: wantCalls("stop src")},
		{name: "pause unknown", method: "PUT", path: "/connectors/nope/pause", status: 404, want: errJSON(404, "Connector nope not found")},
		{name: "stop unknown", method: "PUT", path: "/connectors/nope/stop", status: 404, want: errJSON(404, "Connector nope not found")},
		{name: "delete", method: "DELETE", path: "/connectors/src", status: 204, check: wantCalls("delete src")},
		{name: "delete unknown", method: "DELETE", path: "/connectors/nope", status: 404, want: errJSON(404, "Connector nope not found")},
	}
}

// topicCases are the REST cases of topics.
func topicCases() []restCase {
	return []restCase{
		{name: "topics", method: "GET", path: "/connectors/src/topics", status: 200, want: `{"src":{"topics":["in-stream"]}}`},
		{name: "topics none", method: "GET", path: "/connectors/sink/topics", status: 200, want: `{"sink":{"topics":[]}}`},
		{name: "topics unknown", method: "GET", path: "/connectors/nope/topics", status: 404, want: errJSON(404, "Connector nope not found")},
		{name: "topics reset", method: "PUT", path: "/connectors/src/topics/reset", status: 202, check: wantCalls("reset-topics src")},
	}
}

// offsetCases are the REST cases of offsets.
func offsetCases() []restCase {
	return []restCase{
		{name: "offsets", method: "GET", path: "/connectors/src/offsets", status: 200,
			want: `{"offsets":[{"partition":{"filename":"/tmp/in"},"offset":{"position":42}}]}`},
		{name: "offsets none", method: "GET", path: "/connectors/sink/offsets", status: 200, want: `{"offsets":[]}`},
		{name: "offsets unknown", method: "GET", path: "/connectors/nope/offsets", status: 404, want: errJSON(404, "Connector nope not found")},
		{name: "alter offsets", method: "PATCH", path: "/connectors/sink/offsets",
			body:   `{"offsets":[{"partition":{"stream":"orders","shard":"shardId-000000000001"},"offset":{"kafka_offset":9007199254740993,"ratio":0.5}},{"partition":{"stream":"orders","shard":"shardId-000000000002"},"offset":null}]}`,
			status: 200, want: `{"message":"The offsets for this connector have been altered successfully"}`,
			check: func(t *testing.T, f *fakeHerder) {
				want := []connect.PartitionOffset{
					{Partition: map[string]any{"stream": "orders", "shard": "shardId-000000000001"},
						Offset: map[string]any{"kafka_offset": int64(9007199254740993), "ratio": 0.5}},
					{Partition: map[string]any{"stream": "orders", "shard": "shardId-000000000002"}},
				}
				if !reflect.DeepEqual(f.altered, want) {
					t.Errorf("altered = %#v, want %#v", f.altered, want)
				}
			}},
		{name: "alter offsets running", method: "PATCH", path: "/connectors/src/offsets",
			body:   `{"offsets":[{"partition":{"filename":"/tmp/in"},"offset":{"position":0}}]}`,
			status: 400, want: errJSON(400, notStopped)},
		{name: "alter offsets unknown", method: "PATCH", path: "/connectors/nope/offsets",
			body:   `{"offsets":[{"partition":{"a":1},"offset":{"b":2}}]}`,
			status: 404, want: errJSON(404, "Connector nope not found")},
		{name: "alter offsets missing list", method: "PATCH", path: "/connectors/sink/offsets",
			body: `{}`, status: 400, want: errJSON(400, noOffsetsMessage)},
		{name: "alter offsets empty list", method: "PATCH", path: "/connectors/sink/offsets",
			body: `{"offsets":[]}`, status: 400, want: errJSON(400, noOffsetsMessage)},
		{name: "alter offsets null list", method: "PATCH", path: "/connectors/sink/offsets",
			body: `{"offsets":null}`, status: 400, want: errJSON(400, noOffsetsMessage)},
		{name: "alter offsets array body", method: "PATCH", path: "/connectors/sink/offsets",
			body: `[]`, status: 500, contains: "Cannot deserialize value"},
		{name: "alter offsets unknown field", method: "PATCH", path: "/connectors/sink/offsets",
			body: `{"key":[]}`, status: 500, contains: "Unrecognized field"},
		{name: "alter offsets list is object", method: "PATCH", path: "/connectors/sink/offsets",
			body: `{"offsets":{}}`, status: 500, contains: "Cannot deserialize value"},
		{name: "alter offsets item not object", method: "PATCH", path: "/connectors/sink/offsets",
			body: `{"offsets":[123]}`, status: 500, contains: "Cannot construct instance"},
		{name: "alter offsets item unknown field", method: "PATCH", path: "/connectors/sink/offsets",
			body: `{"offsets":[{"key":"val"}]}`, status: 500, contains: "Unrecognized field"},
		{name: "alter offsets partition is array", method: "PATCH", path: "/connectors/sink/offsets",
			body: `{"offsets":[{"partition":[]}]}`, status: 500, contains: "Cannot deserialize value"},
		{name: "reset offsets", method: "DELETE", path: "/connectors/sink/offsets", status: 200,
			want: `{"message":"The offsets for this connector have been reset successfully"}`, check: wantCalls("reset-offsets sink")},
		{name: "reset offsets running", method: "DELETE", path: "/connectors/src/offsets", status: 400, want: errJSON(400, notStopped)},
	}
}

// pluginCases are the REST cases of plugins.
func pluginCases() []restCase {
	return []restCase{
		{name: "plugins default connectors only", method: "GET", path: "/connector-plugins", status: 200,
			want: `[{"class":"org.apache.kafka.connect.file.FileStreamSinkConnector","type":"sink","version":"1.0"},{"class":"org.apache.kafka.connect.file.FileStreamSourceConnector","type":"source","version":"1.0"}]`},
		{name: "plugins all", method: "GET", path: "/connector-plugins?connectorsOnly=false", status: 200,
			contains: `{"class":"org.apache.kafka.connect.transforms.InsertField$Value","type":"transformation","version":"1.0"}`},
		{name: "plugins explicit true", method: "GET", path: "/connector-plugins?connectorsOnly=TRUE", status: 200,
			want: `[{"class":"org.apache.kafka.connect.file.FileStreamSinkConnector","type":"sink","version":"1.0"},{"class":"org.apache.kafka.connect.file.FileStreamSourceConnector","type":"source","version":"1.0"}]`},
		{name: "plugin config", method: "GET", path: "/connector-plugins/FileStreamSource/config", status: 200,
			want: `[` + fileKeyJSON + `]`},
		{name: "plugin config unknown", method: "GET", path: "/connector-plugins/Nope/config", status: 404,
			want: errJSON(404, "Unknown plugin Nope.")},
		{name: "validate", method: "PUT", path: "/connector-plugins/FileStreamSource/config/validate",
			body:   `{"connector.class":"org.apache.kafka.connect.file.FileStreamSourceConnector","file":"/tmp/x"}`,
			status: 200,
			want:   `{"name":"FileStreamSource","error_count":0,"groups":[],"configs":[{"definition":` + fileKeyJSON + `,"value":{"name":"file","value":"/tmp/x","recommended_values":[],"errors":[],"visible":true}}]}`},
		{name: "validate full class in path, alias in body", method: "PUT",
			path: "/connector-plugins/org.apache.kafka.connect.file.FileStreamSourceConnector/config/validate",
			body: `{"connector.class":"FileStreamSource"}`, status: 400,
			want: errJSON(400, "Included connector type FileStreamSource does not match request type org.apache.kafka.connect.file.FileStreamSourceConnector")},
		{name: "validate without class", method: "PUT", path: "/connector-plugins/FileStreamSourceConnector/config/validate",
			body: `{"file":"/tmp/y"}`, status: 200, contains: `"value":"/tmp/y"`,
			check: func(t *testing.T, f *fakeHerder) {
				if !reflect.DeepEqual(f.valCfg, map[string]string{"file": "/tmp/y"}) {
					t.Errorf("validated config = %v", f.valCfg)
				}
			}},
		{name: "validate mismatch", method: "PUT", path: "/connector-plugins/FileStreamSink/config/validate",
			body: `{"connector.class":"FileStreamSource"}`, status: 400,
			want: errJSON(400, "Included connector type FileStreamSource does not match request type FileStreamSink")},
		{name: "validate malformed", method: "PUT", path: "/connector-plugins/FileStreamSink/config/validate",
			body: `{`, status: 500, contains: `"error_code":500`},
	}
}

// routingCases are the REST cases of routing.
func routingCases() []restCase {
	return []restCase{
		{name: "unknown route", method: "GET", path: "/nope", status: 404, want: errJSON(404, "HTTP 404 Not Found")},
		{name: "unknown subresource", method: "GET", path: "/connectors/src/bogus", status: 404, want: errJSON(404, "HTTP 404 Not Found")},
		{name: "wrong method on collection", method: "DELETE", path: "/connectors", status: 405,
			want: errJSON(405, "HTTP 405 Method Not Allowed"), header: map[string]string{"Allow": "GET, POST"}},
		{name: "wrong method on status", method: "POST", path: "/connectors/src/status", status: 405,
			want: errJSON(405, "HTTP 405 Method Not Allowed"), header: map[string]string{"Allow": "GET"}},
		{name: "wrong method on config", method: "POST", path: "/connectors/src/config", status: 405,
			want: errJSON(405, "HTTP 405 Method Not Allowed"), header: map[string]string{"Allow": "GET, PUT, PATCH"}},
		{name: "wrong method on root", method: "POST", path: "/", status: 405, want: errJSON(405, "HTTP 405 Method Not Allowed")},
	}
}

func TestRESTEndpoints(t *testing.T) {
	var cases []restCase
	for _, section := range [][]restCase{rootCases(), listCases(), createCases(), configCases(), statusCases(), restartCases(), targetStateCases(), topicCases(), offsetCases(), pluginCases(), routingCases()} {
		cases = append(cases, section...)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if tc.setup != nil {
				tc.setup(f)
			}
			srv := newServer(t, Config{Herder: f})
			resp, body := do(t, srv, tc.method, tc.path, tc.body)
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			switch {
			case tc.contains != "":
				if !strings.Contains(body, tc.contains) {
					t.Errorf("body = %s\nwant it to contain %s", body, tc.contains)
				}
			case body != tc.want:
				t.Errorf("body = %s\nwant   %s", body, tc.want)
			}
			if body != "" {
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
			}
			for k, v := range tc.header {
				v = strings.ReplaceAll(v, "{base}", srv.URL)
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

func newServer(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	if cfg.Version == "" {
		cfg.Version, cfg.Commit, cfg.ClusterID = "1.2.3", "abc123", "cluster-1"
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, srv *httptest.Server, method, path, body string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestRESTNewNeedsHerder(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a Herder succeeded")
	}
}

// slowHerder blocks in ConnectorInfo until its context ends.
type slowHerder struct{ *fakeHerder }

func (s *slowHerder) ConnectorInfo(ctx context.Context, name string) (*connect.ConnectorInfo, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestRESTRequestTimeout(t *testing.T) {
	srv := newServer(t, Config{Herder: &slowHerder{newFake()}, RequestTimeout: 50 * time.Millisecond})
	resp, body := do(t, srv, "GET", "/connectors/src", "")
	if resp.StatusCode != 500 || body != errJSON(500, "Request timed out") {
		t.Fatalf("got %d %s; want 500 Request timed out", resp.StatusCode, body)
	}
}

func TestRESTLoggers(t *testing.T) {
	root := new(slog.LevelVar)
	loggers := NewLoggers(root)
	clock := time.UnixMilli(1700000000000)
	loggers.now = func() time.Time { return clock }
	loggers.Register("org.tributary.connect.worker")
	loggers.Register("org.tributaryx")
	srv := newServer(t, Config{Herder: newFake(), Loggers: loggers})

	steps := []struct {
		name         string
		method, path string
		body         string
		status       int
		want         string
		check        func(t *testing.T)
	}{
		{name: "initial list", method: "GET", path: "/admin/loggers", status: 200,
			want: `{"root":{"level":"INFO","last_modified":null}}`},
		{name: "registered logger inherits root", method: "GET", path: "/admin/loggers/org.tributary.connect.worker", status: 200,
			want: `{"level":"INFO","last_modified":null}`},
		{name: "unknown logger", method: "GET", path: "/admin/loggers/org.nothing", status: 404,
			want: errJSON(404, "Logger org.nothing not found.")},
		{name: "set namespace", method: "PUT", path: "/admin/loggers/org.tributary", body: `{"level":"warn"}`, status: 200,
			want: `["org.tributary","org.tributary.connect.worker"]`,
			check: func(t *testing.T) {
				if got := loggers.Level("org.tributary.connect.worker.sub"); got != slog.LevelWarn {
					t.Errorf("descendant level = %v, want WARN", got)
				}
				if got := loggers.Level("org.tributaryx"); got != slog.LevelInfo {
					t.Errorf("sibling with a common prefix = %v, want INFO", got)
				}
				if root.Level() != slog.LevelInfo {
					t.Errorf("root changed to %v", root.Level())
				}
			}},
		{name: "list shows set loggers", method: "GET", path: "/admin/loggers", status: 200,
			want: `{"org.tributary":{"level":"WARN","last_modified":1700000000000},"org.tributary.connect.worker":{"level":"WARN","last_modified":1700000000000},"root":{"level":"INFO","last_modified":null}}`},
		{name: "get set logger", method: "GET", path: "/admin/loggers/org.tributary.connect.worker", status: 200,
			want: `{"level":"WARN","last_modified":1700000000000}`},
		{name: "set root", method: "PUT", path: "/admin/loggers/ROOT", body: `{"level":"TRACE"}`, status: 200,
			want: `["org.tributary","org.tributary.connect.worker","org.tributaryx","root"]`,
			check: func(t *testing.T) {
				if root.Level() != LevelTrace {
					t.Errorf("root LevelVar = %v, want TRACE (%v)", root.Level(), LevelTrace)
				}
				if !slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: root})).Enabled(context.Background(), slog.LevelDebug) {
					t.Error("a handler on the root LevelVar does not log DEBUG after setting TRACE")
				}
			}},
		{name: "get root", method: "GET", path: "/admin/loggers/root", status: 200,
			want: `{"level":"TRACE","last_modified":1700000000000}`},
		{name: "bad level", method: "PUT", path: "/admin/loggers/root", body: `{"level":"LOUD"}`, status: 404,
			want: errJSON(404, "invalid log level 'LOUD'.")},
		{name: "missing level", method: "PUT", path: "/admin/loggers/root", body: `{"lvl":"INFO"}`, status: 400,
			want: errJSON(400, "Desired 'level' parameter was not specified in request.")},
		{name: "malformed body", method: "PUT", path: "/admin/loggers/root", body: `{`, status: 500},
		{name: "cluster scope", method: "PUT", path: "/admin/loggers/org.apache.kafka?scope=cluster", body: `{"level":"ERROR"}`, status: 204,
			want: ``,
			check: func(t *testing.T) {
				if got := loggers.Level("org.apache.kafka.connect"); got != slog.LevelError {
					t.Errorf("level after cluster-scoped set = %v, want ERROR", got)
				}
			}},
		{name: "off", method: "PUT", path: "/admin/loggers/org.apache.kafka", body: `{"level":"off"}`, status: 200,
			want: `["org.apache.kafka"]`},
		{name: "get off", method: "GET", path: "/admin/loggers/org.apache.kafka", status: 200,
			want: `{"level":"OFF","last_modified":1700000000000}`},
		{name: "loggers wrong method", method: "DELETE", path: "/admin/loggers/root", status: 405,
			want: errJSON(405, "HTTP 405 Method Not Allowed")},
	}
	for _, st := range steps {
		resp, body := do(t, srv, st.method, st.path, st.body)
		if resp.StatusCode != st.status {
			t.Errorf("%s: status = %d, want %d; body %s", st.name, resp.StatusCode, st.status, body)
		}
		if st.want != "" || st.status == 204 {
			if body != st.want {
				t.Errorf("%s: body = %s\nwant %s", st.name, body, st.want)
			}
		}
		if st.check != nil {
			st.check(t)
		}
	}
}

func TestRESTLevelNames(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want slog.Level
		name string
	}{
		{"all", LevelAll, "ALL"}, {"Trace", LevelTrace, "TRACE"}, {"DEBUG", slog.LevelDebug, "DEBUG"},
		{"info", slog.LevelInfo, "INFO"}, {"WARN", slog.LevelWarn, "WARN"}, {"error", slog.LevelError, "ERROR"},
		{"FATAL", LevelFatal, "FATAL"}, {"off", LevelOff, "OFF"},
	} {
		got, ok := ParseLevel(tc.in)
		if !ok || got != tc.want {
			t.Errorf("ParseLevel(%q) = %v, %t; want %v", tc.in, got, ok, tc.want)
		}
		if n := LevelName(got); n != tc.name {
			t.Errorf("LevelName(%v) = %q, want %q", got, n, tc.name)
		}
	}
	if _, ok := ParseLevel("WARNING"); ok {
		t.Error("ParseLevel accepted WARNING, which log4j does not know")
	}
	if n := LevelName(slog.LevelInfo + 2); n != "INFO" {
		t.Errorf("LevelName(INFO+2) = %q, want INFO", n)
	}
}

// TestFailLogLevels: a request the client got wrong is logged at DEBUG,
// even when Kafka answers it with a 500, while a failure of the server
// is an ERROR.
func TestFailLogLevels(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, body string
		listErr                  error
		code                     int
		level                    slog.Level
	}{
		{"malformed body", "POST", "/connectors", `{"name":`, nil, 500, slog.LevelDebug},
		{"no body", "PUT", "/connectors/x/config", "", nil, 500, slog.LevelDebug},
		{"bad path parameter", "GET", "/connectors/src/tasks/x/status", "", nil, 404, slog.LevelDebug},
		{"server fault", "GET", "/connectors", "", errors.New("store unavailable"), 500, slog.LevelError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged bytes.Buffer
			f := newFake()
			f.listErr = tc.listErr
			lg := slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
			srv := newServer(t, Config{Herder: f, Logger: lg})
			if resp, body := do(t, srv, tc.method, tc.path, tc.body); resp.StatusCode != tc.code {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, tc.code)
			}
			var line struct{ Level string }
			if err := json.Unmarshal(logged.Bytes(), &line); err != nil || line.Level != tc.level.String() {
				t.Fatalf("logged %q, want one line at %s", logged.String(), tc.level)
			}
		})
	}
}
