package streams

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/storage"
)

// Resharding: SplitShard, MergeShards and UpdateShardCount.
//
// As on AWS a reshard takes effect when the stream's update completes, not
// when it is asked for. The request checks and plans it, records the plan
// in the stream's metadata (Reshard) and makes the stream UPDATING. Until
// the update delay has passed, every reader and writer sees the old shard
// map: DescribeStream and ListShards list the old shards, puts route to
// the parents, which are still open, and the children do not exist yet
// (GetShardIterator on one is ResourceNotFoundException). Completion then
// closes the parents and opens the children in one metadata write, and
// the stream turns ACTIVE in that same write.
//
// The invariant readers depend on is that a closed shard never receives
// another record, so that reading it to its end and then its children
// delivers every record exactly once. Puts therefore route and append
// while holding their stream's lock for reading, and completion holds it
// for writing while it fixes the parents' ends and switches the routing.
//
// Crash safety: the metadata write is the only switch. Before it the plan
// is pending and the parents are open; after it the parents are closed
// with ends that cover every record appended to them, since no put can
// append while completion holds the lock. A restart finds a pending plan
// in the metadata and completes it (see New): child logs that a crash
// left behind are reused, and the parents' ends are read afresh, so
// records acknowledged before or after the crash all fall inside them.

// maxReshardRetry caps the wait between attempts to complete a reshard
// whose completion failed.
const maxReshardRetry = time.Minute

// PendingReshard is a reshard that was accepted and has not taken effect:
// while a stream has one it is UPDATING and keeps its old shard map.
type PendingReshard struct {
	// Close lists the shards that close, by index. Some may be among
	// Open: UpdateShardCount in steps opens shards that a later step
	// closes again.
	Close []int `json:"close"`
	// Open are the shards that open, indexed from len(Shards) on; their
	// creation time is set when they open.
	Open []ShardMeta `json:"open"`
}

// child is a new shard a reshard opens.
type child struct {
	rng            shard.Range
	parent, adjPar int // shard indexes; adjPar is -1 when there is none
}

// plannedEnd marks, in a plan's copy of the metadata, a shard the plan
// closes; the real ending sequence number is fixed at completion.
const plannedEnd = "planned"

// planStep closes parents and opens children in a plan's copy of the
// metadata, so that a later step of the same plan sees its result.
func planStep(m *Meta, parents []int, children []child) {
	for _, p := range parents {
		m.Shards[p].EndingSeq = plannedEnd
	}
	for _, c := range children {
		sm := ShardMeta{Index: len(m.Shards), Start: c.rng.Start.String(), End: c.rng.End.String(), Parent: shard.ID(c.parent)}
		if c.adjPar >= 0 {
			sm.AdjacentParent = shard.ID(c.adjPar)
		}
		m.Shards = append(m.Shards, sm)
	}
}

// diffReshard is the reshard that takes orig to planned.
func diffReshard(orig, planned *Meta) *PendingReshard {
	p := &PendingReshard{}
	n := len(orig.Shards)
	for i, sh := range planned.Shards {
		if sh.EndingSeq != "" && (i >= n || orig.Shards[i].EndingSeq == "") {
			p.Close = append(p.Close, i)
		}
	}
	for _, sh := range planned.Shards[n:] {
		sh.EndingSeq = ""
		p.Open = append(p.Open, sh)
	}
	return p
}

