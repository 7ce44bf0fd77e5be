package cdc

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/cdc/debezium"
	"github.com/tributary-data/tributary/internal/testmariadb"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// blogConfig is the Debezium connector configuration of the source blog
// (Debezium on MSK Connect, Aurora MySQL to MSK), verbatim.
const blogConfig = `connector.class=io.debezium.connector.mysql.MySqlConnector
tasks.max=1
database.hostname=<aurora-database-writer-instance-endpoint>
database.port=3306
database.user=my-database-user
database.password=my-secret-password
database.server.id=123456
database.server.name=ecommerce-server
database.include.list=ecommerce
database.history.kafka.topic=dbhistory.ecommerce
database.history.kafka.bootstrap.servers=<bootstrap servers>
database.history.consumer.security.protocol=SASL_SSL
database.history.consumer.sasl.mechanism=AWS_MSK_IAM
database.history.consumer.sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;
database.history.consumer.sasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler
database.history.producer.security.protocol=SASL_SSL
database.history.producer.sasl.mechanism=AWS_MSK_IAM
database.history.producer.sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;
database.history.producer.sasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler
include.schema.changes=true`

// blogSQL is the blog's SQL, verbatim: orders has no primary key.
var blogSQL = []string{
	`CREATE DATABASE ecommerce`,
	`USE ecommerce`,
	`CREATE TABLE orders (order_id VARCHAR(255), customer_id VARCHAR(255), item_description VARCHAR(255),
  price DECIMAL(6,2), order_date DATETIME DEFAULT CURRENT_TIMESTAMP)`,
	`INSERT INTO orders VALUES ("123456", "123", "A super noisy mechanical keyboard", "50.00", "2021-08-16 10:11:12")`,
	`INSERT INTO orders VALUES ("123457", "123", "An extremely wide monitor", "500.00", "2021-08-16 11:12:13")`,
	`INSERT INTO orders VALUES ("123458", "123", "A too sensible microphone", "150.00", "2021-08-16 12:13:14")`,
}

// blogOrders are the after images the blog shows, as Kafka's
// Struct.toString prints them (the blog's consumer printed the records
// of MSK Connect's default StringConverter), one per insert.
var blogOrders = [][]string{
	{"order_id=123456", "customer_id=123", "item_description=A super noisy mechanical keyboard", "price=50.00", "order_date=1629108672000"},
	{"order_id=123457", "customer_id=123", "item_description=An extremely wide monitor", "price=500.00", "order_date=1629112333000"},
	{"order_id=123458", "customer_id=123", "item_description=A too sensible microphone", "price=150.00", "order_date=1629115994000"},
}

// debeziumSourceFields are the fields Debezium's MySQL source block may
// have (Debezium 3.6.1, whose format Tributary produces); the blog's
// Debezium 1.6.1 printed a subset.
var debeziumSourceFields = []string{"version", "connector", "name", "ts_ms", "snapshot", "db", "sequence", "ts_us", "ts_ns",
	"table", "server_id", "gtid", "file", "pos", "row", "thread", "query"}

