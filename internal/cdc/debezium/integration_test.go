package debezium_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/cdc/debezium"
	"github.com/tributary-data/tributary/internal/connect/converter"
	"github.com/tributary-data/tributary/internal/connect/data"
	"github.com/tributary-data/tributary/internal/testmariadb"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// seedSQL is the seed scenario: an ecommerce database, its orders table
// and three orders.
var seedSQL = []string{
	"CREATE DATABASE ecommerce",
	`CREATE TABLE ecommerce.orders (
		order_id INT AUTO_INCREMENT PRIMARY KEY,
		customer_id INT,
		item_description VARCHAR(255),
		price DECIMAL(6,2),
		order_date DATETIME DEFAULT CURRENT_TIMESTAMP)`,
	"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1001, 'Laptop Bag', 50.00)",
	"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1002, 'Wireless Mouse', 25.99)",
	"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1003, 'USB-C Cable', 9.99)",
}

// wantOrders are the orders' after images, order_date aside.
var wantOrders = []map[string]any{
	{"order_id": json.Number("1"), "customer_id": json.Number("1001"), "item_description": "Laptop Bag", "price": json.Number("50.00")},
	{"order_id": json.Number("2"), "customer_id": json.Number("1002"), "item_description": "Wireless Mouse", "price": json.Number("25.99")},
	{"order_id": json.Number("3"), "customer_id": json.Number("1003"), "item_description": "USB-C Cable", "price": json.Number("9.99")},
}

// orderDates returns each order's order_date as Debezium renders a
// DATETIME: milliseconds since the epoch, reading the value at UTC.
func orderDates(t *testing.T, srv *testmariadb.Server) map[string]json.Number {
	t.Helper()
	r := srv.Query(t, "SELECT order_id, TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', order_date) FROM ecommerce.orders")
	out := map[string]json.Number{}
	for i := range r.Values {
		id, _ := r.GetString(i, 0)
		secs, _ := r.GetInt(i, 1)
		out[id] = json.Number(strconv.FormatInt(secs*1000, 10))
	}
	return out
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%q is not a JSON object: %v", b, err)
	}
	return v
}

// checkOrders checks the three create events of the seed scenario,
// given as schemaless JSON values.
func checkOrders(t *testing.T, srv *testmariadb.Server, values [][]byte) {
	t.Helper()
	if len(values) != len(wantOrders) {
		t.Fatalf("%d order events, want %d", len(values), len(wantOrders))
	}
	dates := orderDates(t, srv)
	for i, b := range values {
		v := decodeJSON(t, b)
		if v["op"] != "c" || v["before"] != nil {
			t.Errorf("event %d: op %v, before %v", i, v["op"], v["before"])
		}
		after, _ := v["after"].(map[string]any)
		want := wantOrders[i]
		for k, w := range want {
			if after[k] != w {
				t.Errorf("event %d: after.%s = %#v, want %#v", i, k, after[k], w)
			}
		}
		id, _ := after["order_id"].(json.Number)
		if after["order_date"] != dates[string(id)] || dates[string(id)] == "" {
			t.Errorf("event %d: after.order_date = %v, want %v", i, after["order_date"], dates[string(id)])
		}
		src, _ := v["source"].(map[string]any)
		for k, w := range map[string]any{"name": "ecommerce-server", "connector": "mysql", "db": "ecommerce", "table": "orders",
			"snapshot": "false", "version": debezium.Version} {
			if src[k] != w {
				t.Errorf("event %d: source.%s = %v, want %v", i, k, src[k], w)
			}
		}
		if f, _ := src["file"].(string); f == "" || src["pos"] == json.Number("0") {
			t.Errorf("event %d: source position %v:%v", i, src["file"], src["pos"])
		}
	}
}

// offsets is an empty SourceTaskContext: nothing stored yet.
type offsets struct{}

func (offsets) Offset(context.Context, map[string]any) (map[string]any, error) { return nil, nil }

