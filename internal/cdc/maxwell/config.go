package maxwell

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect/properties"
)

// The producers Tributary's Maxwell has.
const (
	ProducerStdout  = "stdout"
	ProducerFile    = "file"
	ProducerKinesis = "kinesis"
	ProducerNone    = "none"
)

// Tributary's settings beside Maxwell's, for reaching a Kinesis API
// that is not AWS's (a Tributary server).
const (
	// KeyKinesisEndpoint is the Kinesis API's base URL
	// ("http://localhost:4567"); empty means AWS's endpoint for the
	// region.
	KeyKinesisEndpoint = "kinesis_endpoint"
	// KeyKinesisRegion is the region requests are signed for.
	KeyKinesisRegion = "kinesis_region"
	// KeyKPLProperties names a kinesis-producer-library.properties file
	// whose Region, KinesisEndpoint (or CustomEndpoint) and KinesisPort
	// (or Port) are used when kinesis_region / kinesis_endpoint are not
	// set; its VerifyCertificate and aggregation settings apply too. Its
	// other KPL settings (batching, rate limits, metrics, ...) have no
	// meaning here: the daemon logs them once as without effect.
	KeyKPLProperties = "kpl_properties"
	// KPLFile is the KPL file's standard name, which Maxwell reads from
	// its working directory.
	KPLFile = "kinesis-producer-library.properties"
)

// Config is a Maxwell configuration: Maxwell's config.properties keys,
// parsed and checked as Maxwell does.
type Config struct {
	// Producer is stdout (Maxwell's default), file, kinesis or none.
	Producer string
	// ClientID names this instance's rows in the positions and
	// bootstrap tables (client_id, default "maxwell").
	ClientID string

	// Host, Port, User and Password reach the server that holds the
	// schema database (host, port, user, password).
	Host     string
	Port     int
	User     string
	Password string
	// Replication* reach the server whose binlog is read and whose
	// tables are bootstrapped (replication_host, ...); they default to
	// the above.
	ReplicationHost     string
	ReplicationPort     int
	ReplicationUser     string
	ReplicationPassword string

	// SchemaDatabase holds Maxwell's state (schema_database, default
	// "maxwell").
	SchemaDatabase string
	// ReplicaServerID is the server_id Maxwell replicates as
	// (replica_server_id, default 6379).
	ReplicaServerID uint32
	// GTIDMode stores and resumes from GTID sets (gtid_mode).
	GTIDMode bool
	// InitPosition overrides the stored position (init_position,
	// FILE:POSITION[:HEARTBEAT]).
	InitPosition *cdc.Position

	// Filter is filter (or the legacy include_dbs, ... settings).
	Filter *Filter

	// PartitionBy, PartitionColumns and PartitionFallback are
	// producer_partition_by (default database),
	// producer_partition_columns and producer_partition_by_fallback.
	PartitionBy       string
	PartitionColumns  string
	PartitionFallback string

	// KinesisStream is kinesis_stream; KinesisMD5Keys kinesis_md5_keys.
	KinesisStream  string
	KinesisMD5Keys bool
	// KinesisEndpoint and KinesisRegion are Tributary's kinesis_endpoint
	// and kinesis_region, or what the KPL properties file says.
	KinesisEndpoint string
	KinesisRegion   string
	// KinesisSkipVerify turns off the verification of the Kinesis
	// endpoint's TLS certificate: the KPL's VerifyCertificate=false, for
	// a server with a self-signed certificate.
	KinesisSkipVerify bool
	// KPLPath is the KPL properties file read (kpl_properties), and
	// IgnoredKPLKeys its settings that have no effect here (aggregation,
	// rate limits, metrics, ...), sorted.
	KPLPath        string
	IgnoredKPLKeys []string
	// Aggregation is the KPL file's aggregation settings: on when a KPL
	// file is read and does not say AggregationEnabled=false (the KPL's
	// default), off without one.
	Aggregation Aggregation

	// OutputFile is the file producer's output_file.
	OutputFile string
	// Output is the output_* settings.
	Output OutputConfig
	// Bootstrapper is async (default), sync or none.
	Bootstrapper string
	// IgnoreProducerError (ignore_producer_error, default true, as in
	// Maxwell) logs a batch the producer failed to write and carries
	// on; false stops the daemon instead.
	IgnoreProducerError bool
	// LogLevel is log_level (default info).
	LogLevel slog.Level

	// UnknownKeys are keys neither Maxwell nor Tributary know; Maxwell
	// ignores them, Tributary warns.
	UnknownKeys []string
	// IgnoredKeys are Maxwell settings that have no effect here (other
	// producers, metrics, JDBC options, ...).
	IgnoredKeys []string

	partitioner *partitioner
}

