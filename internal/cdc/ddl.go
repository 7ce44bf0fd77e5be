package cdc

import (
	"strings"
)

// statement is what the reader needs to know about a statement logged as
// a QUERY event: which kind of schema change it is and which tables it
// touches. It is not a SQL parser: it reads the statement's head, which
// is enough to know what to reload from information_schema.
type statement struct {
	// kind is "CREATE", "ALTER", "DROP", "TRUNCATE" or "" (see
	// SchemaChange.Kind).
	kind string
	// database is set for CREATE/ALTER/DROP DATABASE, naming it in db.
	database bool
	db       string
	// tables are the tables the statement names (for RENAME, the new
	// names), qualified with the default database.
	tables []tableKey
	// renamed are the old names of tables a RENAME or ALTER ... RENAME
	// moves, in the order of tables (empty when nothing is renamed).
	renamed []tableKey
	// temporary marks statements on temporary tables, which the reader
	// ignores.
	temporary bool
	// schema marks statements that change schema objects (CREATE, ALTER,
	// DROP, RENAME, TRUNCATE of anything); others (GRANT, FLUSH, DML
	// logged as statements, ...) are not schema changes.
	schema bool
	// dml marks INSERT, UPDATE, DELETE, REPLACE and LOAD logged as
	// statements: changes a row-based reader cannot see.
	dml bool
	// ifNotExists marks CREATE TABLE/DATABASE IF NOT EXISTS.
	ifNotExists bool
	// charset and collation are the ones a CREATE/ALTER DATABASE
	// names, in lower case ("" when it names none).
	charset, collation string
}

// parseStatement reads a logged statement; defaultDB is the QUERY
// event's current database.
func parseStatement(query, defaultDB string) statement {
	tk := tokenize(query, 64)
	p := &stmtParser{toks: tk, db: defaultDB}
	return p.parse()
}

// DDL is what a schema-change statement says, as the reader reads it:
// the statement behind a SchemaChange, for formats that report more of
// it than SchemaChange carries (Maxwell's renames and database
// character sets).
type DDL struct {
	// Kind is "CREATE", "ALTER", "DROP", "TRUNCATE" or "", as in
	// SchemaChange.Kind.
	Kind string
	// Database is true for CREATE/ALTER/DROP DATABASE, naming it in DB.
	Database bool
	DB       string
	// Tables are the tables the statement names (for a rename, the new
	// names), qualified with the default database; Renamed are the old
	// names of the tables a RENAME TABLE or ALTER TABLE ... RENAME
	// moves, in the order of Tables (empty when nothing is renamed).
	Tables, Renamed []TableName
	// IfNotExists marks CREATE TABLE/DATABASE IF NOT EXISTS.
	IfNotExists bool
	// Charset and Collation are the ones a CREATE/ALTER DATABASE names,
	// in lower case ("" for none).
	Charset, Collation string
}

// TableName is a table's database and name.
type TableName struct{ DB, Name string }

// ParseDDL reads a statement as the reader does when the log shows it;
// defaultDB is the database the statement ran in (SchemaChange.DB).
func ParseDDL(query, defaultDB string) DDL {
	st := parseStatement(query, defaultDB)
	return DDL{
		Kind: st.kind, Database: st.database, DB: st.db,
		Tables: tableNames(st.tables), Renamed: tableNames(st.renamed),
		IfNotExists: st.ifNotExists, Charset: st.charset, Collation: st.collation,
	}
}

func tableNames(keys []tableKey) []TableName {
	if len(keys) == 0 {
		return nil
	}
	out := make([]TableName, len(keys))
	for i, k := range keys {
		out[i] = TableName{DB: k.db, Name: k.name}
	}
	return out
}

type stmtParser struct {
	toks []token
	i    int
	db   string
}

func (p *stmtParser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{}
}

func (p *stmtParser) next() token {
	t := p.peek()
	if p.i < len(p.toks) {
		p.i++
	}
	return t
}

