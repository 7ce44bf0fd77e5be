package maxwell

import (
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tributary-data/tributary/internal/cdc"
)

func TestParseConfigDefaults(t *testing.T) {
	c, err := ParseConfig(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"producer", c.Producer, "stdout"},
		{"client_id", c.ClientID, "maxwell"},
		{"host", c.Host, "localhost"},
		{"port", c.Port, 3306},
		{"schema_database", c.SchemaDatabase, "maxwell"},
		{"replica_server_id", c.ReplicaServerID, uint32(6379)},
		{"producer_partition_by", c.PartitionBy, "database"},
		{"bootstrapper", c.Bootstrapper, "async"},
		{"ignore_producer_error", c.IgnoreProducerError, true},
		{"gtid_mode", c.GTIDMode, false},
		{"log_level", c.LogLevel, slog.LevelInfo},
		{"output", c.Output, DefaultOutputConfig()},
		{"replication_host", c.ReplicationHost, "localhost"},
		{"replication_port", c.ReplicationPort, 3306},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
	if !c.Output.CommitInfo || !c.Output.XOffset || !c.Output.Nulls || c.Output.DDL || c.Output.BinlogPosition {
		t.Errorf("output defaults %+v", c.Output)
	}
}

func TestParseConfigSeed(t *testing.T) {
	// The seed document's config.properties, plus a few output flags.
	c, err := ParseConfig(map[string]string{
		"producer": "kinesis", "host": "aurora.example", "user": "maxwell", "password": "secret",
		"kinesis_stream": "ecommerce-orders", "producer_partition_by": "primary_key", "client_id": "orders",
		"replica_server_id": "1001", "output_ddl": "TRUE", "output_binlog_position": "true",
		"output_nulls": "false", "output_naming_strategy": "underscore_to_camelcase",
		"exclude_columns": "secret,/^tmp_/", "filter": "exclude: *.*, include: ecommerce.*",
		"kinesis_endpoint": "http://localhost:4567", "kinesis_region": "eu-west-1",
		"log_level": "DEBUG", "port": "3307", "bootstrapper": "sync",
		"kafka.bootstrap.servers": "ignored:9092", "metrics_type": "jmx", "mystery": "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Producer != "kinesis" || c.KinesisStream != "ecommerce-orders" || c.ClientID != "orders" || c.ReplicaServerID != 1001 {
		t.Errorf("config %+v", c)
	}
	if c.ReplicationHost != "aurora.example" || c.ReplicationPort != 3307 || c.ReplicationUser != "maxwell" || c.ReplicationPassword != "secret" {
		t.Errorf("replication defaults to host: %+v", c)
	}
	if !c.Output.DDL || !c.Output.BinlogPosition || c.Output.Nulls || !c.Output.CamelCase || len(c.Output.ExcludeColumns) != 2 {
		t.Errorf("output %+v", c.Output)
	}
	if !c.Output.excluded("secret") || !c.Output.excluded("tmp_x") || c.Output.excluded("secrets") {
		t.Error("exclude_columns patterns wrong")
	}
	if c.Filter.Includes("other", "t") || !c.Filter.Includes("ecommerce", "orders") {
		t.Error("filter not applied")
	}
	if c.KinesisEndpoint != "http://localhost:4567" || c.KinesisRegion != "eu-west-1" || c.LogLevel != slog.LevelDebug || c.Bootstrapper != "sync" {
		t.Errorf("config %+v", c)
	}
	if !reflect.DeepEqual(c.UnknownKeys, []string{"mystery"}) {
		t.Errorf("unknown keys %v", c.UnknownKeys)
	}
	if !reflect.DeepEqual(c.IgnoredKeys, []string{"kafka.bootstrap.servers", "metrics_type"}) {
		t.Errorf("ignored keys %v", c.IgnoredKeys)
	}
}

func TestParseConfigLegacyFilters(t *testing.T) {
	c, err := ParseConfig(map[string]string{"include_dbs": "shop", "exclude_tables": "audit"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Filter.String(); got != "exclude: *.*, include: shop.*, exclude: *.audit" {
		t.Errorf("filter %q", got)
	}
	// filter wins over the legacy settings, as in Maxwell
	c, err = ParseConfig(map[string]string{"include_dbs": "shop", "filter": "exclude: x.*"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Filter.String(); got != "exclude: x.*" {
		t.Errorf("filter %q", got)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"producer": "kinesis"}, "please specify a stream name for kinesis"},
		{map[string]string{"producer": "file"}, "please specify --output_file=FILE"},
		{map[string]string{"producer": "kafka"}, `producer "kafka" is not supported`},
		{map[string]string{"bootstrapper": "later"}, "--bootstrapper=async|sync|none"},
		{map[string]string{"output_ddl": "yes"}, "invalid value for output_ddl, true|false required"},
		{map[string]string{"port": "x"}, "invalid value for port, number required"},
		{map[string]string{"replica_server_id": "0"}, "replica_server_id"},
		{map[string]string{"output_gtid_position": "true"}, "output_gtid_position is only support with gtid mode."},
		{map[string]string{"producer_partition_by": "shard"}, "producer_partition_by"},
		{map[string]string{"producer_partition_by": "column", "producer_partition_by_fallback": "table"}, "producer_partition_columns"},
		{map[string]string{"producer_partition_by": "column", "producer_partition_columns": "a"}, "producer_partition_by_fallback"},
		{map[string]string{"filter": "include foo.bar"}, "Invalid filter options"},
		{map[string]string{"encrypt": "data"}, "encrypt=data is not supported"},
		{map[string]string{"javascript": "f.js"}, "javascript filters are not supported"},
		{map[string]string{"ha": "true"}, "ha (jgroups-raft"},
		{map[string]string{"replication_host": "r"}, "replication_host, replication_user, replication_password"},
		{map[string]string{"log_level": "loud"}, "unknown log level"},
		{map[string]string{"init_position": "mysql-bin.000001"}, "invalid init_position"},
		{map[string]string{"exclude_columns": "/unterminated"}, "invalid exclude_columns"},
	}
	for _, c := range cases {
		_, err := ParseConfig(c.props)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseConfig(%v) = %v, want an error containing %q", c.props, err, c.want)
		}
	}
}

func TestParseConfigInitPosition(t *testing.T) {
	c, err := ParseConfig(map[string]string{"init_position": "mysql-bin.000004:1234:5678", "gtid_mode": "true", "output_gtid_position": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&cdc.Position{File: "mysql-bin.000004", Pos: 1234}); !reflect.DeepEqual(c.InitPosition, want) {
		t.Errorf("init_position %+v", c.InitPosition)
	}
}

func TestParseConfigKPL(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, kpl        string
		extra            map[string]string
		endpoint, region string
		skipVerify       bool
		ignored          []string
	}{
		{"host and port", "Region = us-west-2\nKinesisEndpoint = localhost\nKinesisPort = 4567\nAggregationEnabled = false\n", nil, "https://localhost:4567", "us-west-2", false, nil},
		{"old names, default port", "Region=eu-central-1\nCustomEndpoint=kinesis.internal\nPort=443\n", nil, "https://kinesis.internal", "eu-central-1", false, nil},
		{"a URL", "Region=us-east-1\nKinesisEndpoint=http://127.0.0.1\nKinesisPort=4567\n", nil, "http://127.0.0.1:4567", "us-east-1", false, nil},
		{"config wins", "Region=us-west-2\nKinesisEndpoint=localhost\n", map[string]string{"kinesis_endpoint": "http://x:1", "kinesis_region": "ap-south-1"}, "http://x:1", "ap-south-1", false, nil},
		{"region only", "Region=us-west-2\n", nil, "", "us-west-2", false, nil},
		{"self-signed", "CustomEndpoint=127.0.0.1\nPort=4567\nVerifyCertificate=false\nAggregationEnabled=true\nRecordTtl=60000\nMetricsLevel=detailed\n",
			nil, "https://127.0.0.1:4567", "", true, []string{"MetricsLevel", "RecordTtl"}},
		{"verified", "CustomEndpoint=127.0.0.1\nPort=4567\nVerifyCertificate=true\n", nil, "https://127.0.0.1:4567", "", false, nil},
	}
	aggregation := map[string]Aggregation{
		"host and port": {false, 4294967295, 51200},
		"self-signed":   {true, 4294967295, 51200},
		"verified":      {true, 4294967295, 51200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			props := map[string]string{"producer": "kinesis", "kinesis_stream": "s", "kpl_properties": write(strings.ReplaceAll(c.name, " ", "_"), c.kpl)}
			for k, v := range c.extra {
				props[k] = v
			}
			cfg, err := ParseConfig(props)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.KinesisEndpoint != c.endpoint || cfg.KinesisRegion != c.region {
				t.Errorf("endpoint %q region %q, want %q %q", cfg.KinesisEndpoint, cfg.KinesisRegion, c.endpoint, c.region)
			}
			if want, ok := aggregation[c.name]; ok && cfg.Aggregation != want {
				t.Errorf("aggregation %+v, want %+v", cfg.Aggregation, want)
			}
			if cfg.KinesisSkipVerify != c.skipVerify || !reflect.DeepEqual(cfg.IgnoredKPLKeys, c.ignored) {
				t.Errorf("skip verify %v, ignored %q; want %v, %q", cfg.KinesisSkipVerify, cfg.IgnoredKPLKeys, c.skipVerify, c.ignored)
			}
		})
	}
	for _, bad := range []string{"VerifyCertificate=maybe", "AggregationEnabled=yes", "AggregationMaxSize=10", "AggregationMaxCount=0"} {
		_, err := ParseConfig(map[string]string{"producer": "kinesis", "kinesis_stream": "s", "kpl_properties": write("bad", bad+"\n")})
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if cfg, err := ParseConfig(map[string]string{"producer": "kinesis", "kinesis_stream": "s",
		"kpl_properties": write("sizes", "AggregationMaxCount=10\nAggregationMaxSize=1000\n")}); err != nil || cfg.Aggregation != (Aggregation{true, 10, 1000}) {
		t.Errorf("aggregation sizes: %+v, %v", cfg, err)
	}
	if cfg, err := ParseConfig(map[string]string{"producer": "kinesis", "kinesis_stream": "s"}); err != nil || cfg.Aggregation.Enabled {
		t.Errorf("without a KPL file: %+v, %v", cfg, err)
	}
	if _, err := ParseConfig(map[string]string{"producer": "kinesis", "kinesis_stream": "s", "kpl_properties": filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing kpl_properties file was accepted")
	}
}

func TestKnownKeys(t *testing.T) {
	for _, k := range []string{"producer", "output_ddl", "kinesis_endpoint", "kafka.acks", "metrics_jvm", "config"} {
		if !KnownKey(k) {
			t.Errorf("KnownKey(%q) = false", k)
		}
	}
	if KnownKey("outptu_ddl") {
		t.Error("a misspelt key is known")
	}
	if !IsBooleanKey("output_ddl") || IsBooleanKey("filter") {
		t.Error("IsBooleanKey wrong")
	}
}

// The binlog reader's errors name Maxwell's keys: the replication_*
// ones when they name another server, and Maxwell's way back from a
// purged position.
func TestEngineConfigKeys(t *testing.T) {
	cases := []struct {
		name  string
		props map[string]string
		want  cdc.Keys
	}{
		{"one server", map[string]string{"host": "db", "user": "u", "password": "p"},
			cdc.Keys{Host: "host", Port: "port", ServerID: "replica_server_id"}},
		{"replication server", map[string]string{"host": "db", "user": "u", "password": "p",
			"replication_host": "replica", "replication_user": "u", "replication_password": "p"},
			cdc.Keys{Host: "replication_host", Port: "replication_port", ServerID: "replica_server_id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig(c.props)
			if err != nil {
				t.Fatal(err)
			}
			keys := cfg.engineConfig(nil, nil).Keys
			if keys.Host != c.want.Host || keys.Port != c.want.Port || keys.ServerID != c.want.ServerID {
				t.Errorf("keys %+v, want %+v", keys, c.want)
			}
			for _, w := range []string{"maxwell.positions", "init_position", "client_id maxwell"} {
				if !strings.Contains(keys.Recover, w) {
					t.Errorf("recovery hint %q lacks %q", keys.Recover, w)
				}
			}
		})
	}
}
