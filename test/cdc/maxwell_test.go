package cdc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testmariadb"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"

	"github.com/tributary-data/tributary/internal/syncbuf"
)

// TestMaxwellCLI is acceptance 3 of issue 5 through the real binary:
// `tributary maxwell --config config.properties`, with Maxwell's keys,
// writes Maxwell's JSON for each row of the seed scenario to the
// configured stream, partitioned by primary key.
func TestMaxwellCLI(t *testing.T) {
	db := testmariadb.Start(t)
	srv := inproc.Start(t)
	c := srv.Client()
	dir := t.TempDir()
	config := filepath.Join(dir, "config.properties")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`# Maxwell's config.properties
producer=kinesis
kinesis_stream=orders-maxwell
host=%s
port=%d
user=%s
password=%s
client_id=tributary-test
replica_server_id=6380
producer_partition_by=primary_key
output_binlog_position=true
output_primary_keys=true
kinesis_endpoint=%s
kinesis_region=us-east-1
`, db.Host, db.Port, db.User, db.Password, srv.Endpoint)), 0o644); err != nil {
		t.Fatal(err)
	}
	db.Exec(t, "CREATE DATABASE ecommerce",
		"CREATE TABLE ecommerce.orders (order_id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT, "+
			"item_description VARCHAR(255), price DECIMAL(6,2), order_date DATETIME DEFAULT CURRENT_TIMESTAMP)")
	// The daemon writes to an existing stream, as Maxwell does.
	createStream(t, srv, "orders-maxwell", 2)

	var stderr bytes.Buffer
	cmd := exec.Command(testserver.Binary(t), "maxwell", "--config", config)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("tributary maxwell:\n%s", stderr.String())
		}
	})
	// The daemon starts at the current position (Maxwell does not
	// snapshot): wait until it has stored one.
	testserver.WaitUntil(t, "the daemon's stored position", time.Minute, func() bool {
		c, err := db.Connect(t.Context())
		if err != nil {
			return false
		}
		defer c.Close()
		r, err := c.Execute("SELECT COUNT(*) FROM maxwell.positions WHERE client_id = 'tributary-test'")
		if err != nil {
			return false
		}
		n, _ := r.GetInt(0, 0)
		return n == 1
	})
	db.Exec(t,
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1001, 'Laptop Bag', 50.00)",
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1002, 'Wireless Mouse', 25.99)",
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1003, 'USB-C Cable', 9.99)")

	type row struct {
		Database   string          `json:"database"`
		Table      string          `json:"table"`
		Type       string          `json:"type"`
		Commit     bool            `json:"commit"`
		Position   string          `json:"position"`
		PrimaryKey json.RawMessage `json:"primary_key"`
		Data       json.RawMessage `json:"data"`
	}
	var rows []row
	var keys []string
	testserver.WaitUntil(t, "three rows on the stream", time.Minute, func() bool {
		rows, keys = nil, nil
		for _, r := range testserver.ReadStream(t, c, "orders-maxwell") {
			var m row
			if err := json.Unmarshal(r.Data, &m); err != nil {
				t.Fatalf("not JSON: %q", r.Data)
			}
			if m.Table == "orders" {
				rows = append(rows, m)
				keys = append(keys, *r.PartitionKey)
			}
		}
		return len(rows) >= 3
	})
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	want := map[string]string{
		"1": `{"order_id":1,"customer_id":1001,"item_description":"Laptop Bag","price":50.00`,
		"2": `{"order_id":2,"customer_id":1002,"item_description":"Wireless Mouse","price":25.99`,
		"3": `{"order_id":3,"customer_id":1003,"item_description":"USB-C Cable","price":9.99`,
	}
	for i, r := range rows {
		id := strings.Trim(string(r.PrimaryKey), "[]")
		if r.Database != "ecommerce" || r.Type != "insert" || !r.Commit || !strings.HasPrefix(r.Position, "mysql-bin.") {
			t.Errorf("row %d = %+v", i, r)
		}
		if !strings.HasPrefix(string(r.Data), want[id]) || !strings.Contains(string(r.Data), `"order_date":"`) {
			t.Errorf("row %s data = %s, want prefix %s", id, r.Data, want[id])
		}
		// producer_partition_by=primary_key: Maxwell's key is the
		// primary key values concatenated (RowIdentity.toConcatString).
		if keys[i] != id {
			t.Errorf("row %s partition key = %q", id, keys[i])
		}
	}
	// A clean stop stores the position and exits 0.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tributary maxwell after SIGTERM: %v\n%s", err, stderr.String())
	}
}

