package streams

import (
	"errors"
	"fmt"
)

// The engine's refusals. Each front end words them for its protocol
// (internal/kinesis maps them to AWS's errors in one place); callers
// test them with errors.Is, and errors.As reaches the details some of
// them carry.
var (
	// ErrStreamNotFound: no stream of that name exists (any more), or it
	// cannot take the operation, as a put to a stream being deleted.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrStreamExists: a stream of that name exists already.
	ErrStreamExists = errors.New("stream already exists")
	// ErrNotActive: the stream is being created, updated or deleted, and
	// the operation needs it settled (a *StatusError says its status).
	ErrNotActive = errors.New("stream not active")
	// ErrInUse: the stream is busy with a change that conflicts with the
	// operation (a concurrent reshard); trying again may succeed.
	ErrInUse = errors.New("stream in use")
	// ErrBusy: the change lost every try to concurrent changes of the
	// same metadata (the shard quota's, or the stream's, on other
	// nodes); trying again later may succeed.
	ErrBusy = errors.New("too many concurrent changes")
	// ErrShardNotFound: the stream has no such shard.
	ErrShardNotFound = errors.New("shard not found")
	// ErrShardClosed: the shard was closed by a reshard; it takes no
	// records and cannot be resharded again.
	ErrShardClosed = errors.New("shard closed")
	// ErrLimitExceeded: the operation would pass a quota (a
	// *ShardLimitError says which numbers).
	ErrLimitExceeded = errors.New("limit exceeded")
	// ErrInvalidArgument: an argument is out of its range for this
	// stream; the wrapping error says which.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrConsumerExists: a live consumer of that name is registered.
	ErrConsumerExists = errors.New("consumer already exists")
	// ErrConsumerNotFound: no live consumer of that name is registered.
	ErrConsumerNotFound = errors.New("consumer not found")
	// ErrNoChange lets an Update function end the update without writing.
	ErrNoChange = errors.New("no change")
)

// StatusError refuses an operation on a stream that is not ACTIVE.
type StatusError struct{ Status string }

func (e *StatusError) Error() string { return "stream is " + e.Status }
func (e *StatusError) Unwrap() error { return ErrNotActive }

// ShardLimitError refuses a change that would take a scope's open shards
// past the quota.
type ShardLimitError struct{ Open, Limit, Added int }

func (e *ShardLimitError) Error() string {
	return fmt.Sprintf("shard limit %d: %d open, %d more requested", e.Limit, e.Open, e.Added)
}
func (e *ShardLimitError) Unwrap() error { return ErrLimitExceeded }

// ShardError is a refusal about one shard: Err is ErrShardNotFound or
// ErrShardClosed. Shard is the id as the caller gave it for a shard not
// found, and the shard's own id otherwise.
type ShardError struct {
	Shard string
	Err   error
}

func (e *ShardError) Error() string { return e.Shard + ": " + e.Err.Error() }
func (e *ShardError) Unwrap() error { return e.Err }

// SplitKeyError refuses a split at a hash key that would leave a child
// narrower than two keys.
type SplitKeyError struct{ Shard, Key, Start, End string }

func (e *SplitKeyError) Error() string {
	return fmt.Sprintf("split of %s at %s: not inside (%s+1, %s)", e.Shard, e.Key, e.Start, e.End)
}
func (e *SplitKeyError) Unwrap() error { return ErrInvalidArgument }

// LayoutError refuses to reshard a stream of layout A (layout.go) when
// other processes write to the store: the closing shards could not be
// fenced, since only this process's puts wait for its lock.
type LayoutError struct{ Stream string }

func (e *LayoutError) Error() string {
	return fmt.Sprintf("%s keeps a JetStream stream per shard (layout A), which cannot be resharded while other nodes write", e.Stream)
}
func (e *LayoutError) Unwrap() error { return ErrInvalidArgument }

// MergeError refuses to merge two shards that are not an adjacent pair
// in that order.
type MergeError struct{ Shard, Adjacent string }

func (e *MergeError) Error() string {
	return fmt.Sprintf("shards %s and %s are not an adjacent pair", e.Shard, e.Adjacent)
}
func (e *MergeError) Unwrap() error { return ErrInvalidArgument }

// ShardCountError refuses a shard count change beyond double or half
// the open shards.
type ShardCountError struct{ Current, Target int }

func (e *ShardCountError) Error() string {
	return fmt.Sprintf("shard count from %d to %d: at most double, at least half", e.Current, e.Target)
}
func (e *ShardCountError) Unwrap() error { return ErrInvalidArgument }

// RecordSizeError refuses a record larger than its stream allows: its
// data alone (DataOnly) or its data and partition key together.
type RecordSizeError struct {
	Size, Limit int
	DataOnly    bool
}

func (e *RecordSizeError) Error() string {
	return fmt.Sprintf("record of %d bytes over the stream's %d", e.Size, e.Limit)
}
func (e *RecordSizeError) Unwrap() error { return ErrInvalidArgument }

// HashKeyError refuses an explicit hash key outside [0, 2^128-1].
type HashKeyError struct{ Key string }

func (e *HashKeyError) Error() string { return "hash key " + e.Key + " out of range" }
func (e *HashKeyError) Unwrap() error { return ErrInvalidArgument }

// Why a sequence number cannot start a read.
const (
	SeqMalformed   = iota // not a sequence number this engine issued
	SeqOtherShard         // issued by another shard (Shard says which)
	SeqOtherStream        // issued by an earlier shard or stream of the name
)

// SequenceError refuses a sequence number as a starting position.
type SequenceError struct {
	Seq    string
	Reason int
	// Shard is the shard the number encodes, for SeqOtherShard.
	Shard string
}

func (e *SequenceError) Error() string { return "sequence number " + e.Seq + " not usable here" }
func (e *SequenceError) Unwrap() error { return ErrInvalidArgument }

// RetriableError marks a failure worth retrying (a throughput limit, a
// stream being resharded, a store failure), as Kafka's
// RetriableException does. Implementations of Streams wrap such
// failures in it; the Connect runtime retries them.
type RetriableError struct{ Err error }

func (e *RetriableError) Error() string { return e.Err.Error() }
func (e *RetriableError) Unwrap() error { return e.Err }
