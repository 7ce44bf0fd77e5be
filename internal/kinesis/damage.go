package kinesis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/store"
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
func (s *Service) checkLogs(ctx context.Context, m *streamMeta) error {
	for _, sh := range m.Shards {
		name := m.logName(sh.Index)
		st, err := s.st.State(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			first := seqFloor(time.Now())
			if err := s.st.RecreateLog(ctx, name, s.retention(m.RetentionHours), first); err != nil {
				return fmt.Errorf("stream %s shard %s: %w", m.Name, shard.ID(sh.Index), err)
			}
			s.metrics.lostLogs.WithLabelValues(shardLabels(m, sh.Index)...).Inc()
			s.log.Error("shard log missing: re-created empty; every record it held is lost, and new records get higher sequence numbers than any it issued (restore the data directory from a backup to recover them)",
				"stream", m.Name, "account", m.Account, "region", m.Region, "shard", shard.ID(sh.Index),
				"log", name, "first_message", first)
			continue
		}
		if err != nil {
			return fmt.Errorf("stream %s shard %s: %w", m.Name, shard.ID(sh.Index), err)
		}
		for _, r := range seqRanges(st.Lost) {
			s.reportLost(m, sh.Index, r[0], r[1], "dropped by the store while recovering the log at start-up")
		}
		s.checkTail(ctx, m, sh.Index, st)
	}
	return s.startEpochs(ctx, m)
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
func (s *Service) reportLost(m *streamMeta, idx int, lo, hi uint64, how string) {
	if !s.damage.first(damageKey{m.logName(idx), lo, hi}) {
		return
	}
	s.metrics.lostMessages.WithLabelValues(shardLabels(m, idx)...).Add(float64(hi - lo + 1))
	// Sequence numbers order by their index first, so every lost record's
	// number lies in [from, before) whatever its arrival time.
	from, before := m.Shards[idx].seqNumber(lo, 0, 0), m.Shards[idx].seqNumber(hi+1, 0, 0)
	s.log.Error("records lost to storage damage: "+how,
		"stream", m.Name, "account", m.Account, "region", m.Region, "shard", shard.ID(idx),
		"log", m.logName(idx), "first_message", lo, "last_message", hi,
		"from_sequence_number", from, "before_sequence_number", before)
}

// checkGap reports the messages a read skipped: want is the sequence the
// read expected next, got the one it found. Between two messages of one
// fetch a gap is damage; before a fetch's first message it may be expiry,
// so there (atStart) the log's first sequence decides.
func (s *Service) checkGap(ctx context.Context, m *streamMeta, idx int, want, got uint64, atStart bool) {
	if got <= want {
		return
	}
	if atStart {
		st, err := s.st.State(ctx, m.logName(idx))
		if err != nil {
			return // the read itself goes on; the next one checks again
		}
		want = max(want, st.FirstSeq)
		if got <= want {
			return
		}
	}
	s.reportLost(m, idx, want, got-1, "missing from the log when read (damaged on disk)")
}
