package debezium

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
)

// The configuration keys, with Debezium's names.
const (
	KeyTopicPrefix          = "topic.prefix"
	KeyServerName           = "database.server.name" // Debezium 1.x name of topic.prefix
	KeyHostname             = "database.hostname"
	KeyPort                 = "database.port"
	KeyUser                 = "database.user"
	KeyPassword             = "database.password"
	KeyServerID             = "database.server.id"
	KeyDatabaseInclude      = "database.include.list"
	KeyDatabaseExclude      = "database.exclude.list"
	KeyTableInclude         = "table.include.list"
	KeyTableExclude         = "table.exclude.list"
	KeyColumnInclude        = "column.include.list"
	KeyColumnExclude        = "column.exclude.list"
	KeyIgnoreBuiltin        = "table.ignore.builtin"
	KeyDecimalMode          = "decimal.handling.mode"
	KeyTimePrecisionMode    = "time.precision.mode"
	KeyBigIntUnsignedMode   = "bigint.unsigned.handling.mode"
	KeyBinaryMode           = "binary.handling.mode"
	KeyIncludeSchemaChanges = "include.schema.changes"
	KeyTombstonesOnDelete   = "tombstones.on.delete"
	KeyTransactionMetadata  = "provide.transaction.metadata"
	KeyIncludeQuery         = "include.query"
	KeySkippedOperations    = "skipped.operations"
	KeySnapshotMode         = "snapshot.mode"
	KeyHeartbeatInterval    = "heartbeat.interval.ms"
	KeyHeartbeatPrefix      = "topic.heartbeat.prefix"
	KeyHeartbeatPrefixOld   = "heartbeat.topics.prefix" // Debezium 1.x name of topic.heartbeat.prefix
	KeyTransactionTopic     = "topic.transaction"
	KeyExtendedHeaders      = "extended.headers.enabled"
)

// The values of the mode settings.
const (
	DecimalPrecise = "precise"
	DecimalDouble  = "double"
	DecimalString  = "string"

	TimeAdaptiveMicroseconds = "adaptive_time_microseconds"
	TimeConnect              = "connect"

	BigIntLong    = "long"
	BigIntPrecise = "precise"

	BinaryBytes      = "bytes"
	BinaryBase64     = "base64"
	BinaryBase64URL  = "base64-url-safe"
	BinaryHex        = "hex"
	defaultTxTopic   = "transaction"
	defaultHBPrefix  = "__debezium-heartbeat"
	defaultMySQLPort = 3306
)

// The snapshot modes the engine runs; Debezium's schema_only is the old
// name of no_data.
var snapshotModes = []string{"initial", "always", "initial_only", "no_data", "when_needed", "never"}

// builtinDatabases are MySQL's own databases, which table.ignore.builtin
// (on by default) leaves out, as Debezium does.
var builtinDatabases = map[string]bool{"mysql": true, "performance_schema": true, "sys": true, "information_schema": true}

// topicNamePattern is what Debezium accepts as a topic prefix, and what
// it replaces other characters of topic names with underscores to reach.
var topicNamePattern = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// Settings is a parsed Debezium MySQL connector configuration.
type Settings struct {
	// TopicPrefix names the logical server: it prefixes every topic and
	// schema name and is the source partition's "server".
	TopicPrefix string

	Hostname string
	Port     int
	User     string
	Password string
	// ServerID is the replica server id the connector joins the
	// replication topology with.
	ServerID uint32

	// Filters, each a list of anchored, case-insensitive regular
	// expressions; nil when not set.
	DatabaseInclude, DatabaseExclude []*regexp.Regexp
	TableInclude, TableExclude       []*regexp.Regexp // matched against "db.table"
	ColumnInclude, ColumnExclude     []*regexp.Regexp // matched against "db.table.column"
	IgnoreBuiltin                    bool

	DecimalMode        string
	TimePrecisionMode  string
	BigIntUnsignedMode string
	BinaryMode         string

	IncludeSchemaChanges       bool
	TombstonesOnDelete         bool
	ProvideTransactionMetadata bool
	IncludeQuery               bool
	ExtendedHeaders            bool
	// SkippedOperations are the operations ('c', 'u', 'd', 't') not
	// emitted while streaming.
	SkippedOperations map[byte]bool

	SnapshotMode      string
	HeartbeatInterval time.Duration
	HeartbeatPrefix   string
	TransactionTopic  string
}

