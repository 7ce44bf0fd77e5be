package maxwell

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/tributary-data/tributary/internal/cdc"
)

// testE is the table of Maxwell's dataformat.md example.
func testE(withTorvalds bool) *cdc.Table {
	cols := []cdc.Column{
		{Name: "id", DataType: "int", ColumnType: "int(10)"},
		{Name: "m", DataType: "double"},
	}
	if withTorvalds {
		cols = append(cols, cdc.Column{Name: "torvalds", DataType: "bigint", Unsigned: true})
	}
	cols = append(cols,
		cdc.Column{Name: "c", DataType: "timestamp", Length: 6},
		cdc.Column{Name: "comment", DataType: "varchar", Charset: "latin1"})
	return &cdc.Table{DB: "test", Name: "e", Columns: cols, PrimaryKey: []string{"id"}}
}

func ddlSource(pos uint32) cdc.Source {
	return cdc.Source{File: "master.000006", EventPos: pos, Time: seedTime}
}

const (
	defE      = `{"database":"test","charset":"utf8mb4","table":"e","columns":[{"type":"int","name":"id","signed":true},{"type":"double","name":"m"},{"type":"timestamp","name":"c","column-length":6},{"type":"varchar","name":"comment","charset":"latin1"}],"primary-key":["id"]}`
	defEAfter = `{"database":"test","charset":"utf8mb4","table":"e","columns":[{"type":"int","name":"id","signed":true},{"type":"double","name":"m"},{"type":"bigint","name":"torvalds","signed":false},{"type":"timestamp","name":"c","column-length":6},{"type":"varchar","name":"comment","charset":"latin1"}],"primary-key":["id"]}`
)