// The connector's task against a real MariaDB server: the seed scenario
// gives its schema change and create events, exact.
func TestMariaDBSeedScenarioTask(t *testing.T) {
	srv := testmariadb.Start(t)
	props := map[string]string{
		"name":                  "ecommerce",
		"database.hostname":     srv.Host,
		"database.port":         strconv.Itoa(srv.Port),
		"database.user":         srv.User,
		"database.password":     srv.Password,
		"database.server.id":    "184054",
		"topic.prefix":          "ecommerce-server",
		"database.include.list": "ecommerce",
		// A heartbeat shows the snapshot (of nothing) is over and the
		// binary log is being read, so the seed's changes are streamed.
		"heartbeat.interval.ms": "200",
	}
	c := debezium.NewConnector()
	if msgs := c.(interface {
		ValidateConfig(map[string]string) map[string][]string
	}).ValidateConfig(props); len(msgs) > 0 {
		t.Fatalf("configuration problems: %v", msgs)
	}
	if err := c.Start(context.Background(), props); err != nil {
		t.Fatal(err)
	}
	cfgs, err := c.TaskConfigs(1)
	if err != nil {
		t.Fatal(err)
	}
	task := c.Task()
	if err := task.Start(context.Background(), cfgs[0], offsets{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = task.Stop() })
	const heartbeats = "__debezium-heartbeat.ecommerce-server"
	for beat := false; !beat; {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Topic != heartbeats {
				t.Fatalf("record on %s before any change", r.Topic)
			}
			beat = true
		}
	}
	srv.Exec(t, seedSQL...)

	jsonNoSchema, _ := converter.NewJSONConverter(map[string]string{"schemas.enable": "false", "decimal.format": "NUMERIC"}, false)
	jsonSchema, _ := converter.NewJSONConverter(map[string]string{"schemas.enable": "true"}, false)
	var orders [][]byte
	var ddl []string
	var last *data.Record
	deadline := time.Now().Add(60 * time.Second)
	for len(orders) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("timed out with %d order events and schema changes %q", len(orders), ddl)
		}
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if _, err := jsonSchema.FromConnectData(r.Topic, r.ValueSchema, r.Value); err != nil {
				t.Fatalf("%s: %v", r.Topic, err)
			}
			b, err := jsonNoSchema.FromConnectData(r.Topic, r.ValueSchema, r.Value)
			if err != nil {
				t.Fatalf("%s: %v", r.Topic, err)
			}
			switch r.Topic {
			case "ecommerce-server.ecommerce.orders":
				orders = append(orders, b)
			case "ecommerce-server":
				ddl = append(ddl, fmt.Sprint(decodeJSON(t, b)["ddl"]))
			case heartbeats:
			default:
				t.Errorf("record on topic %s", r.Topic)
			}
			if r.Topic != heartbeats {
				last = r
			}
		}
	}
	checkOrders(t, srv, orders)
	if len(ddl) != 2 || !strings.HasPrefix(ddl[0], "CREATE DATABASE") || !strings.HasPrefix(ddl[1], "CREATE TABLE") {
		t.Errorf("schema changes %q", ddl)
	}
	// The last record closes its transaction: its offset is a position
	// the engine resumes from.
	pos, err := debezium.PositionFromOffset(last.SourceOffset)
	if err != nil || pos == nil || pos.File == "" {
		t.Errorf("last offset %v: %+v, %v", last.SourceOffset, pos, err)
	}
}

// restCall calls the Connect REST API.
func restCall(t *testing.T, method, url string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// readStream returns the data of every record of a stream, or nil when
// the stream does not exist yet.
func readStream(t *testing.T, c *kinesis.Client, stream string) [][]byte {
	t.Helper()
	ctx := context.Background()
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		return nil
	}
	var out [][]byte
	for _, sh := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			res, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Records {
				out = append(out, r.Data)
			}
			if len(res.Records) == 0 {
				break
			}
			iter = res.NextShardIterator
		}
	}
	return out
}