// Known keys. Every key Tributary reads is here; ignoredKeys and
// ignoredPrefixes are Maxwell's own settings that do not apply.
var (
	usedKeys = []string{"config", "producer", "client_id", "host", "port", "user", "password",
		"replication_host", "replication_port", "replication_user", "replication_password",
		"schema_database", "replica_server_id", "gtid_mode", "init_position", "filter",
		"include_dbs", "exclude_dbs", "include_tables", "exclude_tables", "blacklist_dbs", "blacklist_tables",
		"producer_partition_by", "producer_partition_columns", "producer_partition_by_fallback",
		"kinesis_stream", "kinesis_md5_keys", KeyKinesisEndpoint, KeyKinesisRegion, KeyKPLProperties,
		"output_file", "output_binlog_position", "output_gtid_position", "output_commit_info", "output_xoffset",
		"output_nulls", "output_server_id", "output_thread_id", "output_schema_id", "output_row_query",
		"row_query_max_length", "output_primary_keys", "output_primary_key_columns", "output_push_timestamp",
		"output_ddl", "output_null_zerodates", "output_naming_strategy", "exclude_columns", "bootstrapper",
		"log_level", "ignore_producer_error", "encrypt", "javascript", "ha", "env_config_prefix", KeyTopic,
		"schema_host"}
	ignoredKeys = []string{"jdbc_options", "replication_jdbc_options", "schema_jdbc_options", "ssl",
		"replication_ssl", "schema_ssl", "binlog_heartbeat", "max_schemas", "master_recovery", "recapture_schema",
		"replay", "buffer_memory_usage", "binlog_event_queue_size", "replication_reconnection_retries",
		"producer_ack_timeout", "ignore_missing_schema", "daemon", "env_config", "secret_key", "kafka_topic",
		"ddl_kafka_topic", "dead_letter_topic", "kafka_key_format", "kafka_partition_hash", "kafka_version",
		"jgroups_config", "raft_member_id", "custom_health.factory", "schema_port", "schema_user",
		"schema_password", "http_config", "include_column_values"}
	ignoredPrefixes = []string{"kafka.", "custom_producer.", "custom_producer_", "metrics_", "http_",
		"rabbitmq_", "redis_", "nats_", "pubsub_", "ddl_pubsub_", "bigquery_", "sqs_", "sns_"}
	booleanKeys = map[string]bool{"gtid_mode": true, "kinesis_md5_keys": true, "output_binlog_position": true,
		"output_gtid_position": true, "output_commit_info": true, "output_xoffset": true, "output_nulls": true,
		"output_server_id": true, "output_thread_id": true, "output_schema_id": true, "output_row_query": true,
		"output_primary_keys": true, "output_primary_key_columns": true, "output_push_timestamp": true,
		"output_ddl": true, "output_null_zerodates": true, "ignore_producer_error": true, "ha": true,
		"binlog_heartbeat": true, "replay": true, "master_recovery": true, "recapture_schema": true,
		"daemon": true, "ignore_missing_schema": true, "http_config": true}
)

// KnownKey says whether key is a Maxwell or Tributary setting, used or
// not, so that a command line can reject a misspelt option as Maxwell's
// does while a config file's unknown keys are only warned about.
func KnownKey(key string) bool {
	for _, k := range usedKeys {
		if k == key {
			return true
		}
	}
	return ignoredKey(key)
}

