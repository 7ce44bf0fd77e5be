package debezium

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// The documentation examples of Debezium's MySQL connector (create,
// update, delete and truncate events of the customers table), with the
// schema as Debezium 3.6.1's code builds it: the docs still show
// source.snapshot as a boolean and leave out sequence and transaction.
func TestFormatDocsExamples(t *testing.T) {
	anne := row(int64(1004), "Anne", "Kretchmar", "annek@noanswer.org")
	anneMarie := row(int64(1004), "Anne Marie", "Kretchmar", "annek@noanswer.org")
	tests := []struct {
		name   string
		now    int64 // envelope clock, ns
		change cdc.Change
		// want are the fixtures of the records' values (schemas.enable
		// true when full, else the payload only); "" for a tombstone.
		want []string
		full bool
	}{
		{name: "create", now: 1465491411815437158, full: true,
			change: cdc.Change{Op: cdc.OpCreate, After: anne, Source: cdc.Source{
				File: "mysql-bin.000003", EventPos: 154, ThreadID: 7, Time: time.Unix(0, 0),
				Query: "INSERT INTO customers (first_name, last_name, email) VALUES ('Anne', 'Kretchmar', 'annek@noanswer.org')"}},
			want: []string{"customers_create.json"}},
		{name: "update", now: 1465581029523758914,
			change: cdc.Change{Op: cdc.OpUpdate, Before: anne, After: anneMarie, Source: cdc.Source{
				File: "mysql-bin.000003", EventPos: 484, ThreadID: 7, ServerID: 223344, Time: time.UnixMilli(1465581029100),
				Query: "UPDATE customers SET first_name='Anne Marie' WHERE id=1004"}},
			want: []string{"customers_update_payload.json"}},
		{name: "delete", now: 1465581902461842579,
			change: cdc.Change{Op: cdc.OpDelete, Before: anneMarie, Source: cdc.Source{
				File: "mysql-bin.000003", EventPos: 805, ThreadID: 7, ServerID: 223344, Time: time.UnixMilli(1465581902300),
				Query: "DELETE FROM customers WHERE id=1004"}},
			want: []string{"customers_delete_payload.json", ""}},
		{name: "truncate", now: 1465581029523468471,
			change: cdc.Change{Op: cdc.OpTruncate, Source: cdc.Source{
				File: "mysql-bin.000003", EventPos: 484, ThreadID: 7, ServerID: 223344, Time: time.UnixMilli(1465581029100)}},
			want: []string{"customers_truncate_payload.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// include.query shows the statement, as the examples do;
			// skipped.operations=none lets the truncate through.
			s := testSettings(t, "mysql-server-1", "include.query", "true", "skipped.operations", "none")
			f := NewFormatter(s, clockAt(tc.now), "run-1")
			c := tc.change
			c.Table = customers()
			recs, err := f.Change(&c)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(tc.want) {
				t.Fatalf("%d records, want %d", len(recs), len(tc.want))
			}
			for i, r := range recs {
				checkRecord(t, r)
				if r.Topic != "mysql-server-1.inventory.customers" {
					t.Errorf("topic %q", r.Topic)
				}
				if tc.want[i] == "" {
					if r.Value != nil || r.ValueSchema != nil || r.Key == nil {
						t.Errorf("record %d is not a tombstone: %+v", i, r)
					}
					if got := toJSON(t, true, false, false, r.ValueSchema, r.Value); got != nil {
						t.Errorf("tombstone serializes to %s, want nil", got)
					}
					continue
				}
				got := toJSON(t, tc.full, false, false, r.ValueSchema, r.Value)
				sameJSON(t, tc.want[i], got, fixture(t, tc.want[i]))
			}
			if c.Op == cdc.OpTruncate {
				if recs[0].Key != nil || recs[0].KeySchema != nil {
					t.Errorf("truncate has a key: %v", recs[0].Key)
				}
				return
			}
			sameJSON(t, "key", toJSON(t, true, false, true, recs[0].KeySchema, recs[0].Key), fixture(t, "customers_key.json"))
		})
	}
}

