package debezium

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect/converter"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// baseProps is a minimal valid configuration.
func baseProps(prefix string) map[string]string {
	return map[string]string{
		"topic.prefix":       prefix,
		"database.hostname":  "db.example",
		"database.user":      "debezium",
		"database.server.id": "184054",
	}
}

// testSettings parses baseProps with overrides given as key, value pairs.
func testSettings(t *testing.T, prefix string, kv ...string) *Settings {
	t.Helper()
	props := baseProps(prefix)
	for i := 0; i+1 < len(kv); i += 2 {
		props[kv[i]] = kv[i+1]
	}
	s, err := ParseSettings(props)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clockAt is a fixed clock.
func clockAt(ns int64) func() time.Time { return func() time.Time { return time.Unix(0, ns) } }

// toJSON serializes through Kafka's JsonConverter as Tributary's runtime
// does.
func toJSON(t *testing.T, schemas bool, decimalNumeric bool, isKey bool, s *data.Schema, v any) []byte {
	t.Helper()
	props := map[string]string{converter.SchemasEnableConfig: "false"}
	if schemas {
		props[converter.SchemasEnableConfig] = "true"
	}
	if decimalNumeric {
		props[converter.DecimalFormatConfig] = converter.DecimalFormatNumeric
	}
	c, err := converter.NewJSONConverter(props, isKey)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.FromConnectData("topic", s, v)
	if err != nil {
		t.Fatalf("JsonConverter: %v", err)
	}
	return b
}

// decode parses JSON keeping numbers' digits.
func decode(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

// fixture loads testdata/name. A string "@file.json:field" in an array
// stands for that file's object as a struct field named field, so that
// schemas shared by fixtures (the source block) are written once.
func fixture(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return expand(t, decode(t, b))
}

func expand(t *testing.T, v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = expand(t, e)
		}
	case []any:
		for i, e := range x {
			if s, ok := e.(string); ok && strings.HasPrefix(s, "@") {
				file, field, _ := strings.Cut(s[1:], ":")
				obj := fixture(t, file).(map[string]any)
				obj["field"] = field
				x[i] = obj
				continue
			}
			x[i] = expand(t, e)
		}
	}
	return v
}

// sameJSON compares JSON values: objects by keys, arrays (struct fields
// included) in order, numbers by their digits.
func sameJSON(t *testing.T, what string, got []byte, want any) {
	t.Helper()
	g := decode(t, got)
	if !reflect.DeepEqual(g, want) {
		w, _ := json.MarshalIndent(want, "", "  ")
		gi, _ := json.MarshalIndent(g, "", "  ")
		t.Errorf("%s:\ngot  %s\nwant %s", what, gi, w)
	}
}

// checkRecord validates a record's key and value against their schemas
// and serializes both through JsonConverter with and without schemas,
// which fails on any value of the wrong Go type.
func checkRecord(t *testing.T, r *data.Record) {
	t.Helper()
	if err := data.Validate(r.KeySchema, r.Key); err != nil {
		t.Errorf("%s key: %v", r.Topic, err)
	}
	if err := data.Validate(r.ValueSchema, r.Value); err != nil {
		t.Errorf("%s value: %v", r.Topic, err)
	}
	for _, schemas := range []bool{true, false} {
		for _, numeric := range []bool{true, false} {
			toJSON(t, schemas, numeric, true, r.KeySchema, r.Key)
			toJSON(t, schemas, numeric, false, r.ValueSchema, r.Value)
		}
	}
	for _, h := range r.Headers {
		if err := data.Validate(h.Schema, h.Value); err != nil {
			t.Errorf("%s header %s: %v", r.Topic, h.Key, err)
		}
	}
}

// customers is the table of Debezium's documentation examples:
//
//	CREATE TABLE customers (
//	  id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
//	  first_name VARCHAR(255) NOT NULL,
//	  last_name VARCHAR(255) NOT NULL,
//	  email VARCHAR(255) NOT NULL UNIQUE KEY
//	) AUTO_INCREMENT=1001;
func customers() *cdc.Table {
	return &cdc.Table{DB: "inventory", Name: "customers", PrimaryKey: []string{"id"}, Columns: []cdc.Column{
		{Name: "id", DataType: "int", ColumnType: "int", AutoIncrement: true, Position: 1},
		{Name: "first_name", DataType: "varchar", ColumnType: "varchar(255)", Length: 255, Charset: "utf8mb4", Position: 2},
		{Name: "last_name", DataType: "varchar", ColumnType: "varchar(255)", Length: 255, Charset: "utf8mb4", Position: 3},
		{Name: "email", DataType: "varchar", ColumnType: "varchar(255)", Length: 255, Charset: "utf8mb4", Position: 4},
	}}
}

// orders is the seed scenario's table:
//
//	CREATE TABLE orders (order_id INT AUTO_INCREMENT PRIMARY KEY,
//	  customer_id INT, item_description VARCHAR(255), price DECIMAL(6,2),
//	  order_date DATETIME DEFAULT CURRENT_TIMESTAMP)
func orders() *cdc.Table {
	def := "CURRENT_TIMESTAMP"
	return &cdc.Table{DB: "ecommerce", Name: "orders", PrimaryKey: []string{"order_id"}, Columns: []cdc.Column{
		{Name: "order_id", DataType: "int", ColumnType: "int", AutoIncrement: true, Position: 1},
		{Name: "customer_id", DataType: "int", ColumnType: "int", Nullable: true, Position: 2},
		{Name: "item_description", DataType: "varchar", ColumnType: "varchar(255)", Length: 255, Nullable: true, Charset: "utf8mb4", Position: 3},
		{Name: "price", DataType: "decimal", ColumnType: "decimal(6,2)", Length: 6, Scale: 2, Nullable: true, Position: 4},
		{Name: "order_date", DataType: "datetime", ColumnType: "datetime", Nullable: true, Default: &def, Position: 5},
	}}
}

func row(vs ...any) cdc.Row { return cdc.Row(vs) }

// payloadOf returns a field of a schemaless JSON object.
func payloadOf(t *testing.T, b []byte, path ...string) any {
	t.Helper()
	v := decode(t, b)
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: no object at %s", b, p)
		}
		v = m[p]
	}
	return v
}
