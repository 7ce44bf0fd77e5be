package streams

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/storage"
)

// Local is the in-process view of one scope's streams (an account in a
// region), for the Connect runtime inside `tributary serve` and the CDC
// daemons. It goes straight to the engine (routing, group commit, the
// resharding locks) and keeps the records' attributes, which the Kinesis
// API has no place for. It does not apply the Kinesis API's per-shard
// throughput limits: the runtime is the server's own client.
type Local struct {
	e               *Engine
	account, region string
}

// NewLocal returns the in-process view of account's streams in region.
func NewLocal(e *Engine, account, region string) *Local {
	return &Local{e: e, account: account, region: region}
}

var (
	_ Streams     = (*Local)(nil)
	_ TailScanner = (*Local)(nil)
)

func (l *Local) ref(name string) Ref { return Ref{l.account, l.region, name} }

// localError marks the failures worth retrying (a stream busy with a
// change, a quota, a store failure) and makes a missing shard a missing
// stream, which is what readers act on.
func localError(op, stream string, err error) error {
	switch {
	case errors.Is(err, ErrShardNotFound) && !errors.Is(err, ErrStreamNotFound):
		return fmt.Errorf("%s %s: %w: %w", op, stream, ErrStreamNotFound, err)
	case errors.Is(err, ErrStreamNotFound), errors.Is(err, ErrInvalidArgument), errors.Is(err, ErrStreamExists):
		return fmt.Errorf("%s %s: %w", op, stream, err)
	}
	return &RetriableError{Err: fmt.Errorf("%s %s: %w", op, stream, err)}
}

