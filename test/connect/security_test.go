package connect

import (
	"encoding/json"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// The keys of the authenticated server, in the -credentials format.
const (
	authKey    = "AKIDCONNECT"
	authSecret = "connect-secret/with:colon"
	authFile   = "# access keys\n" + authKey + " " + authSecret + " 111111111111\nAKIDOTHER other-secret 222222222222\n"
	denied     = `{"error_code":401,"message":"User cannot access the resource."}`
)

// rawDo sends one request to the Connect API with an optional Basic
// login and returns the response and its body.
func rawDo(t *testing.T, method, url, body, user, password string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestConnectBasicAuth: with -credentials the Connect REST API takes the
// same keys as HTTP Basic logins, refuses everything else with 401, and
// the CLI logs in with -user or TRIBUTARY_CONNECT_USER.
func TestConnectBasicAuth(t *testing.T) {
	srv := inproc.Start(t, "-credentials", writeFile(t, "credentials", authFile))
	base := srv.ConnectURL
	for _, tc := range []struct {
		name, method, path, body, user, password string
		status                                   int
	}{
		{"root, no login", "GET", "/", "", "", "", 401},
		{"list, no login", "GET", "/connectors", "", "", "", 401},
		{"create, no login", "POST", "/connectors", `{"name":"x","config":{"connector.class":"FileStreamSource","topic":"t"}}`, "", "", 401},
		{"plugins, no login", "GET", "/connector-plugins", "", "", "", 401},
		{"loggers, no login", "GET", "/admin/loggers", "", "", "", 401},
		{"logger change, no login", "PUT", "/admin/loggers/root", `{"level":"DEBUG"}`, "", "", 401},
		{"wrong secret", "GET", "/connectors", "", "", authKey, 401},
		{"other key's secret", "GET", "/connectors", "", authKey, "other-secret", 401},
		{"unknown key", "GET", "/connectors", "", "AKIDNOBODY", authSecret, 401},
		{"list, logged in", "GET", "/connectors", "", authKey, authSecret, 200},
		{"second key", "GET", "/admin/loggers", "", "AKIDOTHER", "other-secret", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := tc.user
			if tc.name == "wrong secret" {
				user, tc.password = authKey, "wrong"
			}
			resp, body := rawDo(t, tc.method, base+tc.path, tc.body, user, tc.password)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == 401 {
				if body != denied {
					t.Errorf("body = %s, want %s", body, denied)
				}
				if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Basic realm="`) {
					t.Errorf("WWW-Authenticate = %q", got)
				}
			}
		})
	}
	// The refused PUT changed nothing.
	_, body := rawDo(t, "GET", base+"/admin/loggers/root", "", authKey, authSecret)
	if !strings.Contains(body, `"level":"INFO"`) && !strings.Contains(body, `"level":"WARN"`) {
		t.Fatalf("root logger after a refused change: %s", body)
	}

	url := "-url=" + base
	t.Run("CLI without a login", func(t *testing.T) {
		r := runTributary(t, nil, "connect", "list", url)
		if r.code != 1 || !strings.Contains(r.stderr, "User cannot access the resource. (HTTP 401)") || !strings.Contains(r.stderr, "-user ACCESS_KEY_ID:SECRET") {
			t.Fatalf("want exit 1 naming -user:\n%s", r)
		}
	})
	t.Run("CLI with -user", func(t *testing.T) {
		if r := runTributary(t, nil, "connect", "list", url, "-user", authKey+":"+authSecret); r.code != 0 || r.stderr != "" {
			t.Fatalf("want success:\n%s", r)
		}
	})
	t.Run("CLI with TRIBUTARY_CONNECT_USER", func(t *testing.T) {
		if r := runTributary(t, []string{"TRIBUTARY_CONNECT_USER=" + authKey + ":" + authSecret}, "connect", "plugins", url); r.code != 0 || !strings.Contains(r.stdout, "FileStreamSource") {
			t.Fatalf("want the plugin list:\n%s", r)
		}
	})
	t.Run("CLI with user info in -url", func(t *testing.T) {
		u, err := neturl.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		u.User = neturl.UserPassword(authKey, authSecret)
		if r := runTributary(t, nil, "connect", "list", "-url", u.String()); r.code != 0 || r.stderr != "" {
			t.Fatalf("want success:\n%s", r)
		}
	})
	t.Run("CLI with a wrong secret", func(t *testing.T) {
		r := runTributary(t, nil, "connect", "list", url, "-user", authKey+":nope")
		if r.code != 1 || !strings.Contains(r.stderr, "refused the credentials") {
			t.Fatalf("want exit 1, credentials refused:\n%s", r)
		}
	})
	t.Run("CLI -user without a secret", func(t *testing.T) {
		if r := runTributary(t, nil, "connect", "list", url, "-user", authKey); r.code != 2 {
			t.Fatalf("want a usage error:\n%s", r)
		}
	})
}

// postConnector creates a connector and returns the status and message.
func postConnector(t *testing.T, a api, name string, config map[string]string) (int, string) {
	t.Helper()
	code, _, body := a.do("POST", "/connectors", map[string]any{"name": name, "config": config})
	msg := ""
	if m, ok := body.(map[string]any); ok {
		msg, _ = m["message"].(string)
	}
	return code, msg
}

