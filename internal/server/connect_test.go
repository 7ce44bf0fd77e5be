package server

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/testserver"
)

// connectServer starts a server in process with its Connect REST API on
// a free loopback port, stopped when the test ends or by stop.
func connectServer(t *testing.T, dir string, props map[string]string) *Server {
	s, _ := stoppableServer(t, dir, props)
	return s
}

func stoppableServer(t *testing.T, dir string, props map[string]string) (*Server, func()) {
	t.Helper()
	ctx := context.Background()
	cfg := Config{Addr: "127.0.0.1:0", Store: store.Config{InMemory: dir == "", Dir: dir, Durability: store.Interval, SyncInterval: time.Second},
		Connect: ConnectConfig{Addr: "127.0.0.1:0", WorkerProps: props, AllowedPaths: []string{}}}
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if err := s.Shutdown(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return s, stop
}

// connectClient closes each connection after its request, so that idle
// keep-alive connections do not count as the server's goroutines.
var connectClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}

// call makes a Connect REST call and returns the status and raw body.
func call(t *testing.T, s *Server, method, path string, body any) (int, []byte) {
	t.Helper()
	var in []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		in = b
	}
	return rawCall(t, s, method, path, string(in))
}

// datagen is a generator source whose tasks each make one record a day,
// so a test may run many of them cheaply.
func datagen(tasks int) map[string]string {
	return map[string]string{
		"connector.class":                "com.amazonaws.mskdatagen.GeneratorSourceConnector",
		"tasks.max":                      strconv.Itoa(tasks),
		"genkp.idle.with":                "#{Internet.uuid}",
		"genv.idle.n.with":               "#{number.number_between '1','5'}",
		"global.throttle.ms":             "86400000",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
}

// TestConnectTasksMaxLimit checks that tasks.max above the worker's
// tasks.max.limit is refused with Kafka's invalid-configuration 400, on
// create, on a config update and in validate, and that the limit itself
// is accepted.
func TestConnectTasksMaxLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		props map[string]string
		limit int
	}{
		{"default", nil, 256},
		{"worker property", map[string]string{"tasks.max.limit": "4"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := connectServer(t, "", tc.props)
			want := "Connector configuration is invalid and contains the following 1 error(s):\n" +
				"Invalid value " + strconv.Itoa(tc.limit+1) + " for configuration tasks.max: Value must be no more than " + strconv.Itoa(tc.limit) +
				" (the worker's tasks.max.limit)\n" +
				"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
			code, body := call(t, s, "POST", "/connectors", map[string]any{"name": "many", "config": datagen(tc.limit + 1)})
			var e struct {
				Code    int    `json:"error_code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &e); err != nil || code != 400 || e.Code != 400 || e.Message != want {
				t.Fatalf("POST tasks.max=%d = %d %.300s\nwant 400 %q", tc.limit+1, code, body, want)
			}
			if code, body := call(t, s, "PUT", "/connectors/many/config", datagen(tc.limit+1)); code != 400 || !strings.Contains(string(body), "tasks.max") {
				t.Fatalf("PUT config = %d %s", code, body)
			}
			cfg := datagen(tc.limit + 1)
			cfg["name"] = "many"
			code, body = call(t, s, "PUT", "/connector-plugins/GeneratorSourceConnector/config/validate", cfg)
			var v struct {
				ErrorCount int `json:"error_count"`
				Configs    []struct {
					Value struct {
						Name   string   `json:"name"`
						Errors []string `json:"errors"`
					} `json:"value"`
				} `json:"configs"`
			}
			if err := json.Unmarshal(body, &v); err != nil || code != 200 || v.ErrorCount != 1 {
				t.Fatalf("validate = %d %.300s", code, body)
			}
			for _, c := range v.Configs {
				if c.Value.Name == "tasks.max" && len(c.Value.Errors) != 1 {
					t.Fatalf("validate tasks.max errors = %q", c.Value.Errors)
				}
			}
			if code, body := call(t, s, "GET", "/connectors/many", nil); code != 404 {
				t.Fatalf("refused connector exists: %d %s", code, body)
			}
			if code, body := call(t, s, "POST", "/connectors", map[string]any{"name": "enough", "config": datagen(tc.limit)}); code != 201 {
				t.Fatalf("POST tasks.max=%d (the limit) = %d %s", tc.limit, code, body)
			}
		})
	}
}

// TestConnectBadTasksMaxLimit checks that a worker property that is not
// a positive number stops the server from starting, naming it.
func TestConnectBadTasksMaxLimit(t *testing.T) {
	for _, v := range []string{"0", "-3", "many"} {
		_, err := Start(context.Background(), Config{Addr: "127.0.0.1:0", Store: store.Config{InMemory: true},
			Connect: ConnectConfig{Addr: "127.0.0.1:0", WorkerProps: map[string]string{"tasks.max.limit": v}}})
		if err == nil || !strings.Contains(err.Error(), "tasks.max.limit") {
			t.Fatalf("tasks.max.limit=%s: Start = %v, want an error naming it", v, err)
		}
	}
}

// TestConnectDeleteFreesTasks creates a connector with 200 tasks, deletes
// it, and waits until the server is back to the goroutines it had before,
// and until nothing of the connector but its offsets is left in the
// metadata bucket or /metrics.
func TestConnectDeleteFreesTasks(t *testing.T) {
	const tasks = 200
	s := connectServer(t, "", nil)
	ctx := context.Background()
	// Warm up: the stream the tasks write to, and the HTTP paths.
	if code, body := call(t, s, "POST", "/connectors", map[string]any{"name": "warm", "config": datagen(1)}); code != 201 {
		t.Fatalf("create = %d %s", code, body)
	}
	waitTasks(t, s, "warm", 1)
	if code, body := call(t, s, "DELETE", "/connectors/warm", nil); code != 204 {
		t.Fatalf("delete = %d %s", code, body)
	}
	var baseline int
	testserver.WaitUntil(t, "the warm-up connector's goroutines to end", time.Minute, func() bool {
		before := runtime.NumGoroutine()
		time.Sleep(50 * time.Millisecond)
		baseline = runtime.NumGoroutine()
		return baseline == before
	})

	if code, body := call(t, s, "POST", "/connectors", map[string]any{"name": "many", "config": datagen(tasks)}); code != 201 {
		t.Fatalf("create = %d %s", code, body)
	}
	waitTasks(t, s, "many", tasks)
	if n := runtime.NumGoroutine(); n < baseline+tasks {
		t.Fatalf("%d goroutines with %d tasks running, baseline %d: the test does not see the tasks", n, tasks, baseline)
	}
	if code, body := call(t, s, "DELETE", "/connectors/many", nil); code != 204 {
		t.Fatalf("delete = %d %s", code, body)
	}
	// A few goroutines of the server's own may come and go (timers, the
	// HTTP server's connections); each task left behind would be one.
	const slack = 5
	testserver.WaitUntil(t, "goroutines back to the baseline", 2*time.Minute, func() bool {
		return runtime.NumGoroutine() <= baseline+slack
	})
	hexName := hex.EncodeToString([]byte("many"))
	testserver.WaitUntil(t, "the connector's keys to leave the metadata bucket", time.Minute, func() bool {
		entries, err := s.store.List(ctx, "connect.>")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Key, "."+hexName) && !strings.HasPrefix(e.Key, "connect.offsets.") &&
				!strings.HasPrefix(e.Key, "connect.marks.") {
				return false
			}
		}
		return true
	})
	resp, err := connectClient.Get("http://" + s.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(m), `connector="many"`) {
		t.Fatalf("/metrics still has the deleted connector's series")
	}
}

// waitTasks waits until a connector has n tasks, all RUNNING.
func waitTasks(t *testing.T, s *Server, name string, n int) {
	t.Helper()
	testserver.WaitUntil(t, name+" running with its tasks", 2*time.Minute, func() bool {
		code, body := call(t, s, "GET", "/connectors/"+name+"/status", nil)
		var st struct {
			Tasks []struct {
				State string `json:"state"`
			} `json:"tasks"`
		}
		if code != 200 || json.Unmarshal(body, &st) != nil || len(st.Tasks) != n {
			return false
		}
		for _, ts := range st.Tasks {
			if ts.State != "RUNNING" {
				return false
			}
		}
		return true
	})
}

// TestConnectLargeConfigManyTasks creates, through the REST API, a
// generator connector whose configuration is as large as a request body
// may be, made of characters JSON escapes six-fold ('<'), with tasks.max
// 8: the generator copies its configuration into every task's. All
// tasks run; pausing, resuming and stopping it, which write its record,
// succeed; and it comes back whole after a restart. When every task's
// copy was in the connector's one record, that record outgrew the
// store's largest message (16 MiB): the task configurations were never
// stored and pausing it failed with 500.
func TestConnectLargeConfigManyTasks(t *testing.T) {
	const tasks = 8
	dir := t.TempDir()
	s, stop := stoppableServer(t, dir, nil)
	body, filler := largestCreate(t, "big", datagen(tasks))
	if code, created := rawCall(t, s, "POST", "/connectors", body); code != 201 {
		t.Fatalf("create = %d %.500s", code, created)
	}
	waitTasks(t, s, "big", tasks)
	for _, step := range []struct {
		action string
		want   int
	}{{"pause", 202}, {"resume", 202}, {"stop", 204}, {"resume", 202}} {
		if code, body := call(t, s, "PUT", "/connectors/big/"+step.action, nil); code != step.want {
			t.Fatalf("%s = %d %.500s, want %d", step.action, code, body, step.want)
		}
	}
	waitTasks(t, s, "big", tasks)
	stop()

	s = connectServer(t, dir, nil)
	waitTasks(t, s, "big", tasks)
	code, got := call(t, s, "GET", "/connectors/big/tasks", nil)
	var infos []struct {
		Config map[string]string `json:"config"`
	}
	if err := json.Unmarshal(got, &infos); err != nil || code != 200 || len(infos) != tasks {
		t.Fatalf("GET tasks after a restart = %d, %d tasks, %v", code, len(infos), err)
	}
	for n, info := range infos {
		if info.Config["template"] != filler {
			t.Fatalf("task %d's configuration after a restart has a template of %d bytes, want %d", n, len(info.Config["template"]), len(filler))
		}
	}
}

// maxBody is the largest request body the Connect REST API accepts.
const maxBody = 1 << 20

// largestCreate returns a POST /connectors body of maxBody bytes for
// config plus a "template" setting of '<' characters, which JSON writes
// back six-fold (\u003c), and that setting's value.
func largestCreate(t *testing.T, name string, config map[string]string) (string, string) {
	t.Helper()
	head, err := json.Marshal(map[string]any{"name": name, "config": config})
	if err != nil {
		t.Fatal(err)
	}
	// {"config":{...,"template":"<<<...<"},"name":"big"}
	i := bytes.Index(head, []byte(`},"name"`))
	filler := strings.Repeat("<", maxBody-len(head)-len(`,"template":""`))
	body := string(head[:i]) + `,"template":"` + filler + `"` + string(head[i:])
	if len(body) != maxBody {
		t.Fatalf("body is %d bytes, want %d", len(body), maxBody)
	}
	return body, filler
}

// rawCall makes a Connect REST call with a body sent as it is.
func rawCall(t *testing.T, s *Server, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.ConnectAddr()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := connectClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// TestConnectConfigTooLargeToStore grows a connector's configuration,
// accepted at the largest body size, with PATCH requests until it would
// be too large to store: that PATCH is refused with Kafka's
// invalid-configuration 400, and the connector keeps its configuration
// and keeps running. The PATCH used to be accepted, and storing the
// configuration then failed with 500 or only in the log.
func TestConnectConfigTooLargeToStore(t *testing.T) {
	s := connectServer(t, t.TempDir(), nil)
	body, filler := largestCreate(t, "grown", datagen(1))
	if code, got := rawCall(t, s, "POST", "/connectors", body); code != 201 {
		t.Fatalf("create = %d %.500s", code, got)
	}
	waitTasks(t, s, "grown", 1)
	patch := `{"template2":"` + strings.Repeat("<", maxBody-20) + `"}`
	code, got := rawCall(t, s, "PATCH", "/connectors/grown/config", patch)
	var e struct {
		Code    int    `json:"error_code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(got, &e); err != nil || code != 400 || e.Code != 400 ||
		!strings.HasPrefix(e.Message, "Connector configuration is invalid and contains the following 1 error(s):") ||
		!strings.Contains(e.Message, "over the limit of 8388608 bytes") {
		t.Fatalf("PATCH to a configuration too large to store = %d %.500s", code, got)
	}
	code, got = call(t, s, "GET", "/connectors/grown/config", nil)
	var cfg map[string]string
	if err := json.Unmarshal(got, &cfg); err != nil || code != 200 || cfg["template"] != filler || cfg["template2"] != "" {
		t.Fatalf("GET config after the refused PATCH = %d, %d settings, %v", code, len(cfg), err)
	}
	waitTasks(t, s, "grown", 1)
}
