package cdc

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/tributary-data/tributary/internal/testmariadb"
)

// ddlScript is a table's life: rows written between schema changes.
func ddlScript(db string) []string {
	t, t2 := quoteTable(db, "t"), quoteTable(db, "t2")
	return []string{
		"CREATE TABLE " + t + " (id INT PRIMARY KEY, v VARCHAR(10), n INT)",
		"INSERT INTO " + t + " VALUES (1, 'one', 1)",
		"ALTER TABLE " + t + " ADD COLUMN extra VARCHAR(5) DEFAULT 'x' AFTER id",
		"INSERT INTO " + t + " (id, v, n) VALUES (2, 'two', 2)",
		"ALTER TABLE " + t + " DROP COLUMN v",
		"INSERT INTO " + t + " VALUES (3, 'y', 3)",
		"ALTER TABLE " + t + " MODIFY COLUMN n BIGINT UNSIGNED NOT NULL",
		"INSERT INTO " + t + " VALUES (4, 'z', 18446744073709551615)",
		"UPDATE " + t + " SET n = 5 WHERE id = 1",
		"ALTER TABLE " + t + " CHANGE COLUMN extra label VARCHAR(20)",
		"RENAME TABLE " + t + " TO " + t2,
		"INSERT INTO " + t2 + " VALUES (6, 'w', 6)",
		"DROP TABLE " + t2,
	}
}

// ddlRows are the script's row changes: each with the columns of the
// schema it was written under.
var ddlRows = []struct {
	table, cols string
	before, aft Row
}{
	{"t", "id v n", nil, Row{int64(1), "one", int64(1)}},
	{"t", "id extra v n", nil, Row{int64(2), "x", "two", int64(2)}},
	{"t", "id extra n", nil, Row{int64(3), "y", int64(3)}},
	{"t", "id extra n", nil, Row{int64(4), "z", uint64(math.MaxUint64)}},
	{"t", "id extra n", Row{int64(1), "x", uint64(1)}, Row{int64(1), "x", uint64(5)}},
	{"t2", "id label n", nil, Row{int64(6), "w", uint64(6)}},
}

func columnNames(t *Table) string {
	if t == nil {
		return "<nil>"
	}
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return strings.Join(names, " ")
}

// checkDDLRows compares the row changes with ddlRows.
func checkDDLRows(t *testing.T, cs []*Change) {
	t.Helper()
	if len(cs) != len(ddlRows) {
		t.Fatalf("%d changes, want %d: %q", len(cs), len(ddlRows), short(cs))
	}
	for i, w := range ddlRows {
		c := cs[i]
		if c.Table.Name != w.table || columnNames(c.Table) != w.cols {
			t.Errorf("change %d: table %s columns %q, want %s %q", i, c.Table.Name, columnNames(c.Table), w.table, w.cols)
		}
		if !reflect.DeepEqual(c.Before, w.before) || !reflect.DeepEqual(c.After, w.aft) {
			t.Errorf("change %d: %s, want before %s after %s", i, describe(c), rowText(w.before), rowText(w.aft))
		}
		if c.Table.Columns[c.Table.Column("n")].DataType == "bigint" && !c.Table.Columns[c.Table.Column("n")].Unsigned {
			t.Errorf("change %d: n is signed", i)
		}
	}
}

// TestDDLBeforeRead runs the whole script, then reads it from the log:
// every row decodes with the schema it was written under although the
// server's current schema (the table is gone) is another.
func TestDDLBeforeRead(t *testing.T) {
	db := newDB(t, shared)
	from := currentPos(t, shared)
	shared.Exec(t, ddlScript(db)...)
	evs := runUntil(t, testConfig(shared, db), &from, func(evs []event) bool {
		e := evs[len(evs)-1]
		return e.kind == "schema" && e.schema.Kind == "DROP"
	})
	checkDDLRows(t, changes(evs))
	var kinds []string
	for _, e := range evs {
		if e.kind == "schema" {
			kinds = append(kinds, e.schema.Kind)
		}
	}
	want := "CREATE ALTER ALTER ALTER ALTER ALTER DROP"
	if strings.Join(kinds, " ") != want {
		t.Fatalf("schema changes %q, want %q", strings.Join(kinds, " "), want)
	}
}

