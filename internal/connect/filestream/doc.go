// Package filestream is Apache Kafka's FileStreamSource and FileStreamSink
// connectors (org.apache.kafka.connect.file) for Tributary's connector
// runtime. They are the connectors of Kafka's quickstart and of many
// tutorials and tests; keeping their class names, settings and behaviour
// lets those configurations run unchanged against Tributary streams.
//
// # Source
//
// The source reads lines from a file (or, when "file" is empty, from
// standard input) and produces one record per line into the stream named
// by "topic": a STRING value schema, the line without its terminator as
// the value, no key, and the wall-clock time of the read as timestamp
// (Kafka stamps System.currentTimeMillis()). A line ends at "\n", "\r\n"
// or a lone "\r", as in Kafka; a last line without its terminator, and a
// "\r" that may yet be followed by "\n", wait until more of the file is
// written. At the end of the file the task polls the file for appended
// data every 100 ms and returns no records after about a second without
// any, so the runtime can commit offsets; a missing file is waited for
// the same way. Invalid UTF-8 is replaced by U+FFFD, as Java's decoder
// does. Lines are read through one large buffer (1 MiB, doubled when a
// single line does not fit), never with a system call per line.
//
// Offsets are Kafka's: the source partition is {"filename": <file>} and
// each record's offset is {"position": <int64>}, the position just after
// its line, so that a restarted task resumes at the first line not yet
// committed. Unlike Kafka, which counts decoded characters (and so
// resumes at the wrong place in a file that is not ASCII), positions are
// bytes. If the committed position lies beyond the end of the file (it
// was truncated or replaced) the task, like Kafka's, waits until the file
// has grown past it and reads on from there; reset the connector's
// offsets to read such a file from the start. Standard input has no
// offsets: its records carry no source partition or offset.
//
// The source has one task, whatever tasks.max says: only one reader of a
// file makes sense. batch.size caps the records of one poll; like Kafka,
// a value below 1 is not rejected and acts as 1. The "topic" setting
// must be non-empty (Kafka's NonEmptyString) and name one stream: a
// comma-separated list is rejected with the message of Kafka 1.1 to 3.2,
// whose "topic" was a list required to hold a single topic (newer Kafka
// accepts the string and then fails on the invalid topic name).
//
// # Sink
//
// The sink appends each record's value and "\n" to a file, or to
// standard output when "file" is empty. Values are rendered as Kafka's
// PrintStream.println(Object) prints them, that is as Java's
// String.valueOf: null as "null", strings as they are, integers in
// decimal, floats as Java's Float/Double.toString (package javafmt),
// booleans as "true"/"false", Decimals as BigDecimal.toString, Date, Time
// and Timestamp values as java.util.Date.toString in UTC ("Thu Jan 01
// 00:00:00 UTC 1970"), structs as Kafka's Struct.toString
// ("Struct{a=1,b=x}", leaving out null fields), lists as
// AbstractCollection.toString ("[a, b]") and maps as AbstractMap.toString
// ("{k=v, k2=v2}"). Three choices differ from Java, where Java's output
// would be useless or unstable: byte arrays are written as their raw
// bytes (Java prints "[B@1b6d3586"), map entries are sorted by their
// rendered key (a Java HashMap's order depends on hashing), and times
// use UTC rather than the JVM's default time zone.
//
// Output goes through a 1 MiB buffer; Put only buffers, Flush writes the
// buffer out and fsyncs the file. Stop closes the file without flushing,
// as the runtime's contract says: what was not flushed is redelivered.
//
// # Exactly-once sink
//
// Kafka's file sink is at-least-once: after a crash, lines written since
// the last offset commit are written again. Tributary's keeps its
// progress atomically with its output, so that a crash neither
// duplicates nor loses a line. Next to the output file it keeps a state
// file, <file>.offsets, holding JSON
//
//	{"length": 1234, "positions": {"<stream>/<shard>": "<sequence number or SHARD_END>"}}
//
// where length is the length of the output file after the last flush and
// positions are the positions of every shard the task has flushed (each
// Flush merges the positions it is given into those already known).
// Flush writes out the buffer, fsyncs the output file, then replaces the
// state file atomically: it writes <file>.offsets.tmp, fsyncs it, renames
// it over <file>.offsets and fsyncs the directory. A Flush that brings
// neither new output nor new positions writes nothing.
//
// When a task starts and the state file exists, it truncates the output
// file to the recorded length, discarding lines written after the last
// flush, and asks the runtime (SinkTaskContext.Seek) to resume after the
// recorded positions, overriding the runtime's own committed offsets; the
// discarded lines are therefore delivered again, exactly once. An output
// file shorter than the recorded length has been changed by someone else
// and cannot be repaired, so the task fails and says so; delete the state
// file to start over in plain append mode. When no state file exists, an
// existing output file is kept as it is and appended to, as in Kafka, and
// the task records its current length in a new state file before writing
// anything, so that exactly-once holds from the first line on. Writing to
// standard output keeps no state and is at-least-once, as in Kafka.
//
// Kafka gives every one of tasks.max sink tasks the same file, so that
// lines of different tasks interleave in no particular order. Here that
// would also make the tasks overwrite each other's state file, so the
// sink has one task whatever tasks.max says: one writer keeps both the
// line order within each shard and the state consistent.
package filestream