func TestDDLEvents(t *testing.T) {
	charsets := func(db, table string) string { return "utf8mb4" }
	s := newSchemaTracker(charsets)
	o := DefaultOutputConfig()
	o.BinlogPosition = true
	steps := []struct {
		sc   *cdc.SchemaChange
		want []string
	}{
		{&cdc.SchemaChange{DDL: "CREATE DATABASE test CHARACTER SET latin1", Database: true, Source: ddlSource(100)},
			[]string{`{"type":"database-create","database":"test","charset":"latin1","ts":1629108672000,"sql":"CREATE DATABASE test CHARACTER SET latin1","position":"master.000006:100"}`}},
		{&cdc.SchemaChange{DDL: "create database `other`", Database: true, Source: ddlSource(150)},
			[]string{`{"type":"database-create","database":"other","charset":"utf8mb4","ts":1629108672000,"sql":"create database ` + "`other`" + `","position":"master.000006:150"}`}},
		{&cdc.SchemaChange{DDL: "ALTER DATABASE test COLLATE utf8mb4_bin", Database: true, Source: ddlSource(200)},
			[]string{`{"type":"database-alter","database":"test","charset":"utf8mb4","ts":1629108672000,"sql":"ALTER DATABASE test COLLATE utf8mb4_bin","position":"master.000006:200"}`}},
		{&cdc.SchemaChange{DB: "test", Kind: "CREATE", DDL: "create table test.e ( ... )", Tables: []*cdc.Table{testE(false)}, Source: ddlSource(800050)},
			[]string{`{"type":"table-create","database":"test","table":"e","def":` + defE + `,"ts":1629108672000,"sql":"create table test.e ( ... )","position":"master.000006:800050"}`}},
		{&cdc.SchemaChange{DB: "test", Kind: "ALTER", DDL: "alter table test.e add column torvalds bigint unsigned after m", Tables: []*cdc.Table{testE(true)}, Source: ddlSource(804398)},
			[]string{`{"type":"table-alter","database":"test","table":"e","old":` + defE + `,"def":` + defEAfter + `,"ts":1629108672000,"sql":"alter table test.e add column torvalds bigint unsigned after m","position":"master.000006:804398"}`}},
		{&cdc.SchemaChange{DB: "test", Kind: "ALTER", DDL: "RENAME TABLE e TO f", Tables: []*cdc.Table{{DB: "test", Name: "f", Columns: []cdc.Column{{Name: "id", DataType: "int"}}}}, Source: ddlSource(900000)},
			[]string{`{"type":"table-alter","database":"test","table":"e","old":` + defEAfter + `,"def":{"database":"test","charset":"utf8mb4","table":"f","columns":[{"type":"int","name":"id","signed":true}],"primary-key":[]},"ts":1629108672000,"sql":"RENAME TABLE e TO f","position":"master.000006:900000"}`}},
		{&cdc.SchemaChange{DB: "test", Kind: "DROP", DDL: "drop table test.f, test.g", Tables: []*cdc.Table{{DB: "test", Name: "f"}, {DB: "test", Name: "g"}}, Source: ddlSource(900100)},
			[]string{
				`{"type":"table-drop","database":"test","table":"f","ts":1629108672000,"sql":"drop table test.f, test.g","position":"master.000006:900100"}`,
				`{"type":"table-drop","database":"test","table":"g","ts":1629108672000,"sql":"drop table test.f, test.g","position":"master.000006:900100"}`,
			}},
		{&cdc.SchemaChange{DDL: "DROP DATABASE IF EXISTS `test`", Database: true, Source: ddlSource(900200)},
			[]string{`{"type":"database-drop","database":"test","ts":1629108672000,"sql":"DROP DATABASE IF EXISTS ` + "`test`" + `","position":"master.000006:900200"}`}},
		{&cdc.SchemaChange{DB: "test", Kind: "TRUNCATE", DDL: "truncate table x", Tables: []*cdc.Table{{DB: "test", Name: "x"}}, Source: ddlSource(900300)}, nil},
		{&cdc.SchemaChange{DB: "test", Kind: "CREATE", DDL: "CREATE TABLE y (id int)", Tables: []*cdc.Table{{DB: "test", Name: "y"}},
			Source: cdc.Source{Snapshot: "true", Time: seedTime}}, nil},
	}
	for i, st := range steps {
		evs := s.events(st.sc)
		if len(evs) != len(st.want) {
			t.Fatalf("step %d (%s): %d events, want %d", i, st.sc.DDL, len(evs), len(st.want))
		}
		for j, e := range evs {
			got := string(ddlJSON(e, &o))
			if got != st.want[j] {
				t.Errorf("step %d (%s):\ngot  %s\nwant %s", i, st.sc.DDL, got, st.want[j])
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("invalid JSON %s", got)
			}
		}
	}
	if _, ok := s.tables[tableKey("test", "y")]; !ok {
		t.Error("a snapshot's CREATE TABLE was not tracked")
	}
}