// TestConnectAllowedPaths: file connectors created through a server's
// REST API read and write only under <data-dir>/files by default, and
// every other path, however it is spelled, fails validation.
func TestConnectAllowedPaths(t *testing.T) {
	data := t.TempDir()
	srv := inproc.Start(t, "-data-dir", data, "-connect-worker-config", writeFile(t, "worker.properties", "offset.flush.interval.ms=200\n"))
	a := api{t: t, base: srv.ConnectURL}
	files := filepath.Join(data, "files")
	if fi, err := os.Stat(files); err != nil || !fi.IsDir() {
		t.Fatalf("the server did not create %s: %v", files, err)
	}
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("do not read\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(files, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(files, "linkdir")); err != nil {
		t.Fatal(err)
	}

	source := func(file string) map[string]string {
		c := map[string]string{"connector.class": "FileStreamSource", "topic": "stolen"}
		if file != "" {
			c["file"] = file
		}
		return c
	}
	sink := func(file string) map[string]string {
		c := map[string]string{"connector.class": "FileStreamSink", "topics": "stolen"}
		if file != "" {
			c["file"] = file
		}
		return c
	}
	for _, tc := range []struct {
		name   string
		config map[string]string
	}{
		{"/etc/passwd", source("/etc/passwd")},
		{"dot-dot escape", source(files + "/../../../../../etc/passwd")},
		{"symlink to a file outside", source(filepath.Join(files, "link.txt"))},
		{"symlink to a directory outside", source(filepath.Join(files, "linkdir", "secret.txt"))},
		{"sibling of files/", source(files + "-evil/x")},
		{"standard input", source("")},
		{"sink outside", sink(filepath.Join(outside, "out.txt"))},
		{"sink through a symlinked directory", sink(filepath.Join(files, "linkdir", "new.txt"))},
		{"standard output", sink("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := postConnector(t, a, "bad", tc.config)
			if code != 400 || !strings.HasPrefix(msg, "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value "+tc.config["file"]+" for configuration file: ") {
				t.Fatalf("got %d %q", code, msg)
			}
			if tc.config["file"] != "" && !strings.Contains(msg, "outside the directories this server allows connectors to use ("+files+")") {
				t.Errorf("message does not name the allowed directory %s: %q", files, msg)
			}
		})
	}
	// The validate endpoint reports the same, on the file key.
	check := source("/etc/passwd")
	check["name"] = "check"
	code, _, body := a.do("PUT", "/connector-plugins/FileStreamSource/config/validate", check)
	if code != 200 || body.(map[string]any)["error_count"] != 1.0 {
		t.Fatalf("validate = %d %v", code, body)
	}
	if _, _, body := a.do("GET", "/connectors", nil); len(body.([]any)) != 0 {
		t.Fatalf("refused connectors exist: %v", body)
	}

	// Under files/ it works, both ways.
	in, out := filepath.Join(files, "in.txt"), filepath.Join(files, "sub", "out.txt")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, msg := postConnector(t, a, "in", map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": "lines"}); code != 201 {
		t.Fatalf("create source = %d %s", code, msg)
	}
	if code, msg := postConnector(t, a, "out", map[string]string{"connector.class": "FileStreamSink", "file": out, "topics": "lines"}); code != 201 {
		t.Fatalf("create sink = %d %s", code, msg)
	}
	testserver.WaitUntil(t, "the sink's file", 20*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		return string(b) == "one\ntwo\n"
	})
	if recs := testserver.ReadStream(t, srv.Client(), "stolen"); recs != nil {
		t.Fatalf("a refused connector wrote %d records", len(recs))
	}
}