func ignoredKey(key string) bool {
	for _, k := range ignoredKeys {
		if k == key {
			return true
		}
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
func IsBooleanKey(key string) bool { return booleanKeys[key] }

// ParseConfig reads Maxwell's config.properties settings (and the
// command-line overrides, which take the same names), with Maxwell's
// defaults and checks. A setting that names a feature Tributary lacks
// (another producer, encryption, javascript filters, HA) is an error
// rather than silently ignored, because it would change the output.
func ParseConfig(props map[string]string) (*Config, error) {
	get := func(k, def string) string {
		if v, ok := props[k]; ok {
			return strings.TrimSpace(v)
		}
		return def
	}
	var errs []error
	boolean := func(k string, def bool) bool {
		v, ok := props[k]
		if !ok {
			return def
		}
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true
		case "false":
			return false
		}
		errs = append(errs, fmt.Errorf("invalid value for %s, true|false required", k))
		return def
	}
	integer := func(k string, def int64, bits int) int64 {
		v, ok := props[k]
		if !ok {
			return def
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, bits)
		if err != nil {
			errs = append(errs, fmt.Errorf("invalid value for %s, number required", k))
			return def
		}
		return n
	}

	c := &Config{
		Producer:            get("producer", ProducerStdout),
		ClientID:            get("client_id", "maxwell"),
		Host:                get("host", "localhost"),
		Port:                int(integer("port", 3306, 32)),
		User:                get("user", ""),
		Password:            get("password", ""),
		SchemaDatabase:      get("schema_database", "maxwell"),
		GTIDMode:            boolean("gtid_mode", false),
		PartitionBy:         get("producer_partition_by", PartitionDatabase),
		PartitionColumns:    get("producer_partition_columns", ""),
		PartitionFallback:   get("producer_partition_by_fallback", ""),
		KinesisStream:       get("kinesis_stream", ""),
		KinesisMD5Keys:      boolean("kinesis_md5_keys", false),
		KinesisEndpoint:     get(KeyKinesisEndpoint, ""),
		KinesisRegion:       get(KeyKinesisRegion, ""),
		OutputFile:          get("output_file", ""),
		Bootstrapper:        get("bootstrapper", "async"),
		IgnoreProducerError: boolean("ignore_producer_error", true),
	}
	if v := get("replica_server_id", ""); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			errs = append(errs, fmt.Errorf("invalid value for replica_server_id, a number from 1 to 4294967295 required"))
		}
		c.ReplicaServerID = uint32(n)
	} else {
		c.ReplicaServerID = 6379
	}
	c.ReplicationHost = get("replication_host", "")
	c.ReplicationUser = get("replication_user", "")
	c.ReplicationPassword = get("replication_password", "")
	c.ReplicationPort = int(integer("replication_port", 3306, 32))
	if c.ReplicationHost == "" || c.ReplicationUser == "" {
		if c.ReplicationHost != "" || c.ReplicationUser != "" || c.ReplicationPassword != "" {
			errs = append(errs, errors.New("please specify all of: replication_host, replication_user, replication_password"))
		}
		c.ReplicationHost, c.ReplicationPort, c.ReplicationUser, c.ReplicationPassword = c.Host, c.Port, c.User, c.Password
	}

	o := DefaultOutputConfig()
	o.BinlogPosition = boolean("output_binlog_position", false)
	o.GTIDPosition = boolean("output_gtid_position", false)
	o.CommitInfo = boolean("output_commit_info", true)
	o.XOffset = boolean("output_xoffset", true)
	o.Nulls = boolean("output_nulls", true)
	o.ServerID = boolean("output_server_id", false)
	o.ThreadID = boolean("output_thread_id", false)
	o.SchemaID = boolean("output_schema_id", false)
	o.RowQuery = boolean("output_row_query", false)
	o.RowQueryMaxLength = int(integer("row_query_max_length", 0, 32))
	o.PrimaryKeys = boolean("output_primary_keys", false)
	o.PrimaryKeyColumns = boolean("output_primary_key_columns", false)
	o.PushTimestamp = boolean("output_push_timestamp", false)
	o.DDL = boolean("output_ddl", false)
	o.NullZeroDates = boolean("output_null_zerodates", false)
	switch s := get("output_naming_strategy", ""); s {
	case "", "none":
	case "underscore_to_camelcase":
		o.CamelCase = true
	default:
		// Maxwell ignores a strategy it does not know.
	}
	if s := get("exclude_columns", ""); s != "" {
		for _, part := range strings.Split(s, ",") {
			re, err := columnPattern(part)
			if err != nil {
				errs = append(errs, fmt.Errorf("invalid exclude_columns: '%s': %w", s, err))
				continue
			}
			o.ExcludeColumns = append(o.ExcludeColumns, re)
		}
	}
	c.Output = o
	if o.GTIDPosition && !c.GTIDMode {
		errs = append(errs, errors.New("output_gtid_position is only support with gtid mode."))
	}

	switch c.Producer {
	case ProducerStdout, ProducerNone:
	case ProducerFile:
		if c.OutputFile == "" {
			errs = append(errs, errors.New("please specify --output_file=FILE to use the file producer"))
		}
	case ProducerKinesis:
		if c.KinesisStream == "" {
			errs = append(errs, errors.New("please specify a stream name for kinesis"))
		}
	default:
		errs = append(errs, fmt.Errorf("producer %q is not supported by Tributary (use stdout, file, kinesis or none)", c.Producer))
	}
	switch c.Bootstrapper {
	case "async", "sync", "none":
	default:
		errs = append(errs, errors.New("please specify --bootstrapper=async|sync|none"))
	}
	if s := get("encrypt", "none"); s != "none" {
		errs = append(errs, fmt.Errorf("encrypt=%s is not supported by Tributary", s))
	}
	if get("javascript", "") != "" {
		errs = append(errs, errors.New("javascript filters are not supported by Tributary"))
	}
	if boolean("ha", false) {
		errs = append(errs, errors.New("ha (jgroups-raft high availability) is not supported by Tributary"))
	}
	if get("custom_producer.factory", "") != "" {
		errs = append(errs, errors.New("custom producers are not supported by Tributary"))
	}
	if get("schema_host", "") != "" {
		errs = append(errs, errors.New("schema_host (a separate schema-capture server) is not supported by Tributary"))
	}
	switch lv := strings.ToLower(get("log_level", "info")); lv {
	case "debug", "info", "error":
		_ = c.LogLevel.UnmarshalText([]byte(lv))
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "trace", "all":
		c.LogLevel = slog.LevelDebug
	case "off", "fatal":
		c.LogLevel = slog.LevelError
	default:
		errs = append(errs, fmt.Errorf("unknown log level: %s", lv))
	}
	if v := get("init_position", ""); v != "" {
		p, err := parseInitPosition(v)
		if err != nil {
			errs = append(errs, err)
		}
		c.InitPosition = p
	}

	spec := get("filter", "")
	if _, ok := props["filter"]; !ok {
		spec = legacyFilter(get("include_dbs", ""), get("exclude_dbs", ""), get("include_tables", ""),
			get("exclude_tables", ""), get("blacklist_dbs", ""), get("blacklist_tables", ""))
	}
	f, err := ParseFilter(spec, c.SchemaDatabase)
	if err != nil {
		errs = append(errs, fmt.Errorf("Invalid filter options: %w", err))
	}
	c.Filter = f
	if c.partitioner, err = newPartitioner(c.PartitionBy, c.PartitionColumns, c.PartitionFallback, c.KinesisMD5Keys); err != nil {
		errs = append(errs, err)
	}

	if path := get(KeyKPLProperties, ""); path != "" && c.Producer == ProducerKinesis {
		if err := c.applyKPL(path); err != nil {
			errs = append(errs, err)
		}
	}

	for k := range props {
		switch {
		case !KnownKey(k):
			c.UnknownKeys = append(c.UnknownKeys, k)
		case ignoredKey(k):
			c.IgnoredKeys = append(c.IgnoredKeys, k)
		}
	}
	sort.Strings(c.UnknownKeys)
	sort.Strings(c.IgnoredKeys)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// prepare fills in what ParseConfig derives, for a Config built by
