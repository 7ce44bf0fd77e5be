package debezium

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
)

// fieldJSON formats a one-column table's insert and returns the column's
// field schema and value as JsonConverter writes them.
func fieldJSON(t *testing.T, s *Settings, col cdc.Column, v any, snapshot bool, numeric bool) (schema, value string, present bool) {
	t.Helper()
	col.Position = 1
	tbl := &cdc.Table{DB: "db", Name: "t", Columns: []cdc.Column{col}}
	f := NewFormatter(s, clockAt(0), "r")
	c := &cdc.Change{Op: cdc.OpCreate, Table: tbl, After: row(v)}
	if snapshot {
		c.Op, c.Source.Snapshot = cdc.OpRead, "true"
	}
	recs, err := f.Change(c)
	if err != nil {
		t.Fatalf("%s: %v", col.ColumnType, err)
	}
	r := recs[0]
	checkRecord(t, r)
	env := decode(t, toJSON(t, true, numeric, false, r.ValueSchema, r.Value)).(map[string]any)
	after := env["schema"].(map[string]any)["fields"].([]any)[1].(map[string]any)
	fields := after["fields"].([]any)
	if len(fields) == 0 {
		return "", "", false
	}
	fs := fields[0].(map[string]any)
	delete(fs, "field")
	val := env["payload"].(map[string]any)["after"].(map[string]any)[col.Name]
	return string(mustJSON(t, fs)), string(mustJSON(t, val)), true
}

func ptr(s string) *string { return &s }