// The seed scenario end to end: a Debezium MySQL configuration posted to
// a real `tributary serve`, MariaDB changes read back from the Kinesis
// streams Debezium's topics map to.
func TestMariaDBSeedScenarioServer(t *testing.T) {
	db := testmariadb.Start(t)
	srv := inproc.Start(t)
	config := map[string]string{
		"connector.class":        debezium.ConnectorClass,
		"tasks.max":              "1",
		"database.hostname":      db.Host,
		"database.port":          strconv.Itoa(db.Port),
		"database.user":          db.User,
		"database.password":      db.Password,
		"database.server.id":     "123456",
		"topic.prefix":           "ecommerce-server",
		"database.include.list":  "ecommerce",
		"include.schema.changes": "true",
		"heartbeat.interval.ms":  "200",
		// MSK Connect configurations carry these; Tributary ignores them.
		"schema.history.internal.kafka.bootstrap.servers": "b-1.example.kafka.us-east-1.amazonaws.com:9098",
		"schema.history.internal.kafka.topic":             "internal.dbhistory.ecommerce",
		"key.converter":                                   "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":                    "false",
		"value.converter":                                 "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable":                  "false",
		"value.converter.decimal.format":                  "NUMERIC",
	}
	code, body := restCall(t, "POST", srv.ConnectURL+"/connectors", map[string]any{"name": "ecommerce-cdc", "config": config})
	if code != http.StatusCreated {
		t.Fatalf("create connector: %d %v", code, body)
	}
	waitFor(t, "the connector's task to run", func() bool {
		_, st := restCall(t, "GET", srv.ConnectURL+"/connectors/ecommerce-cdc/status", nil)
		tasks, _ := st["tasks"].([]any)
		if len(tasks) == 1 {
			if s, _ := tasks[0].(map[string]any)["state"].(string); s == "FAILED" {
				t.Fatalf("task failed: %v", tasks[0])
			} else if s == "RUNNING" {
				return true
			}
		}
		return false
	})
	c := srv.Client()
	// A heartbeat shows the binary log is being read, so the seed's
	// changes are streamed rather than snapshotted.
	waitFor(t, "a heartbeat", func() bool { return len(readStream(t, c, "__debezium-heartbeat.ecommerce-server")) > 0 })
	db.Exec(t, seedSQL...)
	var orders [][]byte
	waitFor(t, "three order events", func() bool {
		orders = readStream(t, c, "ecommerce-server.ecommerce.orders")
		return len(orders) >= 3
	})
	checkOrders(t, db, orders)
	var ddl []string
	waitFor(t, "the CREATE events", func() bool {
		ddl = nil
		for _, b := range readStream(t, c, "ecommerce-server") {
			v := decodeJSON(t, b)
			ddl = append(ddl, fmt.Sprint(v["ddl"]))
			if strings.HasPrefix(fmt.Sprint(v["ddl"]), "CREATE TABLE") {
				changes, _ := v["tableChanges"].([]any)
				if len(changes) != 1 || changes[0].(map[string]any)["type"] != "CREATE" ||
					changes[0].(map[string]any)["id"] != `"ecommerce"."orders"` {
					t.Errorf("tableChanges %v", changes)
				}
			}
		}
		return len(ddl) >= 2
	})
	if !strings.HasPrefix(ddl[0], "CREATE DATABASE") || !strings.HasPrefix(ddl[1], "CREATE TABLE") {
		t.Errorf("schema changes %q", ddl)
	}
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// storedOffsets is a SourceTaskContext with one stored offset.
type storedOffsets map[string]any

func (o storedOffsets) Offset(context.Context, map[string]any) (map[string]any, error) {
	return o, nil
}

// pollUntil polls a task until n records other than heartbeats arrived.
func pollUntil(t *testing.T, task interface {
	Poll(context.Context) ([]*data.Record, error)
}, n int) []*data.Record {
	t.Helper()
	var out []*data.Record
	deadline := time.Now().Add(60 * time.Second)
	for len(out) < n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out with %d of %d records", len(out), n)
		}
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if !strings.HasPrefix(r.Topic, "__debezium-heartbeat") {
				out = append(out, r)
			}
		}
	}
	return out
}