// The schema change example of the documentation: ALTER TABLE customers
// ADD middle_name.
func TestFormatSchemaChangeDocsExample(t *testing.T) {
	s := testSettings(t, "mysql-server-1")
	f := NewFormatter(s, clockAt(1651535750300*int64(time.Millisecond)), "run-1")
	tbl := customers()
	tbl.Columns = append(tbl.Columns[:2], append([]cdc.Column{
		{Name: "middle_name", DataType: "varchar", ColumnType: "varchar(255)", Length: 255, Nullable: true, Charset: "utf8mb4", Position: 3},
	}, tbl.Columns[2:]...)...)
	tbl.Columns[3].Position, tbl.Columns[4].Position = 4, 5
	recs, err := f.SchemaChange(&cdc.SchemaChange{DB: "inventory", Kind: "ALTER", Tables: []*cdc.Table{tbl},
		DDL:    "ALTER TABLE customers ADD middle_name varchar(255) AFTER first_name",
		Source: cdc.Source{File: "mysql-bin.000003", EventPos: 570, ServerID: 223344, Time: time.UnixMilli(1651535750218)}})
	if err != nil || len(recs) != 1 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	r := recs[0]
	checkRecord(t, r)
	if r.Topic != "mysql-server-1" {
		t.Errorf("topic %q", r.Topic)
	}
	sameJSON(t, "key", toJSON(t, true, false, true, r.KeySchema, r.Key), fixture(t, "schema_change_key.json"))
	sameJSON(t, "value", toJSON(t, true, false, false, r.ValueSchema, r.Value), fixture(t, "schema_change_alter.json"))
}

// The seed scenario: an order inserted into ecommerce.orders, read with
// each decimal mode and decimal format.
func TestFormatSeedOrders(t *testing.T) {
	src := cdc.Source{File: "mysql-bin-changelog.000003", EventPos: 10464, ServerID: 1, ThreadID: 42, Time: time.UnixMilli(1629108672000)}
	change := func() *cdc.Change {
		return &cdc.Change{Op: cdc.OpCreate, Table: orders(), Source: src,
			After: row(int64(1), int64(1001), "Laptop Bag", cdc.Decimal("50.00"), "2021-08-16 10:11:12")}
	}
	t.Run("string", func(t *testing.T) {
		f := NewFormatter(testSettings(t, "ecommerce-server", "decimal.handling.mode", "string"), clockAt(1629108672501*int64(time.Millisecond)), "r")
		recs, err := f.Change(change())
		if err != nil || len(recs) != 1 {
			t.Fatalf("%d records, %v", len(recs), err)
		}
		r := recs[0]
		checkRecord(t, r)
		if r.Topic != "ecommerce-server.ecommerce.orders" {
			t.Errorf("topic %q", r.Topic)
		}
		got := toJSON(t, false, false, false, r.ValueSchema, r.Value)
		want := fixture(t, "orders_create_string.json")
		// order_date: 2021-08-16 10:11:12 as epoch milliseconds at UTC.
		want.(map[string]any)["after"].(map[string]any)["order_date"] = json.Number("1629108672000")
		sameJSON(t, "value", got, want)
		if k := string(toJSON(t, false, false, true, r.KeySchema, r.Key)); k != `{"order_id":1}` {
			t.Errorf("key %s", k)
		}
	})
	for _, tc := range []struct {
		numeric bool
		want    string
	}{{true, "50.00"}, {false, `"E4g="`}} { // 5000, two's complement, base64
		f := NewFormatter(testSettings(t, "ecommerce-server"), clockAt(0), "r")
		recs, err := f.Change(change())
		if err != nil {
			t.Fatal(err)
		}
		checkRecord(t, recs[0])
		got := toJSON(t, false, tc.numeric, false, recs[0].ValueSchema, recs[0].Value)
		price, _ := json.Marshal(payloadOf(t, got, "after", "price"))
		if string(price) != tc.want {
			t.Errorf("numeric=%v: price %s, want %s", tc.numeric, price, tc.want)
		}
		for path, want := range map[[2]string]string{
			{"source", "name"}: "ecommerce-server", {"op", ""}: "c", {"source", "db"}: "ecommerce", {"source", "table"}: "orders",
		} {
			p := []string{path[0]}
			if path[1] != "" {
				p = append(p, path[1])
			}
			if v := payloadOf(t, got, p...); v != want {
				t.Errorf("%v = %v, want %s", p, v, want)
			}
		}
		if v := payloadOf(t, got, "after", "order_date"); v != json.Number("1629108672000") {
			t.Errorf("order_date %v", v)
		}
	}
}

