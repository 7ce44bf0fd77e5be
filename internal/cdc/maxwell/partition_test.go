package maxwell

import (
	"regexp"
	"testing"
)

func TestPartitionKeys(t *testing.T) {
	o := DefaultOutputConfig()
	seed := rowFromChange(seedUpdate(), &o)
	composite := func() *rowEvent {
		tbl := ordersTable()
		tbl.PrimaryKey = []string{"customer_id", "item_description", "price"}
		c := seedUpdate()
		c.Table = tbl
		return rowFromChange(c, &o)
	}
	keyless := func() *rowEvent {
		tbl := ordersTable()
		tbl.PrimaryKey = nil
		c := seedUpdate()
		c.Table = tbl
		return rowFromChange(c, &o)
	}
	nullKey := func() *rowEvent {
		tbl := ordersTable()
		tbl.PrimaryKey = []string{"customer_id"}
		c := seedUpdate()
		c.Table = tbl
		c.After[1] = nil
		return rowFromChange(c, &o)
	}
	noXID := func() *rowEvent {
		c := seedUpdate()
		c.Source.XID = 0
		return rowFromChange(c, &o)
	}
	cases := []struct {
		name                  string
		by, columns, fallback string
		md5                   bool
		row                   *rowEvent
		want                  string
	}{
		{"database (default)", "", "", "", false, seed, "ecommerce"},
		{"table", "table", "", "", false, seed, "orders"},
		{"primary key", "primary_key", "", "", false, seed, "1"},
		{"composite primary key is concatenated", "primary_key", "", "", false, composite(), "43widget55.50"},
		{"keyless table: database+table", "primary_key", "", "", false, keyless(), "ecommerceorders"},
		{"null key values", "primary_key", "", "", false, nullKey(), "None"},
		{"transaction id", "transaction_id", "", "", false, seed, "23396"},
		{"no transaction id", "transaction_id", "", "", false, noXID(), "null"},
		{"thread id", "thread_id", "", "", false, seed, "108"},
		{"columns", "column", "customer_id, item_description", "database", false, seed, "43widget"},
		{"columns missing: fallback", "column", "nope", "table", false, seed, "orders"},
		{"columns null: fallback", "column", "customer_id", "primary_key", false, nullKey(), "None"},
		{"md5", "database", "", "", true, seed, "db96ff26706a1a3d595ecb67266c2d94"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := newPartitioner(c.by, c.columns, c.fallback, c.md5)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.key(c.row); got != c.want {
				t.Errorf("key = %q, want %q", got, c.want)
			}
		})
	}
	r, _ := newPartitioner("random", "", "", false)
	a, b := r.key(seed), r.key(seed)
	if !regexp.MustCompile("^[A-Za-z0-9]{10}$").MatchString(a) || a == b {
		t.Errorf("random keys %q, %q", a, b)
	}
}

func TestPartitionerErrors(t *testing.T) {
	for _, c := range [][3]string{
		{"bogus", "", ""},
		{"column", "", "database"},
		{"column", "a", ""},
		{"database", "", "bogus"},
	} {
		if _, err := newPartitioner(c[0], c[1], c[2], false); err == nil {
			t.Errorf("newPartitioner(%q) succeeded", c)
		}
	}
}

func TestDDLPartitionKey(t *testing.T) {
	table, _ := newPartitioner("table", "", "", false)
	pk, _ := newPartitioner("primary_key", "", "", false)
	db := &ddlEvent{typ: "database-create", database: "shop"}
	tbl := &ddlEvent{typ: "table-create", database: "shop", table: "orders"}
	if got := table.ddlKey(db); got != "shop" {
		t.Errorf("table key of a database event = %q", got)
	}
	if got := table.ddlKey(tbl); got != "orders" {
		t.Errorf("table key of a table event = %q", got)
	}
	if got := pk.ddlKey(tbl); got != "shoporders" {
		t.Errorf("primary key of a table event = %q", got)
	}
	if got := pk.ddlKey(db); got != "shopnull" {
		t.Errorf("primary key of a database event = %q", got)
	}
}