// enumCheck is Debezium's check of a mode, in its words.
func enumCheck(values ...string) func(string) string {
	return connect.OneOfSaying("Value must be one of ", values...)
}

func boolCheck(v string) string {
	if t := strings.TrimSpace(v); !strings.EqualFold(t, "true") && !strings.EqualFold(t, "false") {
		return "Value must be either true or false"
	}
	return ""
}

func regexListCheck(v string) string {
	if _, err := parseRegexList(v); err != nil {
		return err.Error()
	}
	return ""
}

func topicNameCheck(v string) string {
	if !topicNamePattern.MatchString(strings.TrimSpace(v)) {
		return strings.TrimSpace(v) + " has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)"
	}
	return ""
}

func rangeCheck(min, max int64) func(string) string {
	return func(v string) string {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return "Value must be an integer"
		}
		if n < min || n > max {
			return fmt.Sprintf("Value must be between %d and %d", min, max)
		}
		return ""
	}
}

func timePrecisionCheck(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case TimeAdaptiveMicroseconds, TimeConnect:
		return ""
	case "adaptive":
		return "The 'adaptive' time.precision.mode is no longer supported"
	}
	return "Value must be one of adaptive_time_microseconds, connect (Tributary does not implement isostring, microseconds, nanoseconds or structured)"
}

func snapshotModeCheck(v string) string {
	switch m := strings.ToLower(strings.TrimSpace(v)); m {
	case "schema_only":
		return ""
	case "recovery", "schema_only_recovery":
		return "snapshot.mode " + m + " rebuilds Debezium's schema history topic; Tributary has none (it reads table definitions from the binary log), so there is nothing to recover: remove the setting"
	case "configuration_based", "custom":
		return "snapshot.mode " + m + " is not supported by Tributary; use one of " + strings.Join(snapshotModes, ", ")
	}
	return enumCheck(snapshotModes...)(v)
}

func skippedOperationsCheck(v string) string {
	if strings.TrimSpace(v) == "none" {
		return ""
	}
	none, ops := false, false
	for _, op := range strings.Split(v, ",") {
		switch strings.TrimSpace(op) {
		case "none":
			none = true
		case "r", "c", "u", "d", "t":
			ops = true
		default:
			return "Invalid operation " + strings.TrimSpace(op)
		}
	}
	if none && ops {
		return "'none' cannot be specified with other skipped operation types"
	}
	return ""
}

// Validate checks a configuration and returns its problems by key, with
// Debezium's messages where Debezium has one. An empty result means
// ParseSettings accepts it. Its checks are the definition's (configDef),
// run on the values that are not blank, with Debezium's wording for a
// value of the wrong type.
func Validate(props map[string]string) map[string][]string {
	out := map[string][]string{}
	for _, key := range configDef() {
		v := props[key.Name]
		switch {
		case strings.TrimSpace(v) == "" && key.Required:
			out[key.Name] = append(out[key.Name], missing(key))
		case key.Validate == nil:
		case key.Validate(v) != "":
			err := &connect.ConfigError{Key: key, Value: v, Problem: connect.Invalid, Reason: key.Validate(v)}
			out[key.Name] = append(out[key.Name], err.Error())
		}
	}
	crossChecks(props, out)
	return out
}

// missing is Kafka's message for a required key without a value.
func missing(key connect.ConfigKey) string {
	return (&connect.ConfigError{Key: key, Problem: connect.Missing}).Error()
}

// crossChecks adds the problems no single key shows: topic.prefix (or
// its Debezium 1.x name) missing, and include and exclude lists used
// together.
func crossChecks(props map[string]string, out map[string][]string) {
	if strings.TrimSpace(props[KeyTopicPrefix]) == "" && strings.TrimSpace(props[KeyServerName]) == "" {
		out[KeyTopicPrefix] = append(out[KeyTopicPrefix], `Missing required configuration "topic.prefix" which has no default value.`)
	}
	for _, pair := range [][2]string{
		{KeyDatabaseInclude, KeyDatabaseExclude},
		{KeyTableInclude, KeyTableExclude},
		{KeyColumnInclude, KeyColumnExclude},
	} {
		if strings.TrimSpace(props[pair[0]]) != "" && strings.TrimSpace(props[pair[1]]) != "" {
			out[pair[1]] = append(out[pair[1]], fmt.Sprintf("%q is already specified", pair[0]))
		}
	}
}