// An update that changes the primary key is a delete, a tombstone and a
// create, which name each other's key in headers.
func TestFormatPrimaryKeyChange(t *testing.T) {
	for _, tombstones := range []bool{true, false} {
		s := testSettings(t, "mysql-server-1", "tombstones.on.delete", map[bool]string{true: "true", false: "false"}[tombstones])
		f := NewFormatter(s, clockAt(0), "run-1")
		recs, err := f.Change(&cdc.Change{Op: cdc.OpUpdate, Table: customers(),
			Before: row(int64(1004), "Anne", "K", "a@x"), After: row(int64(1005), "Anne", "K", "a@x"),
			Source: cdc.Source{File: "f.000001", EventPos: 4}})
		if err != nil {
			t.Fatal(err)
		}
		ops := []string{"d", "c"}
		if tombstones {
			ops = []string{"d", "", "c"}
		}
		if len(recs) != len(ops) {
			t.Fatalf("tombstones=%v: %d records", tombstones, len(recs))
		}
		for i, r := range recs {
			checkRecord(t, r)
			key := string(toJSON(t, false, false, true, r.KeySchema, r.Key))
			var op any
			if r.Value != nil {
				op, _ = r.Value.(*data.Struct).Get("op")
			}
			if ops[i] == "" {
				if r.Value != nil {
					t.Errorf("record %d is not a tombstone", i)
				}
				op = ""
			}
			if op != ops[i] {
				t.Errorf("record %d op %v, want %s", i, op, ops[i])
			}
			wantKey, header, headerKey := `{"id":1004}`, pkUpdateNewKeyHeader, `{"id":1005}`
			if ops[i] == "c" {
				wantKey, header, headerKey = `{"id":1005}`, pkUpdateOldKeyHeader, `{"id":1004}`
			}
			if key != wantKey {
				t.Errorf("record %d key %s, want %s", i, key, wantKey)
			}
			if len(r.Headers) == 0 || r.Headers[0].Key != header {
				t.Fatalf("record %d headers %+v", i, r.Headers)
			}
			if h := string(toJSON(t, false, false, true, r.Headers[0].Schema, r.Headers[0].Value)); h != headerKey {
				t.Errorf("record %d header %s = %s, want %s", i, header, h, headerKey)
			}
		}
	}
}

// An update keeping the key is one update; a delete without tombstones is
// one record.
func TestFormatOperationsAndSkips(t *testing.T) {
	tbl := customers()
	a, b := row(int64(1), "A", "B", "e"), row(int64(1), "A2", "B", "e")
	tests := []struct {
		name  string
		props []string
		c     cdc.Change
		ops   []string
	}{
		{"update", nil, cdc.Change{Op: cdc.OpUpdate, Before: a, After: b}, []string{"u"}},
		{"delete", nil, cdc.Change{Op: cdc.OpDelete, Before: a}, []string{"d", ""}},
		{"delete without tombstone", []string{"tombstones.on.delete", "false"}, cdc.Change{Op: cdc.OpDelete, Before: a}, []string{"d"}},
		{"truncate skipped by default", nil, cdc.Change{Op: cdc.OpTruncate}, nil},
		{"truncate", []string{"skipped.operations", "none"}, cdc.Change{Op: cdc.OpTruncate}, []string{"t"}},
		{"skipped creates", []string{"skipped.operations", "c,u"}, cdc.Change{Op: cdc.OpCreate, After: a}, nil},
		{"snapshot reads are never skipped", []string{"skipped.operations", "c,u,d,t"},
			cdc.Change{Op: cdc.OpRead, After: a, Source: cdc.Source{Snapshot: "first"}}, []string{"r"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFormatter(testSettings(t, "p", tc.props...), clockAt(0), "r")
			c := tc.c
			c.Table = tbl
			recs, err := f.Change(&c)
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, r := range recs {
				checkRecord(t, r)
				if r.Value == nil {
					ops = append(ops, "")
					continue
				}
				op, _ := r.Value.(*data.Struct).Get("op")
				ops = append(ops, op.(string))
			}
			if len(ops) != len(tc.ops) {
				t.Fatalf("ops %q, want %q", ops, tc.ops)
			}
			for i := range ops {
				if ops[i] != tc.ops[i] {
					t.Fatalf("ops %q, want %q", ops, tc.ops)
				}
			}
		})
	}
}

