package maxwell

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Filter is Maxwell's `filter` setting: an ordered list of rules, each
// "include:", "exclude:" or "blacklist:" followed by db.table patterns
// (a name, `*`, or /regex/), optionally .column=value. Later rules win;
// everything is included when no rule matches. Names are regular
// expressions anchored at both ends ("^name$", as Maxwell compiles
// them); /regex/ patterns are searched for anywhere in the name.
type Filter struct {
	rules []filterRule
	// maxwellDB is schema_database, whose bootstrap table is always
	// read and whose other tables never are.
	maxwellDB string
}

type ruleType int

const (
	ruleInclude ruleType = iota
	ruleExclude
	ruleBlacklist
)

type filterRule struct {
	typ       ruleType
	db, table *regexp.Regexp
	// column and value are set for column-value rules.
	column    string
	value     *regexp.Regexp
	valueNull bool // the value pattern is "null"
}

// ParseFilter parses a filter specification for a Maxwell whose state
// lives in maxwellDB.
func ParseFilter(spec, maxwellDB string) (*Filter, error) {
	p := &filterParser{s: spec}
	f := &Filter{maxwellDB: maxwellDB}
	for {
		p.skipSpace()
		if p.eof() {
			return f, nil
		}
		r, err := p.rule()
		if err != nil {
			return nil, fmt.Errorf("invalid filter %q: %w", spec, err)
		}
		f.rules = append(f.rules, r)
	}
}

// legacyFilter builds the filter Maxwell made of its pre-1.17 settings
// (include_dbs, exclude_dbs, include_tables, exclude_tables,
// blacklist_dbs, blacklist_tables), with Maxwell's translation: any
// include means "exclude: *.*" first.
func legacyFilter(includeDBs, excludeDBs, includeTables, excludeTables, blacklistDBs, blacklistTables string) string {
	var rules []string
	each := func(list, format string) {
		if list == "" {
			return
		}
		for _, s := range strings.Split(list, ",") {
			rules = append(rules, fmt.Sprintf(format, strings.TrimSpace(s)))
		}
	}
	each(blacklistDBs, "blacklist: %s.*")
	each(blacklistTables, "blacklist: *.%s")
	if includeDBs != "" || includeTables != "" {
		rules = append(rules, "exclude: *.*")
	}
	each(includeDBs, "include: %s.*")
	each(excludeDBs, "exclude: %s.*")
	each(includeTables, "include: *.%s")
	each(excludeTables, "exclude: *.%s")
	return strings.Join(rules, ", ")
}

