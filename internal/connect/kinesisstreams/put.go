package kinesisstreams

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/connect"

	"github.com/tributary-data/tributary/internal/backoff"
)

// Put writes recs to stream with PutRecords, in requests of at most 500
// records and 5 MiB, one request at a time so that a later request never
// overtakes an earlier one. It returns once every record is acknowledged,
// retrying failed records and throttled requests with exponential backoff
// (50ms doubling up to 2s) until they succeed or ctx ends. Attrs are
// dropped: a Kinesis record has nowhere to keep them.
//
// Ordering: Kinesis keeps the order of the records of one partition key
// within a request only among those that succeed, so a record that fails
// is already overtaken by the later records of its key that did not. Put
// therefore retries each key from its first failed record on: that record
// and every later one of the same key in the request, even those that
// succeeded. The stream may thus hold such records twice, and a reader
// sees them before the retried record and again after it; the last copy
// of every record is in order. Consumers that apply records by key
// (upserts, compaction) end in the right state; consumers that need each
// record once must deduplicate, as with any at-least-once source.
func (s *Streams) Put(ctx context.Context, stream string, recs []connect.StreamRecord) error {
	for len(recs) > 0 {
		n, size := 0, 0
		for n < len(recs) && n < maxPutRecords {
			sz := len(recs[n].Data) + len(recs[n].PartitionKey)
			if n > 0 && size+sz > maxPutBytes {
				break
			}
			size += sz
			n++
		}
		if err := s.putChunk(ctx, stream, recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// putChunk writes one request's worth of records and retries until all
// are acknowledged.
func (s *Streams) putChunk(ctx context.Context, stream string, recs []connect.StreamRecord) error {
	entries := make([]types.PutRecordsRequestEntry, len(recs))
	for i, r := range recs {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(r.PartitionKey), Data: r.Data}
	}
	b := backoff.New(backoffStart, backoffMax)
	for {
		out, err := retryThrottled(ctx, 0, func() (*kinesis.PutRecordsOutput, error) {
			return s.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
		})
		if err != nil {
			if errorCode(err) == "ResourceNotFoundException" {
				return fmt.Errorf("kinesisstreams: put to %s: %w: %w", stream, connect.ErrStreamNotFound, err)
			}
			return fmt.Errorf("kinesisstreams: put to %s: %w", stream, err)
		}
		if len(out.Records) != len(entries) {
			return fmt.Errorf("kinesisstreams: put to %s: %d results for %d records", stream, len(out.Records), len(entries))
		}
		entries = retryEntries(entries, out.Records)
		if len(entries) == 0 {
			return nil
		}
		if err := b.Wait(ctx); err != nil {
			return fmt.Errorf("kinesisstreams: put to %s: %d records not acknowledged: %w", stream, len(entries), err)
		}
	}
}

// retryEntries returns the entries to send again after a PutRecords that
// answered results: for each partition key, the first entry that failed
// and every later entry with that key, in their order. Entries of keys
// that fully succeeded, and those before a key's first failure, are done.
func retryEntries(entries []types.PutRecordsRequestEntry, results []types.PutRecordsResultEntry) []types.PutRecordsRequestEntry {
	var again []types.PutRecordsRequestEntry
	var failed map[string]bool
	for i, r := range results {
		key := aws.ToString(entries[i].PartitionKey)
		if r.ErrorCode != nil {
			if failed == nil {
				failed = map[string]bool{}
			}
			failed[key] = true
		}
		if failed[key] {
			again = append(again, entries[i])
		}
	}
	return again
}
