package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testmariadb"
	"github.com/tributary-data/tributary/internal/testserver/inproc"

	"github.com/tributary-data/tributary/internal/syncbuf"
)

func TestMaxwellUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.properties")
	if err := os.WriteFile(bad, []byte("producer=kafka\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus=1"}, "--bogus=1 is not a recognized option"},
		{[]string{"--producer"}, "option --producer requires a value"},
		{[]string{"stray"}, `unexpected argument "stray"`},
		{[]string{"--config", filepath.Join(dir, "missing.properties")}, "couldn't read config file"},
		{[]string{"--config", bad}, `producer "kafka" is not supported`},
		{[]string{"--config=" + bad, "--producer=kinesis"}, "please specify a stream name for kinesis"},
		{[]string{"--output_ddl", "--output_nulls", "maybe"}, `unexpected argument "maybe"`},
		{[]string{"bootstrap", "--table", "t"}, "please specify a database"},
		{[]string{"bootstrap", "--database", "d"}, "please specify a table"},
		{[]string{"bootstrap", "--database", "d", "--table", "t", "--nope"}, "--nope is not a recognized option"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		err := maxwellCommand(context.Background(), c.args, &out, &errb)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("maxwell %q: %v, want a usage error containing %q", c.args, err, c.want)
		}
	}
	var out bytes.Buffer
	if err := maxwellCommand(context.Background(), []string{"--help"}, &out, &out); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "tributary maxwell bootstrap") {
		t.Errorf("--help: %v\n%s", err, out.String())
	}
}

func TestMaxwellArgs(t *testing.T) {
	path, opts, err := maxwellArgs([]string{"--config", "c.properties", "--output_ddl", "--output_nulls", "false",
		"-producer=file", "--output_file", "/tmp/x", "--filter=exclude: a.*, include: a.b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"output_ddl": "true", "output_nulls": "false", "producer": "file", "output_file": "/tmp/x",
		"filter": "exclude: a.*, include: a.b"}
	if path != "c.properties" || len(opts) != len(want) {
		t.Fatalf("path %q opts %v", path, opts)
	}
	for k, v := range want {
		if opts[k] != v {
			t.Errorf("%s = %q, want %q", k, opts[k], v)
		}
	}
}

// TestMaxwellCommand runs `tributary maxwell` (in process) against a
// MariaDB server and a real `tributary serve`, with the Kinesis endpoint
// from a kinesis-producer-library.properties file next to the config,
// then requests a bootstrap with `tributary maxwell bootstrap`.
func TestMaxwellCommand(t *testing.T) {
	db := testmariadb.Start(t)
	srv := inproc.Start(t)
	kc := srv.Client()
	ctx := context.Background()
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("orders"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	db.Exec(t, "CREATE DATABASE ecommerce",
		"CREATE TABLE ecommerce.orders (order_id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT, "+
			"item_description VARCHAR(255), price DECIMAL(6,2), order_date DATETIME DEFAULT CURRENT_TIMESTAMP)")

	dir := t.TempDir()
	config := filepath.Join(dir, "config.properties")
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(config, "# the seed document's settings\nproducer=kinesis\nkinesis_stream=orders\n"+
		"host="+db.Host+"\nport="+strconv.Itoa(db.Port)+"\nuser="+db.User+"\npassword="+db.Password+"\n"+
		"replica_server_id=5151\nclient_id=cli\n")
	write(filepath.Join(dir, "kinesis-producer-library.properties"), "Region=us-east-1\nKinesisEndpoint="+srv.Endpoint+"\nAggregationEnabled=false\n")

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var stdout, stderr syncbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- maxwellCommand(runCtx, []string{"--config", config, "--producer_partition_by", "table", "--output_binlog_position"}, &stdout, &stderr)
	}()
	t.Cleanup(func() {
		stop()
		<-done
		if t.Failed() {
			t.Logf("maxwell output:\n%s", stderr.String())
		}
	})
	waitFor(t, "the first stored position", done, func() bool {
		c, err := db.Connect(ctx)
		if err != nil {
			return false
		}
		defer c.Quit()
		r, err := c.Execute("SELECT COUNT(*) FROM maxwell.positions WHERE client_id = 'cli'")
		if err != nil {
			return false
		}
		n, _ := r.GetInt(0, 0)
		return n == 1
	})
	db.Exec(t,
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1001, 'Wireless mouse', 50.00)",
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1002, 'Keyboard', 75.25)",
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1003, 'Desk lamp', 0.99)")

	var bout, berr bytes.Buffer
	if err := maxwellCommand(ctx, []string{"bootstrap", "--config", config, "--database", "ecommerce", "--table", "orders",
		"--where", "order_id = 2", "--comment", "cli test"}, &bout, &berr); err != nil {
		t.Fatalf("maxwell bootstrap: %v\n%s", err, berr.String())
	}
	if !strings.HasPrefix(bout.String(), "bootstrap 1 requested for ecommerce.orders (client_id cli)") {
		t.Errorf("bootstrap printed %q", bout.String())
	}

	var recs []types.Record
	waitFor(t, "7 records", done, func() bool {
		recs = readAll(t, kc, "orders")
		return len(recs) >= 7
	})
	var got []string
	for _, r := range recs {
		var m struct {
			Table    string          `json:"table"`
			Type     string          `json:"type"`
			Position string          `json:"position"`
			Data     json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(r.Data, &m); err != nil {
			t.Fatalf("record %s: %v", r.Data, err)
		}
		got = append(got, aws.ToString(r.PartitionKey)+" "+m.Table+" "+m.Type)
		if m.Type == "insert" && m.Table == "orders" && !strings.HasPrefix(m.Position, "mysql-bin.") {
			t.Errorf("no binlog position in %s", r.Data)
		}
		if m.Type == "bootstrap-insert" && !strings.HasPrefix(string(m.Data), `{"order_id":2,"customer_id":1002,"item_description":"Keyboard","price":75.25,`) {
			t.Errorf("bootstrap-insert %s", r.Data)
		}
	}
	sort.Strings(got)
	want := []string{"bootstrap bootstrap insert", "orders orders bootstrap-complete", "orders orders bootstrap-insert",
		"orders orders bootstrap-start", "orders orders insert", "orders orders insert", "orders orders insert"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("maxwell after SIGTERM: %v", err)
	}
	done <- nil
	if !strings.Contains(stderr.String(), "stored final position") {
		t.Errorf("no final position logged:\n%s", stderr.String())
	}
}

// waitFor polls cond for up to a minute, failing early if the command
// ends.
func waitFor(t *testing.T, what string, done chan error, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("maxwell stopped while waiting for %s: %v", what, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readAll reads every record of every shard of a stream.
func readAll(t *testing.T, c *kinesis.Client, stream string) []types.Record {
	t.Helper()
	ctx := context.Background()
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	var out []types.Record
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
			out = append(out, res.Records...)
			if len(res.Records) == 0 {
				break
			}
			iter = res.NextShardIterator
		}
	}
	return out
}