// Reshard plans a change of a stream's shard map and starts the update
// that applies it. plan changes a copy of the metadata with planStep and
// may refuse; also, when set, makes further changes in the same metadata
// write. With no update delay the reshard takes effect at once. A stream
// that is not ACTIVE is a *StatusError; one that would pass the scope's
// shard quota a *ShardLimitError.
func (e *Engine) reshard(ctx context.Context, ref Ref, plan func(m *Meta) error, also func(m *Meta)) error {
	mu := e.streamLock(ref.Key())
	mu.Lock()
	defer mu.Unlock()

	s, now, err := e.activeFresh(ctx, ref)
	if err != nil {
		return err
	}
	if !s.Meta.Shared() && e.st.ManyWriters() {
		// Only this process's lock would fence the parents (prepareReshard).
		return &LayoutError{Stream: ref.Name}
	}
	planned, err := s.Meta.Clone()
	if err != nil {
		return err
	}
	if err := plan(planned); err != nil {
		return err
	}
	p := diffReshard(s.Meta, planned)
	quota, err := e.reserveShards(ctx, ref, s.Meta.UID, len(planned.Shards), len(p.Open)-len(p.Close))
	if err != nil {
		return err
	}
	defer quota.Release()
	// Where other processes write, the plan is always recorded before
	// its completion fences the parents, even with no update delay: a
	// node that restarts meanwhile then leaves them closed (checkStripes).
	immediate := e.cfg.UpdateDelay <= 0 && !e.st.ManyWriters()
	var ends map[int]string
	if immediate {
		if ends, err = e.prepareReshard(ctx, s.Meta, p, now); err != nil {
			return err
		}
	}
	if err := quota.Check(); err != nil {
		return err
	}
	refused := false
	m, err := e.Update(ctx, ref, func(m *Meta) error {
		err := e.startReshard(m, len(s.Meta.Shards), p, ends, also, now)
		refused = err != nil
		return err
	})
	if err != nil {
		if refused && immediate {
			// Nothing was written, so the parents stay open.
			e.reopenParents(ctx, s.Meta, p)
			e.dropChildLogs(ctx, ref, s.Meta, p)
		}
		return err
	}
	if immediate {
		e.firePending(m, p)
	} else {
		e.scheduleReshard(m)
	}
	return nil
}

// dropChildLogs removes the logs that a refused immediate reshard made
// for its children, but those the stream's metadata names: a reshard
// on another node, planned from the same shard map, gave its children
// the same indexes, and may be the one that won.
func (e *Engine) dropChildLogs(ctx context.Context, ref Ref, m *Meta, p *PendingReshard) {
	named := map[string]bool{}
	if cur, ok, err := e.cat.fetch(ctx, ref.Key()); err != nil {
		return // unknown: leave them, as orphans
	} else if ok && cur.Meta.UID == m.UID {
		for _, log := range cur.Meta.LogNames() {
			named[log] = true
		}
	}
	for _, sh := range p.Open {
		if log := m.LogName(sh.Index); !named[log] {
			_ = e.st.DeleteLog(ctx, log)
		}
	}
}

// startReshard writes reshard p into a fresh copy of the metadata: at
// once, with ends, or as pending. first is the shard count p was planned
// against.
func (e *Engine) startReshard(m *Meta, first int, p *PendingReshard, ends map[int]string, also func(m *Meta), now time.Time) error {
	if len(m.Shards) != first || m.Reshard != nil {
		return fmt.Errorf("%s: resharded concurrently: %w", m.Name, ErrInUse)
	}
	// Delete and the other updates do not take the lock: one may have
	// come since the check before planning. Making a DELETING stream
	// UPDATING would bring it back until its deletion is due.
	if st := m.EffectiveStatus(now); st != StatusActive {
		return &StatusError{st}
	}
	if also != nil {
		also(m)
	}
	e.BeginUpdate(m, now)
	if ends != nil {
		applyReshard(m, p, ends, now)
	} else {
		m.Reshard = p
	}
	return nil
}

// prepareReshard does what must precede the metadata write that applies
// p, with the stream's lock held for writing: it creates the children's
// logs, so that no metadata ever points at a missing log, fences the
// closing shards' logs and fixes each one's ending sequence number from
// its log, which nothing can extend any more: no put of this process
// while the lock is held, and, under layout B, no put from anywhere once
// the store has closed the log (CloseLogs; a writer that finds it closed
// reads the metadata again, see put). Under layout A only the lock
// fences, which is enough on one node (docs/cluster.md). All of it is
// repeatable after a crash; a start-up opens again the logs of shards
// that are still open (checkStripes).
func (e *Engine) prepareReshard(ctx context.Context, m *Meta, p *PendingReshard, now time.Time) (map[int]string, error) {
	created := now.Truncate(time.Second)
	shards := slices.Clone(m.Shards)
	for _, sh := range p.Open {
		sh.Created = created
		shards = append(shards, sh)
		name := m.LogName(sh.Index)
		err := e.st.CreateLog(ctx, name, e.Retention(m.RetentionHours))
		if errors.Is(err, storage.ErrExists) {
			// Left by a completion a crash interrupted: nothing routes to
			// a log before the metadata names it, so it is empty.
			err = e.st.SetLogMaxAge(ctx, name, e.Retention(m.RetentionHours))
		}
		if err != nil {
			return nil, fmt.Errorf("reshard %s: %w", m.Name, err)
		}
	}
	var closing, keep []string
	for _, sh := range append(slices.Clone(m.Shards), p.Open...) {
		switch {
		case slices.Contains(p.Close, sh.Index):
			closing = append(closing, m.LogName(sh.Index))
		case sh.EndingSeq == "":
			keep = append(keep, m.LogName(sh.Index))
		}
	}
	if err := e.st.CloseLogs(ctx, closing, keep); err != nil {
		// Where other processes write, the reshard stays pending and
		// its completion is tried again; reopening could undo a fence
		// another node completing it has set.
		if !e.st.ManyWriters() {
			e.reopenParents(ctx, m, p)
		}
		return nil, fmt.Errorf("reshard %s: fence the closing shards: %w", m.Name, err)
	}
	ends := map[int]string{}
	for _, i := range p.Close {
		st, err := e.st.State(ctx, m.LogName(i))
		if err != nil {
			return nil, fmt.Errorf("reshard %s: %w", m.Name, err)
		}
		ends[i] = shards[i].endingNumber(st.LastSeq, now.Unix())
	}
	return ends, nil
}

