// Package scalebench measures how the mapping of Kinesis shards onto
// JetStream streams behaves with many shards, so that the cluster's
// mapping is chosen by measurement rather than by guess (issue 12).
//
// It compares two mappings on the same embedded servers:
//
//   - A, today's: one JetStream stream per shard (internal/store's logs,
//     KS_<uid>_<shard>), which at R3 is one Raft group per shard on every
//     node;
//   - B: one JetStream stream per Kinesis stream with one subject per
//     shard, read by batched direct get filtered on the shard's subject.
//
// The measurements are tests behind the "scale" build tag, so that they
// never run with the ordinary test suite: each one takes minutes and
// most of the machine. Each run measures one configuration in a fresh
// process, so that its memory, goroutine and file-descriptor counts are
// its own. docs/scale.md has the commands and the results.
package scalebench
