// Package maxwell is Zendesk's Maxwell's daemon on Tributary's binlog
// reader (package cdc): the same config.properties, the same JSON per
// row, the same partition keys, filters, position table and bootstrap
// protocol, so that consumers written for Maxwell, and the deployments
// that feed them, move to Tributary unchanged. It has three entry
// points: Run (the daemon, `tributary maxwell`), Bootstrap (the
// maxwell-bootstrap utility, `tributary maxwell bootstrap`) and the
// Connect source connector registered as ConnectorClass.
//
// # Output
//
// A row is written field for field as Maxwell's RowMap.toJSON writes
// it: database, table, query (output_row_query), type, ts (seconds),
// xid, xoffset (inside a transaction), commit (on the transaction's
// last output row only), position (output_binlog_position), gtid
// (output_gtid_position), server_id, thread_id, push_ts,
// comment (bootstrap rows), primary_key, primary_key_columns, data and,
// for updates, old with the previous values of the changed columns.
// Values take Maxwell's JSON types: DECIMAL as a number with its exact
// digits, placed as Java's BigDecimal.toString places them (1.0E-7 below
// 10^-6); FLOAT and DOUBLE as Java prints them (1.0E10); DATETIME and
// TIMESTAMP (in UTC) as "2021-08-16 10:11:12" with the declared
// fractional digits; DATE and TIME as strings, YEAR and BIT as numbers;
// JSON embedded; ENUM a string; SET an array; binary strings and BLOBs
// in base64; geometries as WKT; nulls kept unless output_nulls=false.
// Schema changes (output_ddl) are Maxwell's database-create/alter/drop
// and table-create/alter/drop events, with Maxwell's table definitions
// (def, and old for table-alter) and ts in milliseconds.
//
// # Configuration
//
// Every key is declared once, in configDef (configdef.go): its type,
// Maxwell's default, its check and its documentation. ParseConfig reads
// through that definition, the connector shows its Maxwell and Output
// groups to the Connect runtime, and the command line asks it which
// options exist and which are booleans.
//
// ParseConfig takes Maxwell's keys with Maxwell's defaults (producer
// stdout, client_id maxwell, replica_server_id 6379, schema_database
// maxwell, producer_partition_by database, bootstrapper async,
// output_commit_info, output_xoffset and output_nulls true,
// ignore_producer_error true). The producers are stdout, file (one JSON
// document per line, appended to output_file), kinesis (PutRecords to
// kinesis_stream, Maxwell's partition key as the record's partition key)
// and none. Tributary adds, for the Kinesis API:
//
//	kinesis_endpoint   base URL of the Kinesis API (http://localhost:4567 for a
//	                   local Tributary server); empty: AWS's for the region
//	kinesis_region     region to sign for
//	kpl_properties     a kinesis-producer-library.properties file; its Region,
//	                   KinesisEndpoint (or CustomEndpoint) and KinesisPort (or
//	                   Port) fill in the two above when they are unset. The CLI
//	                   also finds the file under its standard name in the
//	                   working directory (where Maxwell's KPL reads it) or next
//	                   to the config file. A KinesisEndpoint host means
//	                   https://host[:port], as in the KPL; a full URL is taken
//	                   as it is, so a plain-HTTP server can be named there.
//	                   VerifyCertificate=false accepts any server certificate
//	                   (a self-signed one). AggregationEnabled (default true),
//	                   AggregationMaxCount and AggregationMaxSize aggregate
//	                   records as the KPL does. The file's other settings are
//	                   logged once, in one line, as without effect.
//
// Credentials come from the standard AWS chain (package kinesisstreams).
// Unknown keys are reported (Config.UnknownKeys; the daemon logs a
// warning each): Maxwell ignores them silently. Settings for features
// Tributary lacks (other producers, encrypt, javascript, ha, a separate
// schema_host) are errors, since ignoring them would change the output;
// Maxwell settings without meaning here (kafka.*, metrics_*, jdbc and
// ssl options, ...) are accepted and ignored.
//
// # State and delivery
//
// The daemon keeps Maxwell's state in schema_database on host, creating
// the database and its positions, bootstrap and heartbeats tables (with
// Maxwell's DDL) when missing. The position (binlog file and offset, and
// the GTID set in gtid_mode) is stored under (server_id, client_id) with
// Maxwell's statement, server_id being the source's @@server_id (0 in
// gtid_mode), as Maxwell keys it. Without a stored position (or
// init_position) reading starts at the server's current position:
// Maxwell does not snapshot; tables are bootstrapped on request.
//
// A position is stored only once the producer has acknowledged every
// row before it, and only at transaction boundaries: at most once a
// second while rows flow, every ten seconds otherwise, and once more at
// a clean shutdown, after the rows read so far are written (a
// transaction cut short by the shutdown is dropped and read again on
// restart). So a restart after a clean stop repeats nothing, and after
// a crash repeats at most the last second's transactions, whole; nothing
// is lost. The Kinesis producer writes batches of up to 500 records,
// one PutRecords at a time, each as large as what accumulated while the
// previous one was in flight.
//
// # Bootstrap
//
// A bootstrap is requested by a row in schema_database.bootstrap
// (database_name, table_name, where_clause, client_id, ...), which
// Bootstrap inserts as maxwell-bootstrap does. The daemon sees the
// insert in the binlog (and, like Maxwell, passes that row on to the
// stream), and also looks for due requests every few seconds (requests
// scheduled through started_at, and requests left incomplete by a stop).
// It emits bootstrap-start, one bootstrap-insert per row of
// SELECT * [WHERE where_clause] ORDER BY the primary key, and
// bootstrap-complete, updating started_at, inserted_rows, and finally
// is_complete and completed_at. With bootstrapper=async (the default) it
// runs beside replication and the binlog rows of the table being
// bootstrapped are held back and emitted after bootstrap-complete; with
// sync, replication waits while it runs (it runs between transactions);
// with none, requests are ignored. A bootstrap cut short by a stop runs
// again, whole, at the next start, as in Maxwell.
//
// # Differences from Maxwell
//
//   - output_xoffset follows Maxwell's code, which defaults it to true,
//     not its documentation (false).
//   - output_schema_id is accepted but writes nothing: there is no schema
//     store, so there are no schema ids. output_push_timestamp,
//     output_naming_strategy, exclude_columns and row_query_max_length
//     work as in Maxwell.
//   - Filter regular expressions are Go's RE2, not Java's: no
//     lookaround or backreferences.
//   - With a KPL file, records are KPL-aggregated unless it says
//     AggregationEnabled=false; an aggregated record holds rows of one
//     partition key (the KPL packs rows bound for one shard). The other
//     KPL settings (batching, rate limits, metrics) have no equivalent,
//     and the daemon says so once, in one info line listing them. A missing stream is an error at
//     start-up; Maxwell fails at the first write.
//   - A bootstrap is marked complete after bootstrap-complete and the
//     rows held back meanwhile are acknowledged (Maxwell marks it first,
//     so a crash in between loses those rows). The CLI requests a
//     bootstrap and returns: it does not monitor progress, and has no
//     --abort (delete the request's row instead, as --abort does).
//   - TIME values wrap into one day, as Maxwell's java.sql.Time does;
//     BIT(n>8) bootstrapped rows are numbers as in the binlog (Maxwell's
//     bootstrap reads their bytes in the wrong order).
//   - Heartbeats: the heartbeats table is created but not written; the
//     engine reports its position while the log is quiet instead, and
//     there is no detection of a second process with the same client_id.
//   - binlog_heartbeat, SSL and JDBC options, metrics, HTTP endpoints,
//     encryption, javascript filters, HA and master recovery are not
//     supported.
package maxwell
