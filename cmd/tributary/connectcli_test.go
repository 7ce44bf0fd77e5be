package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// fakeConnect is a canned Connect REST API that records what it is sent.
type fakeConnect struct {
	mu       sync.Mutex
	requests []string          // "METHOD /path?query"
	bodies   []json.RawMessage // request bodies, in order, for those that had one
}

func (f *fakeConnect) handler() http.Handler {
	mux := http.NewServeMux()
	reply := func(code int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if body != "" {
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(code)
			io.WriteString(w, body)
		}
	}
	notFound := `{"error_code":404,"message":"Connector nope not found"}`
	mux.HandleFunc("GET /connectors", reply(200, `{
		"src":{"status":{"name":"src","connector":{"state":"RUNNING","worker_id":"10.0.0.1:8083"},"tasks":[{"id":0,"state":"RUNNING","worker_id":"10.0.0.1:8083"},{"id":1,"state":"FAILED","worker_id":"10.0.0.2:8083","trace":"boom"}],"type":"source"},"info":{"name":"src","config":{},"tasks":[],"type":"source"}},
		"a-long-sink-name":{"status":{"name":"a-long-sink-name","connector":{"state":"STOPPED","worker_id":"10.0.0.2:8083"},"tasks":[],"type":"sink"},"info":{"name":"a-long-sink-name","config":{},"tasks":[],"type":"sink"}}}`))
	mux.HandleFunc("GET /connectors/src/status", reply(200, `{"name":"src","connector":{"state":"RUNNING","worker_id":"10.0.0.1:8083"},"tasks":[{"id":0,"state":"RUNNING","worker_id":"10.0.0.1:8083"},{"id":1,"state":"FAILED","worker_id":"10.0.0.2:8083","trace":"org.apache.kafka.connect.errors.ConnectException: boom\n\tat Task.poll(Task.java:1)\n"}],"type":"source"}`))
	mux.HandleFunc("GET /connectors/dead/status", reply(200, `{"name":"dead","connector":{"state":"FAILED","worker_id":"w","trace":"cannot start"},"tasks":[],"type":"sink"}`))
	mux.HandleFunc("GET /connectors/nope/status", reply(404, notFound))
	mux.HandleFunc("PUT /connectors/src/pause", reply(202, ""))
	mux.HandleFunc("PUT /connectors/src/resume", reply(202, ""))
	mux.HandleFunc("PUT /connectors/src/stop", reply(204, ""))
	mux.HandleFunc("DELETE /connectors/src", reply(204, ""))
	mux.HandleFunc("DELETE /connectors/nope", reply(404, notFound))
	mux.HandleFunc("DELETE /connectors/a b", reply(204, ""))
	mux.HandleFunc("POST /connectors/src/restart", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("includeTasks") != "true" && q.Get("onlyFailed") != "true" {
			w.WriteHeader(204)
			return
		}
		w.WriteHeader(202)
		io.WriteString(w, `{"name":"src","connector":{"state":"RUNNING","worker_id":"w1"},"tasks":[{"id":0,"state":"RUNNING","worker_id":"w1"},{"id":1,"state":"RESTARTING","worker_id":"w1"}],"type":"source"}`)
	})
	mux.HandleFunc("POST /connectors/src/tasks/1/restart", reply(204, ""))
	mux.HandleFunc("GET /connectors/src/config", reply(200, `{"topic":"in","connector.class":"FileStreamSource","name":"src","file":"/tmp/in"}`))
	mux.HandleFunc("GET /connectors/src/offsets", reply(200, `{"offsets":[{"partition":{"filename":"/tmp/in"},"offset":{"position":42}}]}`))
	mux.HandleFunc("GET /connectors/sink/offsets", reply(200, `{"offsets":[]}`))
	mux.HandleFunc("GET /connector-plugins", func(w http.ResponseWriter, r *http.Request) {
		body := `[{"class":"org.apache.kafka.connect.file.FileStreamSinkConnector","type":"sink","version":"3.9.0"},{"class":"org.apache.kafka.connect.file.FileStreamSourceConnector","type":"source","version":"3.9.0"}`
		if r.URL.Query().Get("connectorsOnly") == "false" {
			body += `,{"class":"org.apache.kafka.connect.transforms.Flatten$Value","type":"transformation","version":"3.9.0"}`
		}
		io.WriteString(w, body+"]")
	})
	mux.HandleFunc("POST /connectors", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name   string            `json:"name"`
			Config map[string]string `json:"config"`
		}
		f.mu.Lock()
		raw := f.bodies[len(f.bodies)-1]
		f.mu.Unlock()
		if err := json.Unmarshal(raw, &req); err != nil {
			w.WriteHeader(500)
			return
		}
		if req.Name == "src" {
			w.WriteHeader(409)
			io.WriteString(w, `{"error_code":409,"message":"Connector src already exists"}`)
			return
		}
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"name": req.Name, "config": req.Config,
			"tasks": []map[string]any{{"connector": req.Name, "task": 0}}, "type": "source"})
	})
	mux.HandleFunc("GET /connectors/plain/config", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(502)
		io.WriteString(w, "Bad Gateway from proxy")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
		if len(b) > 0 {
			f.bodies = append(f.bodies, b)
		}
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
}