func TestDDLOutputFlags(t *testing.T) {
	e := &ddlEvent{typ: "table-drop", database: "d", table: "t", tsMillis: 5, sql: "DROP TABLE t", position: "f:1", gtid: ""}
	for _, c := range []struct {
		set  func(*OutputConfig)
		want string
	}{
		{func(*OutputConfig) {}, `{"type":"table-drop","database":"d","table":"t","ts":5,"sql":"DROP TABLE t"}`},
		{func(o *OutputConfig) { o.GTIDPosition = true }, `{"type":"table-drop","database":"d","table":"t","ts":5,"sql":"DROP TABLE t","gtid":null}`},
		{func(o *OutputConfig) { o.BinlogPosition, o.CamelCase = true, true }, `{"type":"table-drop","database":"d","table":"t","ts":5,"sql":"DROP TABLE t","position":"f:1"}`},
	} {
		o := DefaultOutputConfig()
		c.set(&o)
		if got := string(ddlJSON(e, &o)); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
	alter := &ddlEvent{typ: "database-alter", database: "d", sql: "ALTER DATABASE d READ ONLY = 1"}
	o := DefaultOutputConfig()
	if got, want := string(ddlJSON(alter, &o)), `{"type":"database-alter","database":"d","charset":null,"ts":0,"sql":"ALTER DATABASE d READ ONLY = 1"}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestColumnJSON(t *testing.T) {
	for _, c := range []struct {
		col  cdc.Column
		want string
	}{
		{cdc.Column{Name: "a", DataType: "tinyint", Unsigned: true}, `{"type":"tinyint","name":"a","signed":false}`},
		{cdc.Column{Name: "a", DataType: "integer"}, `{"type":"int","name":"a","signed":true}`},
		{cdc.Column{Name: "a", DataType: "text", Charset: "utf8mb3"}, `{"type":"text","name":"a","charset":"utf8mb3"}`},
		{cdc.Column{Name: "a", DataType: "char"}, `{"type":"char","name":"a","charset":null}`},
		{cdc.Column{Name: "a", DataType: "varbinary"}, `{"type":"varbinary","name":"a","charset":"binary"}`},
		{cdc.Column{Name: "a", DataType: "longblob"}, `{"type":"longblob","name":"a","charset":"binary"}`},
		{cdc.Column{Name: "a", DataType: "enum", Values: []string{"x", "y'z"}}, `{"type":"enum","name":"a","enum-values":["x","y'z"]}`},
		{cdc.Column{Name: "a", DataType: "set", Values: []string{"p"}}, `{"type":"set","name":"a","enum-values":["p"]}`},
		{cdc.Column{Name: "a", DataType: "datetime"}, `{"type":"datetime","name":"a","column-length":0}`},
		{cdc.Column{Name: "a", DataType: "time", Length: 3}, `{"type":"time","name":"a","column-length":3}`},
		{cdc.Column{Name: "a", DataType: "decimal", Length: 6, Scale: 2}, `{"type":"decimal","name":"a"}`},
		{cdc.Column{Name: "a", DataType: "geomcollection"}, `{"type":"geometrycollection","name":"a"}`},
		{cdc.Column{Name: "a", DataType: "json"}, `{"type":"json","name":"a"}`},
		{cdc.Column{Name: "a", DataType: "bit", Length: 1}, `{"type":"bit","name":"a"}`},
		{cdc.Column{Name: "a", DataType: "year"}, `{"type":"year","name":"a"}`},
	} {
		if got := columnJSON(&c.col); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestDDLFilter(t *testing.T) {
	f, err := ParseFilter("exclude: *.*, include: test.e, include: test.f", "maxwell")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		e    ddlEvent
		want bool
	}{
		{ddlEvent{typ: "table-create", database: "test", table: "e"}, true},
		{ddlEvent{typ: "table-create", database: "test", table: "x"}, false},
		{ddlEvent{typ: "table-alter", database: "test", table: "e", def: &tableDef{name: "f"}}, true},
		{ddlEvent{typ: "table-alter", database: "test", table: "e", def: &tableDef{name: "x"}}, false},
		{ddlEvent{typ: "database-create", database: "test"}, false},
	} {
		if got := c.e.included(f); got != c.want {
			t.Errorf("%+v included = %v, want %v", c.e, got, c.want)
		}
	}
}

// TestDDLEventsFromEngineBefore uses the engine's own before-images:
// a rename reported as ALTER with the old table in Before, a CREATE TABLE
// IF NOT EXISTS of an existing table, and database statements named by
// SchemaChange.DB.
func TestDDLEventsFromEngineBefore(t *testing.T) {
	s := newSchemaTracker(nil)
	o := DefaultOutputConfig()
	old := &cdc.Table{DB: "shop", Name: "a", Columns: []cdc.Column{{Name: "id", DataType: "bigint", Unsigned: true}}, PrimaryKey: []string{"id"}}
	renamed := &cdc.Table{DB: "shop", Name: "b", Columns: old.Columns, PrimaryKey: old.PrimaryKey}
	evs := s.events(&cdc.SchemaChange{DB: "shop", Kind: "ALTER", DDL: "RENAME TABLE a TO b, x TO y", Tables: []*cdc.Table{renamed}, Before: []*cdc.Table{old}, Source: ddlSource(7)})
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	want := `{"type":"table-alter","database":"shop","table":"a","old":{"database":"shop","charset":null,"table":"a","columns":[{"type":"bigint","name":"id","signed":false}],"primary-key":["id"]},"def":{"database":"shop","charset":null,"table":"b","columns":[{"type":"bigint","name":"id","signed":false}],"primary-key":["id"]},"ts":1629108672000,"sql":"RENAME TABLE a TO b, x TO y"}`
	if got := string(ddlJSON(evs[0], &o)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if evs := s.events(&cdc.SchemaChange{DB: "shop", Kind: "CREATE", DDL: "CREATE TABLE IF NOT EXISTS b (id int)", Tables: []*cdc.Table{renamed}, Before: []*cdc.Table{renamed}, Source: ddlSource(8)}); len(evs) != 0 {
		t.Errorf("CREATE of an existing table: %d events", len(evs))
	}
	evs = s.events(&cdc.SchemaChange{DB: "new db", Kind: "CREATE", Database: true, DDL: "CREATE SCHEMA IF NOT EXISTS `new db` DEFAULT CHARSET=latin1", Source: ddlSource(9)})
	if len(evs) != 1 || evs[0].typ != "database-create" || evs[0].database != "new db" || *evs[0].charset != "latin1" {
		t.Errorf("database-create %+v", evs)
	}
	evs = s.events(&cdc.SchemaChange{DB: "shop", Kind: "DROP", Database: true, DDL: "DROP DATABASE shop", Tables: []*cdc.Table{renamed}, Source: ddlSource(10)})
	if len(evs) != 1 || evs[0].typ != "database-drop" || len(s.tables) != 0 {
		t.Errorf("database-drop %+v, tables left %v", evs, s.tables)
	}
}

// TestDDLStatements reads statements through the reader's DDL parser:
// those Maxwell's regular expressions read right, and (marked) those
// they read wrong: a database name or character set found in the wrong
// place, a rename or IF NOT EXISTS missed behind a comment, a newline
// or a quoted name. The SchemaChanges are the engine's, except where
// DB or Kind is left out to make the statement itself tell them.
func TestDDLStatements(t *testing.T) {
	known := &cdc.Table{DB: "s", Name: "a", Columns: []cdc.Column{{Name: "id", DataType: "int"}}}
	renamed := func(db, name string) []*cdc.Table {
		return []*cdc.Table{{DB: db, Name: name, Columns: known.Columns}}
	}
	for _, c := range []struct {
		name string
		sc   cdc.SchemaChange
		want []string // describeDDL of each event
	}{
		{"create database charset", cdc.SchemaChange{DB: "d", Kind: "CREATE", Database: true, DDL: "CREATE DATABASE d CHARACTER SET latin1"},
			[]string{"database-create d charset=latin1"}},
		{"create database quoted", cdc.SchemaChange{Database: true, DDL: "create schema if not exists `we``ird` DEFAULT CHARSET = 'UTF8MB4'"},
			[]string{"database-create we`ird charset=utf8mb4"}},
		{"alter database collation", cdc.SchemaChange{DB: "d", Kind: "ALTER", Database: true, DDL: "ALTER SCHEMA d DEFAULT COLLATE = utf8mb4_0900_ai_ci"},
			[]string{"database-alter d charset=utf8mb4"}},
		{"alter database other option", cdc.SchemaChange{DB: "d", Kind: "ALTER", Database: true, DDL: "ALTER DATABASE d READ ONLY = 1"},
			[]string{"database-alter d charset=null"}},
		{"alter the default database", cdc.SchemaChange{DB: "d", Database: true, DDL: "ALTER DATABASE CHARACTER SET latin1"},
			[]string{"database-alter d charset=latin1"}},
		{"drop database", cdc.SchemaChange{Database: true, DDL: "DROP DATABASE IF EXISTS d"},
			[]string{"database-drop d"}},
		{"rename tables", cdc.SchemaChange{DB: "s", Kind: "ALTER", DDL: "RENAME TABLE a TO b, x.c TO x.d", Tables: renamed("s", "b")},
			[]string{"table-alter s.a old=s.a def=s.b"}},
		{"alter table rename", cdc.SchemaChange{DB: "s", Kind: "ALTER", DDL: "ALTER TABLE `s`.`a` RENAME TO s.b", Tables: renamed("s", "b")},
			[]string{"table-alter s.a old=s.a def=s.b"}},
		{"rename without kind", cdc.SchemaChange{DB: "s", DDL: "RENAME TABLE a TO b", Tables: renamed("s", "b")},
			[]string{"table-alter s.a old=s.a def=s.b"}},
		{"create table if not exists", cdc.SchemaChange{DB: "s", Kind: "CREATE", DDL: "CREATE TABLE IF NOT EXISTS a (id int)", Tables: renamed("s", "a"), Before: []*cdc.Table{nil}},
			nil},
		{"create table again", cdc.SchemaChange{DB: "s", Kind: "CREATE", DDL: "CREATE OR REPLACE TABLE a (id int)", Tables: renamed("s", "a"), Before: []*cdc.Table{nil}},
			[]string{"table-create s.a def=s.a"}},

		// Read wrong by the regular expressions.
		{"wrong: database named like an option", cdc.SchemaChange{DB: "charset_test", Kind: "CREATE", Database: true, DDL: "CREATE DATABASE charset_test"},
			[]string{"database-create charset_test charset=utf8mb4"}}, // was charset=_test
		{"wrong: charset in a comment", cdc.SchemaChange{DB: "d", Kind: "CREATE", Database: true, DDL: "CREATE DATABASE d COMMENT 'was charset latin1'"},
			[]string{"database-create d charset=utf8mb4"}}, // was charset=latin1
		{"wrong: mysqldump's executable comment", cdc.SchemaChange{Database: true, DDL: "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET latin1 */"},
			[]string{"database-create shop charset=latin1"}}, // was database "/*!32312"
		{"wrong: rename across lines", cdc.SchemaChange{DB: "s", Kind: "ALTER", DDL: "RENAME TABLE a\nTO b", Tables: renamed("s", "b")},
			[]string{"table-alter s.a old=s.a def=s.b"}}, // was table-alter s.b old=null
		{"wrong: rename of a quoted name holding ' to '", cdc.SchemaChange{DB: "s", Kind: "ALTER", DDL: "RENAME TABLE `a to z` TO b", Tables: renamed("s", "b")},
			[]string{"table-alter s.a to z old=null def=s.b"}}, // was table-alter s.b old=null (the name cut at its " to ")
		{"wrong: alter table after a comment", cdc.SchemaChange{DB: "s", Kind: "ALTER", DDL: "/* moved */ ALTER TABLE a RENAME TO b", Tables: renamed("s", "b")},
			[]string{"table-alter s.a old=s.a def=s.b"}}, // was table-alter s.b old=null
		{"wrong: if not exists after a comment", cdc.SchemaChange{DB: "s", Kind: "CREATE", DDL: "/* setup */ CREATE TABLE IF NOT EXISTS a (id int)", Tables: renamed("s", "a"), Before: []*cdc.Table{nil}},
			nil}, // was table-create
		{"wrong: if not exists in an executable comment", cdc.SchemaChange{DB: "s", Kind: "CREATE", DDL: "CREATE TABLE /*!32312 IF NOT EXISTS*/ a (id int)", Tables: renamed("s", "a"), Before: []*cdc.Table{nil}},
			nil}, // was table-create
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSchemaTracker(func(db, table string) string { return "utf8mb4" })
			s.see(known)
			c.sc.Source = ddlSource(4)
			var got []string
			for _, e := range s.events(&c.sc) {
				got = append(got, describeDDL(e))
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s:\ngot  %q\nwant %q", c.sc.DDL, got, c.want)
			}
		})
	}
}

// describeDDL sums an event up: its type and names, its definitions'
// tables, a database event's character set.
func describeDDL(e *ddlEvent) string {
	name := func(d *tableDef) string {
		if d == nil {
			return "null"
		}
		return d.database + "." + d.name
	}
	switch e.typ {
	case "database-create", "database-alter":
		cs := "null"
		if e.charset != nil {
			cs = *e.charset
		}
		return e.typ + " " + e.database + " charset=" + cs
	case "database-drop":
		return e.typ + " " + e.database
	case "table-create":
		return e.typ + " " + e.database + "." + e.table + " def=" + name(e.def)
	case "table-alter":
		return e.typ + " " + e.database + "." + e.table + " old=" + name(e.old) + " def=" + name(e.def)
	}
	return e.typ + " " + e.database + "." + e.table
}