// summary is a record's topic, op, key and (for changes) after or before
// image, as schemaless JSON.
func summary(t *testing.T, r *data.Record) string {
	t.Helper()
	kc, _ := converter.NewJSONConverter(map[string]string{"schemas.enable": "false"}, true)
	vc, _ := converter.NewJSONConverter(map[string]string{"schemas.enable": "false", "decimal.format": "NUMERIC"}, false)
	k, err := kc.FromConnectData(r.Topic, r.KeySchema, r.Key)
	if err != nil {
		t.Fatal(err)
	}
	if r.Value == nil {
		return r.Topic + " tombstone " + string(k)
	}
	b, err := vc.FromConnectData(r.Topic, r.ValueSchema, r.Value)
	if err != nil {
		t.Fatal(err)
	}
	v := decodeJSON(t, b)
	if _, ok := v["ddl"]; ok {
		return r.Topic + " schema " + string(k)
	}
	img := v["after"]
	if img == nil {
		img = v["before"]
	}
	ib, _ := json.Marshal(img) // keys sorted
	s := r.Topic + " " + fmt.Sprint(v["op"]) + " " + string(k) + " " + string(ib)
	if src, _ := v["source"].(map[string]any); src["snapshot"] != "false" {
		s += " snapshot=" + fmt.Sprint(src["snapshot"])
	}
	for _, h := range r.Headers {
		if strings.HasPrefix(h.Key, "__debezium.") && !strings.HasPrefix(h.Key, "__debezium.context.") {
			hb, _ := kc.FromConnectData(r.Topic, h.Schema, h.Value)
			s += " " + h.Key + "=" + string(hb)
		}
	}
	return s
}