// TestDDLLive applies the script one statement per Boundary while the
// reader follows: each SchemaChange carries the definitions right after
// its statement (and before it), and row changes share them.
func TestDDLLive(t *testing.T) {
	db := newDB(t, shared)
	script := ddlScript(db)
	from := currentPos(t, shared)
	shared.Exec(t, script[0])
	next := 1
	var execErr error
	rec := &recorder{until: func(evs []event) bool {
		e := evs[len(evs)-1]
		if e.kind == "boundary" && next < len(script) {
			c, err := shared.Connect(t.Context())
			if err != nil {
				execErr = err
				return true
			}
			_, execErr = c.Execute(script[next])
			c.Close()
			next++
			return execErr != nil
		}
		return e.kind == "boundary" && next == len(script)
	}}
	if err := runWith(t, testConfig(shared, db), &from, rec); !errors.Is(err, errStop) || execErr != nil {
		t.Fatalf("Run: %v, exec: %v\n%s", err, execErr, dump(rec.snapshot()))
	}
	evs := rec.snapshot()
	checkDDLRows(t, changes(evs))
	type schemaWant struct{ kind, tables, before string }
	wants := []schemaWant{
		{"CREATE", "t: id v n", "<nil>"},
		{"ALTER", "t: id extra v n", "id v n"},
		{"ALTER", "t: id extra n", "id extra v n"},
		{"ALTER", "t: id extra n", "id extra n"},
		{"ALTER", "t: id label n", "id extra n"},
		{"ALTER", "t2: id label n", "id label n"},
		{"DROP", "t2: id label n", "id label n"},
	}
	var got []schemaWant
	var current *Table
	for _, e := range evs {
		switch e.kind {
		case "schema":
			sc := e.schema
			if len(sc.Tables) != 1 || len(sc.Before) != 1 {
				t.Fatalf("schema change %s has %d tables, %d before", e, len(sc.Tables), len(sc.Before))
			}
			got = append(got, schemaWant{sc.Kind, sc.Tables[0].Name + ": " + columnNames(sc.Tables[0]), columnNames(sc.Before[0])})
			current = sc.Tables[0]
			if sc.DB != "" && sc.DB != db {
				t.Errorf("schema change DB %q", sc.DB)
			}
		case "change":
			if e.change.Table != current {
				t.Errorf("%s: its table is not the definition of the last schema change", describe(e.change))
			}
		}
	}
	if !reflect.DeepEqual(got, wants) {
		t.Fatalf("schema changes:\n got %v\nwant %v", got, wants)
	}
	// Types follow the statements: n became BIGINT UNSIGNED NOT NULL.
	n := current.Columns[current.Column("n")]
	if n.DataType != "bigint" || !n.Unsigned || n.Nullable {
		t.Errorf("column n after MODIFY: %+v", n)
	}
	// CHANGE COLUMN without DEFAULT leaves the default NULL.
	if l := current.Columns[current.Column("label")]; l.Length != 20 || l.Default == nil || *l.Default != "NULL" {
		t.Errorf("column label after CHANGE: %+v", l)
	}
}

// TestMinimalMetadata reads a server that logs no column names
// (binlog_row_metadata=MINIMAL): rows decode with the definitions
// tracked from DDL while the reader keeps up, and a row that no known
// definition fits is an error, not a guess.
func TestMinimalMetadata(t *testing.T) {
	srv := testmariadb.Start(t, testmariadb.WithRowMetadata("MINIMAL"))
	srv.Exec(t, "CREATE DATABASE d", "CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(10), e ENUM('a','b'), u INT UNSIGNED)")
	from := currentPos(t, srv)
	srv.Exec(t, "INSERT INTO d.t VALUES (1, 'one', 'b', 4294967295)")
	evs := runUntil(t, testConfig(srv, "d"), &from, changesThenBoundary(1))
	c := changes(evs)[0]
	if want := (Row{int64(1), "one", "b", int64(4294967295)}); !reflect.DeepEqual(c.After, want) || columnNames(c.Table) != "id v e u" {
		t.Fatalf("change %s (%s), want %s", describe(c), columnNames(c.Table), rowText(want))
	}

	// A row from before a column was added, read after: the tracked
	// definition has one column more.
	from = currentPos(t, srv)
	srv.Exec(t, "INSERT INTO d.t VALUES (2, 'two', 'a', 2)", "ALTER TABLE d.t ADD COLUMN w INT")
	rec := &recorder{}
	err := runWith(t, testConfig(srv, "d"), &from, rec)
	if !IsKind(err, KindSchema) || !strings.Contains(err.Error(), "binlog_row_metadata=FULL") {
		t.Fatalf("Run: %v, want a schema error naming binlog_row_metadata\n%s", err, dump(rec.snapshot()))
	}
	if len(rec.snapshot()) != 0 {
		t.Fatalf("calls before the error:\n%s", dump(rec.snapshot()))
	}
}

