package cdc

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testmariadb"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// getJSON reads a REST resource.
func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("GET %s: %s", url, b)
	}
	return out
}

func put(t *testing.T, url string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// failure waits for the connector's task to fail and returns its trace.
func failure(t *testing.T, srv *testserver.Proc, name string) string {
	t.Helper()
	var trace string
	testserver.WaitUntil(t, name+" to fail", time.Minute, func() bool {
		st := getJSON(t, srv.ConnectURL+"/connectors/"+name+"/status")
		tasks, _ := st["tasks"].([]any)
		if len(tasks) == 0 {
			return false
		}
		task := tasks[0].(map[string]any)
		trace, _ = task["trace"].(string)
		return task["state"] == "FAILED"
	})
	return trace
}

// TestClearErrors: each setup problem fails the connector's task with a
// message that names the problem and its fix.
func TestClearErrors(t *testing.T) {
	cases := []struct {
		name  string
		opts  []testmariadb.Option
		setup []string
		user  string // "" for root
		want  []string
	}{
		{"statement binlog", []testmariadb.Option{testmariadb.WithBinlogFormat("STATEMENT")}, nil, "",
			[]string{"binlog_format", "ROW"}},
		{"minimal row image", []testmariadb.Option{testmariadb.WithRowImage("MINIMAL")}, nil, "",
			[]string{"binlog_row_image", "FULL"}},
		{"no binlog", []testmariadb.Option{testmariadb.WithoutBinlog()}, nil, "",
			[]string{"log_bin"}},
		{"missing privilege", nil, []string{
			"CREATE USER 'weak'@'%' IDENTIFIED BY 'weak'",
			"GRANT SELECT ON *.* TO 'weak'@'%'",
		}, "weak", []string{"REPLICATION", "GRANT"}},
	}
	srv := inproc.Start(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := testmariadb.Start(t, tc.opts...)
			db.Exec(t, append([]string{"CREATE DATABASE app"}, tc.setup...)...)
			cfg := debeziumConfig(db, fmt.Sprintf("err%d", i), "app", 7200+i)
			if tc.user != "" {
				cfg["database.user"], cfg["database.password"] = tc.user, tc.user
			}
			name := fmt.Sprintf("err%d", i)
			post(t, srv.ConnectURL, name, cfg)
			trace := failure(t, srv, name)
			for _, w := range tc.want {
				if !strings.Contains(trace, w) {
					t.Errorf("trace lacks %q:\n%s", w, trace)
				}
			}
		})
	}
}

// TestPurgedPosition: a stored position the server has purged fails the
// task with what to do, and leaves the stored offset as it was.
func TestPurgedPosition(t *testing.T) {
	// Durable commits: MariaDB keeps a binary log until InnoDB has made
	// its transactions durable, which would delay the purge.
	db := testmariadb.Start(t, testmariadb.WithArgs("--innodb-flush-log-at-trx-commit=1"))
	db.Exec(t, "CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY, v INT)", "INSERT INTO app.t VALUES (1, 1)")
	worker := t.TempDir() + "/worker.properties"
	if err := writeText(worker, "offset.flush.interval.ms=200\n"); err != nil {
		t.Fatal(err)
	}
	srv := inproc.Start(t, "-connect-worker-config", worker)
	post(t, srv.ConnectURL, "purge", debeziumConfig(db, "purge", "app", 7300))
	c := srv.Client()
	testserver.WaitUntil(t, "the snapshot", time.Minute, func() bool { return len(testserver.ReadStream(t, c, "purge.app.t")) >= 1 })
	db.Exec(t, "UPDATE app.t SET v = 2")
	testserver.WaitUntil(t, "the update", time.Minute, func() bool { return len(testserver.ReadStream(t, c, "purge.app.t")) >= 2 })
	put(t, srv.ConnectURL+"/connectors/purge/stop")
	before := getJSON(t, srv.ConnectURL+"/connectors/purge/offsets")
	if offs, _ := before["offsets"].([]any); len(offs) != 1 {
		t.Fatalf("offsets before = %v", before)
	}
	// Move the log on and purge everything the stored position needs.
	db.Exec(t, "UPDATE app.t SET v = 3", "FLUSH BINARY LOGS", "UPDATE app.t SET v = 4", "FLUSH BINARY LOGS")
	file := db.QueryString(t, "SHOW MASTER STATUS")
	testserver.WaitUntil(t, "the purge", 30*time.Second, func() bool {
		db.Exec(t, "PURGE BINARY LOGS TO '"+file+"'")
		return db.QueryString(t, "SHOW BINARY LOGS") == file
	})
	put(t, srv.ConnectURL+"/connectors/purge/resume")
	trace := failure(t, srv, "purge")
	for _, w := range []string{"cannot resume from the stored position", "oldest binary log", "snapshot.mode=when_needed", "reset the connector's offsets"} {
		if !strings.Contains(trace, w) {
			t.Errorf("trace lacks %q:\n%s", w, trace)
		}
	}
	after := getJSON(t, srv.ConnectURL+"/connectors/purge/offsets")
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("the stored offset changed:\nbefore %v\nafter  %v", before, after)
	}
}

func writeText(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
