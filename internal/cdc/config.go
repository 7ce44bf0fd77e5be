package cdc

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"
)

// SnapshotMode says when Run reads the tables' current rows before it
// streams the binary log; the names and meanings are Debezium's
// snapshot.mode values.
type SnapshotMode string

// The snapshot modes.
const (
	// SnapshotInitial snapshots when there is no stored position, then
	// streams. It is the default.
	SnapshotInitial SnapshotMode = "initial"
	// SnapshotAlways snapshots at every start, then streams from the
	// snapshot's position.
	SnapshotAlways SnapshotMode = "always"
	// SnapshotInitialOnly snapshots when there is no stored position and
	// then returns instead of streaming.
	SnapshotInitialOnly SnapshotMode = "initial_only"
	// SnapshotNoData reads no rows: it reports the captured tables'
	// schemas and streams from the server's current position when there
	// is no stored position.
	SnapshotNoData SnapshotMode = "no_data"
	// SnapshotWhenNeeded snapshots when there is no stored position or the
	// stored one is no longer in the server's binary log.
	SnapshotWhenNeeded SnapshotMode = "when_needed"
	// SnapshotNever never reads rows: without a stored position it streams
	// from the oldest binary log the server still has.
	SnapshotNever SnapshotMode = "never"
)

// Config says which server to read and how.
type Config struct {
	Host string
	// Port defaults to 3306.
	Port     int
	User     string
	Password string
	// ServerID is the id this reader registers with as a replica; it must
	// differ from the server's and every other replica's.
	ServerID uint32
	// Include chooses the captured tables; nil captures every table. The
	// system schemas (mysql, sys, information_schema, performance_schema)
	// are never captured. For statements on a whole database Include is
	// asked with table "".
	Include func(db, table string) bool
	// Snapshot is the snapshot mode; "" is SnapshotInitial.
	Snapshot SnapshotMode
	// HeartbeatInterval is how often Heartbeat is called while no change
	// is delivered; 0 never calls it.
	HeartbeatInterval time.Duration
	// Keys names the settings behind these fields as the user wrote
	// them, so that errors and hints name configuration keys rather than
	// Go fields; empty names are Debezium's keys.
	Keys Keys
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger

	// snapshotLock forces how the snapshot takes its consistent view
	// (tests use it to cover the locking path on MariaDB).
	snapshotLock lockMode
	// wrapBinlogConn, if set, wraps the binlog connection's socket
	// (tests use it to break the connection).
	wrapBinlogConn func(net.Conn) net.Conn
}

// Keys are the names a front end gives the engine's settings.
type Keys struct {
	Host, Port, ServerID, Snapshot string
	// Recover says, as a hint, how to go on after the stored position
	// was purged from the server's binary log.
	Recover string
}

// DebeziumKeys are Debezium's names, the default.
var DebeziumKeys = Keys{
	Host: "database.hostname", Port: "database.port", ServerID: "database.server.id", Snapshot: "snapshot.mode",
	Recover: "set snapshot.mode=when_needed to take a new snapshot, or reset the connector's offsets to start over",
}

// withDefaults fills the empty names with Debezium's.
func (k Keys) withDefaults() Keys {
	for _, f := range []struct {
		dst *string
		def string
	}{
		{&k.Host, DebeziumKeys.Host}, {&k.Port, DebeziumKeys.Port}, {&k.ServerID, DebeziumKeys.ServerID},
		{&k.Snapshot, DebeziumKeys.Snapshot}, {&k.Recover, DebeziumKeys.Recover},
	} {
		if *f.dst == "" {
			*f.dst = f.def
		}
	}
	return k
}

// lockMode is how a snapshot gets a binlog position consistent with its
// reads.
type lockMode int

const (
	// lockAuto picks: MariaDB's lock-free binlog_snapshot_* status, else
	// FLUSH TABLES WITH READ LOCK, else LOCK TABLES.
	lockAuto lockMode = iota
	lockGlobal
	lockTables
)

// systemSchemas are never captured.
var systemSchemas = map[string]bool{
	"mysql": true, "sys": true, "information_schema": true, "performance_schema": true,
}

// normalized returns the config with defaults filled in, or a KindConfig
// error.
func (c Config) normalized() (Config, error) {
	c.Keys = c.Keys.withDefaults()
	if c.Host == "" {
		return c, &Error{Kind: KindConfig, Msg: "no " + c.Keys.Host + " configured", Hint: "set " + c.Keys.Host + " to the server's host name"}
	}
	if c.Port == 0 {
		c.Port = 3306
	}
	if c.Port < 0 || c.Port > 65535 {
		return c, &Error{Kind: KindConfig, Msg: fmt.Sprintf("%s=%d is out of range", c.Keys.Port, c.Port),
			Hint: "use a port from 1 to 65535"}
	}
	if c.ServerID == 0 {
		return c, &Error{Kind: KindConfig, Msg: c.Keys.ServerID + "=0",
			Hint: "set " + c.Keys.ServerID + " to a replica server id that no other replica of this server uses"}
	}
	switch c.Snapshot {
	case "":
		c.Snapshot = SnapshotInitial
	case SnapshotInitial, SnapshotAlways, SnapshotInitialOnly, SnapshotNoData, SnapshotWhenNeeded, SnapshotNever:
	default:
		return c, &Error{Kind: KindConfig, Msg: fmt.Sprintf("unknown %s=%s", c.Keys.Snapshot, c.Snapshot),
			Hint: "use initial, always, initial_only, no_data, when_needed or never"}
	}
	if c.HeartbeatInterval < 0 {
		return c, &Error{Kind: KindConfig, Msg: "negative heartbeat interval"}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c, nil
}

// captured reports whether a table's changes are read.
func (c *Config) captured(db, table string) bool {
	if systemSchemas[db] {
		return false
	}
	return c.Include == nil || c.Include(db, table)
}
