package streams

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/storage"
)

// Reading records back, by position in a shard.

const (
	// MaxReadRecords and MaxReadBytes bound one read.
	MaxReadRecords = 10000
	MaxReadBytes   = 10 << 20
	// fetchBytes bounds one read from the store, and maxFetchMessages the
	// messages it asks for; a read makes several fetches when needed.
	fetchBytes       = 4 << 20
	maxFetchMessages = 1024
)

// Position is a place in a shard: before record Index of log message Seq
// or, when AtTime is set, the first record that arrived at or after it.
type Position struct {
	Shard  int
	Seq    uint64
	Index  uint16
	AtTime time.Time
}

// Where a read starts.
const (
	StartOldest        = iota // the oldest record kept (TRIM_HORIZON)
	StartLatest               // after the newest record (LATEST)
	StartAtSequence           // at a sequence number
	StartAfterSequence        // after a sequence number
	StartAtTime               // at the first record that arrived at or after a time
)

// ShardIndex resolves a shard id of the stream: ErrShardNotFound (a
// *ShardError naming the id as given) when it names none.
func ShardIndex(m *Meta, id string) (int, error) {
	idx, ok := shard.ParseID(id)
	if !ok || idx >= len(m.Shards) {
		return 0, &ShardError{Shard: id, Err: ErrShardNotFound}
	}
	return idx, nil
}

// Start returns the position a read of shard idx starts at: kind is one
// of the Start constants, seq the sequence number of StartAtSequence and
// StartAfterSequence, at the time of StartAtTime. A sequence number that
// this shard did not issue is a *SequenceError.
func (e *Engine) Start(ctx context.Context, m *Meta, idx, kind int, seq string, at time.Time) (Position, error) {
	p := Position{Shard: idx}
	switch kind {
	case StartAtSequence, StartAfterSequence:
		sq, err := ParseSequence(seq, false)
		if err != nil {
			return p, err
		}
		if sq.ShardIndex != idx {
			return p, &SequenceError{Seq: seq, Reason: SeqOtherShard, Shard: shard.ID(sq.ShardIndex)}
		}
		msgSeq, i, ok := m.Shards[idx].position(sq, kind == StartAfterSequence)
		if !ok {
			return p, &SequenceError{Seq: seq, Reason: SeqOtherStream}
		}
		p.Seq, p.Index = msgSeq, uint16(i)
	case StartLatest:
		st, err := e.st.State(ctx, m.LogName(idx))
		if err != nil {
			return p, e.storeErr(m, err)
		}
		p.Seq = st.LastSeq + 1
	case StartAtTime:
		p.AtTime = at
		if at.IsZero() || at.UnixMilli() == 0 {
			p.AtTime = time.UnixMilli(1)
		}
	}
	return p, nil
}

// Resume is where a position that a front end saved at made (in a shard
// iterator) reads on from. One saved by an earlier run may point past
// where an epoch started since began, whose records took the lost ones'
// message sequences: it goes back to the epoch's first record
// (ShardMeta.resumeAt).
func (e *Engine) Resume(m *Meta, p Position, made time.Time) Position {
	if made.Before(e.began) {
		p.Seq, p.Index = m.Shards[p.Shard].resumeAt(p.Seq, p.Index, made)
	}
	return p
}

// ParseSequence parses a sequence number. written says it comes with a
// put, where a number from the future is refused too.
func ParseSequence(str string, written bool) (shard.Sequence, error) {
	sq, err := shard.ParseSequence(str)
	if err != nil || (written && sq.RecordTime > time.Now().Unix()+1) {
		return sq, &SequenceError{Seq: str, Reason: SeqMalformed}
	}
	return sq, nil
}

// Continuation is the sequence number after which a read resumes at p:
// reading after it starts exactly at p.
func Continuation(m *Meta, p Position) string {
	sh := &m.Shards[p.Shard]
	if p.Seq == 0 { // not yet resolved: the shard's start
		return sh.StartingSequence()
	}
	return sh.seqNumberBefore(p.Seq, int(p.Index), time.Now().Unix())
}

// ReadRecord is a record read back.
type ReadRecord struct {
	Seq          string
	Arrival      time.Time
	PartitionKey string
	Data         []byte
	Attrs        []byte // nil for records stored without attributes
	Encrypted    bool   // stored sealed
}

// Child is a shard that took over from a closed one.
type Child struct {
	Shard      int
	Parents    []string
	Start, End string // decimal hash keys
}

// Batch is what one read returns.
type Batch struct {
	Records []ReadRecord
	// MillisBehind is how far the last record is from the shard's tip
	// (0 at the tip).
	MillisBehind int64
	// End says the shard is closed and read to its end; Children are then
	// the shards that follow it.
	End      bool
	Children []Child
}

// Bytes is the data size of the records, what read limits count.
func (b *Batch) Bytes() int {
	n := 0
	for _, r := range b.Records {
		n += len(r.Data)
	}
	return n
}

// Read reads up to limit records (and at most MaxReadBytes) of one shard
// from p. It returns them and the position after them.
func (e *Engine) Read(ctx context.Context, s *Stream, p Position, limit int) (Batch, Position, error) {
	if p.Shard < 0 || p.Shard >= len(s.Meta.Shards) {
		// A position made from another node's newer metadata.
		return Batch{}, p, fmt.Errorf("%s shard %d: %w", s.Meta.Name, p.Shard, ErrShardNotFound)
	}
	r := reader{e: e, ctx: ctx, m: s.Meta, it: p, next: p, limit: limit}
	r.next.AtTime = time.Time{}
	if err := r.run(); err != nil {
		return r.out, r.next, err
	}
	r.finish(time.Now())
	return r.out, r.next, nil
}