// reopenParents undoes prepareReshard's fence when the reshard does not
// take effect after all; a failure is logged, and the next start-up
// opens the logs of open shards again.
func (e *Engine) reopenParents(ctx context.Context, m *Meta, p *PendingReshard) {
	var names []string
	for _, i := range p.Close {
		if i < len(m.Shards) {
			names = append(names, m.LogName(i))
		}
	}
	if err := e.st.OpenLogs(ctx, names); err != nil {
		e.log.Error("reopening the logs of shards a failed reshard left open; puts to them fail until the next start", "stream", m.Name, "err", err)
	}
}

// applyReshard puts p into effect in m: the children join the shard map
// and the closing shards get their ends.
func applyReshard(m *Meta, p *PendingReshard, ends map[int]string, now time.Time) {
	created := now.Truncate(time.Second)
	for _, sh := range p.Open {
		sh.Created = created
		m.Shards = append(m.Shards, sh)
	}
	for _, i := range p.Close {
		m.Shards[i].Closed = now
		m.Shards[i].EndingSeq = ends[i]
	}
	m.Reshard = nil
}

// firePending wakes the subscribers of the shards p closed, so that they
// see the end of the shard and its ChildShards at once.
func (e *Engine) firePending(m *Meta, p *PendingReshard) {
	for _, i := range p.Close {
		e.wakeReaders(m.LogName(i))
	}
}

// scheduleReshard completes a stream's pending reshard once its update
// delay has passed, retrying while the store fails: after a second, then
// twice as long each time up to maxReshardRetry, so a failure that does
// not clear logs an error a minute, not one a second. It is also how a
// restart finishes a reshard that a crash interrupted. The other nodes
// run it too, after takeoverGrace (scheduleReshardAfter), and complete
// the reshard if its node died.
func (e *Engine) scheduleReshard(m *Meta) { e.scheduleReshardAfter(m, 0) }

// scheduleReshardAfter is scheduleReshard, grace after the reshard is due.
func (e *Engine) scheduleReshardAfter(m *Meta, grace time.Duration) {
	key, uid := streamKey(m.Account, m.Region, m.Name), m.UID
	e.runDue(m, grace, "completing a reshard", func(ctx context.Context) error { return e.completeReshard(ctx, key, uid) })
}

