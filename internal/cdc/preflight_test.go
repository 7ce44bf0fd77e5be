package cdc

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testmariadb"
)

// wantError checks an *Error's kind and that its text names what to fix.
func wantError(t *testing.T, err error, kind ErrorKind, mentions ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != kind {
		t.Fatalf("error %v, want kind %s", err, kind)
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

// TestServerSettingErrors starts servers a reader cannot use.
func TestServerSettingErrors(t *testing.T) {
	cases := []struct {
		name     string
		opts     []testmariadb.Option
		kind     ErrorKind
		mentions []string
	}{
		{"no binlog", []testmariadb.Option{testmariadb.WithoutBinlog()}, KindBinlogDisabled, []string{"log_bin", "binlog_format=ROW"}},
		{"statement format", []testmariadb.Option{testmariadb.WithBinlogFormat("STATEMENT")}, KindBinlogFormat, []string{"binlog_format is STATEMENT", "SET GLOBAL binlog_format='ROW'"}},
		{"mixed format", []testmariadb.Option{testmariadb.WithBinlogFormat("MIXED")}, KindBinlogFormat, []string{"binlog_format is MIXED"}},
		{"minimal image", []testmariadb.Option{testmariadb.WithRowImage("MINIMAL")}, KindRowImage, []string{"binlog_row_image is MINIMAL", "binlog_row_image=FULL"}},
		{"noblob image", []testmariadb.Option{testmariadb.WithRowImage("NOBLOB")}, KindRowImage, []string{"binlog_row_image is NOBLOB"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := testmariadb.Start(t, c.opts...)
			srv.Exec(t, "CREATE DATABASE d", "CREATE TABLE d.t (id INT PRIMARY KEY)")
			for _, mode := range []SnapshotMode{SnapshotInitial, SnapshotNever} {
				cfg := testConfig(srv, "d")
				cfg.Snapshot = mode
				rec := &recorder{}
				err := runWith(t, cfg, nil, rec)
				wantError(t, err, c.kind, c.mentions...)
				if n := len(rec.snapshot()); n != 0 {
					t.Fatalf("%d handler calls before the error", n)
				}
			}
		})
	}
}

// TestPrivilegeErrors runs as accounts that lack one privilege each.
func TestPrivilegeErrors(t *testing.T) {
	db := newDB(t, shared)
	shared.Exec(t, "CREATE TABLE "+quoteTable(db, "t")+" (id INT PRIMARY KEY)")
	cases := []struct {
		user     string
		grants   []string
		kind     ErrorKind
		mentions []string
	}{
		{"no_repl", []string{"BINLOG MONITOR ON *.*", "SELECT ON *.*"}, KindPrivilege,
			[]string{"REPLICATION SLAVE to read the binary log", "GRANT REPLICATION SLAVE ON *.* TO 'no_repl'@'%'"}},
		{"no_monitor", []string{"REPLICATION SLAVE ON *.*", "SELECT ON *.*"}, KindPrivilege,
			[]string{"BINLOG MONITOR", "GRANT BINLOG MONITOR ON *.* TO 'no_monitor'@'%'"}},
		{"no_select", []string{"REPLICATION SLAVE, BINLOG MONITOR ON *.*"}, KindPrivilege,
			[]string{"SELECT to read the tables", "GRANT SELECT ON *.*"}},
		{"insert_only", []string{"REPLICATION SLAVE, BINLOG MONITOR ON *.*", "INSERT ON `" + db + "`.*", "SELECT ON `elsewhere`.*"}, KindPrivilege,
			[]string{"lacks SELECT on " + db + ".t", "GRANT SELECT ON <db>.* TO 'insert_only'@'%'"}},
		{"nothing", nil, KindPrivilege, []string{"REPLICATION SLAVE", "BINLOG MONITOR", "SELECT"}},
	}
	for _, c := range cases {
		t.Run(c.user, func(t *testing.T) {
			shared.Exec(t, fmt.Sprintf("CREATE OR REPLACE USER '%s'@'%%' IDENTIFIED BY 'pw'", c.user))
			for _, g := range c.grants {
				shared.Exec(t, fmt.Sprintf("GRANT %s TO '%s'@'%%'", g, c.user))
			}
			cfg := testConfig(shared, db)
			cfg.User, cfg.Password = c.user, "pw"
			cfg.Snapshot = SnapshotInitial
			rec := &recorder{}
			wantError(t, runWith(t, cfg, nil, rec), c.kind, c.mentions...)
			if n := len(rec.snapshot()); n != 0 {
				t.Fatalf("%d handler calls before the error", n)
			}
		})
	}
	t.Run("enough", func(t *testing.T) {
		shared.Exec(t, "CREATE OR REPLACE USER 'cdc'@'%' IDENTIFIED BY 'pw'",
			"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cdc'@'%'",
			"GRANT SELECT ON `"+db+"`.* TO 'cdc'@'%'")
		shared.Exec(t, "INSERT INTO "+quoteTable(db, "t")+" VALUES (1)")
		cfg := testConfig(shared, db)
		cfg.User, cfg.Password = "cdc", "pw"
		cfg.Snapshot = SnapshotInitial
		var once bool
		evs := runUntil(t, cfg, nil, func(evs []event) bool {
			if evs[len(evs)-1].kind == "boundary" && !once {
				once = true
				shared.Exec(t, "INSERT INTO "+quoteTable(db, "t")+" VALUES (2)")
			}
			return countChanges(evs) == 2 && evs[len(evs)-1].kind == "boundary"
		})
		if got := short(changes(evs)); !reflect.DeepEqual(got, []string{"r t [1]", "c t [2]"}) {
			t.Fatalf("changes %q", got)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		cfg := testConfig(shared, db)
		cfg.Password = "wrong"
		wantError(t, runWith(t, cfg, nil, &recorder{}), KindPrivilege, "refused user", "password")
	})
}

// TestConfigErrors checks the configuration's validation.
func TestConfigErrors(t *testing.T) {
	maxwellKeys := Keys{Host: "host", Port: "port", ServerID: "replica_server_id"}
	cases := []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"no host", func(c *Config) { c.Host = "" }, []string{"no database.hostname configured", "set database.hostname"}},
		{"server id 0", func(c *Config) { c.ServerID = 0 }, []string{"database.server.id=0", "set database.server.id"}},
		{"bad mode", func(c *Config) { c.Snapshot = "sometimes" }, []string{"unknown snapshot.mode=sometimes"}},
		{"bad port", func(c *Config) { c.Port = 70000 }, []string{"database.port=70000 is out of range"}},
		{"maxwell: no host", func(c *Config) { c.Host, c.Keys = "", maxwellKeys }, []string{"no host configured", "set host"}},
		{"maxwell: server id 0", func(c *Config) { c.ServerID, c.Keys = 0, maxwellKeys }, []string{"replica_server_id=0"}},
		{"maxwell: bad port", func(c *Config) { c.Port, c.Keys = 70000, maxwellKeys }, []string{"port=70000 is out of range"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(shared)
			c.change(&cfg)
			err := runWith(t, cfg, nil, &recorder{})
			wantError(t, err, KindConfig, c.want...)
			// Errors name configuration keys, never Go fields.
			for _, field := range []string{"Host", "ServerID", "Port", "Snapshot", "AllowKeyless"} {
				if strings.Contains(err.Error(), field) {
					t.Errorf("error %q names the Go field %s", err, field)
				}
			}
		})
	}
	if err := Run(t.Context(), testConfig(shared), nil, nil); !IsKind(err, KindConfig) {
		t.Fatalf("nil handler: %v", err)
	}
}

// TestKeylessTables: a captured table without a primary key is captured
// like any other, in the snapshot and while streaming (also when it was
// created after the reader started), with an empty key.
func TestKeylessTables(t *testing.T) {
	db := newDB(t, shared)
	keyless := quoteTable(db, "keyless")
	shared.Exec(t, "CREATE TABLE "+keyless+" (a INT, b VARCHAR(5))", "INSERT INTO "+keyless+" VALUES (1, 'x')")
	cfg := testConfig(shared, db)
	cfg.Snapshot = SnapshotInitial
	evs := runUntil(t, cfg, nil, func(evs []event) bool { return evs[len(evs)-1].kind == "boundary" })
	cs := changes(evs)
	if len(cs) != 1 || len(cs[0].Table.PrimaryKey) != 0 || describe(cs[0]) != "r "+db+".keyless [1 x]" {
		t.Fatalf("snapshot of a keyless table: %s", dump(evs))
	}

	// A keyless table that appears while streaming, and is gone before
	// the reader gets there, is read with the schema its rows carry.
	db2 := newDB(t, shared)
	shared.Exec(t, "CREATE TABLE "+quoteTable(db2, "k")+" (id INT PRIMARY KEY)")
	from := currentPos(t, shared)
	shared.Exec(t,
		"INSERT INTO "+quoteTable(db2, "k")+" VALUES (1)",
		"CREATE TABLE "+quoteTable(db2, "nokey")+" (a INT)",
		"INSERT INTO "+quoteTable(db2, "nokey")+" VALUES (1), (1)",
		"UPDATE "+quoteTable(db2, "nokey")+" SET a = 2 LIMIT 1",
		"DELETE FROM "+quoteTable(db2, "nokey")+" WHERE a = 1",
		"DROP TABLE "+quoteTable(db2, "nokey"))
	evs = runUntil(t, testConfig(shared, db2), &from, func(evs []event) bool {
		return len(evs) > 0 && evs[len(evs)-1].kind == "boundary" && len(changes(evs)) == 5
	})
	var got []string
	for _, c := range changes(evs) {
		got = append(got, describe(c))
		if c.Table.Name == "nokey" && len(c.Table.PrimaryKey) != 0 {
			t.Errorf("keyless table with key %v", c.Table.PrimaryKey)
		}
	}
	want := []string{"c " + db2 + ".k [1]", "c " + db2 + ".nokey [1]", "c " + db2 + ".nokey [1]",
		"u " + db2 + ".nokey [1] [2]", "d " + db2 + ".nokey [1]"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("changes:\n%s\nwant:\n%s\ncalls:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), dump(evs))
	}
}

// TestPurgedPosition resumes from positions whose binary logs are gone:
// a clear error (and no handler call) in the default mode, a new
// snapshot with when_needed.
func TestPurgedPosition(t *testing.T) {
	// Durable commits: MariaDB keeps a binary log until InnoDB has made
	// its transactions durable, which would delay the purge.
	srv := testmariadb.Start(t, testmariadb.WithArgs("--innodb-flush-log-at-trx-commit=1"))
	srv.Exec(t, "CREATE DATABASE d", "CREATE TABLE d.t (id INT PRIMARY KEY)", "INSERT INTO d.t VALUES (1)")
	old := currentPos(t, srv)
	srv.Exec(t, "INSERT INTO d.t VALUES (2)", "FLUSH BINARY LOGS", "INSERT INTO d.t VALUES (3)", "FLUSH BINARY LOGS")
	kept := currentPos(t, srv)
	purge(t, srv, kept.File)
	srv.Exec(t, "INSERT INTO d.t VALUES (4)")

	fileOnly, gtidOnly := old, old
	fileOnly.GTIDSet = ""
	gtidOnly.File, gtidOnly.Pos = "", 0
	ahead := kept
	ahead.GTIDSet = "0-1-999999"
	cases := []struct {
		name string
		pos  Position
		why  string
	}{
		{"gtid", old, "oldest binary log"},
		{"gtid only", gtidOnly, "oldest binary log"},
		{"file", fileOnly, "was purged"},
		{"unknown gtid", ahead, "has not reached GTID 0-1-999999"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{}
			cfg := testConfig(srv, "d")
			cfg.Snapshot = SnapshotInitial
			err := runWith(t, cfg, &c.pos, rec)
			wantError(t, err, KindPositionPurged, c.why, "snapshot.mode=when_needed", "reset the connector's offsets")
			if len(rec.snapshot()) != 0 {
				t.Fatalf("calls before the error:\n%s", dump(rec.snapshot()))
			}
		})
	}
	t.Run("when_needed", func(t *testing.T) {
		cfg := testConfig(srv, "d")
		cfg.Snapshot = SnapshotWhenNeeded
		evs := runUntil(t, cfg, &old, func(evs []event) bool { return evs[len(evs)-1].kind == "boundary" })
		if got := short(changes(evs)); !reflect.DeepEqual(got, []string{"r t [1]", "r t [2]", "r t [3]", "r t [4]"}) {
			t.Fatalf("reads %q", got)
		}
	})
	t.Run("when_needed unknown gtid", func(t *testing.T) {
		cfg := testConfig(srv, "d")
		cfg.Snapshot = SnapshotWhenNeeded
		evs := runUntil(t, cfg, &ahead, func(evs []event) bool { return evs[len(evs)-1].kind == "boundary" })
		if n := countChanges(evs); n != 4 {
			t.Fatalf("%d snapshot reads, want 4", n)
		}
	})
	t.Run("kept", func(t *testing.T) {
		evs := runUntil(t, testConfig(srv, "d"), &kept, changesThenBoundary(1))
		if got := short(changes(evs)); !reflect.DeepEqual(got, []string{"c t [4]"}) {
			t.Fatalf("changes %q", got)
		}
	})
}

// purge purges the binary logs before file, waiting for the server's
// binlog checkpoint to let it.
func purge(t *testing.T, srv *testmariadb.Server, file string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		srv.Exec(t, "PURGE BINARY LOGS TO '"+file+"'")
		if first := srv.QueryString(t, "SHOW BINARY LOGS"); first == file {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not purge the logs before %s", file)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestParseGrants(t *testing.T) {
	g := parseGrants([]string{
		"GRANT REPLICATION SLAVE, REPLICATION SLAVE ADMIN, BINLOG MONITOR ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*X'",
		"GRANT SELECT, INSERT ON `shop`.* TO `u`@`%`",
		"GRANT SELECT ON `a\\_b`.* TO `u`@`%`",
		"GRANT SELECT ON `other`.`t1` TO `u`@`%`",
		"GRANT SELECT (`c1`, `c2`), UPDATE ON `other`.`t2` TO `u`@`%`",
		"GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `u`@`%`",
		"GRANT PROXY ON ''@'%' TO 'u'@'%' WITH GRANT OPTION",
	})
	checks := []struct {
		what string
		got  bool
		want bool
	}{
		{"REPLICATION SLAVE", g.hasGlobal("REPLICATION SLAVE"), true},
		{"REPLICATION CLIENT or BINLOG MONITOR", g.hasGlobal("REPLICATION CLIENT", "BINLOG MONITOR"), true},
		{"RELOAD", g.hasGlobal("RELOAD"), false},
		{"SELECT shop.x", g.has("SELECT", "shop", "x"), true},
		{"SELECT a_b.x", g.has("SELECT", "a_b", "x"), true},
		{"SELECT axb.x (escaped wildcard)", g.has("SELECT", "axb", "x"), false},
		{"SELECT other.t1", g.has("SELECT", "other", "t1"), true},
		{"SELECT other.t2 (columns only)", g.has("SELECT", "other", "t2"), false},
		{"SELECT nowhere.t", g.has("SELECT", "nowhere", "t"), false},
		{"roles", g.roles, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	all := parseGrants([]string{"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"})
	if !all.hasGlobal("REPLICATION SLAVE") || !all.has("SELECT", "x", "y") {
		t.Error("ALL PRIVILEGES does not cover everything")
	}
	roles := parseGrants([]string{"GRANT `reader` TO `u`@`%`"})
	if !roles.roles {
		t.Error("role grant not seen")
	}
}

func TestMariaBehind(t *testing.T) {
	cases := []struct {
		pos, start string
		behind     string
	}{
		{"0-1-10", "", ""},
		{"0-1-10", "0-1-10", ""},
		{"0-1-10", "0-1-11", "0-1-11"},
		{"0-1-10,1-2-5", "0-1-3,1-2-6", "1-2-6"},
		{"0-1-10", "0-1-3,2-1-1", "2-1-1"},
		{"", "0-1-1", "0-1-1"},
	}
	for _, c := range cases {
		got, err := mariaBehind(c.pos, c.start)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != c.behind {
			t.Errorf("mariaBehind(%q, %q) = %v, want %q", c.pos, c.start, got, c.behind)
		}
	}
}
