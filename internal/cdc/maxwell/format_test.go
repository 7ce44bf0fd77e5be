package maxwell

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
)

// ordersTable is the seed scenario's table.
func ordersTable() *cdc.Table {
	return &cdc.Table{DB: "ecommerce", Name: "orders", Columns: []cdc.Column{
		{Name: "order_id", DataType: "int", ColumnType: "int(11)", AutoIncrement: true, Position: 1},
		{Name: "customer_id", DataType: "int", ColumnType: "int(11)", Nullable: true, Position: 2},
		{Name: "item_description", DataType: "varchar", ColumnType: "varchar(255)", Length: 255, Charset: "utf8mb4", Nullable: true, Position: 3},
		{Name: "price", DataType: "decimal", ColumnType: "decimal(6,2)", Length: 6, Scale: 2, Nullable: true, Position: 4},
		{Name: "order_date", DataType: "datetime", ColumnType: "datetime", Nullable: true, Position: 5},
	}, PrimaryKey: []string{"order_id"}}
}

var seedTime = time.Date(2021, 8, 16, 10, 11, 12, 0, time.UTC) // 1629108672

func seedSource() cdc.Source {
	return cdc.Source{File: "mysql-bin-changelog.000003", EventPos: 10464, XID: 23396, ServerID: 23042,
		ThreadID: 108, GTID: "0-1-5", Time: seedTime, Query: "UPDATE orders SET customer_id = 43, price = 55.50 WHERE order_id = 1"}
}

func seedUpdate() *cdc.Change {
	return &cdc.Change{Op: cdc.OpUpdate, Table: ordersTable(),
		Before: cdc.Row{int64(1), int64(42), "widget", cdc.Decimal("50.00"), "2021-08-16 10:11:12"},
		After:  cdc.Row{int64(1), int64(43), "widget", cdc.Decimal("55.50"), "2021-08-16 10:11:12"},
		Source: seedSource(), TxIndex: 1, TxLast: true}
}

const (
	seedData = `"data":{"order_id":1,"customer_id":43,"item_description":"widget","price":55.50,"order_date":"2021-08-16 10:11:12"}`
	seedOld  = `"old":{"customer_id":42,"price":50.00}`
)

