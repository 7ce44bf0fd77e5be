package streams

import (
	"context"
	"time"
)

// Streams is how the Connect runtime, the CDC daemons and other front
// ends reach streams. Inside `tributary serve` the engine implements it
// (Local); standalone mode uses a Kinesis API client (package
// kinesisstreams), which works against a Tributary server or AWS.
type Streams interface {
	// EnsureStream creates the stream with the given number of shards
	// if it does not exist, and waits until it is writable.
	EnsureStream(ctx context.Context, name string, shards int) error
	// ListStreams returns the names of all streams.
	ListStreams(ctx context.Context) ([]string, error)
	// Put writes at most 500 records (what PutRecords takes) to a
	// stream and returns once all are acknowledged. Records with the same partition key keep their
	// order. It fails as a whole or succeeds as a whole from the
	// caller's view: implementations retry partial failures.
	Put(ctx context.Context, stream string, recs []StreamRecord) error
	// Shards lists a stream's shards, open and closed, with their
	// parents.
	Shards(ctx context.Context, stream string) ([]Shard, error)
	// Read returns records of a shard after the sequence number `after`
	// ("" reads from the oldest record). It may wait briefly, up to
	// about a second, for records to arrive. End is true once a closed
	// shard has been read to its end.
	Read(ctx context.Context, stream, shard, after string, max int) (ReadResult, error)
}

// StreamRecord is a record as a stream holds it.
type StreamRecord struct {
	PartitionKey string
	Data         []byte
	// Attrs is opaque runtime metadata stored beside the record (the
	// Connect headers, timestamp and key when the partition key cannot
	// carry it). Only the in-process engine keeps it; the Kinesis API
	// never shows it, so plain consumers see ordinary records.
	Attrs []byte
	// SequenceNumber and Arrival are set on records read.
	SequenceNumber string
	Arrival        time.Time
}

// Shard describes one shard.
type Shard struct {
	ID      string
	Parents []string
	// Closed says the shard was closed by resharding: it receives no
	// more records, and its children follow it.
	Closed bool
}

// ReadResult is what Read returns.
type ReadResult struct {
	Records []StreamRecord
	// End says the shard is closed and every record has been returned.
	End bool
}

// TailScanner is implemented by Streams that keep record attributes, so
// that source tasks can recover the offsets they stored with their
// records.
type TailScanner interface {
	// ScanBack calls fn with the attributes of the records of each
	// shard of stream, newest first, skipping records without
	// attributes, and moves to the next shard when fn returns false or
	// it reaches records that arrived before since.
	ScanBack(ctx context.Context, stream string, since time.Time, fn func(attrs []byte) bool) error
}
