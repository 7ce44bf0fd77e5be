package maxwell

import (
	"strconv"
	"strings"

	"github.com/tributary-data/tributary/internal/cdc"
)

// ddlEvent is one of Maxwell's schema-change events (output_ddl): a
// ResolvedSchemaChange serialised with its ts, sql and position.
type ddlEvent struct {
	typ      string // database-create|database-alter|database-drop|table-create|table-alter|table-drop
	database string
	table    string // "" for database events
	// charset is set for database-create and database-alter; nil writes
	// null, as Maxwell does for an ALTER DATABASE that names none.
	charset  *string
	old, def *tableDef
	tsMillis int64
	sql      string
	position string
	gtid     string
}

// tableDef is a table definition as Maxwell's schema store holds it.
type tableDef struct {
	database, name, charset string
	columns                 []cdc.Column
	pk                      []string
}

// schemaTracker keeps the table definitions seen so far, so that a
// table-alter can carry the definition from before the statement (the
// engine reports only the one after it), and turns SchemaChanges into
// Maxwell's events.
type schemaTracker struct {
	tables map[string]*cdc.Table
	// charset finds a table's or database's default character set
	// (table "" for a database); nil or "" when unknown.
	charset func(db, table string) string
}

func newSchemaTracker(charset func(db, table string) string) *schemaTracker {
	return &schemaTracker{tables: map[string]*cdc.Table{}, charset: charset}
}

func tableKey(db, table string) string { return db + "\x00" + table }

// see records the definition a row was written under.
func (s *schemaTracker) see(t *cdc.Table) {
	if t != nil {
		s.tables[tableKey(t.DB, t.Name)] = t
	}
}

func (s *schemaTracker) lookupCharset(db, table string) string {
	if s.charset == nil {
		return ""
	}
	return s.charset(db, table)
}

func (s *schemaTracker) def(t *cdc.Table) *tableDef {
	cs := s.lookupCharset(t.DB, t.Name)
	if cs == "" {
		// Without the server's answer, the first character column's
		// charset is the best guess at the table default.
		for _, c := range t.Columns {
			if c.Charset != "" && c.Charset != "binary" {
				cs = c.Charset
				break
			}
		}
	}
	return &tableDef{database: t.DB, name: t.Name, charset: cs, columns: t.Columns, pk: t.PrimaryKey}
}

// events turns a schema change into Maxwell's events, and updates the
// tracked definitions. Schema changes read by a snapshot (the tables'
// initial definitions) only update them: Maxwell captures its initial
// schema silently. The statement is read with the reader's own DDL
// parser for what SchemaChange does not carry: a database's character
// set, the old names of renamed tables the reader did not know, and IF
// NOT EXISTS.
func (s *schemaTracker) events(sc *cdc.SchemaChange) []*ddlEvent {
	base := ddlEvent{tsMillis: sc.Source.Time.UnixMilli(), sql: sc.DDL, gtid: sc.Source.GTID}
	if sc.Source.File != "" {
		base.position = sc.Source.File + ":" + strconv.FormatUint(uint64(sc.Source.EventPos), 10)
	}
	ddl := cdc.ParseDDL(sc.DDL, sc.DB)
	snapshot := sc.Source.Snapshot != ""
	if sc.Database {
		if snapshot {
			return nil
		}
		return s.databaseEvents(sc, &ddl, base)
	}
	kind := strings.ToUpper(sc.Kind)
	if kind == "" {
		kind = ddl.Kind
	}
	var out []*ddlEvent
	for i, t := range sc.Tables {
		if t == nil {
			continue
		}
		var before *cdc.Table
		if i < len(sc.Before) {
			before = sc.Before[i]
		}
		e := base
		e.database, e.table = t.DB, t.Name
		var report bool
		switch kind {
		case "CREATE":
			report = s.tableCreate(&e, t, before, ddl.IfNotExists)
		case "ALTER":
			s.tableAlter(&e, t, before, &ddl)
			report = true
		case "DROP":
			delete(s.tables, tableKey(t.DB, t.Name))
			e.typ, report = "table-drop", true
		}
		if report && !snapshot {
			out = append(out, &e)
		}
	}
	return out
}