func TestRowJSONFlags(t *testing.T) {
	cases := []struct {
		name   string
		change func() *cdc.Change
		commit bool
		xoff   int64
		set    func(*OutputConfig)
		want   string
	}{
		{name: "defaults, last row of its transaction", change: seedUpdate, commit: true,
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"commit":true,` + seedData + `,` + seedOld + `}`},
		{name: "defaults, inside a transaction (xoffset is on by default)", change: seedUpdate, xoff: 2,
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"xoffset":2,` + seedData + `,` + seedOld + `}`},
		{name: "output_xoffset=false", change: seedUpdate, xoff: 2, set: func(o *OutputConfig) { o.XOffset = false },
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,` + seedData + `,` + seedOld + `}`},
		{name: "output_commit_info=false", change: seedUpdate, commit: true, set: func(o *OutputConfig) { o.CommitInfo = false },
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,` + seedData + `,` + seedOld + `}`},
		{name: "output_binlog_position", change: seedUpdate, commit: true, set: func(o *OutputConfig) { o.BinlogPosition = true },
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"commit":true,"position":"mysql-bin-changelog.000003:10464",` + seedData + `,` + seedOld + `}`},
		{name: "output_gtid_position", change: seedUpdate, commit: true, set: func(o *OutputConfig) { o.GTIDPosition = true },
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"commit":true,"gtid":"0-1-5",` + seedData + `,` + seedOld + `}`},
		{name: "output_server_id", change: seedUpdate, commit: true, set: func(o *OutputConfig) { o.ServerID = true },
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"commit":true,"server_id":23042,` + seedData + `,` + seedOld + `}`},
		{name: "output_thread_id", change: seedUpdate, commit: true, set: func(o *OutputConfig) { o.ThreadID = true },
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"commit":true,"thread_id":108,` + seedData + `,` + seedOld + `}`},
		{name: "output_schema_id has nothing to write", change: seedUpdate, commit: true, set: func(o *OutputConfig) { o.SchemaID = true },
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"commit":true,` + seedData + `,` + seedOld + `}`},
		{name: "output_row_query comes right after table", change: seedUpdate, commit: true, set: func(o *OutputConfig) { o.RowQuery = true },
			want: `{"database":"ecommerce","table":"orders","query":"UPDATE orders SET customer_id = 43, price = 55.50 WHERE order_id = 1","type":"update","ts":1629108672,"xid":23396,"commit":true,` + seedData + `,` + seedOld + `}`},
		{name: "row_query_max_length", change: seedUpdate, commit: true, set: func(o *OutputConfig) { o.RowQuery, o.RowQueryMaxLength = true, 13 },
			want: `{"database":"ecommerce","table":"orders","query":"UPDATE orders","type":"update","ts":1629108672,"xid":23396,"commit":true,` + seedData + `,` + seedOld + `}`},
		{name: "output_primary_keys and columns", change: seedUpdate, commit: true, set: func(o *OutputConfig) { o.PrimaryKeys, o.PrimaryKeyColumns = true, true },
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"commit":true,"primary_key":[1],"primary_key_columns":["order_id"],` + seedData + `,` + seedOld + `}`},
		{name: "every field, in Maxwell's order", change: seedUpdate, commit: true, set: func(o *OutputConfig) {
			o.BinlogPosition, o.GTIDPosition, o.ServerID, o.ThreadID, o.RowQuery, o.PrimaryKeys, o.PrimaryKeyColumns, o.PushTimestamp = true, true, true, true, true, true, true, true
		},
			want: `{"database":"ecommerce","table":"orders","query":"UPDATE orders SET customer_id = 43, price = 55.50 WHERE order_id = 1","type":"update","ts":1629108672,"xid":23396,"commit":true,"position":"mysql-bin-changelog.000003:10464","gtid":"0-1-5","server_id":23042,"thread_id":108,"push_ts":1629108672.523,"primary_key":[1],"primary_key_columns":["order_id"],` + seedData + `,` + seedOld + `}`},
		{name: "underscore_to_camelcase", change: seedUpdate, commit: true, set: func(o *OutputConfig) {
			o.CamelCase, o.ServerID, o.ThreadID, o.PrimaryKeys, o.PrimaryKeyColumns = true, true, true, true, true
		},
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"commit":true,"serverId":23042,"threadId":108,"primaryKey":[1],"primaryKeyColumns":["order_id"],"data":{"orderId":1,"customerId":43,"itemDescription":"widget","price":55.50,"orderDate":"2021-08-16 10:11:12"},"old":{"customerId":42,"price":50.00}}`},
		{name: "exclude_columns", change: seedUpdate, commit: true, set: func(o *OutputConfig) {
			o.ExcludeColumns = []*regexp.Regexp{regexp.MustCompile("^price$"), regexp.MustCompile("date")}
		},
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"commit":true,"data":{"order_id":1,"customer_id":43,"item_description":"widget"},"old":{"customer_id":42}}`},
		{name: "insert with nulls (output_nulls defaults to true)", commit: true, change: func() *cdc.Change {
			return &cdc.Change{Op: cdc.OpCreate, Table: ordersTable(), After: cdc.Row{int64(2), nil, "gadget", nil, "2021-08-16 10:11:12"}, Source: seedSource()}
		},
			want: `{"database":"ecommerce","table":"orders","type":"insert","ts":1629108672,"xid":23396,"commit":true,"data":{"order_id":2,"customer_id":null,"item_description":"gadget","price":null,"order_date":"2021-08-16 10:11:12"}}`},
		{name: "output_nulls=false", commit: true, set: func(o *OutputConfig) { o.Nulls = false }, change: func() *cdc.Change {
			return &cdc.Change{Op: cdc.OpCreate, Table: ordersTable(), After: cdc.Row{int64(2), nil, "gadget", nil, "2021-08-16 10:11:12"}, Source: seedSource()}
		},
			want: `{"database":"ecommerce","table":"orders","type":"insert","ts":1629108672,"xid":23396,"commit":true,"data":{"order_id":2,"item_description":"gadget","order_date":"2021-08-16 10:11:12"}}`},
		{name: "output_nulls=false keeps null primary key values", commit: true, set: func(o *OutputConfig) { o.Nulls, o.PrimaryKeys = false, true }, change: func() *cdc.Change {
			tbl := ordersTable()
			tbl.PrimaryKey = []string{"order_id", "customer_id"}
			return &cdc.Change{Op: cdc.OpCreate, Table: tbl, After: cdc.Row{int64(2), nil, "gadget", nil, nil}, Source: seedSource()}
		},
			want: `{"database":"ecommerce","table":"orders","type":"insert","ts":1629108672,"xid":23396,"commit":true,"primary_key":[2,null],"data":{"order_id":2,"item_description":"gadget"}}`},
		{name: "update to null goes into old", commit: true, change: func() *cdc.Change {
			c := seedUpdate()
			c.After = cdc.Row{int64(1), nil, "widget", cdc.Decimal("50.00"), "2021-08-16 10:11:12"}
			return c
		},
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"commit":true,"data":{"order_id":1,"customer_id":null,"item_description":"widget","price":50.00,"order_date":"2021-08-16 10:11:12"},"old":{"customer_id":42}}`},
		{name: "output_nulls=false: a column set from null leaves old empty, as in Maxwell", commit: true, set: func(o *OutputConfig) { o.Nulls = false }, change: func() *cdc.Change {
			c := seedUpdate()
			c.Before = cdc.Row{int64(1), nil, "widget", cdc.Decimal("55.50"), "2021-08-16 10:11:12"}
			return c
		},
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"commit":true,` + seedData + `,"old":{}}`},
		{name: "update changing nothing has no old", commit: true, change: func() *cdc.Change {
			c := seedUpdate()
			c.After = c.Before
			return c
		},
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"xid":23396,"commit":true,"data":{"order_id":1,"customer_id":42,"item_description":"widget","price":50.00,"order_date":"2021-08-16 10:11:12"}}`},
		{name: "delete carries the old row in data", commit: true, change: func() *cdc.Change {
			c := seedUpdate()
			c.Op, c.After = cdc.OpDelete, nil
			return c
		},
			want: `{"database":"ecommerce","table":"orders","type":"delete","ts":1629108672,"xid":23396,"commit":true,"data":{"order_id":1,"customer_id":42,"item_description":"widget","price":50.00,"order_date":"2021-08-16 10:11:12"}}`},
		{name: "no xid (non-transactional table)", commit: true, change: func() *cdc.Change {
			c := seedUpdate()
			c.Source.XID = 0
			return c
		},
			want: `{"database":"ecommerce","table":"orders","type":"update","ts":1629108672,"commit":true,` + seedData + `,` + seedOld + `}`},
	}
	push := time.Date(2021, 8, 16, 10, 11, 12, 523456789, time.UTC).Truncate(time.Millisecond)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOutputConfig()
			if c.set != nil {
				c.set(&o)
			}
			r := rowFromChange(c.change(), &o)
			r.commit = c.commit
			r.xoffset, r.hasXOffset = c.xoff, true
			got := string(rowJSON(r, &o, push))
			if got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("invalid JSON: %s", got)
			}
		})
	}
}

func TestRowFromChangeSkipsTruncate(t *testing.T) {
	o := DefaultOutputConfig()
	if r := rowFromChange(&cdc.Change{Op: cdc.OpTruncate, Table: ordersTable()}, &o); r != nil {
		t.Fatalf("truncate made a row: %+v", r)
	}
}

func TestBootstrapRowJSON(t *testing.T) {
	o := DefaultOutputConfig()
	o.PrimaryKeys = true
	comment := "nightly"
	start := &rowEvent{typ: "bootstrap-start", database: "fooDB", table: "barTable", ts: 1450557744, pkColumns: []string{"id"}}
	ins := &rowEvent{typ: "bootstrap-insert", database: "fooDB", table: "barTable", ts: 1450557744, pkColumns: []string{"id"},
		data: []field{{"id", numberValue("1")}, {"txt", stringValue("hello")}}, comment: &comment}
	done := &rowEvent{typ: "bootstrap-complete", database: "fooDB", table: "barTable", ts: 1450557744}
	for _, c := range []struct {
		r    *rowEvent
		want string
	}{
		{start, `{"database":"fooDB","table":"barTable","type":"bootstrap-start","ts":1450557744,"primary_key":[null],"data":{}}`},
		{ins, `{"database":"fooDB","table":"barTable","type":"bootstrap-insert","ts":1450557744,"comment":"nightly","primary_key":[1],"data":{"id":1,"txt":"hello"}}`},
		{done, `{"database":"fooDB","table":"barTable","type":"bootstrap-complete","ts":1450557744,"primary_key":[],"data":{}}`},
	} {
		if got := string(rowJSON(c.r, &o, time.Now())); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestPushTimestamp(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1477053217, 523000000), "1477053217.523"},
		{time.Unix(1477053217, 0), "1477053217.0"},
		{time.Unix(1477053217, 123456789), "1477053217.123456"},
	} {
		if got := pushTimestamp(c.t); got != c.want {
			t.Errorf("pushTimestamp(%v) = %s, want %s", c.t, got, c.want)
		}
	}
}