// accept consumes the next token if it is one of the keywords.
func (p *stmtParser) accept(words ...string) bool {
	t := p.peek()
	if t.kind != tokWord {
		return false
	}
	for _, w := range words {
		if t.upper == w {
			p.i++
			return true
		}
	}
	return false
}

// acceptSeq consumes a sequence of keywords if they all come next.
func (p *stmtParser) acceptSeq(words ...string) bool {
	save := p.i
	for _, w := range words {
		if !p.accept(w) {
			p.i = save
			return false
		}
	}
	return true
}

// name reads [db.]name.
func (p *stmtParser) name() (tableKey, bool) {
	t := p.next()
	if t.kind != tokWord && t.kind != tokQuoted {
		return tableKey{}, false
	}
	k := tableKey{db: p.db, name: t.text}
	if p.peek().kind == tokSymbol && p.peek().text == "." {
		p.i++
		t2 := p.next()
		if t2.kind != tokWord && t2.kind != tokQuoted {
			return tableKey{}, false
		}
		k = tableKey{db: t.text, name: t2.text}
	}
	return k, true
}

func (p *stmtParser) symbol(s string) bool {
	if t := p.peek(); t.kind == tokSymbol && t.text == s {
		p.i++
		return true
	}
	return false
}

func (p *stmtParser) parse() statement {
	var st statement
	switch {
	case p.accept("CREATE"):
		st.kind, st.schema = "CREATE", true
		p.parseCreate(&st)
	case p.accept("ALTER"):
		st.kind, st.schema = "ALTER", true
		p.parseAlter(&st)
	case p.accept("DROP"):
		st.kind, st.schema = "DROP", true
		p.parseDrop(&st)
	case p.accept("RENAME"):
		st.schema = true
		if p.accept("TABLE", "TABLES") {
			st.kind = "ALTER"
			p.renamePairs(&st)
		}
	case p.accept("TRUNCATE"):
		st.kind, st.schema = "TRUNCATE", true
		p.accept("TABLE")
		if k, ok := p.name(); ok {
			st.tables = []tableKey{k}
		}
	case p.accept("INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD"):
		st.dml = true
	}
	return st
}

// parseCreate reads what follows CREATE: a table, a database, an index
// (an ALTER of its table) or another object (kind "").
func (p *stmtParser) parseCreate(st *statement) {
	p.acceptSeq("OR", "REPLACE")
	p.skipCreateOptions()
	if p.accept("TEMPORARY") {
		st.temporary = true
	}
	switch {
	case p.accept("TABLE"):
		st.ifNotExists = p.acceptSeq("IF", "NOT", "EXISTS")
		if k, ok := p.name(); ok {
			st.tables = []tableKey{k}
		}
	case p.accept("DATABASE", "SCHEMA"):
		st.ifNotExists = p.acceptSeq("IF", "NOT", "EXISTS")
		if t := p.next(); t.kind == tokWord || t.kind == tokQuoted {
			st.database, st.db = true, t.text
		}
		p.databaseOptions(st)
	default:
		p.accept("ONLINE", "OFFLINE")
		p.accept("UNIQUE", "FULLTEXT", "SPATIAL")
		if !p.accept("INDEX") {
			st.kind = "" // views, routines, triggers, users, ...
			return
		}
		st.kind = "ALTER"
		p.acceptSeq("IF", "NOT", "EXISTS")
		p.next() // index name
		for p.peek().kind != tokNone && !p.accept("ON") {
			p.next()
		}
		if k, ok := p.name(); ok {
			st.tables = []tableKey{k}
		}
	}
}

