// Package connect drives the Connect runtime of a real `tributary serve`
// through its REST API, and reads what connectors write through the
// Kinesis API with aws-sdk-go-v2.
package connect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// api calls the Connect REST API.
type api struct {
	t    *testing.T
	base string
}

// do sends a request and returns the status, the Location header and
// the decoded JSON body (nil when empty).
func (a api) do(method, path string, body any) (int, string, any) {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			a.t.Fatalf("%s %s: body is not JSON: %q", method, path, raw)
		}
	}
	return resp.StatusCode, resp.Header.Get("Location"), out
}

// keys returns the sorted keys of a JSON object.
func keys(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// shape renders the structure of a JSON value (object keys, array
// element shapes, scalar kinds) so tests can compare it with the
// reference's shapes.
func shape(v any) string {
	switch x := v.(type) {
	case map[string]any:
		var parts []string
		for _, k := range keys(x) {
			parts = append(parts, k+":"+shape(x[k]))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		return "[" + shape(x[0]) + "]"
	case string:
		return "s"
	case float64:
		return "n"
	case bool:
		return "b"
	case nil:
		return "null"
	}
	return "?"
}

// start runs a server whose connectors commit offsets every 200 ms and
// may use files anywhere under the temporary directory, where the tests
// keep theirs (security_test.go tests the server's own default).
func start(t *testing.T, flags ...string) *testserver.Proc {
	t.Helper()
	worker := writeFile(t, "worker.properties", "offset.flush.interval.ms=200\n")
	return inproc.Start(t, append([]string{"-connect-worker-config", worker, allowTemp()}, flags...)...)
}

// allowTemp is the flag that lets file connectors use the temporary
// directory the tests' files are in.
func allowTemp() string { return "-connect-allowed-paths=" + os.TempDir() }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestREST calls every endpoint of the reference
// (../shared/reference/connect-rest-api.md) against the real runtime and
// compares the JSON shapes, status codes and error bodies.
func TestREST(t *testing.T) {
	srv := start(t)
	a := api{t: t, base: srv.ConnectURL}
	in := writeFile(t, "in.txt", "one\ntwo\nthree\n")
	out := filepath.Join(t.TempDir(), "out.txt")
	source := map[string]any{"connector.class": "FileStreamSource", "file": in, "topic": "rest-lines", "tasks.max": "1"}
	sink := map[string]any{"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "file": out, "topics": "rest-lines"}

	const (
		errShape    = "{error_code:n,message:s}"
		infoShape   = "{config:{connector.class:s,file:s,name:s,tasks.max:s,topic:s},name:s,tasks:[{connector:s,task:n}],type:s}"
		statusShape = "{connector:{state:s,worker_id:s},name:s,tasks:[{id:n,state:s,worker_id:s}],type:s}"
	)
	steps := []struct {
		name   string
		method string
		path   string
		body   any
		code   int
		shape  string
		check  func(t *testing.T, loc string, body any)
	}{
		{"root", "GET", "/", nil, 200, "{commit:s,kafka_cluster_id:s,version:s}", nil},
		{"health", "GET", "/health", nil, 200, "{message:s,status:s}", func(t *testing.T, _ string, b any) {
			if b.(map[string]any)["status"] != "healthy" {
				t.Errorf("health = %v", b)
			}
		}},
		{"empty list", "GET", "/connectors", nil, 200, "[]", nil},
		{"create source", "POST", "/connectors", map[string]any{"name": " lines ", "config": source}, 201, infoShape,
			func(t *testing.T, loc string, b any) {
				if !strings.HasSuffix(loc, "/connectors/lines") {
					t.Errorf("Location = %q", loc)
				}
				if b.(map[string]any)["name"] != "lines" || b.(map[string]any)["type"] != "source" {
					t.Errorf("info = %v", b)
				}
			}},
		{"duplicate", "POST", "/connectors", map[string]any{"name": "lines", "config": source}, 409, errShape, func(t *testing.T, _ string, b any) {
			if m := b.(map[string]any); m["error_code"] != 409.0 || m["message"] != "Connector lines already exists" {
				t.Errorf("duplicate = %v", b)
			}
		}},
		{"invalid config", "POST", "/connectors", map[string]any{"name": "bad", "config": map[string]any{"connector.class": "FileStreamSource", "file": in, "tasks.max": "0"}}, 400, errShape,
			func(t *testing.T, _ string, b any) {
				msg := b.(map[string]any)["message"].(string)
				for _, want := range []string{
					"Connector configuration is invalid and contains the following 2 error(s):",
					`Missing required configuration "topic" which has no default value.`,
					"Invalid value 0 for configuration tasks.max: Value must be at least 1",
					"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
				} {
					if !strings.Contains(msg, want) {
						t.Errorf("message lacks %q:\n%s", want, msg)
					}
				}
			}},
		{"unknown class", "POST", "/connectors", map[string]any{"name": "bad", "config": map[string]any{"connector.class": "com.example.Nope"}}, 400, errShape, nil},
		{"create sink with PUT", "PUT", "/connectors/copy/config", sink, 201, "{config:{connector.class:s,file:s,name:s,topics:s},name:s,tasks:[{connector:s,task:n}],type:s}", nil},
		{"update sink with PUT", "PUT", "/connectors/copy/config", sink, 200, "{config:{connector.class:s,file:s,name:s,topics:s},name:s,tasks:[{connector:s,task:n}],type:s}", nil},
		{"PUT name mismatch", "PUT", "/connectors/copy/config", map[string]any{"name": "other", "connector.class": "FileStreamSink", "topics": "x"}, 400, errShape, nil},
		{"list", "GET", "/connectors", nil, 200, "[s]", func(t *testing.T, _ string, b any) {
			if fmt.Sprint(b) != "[copy lines]" {
				t.Errorf("list = %v", b)
			}
		}},
		{"expand status and info", "GET", "/connectors?expand=status&expand=info&expand=bogus", nil, 200, "", func(t *testing.T, _ string, b any) {
			m := b.(map[string]any)
			if fmt.Sprint(keys(m)) != "[copy lines]" || fmt.Sprint(keys(m["lines"])) != "[info status]" {
				t.Errorf("expanded = %v", b)
			}
			if got := shape(m["lines"].(map[string]any)["status"]); got != statusShape {
				t.Errorf("expanded status shape = %s", got)
			}
		}},
		{"info", "GET", "/connectors/lines", nil, 200, infoShape, nil},
		{"config", "GET", "/connectors/lines/config", nil, 200, "{connector.class:s,file:s,name:s,tasks.max:s,topic:s}", nil},
		{"status", "GET", "/connectors/lines/status", nil, 200, statusShape, func(t *testing.T, _ string, b any) {
			if st := b.(map[string]any)["connector"].(map[string]any)["state"]; st != "RUNNING" {
				t.Errorf("state = %v", st)
			}
		}},
		{"tasks", "GET", "/connectors/lines/tasks", nil, 200, "[{config:{connector.class:s,file:s,name:s,tasks.max:s,topic:s},id:{connector:s,task:n}}]", nil},
		{"task status", "GET", "/connectors/lines/tasks/0/status", nil, 200, "{id:n,state:s,worker_id:s}", nil},
		{"unknown task", "GET", "/connectors/lines/tasks/7/status", nil, 404, errShape, nil},
		{"topics", "GET", "/connectors/lines/topics", nil, 200, "{lines:{topics:[s]}}", nil},
		{"patch config", "PATCH", "/connectors/lines/config", map[string]any{"batch.size": "100", "tasks.max": nil}, 200,
			"{config:{batch.size:s,connector.class:s,file:s,name:s,topic:s},name:s,tasks:[{connector:s,task:n}],type:s}", nil},
		{"pause", "PUT", "/connectors/lines/pause", nil, 202, "", nil},
		{"paused status", "GET", "/connectors/lines/status", nil, 200, statusShape, func(t *testing.T, _ string, b any) {
			m := b.(map[string]any)
			if m["connector"].(map[string]any)["state"] != "PAUSED" || m["tasks"].([]any)[0].(map[string]any)["state"] != "PAUSED" {
				t.Errorf("paused status = %v", b)
			}
		}},
		{"resume", "PUT", "/connectors/lines/resume", nil, 202, "", nil},
		{"restart connector only", "POST", "/connectors/lines/restart", nil, 204, "", nil},
		{"restart with tasks", "POST", "/connectors/lines/restart?includeTasks=true&onlyFailed=false", nil, 202, statusShape, func(t *testing.T, _ string, b any) {
			m := b.(map[string]any)
			if m["connector"].(map[string]any)["state"] != "RESTARTING" || m["tasks"].([]any)[0].(map[string]any)["state"] != "RESTARTING" {
				t.Errorf("restart reply = %v", b)
			}
		}},
		{"restart task", "POST", "/connectors/lines/tasks/0/restart", nil, 204, "", nil},
		{"offsets", "GET", "/connectors/lines/offsets", nil, 200, "{offsets:[{offset:{position:n},partition:{filename:s}}]}", nil},
		{"alter offsets while running", "PATCH", "/connectors/lines/offsets", map[string]any{"offsets": []any{}}, 400, errShape, nil},
		{"alter offsets not stopped", "PATCH", "/connectors/lines/offsets",
			map[string]any{"offsets": []any{map[string]any{"partition": map[string]any{"filename": in}, "offset": map[string]any{"position": 4}}}}, 400, errShape,
			func(t *testing.T, _ string, b any) {
				if !strings.HasPrefix(b.(map[string]any)["message"].(string), "Connectors must be in the STOPPED state before their offsets can be modified") {
					t.Errorf("message = %v", b)
				}
			}},
		{"stop", "PUT", "/connectors/lines/stop", nil, 204, "", nil},
		{"stopped status", "GET", "/connectors/lines/status", nil, 200, "{connector:{state:s,worker_id:s},name:s,tasks:[],type:s}", func(t *testing.T, _ string, b any) {
			if b.(map[string]any)["connector"].(map[string]any)["state"] != "STOPPED" {
				t.Errorf("stopped status = %v", b)
			}
		}},
		{"alter offsets", "PATCH", "/connectors/lines/offsets",
			map[string]any{"offsets": []any{map[string]any{"partition": map[string]any{"filename": in}, "offset": map[string]any{"position": 4}}}}, 200, "{message:s}",
			func(t *testing.T, _ string, b any) {
				if b.(map[string]any)["message"] != "The offsets for this connector have been altered successfully" {
					t.Errorf("alter reply = %v", b)
				}
			}},
		{"altered offsets", "GET", "/connectors/lines/offsets", nil, 200, "{offsets:[{offset:{position:n},partition:{filename:s}}]}", func(t *testing.T, _ string, b any) {
			off := b.(map[string]any)["offsets"].([]any)[0].(map[string]any)["offset"].(map[string]any)
			if off["position"] != 4.0 {
				t.Errorf("offsets = %v", b)
			}
		}},
		{"sink offsets shape", "GET", "/connectors/copy/offsets", nil, 200, "{offsets:[{offset:{sequence_number:s},partition:{shard:s,stream:s}}]}", nil},
		{"reset offsets", "DELETE", "/connectors/lines/offsets", nil, 200, "{message:s}", func(t *testing.T, _ string, b any) {
			if b.(map[string]any)["message"] != "The offsets for this connector have been reset successfully" {
				t.Errorf("reset reply = %v", b)
			}
		}},
		{"reset topics", "PUT", "/connectors/lines/topics/reset", nil, 202, "", nil},
		{"topics after reset", "GET", "/connectors/lines/topics", nil, 200, "{lines:{topics:[]}}", nil},
		{"resume stopped", "PUT", "/connectors/lines/resume", nil, 202, "", nil},
		{"plugins", "GET", "/connector-plugins", nil, 200, "[{class:s,type:s,version:s}]", func(t *testing.T, _ string, b any) {
			classes := map[string]string{}
			for _, p := range b.([]any) {
				classes[p.(map[string]any)["class"].(string)] = p.(map[string]any)["type"].(string)
			}
			for class, typ := range map[string]string{
				"org.apache.kafka.connect.file.FileStreamSourceConnector": "source",
				"org.apache.kafka.connect.file.FileStreamSinkConnector":   "sink",
				"com.amazonaws.mskdatagen.GeneratorSourceConnector":       "source",
				"io.debezium.connector.mysql.MySqlConnector":              "source",
			} {
				if classes[class] != typ {
					t.Errorf("connector plugins lack %s (%s): %v", class, typ, b)
				}
			}
			for _, typ := range classes {
				if typ != "source" && typ != "sink" {
					t.Errorf("connectorsOnly listed a %s", typ)
				}
			}
		}},
		{"all plugins", "GET", "/connector-plugins?connectorsOnly=false", nil, 200, "[{class:s,type:s,version:s}]", func(t *testing.T, _ string, b any) {
			types := map[string]int{}
			for _, p := range b.([]any) {
				types[p.(map[string]any)["type"].(string)]++
			}
			if types["transformation"] < 16 || types["predicate"] != 3 || types["converter"] != 3 {
				t.Errorf("plugin types = %v", types)
			}
		}},
		{"plugin config", "GET", "/connector-plugins/FileStreamSource/config", nil, 200,
			"[{default_value:null,dependents:[],display_name:s,documentation:s,group:s,importance:s,name:s,order:n,required:b,type:s,width:s}]", nil},
		{"unknown plugin", "GET", "/connector-plugins/com.example.Nope/config", nil, 404, errShape, nil},
		{"validate", "PUT", "/connector-plugins/com.amazonaws.mskdatagen.GeneratorSourceConnector/config/validate",
			map[string]any{"connector.class": "com.amazonaws.mskdatagen.GeneratorSourceConnector", "name": "v", "genkp.t.with": "#{Nope.nothing}"}, 200, "",
			func(t *testing.T, _ string, b any) {
				m := b.(map[string]any)
				if fmt.Sprint(keys(m)) != "[configs error_count groups name]" || m["error_count"] != 1.0 {
					t.Fatalf("validate = %v", b)
				}
				for _, c := range m["configs"].([]any) {
					cm := c.(map[string]any)
					if got := fmt.Sprint(keys(cm["value"])); got != "[errors name recommended_values value visible]" {
						t.Errorf("value keys = %s", got)
					}
					if errs := cm["value"].(map[string]any)["errors"].([]any); len(errs) > 0 && cm["value"].(map[string]any)["name"] != "genkp.t.with" {
						t.Errorf("error on %v", cm["value"])
					}
				}
			}},
		{"loggers", "GET", "/admin/loggers", nil, 200, "", func(t *testing.T, _ string, b any) {
			if _, ok := b.(map[string]any)["root"]; !ok {
				t.Errorf("loggers = %v", b)
			}
		}},
		{"set logger", "PUT", "/admin/loggers/root", map[string]any{"level": "DEBUG"}, 200, "", nil},
		{"delete", "DELETE", "/connectors/lines", nil, 204, "", nil},
		{"deleted", "GET", "/connectors/lines", nil, 404, errShape, func(t *testing.T, _ string, b any) {
			if b.(map[string]any)["message"] != "Connector lines not found" {
				t.Errorf("not found = %v", b)
			}
		}},
		{"unknown status", "GET", "/connectors/nope/status", nil, 404, errShape, nil},
		{"unknown pause", "PUT", "/connectors/nope/pause", nil, 404, errShape, nil},
		{"unknown route", "GET", "/nothing/here", nil, 404, errShape, nil},
	}
	for _, s := range steps {
		if s.name == "topics" {
			// A connector's active topics are those its tasks have
			// written to: the source's first write may still be on its
			// way (it is, under -race on a busy machine).
			testserver.WaitUntil(t, "the source's first write", 20*time.Second, func() bool {
				_, _, b := a.do("GET", "/connectors/lines/topics", nil)
				return shape(b) == s.shape
			})
		}
		if s.name == "sink offsets shape" {
			// The sink commits its first position once it has read.
			testserver.WaitUntil(t, "sink offsets", 20*time.Second, func() bool {
				_, _, b := a.do("GET", "/connectors/copy/offsets", nil)
				return len(b.(map[string]any)["offsets"].([]any)) > 0
			})
		}
		code, loc, body := a.do(s.method, s.path, s.body)
		if code != s.code {
			t.Fatalf("%s: %s %s = %d %v, want %d", s.name, s.method, s.path, code, body, s.code)
		}
		if s.shape != "" {
			if got := shape(body); got != s.shape {
				t.Fatalf("%s: shape\n got %s\nwant %s", s.name, got, s.shape)
			}
		}
		if s.check != nil {
			s.check(t, loc, body)
		}
		if s.name == "resume stopped" {
			// The sink copied the file, and copies it once more now
			// that the source's offsets were reset and it resumed;
			// the source must do so before the steps below delete it.
			testserver.WaitUntil(t, "the sink's file", 20*time.Second, func() bool {
				b, _ := os.ReadFile(out)
				return string(b) == strings.Repeat("one\ntwo\nthree\n", 2)
			})
		}
	}
	// The runtime's metrics are on the server's /metrics, for the
	// connectors that still exist.
	resp, err := http.Get(srv.Endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The deleted source connector's series went with it.
	if strings.Contains(string(metrics), `connector="lines"`) {
		t.Errorf("/metrics still has series of the deleted connector lines")
	}
	for _, want := range []string{
		`tributary_connect_sink_record_read_total{connector="copy",task="0"}`,
		`tributary_connect_offset_commit_completion_total{connector="copy",task="0"}`,
		`tributary_connect_instances{kind="connector",state="RUNNING"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
