// Package debezium turns the changes read by package cdc into the records
// Debezium's MySQL connector (io.debezium.connector.mysql.MySqlConnector)
// produces, and runs them as a source connector of Tributary's Connect
// runtime, so that Debezium configurations run unchanged and consumers of
// Debezium topics read the same JSON through Kafka's JsonConverter.
//
// The format follows Debezium 3.6.1.Final (the current release when this
// was written), read from its sources rather than only its documentation,
// whose examples lag the code: the source block's snapshot field is an
// io.debezium.data.Enum string with default "false", not a boolean; it
// has sequence, ts_us and ts_ns; the envelope (version 2) always has a
// transaction field, null unless provide.transaction.metadata is on.
//
// Where Tributary differs from Debezium, on purpose or by necessity:
//
//   - Schema history: Debezium keeps a database schema history topic
//     (schema.history.internal.*, formerly database.history.*) and parses
//     DDL to know each table's columns. Tributary's engine reads each row
//     with the table definition the binary log carries
//     (binlog_row_metadata=FULL) or that it tracked from information_schema,
//     so those keys are accepted and ignored, and snapshot.mode=recovery,
//     which rebuilds that topic, is refused as pointless.
//   - Table metadata comes from information_schema, not from the DDL text:
//     schema change records describe columns as MySQL reports them (a
//     length is the one in COLUMN_TYPE; a table's default character set is
//     its first text column's); a BOOLEAN column is TINYINT(1), an INT8,
//     as in Debezium's snapshots (Debezium's streaming, which parses the
//     DDL, would say BOOLEAN); MariaDB's JSON, a LONGTEXT alias, is a
//     plain string unless the engine reports it as json.
//   - The snapshot reports each captured table's CREATE TABLE; Debezium
//     also emits the SET, DROP TABLE, DROP/CREATE DATABASE and USE
//     statements it replays into its history.
//   - Transaction metadata: BEGIN and END records only for transactions
//     that change captured tables (Debezium sends them for every
//     transaction); without GTIDs, a transaction's id names the position
//     where it starts, the end of the previous transaction, which may
//     precede Debezium's (the BEGIN event) by the GTID event between.
//   - Offsets: resuming is only at transaction boundaries, so offsets
//     never carry Debezium's row and event skip counters, and Debezium
//     offsets that have them resume at the start of their transaction.
//     The offset of a snapshot's last record says the snapshot finished;
//     Debezium's still says INITIAL until the next event.
//   - time.precision.mode supports adaptive_time_microseconds (the
//     default) and connect; column defaults written as timestamps are read
//     at UTC (Debezium reads them in the JVM's time zone).
//   - Types Debezium has no mapping for are left out of events, as
//     Debezium leaves them, except MariaDB's UUID, INET4 and INET6, which
//     are strings.
package debezium
