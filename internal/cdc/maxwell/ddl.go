package maxwell

import (
	"regexp"
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

var (
	dbStmt = regexp.MustCompile("(?is)^\\s*(?:/\\*.*?\\*/\\s*)*(CREATE|ALTER|DROP)\\s+(?:DATABASE|SCHEMA)\\s+(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?(`(?:[^`]|``)+`|[^\\s;]+)")
	// charsetClause finds "[DEFAULT] CHARACTER SET [=] x" or "CHARSET x".
	charsetClause = regexp.MustCompile(`(?is)(?:CHARACTER\s+SET|CHARSET)\s*=?\s*['"` + "`" + `]?([a-z0-9_]+)`)
	collateClause = regexp.MustCompile("(?is)COLLATE\\s*=?\\s*['\"`]?([a-z0-9]+)_")
	renameStmt    = regexp.MustCompile(`(?is)^\s*RENAME\s+TABLES?\s+(.*)$`)
	alterRename   = regexp.MustCompile("(?is)^\\s*ALTER\\s+(?:ONLINE\\s+|IGNORE\\s+)*TABLE\\s+(?:IF\\s+EXISTS\\s+)?((?:`(?:[^`]|``)+`|[^\\s.`]+)(?:\\.(?:`(?:[^`]|``)+`|[^\\s.`]+))?)")
	ifNotExists   = regexp.MustCompile(`(?is)^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?TABLE\s+IF\s+NOT\s+EXISTS`)
)

func unquoteIdent(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}

// splitName reads "db.tbl" or "tbl" (quoted or not) into its parts.
func splitName(s, defaultDB string) (string, string) {
	s = strings.TrimSpace(s)
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '`':
			inQuote = !inQuote
		case s[i] == '.' && !inQuote:
			return unquoteIdent(s[:i]), unquoteIdent(s[i+1:])
		}
	}
	return defaultDB, unquoteIdent(s)
}

// renames reads the pairs of RENAME TABLE a TO b, c TO d, keyed by the
// new name.
func renames(sql, defaultDB string) map[string][2]string {
	m := renameStmt.FindStringSubmatch(sql)
	if m == nil {
		return nil
	}
	out := map[string][2]string{}
	for _, pair := range strings.Split(m[1], ",") {
		from, to, ok := cutFold(pair, " to ")
		if !ok {
			continue
		}
		fdb, ft := splitName(from, defaultDB)
		tdb, tt := splitName(strings.TrimRight(strings.TrimSpace(to), ";"), defaultDB)
		out[tableKey(tdb, tt)] = [2]string{fdb, ft}
	}
	return out
}

