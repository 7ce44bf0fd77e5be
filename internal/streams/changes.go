package streams

import (
	"sync"
	"time"
)

// takeoverGrace is how long after a deletion or a reshard is due the
// nodes that did not start it wait before finishing it themselves: the
// node that started it normally has by then, and otherwise (it died, or
// is slow) any other does.
const takeoverGrace = time.Second

// catalogChanged sets off what follows from a change to the catalog
// that another node made (this engine's own changes do it themselves,
// where they are made), so that every node acts on every change:
//   - a stream removed (or replaced by a new incarnation): front ends
//     forget it and its readers here wake to find it gone;
//   - a stream made DELETING: its readers wake, and its deletion is
//     finished here after takeoverGrace if its node has not (it died);
//   - a reshard accepted: likewise completed if its node has not;
//   - shards closed: their readers wake to see the end and the children.
func (e *Engine) catalogChanged(old, cur *Stream, local bool) {
	if local {
		return
	}
	fresh := old == nil || cur == nil || old.Meta.UID != cur.Meta.UID
	if old != nil && fresh {
		e.streamRemoved(old.Meta)
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
		e.scheduleDeleteAfter(m, takeoverGrace)
	}
	if m.Reshard != nil && m.Status != StatusDeleting && (fresh || old.Meta.Reshard == nil) {
		e.scheduleReshardAfter(m, takeoverGrace)
	}
	if !fresh {
		for i, sh := range old.Meta.Shards {
			if sh.EndingSeq == "" && i < len(m.Shards) && m.Shards[i].EndingSeq != "" {
				e.appended.fire(m.LogName(i))
			}
		}
	}
}

// removals remembers, for a while, the stream incarnations whose removal
// the observer heard of: this engine's own removal may reach it twice,
// through the call that made it and through the watch.
type removals struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// streamRemoved tells the observer of a removed stream incarnation once.
func (e *Engine) streamRemoved(m *Meta) {
	if e.removed.first(m.UID) {
		e.obs.StreamRemoved(m)
	}
}

// first records uid and reports whether it is new.
func (r *removals) first(uid string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for u, at := range r.seen {
		if now.Sub(at) > tombstoneAge {
			delete(r.seen, u)
		}
	}
	if _, ok := r.seen[uid]; ok {
		return false
	}
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	r.seen[uid] = now
	return true
}
