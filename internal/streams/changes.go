package streams

import (
	"time"

	"github.com/tributary-data/tributary/internal/storage"
)

// takeoverGrace is how long after a deletion or a reshard is due the
// nodes that did not start it wait before finishing it themselves: the
// node that started it normally has, and otherwise (it died, or is
// slow) any other does.
const takeoverGrace = time.Second

// catalogChanged sets off what follows from a change to the catalog,
// whichever node made it (local: this engine), so that every node
// acts on every change:
//   - a stream removed (or replaced by a new incarnation): front ends
//     forget it and its readers wake to find it gone;
//   - a stream made DELETING: its readers wake, and its deletion is
//     finished when due (here too, should its node have died);
//   - a reshard accepted: it is completed when due (likewise);
//   - shards closed: their readers wake to see the end and the children.
func (e *Engine) catalogChanged(old, cur *Stream, local bool) {
	grace := takeoverGrace
	if local {
		grace = 0
	}
	fresh := old == nil || cur == nil || old.Meta.UID != cur.Meta.UID
	if old != nil && fresh {
		e.obs.StreamRemoved(old.Meta)
		// Firing the signals drops them and wakes readers still
		// waiting, which then find the stream gone.
		for _, log := range old.Meta.LogNames() {
			e.appended.fire(log)
		}
	}
	if cur == nil {
		return
	}
	m := cur.Meta
	if m.Status == StatusDeleting && (fresh || old.Meta.Status != StatusDeleting) {
		for _, sh := range m.Shards {
			e.appended.fire(m.LogName(sh.Index))
		}
		// Without a delay, Delete finishes the deletion itself.
		if !local || e.cfg.DeleteDelay > 0 {
			e.scheduleDelete(m, grace)
		}
	}
	if m.Reshard != nil && m.Status != StatusDeleting && (fresh || old.Meta.Reshard == nil) {
		e.scheduleReshard(m, grace)
	}
	if !fresh {
		for i, sh := range old.Meta.Shards {
			if sh.EndingSeq == "" && i < len(m.Shards) && m.Shards[i].EndingSeq != "" {
				e.appended.fire(m.LogName(i))
			}
		}
	}
}

// shared reports whether the store may be shared with other nodes (a
// cluster, or NATS servers run by someone else).
func shared(st storage.Store) bool {
	s, ok := st.(interface{ Shared() bool })
	return ok && s.Shared()
}
