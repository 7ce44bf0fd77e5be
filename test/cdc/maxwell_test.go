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
)

// TestMaxwellCLI is acceptance 3 of issue 5 through the real binary:
// `tributary maxwell --config config.properties`, with Maxwell's keys,
// writes Maxwell's JSON for each row of the seed scenario to the
// configured stream, partitioned by primary key.
func TestMaxwellCLI(t *testing.T) {
	db := testmariadb.Start(t)
	srv := testserver.Start(t)
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
	c := srv.Client()
	if _, err := c.CreateStream(t.Context(), &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	testserver.WaitUntil(t, "stream "+name, time.Minute, func() bool {
		out, err := c.DescribeStreamSummary(t.Context(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})
}
