package kinesis

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tributary-data/tributary/internal/storage"
	"github.com/tributary-data/tributary/internal/streams"
)

// TestAWSError pins how each of the engine's errors reads to a Kinesis
// client: the one mapping, in enginerrors.go.
func TestAWSError(t *testing.T) {
	ref := streamRef{"123456789012", "eu-west-1", "s"}
	wrap := func(err error) error { return fmt.Errorf("context: %w", err) }
	for _, tc := range []struct {
		err        error
		typ, msg   string
		statusCode int
	}{
		{wrap(streams.ErrStreamNotFound), "ResourceNotFoundException", "Stream s under account 123456789012 not found.", 400},
		{wrap(streams.ErrStreamExists), "ResourceInUseException", "Stream s under account 123456789012 already exists.", 400},
		{&streams.StatusError{Status: "UPDATING"}, "ResourceInUseException", "Stream s under account 123456789012 not ACTIVE, instead in state UPDATING", 400},
		{wrap(streams.ErrInUse), "ResourceInUseException", "Stream s under account 123456789012 was resharded concurrently; retry.", 400},
		{&streams.ShardLimitError{Open: 3, Limit: 4, Added: 2}, "LimitExceededException", fmt.Sprintf(shardLimitMessage, "123456789012", "eu-west-1", 3, 4, 2), 400},
		{&streams.ShardError{Shard: "shardId-9", Err: streams.ErrShardNotFound}, "ResourceNotFoundException", "Could not find shard shardId-9 in stream s under account 123456789012.", 400},
		{&streams.ShardError{Shard: "shardId-000000000001", Err: streams.ErrShardClosed}, "ResourceInUseException", "Shard shardId-000000000001 in stream s under account 123456789012 has already been merged or split, and thus is not eligible for merging or splitting.", 400},
		{&streams.MergeError{Shard: "shardId-000000000001", Adjacent: "shardId-000000000000"}, "InvalidArgumentException", "Shards shardId-000000000001 and shardId-000000000000 in stream s under account 123456789012 are not an adjacent pair of shards eligible for merging", 400},
		{&streams.ShardCountError{Current: 2, Target: 5}, "InvalidArgumentException", "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 2 Target shard count: 5", 400},
		{&streams.ShardCountError{Current: 4, Target: 1}, "InvalidArgumentException", "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 4 Target shard count: 1", 400},
		{&streams.UpdateLimitError{Max: 10}, "LimitExceededException", "Exceeded the limit of 10 UpdateShardCount calls in a rolling 24-hour period for stream s under account 123456789012.", 400},
		{&streams.ConsumerError{Name: "c", Err: streams.ErrConsumerExists}, "ResourceInUseException", "Consumer c under stream s already exists for account 123456789012.", 400},
		{&streams.ConsumerError{Name: "c", Err: streams.ErrConsumerNotFound}, "ResourceNotFoundException", "Consumer c under stream s not found for account 123456789012.", 400},
		{&streams.ConsumerLimitError{Max: 20}, "LimitExceededException", "Consumer limit of 20 exceeded for stream s under account 123456789012.", 400},
		{errInvalidArgument("as the action words it"), "InvalidArgumentException", "as the action words it", 400},
		{fmt.Errorf("shard quota: 8 concurrent changes: %w", streams.ErrBusy), "LimitExceededException", "Rate exceeded for stream s under account 123456789012.", 400},
		{fmt.Errorf("stream s: %w", storage.ErrUnavailable), "ServiceUnavailable", "The request has failed due to a temporary failure of the server.", 503},
		{errors.New("disk on fire"), "InternalFailure", "", 500},
	} {
		got := awsError(ref, tc.err)
		if got.Type != tc.typ || got.Message != tc.msg || got.Status != tc.statusCode {
			t.Errorf("%v: %s %d %q, want %s %d %q", tc.err, got.Type, got.Status, got.Message, tc.typ, tc.statusCode, tc.msg)
		}
	}
	if awsError(ref, nil) != nil {
		t.Error("no error became one")
	}
}