// EnsureStream creates the stream if it is missing and waits until it is
// active.
func (l *Local) EnsureStream(ctx context.Context, name string, shards int) error {
	err := l.e.Create(ctx, CreateSpec{Ref: l.ref(name), Shards: shards, Mode: ModeProvisioned})
	if err != nil && !errors.Is(err, ErrStreamExists) {
		return localError("create stream", name, err)
	}
	for {
		s, err := l.e.Lookup(l.ref(name))
		if err != nil {
			return localError("create stream", name, err)
		}
		switch s.Meta.EffectiveStatus(time.Now()) {
		case StatusActive, StatusUpdating:
			return nil
		case StatusDeleting:
			return fmt.Errorf("create stream %s: the stream is being deleted", name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ListStreams returns the names of the streams that are not being
// deleted.
func (l *Local) ListStreams(ctx context.Context) ([]string, error) {
	var out []string
	// Streams made or removed through other nodes included.
	if err := l.e.Sync(ctx); err != nil {
		return nil, localError("list streams", "", err)
	}
	now := time.Now()
	for _, m := range l.e.List(l.account, l.region) {
		if m.EffectiveStatus(now) != StatusDeleting {
			out = append(out, m.Name)
		}
	}
	return out, ctx.Err()
}

// Put stores records, routed by partition key. It is all or nothing from
// the caller's view: it returns an error if any record was not stored,
// and the caller retries the whole batch. The records for one shard are
// stored atomically.
func (l *Local) Put(ctx context.Context, stream string, recs []StreamRecord) error {
	if len(recs) == 0 {
		return nil
	}
	if len(recs) > MaxPut {
		return fmt.Errorf("put to %s: %d records: at most %d per Put", stream, len(recs), MaxPut)
	}
	batch := make([]Record, len(recs))
	for i, r := range recs {
		if err := checkLocalKey(r.PartitionKey); err != nil {
			return fmt.Errorf("put to %s: record %d: %w", stream, i, err)
		}
		batch[i] = Record{r.PartitionKey, r.Data, r.Attrs}
	}
	results, err := l.e.Put(ctx, l.ref(stream), batch)
	if err != nil {
		return localError("put to", stream, err)
	}
	for _, res := range results {
		if res.Err != nil {
			return localError("put to", stream, res.Err)
		}
	}
	return nil
}

// checkLocalKey applies the API's partition key rule (1 to 256
// characters).
func checkLocalKey(pk string) error {
	n := utf8.RuneCountInString(pk)
	if n < 1 || n > 256 {
		return fmt.Errorf("partition key of %d characters: must have 1 to 256: %w", n, ErrInvalidArgument)
	}
	return nil
}

// Shards lists the stream's shards with their parents.
func (l *Local) Shards(ctx context.Context, stream string) ([]Shard, error) {
	s, err := l.e.Lookup(l.ref(stream))
	if err != nil {
		return nil, localError("list shards of", stream, err)
	}
	out := make([]Shard, 0, len(s.Meta.Shards))
	for _, sm := range s.Meta.Shards {
		sh := Shard{ID: shard.ID(sm.Index), Closed: sm.EndingSeq != ""}
		for _, p := range []string{sm.Parent, sm.AdjacentParent} {
			if p != "" {
				sh.Parents = append(sh.Parents, p)
			}
		}
		out = append(out, sh)
	}
	return out, ctx.Err()
}

// Read returns up to max records of a shard after sequence number
// `after` ("" for the oldest). With nothing to return it waits up to a
// second for the next append.
func (l *Local) Read(ctx context.Context, stream, shardID, after string, max int) (ReadResult, error) {
	var deadline <-chan time.Time
	for {
		s, p, err := l.position(ctx, stream, shardID, after)
		if err != nil {
			return ReadResult{}, localError("read", stream, err)
		}
		// Take the wake-up channel before reading, so an append between
		// the read and the wait is not missed.
		woken := l.e.Woken(s.Meta, p.Shard)
		out, _, err := l.e.Read(ctx, s, p, max)
		if err != nil {
			return ReadResult{}, localError("read", stream, err)
		}
		if len(out.Records) > 0 || out.End {
			return readResult(out), nil
		}
		if deadline == nil {
			deadline = time.After(time.Second)
		}
		select {
		case <-woken:
		case <-deadline:
			return ReadResult{}, nil
		case <-ctx.Done():
			return ReadResult{}, ctx.Err()
		}
	}
}

// position finds the stream and where a Read after `after` starts.
func (l *Local) position(ctx context.Context, stream, shardID, after string) (*Stream, Position, error) {
	s, err := l.e.Lookup(l.ref(stream))
	if err != nil {
		return nil, Position{}, err
	}
	idx, err := ShardIndex(s.Meta, shardID)
	if err != nil {
		return nil, Position{}, err
	}
	if s.Meta.EffectiveStatus(time.Now()) == StatusCreating {
		return nil, Position{}, &ShardError{Shard: shardID, Err: ErrShardNotFound}
	}
	kind := StartOldest
	if after != "" {
		kind = StartAfterSequence
	}
	p, err := l.e.Start(ctx, s.Meta, idx, kind, after, time.Time{})
	return s, p, err
}

func readResult(b Batch) ReadResult {
	res := ReadResult{End: b.End, Records: make([]StreamRecord, len(b.Records))}
	for i, r := range b.Records {
		res.Records[i] = StreamRecord{PartitionKey: r.PartitionKey, Data: r.Data, Attrs: r.Attrs,
			SequenceNumber: r.Seq, Arrival: r.Arrival}
	}
	return res
}

// ScanBack calls fn with the attributes of the stream's records, newest
// first in each shard, moving to the next shard when fn returns false or
// the records arrived before since. Source tasks use it to find the
// offsets they stored with their last records before a crash.
func (l *Local) ScanBack(ctx context.Context, stream string, since time.Time, fn func(attrs []byte) bool) error {
	s, err := l.e.Lookup(l.ref(stream))
	if err != nil {
		return localError("scan", stream, err)
	}
	for _, sm := range s.Meta.Shards {
		if err := l.scanShard(ctx, s.Meta.LogName(sm.Index), since, fn); err != nil {
			return fmt.Errorf("scan %s shard %d: %w", stream, sm.Index, err)
		}
	}
	return nil
}

// scanShard scans one shard's log backwards in windows of messages.
func (l *Local) scanShard(ctx context.Context, log string, since time.Time, fn func([]byte) bool) error {
	const window = 64
	st, err := l.e.st.State(ctx, log)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for hi := st.LastSeq; hi >= st.FirstSeq && hi > 0; {
		lo := max(st.FirstSeq, hi-min(hi, window-1))
		// A read stops at its byte budget, so read the window forward
		// until its newest message is in.
		var msgs []storage.Message
		for from := lo; from <= hi; {
			res, err := l.e.st.Read(ctx, log, from, int(hi-from+1), fetchBytes)
			if err != nil {
				return err
			}
			if len(res.Messages) == 0 {
				break
			}
			msgs = append(msgs, res.Messages...)
			from = res.Messages[len(res.Messages)-1].Seq + 1
		}
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].Seq > hi {
				continue
			}
			plain, _, err := l.e.keys.open(msgs[i].Data)
			if err != nil {
				return err
			}
			arrival, err := batchArrival(plain)
			if err != nil {
				return err
			}
			if arrival.Before(since) {
				return nil
			}
			var all [][]byte
			if _, err := decodeBatch(plain, 0, func(_ int, _ string, _, attrs []byte) bool {
				if attrs != nil {
					all = append(all, attrs)
				}
				return true
			}); err != nil {
				return err
			}
			for j := len(all) - 1; j >= 0; j-- {
				if !fn(all[j]) {
					return nil
				}
			}
		}
		if lo == st.FirstSeq || lo <= 1 {
			break
		}
		hi = lo - 1
	}
	return nil
}
