package streams

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/storage"
)

// Writing records. A put routes each record to an open shard and stores
// the records one request puts into one shard as a single log message
// (batch.go): one storage write, and with sync durability one fsync, per
// shard per request.

// MaxPut is the most records one put takes: the records of one put for
// one shard are one log message, stored atomically, and a message's
// records must fit the sequence number's index bits.
const MaxPut = 500

// Record is a record to store.
type Record struct {
	PartitionKey string
	Data         []byte
	// Attrs is opaque metadata stored beside the record (batch.go).
	Attrs []byte
}

// PutResult is where one record landed, or why it did not.
type PutResult struct {
	Shard int
	Seq   string
	Err   error
}

// Writable returns the stream a put goes to. A stream that is not ACTIVE
// or UPDATING takes no records: it is ErrStreamNotFound, as if it did not
// exist.
//
// The stream comes back locked against resharding until release is
// called, so that no record is appended to a shard after a reshard has
// closed it; the metadata is read after taking the lock for the same
// reason.
func (e *Engine) Writable(ref Ref) (s *Stream, release func(), err error) {
	mu := e.streamLock(ref.Key())
	mu.RLock()
	s, err = e.Lookup(ref)
	if err != nil {
		mu.RUnlock()
		return nil, nil, err
	}
	if st := s.Meta.EffectiveStatus(time.Now()); st != StatusActive && st != StatusUpdating {
		mu.RUnlock()
		return nil, nil, fmt.Errorf("%s is %s: %w", ref.Name, st, ErrStreamNotFound)
	}
	return s, mu.RUnlock, nil
}

// Place checks one record against its stream's limits and picks the open
// shard it goes to: by hash key (the explicit one, or the partition
// key's), or, on an AUTO stream, round robin. A record over the stream's
// size limit is a *RecordSizeError, an explicit hash key out of range a
// *HashKeyError.
func (e *Engine) Place(s *Stream, pk string, explicitHashKey *string, dataLen int) (int, error) {
	m := s.Meta
	limit := max(m.MaxRecordSizeKiB, 1024) << 10
	if dataLen > limit {
		return 0, &RecordSizeError{Size: dataLen, Limit: limit, DataOnly: true}
	}
	if dataLen+len(pk) > limit {
		return 0, &RecordSizeError{Size: dataLen + len(pk), Limit: limit}
	}
	if m.Distribution == DistributionAuto {
		ix := s.routing.indexes
		return ix[int(e.autoNext.Add(1)%uint64(len(ix)))], nil
	}
	k := shard.HashPartitionKey(pk)
	if explicitHashKey != nil {
		var err error
		if k, err = shard.ParseHashKey(*explicitHashKey); err != nil {
			return 0, &HashKeyError{Key: *explicitHashKey}
		}
	}
	sh, ok := s.routing.route(k)
	if !ok {
		return 0, fmt.Errorf("no open shard of %s owns hash key %s", m.Name, k)
	}
	return sh, nil
}

// Append stores records (already placed, shards[i] being records[i]'s
// shard) and returns their sequence numbers in input order. The caller
// holds the stream from Writable. Records for one shard go in one log
// message, and writes to different shards go out together.
//
// Records placed in a shard whose log the store had closed (a reshard
// completed through another node: storage.ErrLogClosed) are not stored;
// the stream's metadata is read again, so that the caller's next try
// routes them to the shards that took over.
func (e *Engine) Append(ctx context.Context, s *Stream, recs []Record, shards []int) []PutResult {
	m := s.Meta
	groups := groupByShard(shards)
	arrival := time.Now()
	for _, g := range groups {
		g.p = e.appendGroup(m, g, recs, arrival)
	}
	out := make([]PutResult, len(recs))
	now := arrival.Unix()
	reloaded := false
	for _, g := range groups {
		msgSeq, err := g.p.Wait(ctx)
		if errors.Is(err, storage.ErrLogClosed) && !reloaded {
			reloaded = true
			if rerr := e.cat.reload(ctx, m.Ref().Key()); rerr != nil {
				e.LogStoreError("reading a stream's metadata again after a put to a closed shard", rerr, "stream", m.Name)
			}
		}
		if err != nil && !errors.Is(err, storage.ErrLogClosed) { // put routes those again
			e.LogStoreError("storing records", err, "stream", m.Name, "shard", g.shard, "records", len(g.idx))
		} else if err == nil {
			e.wakeReaders(m.LogName(g.shard))
			e.obs.Stored(m, g.shard, len(g.idx), g.bytes(recs))
		}
		sh := &m.Shards[g.shard]
		for j, i := range g.idx {
			out[i].Shard = g.shard
			if err != nil {
				out[i].Err = fmt.Errorf("store records of %s: %w", m.Name, err)
				continue
			}
			out[i].Seq = sh.seqNumber(msgSeq, j, now)
		}
	}
	return out
}

// shardGroup is the records of one put that go to one shard.
type shardGroup struct {
	shard int
	idx   []int // positions in the put's records
	p     storage.Pending
}

// bytes is the size of the group's records, data and partition keys.
func (g *shardGroup) bytes(recs []Record) int {
	n := 0
	for _, i := range g.idx {
		n += len(recs[i].Data) + len(recs[i].PartitionKey)
	}
	return n
}