// A snapshot of existing rows, then updates, a key change and a delete
// from the binary log; then a restart from the stored offset that
// neither snapshots again nor repeats a change.
func TestMariaDBSnapshotStreamResume(t *testing.T) {
	srv := testmariadb.Start(t)
	srv.Exec(t,
		"CREATE DATABASE shop",
		`CREATE TABLE shop.items (
			id INT PRIMARY KEY,
			name VARCHAR(20) NOT NULL,
			price DECIMAL(10,3),
			made DATETIME(6),
			seen TIMESTAMP(3) NULL,
			dur TIME,
			tags SET('a','b','c'),
			size ENUM('S','M','L') DEFAULT 'M',
			flags BIT(10),
			doc JSON,
			blob_ BLOB,
			yr YEAR,
			day DATE,
			big BIGINT UNSIGNED)`,
		`INSERT INTO shop.items VALUES (1, 'one', 1.005, '2018-06-20 06:37:03.123456', '2018-06-20 13:37:03.500', '-12:30:00',
			'a,c', 'L', b'1010100101', '{"k": [1, 2]}', x'00ff', 2024, '2024-02-29', 18446744073709551615)`,
		"INSERT INTO shop.items (id, name) VALUES (2, 'two')",
	)
	props := map[string]string{
		"database.hostname":     srv.Host,
		"database.port":         strconv.Itoa(srv.Port),
		"database.user":         srv.User,
		"database.password":     srv.Password,
		"database.server.id":    "7001",
		"topic.prefix":          "srv",
		"table.include.list":    `shop\.items`,
		"heartbeat.interval.ms": "200",
	}
	start := func(o interface {
		Offset(context.Context, map[string]any) (map[string]any, error)
	}) interface {
		Poll(context.Context) ([]*data.Record, error)
		Stop() error
	} {
		task := debezium.NewConnector().Task()
		if err := task.Start(context.Background(), props, o); err != nil {
			t.Fatal(err)
		}
		return task
	}
	task := start(offsets{})
	recs := pollUntil(t, task, 3)
	var got []string
	for _, r := range recs {
		got = append(got, summary(t, r))
	}
	want := []string{
		"srv schema {\"databaseName\":\"shop\"}",
		`srv.shop.items r {"id":1} {"big":-1,"blob_":"AP8=","day":19782,"doc":"{\"k\": [1, 2]}","dur":-45000000000,"flags":"pQI=","id":1,"made":1529476623123456,"name":"one","price":1.005,"seen":"2018-06-20T13:37:03.5Z","size":"L","tags":"a,c","yr":2024} snapshot=first`,
		`srv.shop.items r {"id":2} {"big":null,"blob_":null,"day":null,"doc":null,"dur":null,"flags":null,"id":2,"made":null,"name":"two","price":null,"seen":null,"size":"M","tags":null,"yr":null} snapshot=last`,
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("record %d:\ngot  %s\nwant %s", i, got[min(i, len(got)-1)], want[i])
		}
	}
	if recs[2].SourceOffset["snapshot"] != nil || recs[1].SourceOffset["snapshot"] != "INITIAL" {
		t.Errorf("snapshot offsets %v, %v", recs[1].SourceOffset, recs[2].SourceOffset)
	}
	srv.Exec(t,
		"UPDATE shop.items SET name = 'uno', seen = '2018-06-20 13:37:03.500' WHERE id = 1",
		"UPDATE shop.items SET id = 3 WHERE id = 2",
		"DELETE FROM shop.items WHERE id = 1",
	)
	recs = pollUntil(t, task, 6)
	got = got[:0]
	for _, r := range recs {
		got = append(got, summary(t, r))
	}
	want = []string{
		`srv.shop.items u {"id":1} {"big":-1,"blob_":"AP8=","day":19782,"doc":"{\"k\": [1, 2]}","dur":-45000000000,"flags":"pQI=","id":1,"made":1529476623123456,"name":"uno","price":1.005,"seen":"2018-06-20T13:37:03.500Z","size":"L","tags":"a,c","yr":2024}`,
		`srv.shop.items d {"id":2} {"big":null,"blob_":null,"day":null,"doc":null,"dur":null,"flags":null,"id":2,"made":null,"name":"two","price":null,"seen":null,"size":"M","tags":null,"yr":null} __debezium.newkey={"id":3}`,
		`srv.shop.items tombstone {"id":2}`,
		`srv.shop.items c {"id":3} {"big":null,"blob_":null,"day":null,"doc":null,"dur":null,"flags":null,"id":3,"made":null,"name":"two","price":null,"seen":null,"size":"M","tags":null,"yr":null} __debezium.oldkey={"id":2}`,
		`srv.shop.items d {"id":1} {"big":-1,"blob_":"AP8=","day":19782,"doc":"{\"k\": [1, 2]}","dur":-45000000000,"flags":"pQI=","id":1,"made":1529476623123456,"name":"uno","price":1.005,"seen":"2018-06-20T13:37:03.500Z","size":"L","tags":"a,c","yr":2024}`,
		`srv.shop.items tombstone {"id":1}`,
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("change %d:\ngot  %s\nwant %s", i, got[min(i, len(got)-1)], want[i])
		}
	}
	stored := recs[len(recs)-1].SourceOffset
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}

	// Restart from the stored offset: no snapshot, no repeat.
	srv.Exec(t, "INSERT INTO shop.items (id, name) VALUES (4, 'four')")
	task = start(storedOffsets(stored))
	defer task.Stop()
	recs = pollUntil(t, task, 1)
	if got := summary(t, recs[0]); !strings.HasPrefix(got, `srv.shop.items c {"id":4}`) {
		t.Errorf("after the restart: %s", got)
	}
}