// TestConnectAllowedPathsInMemory: in memory there is no data directory,
// so file connectors may use nothing unless -connect-allowed-paths says.
func TestConnectAllowedPathsInMemory(t *testing.T) {
	srv := inproc.Start(t)
	in := writeFile(t, "in.txt", "x\n")
	code, msg := postConnector(t, api{t: t, base: srv.ConnectURL}, "in", map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": "t"})
	if code != 400 || !strings.Contains(msg, "this server allows connectors no files; its operator can allow directories with -connect-allowed-paths") {
		t.Fatalf("got %d %q", code, msg)
	}
	dir := filepath.Dir(in)
	srv = inproc.Start(t, "-connect-allowed-paths", dir+","+t.TempDir())
	if code, msg := postConnector(t, api{t: t, base: srv.ConnectURL}, "in", map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": "t"}); code != 201 {
		t.Fatalf("with -connect-allowed-paths: %d %q", code, msg)
	}
}

// TestConnectConfigProviders: ${env:...} and ${file:...:...} placeholders
// take effect when the connector runs, while the REST API returns them
// as written and the server's log (at debug) never holds the values.
func TestConnectConfigProviders(t *testing.T) {
	const token, topic = "tok-9f8e7d6c5b4a", "provided-stream"
	t.Setenv("TRIB_E2E_TOKEN", token)
	files, secretsDir := t.TempDir(), t.TempDir()
	in := filepath.Join(files, "in.txt")
	if err := os.WriteFile(in, []byte("alpha\nbeta\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(secretsDir, "connector.properties")
	if err := os.WriteFile(secrets, []byte("input="+in+"\ntopic="+topic+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	worker := writeFile(t, "worker.properties", strings.Join([]string{
		"offset.flush.interval.ms=200",
		"config.providers=file,env",
		"config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider",
		"config.providers.file.param.allowed.paths=" + secretsDir,
		"config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider",
		"config.providers.env.param.allowlist.pattern=TRIB_E2E_.*",
	}, "\n")+"\n")
	srv := inproc.Start(t, "-connect-worker-config", worker, "-connect-allowed-paths", files, "-log-level", "debug")
	a := api{t: t, base: srv.ConnectURL}

	config := map[string]string{
		"connector.class":                "FileStreamSource",
		"file":                           "${file:" + secrets + ":input}",
		"topic":                          "${file:" + secrets + ":topic}",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
		"transforms":                     "hoist,tag",
		"transforms.hoist.type":          "org.apache.kafka.connect.transforms.HoistField$Value",
		"transforms.hoist.field":         "line",
		"transforms.tag.type":            "org.apache.kafka.connect.transforms.InsertField$Value",
		"transforms.tag.static.field":    "token",
		"transforms.tag.static.value":    "Bearer ${env:TRIB_E2E_TOKEN}",
	}
	if code, msg := postConnector(t, a, "provided", config); code != 201 {
		t.Fatalf("create = %d %s", code, msg)
	}
	var recs []string
	testserver.WaitUntil(t, "two records in "+topic, 20*time.Second, func() bool {
		recs = recs[:0]
		for _, r := range testserver.ReadStream(t, srv.Client(), topic) {
			recs = append(recs, string(r.Data))
		}
		return len(recs) == 2
	})
	if want := `{"line":"alpha","token":"Bearer ` + token + `"}`; recs[0] != want {
		t.Fatalf("record = %s, want %s", recs[0], want)
	}

	// Every reply that shows the configuration shows the placeholders.
	for _, path := range []string{"/connectors/provided/config", "/connectors/provided", "/connectors/provided/tasks",
		"/connectors/provided/status", "/connectors?expand=info&expand=status"} {
		code, _, body := a.do("GET", path, nil)
		raw, _ := json.Marshal(body)
		if code != 200 || strings.Contains(string(raw), token) || strings.Contains(string(raw), in) {
			t.Fatalf("GET %s = %d %s: holds a resolved value", path, code, raw)
		}
	}
	_, _, body := a.do("GET", "/connectors/provided/config", nil)
	got := body.(map[string]any)
	for k, v := range config {
		if got[k] != v {
			t.Errorf("GET config %s = %v, want %q", k, got[k], v)
		}
	}
	_, _, body = a.do("GET", "/connectors/provided/tasks", nil)
	task := body.([]any)[0].(map[string]any)["config"].(map[string]any)
	if task["transforms.tag.static.value"] != config["transforms.tag.static.value"] || task["file"] != config["file"] {
		t.Errorf("task config holds %v and %v, want the placeholders", task["transforms.tag.static.value"], task["file"])
	}

	// Placeholders that do not resolve fail validation, naming the
	// placeholder and nothing it would resolve to.
	for _, tc := range []struct{ name, key, value, want string }{
		{"unset variable", "transforms.tag.static.value", "${env:TRIB_E2E_UNSET}", "${env:TRIB_E2E_UNSET}: environment variable TRIB_E2E_UNSET is not set"},
		{"variable outside the allowlist", "transforms.tag.static.value", "${env:HOME}", "environment variable HOME is not set (or not allowed by allowlist.pattern)"},
		{"missing key", "topic", "${file:" + secrets + ":nope}", `no key "nope"`},
		{"file outside allowed.paths", "topic", "${file:/etc/passwd:root}", "/etc/passwd is not allowed by config.providers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := map[string]string{}
			for k, v := range config {
				bad[k] = v
			}
			bad[tc.key] = tc.value
			code, msg := postConnector(t, a, "bad", bad)
			want := "Invalid value " + tc.value + " for configuration " + tc.key + ": "
			if code != 400 || !strings.Contains(msg, want) || !strings.Contains(msg, tc.want) {
				t.Fatalf("got %d %q\nwant 400 with %q and %q", code, msg, want, tc.want)
			}
		})
	}
	// A resolved file outside the connector's allowed paths is refused
	// without saying where it led.
	bad := map[string]string{}
	for k, v := range config {
		bad[k] = v
	}
	if err := os.WriteFile(secrets, []byte("input=/etc/passwd\ntopic="+topic+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, msg := postConnector(t, a, "escape", bad)
	if code != 400 || !strings.Contains(msg, "Invalid value ${file:"+secrets+":input} for configuration file: the path is outside") || strings.Contains(msg, "/etc/passwd") {
		t.Fatalf("got %d %q", code, msg)
	}

	if log := srv.Log(); strings.Contains(log, token) {
		t.Fatalf("the server log holds the token:\n%s", log)
	}
}
