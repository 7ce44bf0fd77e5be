// Package transform implements Kafka Connect's built-in single message
// transforms (SMTs) and predicates over Tributary's record model
// (internal/connect/data), with Kafka's semantics and, where Kafka fails a
// record, Kafka's error wording. Matching Kafka is the point: a connector
// configuration written for Kafka Connect ("transforms=route",
// "transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter",
// ...) must behave the same when run by Tributary.
//
// A chain is built from Connect-style properties with FromConfig and
// applied with Chain.Apply. A single transform or predicate can be built
// with NewTransform or NewPredicate from its own (unprefixed) settings,
// which is what the REST validate endpoint needs. Configuration problems
// are reported as *ConfigError, which carries the offending key so that it
// can be attached to that key in a validation response; problems with a
// record are reported as *DataError (Kafka's DataException).
//
// Supported classes (all under org.apache.kafka.connect.transforms, with
// $Key and $Value variants where Kafka has them): Cast, DropHeaders,
// ExtractField, Filter, Flatten, HeaderFrom, HoistField, InsertField,
// InsertHeader, MaskField, RegexRouter, ReplaceField, SetSchemaMetadata,
// TimestampConverter, TimestampRouter, ValueToKey; predicates (under
// .predicates) HasHeaderKey, RecordIsTombstone, TopicNameMatches. Classes
// without a $Key/$Value variant may also be named by their simple class
// name ("RegexRouter"), as Kafka's plugin aliases allow.
//
// # Mapping Kafka onto streams
//
// Tributary records come from Kinesis-compatible streams, not Kafka
// topics, so some record metadata differs:
//
//   - A record's topic is its stream name (RegexRouter, TimestampRouter,
//     TopicNameMatches and InsertField's topic.field use it).
//   - Kafka's partition is the record's shard (Record.Shard) and Kafka's
//     offset is its sequence number (Record.SequenceNumber). Both are
//     strings here, so InsertField's partition.field and offset.field
//     insert STRING fields where Kafka inserts INT32 and INT64 ones.
//     As in Kafka, offset.field needs a sink record (one read from a
//     stream, i.e. with a sequence number); partition.field is skipped
//     when a record has no shard, as Kafka skips a null partition.
//   - A record without a timestamp has a zero Record.Timestamp (Kafka's
//     null timestamp).
//
// # Regular expressions and date patterns
//
// RegexRouter and TopicNameMatches take Java regular expressions; they are
// compiled with Go's regexp (RE2), which accepts the common subset but not
// back-references or look-around, so such patterns are rejected at
// configuration time. Java's replacement syntax ($1, ${name}, \$) is
// implemented exactly. TimestampConverter and TimestampRouter take
// java.text.SimpleDateFormat patterns, which this package interprets
// itself (see simpledate.go), always in UTC as Kafka configures them.
//
// Transforms hold only their configuration; they keep no caches and no
// shared state, so one instance may be used from several goroutines.
package transform