// hand.
func (c *Config) prepare() error {
	if c.SchemaDatabase == "" {
		c.SchemaDatabase = "maxwell"
	}
	if c.ClientID == "" {
		c.ClientID = "maxwell"
	}
	if c.Port == 0 {
		c.Port = 3306
	}
	if c.ReplicationHost == "" {
		c.ReplicationHost, c.ReplicationPort, c.ReplicationUser, c.ReplicationPassword = c.Host, c.Port, c.User, c.Password
	}
	if c.ReplicationPort == 0 {
		c.ReplicationPort = 3306
	}
	if c.Filter == nil {
		f, err := ParseFilter("", c.SchemaDatabase)
		if err != nil {
			return err
		}
		c.Filter = f
	}
	if c.partitioner == nil {
		p, err := newPartitioner(c.PartitionBy, c.PartitionColumns, c.PartitionFallback, c.KinesisMD5Keys)
		if err != nil {
			return fmt.Errorf("maxwell: %w", err)
		}
		c.partitioner = p
	}
	return nil
}

// columnPattern compiles an exclude_columns entry: /regex/ or an exact
// name.
func columnPattern(s string) (*regexp.Regexp, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "/") {
		if len(s) < 2 || !strings.HasSuffix(s, "/") {
			return nil, fmt.Errorf("invalid regular expression: %s", s)
		}
		return regexp.Compile(s[1 : len(s)-1])
	}
	return regexp.Compile("^" + regexp.QuoteMeta(s) + "$")
}

func parseInitPosition(v string) (*cdc.Position, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 {
		return nil, fmt.Errorf("invalid init_position: %s", v)
	}
	pos, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return nil, fmt.Errorf("invalid init_position: %s", v)
	}
	if len(parts) > 2 {
		if _, err := strconv.ParseInt(parts[2], 10, 64); err != nil {
			return nil, fmt.Errorf("invalid init_position: %s", v)
		}
	}
	return &cdc.Position{File: parts[0], Pos: uint32(pos)}, nil
}

