package streams

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/storage"
)

// Storage damage. JetStream checksums every stored message (a highway hash
// over its sequence, time, subject, headers and data) and verifies it on
// read, but it drops a message that fails quietly: reads skip it, and
// recovery at start-up drops the rest of a block cut short. A shard's log
// only ever loses messages from its front, by age, so a gap inside it is
// damage; Tributary reports each one at ERROR, with the shard and the
// range lost, and counts it in tributary_kinesis_lost_messages_total.

// seqFloor is the first message sequence of a log re-created in place of
// a lost one. A log's sequences count its messages, and no shard stores a
// message per microsecond on average, so every log's last sequence stays
// below the Unix time in microseconds; starting there, the new log never
// issues a sequence number the lost one may have acknowledged. This is
// the shards' high-water mark, kept by the clock rather than by a write on
// every put. It fits the 54 bits a message sequence has until 2540.
func seqFloor(now time.Time) uint64 { return uint64(now.UnixMicro()) }

// checkLogs makes sure every shard of a stream has its log, at start-up.
// Logs are created before the metadata that names them, so a missing log
// was lost (its directory deleted): it is re-created empty, numbered from
// seqFloor, and reported. Messages JetStream dropped as damaged while
// recovering a log are reported too, and so are those missing from a
// log's end (checkTail); then the shards start new epochs where needed
// (startEpochs).
func (e *Engine) checkLogs(ctx context.Context, m *Meta) error {
	if m.Shared() {
		return e.checkStripes(ctx, m)
	}
	states := map[string]storage.LogState{}
	for _, sh := range m.Shards {
		name := m.LogName(sh.Index)
		st, err := e.st.State(ctx, name)
		if errors.Is(err, storage.ErrNotFound) && e.goneElsewhere(ctx, m) {
			return nil
		}
		if errors.Is(err, storage.ErrNotFound) {
			first := seqFloor(time.Now())
			if err := e.st.RecreateLog(ctx, name, e.Retention(m.RetentionHours), first); err != nil {
				return fmt.Errorf("stream %s shard %s: %w", m.Name, shard.ID(sh.Index), err)
			}
			e.obs.LogRecreated(m, sh.Index)
			e.log.Error("shard log missing: re-created empty; every record it held is lost, and new records get higher sequence numbers than any it issued (restore the data directory from a backup to recover them)",
				"stream", m.Name, "account", m.Account, "region", m.Region, "shard", shard.ID(sh.Index),
				"log", name, "first_message", first)
			continue
		}
		if err != nil {
			return fmt.Errorf("stream %s shard %s: %w", m.Name, shard.ID(sh.Index), err)
		}
		for _, r := range seqRanges(st.Lost) {
			e.reportLost(m, sh.Index, r[0], r[1], "dropped by the store while recovering the log at start-up")
		}
		e.checkTail(ctx, m, sh.Index, st)
		states[name] = st
	}
	return e.startEpochs(ctx, m, states)
}

// goneElsewhere reports, where other processes write, whether the
// stream of m has been deleted, replaced or made DELETING since this
// start-up's copy of the metadata: its logs missing is then another
// node's deletion, not damage to repair.
func (e *Engine) goneElsewhere(ctx context.Context, m *Meta) bool {
	if !e.st.ManyWriters() {
		return false
	}
	f, ok, err := e.cat.fetch(ctx, streamKey(m.Account, m.Region, m.Name))
	return err == nil && (!ok || f.Meta.UID != m.UID || f.Meta.Status == StatusDeleting)
}

