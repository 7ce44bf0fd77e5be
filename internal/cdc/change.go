// Package cdc reads a MySQL or MariaDB server's changes: a consistent
// snapshot of the tables, then the row-based binary log, as a stream of
// changes in commit order with the table schema each row was written
// under. Output formats (Debezium's, Maxwell's) and the connectors are
// built on it in their own packages; this package knows nothing of them.
package cdc

import "time"

// Op is what happened to a row, with Debezium's letters.
type Op byte

// The operations.
const (
	OpRead     Op = 'r' // a row read by a snapshot
	OpCreate   Op = 'c'
	OpUpdate   Op = 'u'
	OpDelete   Op = 'd'
	OpTruncate Op = 't'
)

// Column describes one column of a table as it was when a row was written.
type Column struct {
	Name string
	// DataType is the MySQL type name in lower case, as
	// information_schema.COLUMNS.DATA_TYPE gives it: "int", "bigint",
	// "decimal", "varchar", "datetime", "enum", "json", ...
	DataType string
	// ColumnType is the full type, as COLUMN_TYPE gives it:
	// "decimal(6,2)", "int(10) unsigned", "enum('a','b')".
	ColumnType string
	Unsigned   bool
	// Length is the declared length (characters for strings, bits for
	// BIT, precision for DECIMAL, fractional digits for temporal types);
	// 0 when the type has none.
	Length int
	// Scale is DECIMAL's scale.
	Scale         int
	Nullable      bool
	AutoIncrement bool
	// Default is the column's default as SQL text, nil when none.
	Default *string
	Charset string
	// Values are the members of an ENUM or SET.
	Values []string
	// Position is the 1-based ordinal position.
	Position int
}

// Table is a table's definition at some point in the log.
type Table struct {
	DB, Name   string
	Columns    []Column
	PrimaryKey []string // column names, in key order
}

// Column returns the index of a column by name, or -1.
func (t *Table) Column(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Row holds a row's values in Table.Columns order. Values are:
//
//	NULL                          nil
//	TINYINT..BIGINT               int64; uint64 for BIGINT UNSIGNED
//	FLOAT, DOUBLE                 float32, float64
//	DECIMAL                       Decimal (exact text)
//	CHAR, VARCHAR, TEXT, ENUM     string
//	SET                           string (comma-separated members)
//	BINARY, VARBINARY, BLOB       []byte
//	BIT                           uint64
//	JSON                          string (JSON text)
//	DATE                          string "2006-01-02" (zero dates kept as "0000-00-00")
//	DATETIME                      string "2006-01-02 15:04:05[.ffffff]"
//	TIMESTAMP                     time.Time in UTC
//	TIME                          string "[-]hh:mm:ss[.ffffff]" (may exceed 24h)
//	YEAR                          int64
//	INET4, INET6, UUID (MariaDB)  string, as the server prints them
//	GEOMETRY and others           []byte (the server's internal form)
//
// Temporal values stay in their text form so that zero dates and
// out-of-range TIME values survive; formats convert them as they need.
// Details: strings are UTF-8 whatever the column's character set; BINARY
// keeps its trailing zero bytes; DATETIME and TIME carry exactly the
// column's fractional digits; the zero TIMESTAMP ("0000-00-00 00:00:00",
// stored as 0) is the Unix epoch; an invalid ENUM value is "". MySQL's
// JSON is compact with sorted keys (MariaDB's, a LONGTEXT, is as written).
type Row []any

// Decimal is a DECIMAL value as exact text ("-12.50"), so no precision
// is ever lost on the way.
type Decimal string

// Position locates a point in the binary log where reading can resume: a
// transaction boundary.
type Position struct {
	// File and Pos are binlog coordinates.
	File string
	Pos  uint32
	// GTIDSet is the set of transactions executed up to here, in the
	// server's flavor's syntax (MySQL "uuid:1-5", MariaDB "0-1-100");
	// empty when the server has no GTIDs.
	GTIDSet string
	// Flavor is "mysql" or "mariadb".
	Flavor string
}

// Source is where a change came from, for the formats' source blocks.
type Source struct {
	// Pos is the boundary after which reading resumes to see changes
	// after this one: the end of this change's transaction for the last
	// change of a transaction, else the start of the transaction.
	Pos Position
	// File and EventPos locate the row event itself.
	File     string
	EventPos uint32
	// Row is the row's index within its event.
	Row int
	// GTID is the transaction's own GTID, if any.
	GTID     string
	ServerID uint32
	// ThreadID is the connection id of the session that wrote the
	// change, from its transaction's BEGIN statement (or the DDL
	// statement itself); 0 when the log does not carry it, as for
	// MariaDB's row transactions, which start with a GTID event and no
	// BEGIN. It is never another transaction's.
	ThreadID uint64
	// XID is the transaction's commit id, 0 for snapshot reads.
	XID uint64
	// Time is when the change was made (the binlog event's timestamp;
	// the snapshot's start for reads).
	Time time.Time
	// Query is the statement that made the change, when the server logs
	// it (binlog_rows_query_log_events / binlog_annotate_row_events).
	Query string
	// Snapshot is "" for binlog changes, else "first", "true" or "last"
	// (Debezium's values) for snapshot reads.
	Snapshot string
}

// Change is one row change.
type Change struct {
	Op            Op
	Table         *Table
	Before, After Row
	Source        Source
	// TxIndex is the change's 1-based order in its transaction; TxLast
	// marks the transaction's last change (Maxwell's "commit").
	TxIndex int
	TxLast  bool
}

// SchemaChange is a DDL statement read from the log (or, in a snapshot,
// the CREATE TABLE of each captured table).
type SchemaChange struct {
	// DB is the statement's database, "" for statements outside one.
	DB string
	// DDL is the statement text as the server logged it.
	DDL string
	// Kind is "CREATE", "ALTER", "DROP", "TRUNCATE" or "" for other
	// statements, with Tables the tables' definitions after the statement
	// (a dropped table's before it).
	Kind   string
	Tables []*Table
	// Before holds the tables' definitions before the statement, in the
	// order of Tables: nil for a table that did not exist (CREATE) or
	// that the reader did not know; for RENAME, the tables under their
	// old names.
	Before []*Table
	// Database is true for CREATE/ALTER/DROP DATABASE.
	Database bool
	Source   Source
}