// parseAlter reads what follows ALTER: a table (perhaps renamed), a
// database or another object (kind "").
func (p *stmtParser) parseAlter(st *statement) {
	p.accept("ONLINE", "OFFLINE")
	p.accept("IGNORE")
	switch {
	case p.accept("TABLE"):
		p.acceptSeq("IF", "EXISTS")
		k, ok := p.name()
		if !ok {
			return
		}
		st.tables = []tableKey{k}
		if to, ok := p.alterRename(); ok {
			st.renamed = []tableKey{k}
			st.tables = []tableKey{to}
		}
	case p.accept("DATABASE", "SCHEMA"):
		st.database, st.db = true, p.db
		if t := p.peek(); (t.kind == tokWord && !isDatabaseOption(t.upper)) || t.kind == tokQuoted {
			st.db = t.text
			p.i++
		}
		p.databaseOptions(st)
	default:
		st.kind = ""
	}
}

// parseDrop reads what follows DROP: tables, a database, an index (an
// ALTER of its table) or another object (kind "").
func (p *stmtParser) parseDrop(st *statement) {
	if p.accept("TEMPORARY") {
		st.temporary = true
	}
	switch {
	case p.accept("TABLE", "TABLES"):
		p.acceptSeq("IF", "EXISTS")
		for {
			k, ok := p.name()
			if !ok {
				break
			}
			st.tables = append(st.tables, k)
			if !p.symbol(",") {
				break
			}
		}
	case p.accept("DATABASE", "SCHEMA"):
		p.acceptSeq("IF", "EXISTS")
		if t := p.next(); t.kind == tokWord || t.kind == tokQuoted {
			st.database, st.db = true, t.text
		}
	case p.accept("INDEX"):
		st.kind = "ALTER"
		p.accept("ONLINE", "OFFLINE")
		p.acceptSeq("IF", "EXISTS")
		p.next()
		if p.accept("ON") {
			if k, ok := p.name(); ok {
				st.tables = []tableKey{k}
			}
		}
	default:
		st.kind = ""
	}
}

// renamePairs reads RENAME TABLE's "a TO b, c TO d".
func (p *stmtParser) renamePairs(st *statement) {
	for {
		from, ok := p.name()
		if !ok || !p.accept("TO") {
			return
		}
		to, ok := p.name()
		if !ok {
			return
		}
		st.renamed = append(st.renamed, from)
		st.tables = append(st.tables, to)
		if !p.symbol(",") {
			return
		}
	}
}

// databaseOptions reads CREATE/ALTER DATABASE's options for the
// character set and collation they name ([DEFAULT] CHARACTER SET [=] x,
// CHARSET [=] x, [DEFAULT] COLLATE [=] y), the first of each; other
// options (COMMENT 'text', READ ONLY, ...) are passed over, so a word in
// a comment's text is not taken for one.
func (p *stmtParser) databaseOptions(st *statement) {
	for p.peek().kind != tokNone {
		var dst *string
		switch {
		case p.accept("CHARSET"), p.acceptSeq("CHARACTER", "SET"):
			dst = &st.charset
		case p.accept("COLLATE"):
			dst = &st.collation
		default:
			p.next()
			continue
		}
		p.symbol("=")
		if t := p.next(); t.kind != tokNone && t.kind != tokSymbol && *dst == "" {
			*dst = strings.ToLower(t.text)
		}
	}
}

// skipCreateOptions passes DEFINER = ..., ALGORITHM = ..., SQL SECURITY
// ... that may precede the object type in CREATE.
func (p *stmtParser) skipCreateOptions() {
	for {
		switch {
		case p.accept("DEFINER", "ALGORITHM"):
			p.symbol("=")
			p.next()
			// user@host is three tokens
			if p.symbol("@") {
				p.next()
			}
		case p.acceptSeq("SQL", "SECURITY"):
			p.next()
		case p.accept("AGGREGATE"):
		default:
			return
		}
	}
}

