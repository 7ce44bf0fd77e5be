package debezium

import (
	"slices"
	"strconv"
	"strings"

	"github.com/tributary-data/tributary/internal/connect"
)

// configDef is the one definition of the settings: their types,
// Debezium's defaults and checks, and Debezium's documentation (Tributary's
// where it behaves differently). The runtime validates and documents
// them from it; ParseSettings reads them through it.
func configDef() connect.ConfigDef {
	return slices.Concat(connectionKeys(), filterKeys(), eventKeys(), snapshotKeys(), historyKeys())
}

// The definition's groups.
const (
	groupConnection = "Connection"
	groupFilters    = "Filters"
	groupConnector  = "Connector"
	groupSnapshot   = "Snapshot"
	groupAdvanced   = "Advanced"
	groupHeartbeat  = "Heartbeat"
	groupHistory    = "Schema history"
)

// declare declares a key: Debezium reads a blank value as absent, so its
// check sees only values that are not blank.
func declare(name string, t connect.ConfigType, def string, valid func(string) string, imp connect.Importance, group string, order int, display, doc string, recommended ...string) connect.ConfigKey {
	return connect.ConfigKey{Name: name, Type: t, Default: def, Validate: unlessBlank(valid), Importance: imp, Group: group, Order: order,
		Width: connect.WidthMedium, DisplayName: display, Documentation: doc, Recommended: recommended}
}

func required(key connect.ConfigKey) connect.ConfigKey {
	key.Required = true
	return key
}

// connectionKeys: the server, and the name of the topics.
func connectionKeys() connect.ConfigDef {
	return connect.ConfigDef{
		declare(KeyTopicPrefix, connect.ConfigString, "", topicNameCheck, connect.High, groupConnection, 0, "Topic prefix",
			"Topic prefix that identifies and provides a namespace for the particular database server/cluster is capturing changes. The topic prefix should be unique across all other connectors, since it is used as a prefix for all Kafka topic names that receive events emitted by this connector. Only alphanumeric characters, hyphens, dots and underscores must be accepted. Required (database.server.name, its Debezium 1.x name, is accepted instead)."),
		required(declare(KeyServerID, connect.ConfigLong, "", rangeCheck(1, 1<<32-1), connect.High, groupConnection, 1, "Cluster ID",
			"A numeric ID of this database client, which must be unique across all currently-running database processes in the cluster. This connector joins the database cluster as another server (with this unique ID) so it can read the binlog.")),
		required(declare(KeyHostname, connect.ConfigString, "", nil, connect.High, groupConnection, 2, "Hostname",
			"Resolvable hostname or IP address of the database server.")),
		declare(KeyPort, connect.ConfigInt, strconv.Itoa(defaultMySQLPort), rangeCheck(1, 65535), connect.High, groupConnection, 3, "Port", "Port of the database server."),
		required(declare(KeyUser, connect.ConfigString, "", nil, connect.High, groupConnection, 4, "User",
			"Name of the database user to be used when connecting to the database.")),
		declare(KeyPassword, connect.ConfigPassword, "", nil, connect.High, groupConnection, 5, "Password",
			"Password of the database user to be used when connecting to the database."),
		declare(KeyServerName, connect.ConfigString, "", topicNameCheck, connect.Low, groupConnection, 6, "Server name (deprecated)",
			"Debezium 1.x name of topic.prefix, used when topic.prefix is not set."),
	}
}

// filterKeys: what is captured.
func filterKeys() connect.ConfigDef {
	return connect.ConfigDef{
		declare(KeyDatabaseInclude, connect.ConfigList, "", regexListCheck, connect.High, groupFilters, 0, "Include Databases",
			"The databases for which changes are to be captured: a comma-separated list of regular expressions matched, whole and case-insensitively, against database names. Must not be used with database.exclude.list."),
		declare(KeyDatabaseExclude, connect.ConfigList, "", regexListCheck, connect.Medium, groupFilters, 1, "Exclude Databases",
			"A comma-separated list of regular expressions that match database names to be excluded from monitoring"),
		declare(KeyTableInclude, connect.ConfigList, "", regexListCheck, connect.High, groupFilters, 2, "Include Tables",
			"The tables for which changes are to be captured: regular expressions matched against <databaseName>.<tableName>. Must not be used with table.exclude.list."),
		declare(KeyTableExclude, connect.ConfigList, "", regexListCheck, connect.Medium, groupFilters, 3, "Exclude Tables",
			"A comma-separated list of regular expressions that match the fully-qualified names of tables to be excluded from monitoring"),
		declare(KeyColumnInclude, connect.ConfigList, "", regexListCheck, connect.Medium, groupFilters, 4, "Include Columns",
			"Regular expressions matching columns to include in change events, as <databaseName>.<tableName>.<columnName>"),
		declare(KeyColumnExclude, connect.ConfigList, "", regexListCheck, connect.Medium, groupFilters, 5, "Exclude Columns",
			"Regular expressions matching columns to exclude from change events, as <databaseName>.<tableName>.<columnName>. Key columns stay in the event key."),
		declare(KeyIgnoreBuiltin, connect.ConfigBoolean, "true", boolCheck, connect.Low, groupFilters, 6, "Ignore system databases",
			"Flag specifying whether built-in tables should be ignored."),
	}
}