func startFakeConnect(t *testing.T) (*fakeConnect, string) {
	t.Helper()
	f := &fakeConnect{}
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConnectCLI(t *testing.T) {
	propsFile := writeFile(t, "file-source.properties", "# a Kafka example\nname=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile=test.txt\ntopic=connect-test\n")
	jsonFile := writeFile(t, "sink.json", `{"name":"json-sink","config":{"connector.class":"FileStreamSink","tasks.max":2,"file":"/tmp/out"}}`)
	flatJSON := writeFile(t, "flat.json", `{"name":"flat","connector.class":"FileStreamSink","topics":"t"}`)
	dupFile := writeFile(t, "dup.properties", "name=src\nconnector.class=FileStreamSource\n")

	cases := []struct {
		name     string
		sub      string
		args     []string
		want     string   // exact stdout
		wantErr  string   // exact error text; "" for success
		usage    bool     // the error must be a usageError
		requests []string // requests the server must have seen, in order
		body     string   // the JSON body the server must have seen last (compared as JSON)
	}{
		{name: "list", sub: "list",
			want: "NAME              TYPE    STATE    TASKS  WORKER\n" +
				"a-long-sink-name  sink    STOPPED  0/0    10.0.0.2:8083\n" +
				"src               source  RUNNING  1/2    10.0.0.1:8083\n",
			requests: []string{"GET /connectors?expand=status&expand=info"}},
		{name: "status", sub: "status", args: []string{"src"},
			want: "NAME  TYPE    STATE    TASKS  WORKER\n" +
				"src   source  RUNNING  1/2    10.0.0.1:8083\n" +
				"\n" +
				"TASK  STATE    WORKER\n" +
				"0     RUNNING  10.0.0.1:8083\n" +
				"1     FAILED   10.0.0.2:8083\n" +
				"\n" +
				"Task 1 failed:\n" +
				"org.apache.kafka.connect.errors.ConnectException: boom\n\tat Task.poll(Task.java:1)\n"},
		{name: "status failed connector", sub: "status", args: []string{"dead"},
			want: "NAME  TYPE  STATE   TASKS  WORKER\n" +
				"dead  sink  FAILED  0/0    w\n" +
				"\n" +
				"No tasks.\n" +
				"\n" +
				"Connector dead failed:\n" +
				"cannot start\n"},
		{name: "status not found", sub: "status", args: []string{"nope"},
			wantErr: "error: Connector nope not found (HTTP 404)"},
		{name: "pause", sub: "pause", args: []string{"src"}, want: "Pause requested for connector src\n",
			requests: []string{"PUT /connectors/src/pause"}},
		{name: "resume", sub: "resume", args: []string{"src"}, want: "Resume requested for connector src\n",
			requests: []string{"PUT /connectors/src/resume"}},
		{name: "stop", sub: "stop", args: []string{"src"}, want: "Stopped connector src\n",
			requests: []string{"PUT /connectors/src/stop"}},
		{name: "delete", sub: "delete", args: []string{"src"}, want: "Deleted connector src\n",
			requests: []string{"DELETE /connectors/src"}},
		{name: "delete escapes name", sub: "delete", args: []string{"a b"}, want: "Deleted connector a b\n",
			requests: []string{"DELETE /connectors/a%20b"}},
		{name: "delete not found", sub: "delete", args: []string{"nope"},
			wantErr: "error: Connector nope not found (HTTP 404)"},
		{name: "restart connector only", sub: "restart", args: []string{"src"}, want: "Restarted connector src\n",
			requests: []string{"POST /connectors/src/restart?includeTasks=false&onlyFailed=false"}},
		{name: "restart with tasks, flags after name", sub: "restart", args: []string{"src", "-include-tasks", "-only-failed"},
			want: "Restart requested for connector src\n\n" +
				"NAME  TYPE    STATE    TASKS  WORKER\n" +
				"src   source  RUNNING  1/2    w1\n" +
				"\n" +
				"TASK  STATE       WORKER\n" +
				"0     RUNNING     w1\n" +
				"1     RESTARTING  w1\n",
			requests: []string{"POST /connectors/src/restart?includeTasks=true&onlyFailed=true"}},
		{name: "restart one task", sub: "restart", args: []string{"-task", "1", "src"}, want: "Restarted task 1 of connector src\n",
			requests: []string{"POST /connectors/src/tasks/1/restart"}},
		{name: "restart task with include-tasks", sub: "restart", args: []string{"src", "-task", "1", "-include-tasks"}, usage: true,
			wantErr: "connect restart: -task restarts one task; it does not combine with -include-tasks or -only-failed"},
		{name: "config", sub: "config", args: []string{"src"},
			want: "connector.class=FileStreamSource\nfile=/tmp/in\nname=src\ntopic=in\n"},
		{name: "non-JSON error", sub: "config", args: []string{"plain"},
			wantErr: "error: Bad Gateway from proxy (HTTP 502)"},
		{name: "offsets", sub: "offsets", args: []string{"src"},
			want: "PARTITION               OFFSET\n" +
				`{"filename":"/tmp/in"}  {"position":42}` + "\n"},
		{name: "no offsets", sub: "offsets", args: []string{"sink"}, want: "No offsets for connector sink.\n"},
		{name: "plugins", sub: "plugins",
			want: "CLASS                                                    TYPE    VERSION\n" +
				"org.apache.kafka.connect.file.FileStreamSinkConnector    sink    3.9.0\n" +
				"org.apache.kafka.connect.file.FileStreamSourceConnector  source  3.9.0\n",
			requests: []string{"GET /connector-plugins?connectorsOnly=true"}},
		{name: "plugins all", sub: "plugins", args: []string{"-all"},
			want: "CLASS                                                    TYPE            VERSION\n" +
				"org.apache.kafka.connect.file.FileStreamSinkConnector    sink            3.9.0\n" +
				"org.apache.kafka.connect.file.FileStreamSourceConnector  source          3.9.0\n" +
				"org.apache.kafka.connect.transforms.Flatten$Value        transformation  3.9.0\n",
			requests: []string{"GET /connector-plugins?connectorsOnly=false"}},
		{name: "create from properties", sub: "create", args: []string{propsFile},
			want:     "Created connector local-file-source (source, 1 task)\n",
			requests: []string{"POST /connectors"},
			body:     `{"name":"local-file-source","config":{"name":"local-file-source","connector.class":"FileStreamSource","tasks.max":"1","file":"test.txt","topic":"connect-test"}}`},
		{name: "create from properties with overrides", sub: "create", args: []string{propsFile, "-c", "tasks.max=3", "-name", "renamed", "-initial-state", "paused"},
			want: "Created connector renamed (source, 1 task)\n",
			body: `{"name":"renamed","config":{"name":"renamed","connector.class":"FileStreamSource","tasks.max":"3","file":"test.txt","topic":"connect-test"},"initial_state":"PAUSED"}`},
		{name: "create from Kafka JSON", sub: "create", args: []string{jsonFile},
			want: "Created connector json-sink (source, 1 task)\n",
			body: `{"name":"json-sink","config":{"name":"json-sink","connector.class":"FileStreamSink","tasks.max":"2","file":"/tmp/out"}}`},
		{name: "create from flat JSON", sub: "create", args: []string{flatJSON},
			want: "Created connector flat (source, 1 task)\n",
			body: `{"name":"flat","config":{"name":"flat","connector.class":"FileStreamSink","topics":"t"}}`},
		{name: "create from flags", sub: "create", args: []string{"-c", "name=flags", "-c", "connector.class=FileStreamSource", "-c", "file=a=b"},
			want: "Created connector flags (source, 1 task)\n",
			body: `{"name":"flags","config":{"name":"flags","connector.class":"FileStreamSource","file":"a=b"}}`},
		{name: "create duplicate", sub: "create", args: []string{dupFile},
			wantErr: "error: Connector src already exists (HTTP 409)"},
		{name: "create without name", sub: "create", args: []string{"-c", "connector.class=X"}, usage: true,
			wantErr: `connect create: no connector name: give -name, a "name" in the file, or -c name=...`},
		{name: "create without config", sub: "create", args: []string{"-name", "x"}, usage: true,
			wantErr: "connect create: no configuration: give a file or -c key=value settings"},
		{name: "create bad initial state", sub: "create", args: []string{propsFile, "-initial-state", "asleep"}, usage: true,
			wantErr: `connect create: initial state "asleep" is not RUNNING, PAUSED or STOPPED`},
		{name: "create bad -c", sub: "create", args: []string{"-c", "novalue"}, usage: true,
			wantErr: `connect create: invalid value "novalue" for flag -c: "novalue" is not key=value`},
		{name: "create two files", sub: "create", args: []string{propsFile, jsonFile}, usage: true,
			wantErr: "connect create: expected at most one file, got 2 arguments"},
		{name: "create missing file", sub: "create", args: []string{"/nonexistent/x.properties"},
			wantErr: "open /nonexistent/x.properties: no such file or directory"},
		{name: "status without name", sub: "status", usage: true,
			wantErr: "connect status: expected one connector name, got 0 arguments"},
		{name: "pause with two names", sub: "pause", args: []string{"a", "b"}, usage: true,
			wantErr: "connect pause: expected one connector name, got 2 arguments"},
		{name: "list with argument", sub: "list", args: []string{"x"}, usage: true,
			wantErr: `connect list: unexpected argument "x"`},
		{name: "unknown command", sub: "explode", usage: true, wantErr: `connect: unknown command "explode"`},
		{name: "missing command", sub: "", usage: true, wantErr: "connect: missing command"},
		{name: "unknown flag", sub: "list", args: []string{"-bogus"}, usage: true,
			wantErr: "connect list: flag provided but not defined: -bogus"},
		{name: "bad url", sub: "list", args: []string{"-url", "localhost:8083"}, usage: true,
			wantErr: `connect list: -url: "localhost:8083" is not an http:// or https:// URL`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, base := startFakeConnect(t)
			t.Setenv("TRIBUTARY_CONNECT_URL", base)
			var stdout, stderr bytes.Buffer
			err := connectClient(context.Background(), tc.sub, tc.args, &stdout, &stderr)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error: %v\nstderr: %s", err, stderr.String())
			case tc.wantErr != "" && err == nil:
				t.Fatalf("no error; want %q; stdout:\n%s", tc.wantErr, stdout.String())
			case tc.wantErr != "" && err.Error() != tc.wantErr:
				t.Errorf("error = %q, want %q", err, tc.wantErr)
			}
			var ue usageError
			if isUsage := errors.As(err, &ue); isUsage != tc.usage {
				t.Errorf("usageError = %t, want %t (err %v)", isUsage, tc.usage, err)
			}
			if got := stdout.String(); got != tc.want {
				t.Errorf("stdout:\n%s\nwant:\n%s", got, tc.want)
			}
			if tc.requests != nil && !reflect.DeepEqual(f.requests, tc.requests) {
				t.Errorf("requests = %q, want %q", f.requests, tc.requests)
			}
			if tc.body != "" {
				if len(f.bodies) == 0 {
					t.Fatal("server received no body")
				}
				var got, want any
				if err := json.Unmarshal(f.bodies[len(f.bodies)-1], &got); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal([]byte(tc.body), &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("request body = %s, want %s", f.bodies[len(f.bodies)-1], tc.body)
				}
			}
		})
	}
}

