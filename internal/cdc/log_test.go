package cdc

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/syncbuf"
)

// go-mysql's records reach the engine's logger at the library's levels,
// without configuration dumps or secrets.
func TestLibraryLogger(t *testing.T) {
	type syncerConfig struct{ Host, User, Password string }
	cases := []struct {
		name  string
		level slog.Level
		msg   string
		attrs []any
		want  string // the line, time aside; "" for none at info
	}{
		{"progress is debug", slog.LevelInfo, "begin to sync binlog from position", []any{"position", "bin.000001:4"},
			`level=DEBUG msg="begin to sync binlog from position" component=go-mysql position=bin.000001:4`},
		{"config dump left out", slog.LevelInfo, "create BinlogSyncer", []any{"config", syncerConfig{"db", "u", "hunter2"}},
			`level=DEBUG msg="create BinlogSyncer" component=go-mysql`},
		{"password redacted", slog.LevelWarn, "retry sync is disabled", []any{"password", "hunter2", slog.Group("conn", "Password", "hunter2", "user", "u")},
			`level=INFO msg="retry sync is disabled" component=go-mysql password=[redacted] conn.Password=[redacted] conn.user=u`},
		{"errors are warnings", slog.LevelError, "kill connection", []any{"id", 7},
			`level=WARN msg="kill connection" component=go-mysql id=7`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			base := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug,
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				}}))
			libraryLogger(base).Log(context.Background(), c.level, c.msg, c.attrs...)
			if got := strings.TrimSpace(buf.String()); got != c.want {
				t.Errorf("logged\n%s\nwant\n%s", got, c.want)
			}
			if strings.Contains(buf.String(), "hunter2") {
				t.Error("a password was logged")
			}
		})
	}
	// At info, go-mysql's progress notes are not shown.
	var buf bytes.Buffer
	libraryLogger(slog.New(slog.NewTextHandler(&buf, nil))).Info("rotate to next binlog", "file", "bin.000002")
	if buf.Len() != 0 {
		t.Errorf("logged at info: %s", buf.String())
	}
}

// A started engine never logs its password, at any level, whether it
// logs in or is refused; go-mysql's own records go through its logger.
func TestNoPasswordInLogs(t *testing.T) {
	const password = "pw-Very-Secret-7361"
	db := newDB(t, shared)
	user := "logtest" + strings.TrimPrefix(db, "testnopasswordinlogs")
	shared.Exec(t,
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", user, password),
		fmt.Sprintf("GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '%s'@'%%'", user),
		"CREATE TABLE "+quoteTable(db, "t")+" (id INT PRIMARY KEY)")
	var buf syncbuf.Buffer
	cfg := testConfig(shared, db)
	cfg.User, cfg.Password = user, password
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.HeartbeatInterval = 50 * time.Millisecond
	from := currentPos(t, shared)
	shared.Exec(t, "INSERT INTO "+quoteTable(db, "t")+" VALUES (1)")
	runUntil(t, cfg, &from, func(evs []event) bool { return len(changes(evs)) == 1 })

	cfg.Password = password + "-wrong"
	err := runWith(t, cfg, &from, &recorder{})
	if err == nil || strings.Contains(err.Error(), password) {
		t.Errorf("refused login: %v", err)
	}
	log := buf.String()
	if strings.Contains(log, password) {
		t.Fatalf("the password is in the log:\n%s", log)
	}
	if !strings.Contains(log, "component=go-mysql") {
		t.Errorf("no go-mysql records in the engine's log:\n%s", log)
	}
}
