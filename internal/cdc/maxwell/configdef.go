package maxwell

import (
	"slices"
	"strconv"
	"strings"

	"github.com/tributary-data/tributary/internal/connect"
)

// The definition's groups. The connector shows Maxwell's and Output's
// keys (it is the producer, so the daemon's producer keys mean nothing
// to it); the daemon reads them all.
const (
	groupMaxwell = "Maxwell"
	groupOutput  = "Output"
	groupDaemon  = "Daemon"
	groupIgnored = "Ignored"
)

// configDef is the one definition of the Maxwell settings Tributary
// reads, from config.properties, the command line or a connector's
// configuration: type, Maxwell's default, check and documentation.
// ParseConfig reads through it; the connector's Config is its Maxwell
// and Output groups; KnownKey and IsBooleanKey ask it.
func configDef() connect.ConfigDef {
	return slices.Concat(connectionDef(), streamDef(), outputDef(), daemonDef())
}

func str(name, def, doc string, order int) connect.ConfigKey {
	return connect.ConfigKey{Name: name, Type: connect.ConfigString, Default: def, Importance: connect.Medium,
		Documentation: doc, Group: groupMaxwell, Order: order, Width: connect.WidthMedium}
}

func short(name string, t connect.ConfigType, def string, imp connect.Importance, doc string, order int) connect.ConfigKey {
	return connect.ConfigKey{Name: name, Type: t, Default: def, Importance: imp, Documentation: doc,
		Group: groupMaxwell, Order: order, Width: connect.WidthShort}
}

// connectionDef: the servers and Maxwell's state on them.
func connectionDef() connect.ConfigDef {
	serverID := short("replica_server_id", connect.ConfigLong, "6379", connect.Medium, "server_id the connector replicates as; unique among the server's replicas.", 10)
	serverID.Validate = serverIDCheck
	return connect.ConfigDef{
		str("host", "localhost", "MySQL host that holds the schema database (and, unless replication_host is set, whose binlog is read).", 1),
		short("port", connect.ConfigInt, "3306", connect.Medium, "MySQL port.", 2),
		str("user", "", "MySQL user: REPLICATION SLAVE, REPLICATION CLIENT, SELECT, and all privileges on the schema database.", 3),
		{Name: "password", Type: connect.ConfigPassword, Importance: connect.Medium, Documentation: "MySQL password.", Group: groupMaxwell, Order: 4, Width: connect.WidthMedium},
		str("replication_host", "", "Server whose binlog is read, when it is not host.", 5),
		short("replication_port", connect.ConfigInt, "3306", connect.Low, "Port of replication_host.", 6),
		str("replication_user", "", "User on replication_host.", 7),
		{Name: "replication_password", Type: connect.ConfigPassword, Importance: connect.Low, Documentation: "Password on replication_host.", Group: groupMaxwell, Order: 8, Width: connect.WidthMedium},
		str("client_id", "maxwell", "Names this instance's offsets and bootstrap requests.", 9),
		serverID,
		str("schema_database", "maxwell", "Database holding Maxwell's bootstrap table.", 11),
		short("gtid_mode", connect.ConfigBoolean, "false", connect.Low, "Resume from GTID sets.", 12),
	}
}

// streamDef: what is captured, where it goes, under which key.
func streamDef() connect.ConfigDef {
	partitionBy := short("producer_partition_by", connect.ConfigString, PartitionDatabase, connect.Medium,
		"What the record key (partition key) is: database, table, primary_key, transaction_id, thread_id, column or random.", 16)
	partitionBy.Recommended = []string{PartitionDatabase, PartitionTable, PartitionPrimaryKey, PartitionTransactionID, PartitionThreadID, PartitionColumn, PartitionRandom}
	bootstrapper := short("bootstrapper", connect.ConfigString, "async", connect.Low, "How bootstrap requests run: async, sync or none.", 20)
	bootstrapper.Recommended = []string{"async", "sync", "none"}
	return connect.ConfigDef{
		str("filter", "", "Maxwell filter rules: 'exclude: db.*, include: db.tbl, include: db./regex/, exclude: db.tbl.col=value'.", 13),
		str(KeyTopic, "", "Stream the rows go to (default: kinesis_stream).", 14),
		str("kinesis_stream", "", "Stream the rows go to when topic is unset.", 15),
		partitionBy,
		str("producer_partition_columns", "", "Columns whose values make the key with producer_partition_by=column.", 17),
		str("producer_partition_by_fallback", "", "Key when those columns are absent: database, table, primary_key or transaction_id.", 18),
		short("kinesis_md5_keys", connect.ConfigBoolean, "false", connect.Low, "Use the MD5 of the partition key.", 19),
		bootstrapper,
		str("init_position", "", "FILE:POSITION to start from when no offset is committed.", 21),
	}
}

