package maxwell

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect"
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

// ParseConfig reads Maxwell's config.properties settings (and the
// command-line overrides, which take the same names), with Maxwell's
// defaults and checks. A setting that names a feature Tributary lacks
// (another producer, encryption, javascript filters, HA) is an error
// rather than silently ignored, because it would change the output.
func ParseConfig(props map[string]string) (*Config, error) {
	v, errs := readSettings(props)
	c := &Config{
		Producer:            v.String("producer"),
		ClientID:            v.String("client_id"),
		Host:                v.String("host"),
		Port:                v.Int("port"),
		User:                v.String("user"),
		Password:            v.String("password"),
		SchemaDatabase:      v.String("schema_database"),
		ReplicaServerID:     uint32(v.Long("replica_server_id")),
		GTIDMode:            v.Bool("gtid_mode"),
		PartitionBy:         v.String("producer_partition_by"),
		PartitionColumns:    v.String("producer_partition_columns"),
		PartitionFallback:   v.String("producer_partition_by_fallback"),
		KinesisStream:       v.String("kinesis_stream"),
		KinesisMD5Keys:      v.Bool("kinesis_md5_keys"),
		KinesisEndpoint:     v.String(KeyKinesisEndpoint),
		KinesisRegion:       v.String(KeyKinesisRegion),
		OutputFile:          v.String("output_file"),
		Bootstrapper:        v.String("bootstrapper"),
		IgnoreProducerError: v.Bool("ignore_producer_error"),
	}
	errs = append(errs, c.readReplication(v)...)
	errs = append(errs, c.readOutput(v)...)
	errs = append(errs, c.checkProducer()...)
	errs = append(errs, refused(v)...)
	errs = append(errs, c.readDerived(v, props)...)
	c.UnknownKeys, c.IgnoredKeys = sortKeys(props)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// readSettings reads props by the definition, with Maxwell's messages
// for values of the wrong type. A blank replica_server_id is unset, as
// in Maxwell; any other blank value is a value.
func readSettings(props map[string]string) (*connect.Settings, []error) {
	if strings.TrimSpace(props["replica_server_id"]) == "" {
		props = maps.Clone(props)
		delete(props, "replica_server_id")
	}
	v, problems := configDef().Parse(props)
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = &settingError{Key: p.Key.Name, Err: fmt.Errorf("invalid value for %s, %s", p.Key.Name, requirement(p))}
	}
	return v, errs
}

// requirement is what Maxwell says a setting needs: its check's words,
// which cover a value that is not a number too, or its type's.
func requirement(p *connect.ConfigError) string {
	switch {
	case p.Key.Validate != nil:
		return p.Key.Validate(p.Value)
	case p.Key.Type == connect.ConfigBoolean:
		return "true|false required"
	}
	return "number required"
}

// settingError is a problem of one setting of the definition, which the
// Connect runtime reports itself from the connector's definition.
type settingError struct {
	Key string
	Err error
}

func (e *settingError) Error() string { return e.Err.Error() }

// readReplication reads the replication_* settings, which default, all
// together, to the schema server's.
func (c *Config) readReplication(v *connect.Settings) []error {
	c.ReplicationHost = v.String("replication_host")
	c.ReplicationUser = v.String("replication_user")
	c.ReplicationPassword = v.String("replication_password")
	c.ReplicationPort = v.Int("replication_port")
	if c.ReplicationHost != "" && c.ReplicationUser != "" {
		return nil
	}
	c.ReplicationHost, c.ReplicationPort, c.ReplicationUser, c.ReplicationPassword = c.Host, c.Port, c.User, c.Password
	if v.String("replication_host") != "" || v.String("replication_user") != "" || v.String("replication_password") != "" {
		return []error{errors.New("please specify all of: replication_host, replication_user, replication_password")}
	}
	return nil
}