// createStream creates a stream and waits until it is active.
func createStream(t *testing.T, srv *testserver.Proc, name string, shards int32) {
	t.Helper()
	c := client(srv)
	if _, err := c.CreateStream(t.Context(), &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	testserver.WaitUntil(t, "stream "+name, time.Minute, func() bool {
		out, err := c.DescribeStreamSummary(t.Context(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})
}

// kplDefaults is the seed scenario's kinesis-producer-library.properties
// (the KPL's defaults) without the endpoint settings each test adds.
const kplDefaults = `AggregationEnabled = true
AggregationMaxCount = 4294967295
AggregationMaxSize = 51200
CollectionMaxCount = 500
CollectionMaxSize = 5242880
ConnectTimeout = 6000
FailIfThrottled = false
LogLevel = info
MaxConnections = 24
MetricsGranularity = shard
MetricsLevel = detailed
MetricsNamespace = KinesisProducerLibrary
MetricsUploadDelay = 60000
MinConnections = 1
RateLimit = 150
RecordMaxBufferedTime = 100
RecordTtl = 60000
Region = us-east-1
RequestTimeout = 6000
`

// TestMaxwellKPLSelfSigned is acceptance 3 of issue 9: `tributary
// maxwell` with Maxwell's config.properties and a KPL properties file
// naming CustomEndpoint=127.0.0.1, Port and VerifyCertificate=false
// reaches a `tributary serve -tls-self-signed` over TLS, and reports the
// KPL settings it does not apply in one line. With
// VerifyCertificate=true the self-signed certificate is refused.
func TestMaxwellKPLSelfSigned(t *testing.T) {
	db := testmariadb.Start(t)
	// The seed scenario's user, with a password the daemon must never
	// log.
	const password = "Maxwell-pw-5520"
	db.Exec(t, "CREATE USER 'maxwell'@'%' IDENTIFIED BY '"+password+"'",
		"GRANT SELECT, REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO 'maxwell'@'%'",
		"GRANT ALL ON maxwell.* TO 'maxwell'@'%'")
	srv := inproc.Start(t, "-tls-self-signed")
	if !strings.HasPrefix(srv.Endpoint, "https://") {
		t.Fatalf("endpoint %s", srv.Endpoint)
	}
	_, port, _ := strings.Cut(srv.Addr, ":")
	createStream(t, srv, "orders-kpl", 1)
	db.Exec(t, "CREATE DATABASE ecommerce",
		"CREATE TABLE ecommerce.orders (order_id VARCHAR(255), customer_id VARCHAR(255), item_description VARCHAR(255), "+
			"price DECIMAL(6,2), order_date DATETIME DEFAULT CURRENT_TIMESTAMP)")

	// run starts the daemon in a directory holding both files, as
	// Maxwell is run: the KPL file is read from the working directory.
	run := func(t *testing.T, verify string) (*exec.Cmd, *syncbuf.Buffer) {
		dir := t.TempDir()
		write := func(name, text string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("config.properties", fmt.Sprintf("producer=kinesis\nhost=%s\nport=%d\nuser=%s\npassword=%s\nkinesis_stream=orders-kpl\n"+
			"client_id=kpl-%s\nreplica_server_id=%d\nlog_level=debug\n", db.Host, db.Port, "maxwell", password, verify, 6400+len(verify)))
		write("kinesis-producer-library.properties", kplDefaults+
			"CustomEndpoint = 127.0.0.1\nPort = "+port+"\nVerifyCertificate = "+verify+"\n")
		stderr := &syncbuf.Buffer{}
		cmd := exec.Command(testserver.Binary(t), "maxwell")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, stderr
	}

	t.Run("VerifyCertificate=true refuses the certificate", func(t *testing.T) {
		cmd, stderr := run(t, "true")
		err := cmd.Wait()
		if err == nil || !strings.Contains(stderr.String(), "certificate") {
			t.Fatalf("tributary maxwell with VerifyCertificate=true: %v\n%s", err, stderr.String())
		}
	})

	t.Run("VerifyCertificate=false", func(t *testing.T) {
		cmd, stderr := run(t, "false")
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("tributary maxwell:\n%s", stderr.String())
			}
		})
		testserver.WaitUntil(t, "the daemon's stored position", time.Minute, func() bool {
			return db.QueryString(t, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'maxwell' AND TABLE_NAME = 'positions'") == "1" &&
				db.QueryString(t, "SELECT COUNT(*) FROM maxwell.positions WHERE client_id = 'kpl-false'") == "1"
		})
		// Two rows as the blog inserts them, then a batch of 50 in one
		// statement, which the KPL's aggregation (AggregationEnabled =
		// true) packs into aggregated records.
		var many []string
		for i := range 50 {
			many = append(many, fmt.Sprintf(`("%d", "9", "item", "1.00", "2021-08-16 10:11:12")`, 200000+i))
		}
		db.Exec(t,
			`INSERT INTO ecommerce.orders VALUES ("123456", "123", "A super noisy mechanical keyboard", "50.00", "2021-08-16 10:11:12")`,
			`INSERT INTO ecommerce.orders VALUES ("123457", "123", "An extremely wide monitor", "500.00", "2021-08-16 11:12:13")`,
			"INSERT INTO ecommerce.orders VALUES "+strings.Join(many, ", "))
		c := client(srv)
		var got []string
		var records, aggregated int
		testserver.WaitUntil(t, "52 rows on the stream", time.Minute, func() bool {
			got, records, aggregated = nil, 0, 0
			for _, r := range testserver.ReadStream(t, c, "orders-kpl") {
				keys, datas, isAgg, err := testserver.KPLUserRecords(r.Data)
				if err != nil {
					t.Fatalf("record %s: %v", *r.SequenceNumber, err)
				}
				for _, k := range keys {
					if k != *r.PartitionKey || k != "ecommerce" {
						t.Fatalf("user record key %q in a record with key %q; Maxwell's default key is the database", k, *r.PartitionKey)
					}
				}
				records++
				if isAgg {
					aggregated++
				}
				got = append(got, datas...)
			}
			return len(got) >= 52
		})
		t.Logf("52 rows in %d Kinesis records, %d of them KPL-aggregated", records, aggregated)
		if len(got) != 52 {
			t.Fatalf("%d rows, want 52", len(got))
		}
		for i, want := range []string{
			`"data":{"order_id":"123456","customer_id":"123","item_description":"A super noisy mechanical keyboard","price":50.00,"order_date":"2021-08-16 10:11:12"}`,
			`"data":{"order_id":"123457","customer_id":"123","item_description":"An extremely wide monitor","price":500.00,"order_date":"2021-08-16 11:12:13"}`,
		} {
			if !strings.HasPrefix(got[i], `{"database":"ecommerce","table":"orders","type":"insert",`) || !strings.HasSuffix(got[i], want+"}") {
				t.Errorf("row %d = %s, want ...%s}", i, got[i], want)
			}
		}
		for i := range 50 {
			if want := fmt.Sprintf(`"data":{"order_id":"%d",`, 200000+i); !strings.Contains(got[2+i], want) {
				t.Errorf("row %d = %s, want %s...", 2+i, got[2+i], want)
			}
		}
		// The KPL settings without effect, in one line; the ones applied
		// are not in it.
		var lines []string
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(l, "KPL settings without effect") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || !strings.HasSuffix(lines[0], " keys=CollectionMaxCount,CollectionMaxSize,ConnectTimeout,FailIfThrottled,LogLevel,"+
			"MaxConnections,MetricsGranularity,MetricsLevel,MetricsNamespace,MetricsUploadDelay,MinConnections,RateLimit,"+
			"RecordMaxBufferedTime,RecordTtl,RequestTimeout") || !strings.Contains(lines[0], "level=INFO") {
			t.Errorf("lines about KPL settings:\n%s", strings.Join(lines, "\n"))
		}
		if strings.Contains(stderr.String(), password) {
			t.Errorf("the password is in the daemon's log")
		}
		for _, applied := range []string{"CustomEndpoint", "VerifyCertificate", "Region", ",Port", "Aggregation"} {
			if len(lines) == 1 && strings.Contains(lines[0], applied) {
				t.Errorf("%s reported as without effect: %s", applied, lines[0])
			}
		}
	})
}

// client is a Kinesis client for the server, trusting its certificate
// when it has a self-signed one.
func client(srv *testserver.Proc) *kinesis.Client {
	if strings.HasPrefix(srv.Endpoint, "https://") {
		return srv.Client(func(o *kinesis.Options) { o.HTTPClient = testserver.InsecureHTTPClient() })
	}
	return srv.Client()
}