// outputDef: the output_* settings, what each row carries.
func outputDef() connect.ConfigDef {
	boolean := func(name, def, doc string, order int) connect.ConfigKey {
		return connect.ConfigKey{Name: name, Type: connect.ConfigBoolean, Default: def, Importance: connect.Low,
			Documentation: doc, Group: groupOutput, Order: order, Width: connect.WidthShort}
	}
	return connect.ConfigDef{
		boolean("output_binlog_position", "false", "Rows carry \"position\".", 1),
		boolean("output_gtid_position", "false", "Rows carry \"gtid\" (needs gtid_mode).", 2),
		boolean("output_commit_info", "true", "Rows carry \"xid\" and \"commit\".", 3),
		boolean("output_xoffset", "true", "Rows carry \"xoffset\" (Maxwell's code defaults it to true).", 4),
		boolean("output_nulls", "true", "Null columns are kept.", 5),
		boolean("output_server_id", "false", "Rows carry \"server_id\".", 6),
		boolean("output_thread_id", "false", "Rows carry \"thread_id\".", 7),
		boolean("output_schema_id", "false", "Accepted; Tributary has no schema ids.", 8),
		boolean("output_row_query", "false", "Rows carry \"query\".", 9),
		boolean("output_primary_keys", "false", "Rows carry \"primary_key\".", 10),
		boolean("output_primary_key_columns", "false", "Rows carry \"primary_key_columns\".", 11),
		boolean("output_push_timestamp", "false", "Rows carry \"push_ts\".", 12),
		boolean("output_ddl", "false", "Emit schema changes.", 13),
		boolean("output_null_zerodates", "false", "Zero dates become null.", 14),
		{Name: "output_naming_strategy", Type: connect.ConfigString, Importance: connect.Low, Group: groupOutput, Order: 15, Width: connect.WidthShort,
			Documentation: "underscore_to_camelcase renames fields.", Recommended: []string{"underscore_to_camelcase"}},
		{Name: "row_query_max_length", Type: connect.ConfigInt, Default: "0", Importance: connect.Low, Group: groupOutput, Order: 16, Width: connect.WidthShort,
			Documentation: "Truncate \"query\" to this many characters (0: no limit)."},
		{Name: "exclude_columns", Type: connect.ConfigString, Importance: connect.Low, Group: groupOutput, Order: 17, Width: connect.WidthMedium,
			Documentation: "Comma-separated columns (or /regex/) left out of data and old."},
	}
}

// daemonDef: the daemon's own settings (its producer, logging, where
// its configuration comes from), Maxwell's legacy filter keys, and the
// features Tributary refuses rather than ignore.
func daemonDef() connect.ConfigDef {
	d := func(name string, t connect.ConfigType, def, doc string) connect.ConfigKey {
		return connect.ConfigKey{Name: name, Type: t, Default: def, Importance: connect.Medium, Documentation: doc, Group: groupDaemon, Width: connect.WidthMedium}
	}
	legacy := "Legacy filter (Maxwell's older form of filter); filter wins when both are set."
	refused := "Not supported by Tributary: set, it is an error, because it would change the output."
	return connect.ConfigDef{
		d("producer", connect.ConfigString, ProducerStdout, "Where rows go: stdout, file, kinesis or none."),
		d("output_file", connect.ConfigString, "", "The file producer's output file."),
		d(KeyKinesisEndpoint, connect.ConfigString, "", "Tributary: the Kinesis API's base URL; empty means AWS's endpoint for the region."),
		d(KeyKinesisRegion, connect.ConfigString, "", "Tributary: the region Kinesis requests are signed for."),
		d(KeyKPLProperties, connect.ConfigString, "", "Tributary: a kinesis-producer-library.properties file whose region, endpoint, certificate and aggregation settings apply."),
		d("log_level", connect.ConfigString, "info", "debug, info, warn, error (or Maxwell's trace, all, off, fatal)."),
		d("ignore_producer_error", connect.ConfigBoolean, "true", "Log a batch the producer failed to write and carry on; false stops the daemon."),
		d("config", connect.ConfigString, "", "The config.properties file (command line only)."),
		d("env_config_prefix", connect.ConfigString, "", "Environment variables with this prefix are settings too."),
		d("include_dbs", connect.ConfigString, "", legacy),
		d("exclude_dbs", connect.ConfigString, "", legacy),
		d("include_tables", connect.ConfigString, "", legacy),
		d("exclude_tables", connect.ConfigString, "", legacy),
		d("blacklist_dbs", connect.ConfigString, "", legacy),
		d("blacklist_tables", connect.ConfigString, "", legacy),
		d("encrypt", connect.ConfigString, "none", refused+" (none is accepted)"),
		d("javascript", connect.ConfigString, "", refused),
		d("ha", connect.ConfigBoolean, "false", refused),
		d("schema_host", connect.ConfigString, "", refused),
		d("custom_producer.factory", connect.ConfigString, "", refused),
	}
}

