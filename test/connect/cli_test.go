package connect

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testserver"
)

// cliResult is what one run of the tributary binary produced.
type cliResult struct {
	stdout, stderr string
	code           int
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// testEnv is the environment of the processes the tests run: this
// process's, less whatever would point them elsewhere (the AWS_*
// settings of the host, such as a profile, endpoint or CA bundle, and
// TRIBUTARY_CONNECT_URL and _USER), plus extra.
func testEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "TRIBUTARY_CONNECT_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runTributary runs the tributary binary to completion (at most a
// minute) with args and testEnv(env...), and returns its output and exit
// code.
func runTributary(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	r := testserver.Run(t, testEnv(env...), testserver.Binary(t), args...)
	return cliResult{stdout: r.Stdout, stderr: r.Stderr, code: r.Code}
}

// columnStarts returns the byte offsets at which the fields of a table
// line start.
func columnStarts(line string) []int {
	var out []int
	for _, m := range regexp.MustCompile(`\S+`).FindAllStringIndex(line, -1) {
		out = append(out, m[0])
	}
	return out
}

// checkTable checks that out is a table with the given header and rows
// (fields split on runs of spaces), whose columns all start where the
// header's do.
func checkTable(t *testing.T, what, out string, header []string, rows ...[]string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1+len(rows) {
		t.Fatalf("%s: %d lines, want header and %d rows:\n%s", what, len(lines), len(rows), out)
	}
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != strings.Join(header, " ") {
		t.Fatalf("%s: header %q, want %q", what, got, header)
	}
	starts := columnStarts(lines[0])
	for i, row := range rows {
		line := lines[1+i]
		if got := strings.Fields(line); strings.Join(got, "|") != strings.Join(row, "|") {
			t.Fatalf("%s: row %d = %q, want %q\n%s", what, i, got, row, out)
		}
		if got := columnStarts(line); fmt.Sprint(got) != fmt.Sprint(starts) {
			t.Fatalf("%s: row %d columns start at %v, the header's at %v:\n%s", what, i, got, starts, out)
		}
	}
}

// TestCLI drives a connector through its life with `tributary connect`
// subcommands against a real server's REST API, checking their output
// and exit codes, and what the REST API and the stream say they did.
func TestCLI(t *testing.T) {
	srv := start(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	const input = "alpha\nbeta\ngamma\n"
	if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	props := filepath.Join(dir, "cli-lines.properties")
	if err := os.WriteFile(props, []byte(fmt.Sprintf(
		"# a FileStreamSource, as in Kafka's quickstart\nname=cli-lines\nconnector.class=FileStreamSource\nfile=%s\ntopic=cli-stream\n", in)), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "-url=" + srv.ConnectURL
	// The helpers take the (sub)test they run in, so a failure ends that.
	cli := func(t *testing.T, args ...string) cliResult {
		t.Helper()
		return runTributary(t, nil, append([]string{"connect"}, args...)...)
	}
	// ok runs a command that must succeed without writing to stderr.
	ok := func(t *testing.T, args ...string) string {
		t.Helper()
		r := cli(t, args...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("tributary connect %s: %s", strings.Join(args, " "), r)
		}
		return r.stdout
	}
	// restState is the connector's and its tasks' states per the REST API.
	restState := func(t *testing.T) string {
		t.Helper()
		code, _, body := api{t: t, base: srv.ConnectURL}.do("GET", "/connectors/cli-lines/status", nil)
		if code != 200 {
			t.Fatalf("status = %d %v", code, body)
		}
		m := body.(map[string]any)
		s := m["connector"].(map[string]any)["state"].(string)
		for _, ts := range m["tasks"].([]any) {
			s += " " + ts.(map[string]any)["state"].(string)
		}
		return s
	}
	waitState := func(t *testing.T, want string) {
		t.Helper()
		testserver.WaitUntil(t, "cli-lines "+want, 20*time.Second, func() bool { return restState(t) == want })
	}
	listHeader := []string{"NAME", "TYPE", "STATE", "TASKS", "WORKER"}

	if got := ok(t, "list", url); got != "No connectors.\n" {
		t.Fatalf("list before create = %q", got)
	}
	if got := ok(t, "create", url, props); got != "Created connector cli-lines (source, 1 task)\n" {
		t.Fatalf("create = %q", got)
	}
	waitState(t, "RUNNING RUNNING")
	_, _, st := api{t: t, base: srv.ConnectURL}.do("GET", "/connectors/cli-lines/status", nil)
	worker, _ := st.(map[string]any)["connector"].(map[string]any)["worker_id"].(string)
	if worker == "" {
		t.Fatalf("status has no worker_id: %v", st)
	}
	// The connector does what the file says: the lines reach the stream.
	testserver.WaitUntil(t, "the lines in cli-stream", 20*time.Second, func() bool {
		recs := streamRecords(t, srv.Client(), "cli-stream")
		var got []string
		for _, r := range recs {
			got = append(got, string(r.Data))
		}
		return strings.Join(got, "\n")+"\n" == input
	})

	t.Run("list", func(t *testing.T) {
		checkTable(t, "list", ok(t, "list", url), listHeader, []string{"cli-lines", "source", "RUNNING", "1/1", worker})
	})
	t.Run("url from environment", func(t *testing.T) {
		r := runTributary(t, []string{"TRIBUTARY_CONNECT_URL=" + srv.ConnectURL}, "connect", "list")
		if r.code != 0 {
			t.Fatal(r)
		}
		checkTable(t, "list", r.stdout, listHeader, []string{"cli-lines", "source", "RUNNING", "1/1", worker})
	})
	t.Run("status", func(t *testing.T) {
		out := ok(t, "status", "cli-lines", url) // flags after the name work too
		conn, tasks, found := strings.Cut(out, "\n\n")
		if !found {
			t.Fatalf("status has no blank line between its tables:\n%s", out)
		}
		checkTable(t, "status", conn, listHeader, []string{"cli-lines", "source", "RUNNING", "1/1", worker})
		checkTable(t, "status tasks", tasks, []string{"TASK", "STATE", "WORKER"}, []string{"0", "RUNNING", worker})
	})
	t.Run("config", func(t *testing.T) {
		want := fmt.Sprintf("connector.class=FileStreamSource\nfile=%s\nname=cli-lines\ntopic=cli-stream\n", in)
		if got := ok(t, "config", url, "cli-lines"); got != want {
			t.Fatalf("config =\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("offsets", func(t *testing.T) {
		// The source commits every 200 ms; its position is the file's end.
		var out string
		testserver.WaitUntil(t, "committed offsets", 20*time.Second, func() bool {
			out = ok(t, "offsets", url, "cli-lines")
			return strings.Contains(out, fmt.Sprintf(`{"position":%d}`, len(input)))
		})
		checkTable(t, "offsets", out, []string{"PARTITION", "OFFSET"},
			[]string{fmt.Sprintf(`{"filename":%q}`, in), fmt.Sprintf(`{"position":%d}`, len(input))})
	})
	t.Run("plugins", func(t *testing.T) {
		out := ok(t, "plugins", url)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 6 || strings.Join(strings.Fields(lines[0]), " ") != "CLASS TYPE VERSION" {
			t.Fatalf("plugins:\n%s", out)
		}
		for _, want := range []string{
			"org.apache.kafka.connect.file.FileStreamSinkConnector sink",
			"org.apache.kafka.connect.file.FileStreamSourceConnector source",
			"com.amazonaws.mskdatagen.GeneratorSourceConnector source",
			"io.debezium.connector.mysql.MySqlConnector source",
			"com.zendesk.maxwell.MaxwellConnector source",
		} {
			found := false
			for _, l := range lines[1:] {
				found = found || strings.HasPrefix(strings.Join(strings.Fields(l), " "), want+" ")
			}
			if !found {
				t.Errorf("plugins lack %q:\n%s", want, out)
			}
		}
		starts := fmt.Sprint(columnStarts(lines[0]))
		for _, l := range lines[1:] {
			if got := fmt.Sprint(columnStarts(l)); got != starts {
				t.Errorf("plugins row %q starts its columns at %s, the header at %s", l, got, starts)
			}
		}
		all := ok(t, "plugins", "-all", url)
		for _, want := range []string{" transformation ", " predicate ", " converter ", "org.apache.kafka.connect.transforms.InsertHeader"} {
			if !strings.Contains(all, want) {
				t.Errorf("plugins -all lacks %q:\n%s", want, all)
			}
		}
	})
	t.Run("pause and resume", func(t *testing.T) {
		if got := ok(t, "pause", url, "cli-lines"); got != "Pause requested for connector cli-lines\n" {
			t.Fatalf("pause = %q", got)
		}
		waitState(t, "PAUSED PAUSED")
		out := ok(t, "status", url, "cli-lines")
		conn, tasks, _ := strings.Cut(out, "\n\n")
		checkTable(t, "paused status", conn, listHeader, []string{"cli-lines", "source", "PAUSED", "0/1", worker})
		checkTable(t, "paused tasks", tasks, []string{"TASK", "STATE", "WORKER"}, []string{"0", "PAUSED", worker})
		checkTable(t, "paused list", ok(t, "list", url), listHeader, []string{"cli-lines", "source", "PAUSED", "0/1", worker})

		if got := ok(t, "resume", url, "cli-lines"); got != "Resume requested for connector cli-lines\n" {
			t.Fatalf("resume = %q", got)
		}
		waitState(t, "RUNNING RUNNING")
	})
	t.Run("restart", func(t *testing.T) {
		out := ok(t, "restart", url, "cli-lines", "-include-tasks")
		head, table, found := strings.Cut(out, "\n\n")
		if !found || head != "Restart requested for connector cli-lines" {
			t.Fatalf("restart -include-tasks:\n%s", out)
		}
		conn, tasks, _ := strings.Cut(table, "\n\n")
		checkTable(t, "restart status", conn, listHeader, []string{"cli-lines", "source", "RESTARTING", "0/1", worker})
		checkTable(t, "restart tasks", tasks, []string{"TASK", "STATE", "WORKER"}, []string{"0", "RESTARTING", worker})
		waitState(t, "RUNNING RUNNING")

		if got := ok(t, "restart", url, "cli-lines"); got != "Restarted connector cli-lines\n" {
			t.Fatalf("restart = %q", got)
		}
		waitState(t, "RUNNING RUNNING")
		if got := ok(t, "restart", url, "-task", "0", "cli-lines"); got != "Restarted task 0 of connector cli-lines\n" {
			t.Fatalf("restart -task 0 = %q", got)
		}
		waitState(t, "RUNNING RUNNING")
	})
	t.Run("server errors", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"status", url, "nope"}, "tributary: error: Connector nope not found (HTTP 404)\n"},
			{[]string{"pause", url, "nope"}, "tributary: error: Connector nope not found (HTTP 404)\n"},
			{[]string{"resume", url, "nope"}, "tributary: error: Connector nope not found (HTTP 404)\n"},
			{[]string{"restart", url, "nope"}, "tributary: error: Connector nope not found (HTTP 404)\n"},
			{[]string{"stop", url, "nope"}, "tributary: error: Connector nope not found (HTTP 404)\n"},
			{[]string{"config", url, "nope"}, "tributary: error: Connector nope not found (HTTP 404)\n"},
			{[]string{"offsets", url, "nope"}, "tributary: error: Connector nope not found (HTTP 404)\n"},
			{[]string{"delete", url, "nope"}, "tributary: error: Connector nope not found (HTTP 404)\n"},
			{[]string{"create", url, props}, "tributary: error: Connector cli-lines already exists (HTTP 409)\n"},
		} {
			t.Run(c.args[0], func(t *testing.T) {
				r := cli(t, c.args...)
				if r.code != 1 || r.stderr != c.want || r.stdout != "" {
					t.Errorf("tributary connect %s: %s\nwant exit 1 and stderr %q", strings.Join(c.args, " "), r, c.want)
				}
			})
		}
		r := cli(t, "create", url, "-name", "bad", "-c", "connector.class=FileStreamSource")
		if r.code != 1 || !strings.Contains(r.stderr, "tributary: error: Connector configuration is invalid") ||
			!strings.Contains(r.stderr, `Missing required configuration "topic" which has no default value.`) ||
			!strings.HasSuffix(r.stderr, "(HTTP 400)\n") {
			t.Errorf("create without topic: %s", r)
		}
		r = cli(t, "list", "-url=http://"+testserver.FreeAddr(t))
		if r.code != 1 || !strings.Contains(r.stderr, "cannot reach the Connect REST API at http://") {
			t.Errorf("list against nothing: %s", r)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		for _, c := range []struct {
			name string
			args []string
			want string
		}{
			{"no command", nil, "tributary: connect: missing command"},
			{"unknown command", []string{"frobnicate", url}, `tributary: connect: unknown command "frobnicate"`},
			{"status without a name", []string{"status", url}, "tributary: connect status: expected one connector name, got 0 arguments"},
			{"status with two names", []string{"status", url, "a", "b"}, "tributary: connect status: expected one connector name, got 2 arguments"},
			{"list with a name", []string{"list", url, "cli-lines"}, `tributary: connect list: unexpected argument "cli-lines"`},
			{"unknown flag", []string{"status", url, "-bogus", "cli-lines"}, "flag provided but not defined: -bogus"},
			{"bad url", []string{"list", "-url", "ftp://example.com"}, `tributary: connect list: -url: "ftp://example.com" is not an http:// or https:// URL`},
			{"task and include-tasks", []string{"restart", url, "cli-lines", "-task", "0", "-include-tasks"}, "tributary: connect restart: -task restarts one task"},
			{"create without a name", []string{"create", url, "-c", "connector.class=FileStreamSource"}, "tributary: connect create: no connector name"},
			{"create with two files", []string{"create", url, props, props}, "tributary: connect create: expected at most one file, got 2 arguments"},
			{"bad initial state", []string{"create", url, props, "-name", "other", "-initial-state", "sleeping"}, `initial state "sleeping" is not RUNNING, PAUSED or STOPPED`},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := cli(t, c.args...)
				if r.code != 2 || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
					t.Errorf("tributary connect %s: %s\nwant exit 2 and stderr containing %q", strings.Join(c.args, " "), r, c.want)
				}
			})
		}
		// Nothing was created by the invocations that failed.
		checkTable(t, "list", ok(t, "list", url), listHeader, []string{"cli-lines", "source", "RUNNING", "1/1", worker})
	})
	t.Run("stop and delete", func(t *testing.T) {
		if got := ok(t, "stop", url, "cli-lines"); got != "Stopped connector cli-lines\n" {
			t.Fatalf("stop = %q", got)
		}
		waitState(t, "STOPPED")
		out := ok(t, "status", url, "cli-lines")
		conn, tasks, _ := strings.Cut(out, "\n\n")
		checkTable(t, "stopped status", conn, listHeader, []string{"cli-lines", "source", "STOPPED", "0/0", worker})
		if tasks != "No tasks.\n" {
			t.Errorf("stopped status tasks = %q", tasks)
		}
		checkTable(t, "stopped list", ok(t, "list", url), listHeader, []string{"cli-lines", "source", "STOPPED", "0/0", worker})

		if got := ok(t, "delete", url, "cli-lines"); got != "Deleted connector cli-lines\n" {
			t.Fatalf("delete = %q", got)
		}
		if code, _, body := (api{t: t, base: srv.ConnectURL}).do("GET", "/connectors/cli-lines", nil); code != 404 {
			t.Fatalf("after delete: GET = %d %v", code, body)
		}
		if got := ok(t, "list", url); got != "No connectors.\n" {
			t.Fatalf("list after delete = %q", got)
		}
		r := cli(t, "status", url, "cli-lines")
		if r.code != 1 || r.stderr != "tributary: error: Connector cli-lines not found (HTTP 404)\n" {
			t.Errorf("status after delete: %s", r)
		}
	})
	// Help is not an error.
	if r := cli(t, "-h"); r.code != 0 || !strings.Contains(r.stdout, "Usage: tributary connect <command>") {
		t.Errorf("connect -h: %s", r)
	}
}