// groupByShard groups a put's records by shard, in order of first use.
func groupByShard(shards []int) []*shardGroup {
	var groups []*shardGroup
	byShard := map[int]*shardGroup{}
	for i, sh := range shards {
		g := byShard[sh]
		if g == nil {
			g = &shardGroup{shard: sh}
			byShard[sh] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
	}
	return groups
}

// appendGroup starts storing one shard's records as one message, sealed
// when the stream is encrypted.
func (e *Engine) appendGroup(m *Meta, g *shardGroup, recs []Record, arrival time.Time) storage.Pending {
	batch := make([]Record, len(g.idx))
	for j, i := range g.idx {
		batch[j] = recs[i]
	}
	payload := encodeBatch(arrival, batch)
	if m.KeyID != "" {
		sealed, err := e.keys.seal(m.KeyID, payload)
		if err != nil {
			return storage.FailedAppend(fmt.Errorf("seal records: %w", err))
		}
		payload = sealed
	}
	return e.st.AppendAsync(m.LogName(g.shard), payload)
}

// Put stores at most MaxPut records in a stream, routed by partition key
// (or round robin on an AUTO stream). It returns the result of each.
func (e *Engine) Put(ctx context.Context, ref Ref, recs []Record) ([]PutResult, error) {
	return e.put(ctx, ref, recs, func(s *Stream, r Record) (int, error) {
		return e.Place(s, r.PartitionKey, nil, len(r.Data))
	})
}

// PutShard stores at most MaxPut records in one shard, chosen by the
// caller (as a Kafka producer chooses a partition): ErrShardNotFound if
// the stream has no such shard, ErrShardClosed if a reshard closed it.
func (e *Engine) PutShard(ctx context.Context, ref Ref, shardIndex int, recs []Record) ([]PutResult, error) {
	return e.put(ctx, ref, recs, func(s *Stream, r Record) (int, error) {
		id := shard.ID(shardIndex)
		if shardIndex < 0 || shardIndex >= len(s.Meta.Shards) {
			return 0, &ShardError{Shard: id, Err: ErrShardNotFound}
		}
		if s.Meta.Shards[shardIndex].EndingSeq != "" {
			return 0, &ShardError{Shard: id, Err: ErrShardClosed}
		}
		limit := max(s.Meta.MaxRecordSizeKiB, 1024) << 10
		if n := len(r.Data) + len(r.PartitionKey); n > limit {
			return 0, &RecordSizeError{Size: n, Limit: limit}
		}
		return shardIndex, nil
	})
}

// put stores at most MaxPut records, each in the shard route picks for
// it, all or none: a record route refuses fails the put before anything
// is stored.
//
// Records that went to a shard whose log the store had closed (a reshard
// completed on another node, which this node's metadata does not show
// yet: storage.ErrLogClosed) stored nothing; the metadata is read again
// and they are routed afresh, a few times over about three seconds, after
// which they fail as unavailable for the client to retry.
func (e *Engine) put(ctx context.Context, ref Ref, recs []Record, route func(s *Stream, r Record) (int, error)) ([]PutResult, error) {
	if len(recs) > MaxPut {
		return nil, fmt.Errorf("put to %s: %d records, at most %d: %w", ref.Name, len(recs), MaxPut, ErrInvalidArgument)
	}
	out, err := e.putOnce(ctx, ref, recs, route)
	wait := 20 * time.Millisecond
	for attempt := 0; err == nil; attempt++ {
		var again []int
		for i, r := range out {
			if errors.Is(r.Err, storage.ErrLogClosed) {
				again = append(again, i)
			}
		}
		if len(again) == 0 {
			break
		}
		if attempt == maxClosedRetries || e.waitReload(ctx, ref, wait) != nil {
			for _, i := range again {
				out[i].Err = fmt.Errorf("%w: %w", storage.ErrUnavailable, out[i].Err)
			}
			break
		}
		wait *= 2
		retry := make([]Record, len(again))
		for j, i := range again {
			retry[j] = recs[i]
		}
		res, rerr := e.putOnce(ctx, ref, retry, route)
		for j, i := range again {
			if rerr != nil {
				out[i] = PutResult{Shard: out[i].Shard, Err: rerr}
			} else {
				out[i] = res[j]
			}
		}
	}
	return out, err
}

// maxClosedRetries bounds the re-routings of records that met a closed
// log (put): waits of 20 ms doubling, and each refusal takes the store
// about 0.5 s (JetStream's client retries a publish nobody answered), so
// about 3 s in all.
const maxClosedRetries = 4

// waitReload waits, then reads a stream's metadata again from the store.
func (e *Engine) waitReload(ctx context.Context, ref Ref, wait time.Duration) error {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	return e.cat.reload(ctx, ref.Key())
}

// putOnce is one routing and storing of a put's records.
func (e *Engine) putOnce(ctx context.Context, ref Ref, recs []Record, route func(s *Stream, r Record) (int, error)) ([]PutResult, error) {
	s, release, err := e.Writable(ref)
	if err != nil {
		return nil, err
	}
	defer release()
	shards := make([]int, len(recs))
	for i, r := range recs {
		if shards[i], err = route(s, r); err != nil {
			return nil, fmt.Errorf("put to %s: record %d: %w", ref.Name, i, err)
		}
	}
	return e.Append(ctx, s, recs, shards), nil
}