func cutFold(s, sep string) (string, string, bool) {
	i := strings.Index(strings.ToLower(s), sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// events turns a schema change into Maxwell's events, and updates the
// tracked definitions. Schema changes read by a snapshot (the tables'
// initial definitions) only update them: Maxwell captures its initial
// schema silently.
func (s *schemaTracker) events(sc *cdc.SchemaChange) []*ddlEvent {
	base := ddlEvent{tsMillis: sc.Source.Time.UnixMilli(), sql: sc.DDL, gtid: sc.Source.GTID}
	if sc.Source.File != "" {
		base.position = sc.Source.File + ":" + strconv.FormatUint(uint64(sc.Source.EventPos), 10)
	}
	snapshot := sc.Source.Snapshot != ""
	if sc.Database {
		if snapshot {
			return nil
		}
		e := base
		kind, name := strings.ToUpper(sc.Kind), sc.DB
		if m := dbStmt.FindStringSubmatch(sc.DDL); m != nil {
			if kind == "" {
				kind = strings.ToUpper(m[1])
			}
			if name == "" {
				name = unquoteIdent(m[2])
			}
		}
		e.database = name
		switch kind {
		case "CREATE":
			e.typ = "database-create"
			cs := statementCharset(sc.DDL)
			if cs == "" {
				cs = s.lookupCharset(e.database, "")
			}
			e.charset = strPtr(cs)
		case "ALTER":
			e.typ = "database-alter"
			e.charset = strPtr(statementCharset(sc.DDL))
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
	var out []*ddlEvent
	kind := strings.ToUpper(sc.Kind)
	renamed := renames(sc.DDL, sc.DB)
	if kind == "" && renamed != nil {
		kind = "ALTER"
	}
	for i, t := range sc.Tables {
		if t == nil {
			continue
		}
		var before *cdc.Table
		if i < len(sc.Before) {
			before = sc.Before[i]
		}
		key := tableKey(t.DB, t.Name)
		e := base
		e.database, e.table = t.DB, t.Name
		switch kind {
		case "CREATE":
			_, known := s.tables[key]
			s.tables[key] = t
			// CREATE TABLE IF NOT EXISTS of a table that exists
			// changes nothing, and Maxwell reports nothing.
			if snapshot || before != nil || (known && ifNotExists.MatchString(sc.DDL)) {
				continue
			}
			e.typ, e.def = "table-create", s.def(t)
		case "ALTER":
			// The definition before: the engine's, else the one tracked
			// here; its name is the old one for a rename.
			oldDB, oldName := t.DB, t.Name
			switch {
			case before != nil && before.Name != "":
				oldDB, oldName = before.DB, before.Name
			default:
				if from, ok := renamed[key]; ok {
					oldDB, oldName = from[0], from[1]
				} else if m := alterRename.FindStringSubmatch(sc.DDL); m != nil {
					oldDB, oldName = splitName(m[1], sc.DB)
				}
			}
			oldKey := tableKey(oldDB, oldName)
			prev := s.tables[oldKey]
			if before != nil && len(before.Columns) > 0 {
				prev = before
			}
			delete(s.tables, oldKey)
			s.tables[key] = t
			if snapshot {
				continue
			}
			e.typ, e.database, e.table, e.def = "table-alter", oldDB, oldName, s.def(t)
			if prev != nil {
				e.old = s.def(prev)
			}
		case "DROP":
			delete(s.tables, key)
			if snapshot {
				continue
			}
			e.typ = "table-drop"
		default:
			continue
		}
		out = append(out, &e)
	}
	return out
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// statementCharset finds the character set a CREATE/ALTER DATABASE
// names, directly or through its collation.
func statementCharset(sql string) string {
	if m := charsetClause.FindStringSubmatch(sql); m != nil {
		return strings.ToLower(m[1])
	}
	if m := collateClause.FindStringSubmatch(sql); m != nil {
		return strings.ToLower(m[1])
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
		if e.gtid == "" {
			w.raw("gtid", "null")
		} else {
			w.str("gtid", e.gtid)
		}
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
	if d.charset == "" {
		w.raw("charset", "null")
	} else {
		w.str("charset", d.charset)
	}
	w.str("table", d.name)
	var cols strings.Builder
	cols.WriteByte('[')
	for i := range d.columns {
		if i > 0 {
			cols.WriteByte(',')
		}
		cols.WriteString(columnJSON(&d.columns[i]))
	}
	cols.WriteByte(']')
	w.raw("columns", cols.String())
	var pk strings.Builder
	pk.WriteByte('[')
	for i, c := range d.pk {
		if i > 0 {
			pk.WriteByte(',')
		}
		appendQuoted(&pk, c)
	}
	pk.WriteByte(']')
	w.raw("primary-key", pk.String())
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
		if c.Charset == "" {
			w.raw("charset", "null")
		} else {
			w.str("charset", c.Charset)
		}
	case "tinyblob", "blob", "mediumblob", "longblob", "binary", "varbinary":
		w.str("charset", "binary")
	case "tinyint", "smallint", "mediumint", "int", "bigint":
		w.raw("signed", strconv.FormatBool(!c.Unsigned))
	case "enum", "set":
		var b strings.Builder
		b.WriteByte('[')
		for i, v := range c.Values {
			if i > 0 {
				b.WriteByte(',')
			}
			appendQuoted(&b, v)
		}
		b.WriteByte(']')
		w.raw("enum-values", b.String())
	case "datetime", "timestamp", "time":
		w.raw("column-length", strconv.Itoa(c.Length))
	}
	return string(w.done())
}