// reader is one Read in progress.
type reader struct {
	e           *Engine
	ctx         context.Context
	m           *Meta
	it, next    Position
	limit       int
	out         Batch
	bytes, msgs int
	atTip, full bool
	lastArrival time.Time
}

// run fetches in bounded chunks. How many log messages hold `limit`
// records is unknown until some are seen (a message holds one request's
// records for this shard), so the first fetch is small and later ones
// are sized from the records per message seen so far.
func (r *reader) run() error {
	logName := r.m.LogName(r.it.Shard)
	batch := min(r.limit, 64)
	for first := true; ; first = false {
		res, err := r.fetch(logName, first, batch)
		if err != nil {
			return err
		}
		for i, msg := range res.Messages {
			if err := r.take(msg, first && i == 0, i == 0); err != nil {
				return err
			}
			if r.full {
				return nil
			}
		}
		// Every message fetched was consumed whole.
		if len(res.Messages) == 0 || res.Pending == 0 {
			r.atTip = true
			return nil
		}
		if len(r.out.Records) == r.limit {
			return nil
		}
		perMsg := max(1, len(r.out.Records)/max(1, r.msgs))
		batch = min(maxFetchMessages, (r.limit-len(r.out.Records))/perMsg+1)
	}
}

// fetch reads the next messages of the log: from the time of an
// AT_TIMESTAMP position the first time, by sequence after that.
func (r *reader) fetch(logName string, first bool, batch int) (storage.ReadResult, error) {
	st := r.e.st
	if !first || r.it.AtTime.IsZero() {
		res, err := st.Read(r.ctx, logName, r.next.Seq, batch, fetchBytes)
		return res, r.e.storeErr(r.m, err)
	}
	res, err := st.ReadFromTime(r.ctx, logName, r.it.AtTime, batch, fetchBytes)
	if err != nil {
		return res, r.e.storeErr(r.m, err)
	}
	if len(res.Messages) == 0 {
		// Nothing at or after the timestamp yet: continue from the tip.
		state, err := st.State(r.ctx, logName)
		if err != nil {
			return res, r.e.storeErr(r.m, err)
		}
		r.next.Seq, r.next.Index = state.LastSeq+1, 0
	}
	return res, nil
}

// take adds a message's records to the batch, up to the limits.
func (r *reader) take(msg storage.Message, firstOfTime, firstOfFetch bool) error {
	r.msgs++
	idx := r.it.Shard
	if !(firstOfTime && !r.it.AtTime.IsZero()) {
		// Messages only leave a log from its front, by age: any other
		// gap is damage.
		r.e.checkGap(r.ctx, r.m, idx, max(r.next.Seq, 1), msg.Seq, firstOfFetch)
	}
	from := 0
	if msg.Seq == r.next.Seq {
		from = int(r.next.Index)
	}
	plain, encrypted, err := r.e.keys.open(msg.Data)
	if err != nil {
		return fmt.Errorf("shard %d message %d: %w", idx, msg.Seq, err)
	}
	arrival, err := batchArrival(plain)
	if err != nil {
		return fmt.Errorf("shard %d message %d: %w", idx, msg.Seq, err)
	}
	if arrival.Before(r.it.AtTime) {
		// JetStream stamps a message a moment after its arrival time;
		// AT_TIMESTAMP must not return records that arrived earlier.
		r.next.Seq, r.next.Index = msg.Seq+1, 0
		return nil
	}
	sh := &r.m.Shards[idx]
	_, err = decodeBatch(plain, from, func(i int, pk string, data, attrs []byte) bool {
		if len(r.out.Records) == r.limit || (len(r.out.Records) > 0 && r.bytes+len(data) > MaxReadBytes) {
			r.full = true
			r.next.Seq, r.next.Index = msg.Seq, uint16(i)
			return false
		}
		r.bytes += len(data)
		r.out.Records = append(r.out.Records, ReadRecord{
			Seq:     sh.seqNumber(msg.Seq, i, arrival.Unix()),
			Arrival: arrival, PartitionKey: pk, Data: data, Attrs: attrs, Encrypted: encrypted,
		})
		r.lastArrival = arrival
		return true
	})
	if err != nil {
		return fmt.Errorf("shard %d message %d: %w", idx, msg.Seq, err)
	}
	if !r.full {
		r.next.Seq, r.next.Index = msg.Seq+1, 0
	}
	return nil
}

// finish sets how far behind the tip the read ended and, at the end of
// a closed shard, the children that follow it.
func (r *reader) finish(now time.Time) {
	if !r.atTip && !r.lastArrival.IsZero() {
		r.out.MillisBehind = max(0, now.Sub(r.lastArrival).Milliseconds())
	}
	if r.atTip && r.m.Shards[r.it.Shard].EndingSeq != "" {
		// The end of a closed shard: nothing more will ever arrive; the
		// reader moves on to the children.
		r.out.End = true
		r.out.Children = Children(r.m, r.it.Shard)
	}
}

// Children lists the shards that took over from shard idx.
func Children(m *Meta, idx int) []Child {
	id := shard.ID(idx)
	out := []Child{}
	for _, sh := range m.Shards {
		if sh.Parent != id && sh.AdjacentParent != id {
			continue
		}
		parents := []string{sh.Parent}
		if sh.AdjacentParent != "" {
			parents = append(parents, sh.AdjacentParent)
		}
		out = append(out, Child{sh.Index, parents, sh.Start, sh.End})
	}
	return out
}

// storeErr words a store failure of a stream's log: a log that is gone
// is a stream deleted meanwhile.
func (e *Engine) storeErr(m *Meta, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%s: %w", m.Name, ErrStreamNotFound)
	}
	return fmt.Errorf("%s: %w", m.Name, err)
}