func TestParseStatement(t *testing.T) {
	k := func(db, name string) tableKey { return tableKey{db, name} }
	cases := []struct {
		q    string
		want statement
	}{
		{"CREATE TABLE t (id INT)", statement{kind: "CREATE", schema: true, tables: []tableKey{k("d", "t")}}},
		{"create table if not exists `x`.`we``ird` like y", statement{kind: "CREATE", schema: true, ifNotExists: true, tables: []tableKey{k("x", "we`ird")}}},
		{"CREATE OR REPLACE TABLE t2 SELECT 1", statement{kind: "CREATE", schema: true, tables: []tableKey{k("d", "t2")}}},
		{"/* c */ CREATE TABLE /*!32312 IF NOT EXISTS*/ `a`.`b` (x int)", statement{kind: "CREATE", schema: true, ifNotExists: true, tables: []tableKey{k("a", "b")}}},
		{"CREATE TEMPORARY TABLE tmp (x int)", statement{kind: "CREATE", schema: true, temporary: true, tables: []tableKey{k("d", "tmp")}}},
		{"CREATE DATABASE IF NOT EXISTS shop", statement{kind: "CREATE", schema: true, database: true, db: "shop", ifNotExists: true}},
		{"CREATE DATABASE d COMMENT 'charset latin1' DEFAULT COLLATE = utf8mb4_bin", statement{kind: "CREATE", schema: true, database: true, db: "d", collation: "utf8mb4_bin"}},
		{"ALTER SCHEMA `d` DEFAULT CHARACTER SET = 'Latin1' COLLATE latin1_bin", statement{kind: "ALTER", schema: true, database: true, db: "d", charset: "latin1", collation: "latin1_bin"}},
		{`CREATE DATABASE d COMMENT 'it''s \' charset x' CHARSET latin1`, statement{kind: "CREATE", schema: true, database: true, db: "d", charset: "latin1"}},
		{"DROP SCHEMA `shop`", statement{kind: "DROP", schema: true, database: true, db: "shop"}},
		{"ALTER DATABASE CHARACTER SET utf8mb4", statement{kind: "ALTER", schema: true, database: true, db: "d", charset: "utf8mb4"}},
		{"ALTER TABLE t ADD COLUMN x INT, RENAME COLUMN a TO b", statement{kind: "ALTER", schema: true, tables: []tableKey{k("d", "t")}}},
		{"ALTER ONLINE IGNORE TABLE e.t RENAME TO e.u", statement{kind: "ALTER", schema: true, tables: []tableKey{k("e", "u")}, renamed: []tableKey{k("e", "t")}}},
		{"alter table t add index i (a), rename as `v`", statement{kind: "ALTER", schema: true, tables: []tableKey{k("d", "v")}, renamed: []tableKey{k("d", "t")}}},
		{"RENAME TABLE a TO b, x.c TO x.d", statement{kind: "ALTER", schema: true, tables: []tableKey{k("d", "b"), k("x", "d")}, renamed: []tableKey{k("d", "a"), k("x", "c")}}},
		{"DROP TABLE IF EXISTS `a`, b.c /* generated by server */", statement{kind: "DROP", schema: true, tables: []tableKey{k("d", "a"), k("b", "c")}}},
		{"DROP TEMPORARY TABLE IF EXISTS t", statement{kind: "DROP", schema: true, temporary: true, tables: []tableKey{k("d", "t")}}},
		{"TRUNCATE TABLE t", statement{kind: "TRUNCATE", schema: true, tables: []tableKey{k("d", "t")}}},
		{"truncate x.y", statement{kind: "TRUNCATE", schema: true, tables: []tableKey{k("x", "y")}}},
		{"CREATE UNIQUE INDEX i ON t (a)", statement{kind: "ALTER", schema: true, tables: []tableKey{k("d", "t")}}},
		{"DROP INDEX `PRIMARY` ON x.t", statement{kind: "ALTER", schema: true, tables: []tableKey{k("x", "t")}}},
		{"CREATE DEFINER=`root`@`localhost` VIEW v AS SELECT 1", statement{kind: "", schema: true}},
		{"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @x = 1", statement{kind: "", schema: true}},
		{"GRANT SELECT ON *.* TO u", statement{}},
		{"INSERT INTO t VALUES (1)", statement{dml: true}},
		{"# comment\nUPDATE t SET a = 1", statement{dml: true}},
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			if got := parseStatement(c.q, "d"); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}