// TestBlogDebeziumConfig is acceptance 2: the source blog's Debezium
// configuration, posted verbatim through the Connect REST API with only
// the host, port and password changed, against the blog's keyless
// ecommerce.orders, gives exactly the blog's output and nothing more:
// schema changes on ecommerce-server, and on
// ecommerce-server.ecommerce.orders three creates with the blog's values,
// then the update and the delete (with its tombstone) that follow, all
// with a null key. The keys that have no effect here are logged once, at
// info, and the password never.
func TestBlogDebeziumConfig(t *testing.T) {
	const password = "Pw-for-the-blog-7723"
	db := testmariadb.Start(t)
	db.Exec(t,
		"CREATE USER 'my-database-user'@'%' IDENTIFIED BY '"+password+"'",
		"GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'my-database-user'@'%'")
	// At info, to see the one line naming the keys without effect.
	srv := inproc.Start(t, "-log-level", "info")

	config := map[string]string{}
	for _, line := range strings.Split(blogConfig, "\n") {
		k, v, _ := strings.Cut(line, "=")
		config[k] = v
	}
	config["database.hostname"] = db.Host
	config["database.port"] = strconv.Itoa(db.Port)
	config["database.password"] = password
	post(t, srv.ConnectURL, "ecommerce", config)

	// The blog creates the table after the connector: wait until it
	// reads the binary log, so the changes are streamed, not snapshotted.
	testserver.WaitUntil(t, "the connector to read the binary log", time.Minute, func() bool {
		return db.QueryString(t, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'") == "1"
	})
	db.Exec(t, blogSQL...)
	db.Exec(t,
		`UPDATE ecommerce.orders SET price = "55.00" WHERE order_id = "123456"`,
		`DELETE FROM ecommerce.orders WHERE order_id = "123458"`)
	serverID := db.QueryString(t, "SELECT @@server_id")

	c := srv.Client()
	const topic = "ecommerce-server.ecommerce.orders"
	testserver.WaitUntil(t, "the orders' events", time.Minute, func() bool { return len(testserver.ReadStream(t, c, topic)) >= 6 })
	recs := testserver.ReadStream(t, c, topic)
	if len(recs) != 6 {
		t.Fatalf("%d records on %s, want 3 creates, an update, a delete and its tombstone", len(recs), topic)
	}
	var events []*structValue
	for i, r := range recs {
		if got := *r.PartitionKey; got != "null" {
			t.Errorf("record %d: partition key %q, want the null key's \"null\"", i, got)
		}
		if i == 5 {
			if len(r.Data) != 0 {
				t.Errorf("the delete's tombstone has data %q", r.Data)
			}
			continue
		}
		v, err := parseStruct(string(r.Data))
		if err != nil {
			t.Fatalf("record %d: %v: %s", i, err, r.Data)
		}
		events = append(events, v)
	}
	updated := slices.Clone(blogOrders[0])
	updated[3] = "price=55.00"
	want := []struct {
		op            string
		before, after []string
	}{
		{"c", nil, blogOrders[0]},
		{"c", nil, blogOrders[1]},
		{"c", nil, blogOrders[2]},
		{"u", blogOrders[0], updated},
		{"d", blogOrders[2], nil},
	}
	for i, w := range want {
		ev := events[i]
		envelope := []string{"before", "after", "source", "op", "ts_ms", "ts_us", "ts_ns"}
		if w.before == nil {
			envelope = slices.DeleteFunc(envelope, func(s string) bool { return s == "before" })
		}
		if w.after == nil {
			envelope = slices.DeleteFunc(envelope, func(s string) bool { return s == "after" })
		}
		if !slices.Equal(ev.keys(), envelope) {
			t.Errorf("event %d: fields %v, want %v", i, ev.keys(), envelope)
		}
		if ev.text("op") != w.op {
			t.Errorf("event %d: op=%s, want %s", i, ev.text("op"), w.op)
		}
		for _, part := range []struct {
			name string
			want []string
		}{{"before", w.before}, {"after", w.after}} {
			if part.want == nil {
				continue
			}
			if got := ev.sub(part.name).pairs(); !slices.Equal(got, part.want) {
				t.Errorf("event %d: %s=%v, want %v", i, part.name, got, part.want)
			}
		}
		src := ev.sub("source")
		for _, f := range src.keys() {
			if !slices.Contains(debeziumSourceFields, f) {
				t.Errorf("event %d: source.%s is not a Debezium source field", i, f)
			}
		}
		for k, v := range map[string]string{"version": debezium.Version, "connector": "mysql", "name": "ecommerce-server",
			"db": "ecommerce", "table": "orders", "server_id": serverID, "row": "0"} {
			if src.text(k) != v {
				t.Errorf("event %d: source.%s=%s, want %s", i, k, src.text(k), v)
			}
		}
		if slices.Contains(src.keys(), "snapshot") {
			t.Errorf("event %d: a streamed event has source.snapshot=%s (null, so not printed, in the blog)", i, src.text("snapshot"))
		}
		if pos, err := strconv.Atoi(src.text("pos")); err != nil || pos <= 0 || !strings.Contains(src.text("file"), "bin") {
			t.Errorf("event %d: source file=%s pos=%s", i, src.text("file"), src.text("pos"))
		}
		for _, f := range []string{"ts_ms", "ts_us", "ts_ns"} {
			if n, err := strconv.ParseInt(ev.text(f), 10, 64); err != nil || n <= 0 {
				t.Errorf("event %d: %s=%s", i, f, ev.text(f))
			}
		}
	}

	// The schema changes: CREATE DATABASE, then CREATE TABLE with no
	// primary key columns.
	testserver.WaitUntil(t, "the schema changes", time.Minute, func() bool {
		return len(testserver.ReadStream(t, c, "ecommerce-server")) >= 2
	})
	schema := testserver.ReadStream(t, c, "ecommerce-server")
	if len(schema) != 2 {
		t.Fatalf("%d schema changes, want CREATE DATABASE and CREATE TABLE", len(schema))
	}
	for i, w := range [][]string{
		{"databaseName=ecommerce", "ddl=CREATE DATABASE ecommerce"},
		{"databaseName=ecommerce", "ddl=CREATE TABLE orders (order_id VARCHAR(255)", "type=CREATE", "primaryKeyColumnNames=[]",
			"name=order_id", "name=customer_id", "name=item_description", "name=price", "name=order_date", "typeName=DECIMAL"},
	} {
		for _, s := range w {
			if !strings.Contains(string(schema[i].Data), s) {
				t.Errorf("schema change %d lacks %q: %s", i, s, schema[i].Data)
			}
		}
	}

	// Nothing else: no heartbeat, transaction or history stream.
	out, err := c.ListStreams(context.Background(), &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.StreamNames; !slices.Equal(got, []string{"ecommerce-server", topic}) {
		t.Errorf("streams %v", got)
	}

	// One info line lists the keys without effect; the password is
	// never logged.
	log := srv.Log()
	var lines []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "without effect") {
			lines = append(lines, l)
		}
	}
	wantKeys := "keys=" + strings.Join(debezium.UnusedKeys(config), ",")
	info := func(l string) bool { return strings.Contains(l, "level=INFO") || strings.Contains(l, " INFO ") }
	if len(lines) != 1 || !info(lines[0]) || !strings.Contains(lines[0], wantKeys) ||
		!strings.Contains(lines[0], "database.history.producer.sasl.jaas.config") {
		t.Errorf("lines about keys without effect:\n%s\nwant one at INFO with %s", strings.Join(lines, "\n"), wantKeys)
	}
	if strings.Contains(log, password) || strings.Contains(log, "IAMLoginModule") {
		t.Errorf("a secret is in the server's log:\n%s", log)
	}
	if t.Failed() {
		t.Logf("server log:\n%s", log)
	}
	t.Logf("first create event, as stored: %s", recs[0].Data)
}

