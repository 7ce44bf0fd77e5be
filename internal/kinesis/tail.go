package kinesis

import (
	"context"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/store"
)

// checkTail reports, at start-up, messages missing from the end of a
// shard's log. A last block cut short or failing its checksum at the end
// loses its last messages while the log keeps its last sequence (from its
// index), and nothing after them is there for a reader to notice the
// gap: the log's last sequence must name a message it still holds.
// Expiry cannot explain a miss there, since it empties a log from its
// front, and a log holding any message still holds its newest one.
func (s *Service) checkTail(ctx context.Context, m *streamMeta, idx int, st store.LogState) {
	if st.Msgs == 0 || st.LastSeq == 0 {
		return // nothing held: expired (or never written), not told apart from damage
	}
	name := m.logName(idx)
	has, err := s.st.HasMessage(ctx, name, st.LastSeq)
	if err == nil && has {
		return
	}
	var last uint64
	if err == nil {
		last, err = s.st.LastMessage(ctx, name)
	}
	if err != nil {
		s.log.Warn("could not check the end of a shard's log for damage", "stream", m.Name, "shard", shard.ID(idx), "log", name, "err", err)
		return
	}
	lo := max(last+1, st.FirstSeq)
	if n := len(st.Lost); n > 0 && st.Lost[n-1] >= lo {
		lo = st.Lost[n-1] + 1 // the store reported those itself: checkLogs did
	}
	if lo <= st.LastSeq {
		s.reportLost(m, idx, lo, st.LastSeq, "missing from the end of the log at start-up (its last block damaged)")
	}
}