// alterRename finds "RENAME [TO|AS] name" among an ALTER TABLE's
// clauses (not RENAME COLUMN/INDEX/KEY).
func (p *stmtParser) alterRename() (tableKey, bool) {
	depth := 0
	for p.peek().kind != tokNone {
		t := p.next()
		switch {
		case t.kind == tokSymbol && t.text == "(":
			depth++
		case t.kind == tokSymbol && t.text == ")":
			depth--
		case depth == 0 && t.kind == tokWord && t.upper == "RENAME":
			if p.accept("COLUMN", "INDEX", "KEY", "CONSTRAINT") {
				continue
			}
			p.accept("TO", "AS")
			p.symbol("=")
			return p.name()
		}
	}
	return tableKey{}, false
}

func isDatabaseOption(w string) bool {
	switch w {
	case "DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "COMMENT", "UPGRADE", "READ", "ENCRYPTION":
		return true
	}
	return false
}

// token is a lexical token of a statement.
type token struct {
	kind  tokenKind
	text  string // identifiers unquoted
	upper string // words in upper case
}

type tokenKind uint8

const (
	tokNone tokenKind = iota
	tokWord
	tokQuoted // `identifier`
	tokString // 'text' or "text"
	tokSymbol
)

// tokenize splits the first max tokens of a statement, skipping comments
// but reading inside executable comments (/*! ... */ and /*M! ... */).
func tokenize(q string, max int) []token {
	var out []token
	inExec := 0
	i := 0
	for i < len(q) && len(out) < max {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '#' || (c == '-' && strings.HasPrefix(q[i:], "-- ")) || (c == '-' && strings.HasPrefix(q[i:], "--\n")):
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			next, exec := skipComment(q, i)
			if next < 0 {
				return out
			}
			if exec {
				inExec++
			}
			i = next
		case c == '*' && inExec > 0 && strings.HasPrefix(q[i:], "*/"):
			inExec--
			i += 2
		case c == '`' || c == '\'' || c == '"':
			var t token
			t, i = quoted(q, i)
			out = append(out, t)
		case isWordByte(c):
			j := i
			for j < len(q) && isWordByte(q[j]) {
				j++
			}
			w := q[i:j]
			out = append(out, token{kind: tokWord, text: w, upper: strings.ToUpper(w)})
			i = j
		default:
			out = append(out, token{kind: tokSymbol, text: q[i : i+1]})
			i++
		}
	}
	return out
}

// skipComment passes the comment opening at q[i:] ("/*"): a plain one
// whole, or only the opening of an executable one (/*!NNNNN or
// /*M!NNNNN), whose text is read as the statement's (exec). It returns
// where reading goes on, or -1 for a comment never closed.
func skipComment(q string, i int) (next int, exec bool) {
	rest := q[i+2:]
	if !strings.HasPrefix(rest, "!") && !strings.HasPrefix(rest, "M!") {
		end := strings.Index(rest, "*/")
		if end < 0 {
			return -1, false
		}
		return i + 2 + end + 2, false
	}
	i += 2
	if q[i] == 'M' {
		i++
	}
	i++ // '!'
	for i < len(q) && q[i] >= '0' && q[i] <= '9' {
		i++
	}
	return i, true
}

// quoted reads the quoted identifier (`...`) or string ('...' or "...")
// at q[i:], unquoted: a doubled quote stands for itself, and in strings a
// backslash escapes the next byte. It returns the token and where reading
// goes on.
func quoted(q string, i int) (token, int) {
	quote := q[i]
	kind := tokString
	if quote == '`' {
		kind = tokQuoted
	}
	var b strings.Builder
	i++
	for i < len(q) {
		ch := q[i]
		if kind == tokString && ch == '\\' && i+1 < len(q) {
			b.WriteByte(q[i+1])
			i += 2
			continue
		}
		if ch == quote {
			if i+1 < len(q) && q[i+1] == quote {
				b.WriteByte(quote)
				i += 2
				continue
			}
			i++
			break
		}
		b.WriteByte(ch)
		i++
	}
	return token{kind: kind, text: b.String()}, i
}

// isWordByte reports whether a byte can be part of an unquoted word
// (identifiers may hold any non-ASCII character).
func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
