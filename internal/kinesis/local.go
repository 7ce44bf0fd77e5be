package kinesis

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/store"
)

// Local is the in-process view of one account's streams in one region,
// for the Connect runtime inside `tributary serve`. It goes through the
// same code as the Kinesis API (validation, routing, group commit, the
// resharding locks) without HTTP, and it keeps the records' Connect
// attributes, which the API has no place for. It does not apply the
// per-shard throughput limits: the runtime is the server's own client.
type Local struct {
	s *Service
	c caller
}

// Local returns the in-process view of account's streams in region;
// empty strings mean the server's defaults.
func (s *Service) Local(account, region string) *Local {
	if account == "" {
		account = s.cfg.DefaultAccount
	}
	if region == "" {
		region = s.cfg.DefaultRegion
	}
	return &Local{s: s, c: caller{account: account, region: region}}
}

var _ connect.Streams = (*Local)(nil)

// localError turns an API error into a Go error, keeping AWS's name and
// marking the failures worth retrying.
func localError(op, stream string, e *Error) error {
	err := fmt.Errorf("%s %s: %s: %s", op, stream, e.Type, e.Message)
	switch e.Type {
	case "ResourceNotFoundException":
		return fmt.Errorf("%s %s: %w: %s", op, stream, connect.ErrStreamNotFound, e.Message)
	case "InternalFailure", "ResourceInUseException", "LimitExceededException", "ProvisionedThroughputExceededException":
		return &connect.RetriableError{Err: err}
	}
	return err
}

