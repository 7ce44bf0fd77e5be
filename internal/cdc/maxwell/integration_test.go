package maxwell_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/tributary-data/tributary/internal/cdc/maxwell"
	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/kinesisstreams"
	"github.com/tributary-data/tributary/internal/testmariadb"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"

	"github.com/tributary-data/tributary/internal/syncbuf"
)

// The seed scenario: an e-commerce orders table.
var seedSchema = []string{
	"CREATE DATABASE ecommerce",
	"CREATE TABLE ecommerce.orders (order_id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT, " +
		"item_description VARCHAR(255), price DECIMAL(6,2), order_date DATETIME DEFAULT CURRENT_TIMESTAMP)",
}

var seedInserts = []string{
	"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1001, 'Wireless mouse', 50.00)",
	"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1002, 'USB-C \"hub\"', 1234.5)",
	"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1003, 'Desk lamp', 0.99)",
}

// env is a MariaDB server and a Tributary server (the real binary).
type env struct {
	t   *testing.T
	db  *testmariadb.Server
	srv *testserver.Proc
	kc  *kinesis.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, db: testmariadb.Start(t), srv: inproc.Start(t)}
	e.kc = e.srv.Client()
	return e
}

func (e *env) createStream(name string, shards int32) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		e.t.Fatal(err)
	}
	e.eventually("stream "+name+" active", func() bool {
		out, err := e.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})
}