// checkStripes is checkLogs for a stream of layout B, a stripe at a time:
// a missing stripe is re-created (numbered from seqFloor, as a lost log),
// messages the store dropped are reported for the stripe (which shard
// they belonged to went with them), and the open shards' logs are opened
// again where a fence that did not take effect (a reshard a crash
// interrupted before its metadata write) left them closed. A stripe's
// messages are sparse per shard, so checkTail's test of a log's last
// message does not apply; a stripe rebuilt without its index starts new
// epochs for its open shards, as a log does.
func (e *Engine) checkStripes(ctx context.Context, m *Meta) error {
	firsts, open := m.stripeLogs()
	states := map[string]storage.LogState{}
	for _, name := range firsts {
		st, err := e.st.State(ctx, name)
		if errors.Is(err, storage.ErrNotFound) && e.goneElsewhere(ctx, m) {
			return nil
		}
		if errors.Is(err, storage.ErrNotFound) {
			first := seqFloor(time.Now())
			if err := e.st.RecreateLog(ctx, name, e.Retention(m.RetentionHours), first); err != nil {
				return fmt.Errorf("stream %s log %s: %w", m.Name, name, err)
			}
			for _, sh := range m.Shards {
				if logStripe(m.LogName(sh.Index)) == logStripe(name) {
					e.obs.LogRecreated(m, sh.Index)
				}
			}
			e.log.Error("stripe of shard logs missing: re-created empty; every record it held is lost, and new records get higher sequence numbers than any it issued (restore the data directory from a backup to recover them)",
				"stream", m.Name, "account", m.Account, "region", m.Region, "log", name, "first_message", first)
			continue
		}
		if err != nil {
			return fmt.Errorf("stream %s log %s: %w", m.Name, name, err)
		}
		for _, r := range seqRanges(st.Lost) {
			e.log.Error("records lost to storage damage: dropped by the store while recovering a stripe of shard logs at start-up",
				"stream", m.Name, "account", m.Account, "region", m.Region, "log", name, "first_message", r[0], "last_message", r[1])
		}
		states[name] = st
	}
	// Where other processes write, a fence whose reshard has not taken
	// effect belongs to a reshard still pending, which a node completes
	// (reshard.go); opening the logs by this start-up's copy of the
	// metadata could undo a fence another node has just set.
	if !e.st.ManyWriters() {
		if err := e.st.OpenLogs(ctx, open); err != nil {
			return fmt.Errorf("stream %s: %w", m.Name, err)
		}
	}
	return e.startEpochs(ctx, m, states)
}

// seqRanges groups sorted sequences into inclusive runs.
func seqRanges(seqs []uint64) [][2]uint64 {
	var out [][2]uint64
	for _, q := range seqs {
		if n := len(out); n > 0 && out[n-1][1]+1 == q {
			out[n-1][1] = q
			continue
		}
		out = append(out, [2]uint64{q, q})
	}
	return out
}

// damageLog reports each damaged range of a log once per process, however
// many readers run into it.
type damageLog struct {
	mu   sync.Mutex
	seen map[damageKey]bool
}

type damageKey struct {
	log    string
	lo, hi uint64
}

// maxDamageSeen bounds the ranges remembered; past it the memory starts
// afresh, and a range may be reported again.
const maxDamageSeen = 10000

// first reports whether the range k is seen for the first time.
func (d *damageLog) first(k damageKey) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen[k] {
		return false
	}
	if d.seen == nil || len(d.seen) >= maxDamageSeen {
		d.seen = map[damageKey]bool{}
	}
	d.seen[k] = true
	return true
}

// reportLost logs and counts messages lo..hi of a shard's log as lost,
// once per range.
func (e *Engine) reportLost(m *Meta, idx int, lo, hi uint64, how string) {
	if !e.damage.first(damageKey{m.LogName(idx), lo, hi}) {
		return
	}
	e.obs.MessagesLost(m, idx, hi-lo+1)
	// Sequence numbers order by their index first, so every lost record's
	// number lies in [from, before) whatever its arrival time.
	from, before := m.Shards[idx].seqNumber(lo, 0, 0), m.Shards[idx].seqNumber(hi+1, 0, 0)
	e.log.Error("records lost to storage damage: "+how,
		"stream", m.Name, "account", m.Account, "region", m.Region, "shard", shard.ID(idx),
		"log", m.LogName(idx), "first_message", lo, "last_message", hi,
		"from_sequence_number", from, "before_sequence_number", before)
}

// checkGap reports the messages a read skipped: want is the sequence the
// read expected next, got the one it found. Between two messages of one
// fetch a gap is damage; before a fetch's first message it may be expiry,
// so there (atStart) the log's first sequence decides.
func (e *Engine) checkGap(ctx context.Context, m *Meta, idx int, want, got uint64, atStart bool) {
	if got <= want || m.Shared() {
		return // under layout B gaps are the stripe's other shards
	}
	if atStart {
		st, err := e.st.State(ctx, m.LogName(idx))
		if err != nil {
			return // the read itself goes on; the next one checks again
		}
		want = max(want, st.FirstSeq)
		if got <= want {
			return
		}
	}
	e.reportLost(m, idx, want, got-1, "missing from the log when read (damaged on disk)")
}