// structValue is a value printed by Kafka's Struct.toString (what
// StringConverter writes for a struct): fields in schema order, null
// ones left out.
type structValue struct {
	fields []structField
}

type structField struct {
	name string
	text string       // the printed value, for a field that is not a struct
	sub  *structValue // for a struct field
}

func (s *structValue) keys() []string {
	var out []string
	for _, f := range s.fields {
		out = append(out, f.name)
	}
	return out
}

func (s *structValue) text(name string) string {
	for _, f := range s.fields {
		if f.name == name {
			return f.text
		}
	}
	return ""
}

func (s *structValue) sub(name string) *structValue {
	for _, f := range s.fields {
		if f.name == name && f.sub != nil {
			return f.sub
		}
	}
	return &structValue{}
}

// pairs are the fields as name=value.
func (s *structValue) pairs() []string {
	var out []string
	for _, f := range s.fields {
		out = append(out, f.name+"="+f.text)
	}
	return out
}

// parseStruct reads a Struct{...} string. Values are read up to the next
// comma or closing brace outside brackets, which suits the values
// checked here (no commas inside text).
func parseStruct(s string) (*structValue, error) {
	v, rest, err := parseStructAt(s)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, fmt.Errorf("text after the struct: %q", rest)
	}
	return v, nil
}

func parseStructAt(s string) (*structValue, string, error) {
	if !strings.HasPrefix(s, "Struct{") {
		return nil, s, fmt.Errorf("not a struct: %.20q", s)
	}
	s = s[len("Struct{"):]
	v := &structValue{}
	for !strings.HasPrefix(s, "}") {
		name, rest, ok := strings.Cut(s, "=")
		if !ok {
			return nil, s, fmt.Errorf("no = in %.20q", s)
		}
		f := structField{name: name}
		if strings.HasPrefix(rest, "Struct{") {
			sub, after, err := parseStructAt(rest)
			if err != nil {
				return nil, s, err
			}
			f.sub, rest = sub, after
		} else {
			depth, end := 0, len(rest)
		scan:
			for i := 0; i < len(rest); i++ {
				switch rest[i] {
				case '[':
					depth++
				case ']':
					depth--
				case ',', '}':
					if depth == 0 {
						end = i
						break scan
					}
				}
			}
			f.text, rest = rest[:end], rest[end:]
		}
		v.fields = append(v.fields, f)
		s = strings.TrimPrefix(rest, ",")
	}
	return v, s[1:], nil
}
