package cdc

import (
	"fmt"
	"sort"
	"strings"
)

// tableKey names a table.
type tableKey struct{ db, name string }

func (k tableKey) String() string { return k.db + "." + k.name }

// schemas is the reader's view of the captured tables' definitions, as of
// the point of the log being read: loaded from information_schema at
// start (or inside the snapshot) and reloaded table by table at each DDL
// statement the log shows.
type schemas struct {
	tables map[tableKey]*Table
}

func newSchemas(tables map[tableKey]*Table) *schemas {
	if tables == nil {
		tables = map[tableKey]*Table{}
	}
	return &schemas{tables: tables}
}

func (s *schemas) get(db, name string) *Table { return s.tables[tableKey{db, name}] }

func (s *schemas) put(t *Table) { s.tables[tableKey{t.DB, t.Name}] = t }

func (s *schemas) remove(db, name string) { delete(s.tables, tableKey{db, name}) }

// inDB returns a database's tables, sorted by name.
func (s *schemas) inDB(db string) []*Table {
	var out []*Table
	for k, t := range s.tables {
		if k.db == db {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// sorted returns every table, sorted by database and name.
func (s *schemas) sorted() []*Table {
	out := make([]*Table, 0, len(s.tables))
	for _, t := range s.tables {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].DB != out[j].DB {
			return out[i].DB < out[j].DB
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// loadTables reads the definitions of the captured base tables from
// information_schema: all of them, or only those named in only.
func loadTables(c *conn, cfg *Config, flavor string, only []tableKey) (map[tableKey]*Table, error) {
	if only != nil && len(only) == 0 {
		return map[tableKey]*Table{}, nil
	}
	rows, err := c.rows(`SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.ORDINAL_POSITION, c.COLUMN_DEFAULT,
		c.IS_NULLABLE, c.DATA_TYPE, c.COLUMN_TYPE, c.CHARACTER_MAXIMUM_LENGTH, c.NUMERIC_PRECISION,
		c.NUMERIC_SCALE, c.DATETIME_PRECISION, c.CHARACTER_SET_NAME, c.EXTRA
		FROM information_schema.TABLES t JOIN information_schema.COLUMNS c
		ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
		WHERE t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND ` + tableFilter("t", only) + `
		ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("cdc: read table definitions: %w", err)
	}
	tables := map[tableKey]*Table{}
	for _, r := range rows {
		k := tableKey{r[0].s, r[1].s}
		if !cfg.captured(k.db, k.name) {
			continue
		}
		t := tables[k]
		if t == nil {
			t = &Table{DB: k.db, Name: k.name}
			tables[k] = t
		}
		t.Columns = append(t.Columns, infoColumn(r, flavor))
	}
	if len(tables) == 0 {
		return tables, nil
	}
	keys, err := c.rows(`SELECT s.TABLE_SCHEMA, s.TABLE_NAME, s.COLUMN_NAME FROM information_schema.STATISTICS s
		WHERE s.INDEX_NAME = 'PRIMARY' AND ` + tableFilter("s", only) + `
		ORDER BY s.TABLE_SCHEMA, s.TABLE_NAME, s.SEQ_IN_INDEX`)
	if err != nil {
		return nil, fmt.Errorf("cdc: read primary keys: %w", err)
	}
	for _, r := range keys {
		if t := tables[tableKey{r[0].s, r[1].s}]; t != nil {
			t.PrimaryKey = append(t.PrimaryKey, r[2].s)
		}
	}
	return tables, nil
}

// tableFilter is a WHERE condition on an information_schema table's
// TABLE_SCHEMA and TABLE_NAME: no system schema, and only the named
// tables when only is not nil.
func tableFilter(alias string, only []tableKey) string {
	cond := alias + ".TABLE_SCHEMA NOT IN ('mysql', 'sys', 'information_schema', 'performance_schema')"
	if only == nil {
		return cond
	}
	parts := make([]string, len(only))
	for i, k := range only {
		parts[i] = fmt.Sprintf("(%s.TABLE_SCHEMA = %s AND %s.TABLE_NAME = %s)", alias, quoteString(k.db), alias, quoteString(k.name))
	}
	return cond + " AND (" + strings.Join(parts, " OR ") + ")"
}

// infoColumn makes a Column from an information_schema.COLUMNS row (in
// loadTables' column order).
func infoColumn(r []sqlText, flavor string) Column {
	col := Column{
		Name:          r[2].s,
		Position:      r[3].int(),
		Nullable:      r[5].s == "YES",
		DataType:      strings.ToLower(r[6].s),
		ColumnType:    r[7].s,
		Charset:       r[12].s,
		AutoIncrement: strings.Contains(strings.ToLower(r[13].s), "auto_increment"),
	}
	col.Unsigned = strings.Contains(strings.ToLower(col.ColumnType), "unsigned")
	switch col.DataType {
	case "char", "varchar", "binary", "varbinary":
		col.Length = r[8].int()
	case "bit", "decimal":
		col.Length = r[9].int()
		col.Scale = r[10].int()
	case "datetime", "timestamp", "time":
		col.Length = r[11].int()
	case "enum", "set":
		col.Values = EnumValues(col.ColumnType)
	}
	if r[4].ok {
		def := r[4].s
		if flavor == flavorMySQL && quotedDefault(col.DataType) && !strings.Contains(strings.ToUpper(r[13].s), "DEFAULT_GENERATED") {
			// MySQL gives the default's value, MariaDB its SQL text.
			def = quoteString(def)
		}
		col.Default = &def
	}
	return col
}

// quotedDefault reports whether a type's default is a string literal.
func quotedDefault(dataType string) bool {
	switch dataType {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set",
		"binary", "varbinary", "date", "datetime", "timestamp", "time", "year":
		return true
	}
	return false
}

// EnumValues returns the members of an "enum('a','b')" or "set(...)"
// column type, unquoting them as MySQL quotes them. The formats use it
// where a table definition comes from elsewhere than the engine.
func EnumValues(columnType string) []string {
	open := strings.IndexByte(columnType, '(')
	if open < 0 {
		return nil
	}
	s := columnType[open+1:]
	var out []string
	for len(s) > 0 && s[0] == '\'' {
		var b strings.Builder
		i := 1
		for i < len(s) {
			ch := s[i]
			if ch == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i += 2
					continue
				}
				break
			}
			if ch == '\\' && i+1 < len(s) {
				i++
				ch = s[i]
			}
			b.WriteByte(ch)
			i++
		}
		out = append(out, b.String())
		if i+1 >= len(s) {
			break
		}
		s = s[i+1:] // past the closing quote
		s = strings.TrimLeft(s, ", ")
	}
	return out
}
