package kinesis

import (
	"errors"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/storage"
	"github.com/tributary-data/tributary/internal/streams"
)

// The one place where the engine's errors (package streams) become AWS's:
// their types, statuses and wording. An *Error that an Update function
// returned passes through as it is.

// shardLimitMessage is AWS's LimitExceededException for the shard quota.
const shardLimitMessage = "This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %d. Limit: %d. Number of additional shards that would have resulted from this request: %d. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits."

// awsError words an engine error for a request about ref.
func awsError(ref streamRef, err error) *Error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	if e := stateError(ref, err); e != nil {
		return e
	}
	if e := reshardError(ref, err); e != nil {
		return e
	}
	if e := consumerError(ref, err); e != nil {
		return e
	}
	if errors.Is(err, storage.ErrUnavailable) {
		return errUnavailable(err)
	}
	return errInternal(err)
}

// stateError words the refusals about a stream as a whole.
func stateError(ref streamRef, err error) *Error {
	var (
		status *streams.StatusError
		limit  *streams.ShardLimitError
	)
	switch {
	case errors.Is(err, streams.ErrStreamNotFound):
		return streamNotFound(ref.name, ref.account)
	case errors.As(err, &status):
		return errNotActive(ref, status.Status)
	case errors.Is(err, streams.ErrStreamExists):
		return errResourceInUse("Stream %s under account %s already exists.", ref.name, ref.account)
	case errors.As(err, &limit):
		return errLimitExceeded(shardLimitMessage, ref.account, ref.region, limit.Open, limit.Limit, limit.Added)
	case errors.Is(err, streams.ErrBusy):
		// What Kinesis answers to too many concurrent control-plane
		// operations: a retriable limit, not a conflict.
		return errLimitExceeded("Rate exceeded for stream %s under account %s.", ref.name, ref.account)
	case errors.Is(err, streams.ErrInUse):
		return errResourceInUse("Stream %s under account %s was resharded concurrently; retry.", ref.name, ref.account)
	}
	return nil
}

// reshardError words the refusals of SplitShard, MergeShards and
// UpdateShardCount.
func reshardError(ref streamRef, err error) *Error {
	var (
		sh    *streams.ShardError
		split *streams.SplitKeyError
		merge *streams.MergeError
		count *streams.ShardCountError
		upd   *streams.UpdateLimitError
		lay   *streams.LayoutError
	)
	switch {
	case errors.As(err, &lay):
		return errInvalidArgument("Stream %s under account %s was created with one storage stream per shard, which cannot be resharded on a cluster. Copy its records to a new stream to reshard them.", ref.name, ref.account)
	case errors.As(err, &sh) && errors.Is(err, streams.ErrShardClosed):
		return errResourceInUse("Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for merging or splitting.", sh.Shard, ref.name, ref.account)
	case errors.As(err, &sh):
		return errResourceNotFound("Could not find shard %s in stream %s under account %s.", sh.Shard, ref.name, ref.account)
	case errors.As(err, &split):
		return errInvalidArgument("NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
			split.Key, split.Shard, ref.name, ref.account, split.Start, split.End)
	case errors.As(err, &merge):
		return errInvalidArgument("Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging",
			merge.Shard, merge.Adjacent, ref.name, ref.account)
	case errors.As(err, &count) && count.Target > count.Current:
		return errInvalidArgument("UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: %d Target shard count: %d", count.Current, count.Target)
	case errors.As(err, &count):
		return errInvalidArgument("UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: %d Target shard count: %d", count.Current, count.Target)
	case errors.As(err, &upd):
		return errLimitExceeded("Exceeded the limit of %d UpdateShardCount calls in a rolling 24-hour period for stream %s under account %s.", upd.Max, ref.name, ref.account)
	}
	return nil
}

// consumerError words the refusals of the consumers' registry.
func consumerError(ref streamRef, err error) *Error {
	var (
		c     *streams.ConsumerError
		limit *streams.ConsumerLimitError
	)
	switch {
	case errors.As(err, &c) && errors.Is(err, streams.ErrConsumerExists):
		return errResourceInUse("Consumer %s under stream %s already exists for account %s.", c.Name, ref.name, ref.account)
	case errors.As(err, &c):
		return errResourceNotFound("Consumer %s under stream %s not found for account %s.", c.Name, ref.name, ref.account)
	case errors.As(err, &limit):
		return errLimitExceeded("Consumer limit of %d exceeded for stream %s under account %s.", limit.Max, ref.name, ref.account)
	}
	return nil
}

// placeError words a record the engine could not place; prefix names
// the record in a PutRecords request ("records.N.member.").
func placeError(ref streamRef, prefix string, dataLen int, err error) *Error {
	var (
		size *streams.RecordSizeError
		hk   *streams.HashKeyError
	)
	switch {
	case errors.As(err, &size) && size.DataOnly:
		return newError("ValidationException", 400, "1 validation error detected: Value %s at '%sdata' failed to satisfy constraint: Member must have length less than or equal to %d", renderBlobLen(dataLen), prefix, size.Limit)
	case errors.As(err, &size):
		return errInvalidArgument("Record size (data and partition key) of %d bytes exceeds the maximum record size of %d KiB of stream %s.", size.Size, size.Limit>>10, ref.name)
	case errors.As(err, &hk):
		return errInvalidArgument("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s", hk.Key)
	}
	return awsError(ref, err)
}

// startError words a starting sequence number the engine refused, for
// GetShardIterator and SubscribeToShard on shard idx.
func startError(ref streamRef, idx int, err error) *Error {
	var sq *streams.SequenceError
	if !errors.As(err, &sq) {
		return awsError(ref, err)
	}
	shardID := shard.ID(idx)
	switch sq.Reason {
	case streams.SeqOtherShard:
		return errInvalidArgument("Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s", sq.Shard, shardID)
	case streams.SeqOtherStream:
		return errInvalidArgument("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid because it did not come from this stream.", sq.Seq, shardID, ref.name, ref.account)
	}
	return errInvalidArgument("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid.", sq.Seq, shardID, ref.name, ref.account)
}

// putFailure is a record the store did not take: AWS reports it in the
// record's entry, as InternalFailure.
func putFailure(err error) *Error {
	return &Error{Type: "InternalFailure", Message: "Internal service failure.", cause: err}
}
