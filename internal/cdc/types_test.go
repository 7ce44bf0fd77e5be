package cdc

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// typeCase is one column of the all-types table: its SQL type, two
// values as SQL literals and the Row values they must decode to (a third
// row is all NULL).
type typeCase struct {
	col, sqlType string
	lit1, lit2   string
	want1, want2 any
}

func typeCases() []typeCase {
	ts := func(s string) time.Time {
		t, err := time.Parse("2006-01-02 15:04:05.999999", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tenth := 0.1 // at run time: the constant expression would be exact
	return []typeCase{
		{"ti", "TINYINT", "127", "-128", int64(127), int64(-128)},
		{"tiu", "TINYINT UNSIGNED", "255", "0", int64(255), int64(0)},
		{"si", "SMALLINT", "32767", "-32768", int64(32767), int64(-32768)},
		{"siu", "SMALLINT UNSIGNED", "65535", "0", int64(65535), int64(0)},
		{"mi", "MEDIUMINT", "8388607", "-8388608", int64(8388607), int64(-8388608)},
		{"miu", "MEDIUMINT UNSIGNED", "16777215", "1", int64(16777215), int64(1)},
		{"i", "INT", "2147483647", "-2147483648", int64(2147483647), int64(-2147483648)},
		{"iu", "INT UNSIGNED", "4294967295", "0", int64(4294967295), int64(0)},
		{"bi", "BIGINT", "9223372036854775807", "-9223372036854775808", int64(math.MaxInt64), int64(math.MinInt64)},
		{"biu", "BIGINT UNSIGNED", "18446744073709551615", "0", uint64(math.MaxUint64), uint64(0)},
		{"bool", "BOOLEAN", "TRUE", "FALSE", int64(1), int64(0)},
		{"f", "FLOAT", "3.14", "-1.5e38", float32(3.14), float32(-1.5e38)},
		{"fbig", "FLOAT", "123456789", "1.17549435e-38", float32(123456789), float32(1.17549435e-38)},
		{"d", "DOUBLE", "0.1e0 + 0.2e0", "-1e300", tenth + 0.2, -1e300},
		{"de65", "DECIMAL(65,30)", "'-12345678901234567890123456789012345.123456789012345678901234567890'", "'0.000000000000000000000000000001'",
			Decimal("-12345678901234567890123456789012345.123456789012345678901234567890"), Decimal("0.000000000000000000000000000001")},
		{"de62", "DECIMAL(6,2)", "50", "-9999.99", Decimal("50.00"), Decimal("-9999.99")},
		{"dez", "DECIMAL(6,2)", "0", "-0.5", Decimal("0.00"), Decimal("-0.50")},
		{"de0", "DECIMAL(18,0)", "123456789012345678", "-1", Decimal("123456789012345678"), Decimal("-1")},
		{"deu", "DECIMAL(5,1) UNSIGNED", "9999.9", "0", Decimal("9999.9"), Decimal("0.0")},
		{"b1", "BIT(1)", "1", "0", uint64(1), uint64(0)},
		{"b10", "BIT(10)", "b'1000000001'", "b'0000000001'", uint64(513), uint64(1)},
		{"b64", "BIT(64)", "b'" + strings.Repeat("1", 64) + "'", "b'1" + strings.Repeat("0", 63) + "'", uint64(math.MaxUint64), uint64(1) << 63},
		{"ch", "CHAR(10)", "'abc'", "''", "abc", ""},
		{"vc", "VARCHAR(100)", "'héllo 😀 wörld'", "'x'", "héllo 😀 wörld", "x"},
		{"vcl", "VARCHAR(300)", "'" + strings.Repeat("ü", 300) + "'", "''", strings.Repeat("ü", 300), ""},
		{"tt", "TINYTEXT", "'tiny 😀'", "''", "tiny 😀", ""},
		{"tx", "TEXT", "'text'", "''", "text", ""},
		{"mt", "MEDIUMTEXT", "'medium'", "''", "medium", ""},
		{"lt", "LONGTEXT", "'long'", "''", "long", ""},
		{"bn", "BINARY(4)", "'ab'", "''", []byte("ab\x00\x00"), []byte{0, 0, 0, 0}},
		{"vb", "VARBINARY(10)", "x'00ff00'", "''", []byte{0, 0xff, 0}, []byte{}},
		{"tb", "TINYBLOB", "x'00'", "''", []byte{0}, []byte{}},
		{"bl", "BLOB", "x'deadbeef'", "''", []byte{0xde, 0xad, 0xbe, 0xef}, []byte{}},
		{"mb", "MEDIUMBLOB", "x'ff'", "''", []byte{0xff}, []byte{}},
		{"lb", "LONGBLOB", "x'0102'", "''", []byte{1, 2}, []byte{}},
		{"en", "ENUM('a','b''c','é')", "'é'", "'b''c'", "é", "b'c"},
		{"st", "SET('x','y','z')", "'x,z'", "''", "x,z", ""},
		{"js", "JSON", `'{"a": [1, 2.5, "😀"]}'`, "'[]'", `{"a": [1, 2.5, "😀"]}`, "[]"},
		{"dt", "DATE", "'2024-02-29'", "'0000-00-00'", "2024-02-29", "0000-00-00"},
		{"tm", "TIME", "'-838:59:59'", "'00:00:00'", "-838:59:59", "00:00:00"},
		{"tm3", "TIME(3)", "'838:59:58.999'", "'-00:00:01.5'", "838:59:58.999", "-00:00:01.500"},
		{"tm6", "TIME(6)", "'-00:00:00.000001'", "'100:00:00'", "-00:00:00.000001", "100:00:00.000000"},
		{"dt0", "DATETIME", "'9999-12-31 23:59:59'", "'0000-00-00 00:00:00'", "9999-12-31 23:59:59", "0000-00-00 00:00:00"},
		{"dt1", "DATETIME(1)", "'2024-02-29 23:59:59.1'", "'1000-01-01 00:00:00'", "2024-02-29 23:59:59.1", "1000-01-01 00:00:00.0"},
		{"dt2", "DATETIME(2)", "'2024-02-29 23:59:59.12'", "'0000-00-00 00:00:00'", "2024-02-29 23:59:59.12", "0000-00-00 00:00:00.00"},
		{"dt3", "DATETIME(3)", "'2024-02-29 23:59:59.123'", "'2024-01-01 00:00:00'", "2024-02-29 23:59:59.123", "2024-01-01 00:00:00.000"},
		{"dt4", "DATETIME(4)", "'2024-02-29 23:59:59.1234'", "'2024-01-01 00:00:00.0001'", "2024-02-29 23:59:59.1234", "2024-01-01 00:00:00.0001"},
		{"dt5", "DATETIME(5)", "'2024-02-29 23:59:59.12345'", "'2024-01-01 00:00:00'", "2024-02-29 23:59:59.12345", "2024-01-01 00:00:00.00000"},
		{"dt6", "DATETIME(6)", "'9999-12-31 23:59:59.999999'", "'2024-00-00 00:00:00.000001'", "9999-12-31 23:59:59.999999", "2024-00-00 00:00:00.000001"},
		{"ts0", "TIMESTAMP NULL", "'2038-01-19 03:14:07'", "'0000-00-00 00:00:00'", ts("2038-01-19 03:14:07"), time.Unix(0, 0).UTC()},
		{"ts1", "TIMESTAMP(1) NULL", "'2024-02-29 23:59:59.1'", "'1970-01-01 00:00:01'", ts("2024-02-29 23:59:59.1"), ts("1970-01-01 00:00:01")},
		{"ts2", "TIMESTAMP(2) NULL", "'2024-02-29 23:59:59.12'", "'2000-01-01 00:00:00'", ts("2024-02-29 23:59:59.12"), ts("2000-01-01 00:00:00")},
		{"ts3", "TIMESTAMP(3) NULL", "'2024-02-29 23:59:59.123'", "'2000-01-01 00:00:00'", ts("2024-02-29 23:59:59.123"), ts("2000-01-01 00:00:00")},
		{"ts4", "TIMESTAMP(4) NULL", "'2024-02-29 23:59:59.1234'", "'2000-01-01 00:00:00'", ts("2024-02-29 23:59:59.1234"), ts("2000-01-01 00:00:00")},
		{"ts5", "TIMESTAMP(5) NULL", "'2024-02-29 23:59:59.12345'", "'2000-01-01 00:00:00'", ts("2024-02-29 23:59:59.12345"), ts("2000-01-01 00:00:00")},
		{"ts6", "TIMESTAMP(6) NULL", "'2038-01-19 03:14:07.999999'", "'0000-00-00 00:00:00'", ts("2038-01-19 03:14:07.999999"), time.Unix(0, 0).UTC()},
		{"yr", "YEAR", "2155", "0000", int64(2155), int64(0)},
		{"yr1", "YEAR", "1901", "2024", int64(1901), int64(2024)},
		{"geo", "GEOMETRY", "ST_GeomFromText('LINESTRING(0 0,1 1)')", "ST_GeomFromText('POINT(0 0)', 4326)", geometry("LINESTRING(0 0,1 1)", 0), geometry("POINT(0 0)", 4326)},
		{"pt", "POINT", "POINT(1, 2)", "POINT(-1.5, 0)", geometry("POINT(1 2)", 0), geometry("POINT(-1.5 0)", 0)},
		{"l1", "VARCHAR(20) CHARACTER SET latin1", "'café €'", "''", "café €", ""},
		{"c1", "CHAR(5) CHARACTER SET latin1", "'é'", "'a'", "é", "a"},
		{"tl", "TEXT CHARACTER SET latin1", "'über'", "''", "über", ""},
		{"u16", "VARCHAR(10) CHARACTER SET utf16", "'ü😀'", "''", "ü😀", ""},
		{"gbk", "VARCHAR(10) CHARACTER SET gbk", "'中文'", "''", "中文", ""},
		{"vbin", "VARCHAR(10) CHARACTER SET binary", "'ab'", "''", []byte("ab"), []byte{}},
		{"i6", "INET6", "'::ffff:1.2.3.4'", "'2001:db8::1'", "::ffff:1.2.3.4", "2001:db8::1"},
		{"i4", "INET4", "'10.0.0.1'", "'0.0.0.0'", "10.0.0.1", "0.0.0.0"},
		{"uu", "UUID", "'e5d9a8a4-3f5b-11ee-be56-0242ac120002'", "'123e4567-e89b-42d3-a456-426614174000'",
			"e5d9a8a4-3f5b-11ee-be56-0242ac120002", "123e4567-e89b-42d3-a456-426614174000"},
	}
}

// geometry is the server's internal form of a WKT geometry: 4-byte SRID
// then WKB, filled in by the test from the server itself.
type geometryWant struct {
	wkt  string
	srid int
}

func geometry(wkt string, srid int) geometryWant { return geometryWant{wkt, srid} }

// createTypesTable makes the all-types table with rows 1, 2 and 3 (all
// NULL) and returns the expected rows.
func createTypesTable(t *testing.T, db string) [3]Row {
	cases := typeCases()
	cols := []string{"id INT PRIMARY KEY"}
	names := []string{"id"}
	lit1, lit2, null := []string{"1"}, []string{"2"}, []string{"3"}
	for _, c := range cases {
		cols = append(cols, quoteName(c.col)+" "+c.sqlType)
		names = append(names, quoteName(c.col))
		lit1 = append(lit1, c.lit1)
		lit2 = append(lit2, c.lit2)
		null = append(null, "NULL")
	}
	shared.Exec(t, "CREATE TABLE "+quoteTable(db, "types")+" ("+strings.Join(cols, ", ")+") CHARACTER SET utf8mb4")
	insert := "INSERT INTO " + quoteTable(db, "types") + " (" + strings.Join(names, ", ") + ") VALUES "
	shared.Exec(t,
		"SET time_zone = '+00:00'",
		"SET sql_mode = 'NO_ENGINE_SUBSTITUTION'",
		insert+"("+strings.Join(lit1, ", ")+")",
		insert+"("+strings.Join(lit2, ", ")+")",
		insert+"("+strings.Join(null, ", ")+")",
	)
	want := [3]Row{{int64(1)}, {int64(2)}, {int64(3)}}
	for _, c := range cases {
		want[0] = append(want[0], resolve(t, c.want1))
		want[1] = append(want[1], resolve(t, c.want2))
		want[2] = append(want[2], nil)
	}
	return want
}

// resolve turns a geometry expectation into the server's bytes.
func resolve(t *testing.T, v any) any {
	g, ok := v.(geometryWant)
	if !ok {
		return v
	}
	h := shared.QueryString(t, fmt.Sprintf("SELECT HEX(ST_GeomFromText('%s', %d))", g.wkt, g.srid))
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTypes checks every column type through the snapshot and through
// the binary log (inserts, update before and after images, delete
// images): each value has the documented Go type and text, and the two
// paths agree exactly.
func TestTypes(t *testing.T) {
	db := newDB(t, shared)
	from := currentPos(t, shared)
	want := createTypesTable(t, db)
	shared.Exec(t, "UPDATE "+quoteTable(db, "types")+" SET id = id + 10", "DELETE FROM "+quoteTable(db, "types"))

	// The binary log: 3 inserts, 3 updates, 3 deletes.
	evs := runUntil(t, testConfig(shared, db), &from, changesThenBoundary(9))
	var logged []*Change
	for _, c := range changes(evs) {
		if c.Table.Name == "types" {
			logged = append(logged, c)
		}
	}
	if len(logged) != 9 {
		t.Fatalf("got %d changes, want 9:\n%s", len(logged), dump(evs))
	}
	cases := typeCases()
	check := func(what string, got, want Row, id int64) {
		t.Helper()
		want = append(Row{id}, want[1:]...)
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				name := "id"
				if i > 0 {
					name = cases[i-1].col + " " + cases[i-1].sqlType
				}
				t.Errorf("%s: column %s = %#v (%T), want %#v (%T)", what, name, got[i], got[i], want[i], want[i])
			}
		}
	}
	for i := 0; i < 3; i++ {
		id := int64(i + 1)
		check(fmt.Sprintf("binlog insert row %d", id), logged[i].After, want[i], id)
		check(fmt.Sprintf("binlog update before row %d", id), logged[3+i].Before, want[i], id)
		check(fmt.Sprintf("binlog update after row %d", id), logged[3+i].After, want[i], id+10)
		check(fmt.Sprintf("binlog delete row %d", id), logged[6+i].Before, want[i], id+10)
	}

	// The snapshot of the same rows, written again.
	db2 := newDB(t, shared)
	want2 := createTypesTable(t, db2)
	cfg := testConfig(shared, db2)
	cfg.Snapshot = SnapshotInitialOnly
	rec := &recorder{}
	if err := runWith(t, cfg, nil, rec); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	read := changes(rec.snapshot())
	if len(read) != 3 {
		t.Fatalf("snapshot read %d rows, want 3:\n%s", len(read), dump(rec.snapshot()))
	}
	for i := 0; i < 3; i++ {
		check(fmt.Sprintf("snapshot row %d", i+1), read[i].After, want2[i], int64(i+1))
		// Identical to the binary log's values for the same row.
		if !reflect.DeepEqual(read[i].After, logged[i].After) {
			t.Errorf("snapshot row %d differs from the binary log's:\n snapshot %s\n binlog   %s", i+1, rowText(read[i].After), rowText(logged[i].After))
		}
	}
	// The binary log's rows are described by the same definition the
	// snapshot reads from information_schema.
	if !reflect.DeepEqual(stripDB(logged[0].Table), stripDB(read[0].Table)) {
		t.Errorf("binlog table definition differs from the snapshot's:\n binlog   %+v\n snapshot %+v", logged[0].Table, read[0].Table)
	}
}

func stripDB(t *Table) Table {
	c := *t
	c.DB = ""
	return c
}

// TestDerivedTable checks that a table definition made from a TABLE_MAP
// event's metadata alone (what decodes rows written before a schema
// change) matches information_schema's for every type.
func TestDerivedTable(t *testing.T) {
	db := newDB(t, shared)
	from := currentPos(t, shared)
	createTypesTable(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := dial(ctx, &Config{Host: shared.Host, Port: shared.Port, User: shared.User, Password: shared.Password})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv, err := inspect(c)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(shared, db)
	known, err := loadTables(c, &cfg, srv.flavor, nil)
	if err != nil {
		t.Fatal(err)
	}
	info := known[tableKey{db, "types"}]
	tm := readTableMap(t, ctx, from, db, "types")
	derived, _ := deriveTable(tm, srv.flavor, srv.collations)
	if len(derived.Columns) != len(info.Columns) {
		t.Fatalf("derived %d columns, information_schema %d", len(derived.Columns), len(info.Columns))
	}
	for i := range info.Columns {
		k, d := info.Columns[i], derived.Columns[i]
		if k.Name != d.Name || k.Nullable != d.Nullable || k.Position != d.Position || !sameType(&k, &d, metadata{true, true, true}) {
			t.Errorf("column %s:\n information_schema %+v\n binlog             %+v", k.Name, k, d)
			continue
		}
		switch k.DataType {
		case "inet4", "inet6", "uuid":
			continue
		}
		if k.ColumnType != d.ColumnType && !strings.HasPrefix(k.ColumnType, "tinyint(1)") {
			t.Errorf("column %s: COLUMN_TYPE %q, derived %q", k.Name, k.ColumnType, d.ColumnType)
		}
		if k.Charset != d.Charset && k.Charset != "" {
			t.Errorf("column %s: charset %q, derived %q", k.Name, k.Charset, d.Charset)
		}
	}
	if !reflect.DeepEqual(info.PrimaryKey, derived.PrimaryKey) {
		t.Errorf("primary key %v, derived %v", info.PrimaryKey, derived.PrimaryKey)
	}
	if !sameTable(info, derived, metadata{true, true, true}) {
		t.Error("sameTable: information_schema's and the binary log's definitions differ")
	}
}

// readTableMap reads the binary log from a position until a TABLE_MAP
// event for the table.
func readTableMap(t *testing.T, ctx context.Context, from Position, db, table string) *replication.TableMapEvent {
	t.Helper()
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: serverIDs.Add(1), Flavor: flavorMariaDB, Host: shared.Host, Port: uint16(shared.Port),
		User: shared.User, Password: shared.Password, Logger: discardLogger(),
	})
	defer syncer.Close()
	st, err := syncer.StartSync(mysql.Position{Name: from.File, Pos: from.Pos})
	if err != nil {
		t.Fatal(err)
	}
	for {
		e, err := st.GetEvent(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tm, ok := e.Event.(*replication.TableMapEvent); ok && string(tm.Schema) == db && string(tm.Table) == table {
			return tm
		}
	}
}