// ignoredDef are Maxwell's settings that have no effect here (other
// producers, metrics, JDBC options, ...): accepted, named in
// Config.IgnoredKeys, never read, so never checked. Their types only
// tell the command line which take no value. ignoredPrefixes begin more
// of them.
func ignoredDef() connect.ConfigDef {
	var def connect.ConfigDef
	for _, name := range []string{"jdbc_options", "replication_jdbc_options", "schema_jdbc_options", "ssl",
		"replication_ssl", "schema_ssl", "max_schemas", "buffer_memory_usage", "binlog_event_queue_size",
		"replication_reconnection_retries", "producer_ack_timeout", "env_config", "secret_key", "kafka_topic",
		"ddl_kafka_topic", "dead_letter_topic", "kafka_key_format", "kafka_partition_hash", "kafka_version",
		"jgroups_config", "raft_member_id", "custom_health.factory", "schema_port", "schema_user",
		"schema_password", "include_column_values"} {
		def = append(def, connect.ConfigKey{Name: name, Type: connect.ConfigString, Group: groupIgnored})
	}
	for _, name := range []string{"binlog_heartbeat", "replay", "master_recovery", "recapture_schema",
		"daemon", "ignore_missing_schema", "http_config"} {
		def = append(def, connect.ConfigKey{Name: name, Type: connect.ConfigBoolean, Group: groupIgnored})
	}
	return def
}

var ignoredPrefixes = []string{"kafka.", "custom_producer.", "custom_producer_", "metrics_", "http_",
	"rabbitmq_", "redis_", "nats_", "pubsub_", "ddl_pubsub_", "bigquery_", "sqs_", "sns_"}

// serverIDCheck is replica_server_id's check, in Maxwell's words for a
// value that is not a number too.
func serverIDCheck(v string) string {
	if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err != nil || n == 0 {
		return "a number from 1 to 4294967295 required"
	}
	return ""
}

// connectorDef is what the connector shows and the runtime validates:
// the Maxwell and Output groups.
func connectorDef() connect.ConfigDef {
	var out connect.ConfigDef
	for _, k := range configDef() {
		if k.Group == groupMaxwell || k.Group == groupOutput {
			out = append(out, k)
		}
	}
	return out
}

// KnownKey says whether key is a Maxwell or Tributary setting, used or
// not, so that a command line can reject a misspelt option as Maxwell's
// does while a config file's unknown keys are only warned about.
func KnownKey(key string) bool {
	_, ok := configDef().Lookup(key)
	return ok || ignoredKey(key)
}

func ignoredKey(key string) bool {
	if _, ok := ignoredDef().Lookup(key); ok {
		return true
	}
	for _, p := range ignoredPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// IsBooleanKey says whether a setting takes true|false, so that a
// command-line flag without a value means true.
func IsBooleanKey(key string) bool {
	k, ok := configDef().Lookup(key)
	if !ok {
		k, ok = ignoredDef().Lookup(key)
	}
	return ok && k.Type == connect.ConfigBoolean
}
