package maxwell

import (
	"testing"
)

// rowValues makes a value lookup for IncludeRow from Java strings; a
// nil pointer is a null value.
func rowValues(m map[string]*string) func(string) (string, bool, bool) {
	return func(c string) (string, bool, bool) {
		v, ok := m[c]
		if !ok {
			return "", false, false
		}
		if v == nil {
			return "null", true, true
		}
		return *v, false, true
	}
}

func sp(s string) *string { return &s }

func TestFilterParse(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"include:/foo.*/.bar", "include: /foo.*/.bar"},
		{"blacklist:foo.*", "blacklist: foo.*"},
		{"include:`foo`.*", "include: foo.*"},
		{"include:'foo'.*", "include: foo.*"},
		{`include:"foo".*`, "include: foo.*"},
		{"include: 1foo.bar", "include: 1foo.bar"},
		{"include: _foo._bar", "include: _foo._bar"},
		{`include: /\w+ \/[a-z]*1/.*`, `include: /\w+ \/[a-z]*1/.*`},
		{"include: 1foo.bar.column=foo", "include: 1foo.bar.column=foo"},
		{"exclude: *.*, include: foo.bar.col=null", "exclude: *.*, include: foo.bar.col=null"},
		{"EXCLUDE: foodb.*,include: foodb.tbl, include: foodb./table_\\d+/", `exclude: foodb.*, include: foodb.tbl, include: foodb./table_\d+/`},
		{"", ""},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.in, "maxwell")
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", c.in, err)
			continue
		}
		if got := f.String(); got != c.want {
			t.Errorf("ParseFilter(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"bl: seria.*", "include foo.bar", "include: foo", "include: foo.bar.`col`=x",
		"include: foo./unterminated", "include: foo.bar.col", "include: my-db.*", "include: /(?=x)/.*"} {
		if _, err := ParseFilter(bad, "maxwell"); err == nil {
			t.Errorf("ParseFilter(%q) succeeded", bad)
		}
	}
}

func TestFilterIncludes(t *testing.T) {
	cases := []struct {
		filter    string
		db, table string
		want      bool
	}{
		{"", "any", "thing", true},
		{"exclude: *.*, include: foo.bar", "foo", "bar", true},
		{"exclude: *.*, include: foo.bar", "anything", "else", false},
		{"blacklist: seria.*", "foo", "bar", true},
		{"blacklist: seria.*", "seria", "var", false},
		{"exclude: foodb.*, include: foodb.tbl, include: foodb./table_\\d+/", "foodb", "tbl", true},
		{"exclude: foodb.*, include: foodb.tbl, include: foodb./table_\\d+/", "foodb", "table_12", true},
		{"exclude: foodb.*, include: foodb.tbl, include: foodb./table_\\d+/", "foodb", "other", false},
		{"exclude: foodb.*, include: foodb.tbl, include: foodb./table_\\d+/", "bardb", "other", true},
		{"exclude: *.*, include: db1.*", "db1", "x", true},
		{"exclude: *.*, include: db1.*", "db2", "x", false},
		// names are anchored, regexps are searched
		{"exclude: foo.*", "foobar", "x", true},
		{"exclude: /foo/.*", "xfoobar", "x", false},
		// later rules win
		{"include: a.*, exclude: a.*", "a", "t", false},
		// column rules are ignored by the table check
		{"exclude: *.*, include: foo.bar.col=val", "foo", "bar", false},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.filter, "maxwell")
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Includes(c.db, c.table); got != c.want {
			t.Errorf("%q: Includes(%s, %s) = %v, want %v", c.filter, c.db, c.table, got, c.want)
		}
	}
}