// completeReshard puts a stream's pending reshard into effect and makes
// the stream ACTIVE, in one metadata write. It does nothing when there is
// nothing pending (any more), and leaves a stream being deleted alone:
// finishDelete, which waits for the stream's lock, then removes the
// children's logs that this completion may have made along with the
// stream's own.
func (e *Engine) completeReshard(ctx context.Context, key, uid string) error {
	mu := e.streamLock(key)
	mu.Lock()
	defer mu.Unlock()
	// Another node may have completed it already.
	s, ok, err := e.cat.fetch(ctx, key)
	if err != nil {
		return err
	}
	if !ok || s.Meta.UID != uid || s.Meta.Reshard == nil || s.Meta.Status == StatusDeleting {
		return nil
	}
	now := time.Now()
	p := s.Meta.Reshard
	ends, err := e.prepareReshard(ctx, s.Meta, p, now)
	if err != nil {
		return err
	}
	applied := false
	m, err := e.cat.update(ctx, key, func(m *Meta) error {
		if m.UID != uid || m.Reshard == nil || m.Status == StatusDeleting || len(m.Shards) != len(s.Meta.Shards) {
			return ErrNoChange
		}
		applyReshard(m, m.Reshard, ends, now)
		m.Status, m.TransitionAt = StatusActive, now
		applied = true
		return nil
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if applied {
		e.firePending(m, p)
	}
	return nil
}

// openShard returns the shard a reshard names, which must exist and be
// open: a *ShardError otherwise.
func openShard(m *Meta, id string) (*ShardMeta, shard.Range, error) {
	idx, err := ShardIndex(m, id)
	if err != nil {
		return nil, shard.Range{}, err
	}
	sh := &m.Shards[idx]
	if sh.EndingSeq != "" {
		return nil, shard.Range{}, &ShardError{Shard: shard.ID(idx), Err: ErrShardClosed}
	}
	start, err1 := shard.ParseHashKey(sh.Start)
	end, err2 := shard.ParseHashKey(sh.End)
	if err1 != nil || err2 != nil {
		return nil, shard.Range{}, fmt.Errorf("shard %d has a corrupt hash range", idx)
	}
	return sh, shard.Range{Start: start, End: end}, nil
}

// Split splits an open shard in two at hash key key, which becomes the
// second child's first key. As on AWS, start+1 < key < end: each child
// is at least two keys wide (a *SplitKeyError otherwise).
func (e *Engine) Split(ctx context.Context, ref Ref, shardID, key string) error {
	return e.reshard(ctx, ref, func(m *Meta) error {
		sh, rng, err := openShard(m, shardID)
		if err != nil {
			return err
		}
		k, err := shard.ParseHashKey(key)
		if err != nil || k.Cmp(rng.Start.Add1()) <= 0 || k.Cmp(rng.End) >= 0 {
			return &SplitKeyError{Shard: shard.ID(sh.Index), Key: key, Start: sh.Start, End: sh.End}
		}
		planStep(m, []int{sh.Index}, []child{
			{shard.Range{Start: rng.Start, End: k.Sub1()}, sh.Index, -1},
			{shard.Range{Start: k, End: rng.End}, sh.Index, -1},
		})
		return nil
	}, nil)
}

// Merge merges two open shards into one. As on AWS the order matters:
// shardID's range must come directly before adjacentID's (a *MergeError
// otherwise).
func (e *Engine) Merge(ctx context.Context, ref Ref, shardID, adjacentID string) error {
	return e.reshard(ctx, ref, func(m *Meta) error {
		a, ra, err := openShard(m, shardID)
		if err != nil {
			return err
		}
		b, rb, err := openShard(m, adjacentID)
		if err != nil {
			return err
		}
		if ra.End.Add1() != rb.Start || ra.End == shard.MaxHashKey {
			return &MergeError{Shard: shard.ID(a.Index), Adjacent: shard.ID(b.Index)}
		}
		planStep(m, []int{a.Index, b.Index}, []child{{shard.Range{Start: ra.Start, End: rb.End}, a.Index, b.Index}})
		return nil
	}, nil)
}

// MaxShardCountUpdates is how many shard count changes a stream may
// have in a rolling 24 hours, as on AWS.
const MaxShardCountUpdates = 10

// UpdateLimitError refuses a shard count change past
// MaxShardCountUpdates a day.
type UpdateLimitError struct{ Max int }

func (e *UpdateLimitError) Error() string {
	return fmt.Sprintf("more than %d shard count changes in 24 hours", e.Max)
}
func (e *UpdateLimitError) Unwrap() error { return ErrLimitExceeded }

// UpdateShardCount changes the number of open shards to target, as one
// update, and returns the count before. Doubling and halving are the
// limits (*ShardCountError); a target equal to the current count changes
// nothing. A stream that is not ACTIVE is refused before the count is
// compared, since an UPDATING stream's count is the old map's.
func (e *Engine) UpdateShardCount(ctx context.Context, ref Ref, target int) (int, error) {
	s, now, err := e.activeFresh(ctx, ref)
	if err != nil {
		return 0, err
	}
	current := s.Meta.OpenShards()
	switch {
	case target == current:
		return current, nil
	case target > 2*current || 2*target < current:
		return current, &ShardCountError{Current: current, Target: target}
	}
	if len(recentUpdates(s.Meta.ShardCountUpdates, now)) >= MaxShardCountUpdates {
		return current, &UpdateLimitError{MaxShardCountUpdates}
	}
	return current, e.reshard(ctx, ref, func(m *Meta) error {
		if m.OpenShards() != current {
			return fmt.Errorf("%s was resharded concurrently: %w", ref.Name, ErrInUse)
		}
		return planShardCount(m, target)
	}, func(m *Meta) {
		m.ShardCountUpdates = append(recentUpdates(m.ShardCountUpdates, now), now)
	})
}

// planShardCount plans UpdateShardCount to target open shards: all open
// shards replaced by equal ones when each new shard overlaps at most two
// old ones (a shard's two parent fields cannot express more), and
// otherwise, for layouts left by manual resharding, single splits of the
// widest open shard or merges of the narrowest adjacent pair until the
// count is right. Either way the whole plan takes effect as one update.
func planShardCount(m *Meta, target int) error {
	if parents, children, ok := planUniform(m, target); ok {
		planStep(m, parents, children)
		return nil
	}
	for m.OpenShards() != target {
		parents, children, err := planUniformStep(m, target)
		if err != nil {
			return err
		}
		planStep(m, parents, children)
	}
	return nil
}

// planUniform closes every open shard and opens target equal ones, each
// the child of the (at most two, adjacent) old shards it overlaps. It
// reports false when some new shard would overlap more than two.
func planUniform(m *Meta, target int) ([]int, []child, bool) {
	olds, err := openRanges(m)
	if err != nil {
		return nil, nil, false
	}
	var parents []int
	for _, o := range olds {
		parents = append(parents, o.idx)
	}
	var children []child
	for _, r := range shard.SplitEvenly(target) {
		var over []int
		for _, o := range olds {
			if o.rng.Start.Cmp(r.End) <= 0 && o.rng.End.Cmp(r.Start) >= 0 {
				over = append(over, o.idx)
			}
		}
		switch len(over) {
		case 1:
			children = append(children, child{r, over[0], -1})
		case 2:
			children = append(children, child{r, over[0], over[1]})
		default:
			return nil, nil, false
		}
	}
	return parents, children, true
}

// indexedRange is an open shard's index and hash key range.
type indexedRange struct {
	idx int
	rng shard.Range
}

// openRanges lists a stream's open shards in hash key order.
func openRanges(m *Meta) ([]indexedRange, error) {
	var out []indexedRange
	for _, sh := range m.Shards {
		if sh.EndingSeq != "" {
			continue
		}
		_, rng, err := openShard(m, shard.ID(sh.Index))
		if err != nil {
			return nil, err
		}
		out = append(out, indexedRange{sh.Index, rng})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rng.Start.Cmp(out[j].rng.Start) < 0 })
	return out, nil
}

func recentUpdates(ts []time.Time, now time.Time) []time.Time {
	var out []time.Time
	for _, t := range ts {
		if now.Sub(t) < 24*time.Hour {
			out = append(out, t)
		}
	}
	return out
}

// planUniformStep is one step of UpdateShardCount towards target.
func planUniformStep(m *Meta, target int) ([]int, []child, error) {
	shards, err := openRanges(m)
	if err != nil {
		return nil, nil, err
	}
	if len(shards) < target {
		w := 0
		for i := range shards {
			if shards[i].rng.Width().Cmp(shards[w].rng.Width()) > 0 {
				w = i
			}
		}
		r, mid := shards[w].rng, shards[w].rng.Mid()
		return []int{shards[w].idx}, []child{
			{shard.Range{Start: r.Start, End: mid.Sub1()}, shards[w].idx, -1},
			{shard.Range{Start: mid, End: r.End}, shards[w].idx, -1},
		}, nil
	}
	best := -1
	var bestWidth shard.HashKey
	for i := 0; i+1 < len(shards); i++ {
		w := shard.Range{Start: shards[i].rng.Start, End: shards[i+1].rng.End}.Width()
		if best < 0 || w.Cmp(bestWidth) < 0 {
			best, bestWidth = i, w
		}
	}
	a, b := shards[best], shards[best+1]
	return []int{a.idx, b.idx}, []child{{shard.Range{Start: a.rng.Start, End: b.rng.End}, a.idx, b.idx}}, nil
}