// eventKeys: what the change events are like.
func eventKeys() connect.ConfigDef {
	return connect.ConfigDef{
		declare(KeyIncludeSchemaChanges, connect.ConfigBoolean, "true", boolCheck, connect.Medium, groupConnector, 0, "Include database schema changes",
			"Whether the connector should publish changes in the database schema to a Kafka topic with the same name as the database server ID. Each schema change will be recorded using a key that contains the database name and whose value include logical description of the new schema and optionally the DDL statement(s). The default is 'true'. This is independent of how the connector internally records database schema history."),
		declare(KeyTombstonesOnDelete, connect.ConfigBoolean, "true", boolCheck, connect.Medium, groupConnector, 1, "Change the behaviour of Debezium with regards to delete operations",
			"Whether delete operations should be represented by a delete event and a subsequent tombstone event (true) or only by a delete event (false). Emitting the tombstone event (the default behavior) allows Kafka to completely delete all events pertaining to the given key once the source record got deleted."),
		declare(KeyDecimalMode, connect.ConfigString, DecimalPrecise, enumCheck(DecimalPrecise, DecimalDouble, DecimalString), connect.Medium, groupConnector, 2, "Decimal Handling",
			"Specify how DECIMAL and NUMERIC columns should be represented in change events, including: 'precise' (the default) uses java.math.BigDecimal to represent values, which are encoded in the change events using a binary representation and Kafka Connect's 'org.apache.kafka.connect.data.Decimal' type; 'string' uses string to represent values; 'double' represents values using Java's 'double', which may not offer the precision but will be far easier to use in consumers.",
			DecimalPrecise, DecimalString, DecimalDouble),
		declare(KeyBinaryMode, connect.ConfigString, BinaryBytes, enumCheck(BinaryBytes, BinaryBase64, BinaryBase64URL, BinaryHex), connect.Low, groupConnector, 3, "Binary Handling",
			"Specify how binary (blob, binary, etc.) columns should be represented in change events, including: 'bytes' represents binary data as byte array (default); 'base64' represents binary data as base64-encoded string; 'base64-url-safe' represents binary data as base64-url-safe-encoded string; 'hex' represents binary data as hex-encoded (base16) string",
			BinaryBytes, BinaryBase64, BinaryBase64URL, BinaryHex),
		declare(KeyTimePrecisionMode, connect.ConfigString, TimeAdaptiveMicroseconds, timePrecisionCheck, connect.Medium, groupConnector, 26, "The time precision mode to be used",
			"Time, date and timestamps can be represented with different kinds of precisions, including: 'adaptive_time_microseconds': the precision of date and timestamp values is based the database column's precision; but time fields always use microseconds precision; 'connect': always represents time, date and timestamp values using Kafka Connect's built-in representations for Time, Date, and Timestamp, which uses millisecond precision regardless of the database columns' precision.",
			TimeAdaptiveMicroseconds, TimeConnect),
		declare(KeyBigIntUnsignedMode, connect.ConfigString, BigIntLong, enumCheck(BigIntLong, BigIntPrecise), connect.Medium, groupConnector, 27, "The mode for handling bigint-unsigned values",
			"Specify how BIGINT UNSIGNED columns should be represented in change events, including: 'precise' uses java.math.BigDecimal to represent values, which are encoded in the change events using a binary representation and Kafka Connect's 'org.apache.kafka.connect.data.Decimal' type; 'long' (the default) represents values using Java's 'long', which may not offer the precision but will be far easier to use in consumers.",
			BigIntLong, BigIntPrecise),
		declare(KeyIncludeQuery, connect.ConfigBoolean, "false", boolCheck, connect.Medium, groupAdvanced, 0, "Include original SQL query with in change events",
			"Whether the connector should include the original SQL query that generated the change event. Note: This option requires the database to be configured using the server option binlog_rows_query_log_events (MySQL) or binlog_annotate_row_events (MariaDB) set to ON. Query will not be present for events generated from snapshot. WARNING: Enabling this option may expose tables or fields explicitly excluded or masked by including the original SQL statement in the change event. For this reason the default value is 'false'."),
		declare(KeyTransactionMetadata, connect.ConfigBoolean, "false", boolCheck, connect.Low, groupAdvanced, 1, "Enables transaction metadata extraction together with event counting",
			"Enables transaction metadata extraction together with event counting: BEGIN and END records on <topic.prefix>.transaction and a transaction block in each change event. Tributary emits BEGIN and END only for transactions that change captured tables."),
		declare(KeySkippedOperations, connect.ConfigList, "t", skippedOperationsCheck, connect.Low, groupAdvanced, 2, "Skipped Operations",
			"The comma-separated list of operations to skip during streaming, defined as: 'c' for inserts/create; 'u' for updates; 'd' for deletes, 't' for truncates, and 'none' to indicate nothing skipped. By default, only truncate operations will be skipped."),
		declare(KeyTransactionTopic, connect.ConfigString, defaultTxTopic, topicNameCheck, connect.Low, groupAdvanced, 3, "Transaction topic name",
			"Specify the transaction topic name. Defaults to ${topic.prefix}.transaction"),
		declare(KeyExtendedHeaders, connect.ConfigBoolean, "true", boolCheck, connect.Low, groupAdvanced, 4, "Enable/Disable extended headers",
			"Enable/Disable Debezium context headers that provides essential metadata for tracking and identifying the source of CDC events in downstream processing systems."),
	}
}