// kplUsed are the KPL settings Tributary applies. The others (batching,
// rate limits, timeouts, metrics, logging) are reported once, by Run, as
// without effect: each producer batch is written with PutRecords as it
// comes.
var kplUsed = map[string]bool{"Region": true, "KinesisEndpoint": true, "CustomEndpoint": true,
	"KinesisPort": true, "Port": true, "VerifyCertificate": true,
	"AggregationEnabled": true, "AggregationMaxCount": true, "AggregationMaxSize": true}

// applyKPL fills KinesisRegion and KinesisEndpoint from a KPL
// properties file where the configuration leaves them empty, and takes
// its VerifyCertificate. The KPL takes a host name (CustomEndpoint, or
// KinesisEndpoint in older releases) and a port and always speaks TLS;
// Tributary also accepts a full URL in KinesisEndpoint, so that a
// plain-HTTP server can be named there.
func (c *Config) applyKPL(path string) error {
	kpl, err := properties.ParseFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", KeyKPLProperties, err)
	}
	first := func(keys ...string) string {
		for _, k := range keys {
			if v := strings.TrimSpace(kpl[k]); v != "" {
				return v
			}
		}
		return ""
	}
	c.KPLPath = path
	for k := range kpl {
		if !kplUsed[k] {
			c.IgnoredKPLKeys = append(c.IgnoredKPLKeys, k)
		}
	}
	sort.Strings(c.IgnoredKPLKeys)
	c.Aggregation = Aggregation{Enabled: true, MaxCount: defaultAggregationMaxCount, MaxSize: defaultAggregationMaxSize}
	switch v := strings.ToLower(first("AggregationEnabled")); v {
	case "", "true":
	case "false":
		c.Aggregation.Enabled = false
	default:
		return fmt.Errorf("%s: AggregationEnabled=%s: true or false required", path, v)
	}
	if v := first("AggregationMaxCount"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n < 1 || n > defaultAggregationMaxCount {
			return fmt.Errorf("%s: AggregationMaxCount=%s: a number from 1 to %d required", path, v, uint64(defaultAggregationMaxCount))
		}
		c.Aggregation.MaxCount = n
	}
	if v := first("AggregationMaxSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 64 || n > maxRecordLen {
			return fmt.Errorf("%s: AggregationMaxSize=%s: a number from 64 to %d required", path, v, maxRecordLen)
		}
		c.Aggregation.MaxSize = n
	}
	switch v := strings.ToLower(first("VerifyCertificate")); v {
	case "", "true":
	case "false":
		c.KinesisSkipVerify = true
	default:
		return fmt.Errorf("%s: VerifyCertificate=%s: true or false required", path, v)
	}
	if c.KinesisRegion == "" {
		c.KinesisRegion = first("Region")
	}
	if c.KinesisEndpoint != "" {
		return nil
	}
	host := first("KinesisEndpoint", "CustomEndpoint")
	if host == "" {
		return nil
	}
	port := first("KinesisPort", "Port")
	if strings.Contains(host, "://") {
		u, err := url.Parse(host)
		if err != nil {
			return fmt.Errorf("%s: KinesisEndpoint %q: %w", path, host, err)
		}
		if u.Port() == "" && port != "" && port != "443" {
			u.Host += ":" + port
		}
		c.KinesisEndpoint = u.String()
		return nil
	}
	c.KinesisEndpoint = "https://" + host
	if port != "" && port != "443" {
		c.KinesisEndpoint += ":" + port
	}
	return nil
}

// engineConfig is the binlog reader's configuration: the replication
// server from the current position, tables without a primary key
// captured as Maxwell captures them, and errors naming Maxwell's keys.
func (c *Config) engineConfig(include func(db, table string) bool, log *slog.Logger) cdc.Config {
	keys := cdc.Keys{Host: "host", Port: "port", ServerID: "replica_server_id",
		Recover: "delete client_id " + c.ClientID + "'s row from " + c.SchemaDatabase +
			".positions (or set init_position) to start again from the server's current position"}
	if c.ReplicationHost != c.Host || c.ReplicationPort != c.Port {
		keys.Host, keys.Port = "replication_host", "replication_port"
	}
	return cdc.Config{
		Host: c.ReplicationHost, Port: c.ReplicationPort, User: c.ReplicationUser, Password: c.ReplicationPassword,
		ServerID: c.ReplicaServerID, Include: include, Snapshot: cdc.SnapshotNoData,
		HeartbeatInterval: heartbeatEvery, Keys: keys, Logger: log,
	}
}

// addr joins a host and port.
func addr(host string, port int) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		return fmt.Sprintf("[%s]:%d", host, port)
	}
	return fmt.Sprintf("%s:%d", host, port)
}