// props is a kinesis configuration for the test servers.
func (e *env) props(extra map[string]string) map[string]string {
	p := map[string]string{
		"producer": "kinesis", "kinesis_stream": "orders",
		"host": e.db.Host, "port": strconv.Itoa(e.db.Port), "user": e.db.User, "password": e.db.Password,
		"kinesis_endpoint": e.srv.Endpoint, "kinesis_region": "us-east-1", "replica_server_id": "4242",
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// eventually waits for cond, failing the test after a minute.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// query returns the first column of the first row, "" on any error (the
// schema database may not exist yet).
func (e *env) query(sql string) string {
	c, err := e.db.Connect(context.Background())
	if err != nil {
		return ""
	}
	defer c.Quit()
	r, err := c.Execute(sql)
	if err != nil || r.Resultset == nil || len(r.Values) == 0 {
		return ""
	}
	s, _ := r.GetString(0, 0)
	return s
}

// daemon is a running maxwell.Run.
type daemon struct {
	cancel context.CancelFunc
	done   chan error
	log    *syncbuf.Buffer
}

// startDaemon runs the daemon and waits until it has stored its first
// position: from then on every change is read.
func (e *env) startDaemon(props map[string]string) *daemon {
	e.t.Helper()
	cfg, err := maxwell.ParseConfig(props)
	if err != nil {
		e.t.Fatal(err)
	}
	var streams connect.Streams
	if cfg.Producer == maxwell.ProducerKinesis {
		s, err := kinesisstreams.FromProperties(context.Background(), map[string]string{
			kinesisstreams.PropEndpoint: cfg.KinesisEndpoint, kinesisstreams.PropRegion: cfg.KinesisRegion})
		if err != nil {
			e.t.Fatal(err)
		}
		streams = s
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{cancel: cancel, done: make(chan error, 1), log: &syncbuf.Buffer{}}
	log := slog.New(slog.NewTextHandler(d.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { d.done <- maxwell.Run(ctx, cfg, streams, d.log, log) }()
	e.t.Cleanup(func() {
		cancel()
		<-d.done
		if e.t.Failed() {
			e.t.Logf("daemon log:\n%s", d.log.String())
		}
	})
	q := fmt.Sprintf("SELECT COUNT(*) FROM `%s`.positions WHERE client_id = '%s'", cfg.SchemaDatabase, cfg.ClientID)
	e.eventually("the daemon's first position", func() bool {
		select {
		case err := <-d.done:
			d.done <- err
			e.t.Fatalf("daemon stopped: %v\n%s", err, d.log.String())
		default:
		}
		return e.query(q) == "1"
	})
	return d
}

// stop stops the daemon cleanly (as SIGTERM does) and returns Run's
// error.
func (d *daemon) stop() error {
	d.cancel()
	err := <-d.done
	d.done <- err
	return err
}

// streamRecord is a record read back from a stream.
type streamRecord struct {
	key, data string
	shard     string
}

// readStream reads every record of every shard.
func (e *env) readStream(stream string) []streamRecord {
	e.t.Helper()
	ctx := context.Background()
	shards, err := e.kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []streamRecord
	for _, sh := range shards.Shards {
		it, err := e.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			e.t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			res, err := e.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				e.t.Fatal(err)
			}
			for _, r := range res.Records {
				out = append(out, streamRecord{key: aws.ToString(r.PartitionKey), data: string(r.Data), shard: aws.ToString(sh.ShardId)})
			}
			if len(res.Records) == 0 {
				break
			}
			iter = res.NextShardIterator
		}
	}
	return out
}

// waitRecords reads the stream until it holds n records.
func (e *env) waitRecords(stream string, n int) []streamRecord {
	e.t.Helper()
	var recs []streamRecord
	e.eventually(fmt.Sprintf("%d records in %s", n, stream), func() bool {
		recs = e.readStream(stream)
		return len(recs) >= n
	})
	return recs
}

// row is the part of a Maxwell row the tests look at.
type row struct {
	Database string          `json:"database"`
	Table    string          `json:"table"`
	Type     string          `json:"type"`
	TS       int64           `json:"ts"`
	XID      uint64          `json:"xid"`
	XOffset  *int            `json:"xoffset"`
	Commit   bool            `json:"commit"`
	Position string          `json:"position"`
	Data     json.RawMessage `json:"data"`
	Old      json.RawMessage `json:"old"`
}

func parseRow(t *testing.T, s string) row {
	t.Helper()
	var r row
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("not JSON: %s: %v", s, err)
	}
	return r
}

// orderID reads data.order_id.
func orderID(t *testing.T, r row) int {
	t.Helper()
	var d struct {
		OrderID int `json:"order_id"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatalf("data %s: %v", r.Data, err)
	}
	return d.OrderID
}

// expectedSeedRow is the exact JSON Maxwell writes for an inserted
// order, with the server-given ts and xid taken from the record.
func (e *env) expectedSeedRow(id int, got row) string {
	date := e.query(fmt.Sprintf("SELECT order_date FROM ecommerce.orders WHERE order_id = %d", id))
	data := map[int]string{
		1: `"customer_id":1001,"item_description":"Wireless mouse","price":50.00`,
		2: `"customer_id":1002,"item_description":"USB-C \"hub\"","price":1234.50`,
		3: `"customer_id":1003,"item_description":"Desk lamp","price":0.99`,
	}[id]
	return fmt.Sprintf(`{"database":"ecommerce","table":"orders","type":"insert","ts":%d,"xid":%d,"commit":true,"data":{"order_id":%d,%s,"order_date":%q}}`,
		got.TS, got.XID, id, data, date)
}

// TestSeedScenario is the seed scenario in Maxwell mode: three orders
// inserted into ecommerce.orders arrive on the stream as Maxwell's JSON,
// partitioned as configured.
func TestSeedScenario(t *testing.T) {
	for _, c := range []struct {
		partitionBy string
		key         func(id int) string
	}{
		{"primary_key", func(id int) string { return strconv.Itoa(id) }},
		{"database", func(int) string { return "ecommerce" }},
	} {
		t.Run(c.partitionBy, func(t *testing.T) {
			e := newEnv(t)
			e.createStream("orders", 4)
			e.db.Exec(t, seedSchema...)
			started := time.Now().Add(-time.Second).Unix()
			e.startDaemon(e.props(map[string]string{"producer_partition_by": c.partitionBy}))
			e.db.Exec(t, seedInserts...)
			recs := e.waitRecords("orders", 3)
			if len(recs) != 3 {
				t.Fatalf("%d records, want 3", len(recs))
			}
			byID := map[int]streamRecord{}
			for _, r := range recs {
				byID[orderID(t, parseRow(t, r.data))] = r
			}
			for id := 1; id <= 3; id++ {
				r, ok := byID[id]
				if !ok {
					t.Fatalf("no record for order %d in %v", id, recs)
				}
				got := parseRow(t, r.data)
				if got.TS < started || got.XID == 0 {
					t.Errorf("order %d: ts %d xid %d", id, got.TS, got.XID)
				}
				if want := e.expectedSeedRow(id, got); r.data != want {
					t.Errorf("order %d:\ngot  %s\nwant %s", id, r.data, want)
				}
				if r.key != c.key(id) {
					t.Errorf("order %d: partition key %q, want %q", id, r.key, c.key(id))
				}
			}
			if c.partitionBy == "database" {
				// One key: one shard, in commit order.
				if recs[0].shard != recs[1].shard || recs[1].shard != recs[2].shard {
					t.Errorf("records of one database on several shards: %v", recs)
				}
				for i, r := range recs {
					if id := orderID(t, parseRow(t, r.data)); id != i+1 {
						t.Errorf("record %d is order %d: out of order", i, id)
					}
				}
			}
		})
	}
}

// TestRestart stops the daemon, changes the table while it is down, and
// starts it again: every change arrives exactly once.
func TestRestart(t *testing.T) {
	for _, mode := range []struct {
		name  string
		props map[string]string
	}{
		{"binlog position", map[string]string{"output_binlog_position": "true"}},
		{"gtid_mode", map[string]string{"output_binlog_position": "true", "gtid_mode": "true", "output_gtid_position": "true"}},
	} {
		t.Run(mode.name, func(t *testing.T) { testRestart(t, mode.props) })
	}
}

func testRestart(t *testing.T, extra map[string]string) {
	e := newEnv(t)
	e.createStream("orders", 2)
	e.db.Exec(t, seedSchema...)
	extra["client_id"] = "restart"
	props := e.props(extra)
	gtidMode := props["gtid_mode"] == "true"
	d := e.startDaemon(props)
	e.db.Exec(t, seedInserts...)
	e.waitRecords("orders", 3)
	if err := d.stop(); err != nil {
		t.Fatalf("clean stop: %v", err)
	}
	stored := e.query("SELECT CONCAT(server_id, ' ', binlog_file, ':', binlog_position, ' ', IFNULL(gtid_set, '-')) FROM maxwell.positions WHERE client_id = 'restart'")
	// Maxwell keys GTID positions by server 0, others by the server's id.
	if want := regexp.MustCompile(`^1 mysql-bin\.\d+:\d+ -$`); gtidMode {
		want = regexp.MustCompile(`^0 mysql-bin\.\d+:\d+ 0-1-\d+$`)
		if !want.MatchString(stored) {
			t.Fatalf("stored position %q", stored)
		}
	} else if !want.MatchString(stored) {
		t.Fatalf("stored position %q", stored)
	}

	// While the daemon is down: more single-row transactions, one
	// transaction of three rows, an update and a delete.
	e.db.Exec(t,
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1004, 'Cable', 5.00)",
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1005, 'Charger', 25.00)",
		"BEGIN",
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1006, 'Mug', 8.00)",
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1007, 'Pen', 1.00)",
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1008, 'Pad', 3.00)",
		"COMMIT",
		"UPDATE ecommerce.orders SET price = 45.00 WHERE order_id = 1",
		"DELETE FROM ecommerce.orders WHERE order_id = 2",
	)
	e.startDaemon(props)
	e.waitRecords("orders", 10)
	// A little longer, so that a duplicate would show.
	e.db.Exec(t, "INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1009, 'Last', 9.00)")
	recs := e.waitRecords("orders", 11)

	seen := map[string]int{}
	var inserts []int
	var multi []row
	for _, r := range recs {
		got := parseRow(t, r.data)
		id := orderID(t, got)
		seen[fmt.Sprintf("%s %d", got.Type, id)]++
		if got.Type == "insert" {
			inserts = append(inserts, id)
		}
		if id >= 6 && id <= 8 {
			multi = append(multi, got)
		}
		if got.Position == "" {
			t.Errorf("no position in %s", r.data)
		}
		if gtidMode != strings.Contains(r.data, `"gtid":"0-1-`) {
			t.Errorf("gtid in %s", r.data)
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s arrived %d times", k, n)
		}
	}
	sort.Ints(inserts)
	if fmt.Sprint(inserts) != "[1 2 3 4 5 6 7 8 9]" {
		t.Errorf("inserts %v", inserts)
	}
	if seen["update 1"] != 1 || seen["delete 2"] != 1 {
		t.Errorf("update/delete missing: %v", seen)
	}
	// The three-row transaction: one xid, xoffsets 0 and 1, commit on
	// the last.
	if len(multi) != 3 {
		t.Fatalf("multi-row transaction: %d rows", len(multi))
	}
	sort.Slice(multi, func(i, j int) bool { return orderID(t, multi[i]) < orderID(t, multi[j]) })
	if multi[0].XID != multi[1].XID || multi[1].XID != multi[2].XID {
		t.Errorf("xids %d %d %d", multi[0].XID, multi[1].XID, multi[2].XID)
	}
	if multi[0].Commit || multi[1].Commit || !multi[2].Commit ||
		multi[0].XOffset == nil || *multi[0].XOffset != 0 || multi[1].XOffset == nil || *multi[1].XOffset != 1 || multi[2].XOffset != nil {
		t.Errorf("commit/xoffset wrong: %+v", multi)
	}
	for _, r := range recs {
		if got := parseRow(t, r.data); got.Type == "update" {
			if string(got.Old) != `{"price":50.00}` {
				t.Errorf("update old = %s", got.Old)
			}
		}
	}
}

// TestBootstrap requests a bootstrap as maxwell-bootstrap does and reads
// the table back through the file producer.
func TestBootstrap(t *testing.T) {
	for _, mode := range []string{"async", "sync"} {
		t.Run(mode, func(t *testing.T) {
			db := testmariadb.Start(t)
			e := &env{t: t, db: db}
			db.Exec(t, seedSchema...)
			db.Exec(t, seedInserts...) // before the daemon: not in its binlog
			out := filepath.Join(t.TempDir(), "maxwell.json")
			props := map[string]string{"producer": "file", "output_file": out, "bootstrapper": mode,
				"host": db.Host, "port": strconv.Itoa(db.Port), "user": db.User, "password": db.Password,
				"replica_server_id": "4243", "output_primary_keys": "true"}
			e.startDaemon(props)
			cfg, err := maxwell.ParseConfig(props)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			id, err := maxwell.RequestBootstrap(ctx, cfg, "ecommerce", "orders", "order_id > 1", "nightly")
			if err != nil {
				t.Fatal(err)
			}
			e.eventually("bootstrap complete", func() bool {
				return e.query(fmt.Sprintf("SELECT is_complete FROM maxwell.bootstrap WHERE id = %d", id)) == "1"
			})
			if got := e.query(fmt.Sprintf("SELECT inserted_rows FROM maxwell.bootstrap WHERE id = %d", id)); got != "2" {
				t.Errorf("inserted_rows = %s", got)
			}
			// A change after the bootstrap follows it.
			db.Exec(t, "UPDATE ecommerce.orders SET price = 60.00 WHERE order_id = 3")
			var lines []string
			e.eventually("the update after the bootstrap", func() bool {
				lines = readLines(t, out)
				return strings.Contains(strings.Join(lines, "\n"), `"type":"update"`)
			})
			// The table's events, and the request itself, which Maxwell
			// passes on (normally first: the daemon acts on it at its
			// commit, though its periodic look at the table may beat that).
			var types, table []string
			requests := 0
			for _, l := range lines {
				r := parseRow(t, l)
				switch {
				case r.Database == "ecommerce":
					types = append(types, r.Type)
					table = append(table, l)
				case r.Database == "maxwell" && r.Table == "bootstrap" && r.Type == "insert":
					requests++
				default:
					t.Errorf("unexpected %s", l)
				}
			}
			if want := "bootstrap-start bootstrap-insert bootstrap-insert bootstrap-complete update"; strings.Join(types, " ") != want || requests != 1 {
				t.Fatalf("events %v and %d requests, want %s and 1\n%s", types, requests, want, strings.Join(lines, "\n"))
			}
			lines = table
			re := regexp.MustCompile(`^\{"database":"ecommerce","table":"orders","type":"bootstrap-start","ts":\d+,"comment":"nightly","primary_key":\[null\],"data":\{\}\}$`)
			if !re.MatchString(lines[0]) {
				t.Errorf("bootstrap-start %s", lines[0])
			}
			for i, id := range []int{2, 3} {
				got := parseRow(t, lines[1+i])
				date := e.query(fmt.Sprintf("SELECT order_date FROM ecommerce.orders WHERE order_id = %d", id))
				want := map[int]string{
					2: `"data":{"order_id":2,"customer_id":1002,"item_description":"USB-C \"hub\"","price":1234.50,"order_date":%q}}`,
					3: `"data":{"order_id":3,"customer_id":1003,"item_description":"Desk lamp","price":0.99,"order_date":%q}}`,
				}[id]
				want = fmt.Sprintf(`{"database":"ecommerce","table":"orders","type":"bootstrap-insert","ts":%d,"comment":"nightly","primary_key":[%d],`+want, got.TS, id, date)
				if lines[1+i] != want {
					t.Errorf("bootstrap-insert:\ngot  %s\nwant %s", lines[1+i], want)
				}
			}
			re = regexp.MustCompile(`^\{"database":"ecommerce","table":"orders","type":"bootstrap-complete","ts":\d+,"comment":"nightly","primary_key":\[\],"data":\{\}\}$`)
			if !re.MatchString(lines[3]) {
				t.Errorf("bootstrap-complete %s", lines[3])
			}
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// TestTypes writes a row of every common column type and checks its
// data as the binlog reader delivers it and as a bootstrap reads it
// back: both must be Maxwell's JSON, and the same. It also checks a
// schema change with output_ddl.
func TestTypes(t *testing.T) {
	db := testmariadb.Start(t)
	e := &env{t: t, db: db}
	db.Exec(t, "CREATE DATABASE shop",
		"CREATE TABLE shop.types (id INT PRIMARY KEY, ti TINYINT, si SMALLINT UNSIGNED, bi BIGINT UNSIGNED, "+
			"f FLOAT, d DOUBLE, dec1 DECIMAL(10,8), dt DATETIME(3), ts TIMESTAMP(6) NULL, dte DATE, tm TIME, yr YEAR, "+
			"b1 BIT(1), b12 BIT(12), j JSON, e ENUM('a','b'), s SET('x','y','z'), vc VARCHAR(20), txt TEXT, "+
			"vb VARBINARY(8), bl BLOB, g POINT, nul INT NULL)")
	out := filepath.Join(t.TempDir(), "maxwell.json")
	props := map[string]string{"producer": "file", "output_file": out, "output_ddl": "true",
		"host": db.Host, "port": strconv.Itoa(db.Port), "user": db.User, "password": db.Password,
		"replica_server_id": "4244", "filter": "exclude: maxwell.*"}
	e.startDaemon(props)
	db.Exec(t, "SET time_zone = '+00:00'",
		"INSERT INTO shop.types VALUES (1, -5, 65535, 18446744073709551615, 1.5, 4.2341, 0.00000010, "+
			"'2021-08-16 10:11:12.5', '2016-10-21 05:33:37.523', '2021-08-16', '25:00:01', 2021, b'1', b'100000000001', "+
			"'{\"a\": 1}', 'b', 'x,z', 'héllo \"q\"', 'text', 0x00FF, 0x010203, POINT(1, 2.5), NULL)",
		"ALTER TABLE shop.types ADD COLUMN extra INT")
	cfg, err := maxwell.ParseConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := maxwell.RequestBootstrap(context.Background(), cfg, "shop", "types", "", ""); err != nil {
		t.Fatal(err)
	}
	var lines []string
	e.eventually("the bootstrap of shop.types", func() bool {
		lines = readLines(t, out)
		return strings.Contains(strings.Join(lines, "\n"), "bootstrap-complete")
	})
	// MariaDB's JSON is LONGTEXT: Maxwell (reading its schema) writes it
	// as a string there.
	data := `{"id":1,"ti":-5,"si":65535,"bi":18446744073709551615,"f":1.5,"d":4.2341,"dec1":1.0E-7,` +
		`"dt":"2021-08-16 10:11:12.500","ts":"2016-10-21 05:33:37.523000","dte":"2021-08-16","tm":"01:00:01","yr":2021,` +
		`"b1":1,"b12":2049,"j":"{\"a\": 1}","e":"b","s":["x","z"],"vc":"héllo \"q\"","txt":"text","vb":"AP8=","bl":"AQID",` +
		`"g":"POINT (1 2.5)","nul":null`
	var insert, alter, boot string
	for _, l := range lines {
		r := parseRow(t, l)
		switch {
		case r.Type == "insert" && r.Table == "types":
			insert = string(r.Data)
		case strings.HasPrefix(l, `{"type":"table-alter"`):
			alter = l
		case r.Type == "bootstrap-insert":
			boot = string(r.Data)
		}
	}
	if insert != data+"}" {
		t.Errorf("binlog insert data:\ngot  %s\nwant %s}", insert, data)
	}
	if boot != data+`,"extra":null}` {
		t.Errorf("bootstrap data:\ngot  %s\nwant %s,\"extra\":null}", boot, data)
	}
	for _, want := range []string{`{"type":"table-alter","database":"shop","table":"types","old":{"database":"shop","charset":`,
		`{"type":"int","name":"extra","signed":true}],"primary-key":["id"]},"ts":`,
		`"sql":"ALTER TABLE shop.types ADD COLUMN extra INT"}`,
		`{"type":"datetime","name":"dt","column-length":3}`, `{"type":"set","name":"s","enum-values":["x","y","z"]}`,
		`{"type":"bigint","name":"bi","signed":false}`, `{"type":"varbinary","name":"vb","charset":"binary"}`} {
		if !strings.Contains(alter, want) {
			t.Errorf("table-alter lacks %s:\n%s", want, alter)
		}
	}
}

// TestBootstrapFailures: a request for a missing table is aborted
// (marked complete, as Maxwell does), one whose where clause fails stays
// incomplete to be retried, and neither stops the daemon or the requests
// after them.
func TestBootstrapFailures(t *testing.T) {
	db := testmariadb.Start(t)
	e := &env{t: t, db: db}
	db.Exec(t, seedSchema...)
	db.Exec(t, seedInserts...)
	out := filepath.Join(t.TempDir(), "maxwell.json")
	props := map[string]string{"producer": "file", "output_file": out, "client_id": "failing",
		"host": db.Host, "port": strconv.Itoa(db.Port), "user": db.User, "password": db.Password, "replica_server_id": "4246"}
	d := e.startDaemon(props)
	cfg, err := maxwell.ParseConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The row count maxwell-bootstrap takes first fails for these two
	// as well, so they are inserted directly.
	db.Exec(t, "INSERT INTO maxwell.bootstrap (database_name, table_name, client_id) VALUES ('ecommerce', 'missing', 'failing')",
		"INSERT INTO maxwell.bootstrap (database_name, table_name, where_clause, client_id) VALUES ('ecommerce', 'orders', 'no_such_column = 1', 'failing')")
	good, err := maxwell.RequestBootstrap(ctx, cfg, "ecommerce", "orders", "", "")
	if err != nil {
		t.Fatal(err)
	}
	e.eventually("the good bootstrap", func() bool {
		return e.query(fmt.Sprintf("SELECT is_complete FROM maxwell.bootstrap WHERE id = %d", good)) == "1"
	})
	if got := e.query("SELECT GROUP_CONCAT(CONCAT(table_name, '=', is_complete) ORDER BY id) FROM maxwell.bootstrap"); got != "missing=1,orders=0,orders=1" {
		t.Errorf("requests %s", got)
	}
	db.Exec(t, "INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1004, 'after', 1.00)")
	e.eventually("a row after the failures", func() bool {
		return strings.Contains(strings.Join(readLines(t, out), "\n"), `"customer_id":1004`)
	})
	if err := d.stop(); err != nil {
		t.Errorf("daemon: %v", err)
	}
	if !strings.Contains(d.log.String(), "bootstrap failed; it will be tried again") {
		t.Errorf("failure not logged:\n%s", d.log.String())
	}
}

// TestThreadID: with output_thread_id, a row's thread_id is the thread
// of its own transaction, never another's: two connections insert after
// a third ran DDL. MariaDB starts a row transaction with a GTID event,
// which carries no thread (there is no BEGIN statement in its binary
// log), so there thread_id is absent; a log that has BEGIN statements
// must give each writer's CONNECTION_ID().
func TestThreadID(t *testing.T) {
	e := &env{t: t, db: testmariadb.Start(t)}
	d := e.startDaemon(map[string]string{"producer": "stdout", "output_thread_id": "true", "output_ddl": "true",
		"host": e.db.Host, "port": strconv.Itoa(e.db.Port), "user": e.db.User, "password": e.db.Password, "replica_server_id": "4243"})
	from := e.db.Query(t, "SHOW MASTER STATUS")
	file, _ := from.GetString(0, 0)
	pos, _ := from.GetUint(0, 1)

	conns := map[string]*client.Conn{"ddl": e.db.Conn(t), "a": e.db.Conn(t), "b": e.db.Conn(t)}
	exec := func(who, q string) {
		t.Helper()
		if _, err := conns[who].Execute(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("ddl", "CREATE DATABASE shop")
	exec("ddl", "CREATE TABLE shop.t (id INT PRIMARY KEY, who VARCHAR(5))")
	exec("a", "INSERT INTO shop.t VALUES (1, 'a')")
	exec("b", "INSERT INTO shop.t VALUES (2, 'b')")
	exec("a", "INSERT INTO shop.t VALUES (3, 'a')")

	begins := false
	events := e.db.Query(t, fmt.Sprintf("SHOW BINLOG EVENTS IN '%s' FROM %d", file, pos))
	for i := range events.Values {
		typ, _ := events.GetString(i, 2)
		info, _ := events.GetString(i, 5)
		begins = begins || typ == "Query" && strings.EqualFold(strings.TrimSpace(info), "BEGIN")
	}

	var rows []map[string]any
	e.eventually("three rows", func() bool {
		rows = rows[:0]
		for _, line := range strings.Split(d.log.String(), "\n") {
			var m map[string]any
			if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &m) == nil && m["type"] == "insert" {
				rows = append(rows, m)
			}
		}
		return len(rows) == 3
	})
	for _, r := range rows {
		who := r["data"].(map[string]any)["who"].(string)
		id := conns[who].GetConnectionID()
		got, has := r["thread_id"]
		switch {
		case begins && (!has || got != float64(id)):
			t.Errorf("row by connection %d: thread_id %v", id, got)
		case !begins && has:
			t.Errorf("row by connection %d: thread_id %v, but the binary log carries no thread for row transactions", id, got)
		}
	}
}