// Every MySQL type: the field schema Debezium gives it and the value it
// makes of the engine's representation (see cdc.Row).
func TestColumnTypes(t *testing.T) {
	wkbPoint := []byte{0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0, 0x40} // POINT(1 2)
	internal := append([]byte{0xE6, 0x10, 0, 0}, wkbPoint...)                                        // SRID 4326
	b64 := base64.StdEncoding.EncodeToString
	ts := time.Date(2018, 6, 20, 13, 37, 3, 500_000_000, time.UTC)
	tests := []struct {
		name     string
		props    []string
		col      cdc.Column
		v        any
		snapshot bool
		numeric  bool // JsonConverter decimal.format=NUMERIC
		schema   string
		value    string
	}{
		{name: "tinyint", col: cdc.Column{DataType: "tinyint", ColumnType: "tinyint"}, v: int64(-5),
			schema: `{"optional":false,"type":"int8"}`, value: `-5`},
		{name: "tinyint(1) is not boolean", col: cdc.Column{DataType: "tinyint", ColumnType: "tinyint(1)"}, v: int64(1),
			schema: `{"optional":false,"type":"int8"}`, value: `1`},
		{name: "tinyint unsigned", col: cdc.Column{DataType: "tinyint", ColumnType: "tinyint unsigned", Unsigned: true}, v: int64(200),
			schema: `{"optional":false,"type":"int16"}`, value: `200`},
		{name: "tinyint unsigned from signed bits", col: cdc.Column{DataType: "tinyint", ColumnType: "tinyint unsigned", Unsigned: true}, v: int64(-56),
			schema: `{"optional":false,"type":"int16"}`, value: `200`},
		{name: "smallint", col: cdc.Column{DataType: "smallint", ColumnType: "smallint"}, v: int64(-32768),
			schema: `{"optional":false,"type":"int16"}`, value: `-32768`},
		{name: "smallint unsigned", col: cdc.Column{DataType: "smallint", ColumnType: "smallint unsigned", Unsigned: true}, v: int64(65535),
			schema: `{"optional":false,"type":"int32"}`, value: `65535`},
		{name: "mediumint unsigned", col: cdc.Column{DataType: "mediumint", ColumnType: "mediumint unsigned", Unsigned: true}, v: int64(16777215),
			schema: `{"optional":false,"type":"int32"}`, value: `16777215`},
		{name: "int", col: cdc.Column{DataType: "int", ColumnType: "int", Nullable: true}, v: int64(-2147483648),
			schema: `{"optional":true,"type":"int32"}`, value: `-2147483648`},
		{name: "int null", col: cdc.Column{DataType: "int", ColumnType: "int", Nullable: true}, v: nil,
			schema: `{"optional":true,"type":"int32"}`, value: `null`},
		{name: "int unsigned", col: cdc.Column{DataType: "int", ColumnType: "int unsigned", Unsigned: true}, v: int64(4294967295),
			schema: `{"optional":false,"type":"int64"}`, value: `4294967295`},
		{name: "bigint", col: cdc.Column{DataType: "bigint", ColumnType: "bigint"}, v: int64(-9223372036854775808),
			schema: `{"optional":false,"type":"int64"}`, value: `-9223372036854775808`},
		{name: "bigint unsigned long (Debezium's default wraps)", col: cdc.Column{DataType: "bigint", ColumnType: "bigint unsigned", Unsigned: true},
			v: uint64(18446744073709551615), schema: `{"optional":false,"type":"int64"}`, value: `-1`},
		{name: "bigint unsigned precise", props: []string{"bigint.unsigned.handling.mode", "precise"},
			col: cdc.Column{DataType: "bigint", ColumnType: "bigint unsigned", Unsigned: true}, v: uint64(18446744073709551615),
			schema: `{"name":"org.apache.kafka.connect.data.Decimal","optional":false,"parameters":{"connect.decimal.precision":"20","scale":"0"},"type":"bytes","version":1}`,
			value:  `"AP//////////"`},
		{name: "bigint unsigned precise numeric", props: []string{"bigint.unsigned.handling.mode", "precise"}, numeric: true,
			col: cdc.Column{DataType: "bigint", ColumnType: "bigint unsigned", Unsigned: true}, v: uint64(18446744073709551615),
			schema: `{"name":"org.apache.kafka.connect.data.Decimal","optional":false,"parameters":{"connect.decimal.precision":"20","scale":"0"},"type":"bytes","version":1}`,
			value:  `18446744073709551615`},
		{name: "float", col: cdc.Column{DataType: "float", ColumnType: "float"}, v: float32(1.5),
			schema: `{"optional":false,"type":"float"}`, value: `1.5`},
		{name: "float(m,d) is a double", col: cdc.Column{DataType: "float", ColumnType: "float(7,4)"}, v: float32(1.1),
			schema: `{"optional":false,"type":"double"}`, value: `1.100000023841858`},
		{name: "double", col: cdc.Column{DataType: "double", ColumnType: "double"}, v: 3.14,
			schema: `{"optional":false,"type":"double"}`, value: `3.14`},
		{name: "decimal precise", col: cdc.Column{DataType: "decimal", ColumnType: "decimal(6,2)", Length: 6, Scale: 2}, v: cdc.Decimal("-12.50"),
			schema: `{"name":"org.apache.kafka.connect.data.Decimal","optional":false,"parameters":{"connect.decimal.precision":"6","scale":"2"},"type":"bytes","version":1}`,
			value:  `"+x4="`},
		{name: "decimal precise numeric keeps every digit", numeric: true,
			col:    cdc.Column{DataType: "decimal", ColumnType: "decimal(65,30)", Length: 65, Scale: 30},
			v:      cdc.Decimal("12345678901234567890123456789012345.123456789012345678901234567890"),
			schema: `{"name":"org.apache.kafka.connect.data.Decimal","optional":false,"parameters":{"connect.decimal.precision":"65","scale":"30"},"type":"bytes","version":1}`,
			value:  `12345678901234567890123456789012345.123456789012345678901234567890`},
		{name: "decimal string", props: []string{"decimal.handling.mode", "string"},
			col: cdc.Column{DataType: "decimal", ColumnType: "decimal(6,2)", Length: 6, Scale: 2}, v: cdc.Decimal("-0.5"),
			schema: `{"optional":false,"type":"string"}`, value: `"-0.50"`},
		{name: "decimal string exact", props: []string{"decimal.handling.mode", "string"},
			col: cdc.Column{DataType: "decimal", ColumnType: "decimal(30,20)", Length: 30, Scale: 20}, v: cdc.Decimal("0.00000000000000000001"),
			schema: `{"optional":false,"type":"string"}`, value: `"0.00000000000000000001"`},
		{name: "decimal double", props: []string{"decimal.handling.mode", "double"},
			col: cdc.Column{DataType: "decimal", ColumnType: "decimal(6,2)", Length: 6, Scale: 2}, v: cdc.Decimal("-12.50"),
			schema: `{"optional":false,"type":"double"}`, value: `-12.5`},
		{name: "bit(1)", col: cdc.Column{DataType: "bit", ColumnType: "bit(1)", Length: 1}, v: uint64(1),
			schema: `{"optional":false,"type":"boolean"}`, value: `true`},
		{name: "bit(10)", col: cdc.Column{DataType: "bit", ColumnType: "bit(10)", Length: 10}, v: uint64(0x2A5),
			schema: `{"name":"io.debezium.data.Bits","optional":false,"parameters":{"length":"10"},"type":"bytes","version":1}`,
			value:  `"pQI="`},
		{name: "char", col: cdc.Column{DataType: "char", ColumnType: "char(3)", Length: 3}, v: "ab",
			schema: `{"optional":false,"type":"string"}`, value: `"ab"`},
		{name: "varchar", col: cdc.Column{DataType: "varchar", ColumnType: "varchar(10)", Length: 10}, v: "héllo",
			schema: `{"optional":false,"type":"string"}`, value: `"héllo"`},
		{name: "longtext", col: cdc.Column{DataType: "longtext", ColumnType: "longtext"}, v: "x",
			schema: `{"optional":false,"type":"string"}`, value: `"x"`},
		{name: "binary pads", col: cdc.Column{DataType: "binary", ColumnType: "binary(4)", Length: 4}, v: []byte{1, 2},
			schema: `{"optional":false,"type":"bytes"}`, value: `"AQIAAA=="`},
		{name: "varbinary", col: cdc.Column{DataType: "varbinary", ColumnType: "varbinary(8)", Length: 8}, v: []byte{1, 2},
			schema: `{"optional":false,"type":"bytes"}`, value: `"AQI="`},
		{name: "blob hex", props: []string{"binary.handling.mode", "hex"}, col: cdc.Column{DataType: "blob", ColumnType: "blob"}, v: []byte{0xAB, 2},
			schema: `{"optional":false,"type":"string"}`, value: `"ab02"`},
		{name: "blob base64", props: []string{"binary.handling.mode", "base64"}, col: cdc.Column{DataType: "mediumblob", ColumnType: "mediumblob"}, v: []byte{0xFB, 0xFF},
			schema: `{"optional":false,"type":"string"}`, value: `"+/8="`},
		{name: "blob base64-url-safe", props: []string{"binary.handling.mode", "base64-url-safe"}, col: cdc.Column{DataType: "longblob", ColumnType: "longblob"}, v: []byte{0xFB, 0xFF},
			schema: `{"optional":false,"type":"string"}`, value: `"-_8="`},
		{name: "json", col: cdc.Column{DataType: "json", ColumnType: "json", Nullable: true}, v: `{"a": [1, 2]}`,
			schema: `{"name":"io.debezium.data.Json","optional":true,"type":"string","version":1}`, value: `"{\"a\": [1, 2]}"`},
		{name: "enum", col: cdc.Column{DataType: "enum", ColumnType: "enum('a','b,c','it''s')", Values: []string{"a", "b,c", "it's"}}, v: "b,c",
			schema: `{"name":"io.debezium.data.Enum","optional":false,"parameters":{"allowed":"a,b\\,c,it's"},"type":"string","version":1}`,
			value:  `"b,c"`},
		{name: "enum members from the column type", col: cdc.Column{DataType: "enum", ColumnType: "enum('x','y')"}, v: "y",
			schema: `{"name":"io.debezium.data.Enum","optional":false,"parameters":{"allowed":"x,y"},"type":"string","version":1}`,
			value:  `"y"`},
		{name: "set", col: cdc.Column{DataType: "set", ColumnType: "set('x','y','z')", Values: []string{"x", "y", "z"}}, v: "x,z",
			schema: `{"name":"io.debezium.data.EnumSet","optional":false,"parameters":{"allowed":"x,y,z"},"type":"string","version":1}`,
			value:  `"x,z"`},
		{name: "year", col: cdc.Column{DataType: "year", ColumnType: "year"}, v: int64(2024),
			schema: `{"name":"io.debezium.time.Year","optional":false,"type":"int32","version":1}`, value: `2024`},
		{name: "date", col: cdc.Column{DataType: "date", ColumnType: "date"}, v: "2024-02-29",
			schema: `{"name":"io.debezium.time.Date","optional":false,"type":"int32","version":1}`, value: `19782`},
		{name: "date before the epoch", col: cdc.Column{DataType: "date", ColumnType: "date"}, v: "1969-12-31",
			schema: `{"name":"io.debezium.time.Date","optional":false,"type":"int32","version":1}`, value: `-1`},
		{name: "zero date in a nullable column is null", col: cdc.Column{DataType: "date", ColumnType: "date", Nullable: true}, v: "0000-00-00",
			schema: `{"name":"io.debezium.time.Date","optional":true,"type":"int32","version":1}`, value: `null`},
		{name: "zero date in a NOT NULL column is the epoch", col: cdc.Column{DataType: "date", ColumnType: "date"}, v: "2020-00-15",
			schema: `{"name":"io.debezium.time.Date","optional":false,"type":"int32","version":1}`, value: `0`},
		{name: "date connect", props: []string{"time.precision.mode", "connect"}, col: cdc.Column{DataType: "date", ColumnType: "date"}, v: "2024-02-29",
			schema: `{"name":"org.apache.kafka.connect.data.Date","optional":false,"type":"int32","version":1}`, value: `19782`},
		{name: "datetime", col: cdc.Column{DataType: "datetime", ColumnType: "datetime"}, v: "2018-06-20 06:37:03",
			schema: `{"name":"io.debezium.time.Timestamp","optional":false,"type":"int64","version":1}`, value: `1529476623000`},
		{name: "datetime(3)", col: cdc.Column{DataType: "datetime", ColumnType: "datetime(3)", Length: 3}, v: "2018-06-20 06:37:03.123",
			schema: `{"name":"io.debezium.time.Timestamp","optional":false,"type":"int64","version":1}`, value: `1529476623123`},
		{name: "datetime(6)", col: cdc.Column{DataType: "datetime", ColumnType: "datetime(6)", Length: 6}, v: "2018-06-20 06:37:03.123456",
			schema: `{"name":"io.debezium.time.MicroTimestamp","optional":false,"type":"int64","version":1}`, value: `1529476623123456`},
		{name: "datetime before the epoch", col: cdc.Column{DataType: "datetime", ColumnType: "datetime(6)", Length: 6}, v: "1969-12-31 23:59:59.999999",
			schema: `{"name":"io.debezium.time.MicroTimestamp","optional":false,"type":"int64","version":1}`, value: `-1`},
		{name: "zero datetime", col: cdc.Column{DataType: "datetime", ColumnType: "datetime", Nullable: true}, v: "0000-00-00 00:00:00",
			schema: `{"name":"io.debezium.time.Timestamp","optional":true,"type":"int64","version":1}`, value: `null`},
		{name: "datetime connect", props: []string{"time.precision.mode", "connect"}, col: cdc.Column{DataType: "datetime", ColumnType: "datetime(6)", Length: 6},
			v: "2018-06-20 06:37:03.123456", schema: `{"name":"org.apache.kafka.connect.data.Timestamp","optional":false,"type":"int64","version":1}`,
			value: `1529476623123`},
		{name: "timestamp", col: cdc.Column{DataType: "timestamp", ColumnType: "timestamp"}, v: time.Date(2018, 6, 20, 13, 37, 3, 0, time.UTC),
			schema: `{"name":"io.debezium.time.ZonedTimestamp","optional":false,"type":"string","version":1}`, value: `"2018-06-20T13:37:03Z"`},
		{name: "timestamp(3) from the binlog: fixed width", col: cdc.Column{DataType: "timestamp", ColumnType: "timestamp(3)", Length: 3}, v: ts,
			schema: `{"name":"io.debezium.time.ZonedTimestamp","optional":false,"type":"string","version":1}`, value: `"2018-06-20T13:37:03.500Z"`},
		{name: "timestamp(3) from a snapshot: ISO", col: cdc.Column{DataType: "timestamp", ColumnType: "timestamp(3)", Length: 3}, v: ts, snapshot: true,
			schema: `{"name":"io.debezium.time.ZonedTimestamp","optional":false,"type":"string","version":1}`, value: `"2018-06-20T13:37:03.5Z"`},
		{name: "zero timestamp", col: cdc.Column{DataType: "timestamp", ColumnType: "timestamp", Nullable: true}, v: time.Unix(0, 0).UTC(),
			schema: `{"name":"io.debezium.time.ZonedTimestamp","optional":true,"type":"string","version":1}`, value: `null`},
		{name: "time", col: cdc.Column{DataType: "time", ColumnType: "time(1)", Length: 1}, v: "10:15:30.5",
			schema: `{"name":"io.debezium.time.MicroTime","optional":false,"type":"int64","version":1}`, value: `36930500000`},
		{name: "time beyond a day, negative", col: cdc.Column{DataType: "time", ColumnType: "time"}, v: "-838:59:59",
			schema: `{"name":"io.debezium.time.MicroTime","optional":false,"type":"int64","version":1}`, value: `-3020399000000`},
		{name: "time connect", props: []string{"time.precision.mode", "connect"}, col: cdc.Column{DataType: "time", ColumnType: "time(1)", Length: 1},
			v: "10:15:30.5", schema: `{"name":"org.apache.kafka.connect.data.Time","optional":false,"type":"int32","version":1}`, value: `36930500`},
		{name: "geometry", col: cdc.Column{DataType: "geometry", ColumnType: "geometry"}, v: internal,
			schema: `{"doc":"Geometry","fields":[{"field":"wkb","optional":false,"type":"bytes"},{"field":"srid","optional":true,"type":"int32"}],"name":"io.debezium.data.geometry.Geometry","optional":true,"type":"struct","version":1}`,
			value:  `{"srid":4326,"wkb":"` + b64(wkbPoint) + `"}`},
		{name: "linestring without srid", col: cdc.Column{DataType: "linestring", ColumnType: "linestring"}, v: append([]byte{0, 0, 0, 0}, wkbPoint...),
			schema: `{"doc":"Geometry","fields":[{"field":"wkb","optional":false,"type":"bytes"},{"field":"srid","optional":true,"type":"int32"}],"name":"io.debezium.data.geometry.Geometry","optional":true,"type":"struct","version":1}`,
			value:  `{"srid":null,"wkb":"` + b64(wkbPoint) + `"}`},
		{name: "point", col: cdc.Column{DataType: "point", ColumnType: "point"}, v: internal,
			schema: `{"doc":"Geometry (POINT)","fields":[{"field":"x","optional":false,"type":"double"},{"field":"y","optional":false,"type":"double"},{"field":"wkb","optional":true,"type":"bytes"},{"field":"srid","optional":true,"type":"int32"}],"name":"io.debezium.data.geometry.Point","optional":false,"type":"struct","version":1}`,
			value:  `{"srid":4326,"wkb":"` + b64(wkbPoint) + `","x":1.0,"y":2.0}`},
		{name: "vector", col: cdc.Column{DataType: "vector", ColumnType: "vector(2)"}, v: []byte{0, 0, 0xC0, 0x3F, 0, 0, 0, 0xC0},
			schema: `{"items":{"optional":false,"type":"float"},"name":"io.debezium.data.FloatVector","optional":false,"type":"array","version":1}`,
			value:  `[1.5,-2.0]`},
		{name: "MariaDB uuid", col: cdc.Column{DataType: "uuid", ColumnType: "uuid"}, v: "123e4567-e89b-12d3-a456-426614174000",
			schema: `{"optional":false,"type":"string"}`, value: `"123e4567-e89b-12d3-a456-426614174000"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.col.Name = "c"
			schema, value, ok := fieldJSON(t, testSettings(t, "p", tc.props...), tc.col, tc.v, tc.snapshot, tc.numeric)
			if !ok {
				t.Fatal("column left out")
			}
			if schema != tc.schema {
				t.Errorf("schema\ngot  %s\nwant %s", schema, tc.schema)
			}
			if value != tc.value {
				t.Errorf("value %s, want %s", value, tc.value)
			}
		})
	}
}

// Types Debezium has no mapping for are left out of events, as Debezium
// leaves them.
func TestColumnUnknownTypeLeftOut(t *testing.T) {
	if _, _, ok := fieldJSON(t, testSettings(t, "p"), cdc.Column{Name: "c", DataType: "weird", ColumnType: "weird"}, "x", false, false); ok {
		t.Error("a column of an unknown type is in the event")
	}
}

// Values that cannot be represented fail, naming the column, rather than
// being altered: decimals are never rounded, TIME beyond a day does not
// fit Kafka's Time.
func TestColumnValueErrors(t *testing.T) {
	for _, tc := range []struct {
		props []string
		col   cdc.Column
		v     any
	}{
		{nil, cdc.Column{DataType: "decimal", ColumnType: "decimal(6,2)", Length: 6, Scale: 2}, cdc.Decimal("1.234")},
		{nil, cdc.Column{DataType: "decimal", ColumnType: "decimal(6,2)", Length: 6, Scale: 2}, cdc.Decimal("1.2x")},
		{[]string{"time.precision.mode", "connect"}, cdc.Column{DataType: "time", ColumnType: "time"}, "25:00:00"},
		{nil, cdc.Column{DataType: "date", ColumnType: "date"}, "2021-02-30"},
		{nil, cdc.Column{DataType: "int", ColumnType: "int"}, "seven"},
		{nil, cdc.Column{DataType: "point", ColumnType: "point"}, []byte{1, 2}},
	} {
		tc.col.Name = "c"
		f := NewFormatter(testSettings(t, "p", tc.props...), clockAt(0), "r")
		_, err := f.Change(&cdc.Change{Op: cdc.OpCreate, Table: &cdc.Table{DB: "d", Name: "t", Columns: []cdc.Column{tc.col}}, After: row(tc.v)})
		if err == nil {
			t.Errorf("%s %v: no error", tc.col.ColumnType, tc.v)
		}
	}
}

// Column defaults become schema defaults, as Debezium's default value
// converter makes them.
func TestColumnDefaults(t *testing.T) {
	tests := []struct {
		name  string
		props []string
		col   cdc.Column
		want  string // the schema's "default", "" for none
	}{
		{"int", nil, cdc.Column{DataType: "int", ColumnType: "int", Default: ptr("5")}, `5`},
		{"int rounds", nil, cdc.Column{DataType: "int", ColumnType: "int", Default: ptr("'1.6'")}, `2`},
		{"tinyint true", nil, cdc.Column{DataType: "tinyint", ColumnType: "tinyint(1)", Default: ptr("true")}, `1`},
		{"varchar", nil, cdc.Column{DataType: "varchar", ColumnType: "varchar(5)", Default: ptr("'it''s'")}, `"it's"`},
		{"NULL", nil, cdc.Column{DataType: "varchar", ColumnType: "varchar(5)", Nullable: true, Default: ptr("NULL")}, ``},
		{"expression", nil, cdc.Column{DataType: "varchar", ColumnType: "varchar(36)", Default: ptr("uuid()")}, ``},
		{"decimal precise rounds half up", nil, cdc.Column{DataType: "decimal", ColumnType: "decimal(6,2)", Length: 6, Scale: 2, Default: ptr("1.005")}, `"ZQ=="`},
		{"decimal string", []string{"decimal.handling.mode", "string"}, cdc.Column{DataType: "decimal", ColumnType: "decimal(6,2)", Length: 6, Scale: 2, Default: ptr("7")}, `"7.00"`},
		{"double", nil, cdc.Column{DataType: "double", ColumnType: "double", Default: ptr("2.5")}, `2.5`},
		{"bit(1)", nil, cdc.Column{DataType: "bit", ColumnType: "bit(1)", Length: 1, Default: ptr("b'1'")}, `true`},
		{"bit(10)", nil, cdc.Column{DataType: "bit", ColumnType: "bit(10)", Length: 10, Default: ptr("b'1010100101'")}, `"pQI="`},
		{"enum", nil, cdc.Column{DataType: "enum", ColumnType: "enum('a','b')", Default: ptr("'b'")}, `"b"`},
		{"year", nil, cdc.Column{DataType: "year", ColumnType: "year", Default: ptr("2000")}, `2000`},
		{"date", nil, cdc.Column{DataType: "date", ColumnType: "date", Default: ptr("'2024-02-29'")}, `19782`},
		{"zero date NOT NULL", nil, cdc.Column{DataType: "date", ColumnType: "date", Default: ptr("'0000-00-00'")}, `0`},
		{"zero date nullable", nil, cdc.Column{DataType: "date", ColumnType: "date", Nullable: true, Default: ptr("'0000-00-00'")}, ``},
		{"datetime CURRENT_TIMESTAMP", nil, cdc.Column{DataType: "datetime", ColumnType: "datetime", Nullable: true, Default: ptr("CURRENT_TIMESTAMP")}, `0`},
		{"datetime(6) current_timestamp(6)", nil, cdc.Column{DataType: "datetime", ColumnType: "datetime(6)", Length: 6, Default: ptr("current_timestamp(6)")}, `0`},
		{"datetime literal", nil, cdc.Column{DataType: "datetime", ColumnType: "datetime", Default: ptr("'2018-06-20 06:37:03'")}, `1529476623000`},
		{"timestamp CURRENT_TIMESTAMP NOT NULL", nil, cdc.Column{DataType: "timestamp", ColumnType: "timestamp", Default: ptr("CURRENT_TIMESTAMP")}, `"1970-01-01T00:00:00Z"`},
		{"timestamp CURRENT_TIMESTAMP nullable", nil, cdc.Column{DataType: "timestamp", ColumnType: "timestamp", Nullable: true, Default: ptr("current_timestamp()")}, ``},
		{"timestamp literal", nil, cdc.Column{DataType: "timestamp", ColumnType: "timestamp(2)", Length: 2, Default: ptr("'2020-01-02 03:04:05'")}, `"2020-01-02T03:04:05.00Z"`},
		{"time", nil, cdc.Column{DataType: "time", ColumnType: "time", Default: ptr("'01:00:00'")}, `3600000000`},
		{"binary", nil, cdc.Column{DataType: "varbinary", ColumnType: "varbinary(4)", Default: ptr("'ab'")}, `"YWI="`},
		{"unparsable number has none", nil, cdc.Column{DataType: "int", ColumnType: "int", Default: ptr("'x'")}, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.col.Name = "c"
			var v any = "x"
			switch tc.col.DataType {
			case "int", "tinyint", "year":
				v = int64(1)
			case "decimal":
				v = cdc.Decimal("1.00")
			case "double":
				v = 1.0
			case "bit":
				v = uint64(1)
			case "date":
				v = "2000-01-01"
			case "datetime":
				v = "2000-01-01 00:00:00"
			case "timestamp":
				v = time.Unix(1, 0).UTC()
			case "time":
				v = "00:00:01"
			case "varbinary":
				v = []byte("x")
			case "enum":
				v = "a"
			}
			schema, _, ok := fieldJSON(t, testSettings(t, "p", tc.props...), tc.col, v, false, false)
			if !ok {
				t.Fatal("column left out")
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal([]byte(schema), &m); err != nil {
				t.Fatal(err)
			}
			if got := string(m["default"]); got != tc.want {
				t.Errorf("default %s, want %s (schema %s)", got, tc.want, schema)
			}
		})
	}
}

// A NULL in a NOT NULL column (a zero date is how MySQL makes one)
// becomes the column's default, else the type's zero, as in Debezium.
func TestColumnNullInNotNullColumn(t *testing.T) {
	s := testSettings(t, "p")
	_, v, _ := fieldJSON(t, s, cdc.Column{Name: "c", DataType: "datetime", ColumnType: "datetime"}, "0000-00-00 00:00:00", false, false)
	if v != `0` {
		t.Errorf("zero datetime without default: %s", v)
	}
	_, v, _ = fieldJSON(t, s, cdc.Column{Name: "c", DataType: "datetime", ColumnType: "datetime", Default: ptr("'2018-06-20 06:37:03'")}, "0000-00-00 00:00:00", false, false)
	if v != `1529476623000` {
		t.Errorf("zero datetime with default: %s", v)
	}
}

// The tableChanges column descriptions for each type family.
func TestHistoryColumns(t *testing.T) {
	f := NewFormatter(testSettings(t, "p"), clockAt(0), "r")
	tests := []struct {
		col  cdc.Column
		want string
	}{
		{cdc.Column{Name: "a", DataType: "int", ColumnType: "int(10) unsigned zerofill", Unsigned: true},
			`{"autoIncremented":false,"charsetName":null,"comment":null,"defaultValueExpression":null,"enumValues":null,"generated":false,"jdbcType":4,"length":10,"name":"a","nativeType":null,"optional":false,"position":1,"scale":null,"typeExpression":"INT UNSIGNED ZEROFILL","typeName":"INT UNSIGNED ZEROFILL"}`},
		{cdc.Column{Name: "b", DataType: "decimal", ColumnType: "decimal(10,3) unsigned", Unsigned: true, Nullable: true, Default: ptr("1.5")},
			`{"autoIncremented":false,"charsetName":null,"comment":null,"defaultValueExpression":"1.5","enumValues":null,"generated":false,"jdbcType":3,"length":10,"name":"b","nativeType":null,"optional":true,"position":1,"scale":3,"typeExpression":"DECIMAL UNSIGNED","typeName":"DECIMAL UNSIGNED"}`},
		{cdc.Column{Name: "c", DataType: "enum", ColumnType: "enum('a','it''s')", Values: []string{"a", "it's"}, Charset: "utf8mb4"},
			`{"autoIncremented":false,"charsetName":"utf8mb4","comment":null,"defaultValueExpression":null,"enumValues":["'a'","'it''s'"],"generated":false,"jdbcType":1,"length":1,"name":"c","nativeType":null,"optional":false,"position":1,"scale":null,"typeExpression":"ENUM","typeName":"ENUM"}`},
		{cdc.Column{Name: "d", DataType: "set", ColumnType: "set('x','y','z')", Values: []string{"x", "y", "z"}, Charset: "latin1"},
			`{"autoIncremented":false,"charsetName":"latin1","comment":null,"defaultValueExpression":null,"enumValues":["'x'","'y'","'z'"],"generated":false,"jdbcType":1,"length":5,"name":"d","nativeType":null,"optional":false,"position":1,"scale":null,"typeExpression":"SET","typeName":"SET"}`},
		{cdc.Column{Name: "e", DataType: "timestamp", ColumnType: "timestamp(3)", Length: 3, Default: ptr("CURRENT_TIMESTAMP(3)")},
			`{"autoIncremented":false,"charsetName":null,"comment":null,"defaultValueExpression":"1970-01-01 00:00:00","enumValues":null,"generated":false,"jdbcType":2014,"length":3,"name":"e","nativeType":null,"optional":false,"position":1,"scale":null,"typeExpression":"TIMESTAMP","typeName":"TIMESTAMP"}`},
		{cdc.Column{Name: "g", DataType: "geometry", ColumnType: "geometry", Nullable: true},
			`{"autoIncremented":false,"charsetName":null,"comment":null,"defaultValueExpression":null,"enumValues":null,"generated":false,"jdbcType":1111,"length":null,"name":"g","nativeType":null,"optional":true,"position":1,"scale":null,"typeExpression":"GEOMETRY","typeName":"GEOMETRY"}`},
		{cdc.Column{Name: "h", DataType: "longblob", ColumnType: "longblob"},
			`{"autoIncremented":false,"charsetName":null,"comment":null,"defaultValueExpression":null,"enumValues":null,"generated":false,"jdbcType":2004,"length":null,"name":"h","nativeType":null,"optional":false,"position":1,"scale":null,"typeExpression":"LONGBLOB","typeName":"LONGBLOB"}`},
	}
	for _, tc := range tests {
		st := f.historyColumn(&tc.col, 1)
		got := toJSON(t, false, false, false, f.schemas.historyColumn, st)
		sameJSON(t, tc.col.Name, got, decode(t, []byte(tc.want)))
	}
}
