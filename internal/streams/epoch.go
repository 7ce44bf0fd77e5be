package streams

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/storage"
)

// Sequence-number epochs. A record's sequence number encodes its log
// message's sequence, and JetStream numbers a log's messages itself: when
// a log's index file is lost and its last block is damaged, JetStream
// rebuilds the log, forgets the messages at its end, and issues their
// sequences again. It cannot move an existing log's numbering forward
// without dropping its messages. So the sequence number's most
// significant field, the shard's creation time on AWS, is made an epoch:
// a shard starts a new epoch, numbered above every earlier one, whenever
// the previous run may have lost the end of its log, and every record
// from the epoch's first message on is numbered in it. Whatever the
// message sequences do, a number issued after the fault is greater than
// every number issued before it.

// epoch is a period of a shard's numbering after its first one (the
// shard's creation, implicit): records from message sequence From on are
// numbered with Created in the sequence number's top field.
type epoch struct {
	From    uint64 `json:"from"`
	Created int64  `json:"created"` // Unix seconds
}

// epochs are the shard's epochs, oldest first, the implicit first one
// included.
func (sh *ShardMeta) epochs() []epoch {
	return append([]epoch{{From: 0, Created: sh.Created.Unix()}}, sh.Epochs...)
}

// epochFor is the epoch that numbers message sequence q: the last whose
// From is at or below it.
func (sh *ShardMeta) epochFor(q uint64) epoch {
	e := epoch{From: 0, Created: sh.Created.Unix()}
	for _, x := range sh.Epochs {
		if x.From <= q {
			e = x
		}
	}
	return e
}

// seqNumber is the sequence number of record i of message q of the
// shard, which arrived at t (Unix seconds). Every sequence number the
// service issues is made here.
func (sh *ShardMeta) seqNumber(q uint64, i int, t int64) string {
	return shard.Sequence{ShardCreated: sh.epochFor(q).Created, ShardIndex: sh.Index,
		Index: seqIndex(q, i), RecordTime: t}.String()
}

// seqNumberBefore is the sequence number just before position (q, i),
// where a reader that resumes after it starts. Position (q, maxBatch),
// past every record of message q, is (q+1, 0): seqIndex has no room for
// an index that large.
func (sh *ShardMeta) seqNumberBefore(q uint64, i int, t int64) string {
	if i >= maxBatch {
		q, i = q+1, 0
	}
	pq, pi := splitSeqIndex(seqIndex(q, i) - 1)
	return sh.seqNumber(pq, pi, t)
}

// endingNumber is the EndingSequenceNumber of the shard closed with
// lastSeq its last message: at or above every number it ever issued,
// those of records an earlier run lost included, so it is in the newest
// epoch.
func (sh *ShardMeta) endingNumber(lastSeq uint64, t int64) string {
	es := sh.epochs()
	return sh.seqNumber(max(lastSeq, es[len(es)-1].From), maxBatch-1, t)
}

// position is where a reader given sequence number sq starts: the
// message sequence and record index of the record it names, or of the
// one after it with after set. ok is false for a number none of the
// shard's epochs issued. A number of an epoch whose message sequence is
// at or past the next epoch's From named a record lost with the end of
// the log (that epoch's numbering stopped there), so the reader starts
// at the next epoch's first record; one below its own epoch's From (an
// ending number) starts at that epoch's first record.
func (sh *ShardMeta) position(sq shard.Sequence, after bool) (q uint64, i int, ok bool) {
	es := sh.epochs()
	if sq.ShardCreated < es[0].Created || sq.ShardCreated > es[len(es)-1].Created {
		return 0, 0, false
	}
	k := 0
	for j, e := range es {
		if e.Created <= sq.ShardCreated {
			k = j
		}
	}
	q, i = splitSeqIndex(sq.Index)
	switch {
	case k+1 < len(es) && q >= es[k+1].From:
		return es[k+1].From, 0, true
	case q < es[k].From:
		return es[k].From, 0, true
	}
	if after && q > 0 {
		i++
	}
	return q, i, true
}

// resumeAt is where a shard iterator made by an earlier run, at made,
// reads on from its position, record i of message q. An epoch started
// since then began where that run's log may have lost its end, and its
// records took the lost ones' message sequences: a position past its
// first record would skip them, so the iterator goes back to it. Epochs
// are dated to the second, and one dated the iterator's second counts as
// later: at worst records are read again, never skipped.
func (sh *ShardMeta) resumeAt(q uint64, i uint16, made time.Time) (uint64, uint16) {
	for _, e := range sh.Epochs {
		if e.Created >= made.Unix() && (q > e.From || q == e.From && i > 0) {
			return e.From, 0
		}
	}
	return q, i
}

