package connect

import "github.com/tributary-data/tributary/internal/streams"

// The runtime reaches streams through the engine's neutral interface
// (package streams); these names keep the runtime's and the plugins' code
// as it was written.
type (
	Streams      = streams.Streams
	StreamRecord = streams.StreamRecord
	Shard        = streams.Shard
	ReadResult   = streams.ReadResult
	TailScanner  = streams.TailScanner
	// RetriableError marks a failure worth retrying under
	// errors.retry.timeout, as Kafka's RetriableException does.
	RetriableError = streams.RetriableError
)

// ErrStreamNotFound is returned by Shards and Read for a stream that
// does not exist (any more).
var ErrStreamNotFound = streams.ErrStreamNotFound