// Debezium's extended headers are on every change and schema change
// record, and off with extended.headers.enabled=false.
func TestFormatExtendedHeaders(t *testing.T) {
	for _, on := range []bool{true, false} {
		s := testSettings(t, "srv", "extended.headers.enabled", map[bool]string{true: "true", false: "false"}[on])
		f := NewFormatter(s, clockAt(0), "5d3c")
		recs, err := f.Change(&cdc.Change{Op: cdc.OpCreate, Table: customers(), After: row(int64(1), "a", "b", "c")})
		if err != nil {
			t.Fatal(err)
		}
		sc, _ := f.SchemaChange(&cdc.SchemaChange{DB: "inventory", DDL: "CREATE DATABASE inventory", Database: true})
		for _, r := range append(recs, sc...) {
			got := map[string]any{}
			for _, h := range r.Headers {
				got[h.Key] = h.Value
			}
			want := map[string]any{}
			if on {
				want = map[string]any{contextLogicalName: "srv", contextTaskID: "0", contextConnectorName: "mysql", contextRunID: "5d3c"}
			}
			if len(got) != len(want) {
				t.Errorf("headers %v, want %v", got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("header %s = %v, want %v", k, got[k], v)
				}
			}
		}
	}
}

// Schema change records for each kind of statement.
func TestFormatSchemaChanges(t *testing.T) {
	src := cdc.Source{File: "b.000002", EventPos: 99, ServerID: 1, Time: time.UnixMilli(1000)}
	inv2 := customers()
	inv2.Name = "customers2"
	tests := []struct {
		name     string
		props    []string
		sc       cdc.SchemaChange
		key      string
		changes  []string // each record's tableChanges, without table details
		tableSrc any
	}{
		{name: "create database", sc: cdc.SchemaChange{DB: "shop", DDL: "CREATE DATABASE shop", Database: true, Kind: "CREATE"},
			key: `{"databaseName":"shop"}`, changes: []string{`[]`}, tableSrc: nil},
		{name: "drop database", sc: cdc.SchemaChange{DB: "inventory", DDL: "DROP DATABASE inventory", Database: true, Kind: "DROP", Tables: []*cdc.Table{customers()}},
			key: `{"databaseName":"inventory"}`, changes: []string{`[]`}, tableSrc: nil},
		{name: "drop table", sc: cdc.SchemaChange{DB: "inventory", DDL: "DROP TABLE customers", Kind: "DROP", Tables: []*cdc.Table{customers()}},
			key: `{"databaseName":"inventory"}`, changes: []string{`[{"type":"DROP","id":"\"inventory\".\"customers\"","table":null}]`}, tableSrc: "customers"},
		{name: "drop two tables: a record each", sc: cdc.SchemaChange{DB: "inventory", DDL: "DROP TABLE customers, customers2", Kind: "DROP", Tables: []*cdc.Table{customers(), inv2}},
			key: `{"databaseName":"inventory"}`, changes: []string{
				`[{"type":"DROP","id":"\"inventory\".\"customers\"","table":null}]`,
				`[{"type":"DROP","id":"\"inventory\".\"customers2\"","table":null}]`}, tableSrc: "customers,customers2"},
		{name: "create table in another database", sc: cdc.SchemaChange{DB: "other", DDL: "CREATE TABLE inventory.customers (...)", Kind: "CREATE", Tables: []*cdc.Table{customers()}},
			key: `{"databaseName":"inventory"}`, changes: []string{`[{"type":"CREATE","id":"\"inventory\".\"customers\""}]`}, tableSrc: "customers"},
		{name: "rename", sc: cdc.SchemaChange{DB: "inventory", DDL: "RENAME TABLE customers TO customers2", Kind: "ALTER", Tables: []*cdc.Table{inv2}, Before: []*cdc.Table{customers()}},
			key: `{"databaseName":"inventory"}`, changes: []string{`[{"type":"ALTER","id":"\"inventory\".\"customers2\""}]`}, tableSrc: "customers2"},
		{name: "other statement", sc: cdc.SchemaChange{DB: "inventory", DDL: "CREATE VIEW v AS SELECT 1"},
			key: `{"databaseName":"inventory"}`, changes: []string{`[]`}, tableSrc: nil},
		{name: "truncate is not a schema change", sc: cdc.SchemaChange{DB: "inventory", DDL: "TRUNCATE TABLE customers", Kind: "TRUNCATE", Tables: []*cdc.Table{customers()}}},
		{name: "include.schema.changes=false", props: []string{"include.schema.changes", "false"},
			sc: cdc.SchemaChange{DB: "shop", DDL: "CREATE DATABASE shop", Database: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFormatter(testSettings(t, "srv", tc.props...), clockAt(2e9), "r")
			sc := tc.sc
			sc.Source = src
			recs, err := f.SchemaChange(&sc)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(tc.changes) {
				t.Fatalf("%d records, want %d", len(recs), len(tc.changes))
			}
			for i, r := range recs {
				checkRecord(t, r)
				if r.Topic != "srv" {
					t.Errorf("topic %q", r.Topic)
				}
				if k := string(toJSON(t, false, false, true, r.KeySchema, r.Key)); k != tc.key {
					t.Errorf("key %s, want %s", k, tc.key)
				}
				v := toJSON(t, false, false, false, r.ValueSchema, r.Value)
				changes := payloadOf(t, v, "tableChanges").([]any)
				for _, ch := range changes {
					if tbl, ok := ch.(map[string]any)["table"].(map[string]any); ok {
						if len(tbl["columns"].([]any)) != 4 {
							t.Errorf("table columns %v", tbl["columns"])
						}
						delete(ch.(map[string]any), "table")
					}
				}
				sameJSON(t, "tableChanges", mustJSON(t, changes), decode(t, []byte(tc.changes[i])))
				if got := payloadOf(t, v, "source", "table"); got != tc.tableSrc {
					t.Errorf("source.table %v, want %v", got, tc.tableSrc)
				}
				if got := payloadOf(t, v, "ddl"); got != sc.DDL {
					t.Errorf("ddl %v", got)
				}
				if got := payloadOf(t, v, "ts_ms"); got != json.Number("2000") {
					t.Errorf("ts_ms %v", got)
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// provide.transaction.metadata: a BEGIN record before a transaction's
// first change, a transaction block in each change, and an END record at
// the boundary, as Debezium's TransactionMonitor makes them.
func TestFormatTransactionMetadata(t *testing.T) {
	s := testSettings(t, "srv", "provide.transaction.metadata", "true")
	f := NewFormatter(s, clockAt(0), "r")
	f.Boundary(cdc.Position{File: "b.000001", Pos: 120})
	other := orders()
	src := func(row int) cdc.Source {
		return cdc.Source{File: "b.000001", EventPos: 300, Row: row, Time: time.UnixMilli(5000), Pos: cdc.Position{File: "b.000001", Pos: 120}}
	}
	var all []*data.Record
	for i, c := range []*cdc.Change{
		{Op: cdc.OpCreate, Table: customers(), After: row(int64(1), "a", "b", "c"), Source: src(0)},
		{Op: cdc.OpCreate, Table: other, After: row(int64(7), nil, nil, nil, nil), Source: src(1)},
		{Op: cdc.OpDelete, Table: customers(), Before: row(int64(1), "a", "b", "c"), Source: src(2)},
	} {
		recs, err := f.Change(c)
		if err != nil {
			t.Fatal(i, err)
		}
		all = append(all, recs...)
	}
	all = append(all, f.Boundary(cdc.Position{File: "b.000001", Pos: 900})...)
	var got []string
	for _, r := range all {
		checkRecord(t, r)
		got = append(got, r.Topic+" "+string(toJSON(t, false, false, false, r.ValueSchema, r.Value)))
	}
	id := `"file=b.000001,pos=120"`
	want := []string{
		`srv.transaction {"status":"BEGIN","id":` + id + `,"event_count":null,"data_collections":null,"ts_ms":5000}`,
		"srv.inventory.customers " + `{"id":` + id + `,"total_order":1,"data_collection_order":1}`,
		"srv.ecommerce.orders " + `{"id":` + id + `,"total_order":2,"data_collection_order":1}`,
		"srv.inventory.customers " + `{"id":` + id + `,"total_order":3,"data_collection_order":2}`,
		"srv.inventory.customers ", // the tombstone
		`srv.transaction {"status":"END","id":` + id + `,"event_count":3,"data_collections":[{"data_collection":"inventory.customers","event_count":2},{"data_collection":"ecommerce.orders","event_count":1}],"ts_ms":5000}`,
	}
	if len(got) != len(want) {
		t.Fatalf("records:\n%q", got)
	}
	for i := range want {
		if i >= 1 && i <= 3 {
			// Only the transaction block of change events.
			gt, gv, _ := cut(got[i])
			wt, wv, _ := cut(want[i])
			if gt != wt {
				t.Errorf("record %d topic %s, want %s", i, gt, wt)
			}
			sameJSON(t, "transaction block", mustJSON(t, payloadOf(t, []byte(gv), "transaction")), decode(t, []byte(wv)))
			continue
		}
		if got[i] != want[i] {
			t.Errorf("record %d:\ngot  %s\nwant %s", i, got[i], want[i])
		}
	}
	// Keys are {id}.
	if k := string(toJSON(t, false, false, true, all[0].KeySchema, all[0].Key)); k != `{"id":`+id+`}` {
		t.Errorf("BEGIN key %s", k)
	}
	// A GTID names the transaction.
	recs, _ := f.Change(&cdc.Change{Op: cdc.OpCreate, Table: customers(), After: row(int64(2), "a", "b", "c"),
		Source: cdc.Source{GTID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23"}})
	if v, _ := recs[0].Value.(*data.Struct).Get("id"); v != "3e11fa47-71ca-11e1-9e33-c80aa9429562:23" {
		t.Errorf("BEGIN id %v", v)
	}
	// Without the setting, the transaction block stays null.
	plain := NewFormatter(testSettings(t, "srv"), clockAt(0), "r")
	recs, _ = plain.Change(&cdc.Change{Op: cdc.OpCreate, Table: customers(), After: row(int64(2), "a", "b", "c")})
	if len(recs) != 1 || plain.Boundary(cdc.Position{}) != nil {
		t.Fatalf("records without transaction metadata: %d", len(recs))
	}
	if tx, _ := recs[0].Value.(*data.Struct).Get("transaction"); tx != nil {
		t.Errorf("transaction %v", tx)
	}
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestFormatHeartbeat(t *testing.T) {
	for _, tc := range []struct {
		props []string
		topic string
	}{
		{nil, "__debezium-heartbeat.srv"},
		{[]string{"topic.heartbeat.prefix", "hb"}, "hb.srv"},
		{[]string{"heartbeat.topics.prefix", "old"}, "old.srv"},
	} {
		f := NewFormatter(testSettings(t, "srv", tc.props...), clockAt(7e6), "r")
		r := f.Heartbeat()
		checkRecord(t, r)
		if r.Topic != tc.topic {
			t.Errorf("topic %q, want %q", r.Topic, tc.topic)
		}
		k := toJSON(t, true, false, true, r.KeySchema, r.Key)
		v := toJSON(t, true, false, false, r.ValueSchema, r.Value)
		if string(k) != `{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1},"payload":{"serverName":"srv"}}` {
			t.Errorf("key %s", k)
		}
		if string(v) != `{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.Heartbeat","version":1},"payload":{"ts_ms":7}}` {
			t.Errorf("value %s", v)
		}
	}
}

// Snapshot reads carry op "r" and Debezium's snapshot markers: first,
// first_in_data_collection, true, last_in_data_collection, last.
func TestFormatSnapshotMarkers(t *testing.T) {
	f := NewFormatter(testSettings(t, "srv"), clockAt(0), "r")
	type read struct {
		table  *cdc.Table
		marker string
	}
	c, o := customers(), orders()
	reads := []read{{c, "first"}, {c, "true"}, {c, "true"}, {o, "true"}, {o, "true"}, {o, "last"}}
	var recs []*data.Record
	for _, rd := range reads {
		after := row(int64(1), "a", "b", "c")
		if rd.table == o {
			after = row(int64(1), nil, nil, nil, nil)
		}
		out, err := f.Change(&cdc.Change{Op: cdc.OpRead, Table: rd.table, After: after, Source: cdc.Source{Snapshot: rd.marker}})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, out...)
	}
	// What the connector does as it hands records out.
	for i := 0; i+1 < len(recs); i++ {
		markLastInTable(recs[i], recs[i+1])
	}
	want := []string{"first", "last_in_data_collection", "last_in_data_collection", "first_in_data_collection", "true", "last"}
	want[1] = "true" // customers' second read is followed by another customers read
	for i, r := range recs {
		checkRecord(t, r)
		v := toJSON(t, false, false, false, r.ValueSchema, r.Value)
		if got := payloadOf(t, v, "source", "snapshot"); got != want[i] {
			t.Errorf("read %d: snapshot %v, want %s", i, got, want[i])
		}
		if got := payloadOf(t, v, "op"); got != "r" {
			t.Errorf("read %d: op %v", i, got)
		}
		if got := payloadOf(t, v, "source", "thread"); got != nil {
			t.Errorf("read %d: thread %v", i, got)
		}
	}
}

// column.exclude.list drops columns from values but not from keys;
// tables without a primary key have null keys.
func TestFormatColumnFilterAndKeyless(t *testing.T) {
	f := NewFormatter(testSettings(t, "srv", "column.exclude.list", `inventory\.customers\.(id|email)`), clockAt(0), "r")
	recs, err := f.Change(&cdc.Change{Op: cdc.OpCreate, Table: customers(), After: row(int64(9), "a", "b", "c")})
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, recs[0])
	v := toJSON(t, false, false, false, recs[0].ValueSchema, recs[0].Value)
	if got := string(mustJSON(t, payloadOf(t, v, "after"))); got != `{"first_name":"a","last_name":"b"}` {
		t.Errorf("after %s", got)
	}
	if k := string(toJSON(t, false, false, true, recs[0].KeySchema, recs[0].Key)); k != `{"id":9}` {
		t.Errorf("key %s", k)
	}
	keyless := customers()
	keyless.PrimaryKey = nil
	recs, err = f.Change(&cdc.Change{Op: cdc.OpDelete, Table: keyless, Before: row(int64(9), "a", "b", "c")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		checkRecord(t, r)
		if r.Key != nil || r.KeySchema != nil {
			t.Errorf("keyless table key %v", r.Key)
		}
	}
}

// A table's schemas are rebuilt when its definition changes.
func TestFormatSchemaEvolution(t *testing.T) {
	f := NewFormatter(testSettings(t, "srv"), clockAt(0), "r")
	t1 := customers()
	recs, _ := f.Change(&cdc.Change{Op: cdc.OpCreate, Table: t1, After: row(int64(1), "a", "b", "c")})
	t2 := customers()
	t2.Columns = append(t2.Columns, cdc.Column{Name: "age", DataType: "int", ColumnType: "int", Nullable: true, Position: 5})
	recs2, err := f.Change(&cdc.Change{Op: cdc.OpCreate, Table: t2, After: row(int64(2), "a", "b", "c", int64(30))})
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, recs2[0])
	if recs[0].ValueSchema == recs2[0].ValueSchema || len(f.tables) != 1 {
		t.Errorf("schema not rebuilt (cache holds %d)", len(f.tables))
	}
	v := toJSON(t, false, false, false, recs2[0].ValueSchema, recs2[0].Value)
	if got := payloadOf(t, v, "after", "age"); got != json.Number("30") {
		t.Errorf("age %v", got)
	}
	// A row narrower than its table fails loudly rather than shift values.
	if _, err := f.Change(&cdc.Change{Op: cdc.OpCreate, Table: t2, After: row(int64(2), "a")}); err == nil {
		t.Error("a row narrower than its table was accepted")
	}
	if _, err := f.Change(&cdc.Change{Op: cdc.OpCreate, Table: &cdc.Table{DB: "x", Name: "y", PrimaryKey: []string{"nope"}}}); err == nil {
		t.Error("a primary key column that does not exist was accepted")
	}
}