// readOutput reads the output_* settings.
func (c *Config) readOutput(v *connect.Settings) []error {
	var errs []error
	o := OutputConfig{
		BinlogPosition:    v.Bool("output_binlog_position"),
		GTIDPosition:      v.Bool("output_gtid_position"),
		CommitInfo:        v.Bool("output_commit_info"),
		XOffset:           v.Bool("output_xoffset"),
		Nulls:             v.Bool("output_nulls"),
		ServerID:          v.Bool("output_server_id"),
		ThreadID:          v.Bool("output_thread_id"),
		SchemaID:          v.Bool("output_schema_id"),
		RowQuery:          v.Bool("output_row_query"),
		RowQueryMaxLength: v.Int("row_query_max_length"),
		PrimaryKeys:       v.Bool("output_primary_keys"),
		PrimaryKeyColumns: v.Bool("output_primary_key_columns"),
		PushTimestamp:     v.Bool("output_push_timestamp"),
		DDL:               v.Bool("output_ddl"),
		NullZeroDates:     v.Bool("output_null_zerodates"),
		// Maxwell ignores a naming strategy it does not know.
		CamelCase: v.String("output_naming_strategy") == "underscore_to_camelcase",
	}
	if s := v.String("exclude_columns"); s != "" {
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
	return errs
}

// checkProducer checks the producer and bootstrapper and what they need.
func (c *Config) checkProducer() []error {
	var errs []error
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
	return errs
}

// refused reports the settings of features Tributary lacks.
func refused(v *connect.Settings) []error {
	var errs []error
	if s := v.String("encrypt"); s != "none" {
		errs = append(errs, fmt.Errorf("encrypt=%s is not supported by Tributary", s))
	}
	if v.String("javascript") != "" {
		errs = append(errs, errors.New("javascript filters are not supported by Tributary"))
	}
	if v.Bool("ha") {
		errs = append(errs, errors.New("ha (jgroups-raft high availability) is not supported by Tributary"))
	}
	if v.String("custom_producer.factory") != "" {
		errs = append(errs, errors.New("custom producers are not supported by Tributary"))
	}
	if v.String("schema_host") != "" {
		errs = append(errs, errors.New("schema_host (a separate schema-capture server) is not supported by Tributary"))
	}
	return errs
}

// readDerived reads the settings with a syntax of their own: the log
// level, init_position, the filter, the partitioner and the KPL file.
func (c *Config) readDerived(v *connect.Settings, props map[string]string) []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	c.LogLevel, err = logLevel(v.String("log_level"))
	add(err)
	if s := v.String("init_position"); s != "" {
		c.InitPosition, err = parseInitPosition(s)
		add(err)
	}
	spec := v.String("filter")
	if _, ok := props["filter"]; !ok {
		spec = legacyFilter(v.String("include_dbs"), v.String("exclude_dbs"), v.String("include_tables"),
			v.String("exclude_tables"), v.String("blacklist_dbs"), v.String("blacklist_tables"))
	}
	if c.Filter, err = ParseFilter(spec, c.SchemaDatabase); err != nil {
		add(fmt.Errorf("Invalid filter options: %w", err))
	}
	c.partitioner, err = newPartitioner(c.PartitionBy, c.PartitionColumns, c.PartitionFallback, c.KinesisMD5Keys)
	add(err)
	if path := v.String(KeyKPLProperties); path != "" && c.Producer == ProducerKinesis {
		add(c.applyKPL(path))
	}
	return errs
}

// logLevel maps Maxwell's log levels (log4j's) to slog's.
func logLevel(s string) (slog.Level, error) {
	var lv slog.Level
	switch s = strings.ToLower(s); s {
	case "debug", "info", "error":
		_ = lv.UnmarshalText([]byte(s))
	case "warn", "warning":
		lv = slog.LevelWarn
	case "trace", "all":
		lv = slog.LevelDebug
	case "off", "fatal":
		lv = slog.LevelError
	default:
		return lv, fmt.Errorf("unknown log level: %s", s)
	}
	return lv, nil
}

// sortKeys sorts out the keys that are not Tributary's: those neither
// Maxwell nor Tributary know, and Maxwell's that change nothing here.
func sortKeys(props map[string]string) (unknown, ignored []string) {
	for k := range props {
		switch {
		case !KnownKey(k):
			unknown = append(unknown, k)
		case ignoredKey(k):
			ignored = append(ignored, k)
		}
	}
	sort.Strings(unknown)
	sort.Strings(ignored)
	return unknown, ignored
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