// ParseSettings reads and validates a configuration. Unknown keys,
// including Debezium's schema.history.internal.* and database.history.*,
// are ignored (UnusedKeys lists them, and the connector logs them once):
// Tributary's schema history is the binary log's own table metadata.
func ParseSettings(props map[string]string) (*Settings, error) {
	if problems := Validate(props); len(problems) > 0 {
		keys := make([]string, 0, len(problems))
		for k := range problems {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var errs []error
		for _, k := range keys {
			for _, m := range problems[k] {
				errs = append(errs, errors.New(m))
			}
		}
		return nil, fmt.Errorf("invalid Debezium MySQL configuration: %w", errors.Join(errs...))
	}
	v, _ := configDef().Parse(notBlank(props)) // checked by Validate
	s := &Settings{
		TopicPrefix:                v.String(KeyTopicPrefix),
		Hostname:                   v.String(KeyHostname),
		Port:                       v.Int(KeyPort),
		User:                       v.String(KeyUser),
		Password:                   v.Password(KeyPassword),
		ServerID:                   uint32(v.Long(KeyServerID)),
		IgnoreBuiltin:              v.Bool(KeyIgnoreBuiltin),
		DecimalMode:                strings.ToLower(v.String(KeyDecimalMode)),
		TimePrecisionMode:          strings.ToLower(v.String(KeyTimePrecisionMode)),
		BigIntUnsignedMode:         strings.ToLower(v.String(KeyBigIntUnsignedMode)),
		BinaryMode:                 strings.ToLower(v.String(KeyBinaryMode)),
		IncludeSchemaChanges:       v.Bool(KeyIncludeSchemaChanges),
		TombstonesOnDelete:         v.Bool(KeyTombstonesOnDelete),
		ProvideTransactionMetadata: v.Bool(KeyTransactionMetadata),
		IncludeQuery:               v.Bool(KeyIncludeQuery),
		ExtendedHeaders:            v.Bool(KeyExtendedHeaders),
		SnapshotMode:               strings.ToLower(v.String(KeySnapshotMode)),
		HeartbeatInterval:          time.Duration(v.Int(KeyHeartbeatInterval)) * time.Millisecond,
		HeartbeatPrefix:            v.String(KeyHeartbeatPrefix),
		TransactionTopic:           v.String(KeyTransactionTopic),
		SkippedOperations:          map[byte]bool{},
	}
	if !v.IsSet(KeyTopicPrefix) {
		s.TopicPrefix = v.String(KeyServerName)
	}
	if !v.IsSet(KeyHeartbeatPrefix) && v.IsSet(KeyHeartbeatPrefixOld) {
		s.HeartbeatPrefix = v.String(KeyHeartbeatPrefixOld)
	}
	if s.SnapshotMode == "schema_only" {
		s.SnapshotMode = "no_data"
	}
	for _, op := range v.List(KeySkippedOperations) {
		if len(op) == 1 {
			s.SkippedOperations[op[0]] = true
		}
	}
	for _, f := range []struct {
		key string
		dst *[]*regexp.Regexp
	}{
		{KeyDatabaseInclude, &s.DatabaseInclude}, {KeyDatabaseExclude, &s.DatabaseExclude},
		{KeyTableInclude, &s.TableInclude}, {KeyTableExclude, &s.TableExclude},
		{KeyColumnInclude, &s.ColumnInclude}, {KeyColumnExclude, &s.ColumnExclude},
	} {
		*f.dst, _ = parseRegexList(v.Raw(f.key)) // checked by Validate
	}
	return s, nil
}

// notBlank drops the blank values, which Debezium reads as absent, but
// a password's: spaces may be all of one.
func notBlank(props map[string]string) map[string]string {
	out := make(map[string]string, len(props))
	for k, v := range props {
		if strings.TrimSpace(v) != "" || k == KeyPassword {
			out[k] = v
		}
	}
	return out
}

// runtimePrefixes begin the keys that the Connect runtime, not the
// connector, reads (converters, transforms, error handling, topic
// creation and the like).
var runtimePrefixes = []string{"name", "connector.class", "tasks.max", "key.converter", "value.converter",
	"header.converter", "transforms", "predicates", "errors.", "topic.creation.", "record.envelope", "config.",
	"producer.override.", "consumer.override.", "admin.override.", "exactly.once.", "transaction.boundary",
	"offsets.storage.topic"}

// UnusedKeys returns, sorted, the keys of a configuration that this
// connector accepts but that change nothing here: Debezium's schema
// history settings (database.history.*, schema.history.internal.*,
// including their SASL consumer and producer settings, since Tributary
// keeps no history topic) and any other key that neither the connector
// nor the runtime reads.
func UnusedKeys(props map[string]string) []string {
	var out []string
	def := configDef()
	for k := range props {
		if _, ok := def.Lookup(k); ok && !slices.Contains(ignoredKeys, k) {
			continue
		}
		runtime := false
		for _, p := range runtimePrefixes {
			if strings.HasPrefix(k, p) {
				runtime = true
				break
			}
		}
		if !runtime {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// parseRegexList splits a Debezium regular expression list: comma
// separated, a comma inside an expression escaped as "\,", each entry
// trimmed and matched case-insensitively against the whole name (Java's
// Pattern.matches). Go's RE2 lacks Java's back-references and
// look-arounds; such expressions are reported rather than misread.
func parseRegexList(v string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, part := range splitRegexList(v) {
		re, err := regexp.Compile("(?i)^(?:" + part + ")$")
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression %q: %w", part, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// splitRegexList splits at commas that are not escaped by a backslash,
// as Debezium's RegExSplitter does; "\," becomes a literal comma and
// other escapes are kept for the regular expression.
func splitRegexList(v string) []string {
	var parts []string
	var cur strings.Builder
	flush := func() {
		if p := strings.TrimSpace(cur.String()); p != "" {
			parts = append(parts, strings.ReplaceAll(p, `\,`, ","))
		}
		cur.Reset()
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v):
			cur.WriteByte(c)
			cur.WriteByte(v[i+1])
			i++
		case c == ',':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return parts
}

func matchesAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// Include returns the table filter the engine captures with: Debezium's
// table.include.list or table.exclude.list (matched against "db.table"),
// within database.include.list or database.exclude.list, leaving MySQL's
// own databases out unless table.ignore.builtin is false.
func Include(s *Settings) func(db, table string) bool {
	return func(db, table string) bool {
		if s.IgnoreBuiltin && builtinDatabases[strings.ToLower(db)] {
			return false
		}
		return listed(s.DatabaseInclude, s.DatabaseExclude, db) && listed(s.TableInclude, s.TableExclude, db+"."+table)
	}
}

// listed applies a Debezium include list, or else its exclude list: a
// name is kept when it matches the include list, or does not match the
// exclude list; without either, every name is.
func listed(include, exclude []*regexp.Regexp, name string) bool {
	switch {
	case include != nil:
		return matchesAny(include, name)
	case exclude != nil:
		return !matchesAny(exclude, name)
	}
	return true
}

// includeColumn reports whether a column is kept in row values:
// column.include.list or column.exclude.list matched against
// "db.table.column". Key columns are always kept in the key.
func (s *Settings) includeColumn(db, table, column string) bool {
	return listed(s.ColumnInclude, s.ColumnExclude, db+"."+table+"."+column)
}

// sanitizeTopic replaces the characters Kafka topic names (and Kinesis
// stream names) cannot hold with underscores and cuts the name to 249
// characters, as Debezium's topic naming strategy does.
func sanitizeTopic(name string) string {
	var sb strings.Builder
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	out := sb.String()
	if len(out) > 249 {
		out = out[:249]
	}
	switch out {
	case ".":
		out = "_"
	case "..":
		out = "__"
	}
	return out
}