// pruneEpochs drops the epochs that no longer matter: those whose
// records have all expired from the log (the next epoch starts at or
// before firstSeq) and those with no record left (a later one starts at
// or below where they did: none if it starts where they did, and a later
// fault can take the log back further still). The epochs kept start at
// rising message sequences, as epochFor and position need. Numbers the
// dropped ones issued still resolve, to the same positions: see
// position. The newest is always kept.
func pruneEpochs(es []epoch, firstSeq uint64) []epoch {
	var out []epoch // newest first
	for _, e := range slices.Backward(es) {
		if n := len(out); n > 0 && (out[n-1].From <= firstSeq || out[n-1].From <= e.From) {
			continue
		}
		out = append(out, e)
	}
	slices.Reverse(out)
	return out
}

// startEpochs runs at start-up, after checkLogs: an open shard whose log
// may have lost its end since the previous run (the run did not stop
// cleanly, or JetStream rebuilt the log without its index) starts a new
// epoch at the log's next message, and expired epochs are dropped. The
// stream's metadata is written once, if anything changed.
//
// states holds the logs' states as checkLogs read them, by log name (a
// stripe's under layout B, by the name of its first shard's log); a log
// not in it is read now.
func (e *Engine) startEpochs(ctx context.Context, m *Meta, states map[string]storage.LogState) error {
	now := time.Now().Unix()
	changed := map[int][]epoch{}
	var firsts []string
	if m.Shared() {
		firsts, _ = m.stripeLogs()
	}
	for _, sh := range m.Shards {
		name := m.LogName(sh.Index)
		key := name
		if m.Shared() {
			key = firsts[sh.Index/m.StripeShards]
		}
		st, ok := states[key]
		if !ok {
			var err error
			if st, err = e.st.State(ctx, name); err != nil {
				return fmt.Errorf("stream %s shard %s: %w", m.Name, shard.ID(sh.Index), err)
			}
			states[key] = st
		}
		rebuilt := e.st.IndexRebuilt(name)
		if rebuilt && sh.EndingSeq == "" {
			e.log.Warn("shard log rebuilt without its index: records at its end may have been lost unseen; new records are numbered in a new epoch, above every sequence number issued before",
				"stream", m.Name, "account", m.Account, "region", m.Region, "shard", shard.ID(sh.Index),
				"log", name, "first_message", st.LastSeq+1)
		}
		// A replica rebuilt here is caught up by the cluster's others.
		lost := !e.cleanStart || (rebuilt && !e.cfg.LogsOutliveCrash)
		if es := sh.nextEpochs(st, lost, now); !slices.Equal(es, sh.Epochs) {
			changed[sh.Index] = es
		}
	}
	if len(changed) == 0 {
		return nil
	}
	uid := m.UID
	_, err := e.cat.update(ctx, streamKey(m.Account, m.Region, m.Name), func(m *Meta) error {
		if m.UID != uid {
			return ErrNoChange // deleted and made again meanwhile
		}
		for i, es := range changed {
			m.Shards[i].Epochs = es
		}
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil // deleted meanwhile, by another node
	}
	if err != nil {
		return fmt.Errorf("stream %s: start sequence-number epochs: %w", m.Name, err)
	}
	return nil
}

// nextEpochs are the shard's stored epochs for this run, given its log's
// state: with a new one from the log's next message if the log may have
// lost its end (and the shard is open, so takes records), the expired
// ones dropped.
func (sh *ShardMeta) nextEpochs(st storage.LogState, mayHaveLostEnd bool, now int64) []epoch {
	es := slices.Clone(sh.Epochs)
	if mayHaveLostEnd && sh.EndingSeq == "" {
		all := sh.epochs()
		es = append(es, epoch{From: st.LastSeq + 1, Created: max(now, all[len(all)-1].Created+1)})
	}
	return pruneEpochs(es, st.FirstSeq)
}

// cleanKey marks, in the metadata bucket, that the last run stopped
// cleanly: JetStream wrote every log's index, and no log lost its end.
// Only a process whose crash can cut the logs' end off (alone, not
// LogsOutliveCrash) reads and writes it.
const cleanKey = "server.clean-shutdown"

// consumeClean reports whether the previous run stopped cleanly, and
// removes the mark first, so that this run counts as a crash until it
// too stops cleanly. With remote logs there is nothing a crash of this
// process can lose.
func (e *Engine) consumeClean(ctx context.Context) (bool, error) {
	if e.cfg.LogsOutliveCrash {
		return true, nil
	}
	key := cleanKey
	m, err := e.st.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the clean-shutdown mark %s: %w", key, err)
	}
	if err := e.st.Delete(ctx, key, m.Revision); err != nil {
		return false, fmt.Errorf("remove the clean-shutdown mark %s: %w", key, err)
	}
	return true, nil
}

// markClean records a clean stop, once background work has stopped; a
// service that did not finish starting marks nothing.
func (e *Engine) markClean() {
	if !e.started.Load() || e.cfg.LogsOutliveCrash {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.st.Create(ctx, cleanKey, []byte(time.Now().UTC().Format(time.RFC3339Nano))); err != nil && !errors.Is(err, storage.ErrExists) {
		e.log.Warn("could not record the clean stop: the next start numbers new records in a new epoch", "err", err)
	}
}