// databaseEvents makes the event of a CREATE/ALTER/DROP DATABASE (none
// for another statement), forgetting a dropped database's tables.
func (s *schemaTracker) databaseEvents(sc *cdc.SchemaChange, ddl *cdc.DDL, base ddlEvent) []*ddlEvent {
	e := base
	kind, name := strings.ToUpper(sc.Kind), sc.DB
	if ddl.Database {
		if kind == "" {
			kind = ddl.Kind
		}
		if name == "" {
			name = ddl.DB
		}
	}
	e.database = name
	switch kind {
	case "CREATE":
		e.typ = "database-create"
		cs := statementCharset(ddl)
		if cs == "" {
			cs = s.lookupCharset(e.database, "")
		}
		e.charset = strPtr(cs)
	case "ALTER":
		e.typ = "database-alter"
		e.charset = strPtr(statementCharset(ddl))
	case "DROP":
		e.typ = "database-drop"
		for k, t := range s.tables {
			if t.DB == e.database {
				delete(s.tables, k)
			}
		}
	default:
		return nil
	}
	return []*ddlEvent{&e}
}

// tableCreate tracks a created table and fills its table-create event;
// it reports whether there is one to write: CREATE TABLE IF NOT EXISTS
// of a table that exists changes nothing, and Maxwell reports nothing.
func (s *schemaTracker) tableCreate(e *ddlEvent, t, before *cdc.Table, ifNotExists bool) bool {
	key := tableKey(t.DB, t.Name)
	_, known := s.tables[key]
	s.tables[key] = t
	if before != nil || (known && ifNotExists) {
		return false
	}
	e.typ, e.def = "table-create", s.def(t)
	return true
}

// tableAlter tracks an altered (perhaps renamed) table and fills its
// table-alter event, which names the table as it was before and carries
// both definitions: the engine's before-image, else the one tracked
// here.
func (s *schemaTracker) tableAlter(e *ddlEvent, t, before *cdc.Table, ddl *cdc.DDL) {
	oldDB, oldName := t.DB, t.Name
	if before != nil && before.Name != "" {
		oldDB, oldName = before.DB, before.Name
	} else if from, ok := renamedFrom(ddl, t); ok {
		oldDB, oldName = from.DB, from.Name
	}
	oldKey := tableKey(oldDB, oldName)
	prev := s.tables[oldKey]
	if before != nil && len(before.Columns) > 0 {
		prev = before
	}
	delete(s.tables, oldKey)
	s.tables[tableKey(t.DB, t.Name)] = t
	e.typ, e.database, e.table, e.def = "table-alter", oldDB, oldName, s.def(t)
	if prev != nil {
		e.old = s.def(prev)
	}
}