// EnsureStream creates the stream if it is missing and waits until it is
// active.
func (l *Local) EnsureStream(ctx context.Context, name string, shards int) error {
	n, sn := Int(shards), Str(name)
	_, aerr := l.s.createStream(ctx, l.c, &createStreamInput{StreamName: &sn, ShardCount: &n})
	if aerr != nil && aerr.Type != "ResourceInUseException" {
		return localError("create stream", name, aerr)
	}
	for {
		_, e, aerr := l.s.findStream(l.c, &sn, nil)
		if aerr != nil {
			return localError("create stream", name, aerr)
		}
		switch e.meta.effectiveStatus(time.Now()) {
		case statusActive, statusUpdating:
			return nil
		case statusDeleting:
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
	now := time.Now()
	for _, m := range l.s.cat.all(streamKey(l.c.account, l.c.region, "")) {
		if m.effectiveStatus(now) != statusDeleting {
			out = append(out, m.Name)
		}
	}
	return out, ctx.Err()
}

// MaxLocalPut is the most records one Local.Put takes, as PutRecords:
// the records of one Put for one shard are one log message, stored
// atomically, and a message's records must fit the sequence number's
// index bits.
const MaxLocalPut = 500

// Put stores records, routed by partition key. It is all or nothing from
// the caller's view: it returns an error if any record was not stored,
// and the caller retries the whole batch. The records for one shard are
// stored atomically.
func (l *Local) Put(ctx context.Context, stream string, recs []connect.StreamRecord) error {
	if len(recs) == 0 {
		return nil
	}
	if len(recs) > MaxLocalPut {
		return fmt.Errorf("put to %s: %d records: at most %d per Put", stream, len(recs), MaxLocalPut)
	}
	sn := Str(stream)
	_, e, release, aerr := l.s.writable(l.c, &sn, nil)
	if aerr != nil {
		return localError("put to", stream, aerr)
	}
	defer release()
	batch := make([]batchRecord, len(recs))
	shards := make([]int, len(recs))
	for i, r := range recs {
		if err := checkLocalKey(r.PartitionKey); err != nil {
			return fmt.Errorf("put to %s: record %d: %w", stream, i, err)
		}
		sh, aerr := l.s.place(e, "", r.PartitionKey, nil, r.Data)
		if aerr != nil {
			return localError("put to", stream, aerr)
		}
		batch[i] = batchRecord{r.PartitionKey, r.Data, r.Attrs}
		shards[i] = sh
	}
	for _, res := range l.s.put(ctx, e, batch, shards) {
		if res.err != nil {
			return localError("put to", stream, res.err)
		}
	}
	return nil
}

// checkLocalKey applies the API's partition key rule (1 to 256
// characters).
func checkLocalKey(pk string) error {
	n := utf8.RuneCountInString(pk)
	if n < 1 || n > 256 {
		return fmt.Errorf("partition key of %d characters: must have 1 to 256", n)
	}
	return nil
}

// Shards lists the stream's shards with their parents.
func (l *Local) Shards(ctx context.Context, stream string) ([]connect.Shard, error) {
	sn := Str(stream)
	_, e, aerr := l.s.findStream(l.c, &sn, nil)
	if aerr != nil {
		return nil, localError("list shards of", stream, aerr)
	}
	out := make([]connect.Shard, 0, len(e.meta.Shards))
	for _, sm := range e.meta.Shards {
		s := connect.Shard{ID: shard.ID(sm.Index), Closed: sm.EndingSeq != ""}
		for _, p := range []string{sm.Parent, sm.AdjacentParent} {
			if p != "" {
				s.Parents = append(s.Parents, p)
			}
		}
		out = append(out, s)
	}
	return out, ctx.Err()
}

// Read returns up to max records of a shard after sequence number
// `after` ("" for the oldest). With nothing to return it waits up to a
// second for the next append.
func (l *Local) Read(ctx context.Context, stream, shardID, after string, max int) (connect.ReadResult, error) {
	sn := Str(stream)
	ref, _, aerr := l.s.findStream(l.c, &sn, nil)
	if aerr != nil {
		return connect.ReadResult{}, localError("read", stream, aerr)
	}
	typ, seq := "TRIM_HORIZON", (*Str)(nil)
	if after != "" {
		typ, seq = "AFTER_SEQUENCE_NUMBER", (*Str)(&after)
	}
	var deadline <-chan time.Time
	for {
		e, it, aerr := l.s.startPosition(ctx, ref, shardID, typ, seq, nil)
		if aerr != nil {
			return connect.ReadResult{}, localError("read", stream, aerr)
		}
		// Take the wake-up channel before reading, so an append between
		// the read and the wait is not missed.
		woken := l.s.wakeOn(e.meta, it.ShardIndex)
		out, _, end, aerr := l.s.readShard(ctx, ref, e, it, max)
		if aerr != nil {
			return connect.ReadResult{}, localError("read", stream, aerr)
		}
		if len(out.records) > 0 || end {
			res := connect.ReadResult{End: end, Records: make([]connect.StreamRecord, len(out.records))}
			for i, r := range out.records {
				res.Records[i] = connect.StreamRecord{PartitionKey: r.pk, Data: r.data, Attrs: r.attrs,
					SequenceNumber: r.seq, Arrival: r.arrival}
			}
			return res, nil
		}
		if deadline == nil {
			deadline = time.After(time.Second)
		}
		select {
		case <-woken:
		case <-deadline:
			return connect.ReadResult{}, nil
		case <-ctx.Done():
			return connect.ReadResult{}, ctx.Err()
		}
	}
}

var _ connect.TailScanner = (*Local)(nil)

// ScanBack calls fn with the attributes of the stream's records, newest
// first in each shard, moving to the next shard when fn returns false or
// the records arrived before since. Source tasks use it to find the
// offsets they stored with their last records before a crash.
func (l *Local) ScanBack(ctx context.Context, stream string, since time.Time, fn func(attrs []byte) bool) error {
	sn := Str(stream)
	_, e, aerr := l.s.findStream(l.c, &sn, nil)
	if aerr != nil {
		return localError("scan", stream, aerr)
	}
	for _, sm := range e.meta.Shards {
		if err := l.scanShard(ctx, e.meta.logName(sm.Index), since, fn); err != nil {
			return fmt.Errorf("scan %s shard %d: %w", stream, sm.Index, err)
		}
	}
	return nil
}

// scanShard scans one shard's log backwards in windows of messages.
func (l *Local) scanShard(ctx context.Context, log string, since time.Time, fn func([]byte) bool) error {
	const window = 64
	st, err := l.s.st.State(ctx, log)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for hi := st.LastSeq; hi >= st.FirstSeq && hi > 0; {
		lo := max(st.FirstSeq, hi-min(hi, window-1))
		// A read stops at its byte budget, so read the window forward
		// until its newest message is in.
		var msgs []store.Message
		for from := lo; from <= hi; {
			res, err := l.s.st.Read(ctx, log, from, int(hi-from+1), fetchBytes)
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
			plain, _, err := l.s.keys.open(msgs[i].Data)
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