func TestFilterColumnValues(t *testing.T) {
	cases := []struct {
		filter    string
		db, table string
		values    map[string]*string
		want      bool
	}{
		{"exclude: *.*, include: foo.bar.col=val", "foo", "bar", map[string]*string{"col": sp("val")}, true},
		{"exclude: *.*, include: foo.bar.col=val", "foo", "bar", map[string]*string{"col": sp("other")}, false},
		{"exclude: *.*, include: no.go.col=val", "foo", "bar", map[string]*string{"col": sp("val")}, false},
		{"exclude: *.*, include: foo.bar.col=null", "foo", "bar", map[string]*string{"col": nil}, true},
		{"exclude: *.*, include: foo.bar.col=null", "foo", "bar", map[string]*string{"col": sp("null")}, true},
		{"exclude: *.*, include: foo.bar.col=null", "foo", "bar", map[string]*string{"col": sp("NULL")}, true},
		{"exclude: *.*, include: foo.bar.col=null", "foo", "bar", map[string]*string{}, false},
		{"exclude: db.tbl.col = reject", "db", "tbl", map[string]*string{"col": sp("reject")}, false},
		{"exclude: db.tbl.col = reject", "db", "tbl", map[string]*string{"col": sp("keep")}, true},
		// column filters are ignored where the column is absent
		{"exclude: *.*.col_a = *", "db", "t1", map[string]*string{"col_a": sp("x")}, false},
		{"exclude: *.*.col_a = *", "db", "t2", map[string]*string{"col_b": sp("x")}, true},
		// a wildcard matches null, a pattern does not
		{"exclude: *.*.col_a = *", "db", "t1", map[string]*string{"col_a": nil}, false},
		{"exclude: *.*.col_a = /x/", "db", "t1", map[string]*string{"col_a": nil}, true},
		{"exclude: db.t.n = 5", "db", "t", map[string]*string{"n": sp("5")}, false},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.filter, "maxwell")
		if err != nil {
			t.Fatal(err)
		}
		if got := f.IncludeRow(c.db, c.table, rowValues(c.values)); got != c.want {
			t.Errorf("%q: IncludeRow(%s.%s, %v) = %v, want %v", c.filter, c.db, c.table, c.values, got, c.want)
		}
	}
}

func TestFilterIncludeTable(t *testing.T) {
	f, err := ParseFilter("exclude: *.*, include: shop.*, include: logs.events.kind=order", "mx")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		db, table string
		want      bool
	}{
		{"shop", "orders", true},
		{"other", "t", false},
		{"logs", "events", true}, // a column rule may include some rows
		{"logs", "other", false},
		{"mx", "bootstrap", true}, // triggers bootstraps
		{"mx", "positions", false},
		{"mysql", "rds_heartbeat2", false},
		{"mysql", "ha_health_check", false},
	} {
		if got := f.IncludeTable(c.db, c.table); got != c.want {
			t.Errorf("IncludeTable(%s, %s) = %v, want %v", c.db, c.table, got, c.want)
		}
	}
	all, _ := ParseFilter("", "maxwell")
	if all.IncludeTable("mysql", "rds_heartbeat2") || !all.IncludeTable("mysql", "user") {
		t.Error("system blacklist wrong")
	}
}

func TestFilterBlacklisted(t *testing.T) {
	f, err := ParseFilter("blacklist: bad_db.*, exclude: other.*, include: bad_db.x", "maxwell")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		db, table string
		want      bool
	}{
		{"bad_db", "anything", true},
		{"bad_db", "x", true}, // includes do not lift a blacklist
		{"other", "t", false},
		{"maxwell", "positions", false},
		{"mysql", "rds_heartbeat", true},
	} {
		if got := f.Blacklisted(c.db, c.table); got != c.want {
			t.Errorf("Blacklisted(%s, %s) = %v, want %v", c.db, c.table, got, c.want)
		}
	}
}

func TestLegacyFilter(t *testing.T) {
	cases := []struct {
		args [6]string
		want string
	}{
		{[6]string{"db1,db2", "", "", "", "", ""}, "exclude: *.*, include: db1.*, include: db2.*"},
		{[6]string{"", "skip", "", "", "", ""}, "exclude: skip.*"},
		{[6]string{"", "", "t1", "t2", "", ""}, "exclude: *.*, include: *.t1, exclude: *.t2"},
		{[6]string{"", "", "", "", "bad", "worse"}, "blacklist: bad.*, blacklist: *.worse"},
		{[6]string{"", "", "", "", "", ""}, ""},
	}
	for _, c := range cases {
		a := c.args
		if got := legacyFilter(a[0], a[1], a[2], a[3], a[4], a[5]); got != c.want {
			t.Errorf("legacyFilter(%q) = %q, want %q", a, got, c.want)
		}
	}
}