// renamedFrom finds the name a statement's rename moved a table from.
func renamedFrom(ddl *cdc.DDL, t *cdc.Table) (cdc.TableName, bool) {
	for i, n := range ddl.Tables {
		if i < len(ddl.Renamed) && n.DB == t.DB && n.Name == t.Name {
			return ddl.Renamed[i], true
		}
	}
	return cdc.TableName{}, false
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// statementCharset is the character set a CREATE/ALTER DATABASE names,
// directly or through its collation's (the collation's name up to its
// first "_").
func statementCharset(ddl *cdc.DDL) string {
	if ddl.Charset != "" {
		return ddl.Charset
	}
	if cs, _, ok := strings.Cut(ddl.Collation, "_"); ok && cs != "" {
		return cs
	}
	return ""
}

// included applies Maxwell's filter to a schema change: the database
// and table (or "" for database events), and for a table-alter both the
// old and the new name.
func (e *ddlEvent) included(f *Filter) bool {
	if f == nil {
		return true
	}
	if e.typ == "table-alter" && e.def != nil {
		return f.Includes(e.database, e.table) && f.Includes(e.database, e.def.name)
	}
	return f.Includes(e.database, e.table)
}

// ddlJSON writes a schema-change event as Maxwell's DDLMap.toJSON does:
// the change's own fields (type first, then as declared), then ts (in
// milliseconds, unlike rows), sql, position and gtid. Maxwell's
// output_naming_strategy does not apply to these.
func ddlJSON(e *ddlEvent, o *OutputConfig) []byte {
	w := newJSONWriter()
	w.str("type", e.typ)
	w.str("database", e.database)
	switch e.typ {
	case "database-create", "database-alter":
		if e.charset == nil {
			w.raw("charset", "null")
		} else {
			w.str("charset", *e.charset)
		}
	case "table-create":
		w.str("table", e.table)
		w.raw("def", defJSON(e.def))
	case "table-alter":
		w.str("table", e.table)
		w.raw("old", defJSON(e.old))
		w.raw("def", defJSON(e.def))
	case "table-drop":
		w.str("table", e.table)
	}
	w.raw("ts", strconv.FormatInt(e.tsMillis, 10))
	w.str("sql", e.sql)
	if o.BinlogPosition {
		w.str("position", e.position)
	}
	if o.GTIDPosition {
		w.strOrNull("gtid", e.gtid)
	}
	return w.done()
}

// defJSON writes a table definition as Maxwell's Table serialises:
// database, charset, table, columns, primary-key.
func defJSON(d *tableDef) string {
	if d == nil {
		return "null"
	}
	w := newJSONWriter()
	w.str("database", d.database)
	w.strOrNull("charset", d.charset)
	w.str("table", d.name)
	w.raw("columns", jsonArray(len(d.columns), func(b *strings.Builder, i int) {
		b.WriteString(columnJSON(&d.columns[i]))
	}))
	w.raw("primary-key", stringsJSON(d.pk))
	return string(w.done())
}

// maxwellType names a column type as Maxwell's schema does (its
// unalias_type applied to information_schema's DATA_TYPE).
func maxwellType(t string) string {
	switch t {
	case "integer", "int4":
		return "int"
	case "bool", "boolean", "int1":
		return "tinyint"
	case "int2":
		return "smallint"
	case "int3", "middleint":
		return "mediumint"
	case "int8", "serial":
		return "bigint"
	case "numeric", "fixed", "dec":
		return "decimal"
	case "real", "float8", "double precision":
		return "double"
	case "float4":
		return "float"
	case "geomcollection":
		return "geometrycollection"
	case "character", "nchar":
		return "char"
	case "nvarchar":
		return "varchar"
	}
	return t
}

// columnJSON writes a column as Maxwell's ColumnDefSerializer does:
// type and name, then charset for character types, signed for integer
// types, enum-values for ENUM and SET, column-length (fractional
// digits) for DATETIME, TIMESTAMP and TIME.
func columnJSON(c *cdc.Column) string {
	typ := maxwellType(c.DataType)
	w := newJSONWriter()
	w.str("type", typ)
	w.str("name", c.Name)
	switch typ {
	case "tinytext", "text", "mediumtext", "longtext", "varchar", "char":
		w.strOrNull("charset", c.Charset)
	case "tinyblob", "blob", "mediumblob", "longblob", "binary", "varbinary":
		w.str("charset", "binary")
	case "tinyint", "smallint", "mediumint", "int", "bigint":
		w.raw("signed", strconv.FormatBool(!c.Unsigned))
	case "enum", "set":
		w.raw("enum-values", stringsJSON(c.Values))
	case "datetime", "timestamp", "time":
		w.raw("column-length", strconv.Itoa(c.Length))
	}
	return string(w.done())
}