func TestConnectCLIURLFlagOverridesEnv(t *testing.T) {
	f, base := startFakeConnect(t)
	t.Setenv("TRIBUTARY_CONNECT_URL", "http://127.0.0.1:1") // nothing listens there
	var stdout bytes.Buffer
	if err := connectClient(context.Background(), "pause", []string{"-url", base + "/", "src"}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.requests, []string{"PUT /connectors/src/pause"}) {
		t.Errorf("requests = %q", f.requests)
	}
}

func TestConnectCLIDefaultURL(t *testing.T) {
	t.Setenv("TRIBUTARY_CONNECT_URL", "")
	if got := defaultConnectURL(); got != "http://localhost:8083" {
		t.Errorf("default URL = %q", got)
	}
}

func TestConnectCLIUnreachable(t *testing.T) {
	t.Setenv("TRIBUTARY_CONNECT_URL", "http://127.0.0.1:1")
	err := connectClient(context.Background(), "list", nil, io.Discard, io.Discard)
	var ue usageError
	if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "cannot reach the Connect REST API at http://127.0.0.1:1") {
		t.Fatalf("err = %v; want a plain error saying the API is unreachable", err)
	}
}

func TestConnectCLIHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := connectClient(context.Background(), "help", nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "tributary connect <command>") {
		t.Errorf("help output:\n%s", stdout.String())
	}
	stdout.Reset()
	err := connectClient(context.Background(), "restart", []string{"-h"}, &stdout, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("restart -h: err = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stderr.String(), "-include-tasks") {
		t.Errorf("restart -h did not describe its flags:\n%s", stderr.String())
	}
}

func TestConnectCLIEmptyList(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	var stdout bytes.Buffer
	if err := connectClient(context.Background(), "list", []string{"-url", srv.URL}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "No connectors.\n" {
		t.Errorf("stdout = %q", stdout.String())
	}
}