// snapshotKeys: the snapshot and the heartbeats.
func snapshotKeys() connect.ConfigDef {
	return connect.ConfigDef{
		declare(KeySnapshotMode, connect.ConfigString, "initial", snapshotModeCheck, connect.Low, groupSnapshot, 0, "Snapshot mode",
			"The criteria for running a snapshot upon startup of the connector: 'initial' (default): snapshot the captured tables when there is no stored offset, then stream the binlog; 'always': snapshot at every start; 'initial_only': snapshot, then stop; 'no_data' (or its old name 'schema_only'): capture the tables' structure only, then stream; 'when_needed': snapshot when there is no stored offset or the binlog no longer has its position; 'never': stream from the oldest binlog the server has. An offset stored while a snapshot ran means the snapshot did not finish: it is taken again. 'recovery' is refused: Tributary has no schema history topic to recover.",
			snapshotModes...),
		declare(KeyHeartbeatInterval, connect.ConfigInt, "0", rangeCheck(0, 1<<31-1), connect.Medium, groupHeartbeat, 0, "Connector heartbeat interval (milli-seconds)",
			"Length of an interval in milli-seconds in in which the connector periodically sends heartbeat messages to a heartbeat topic. Use 0 to disable heartbeat messages. Disabled by default."),
		declare(KeyHeartbeatPrefix, connect.ConfigString, defaultHBPrefix, topicNameCheck, connect.Low, groupHeartbeat, 1, "A prefix used for naming of heartbeat topics",
			"The prefix that is used to name heartbeat topics: <prefix>.<topic.prefix>. Defaults to __debezium-heartbeat."),
		declare(KeyHeartbeatPrefixOld, connect.ConfigString, "", topicNameCheck, connect.Low, groupHeartbeat, 2, "Heartbeat topics prefix (deprecated)",
			"Debezium 1.x name of topic.heartbeat.prefix."),
	}
}

// historyKeys: the schema history settings, documented as ignored.
func historyKeys() connect.ConfigDef {
	var def connect.ConfigDef
	for i, name := range ignoredKeys {
		def = append(def, connect.ConfigKey{Name: name, Type: connect.ConfigString, Importance: connect.Low, Group: groupHistory, Order: i,
			Width: connect.WidthMedium, DisplayName: name,
			Documentation: "Accepted and ignored. Debezium keeps a database schema history topic to know each table's columns; Tributary reads them from the binary log's own table metadata (binlog_row_metadata=FULL) and information_schema, so there is no schema history to configure. The same holds for every schema.history.internal.* and database.history.* setting."})
	}
	return def
}

// ignoredKeys are the schema history settings MSK Connect and Debezium
// configurations commonly carry, listed so the REST API documents that
// they are ignored. Other schema.history.internal.* and database.history.*
// keys are ignored too.
var ignoredKeys = []string{
	"schema.history.internal.kafka.bootstrap.servers",
	"schema.history.internal.kafka.topic",
	"database.history.kafka.bootstrap.servers",
	"database.history.kafka.topic",
}

// ValidateConfig reports what the definition cannot see, each key alone:
// a required key given but blank, which Debezium reads as absent;
// topic.prefix, which its Debezium 1.x name may stand for; include and
// exclude lists used together. The runtime reports the rest from the
// definition (configDef), so that each problem is reported once.
func (c *Connector) ValidateConfig(props map[string]string) map[string][]string {
	out := map[string][]string{}
	for _, key := range configDef() {
		if v, ok := props[key.Name]; ok && key.Required && strings.TrimSpace(v) == "" {
			out[key.Name] = append(out[key.Name], missing(key))
		}
	}
	crossChecks(props, out)
	return out
}

// unlessBlank is check for a value that is not blank: Debezium reads a
// blank value as absent, so it takes the default rather than failing.
func unlessBlank(check func(string) string) func(string) string {
	if check == nil {
		return nil
	}
	return func(v string) string {
		if strings.TrimSpace(v) == "" {
			return ""
		}
		return check(v)
	}
}
