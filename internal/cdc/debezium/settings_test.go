package debezium

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
)

func TestParseSettingsDefaults(t *testing.T) {
	s, err := ParseSettings(baseProps("dbserver1"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Settings{
		TopicPrefix: "dbserver1", Hostname: "db.example", Port: 3306, User: "debezium", ServerID: 184054,
		IgnoreBuiltin: true, DecimalMode: "precise", TimePrecisionMode: "adaptive_time_microseconds",
		BigIntUnsignedMode: "long", BinaryMode: "bytes", IncludeSchemaChanges: true, TombstonesOnDelete: true,
		ExtendedHeaders: true, SkippedOperations: map[byte]bool{'t': true}, SnapshotMode: "initial",
		HeartbeatPrefix: "__debezium-heartbeat", TransactionTopic: "transaction",
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("defaults\ngot  %+v\nwant %+v", s, want)
	}
}

func TestParseSettingsValues(t *testing.T) {
	props := baseProps("")
	delete(props, "topic.prefix")
	for k, v := range map[string]string{
		"database.server.name":                     "legacy",
		"database.port":                            "3307",
		"database.password":                        " secret ",
		"decimal.handling.mode":                    "STRING",
		"time.precision.mode":                      "connect",
		"bigint.unsigned.handling.mode":            "precise",
		"binary.handling.mode":                     "hex",
		"include.schema.changes":                   "false",
		"tombstones.on.delete":                     "false",
		"provide.transaction.metadata":             "true",
		"include.query":                            "true",
		"skipped.operations":                       "none",
		"snapshot.mode":                            "schema_only",
		"heartbeat.interval.ms":                    "1500",
		"heartbeat.topics.prefix":                  "hb",
		"schema.history.internal.kafka.topic":      "ignored",
		"database.history.kafka.bootstrap.servers": "ignored:9092",
	} {
		props[k] = v
	}
	s, err := ParseSettings(props)
	if err != nil {
		t.Fatal(err)
	}
	if s.TopicPrefix != "legacy" || s.Port != 3307 || s.Password != " secret " || s.DecimalMode != "string" ||
		s.TimePrecisionMode != "connect" || s.BigIntUnsignedMode != "precise" || s.BinaryMode != "hex" ||
		s.IncludeSchemaChanges || s.TombstonesOnDelete || !s.ProvideTransactionMetadata || !s.IncludeQuery ||
		len(s.SkippedOperations) != 0 || s.SnapshotMode != "no_data" || s.HeartbeatInterval != 1500*time.Millisecond ||
		s.HeartbeatPrefix != "hb" {
		t.Errorf("settings %+v", s)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		drop []string
		want map[string]string // key -> substring of its message
	}{
		{"valid", nil, nil, nil},
		{"legacy server name instead of topic.prefix", map[string]string{"database.server.name": "x"}, []string{"topic.prefix"}, nil},
		{"missing required", nil, []string{"topic.prefix", "database.hostname", "database.user", "database.server.id"}, map[string]string{
			"topic.prefix": "Missing required", "database.hostname": "Missing required", "database.user": "Missing required", "database.server.id": "Missing required"}},
		{"bad topic prefix", map[string]string{"topic.prefix": "a b"}, nil, map[string]string{"topic.prefix": "has invalid format"}},
		{"server id zero", map[string]string{"database.server.id": "0"}, nil, map[string]string{"database.server.id": "between 1 and 4294967295"}},
		{"server id too big", map[string]string{"database.server.id": "4294967296"}, nil, map[string]string{"database.server.id": "between"}},
		{"bad decimal mode", map[string]string{"decimal.handling.mode": "exact"}, nil, map[string]string{"decimal.handling.mode": "one of precise, double, string"}},
		{"adaptive is gone", map[string]string{"time.precision.mode": "adaptive"}, nil, map[string]string{"time.precision.mode": "no longer supported"}},
		{"recovery", map[string]string{"snapshot.mode": "recovery"}, nil, map[string]string{"snapshot.mode": "nothing to recover"}},
		{"bad snapshot mode", map[string]string{"snapshot.mode": "sometimes"}, nil, map[string]string{"snapshot.mode": "one of initial"}},
		{"bad skipped operation", map[string]string{"skipped.operations": "c,x"}, nil, map[string]string{"skipped.operations": "Invalid operation x"}},
		{"none with others", map[string]string{"skipped.operations": "none,c"}, nil, map[string]string{"skipped.operations": "'none' cannot be specified"}},
		{"bad regex", map[string]string{"table.include.list": "inv\\.(a"}, nil, map[string]string{"table.include.list": "invalid regular expression"}},
		{"include and exclude", map[string]string{"table.include.list": "a", "table.exclude.list": "b"}, nil, map[string]string{"table.exclude.list": `"table.include.list" is already specified`}},
		{"database include and exclude", map[string]string{"database.include.list": "a", "database.exclude.list": "b"}, nil, map[string]string{"database.exclude.list": "already specified"}},
		{"bad boolean", map[string]string{"tombstones.on.delete": "yes"}, nil, map[string]string{"tombstones.on.delete": "true or false"}},
		{"negative heartbeat", map[string]string{"heartbeat.interval.ms": "-1"}, nil, map[string]string{"heartbeat.interval.ms": "between 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			props := baseProps("srv")
			for k, v := range tc.set {
				props[k] = v
			}
			for _, k := range tc.drop {
				delete(props, k)
			}
			got := Validate(props)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %v, want keys of %v", got, tc.want)
			}
			for k, sub := range tc.want {
				if len(got[k]) != 1 || !strings.Contains(got[k][0], sub) {
					t.Errorf("%s: %v, want one containing %q", k, got[k], sub)
				}
			}
			_, err := ParseSettings(props)
			if (err == nil) != (len(tc.want) == 0) {
				t.Errorf("ParseSettings error %v", err)
			}
		})
	}
}

// The runtime's validation reports each problem once: type errors and
// missing required keys from the definition's types, Debezium's checks
// from the definition's validators, and nothing twice from the
// connector's ValidateConfig.
func TestConnectorValidateConfig(t *testing.T) {
	c := &Connector{}
	props := baseProps("srv")
	delete(props, "database.hostname")
	props["database.port"] = "abc"
	props["tombstones.on.delete"] = "maybe"
	props["decimal.handling.mode"] = "exact"
	if got := c.ValidateConfig(props); len(got) != 0 {
		t.Errorf("ValidateConfig repeats the definition's problems: %v", got)
	}
	props["connector.class"], props["name"] = ConnectorClass, "shop"
	infos := validateReply(t, props)
	want := map[string][]string{
		"database.hostname":     {`Missing required configuration "database.hostname" which has no default value.`},
		"database.port":         {"Invalid value abc for configuration database.port: Not a number of type INT"},
		"tombstones.on.delete":  {"Invalid value maybe for configuration tombstones.on.delete: Expected value to be either true or false"},
		"decimal.handling.mode": {"Invalid value exact for configuration decimal.handling.mode: Value must be one of precise, double, string"},
	}
	if got := infos.Errors(); !reflect.DeepEqual(got, want) || infos.ErrorCount != 4 {
		t.Errorf("validate errors (%d)\n%q\nwant\n%q", infos.ErrorCount, got, want)
	}
	def := c.Config()
	byName := map[string]connect.ConfigKey{}
	for _, k := range def {
		if _, dup := byName[k.Name]; dup {
			t.Errorf("key %s defined twice", k.Name)
		}
		byName[k.Name] = k
		if k.Documentation == "" {
			t.Errorf("key %s has no documentation", k.Name)
		}
	}
	for _, k := range []string{"database.hostname", "database.user", "database.server.id"} {
		if !byName[k].Required {
			t.Errorf("%s is not required", k)
		}
	}
	for _, k := range readKeys {
		if _, ok := byName[k]; !ok {
			t.Errorf("setting %s is not in the ConfigDef", k)
		}
	}
	if byName["snapshot.mode"].Default != "initial" || byName["decimal.handling.mode"].Default != "precise" {
		t.Errorf("defaults %q %q", byName["snapshot.mode"].Default, byName["decimal.handling.mode"].Default)
	}
}

// readKeys are the keys ParseSettings reads.
var readKeys = []string{KeyTopicPrefix, KeyServerName, KeyHostname, KeyPort, KeyUser, KeyPassword, KeyServerID,
	KeyDatabaseInclude, KeyDatabaseExclude, KeyTableInclude, KeyTableExclude, KeyColumnInclude, KeyColumnExclude,
	KeyIgnoreBuiltin, KeyDecimalMode, KeyTimePrecisionMode, KeyBigIntUnsignedMode, KeyBinaryMode,
	KeyIncludeSchemaChanges, KeyTombstonesOnDelete, KeyTransactionMetadata, KeyIncludeQuery, KeySkippedOperations,
	KeySnapshotMode, KeyHeartbeatInterval, KeyHeartbeatPrefix, KeyHeartbeatPrefixOld, KeyTransactionTopic, KeyExtendedHeaders}

func TestSplitRegexList(t *testing.T) {
	for in, want := range map[string][]string{
		"":                    nil,
		"a, b ,,c":            {"a", "b", "c"},
		`inv\.t{1\,3}, x`:     {`inv\.t{1,3}`, "x"},
		`a\\,b`:               {`a\\`, "b"},
		`db1\.orders_\d+,db2`: {`db1\.orders_\d+`, "db2"},
	} {
		if got := splitRegexList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// Include applies Debezium's filters: anchored, case-insensitive regular
// expressions; database lists scope table lists; built-in databases out.
func TestInclude(t *testing.T) {
	tests := []struct {
		name string
		kv   []string
		in   []string // db.table included
		out  []string // db.table excluded
	}{
		{"everything but the system databases", nil,
			[]string{"shop.orders", "a.b"}, []string{"mysql.user", "sys.x", "information_schema.tables", "PERFORMANCE_SCHEMA.t"}},
		{"builtin included on request", []string{"table.ignore.builtin", "false"}, []string{"mysql.user"}, nil},
		{"database include", []string{"database.include.list", "shop,inv.*"},
			[]string{"shop.orders", "SHOP.x", "inventory.customers"}, []string{"shop2.orders", "myshop.orders"}},
		{"database exclude", []string{"database.exclude.list", "shop"}, []string{"shop2.x"}, []string{"shop.x"}},
		{"table include is anchored", []string{"table.include.list", `shop\.orders`},
			[]string{"shop.orders", "Shop.Orders"}, []string{"shop.orders_old", "xshop.orders", "shop.customers"}},
		{"table include within database include", []string{"database.include.list", "shop", "table.include.list", `.*\.orders`},
			[]string{"shop.orders"}, []string{"other.orders", "shop.items"}},
		{"table exclude", []string{"table.exclude.list", `shop\.audit_.*`}, []string{"shop.orders"}, []string{"shop.audit_2024"}},
		{"regular expressions", []string{"table.include.list", `s.op\.orders`}, []string{"shop.orders", "skop.orders"}, []string{"shop.order"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inc := Include(testSettings(t, "p", tc.kv...))
			for _, id := range tc.in {
				db, table, _ := strings.Cut(id, ".")
				if !inc(db, table) {
					t.Errorf("%s excluded", id)
				}
			}
			for _, id := range tc.out {
				db, table, _ := strings.Cut(id, ".")
				if inc(db, table) {
					t.Errorf("%s included", id)
				}
			}
		})
	}
}

func TestSanitizeTopic(t *testing.T) {
	for in, want := range map[string]string{
		"srv.inventory.customers": "srv.inventory.customers",
		"srv.my db.tä$ble":        "srv.my_db.t__ble",
		".":                       "_",
		"..":                      "__",
		strings.Repeat("a", 300):  strings.Repeat("a", 249),
	} {
		if got := sanitizeTopic(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// UnusedKeys lists the keys of the source blog's configuration that are
// accepted but change nothing here: its schema history settings, and
// not the runtime's or the connector's own keys.
func TestUnusedKeys(t *testing.T) {
	blog := map[string]string{
		"connector.class":    "io.debezium.connector.mysql.MySqlConnector",
		"tasks.max":          "1",
		"database.hostname":  "db",
		"database.port":      "3306",
		"database.user":      "my-database-user",
		"database.password":  "my-secret-password",
		"database.server.id": "123456", "database.server.name": "ecommerce-server",
		"database.include.list":                                        "ecommerce",
		"database.history.kafka.topic":                                 "dbhistory.ecommerce",
		"database.history.kafka.bootstrap.servers":                     "b-1:9098",
		"database.history.consumer.security.protocol":                  "SASL_SSL",
		"database.history.consumer.sasl.mechanism":                     "AWS_MSK_IAM",
		"database.history.consumer.sasl.jaas.config":                   "software.amazon.msk.auth.iam.IAMLoginModule required;",
		"database.history.consumer.sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
		"database.history.producer.security.protocol":                  "SASL_SSL",
		"database.history.producer.sasl.mechanism":                     "AWS_MSK_IAM",
		"database.history.producer.sasl.jaas.config":                   "software.amazon.msk.auth.iam.IAMLoginModule required;",
		"database.history.producer.sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
		"include.schema.changes":                                       "true",
		"key.converter":                                                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable":                               "false",
		"transforms":                                                   "",
		"name":                                                         "ecommerce",
	}
	want := []string{
		"database.history.consumer.sasl.client.callback.handler.class",
		"database.history.consumer.sasl.jaas.config",
		"database.history.consumer.sasl.mechanism",
		"database.history.consumer.security.protocol",
		"database.history.kafka.bootstrap.servers",
		"database.history.kafka.topic",
		"database.history.producer.sasl.client.callback.handler.class",
		"database.history.producer.sasl.jaas.config",
		"database.history.producer.sasl.mechanism",
		"database.history.producer.security.protocol",
	}
	if got := UnusedKeys(blog); !slices.Equal(got, want) {
		t.Errorf("UnusedKeys =\n%q\nwant\n%q", got, want)
	}
	if _, err := ParseSettings(blog); err != nil {
		t.Errorf("the blog's configuration: %v", err)
	}
	// The removed opt-in for keyless tables is now just an unused key.
	if got := UnusedKeys(map[string]string{"tributary.allow.keyless": "true", "topic.prefix": "p"}); !slices.Equal(got, []string{"tributary.allow.keyless"}) {
		t.Errorf("UnusedKeys = %q", got)
	}
}