// String gives the rules back in Maxwell's notation.
func (f *Filter) String() string {
	parts := make([]string, len(f.rules))
	for i, r := range f.rules {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

// String writes a rule as Maxwell's FilterPattern.toString does.
func (r *filterRule) String() string {
	s := [...]string{"include: ", "exclude: ", "blacklist: "}[r.typ] + patternString(r.db) + "." + patternString(r.table)
	if r.column != "" {
		s += "." + r.column + "=" + patternString(r.value)
	}
	return s
}

func patternString(re *regexp.Regexp) string {
	s := re.String()
	switch {
	case s == "":
		return "*"
	case strings.HasPrefix(s, "^") && strings.HasSuffix(s, "$"):
		return s[1 : len(s)-1]
	}
	return "/" + s + "/"
}

func (r *filterRule) appliesTo(db, table string) bool {
	return r.db.MatchString(db) && r.table.MatchString(table)
}

// Includes is Maxwell's Filter.includes(db, table): whether the table's
// changes are output, judged by the table rules alone (column-value
// rules need a row).
func (f *Filter) Includes(db, table string) bool {
	include := true
	for i := range f.rules {
		r := &f.rules[i]
		if r.column == "" && r.appliesTo(db, table) {
			include = r.typ == ruleInclude
		}
	}
	return include
}

// IncludeTable says whether the binlog engine should deliver a table's
// changes at all: Maxwell's shouldOutputEvent without the column list.
// The schema database's bootstrap table is always read (it triggers
// bootstraps), its other tables never; a table the rules exclude is
// still read when an include column-value rule could bring some of its
// rows back, which IncludeRow then decides row by row.
func (f *Filter) IncludeTable(db, table string) bool {
	if db == f.maxwellDB {
		return table == "bootstrap"
	}
	if systemBlacklisted(db, table) {
		return false
	}
	if f.Includes(db, table) {
		return true
	}
	for i := range f.rules {
		r := &f.rules[i]
		if r.column != "" && r.typ == ruleInclude && r.appliesTo(db, table) {
			return true
		}
	}
	return false
}

// systemBlacklisted is Maxwell's list of tables nobody wants: Alibaba's
// and RDS's replication health checks.
func systemBlacklisted(db, table string) bool {
	return db == "mysql" && (table == "ha_health_check" || strings.HasPrefix(table, "rds_heartbeat"))
}

// IncludeRow is Maxwell's Filter.includes(db, table, data): the table
// rules, and column-value rules matched against the row's values.
// value returns a column's value as Java's toString would print it, and
// whether it is null; ok is false when the table has no such column, in
// which case the rule is ignored.
func (f *Filter) IncludeRow(db, table string, value func(column string) (text string, null, ok bool)) bool {
	if db == f.maxwellDB && table == "bootstrap" {
		return true
	}
	include := true
	for i := range f.rules {
		r := &f.rules[i]
		if !r.appliesTo(db, table) {
			continue
		}
		if r.column == "" {
			include = r.typ == ruleInclude
			continue
		}
		text, null, ok := value(r.column)
		if !ok {
			continue
		}
		var match bool
		switch {
		case r.valueNull:
			match = null || text == "null" || text == "NULL"
		case null:
			match = r.value.String() == "" // a wildcard matches null
		default:
			match = r.value.MatchString(text)
		}
		if match {
			include = r.typ == ruleInclude
		}
	}
	return include
}

// Blacklisted is Maxwell's isTableBlacklisted: the table is ignored
// entirely, schema changes included.
func (f *Filter) Blacklisted(db, table string) bool {
	if systemBlacklisted(db, table) {
		return true
	}
	if db == f.maxwellDB {
		return false
	}
	include := true
	for i := range f.rules {
		r := &f.rules[i]
		if r.typ == ruleBlacklist && r.column == "" && r.appliesTo(db, table) {
			include = false
		}
	}
	return !include
}

// filterParser reads filter text with the token rules of Maxwell's
// StreamTokenizer: words of letters, digits, '_' and non-ASCII
// characters; quoted strings in `, ' or "; everything else one
// character.
type filterParser struct {
	s   string
	pos int
}

func (p *filterParser) eof() bool { return p.pos >= len(p.s) }

func (p *filterParser) skipSpace() {
	for p.pos < len(p.s) && p.s[p.pos] <= ' ' {
		p.pos++
	}
}

func isWordRune(r rune) bool {
	return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r >= 160
}

// token kinds
const (
	tokEOF = iota
	tokWord
	tokQuoted
	tokChar
)

type token struct {
	kind int
	text string
	ch   byte
}

func (p *filterParser) next() (token, error) {
	p.skipSpace()
	if p.eof() {
		return token{kind: tokEOF}, nil
	}
	c := p.s[p.pos]
	switch {
	case c == '`' || c == '\'' || c == '"':
		p.pos++
		var b strings.Builder
		for {
			if p.eof() {
				return token{}, fmt.Errorf("unterminated quote %c", c)
			}
			d := p.s[p.pos]
			p.pos++
			if d == c {
				break
			}
			if d == '\\' && !p.eof() {
				d = p.s[p.pos]
				p.pos++
			}
			b.WriteByte(d)
		}
		return token{kind: tokQuoted, text: b.String()}, nil
	default:
		if r, _ := utf8.DecodeRuneInString(p.s[p.pos:]); !isWordRune(r) {
			p.pos++
			return token{kind: tokChar, ch: c}, nil
		}
		start := p.pos
		for p.pos < len(p.s) {
			r, size := utf8.DecodeRuneInString(p.s[p.pos:])
			if !isWordRune(r) {
				break
			}
			p.pos += size
		}
		return token{kind: tokWord, text: p.s[start:p.pos]}, nil
	}
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of filter"
	case tokChar:
		return fmt.Sprintf("'%c'", t.ch)
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *filterParser) expect(ch byte) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.kind != tokChar || t.ch != ch {
		return fmt.Errorf("expected '%c', saw %s", ch, t)
	}
	return nil
}

func (p *filterParser) rule() (filterRule, error) {
	var r filterRule
	t, err := p.next()
	if err != nil {
		return r, err
	}
	if t.kind != tokWord {
		return r, fmt.Errorf("expected [include, exclude, blacklist] in filter definition, saw %s", t)
	}
	switch strings.ToLower(t.text) {
	case "include":
		r.typ = ruleInclude
	case "exclude":
		r.typ = ruleExclude
	case "blacklist":
		r.typ = ruleBlacklist
	default:
		return r, fmt.Errorf("unknown filter keyword: %s", t.text)
	}
	if err := p.expect(':'); err != nil {
		return r, err
	}
	if r.db, err = p.pattern(); err != nil {
		return r, err
	}
	if err := p.expect('.'); err != nil {
		return r, err
	}
	if r.table, err = p.pattern(); err != nil {
		return r, err
	}
	save := p.pos
	t, err = p.next()
	if err != nil {
		return r, err
	}
	if t.kind == tokChar && t.ch == '.' {
		col, err := p.next()
		if err != nil {
			return r, err
		}
		if col.kind != tokWord {
			return r, fmt.Errorf("expected column name, saw %s", col)
		}
		r.column = col.text
		if err := p.expect('='); err != nil {
			return r, err
		}
		if r.value, err = p.pattern(); err != nil {
			return r, err
		}
		r.valueNull = strings.ToLower(r.value.String()) == "^null$"
		save = p.pos
		t, err = p.next()
		if err != nil {
			return r, err
		}
	}
	if !(t.kind == tokChar && t.ch == ',') {
		p.pos = save
	}
	return r, nil
}

// pattern reads a name (anchored), `*` (anything) or /regex/ (searched).
func (p *filterParser) pattern() (*regexp.Regexp, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	var expr string
	switch {
	case t.kind == tokChar && t.ch == '/':
		var b strings.Builder
		var last byte
		for {
			if p.eof() {
				return nil, fmt.Errorf("unterminated regular expression")
			}
			c := p.s[p.pos]
			p.pos++
			if c == '/' && last != '\\' {
				break
			}
			b.WriteByte(c)
			last = c
		}
		expr = b.String()
	case t.kind == tokChar && t.ch == '*':
		expr = ""
	case t.kind == tokWord || t.kind == tokQuoted:
		expr = "^" + t.text + "$"
	default:
		return nil, fmt.Errorf("expected string or regexp, saw %s", t)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", expr, err)
	}
	return re, nil
}
