package kinesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/store"
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

// streamLock returns the lock that orders puts against reshards and a
// deletion's removal of the logs, for one Lock and Unlock (or RLock and
// RUnlock): the entry goes once its last user lets go (keyLocks).
func (s *Service) streamLock(key string) keyLock {
	return s.locks.take(key)
}

// maxReshardRetry caps the wait between attempts to complete a reshard
// whose completion failed.
const maxReshardRetry = time.Minute

// pendingReshard is a reshard that was accepted and has not taken effect:
// while a stream has one it is UPDATING and keeps its old shard map.
type pendingReshard struct {
	// Close lists the shards that close, by index. Some may be among
	// Open: UpdateShardCount in steps opens shards that a later step
	// closes again.
	Close []int `json:"close"`
	// Open are the shards that open, indexed from len(Shards) on; their
	// creation time is set when they open.
	Open []shardMeta `json:"open"`
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
func planStep(m *streamMeta, parents []int, children []child) {
	for _, p := range parents {
		m.Shards[p].EndingSeq = plannedEnd
	}
	for _, c := range children {
		sm := shardMeta{Index: len(m.Shards), Start: c.rng.Start.String(), End: c.rng.End.String(), Parent: shard.ID(c.parent)}
		if c.adjPar >= 0 {
			sm.AdjacentParent = shard.ID(c.adjPar)
		}
		m.Shards = append(m.Shards, sm)
	}
}

// diffReshard is the reshard that takes orig to planned.
func diffReshard(orig, planned *streamMeta) *pendingReshard {
	p := &pendingReshard{}
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

// reshard plans a change of a stream's shard map and starts the update
// that applies it. plan changes a copy of the metadata with planStep and
// may refuse; also, when set, makes further changes in the same metadata
// write. With no update delay the reshard takes effect at once.
func (s *Service) reshard(ctx context.Context, ref streamRef, plan func(m *streamMeta) *Error, also func(m *streamMeta)) *Error {
	mu := s.streamLock(ref.key())
	mu.Lock()
	defer mu.Unlock()

	e, aerr := s.lookup(ref)
	if aerr != nil {
		return aerr
	}
	now := time.Now()
	if st := e.meta.effectiveStatus(now); st != statusActive {
		return errNotActive(ref, st)
	}
	planned, err := e.meta.clone()
	if err != nil {
		return errInternal(err)
	}
	if aerr := plan(planned); aerr != nil {
		return aerr
	}
	p := diffReshard(e.meta, planned)
	if aerr := s.checkShardLimit(ref, len(p.Open)-len(p.Close)); aerr != nil {
		return aerr
	}
	immediate := s.cfg.UpdateDelay <= 0
	var ends map[int]string
	if immediate {
		if ends, err = s.prepareReshard(ctx, e.meta, p, now); err != nil {
			return errInternal(err)
		}
	}
	first := len(e.meta.Shards)
	m, err := s.cat.update(ctx, ref.key(), func(m *streamMeta) error {
		if len(m.Shards) != first || m.Reshard != nil {
			return errors.New("shards changed during a reshard")
		}
		// DeleteStream and the other updates do not take the lock: one
		// may have come since the check above. Making a DELETING stream
		// UPDATING would bring it back until its deletion is due.
		if st := m.effectiveStatus(now); st != statusActive {
			return errNotActive(ref, st)
		}
		if also != nil {
			also(m)
		}
		s.beginUpdate(m, now)
		if immediate {
			applyReshard(m, p, ends, now)
		} else {
			m.Reshard = p
		}
		return nil
	})
	var refused *Error
	if errors.As(err, &refused) && immediate {
		// Nothing was written, so nothing names the children's logs.
		for _, sh := range p.Open {
			_ = s.st.DeleteLog(ctx, e.meta.logName(sh.Index))
		}
	}
	if err != nil {
		return mapStoreErr(ref, err)
	}
	if immediate {
		s.firePending(m, p)
	} else {
		s.scheduleReshard(m)
	}
	return nil
}

// prepareReshard does what must precede the metadata write that applies
// p, with the stream's lock held for writing: it creates the children's
// logs, so that no metadata ever points at a missing log, and fixes each
// closing shard's ending sequence number from its log, which no put can
// extend while the lock is held. Both are repeatable after a crash.
func (s *Service) prepareReshard(ctx context.Context, m *streamMeta, p *pendingReshard, now time.Time) (map[int]string, error) {
	created := now.Truncate(time.Second)
	shards := slices.Clone(m.Shards)
	for _, sh := range p.Open {
		sh.Created = created
		shards = append(shards, sh)
		name := m.logName(sh.Index)
		err := s.st.CreateLog(ctx, name, s.retention(m.RetentionHours))
		if errors.Is(err, store.ErrExists) {
			// Left by a completion a crash interrupted: nothing routes to
			// a log before the metadata names it, so it is empty.
			err = s.st.SetLogMaxAge(ctx, name, s.retention(m.RetentionHours))
		}
		if err != nil {
			return nil, fmt.Errorf("reshard %s: %w", m.Name, err)
		}
	}
	ends := map[int]string{}
	for _, i := range p.Close {
		st, err := s.st.State(ctx, m.logName(i))
		if err != nil {
			return nil, fmt.Errorf("reshard %s: %w", m.Name, err)
		}
		ends[i] = shards[i].endingNumber(st.LastSeq, now.Unix())
	}
	return ends, nil
}

// applyReshard puts p into effect in m: the children join the shard map
// and the closing shards get their ends.
func applyReshard(m *streamMeta, p *pendingReshard, ends map[int]string, now time.Time) {
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
func (s *Service) firePending(m *streamMeta, p *pendingReshard) {
	for _, i := range p.Close {
		s.appended.fire(m.logName(i))
	}
}

// scheduleReshard completes a stream's pending reshard once its update
// delay has passed, retrying while the store fails: after a second, then
// twice as long each time up to maxReshardRetry, so a failure that does
// not clear logs an error a minute, not one a second. It is also how a
// restart finishes a reshard that a crash interrupted.
func (s *Service) scheduleReshard(m *streamMeta) {
	key, uid := streamKey(m.Account, m.Region, m.Name), m.UID
	wait, retry := time.Until(m.TransitionAt), time.Second
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return
			}
			err := s.completeReshard(s.ctx, key, uid)
			if err == nil || s.ctx.Err() != nil {
				return
			}
			s.log.Error("completing a reshard; retrying", "stream", m.Name, "in", retry, "err", err)
			wait, retry = retry, min(2*retry, maxReshardRetry)
		}
	}()
}

// completeReshard puts a stream's pending reshard into effect and makes
// the stream ACTIVE, in one metadata write. It does nothing when there is
// nothing pending (any more), and leaves a stream being deleted alone:
// finishDelete, which waits for the stream's lock, then removes the
// children's logs that this completion may have made along with the
// stream's own.
func (s *Service) completeReshard(ctx context.Context, key, uid string) error {
	mu := s.streamLock(key)
	mu.Lock()
	defer mu.Unlock()
	e, ok := s.cat.get(key)
	if !ok || e.meta.UID != uid || e.meta.Reshard == nil || e.meta.Status == statusDeleting {
		return nil
	}
	now := time.Now()
	p := e.meta.Reshard
	ends, err := s.prepareReshard(ctx, e.meta, p, now)
	if err != nil {
		return err
	}
	applied := false
	m, err := s.cat.update(ctx, key, func(m *streamMeta) error {
		if m.UID != uid || m.Reshard == nil || m.Status == statusDeleting || len(m.Shards) != len(e.meta.Shards) {
			return errStop
		}
		applyReshard(m, m.Reshard, ends, now)
		m.Status, m.TransitionAt = statusActive, now
		applied = true
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if applied {
		s.firePending(m, p)
	}
	return nil
}

// checkShardLimit refuses a change that would take the account's open
// shards in the region past the quota.
func (s *Service) checkShardLimit(ref streamRef, added int) *Error {
	if added <= 0 {
		return nil
	}
	open := 0
	for _, m := range s.cat.all(streamKey(ref.account, ref.region, "")) {
		open += m.openShardsAfterUpdate()
	}
	if open+added > s.cfg.ShardLimit {
		return errLimitExceeded("This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %d. Limit: %d. Number of additional shards that would have resulted from this request: %d. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
			ref.account, ref.region, open, s.cfg.ShardLimit, added)
	}
	return nil
}

// openShard returns the shard a reshard names, which must exist and be open.
func openShard(m *streamMeta, id string) (*shardMeta, shard.Range, *Error) {
	idx, ok := shard.ParseID(id)
	if !ok || idx >= len(m.Shards) {
		return nil, shard.Range{}, errResourceNotFound("Could not find shard %s in stream %s under account %s.", id, m.Name, m.Account)
	}
	sh := &m.Shards[idx]
	if sh.EndingSeq != "" {
		return nil, shard.Range{}, errResourceInUse("Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for merging or splitting.", shard.ID(idx), m.Name, m.Account)
	}
	start, err1 := shard.ParseHashKey(sh.Start)
	end, err2 := shard.ParseHashKey(sh.End)
	if err1 != nil || err2 != nil {
		return nil, shard.Range{}, errInternal(fmt.Errorf("shard %d has a corrupt hash range", idx))
	}
	return sh, shard.Range{Start: start, End: end}, nil
}

type splitShardInput struct {
	StreamName         *Str `json:"StreamName"`
	StreamARN          *Str `json:"StreamARN"`
	ShardToSplit       *Str `json:"ShardToSplit"`
	NewStartingHashKey *Str `json:"NewStartingHashKey"`
}

func (s *Service) splitShard(ctx context.Context, c caller, in *splitShardInput) (any, *Error) {
	var v validation
	if v.notNull("newStartingHashKey", in.NewStartingHashKey != nil) {
		k := string(*in.NewStartingHashKey)
		v.pattern("newStartingHashKey", k, hashKeyPattern, hashKeyRE.MatchString(k))
	}
	if v.notNull("shardToSplit", in.ShardToSplit != nil) {
		checkName(&v, "shardToSplit", in.ShardToSplit)
	}
	checkStreamName(&v, in.StreamName, in.StreamARN, true)
	if err := v.err(); err != nil {
		return nil, err
	}
	ref, _, aerr := s.findStream(c, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	return nil, s.reshard(ctx, ref, func(m *streamMeta) *Error {
		sh, rng, aerr := openShard(m, string(*in.ShardToSplit))
		if aerr != nil {
			return aerr
		}
		// As on AWS, start+1 < k < end: each child is at least two keys wide.
		k, err := shard.ParseHashKey(string(*in.NewStartingHashKey))
		if err != nil || k.Cmp(rng.Start.Add1()) <= 0 || k.Cmp(rng.End) >= 0 {
			return errInvalidArgument("NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
				*in.NewStartingHashKey, shard.ID(sh.Index), m.Name, m.Account, sh.Start, sh.End)
		}
		planStep(m, []int{sh.Index}, []child{
			{shard.Range{Start: rng.Start, End: k.Sub1()}, sh.Index, -1},
			{shard.Range{Start: k, End: rng.End}, sh.Index, -1},
		})
		return nil
	}, nil)
}

type mergeShardsInput struct {
	StreamName           *Str `json:"StreamName"`
	StreamARN            *Str `json:"StreamARN"`
	ShardToMerge         *Str `json:"ShardToMerge"`
	AdjacentShardToMerge *Str `json:"AdjacentShardToMerge"`
}

func (s *Service) mergeShards(ctx context.Context, c caller, in *mergeShardsInput) (any, *Error) {
	var v validation
	if v.notNull("adjacentShardToMerge", in.AdjacentShardToMerge != nil) {
		checkName(&v, "adjacentShardToMerge", in.AdjacentShardToMerge)
	}
	if v.notNull("shardToMerge", in.ShardToMerge != nil) {
		checkName(&v, "shardToMerge", in.ShardToMerge)
	}
	checkStreamName(&v, in.StreamName, in.StreamARN, true)
	if err := v.err(); err != nil {
		return nil, err
	}
	ref, _, aerr := s.findStream(c, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	return nil, s.reshard(ctx, ref, func(m *streamMeta) *Error {
		a, ra, aerr := openShard(m, string(*in.ShardToMerge))
		if aerr != nil {
			return aerr
		}
		b, rb, aerr := openShard(m, string(*in.AdjacentShardToMerge))
		if aerr != nil {
			return aerr
		}
		// As on AWS the order matters: ShardToMerge's range must come
		// directly before AdjacentShardToMerge's.
		if ra.End.Add1() != rb.Start || ra.End == shard.MaxHashKey {
			return errInvalidArgument("Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging",
				shard.ID(a.Index), shard.ID(b.Index), m.Name, m.Account)
		}
		planStep(m, []int{a.Index, b.Index}, []child{{shard.Range{Start: ra.Start, End: rb.End}, a.Index, b.Index}})
		return nil
	}, nil)
}

type updateShardCountInput struct {
	StreamName       *Str `json:"StreamName"`
	StreamARN        *Str `json:"StreamARN"`
	TargetShardCount *Int `json:"TargetShardCount"`
	ScalingType      *Str `json:"ScalingType"`
}

// maxShardCountUpdates is how many UpdateShardCount calls a stream may
// have in a rolling 24 hours, as on AWS.
const maxShardCountUpdates = 10

func (s *Service) updateShardCount(ctx context.Context, c caller, in *updateShardCountInput) (any, *Error) {
	var v validation
	if v.notNull("scalingType", in.ScalingType != nil) {
		v.enum("scalingType", string(*in.ScalingType), "UNIFORM_SCALING")
	}
	if v.notNull("targetShardCount", in.TargetShardCount != nil) {
		v.intRange("targetShardCount", int64(*in.TargetShardCount), 1, 1<<31-1)
	}
	checkStreamName(&v, in.StreamName, in.StreamARN, true)
	if err := v.err(); err != nil {
		return nil, err
	}
	ref, e, aerr := s.findStream(c, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	// The count of an UPDATING stream is the old map's: refuse before
	// comparing with it, as reshard would.
	if st := e.meta.effectiveStatus(time.Now()); st != statusActive {
		return nil, errNotActive(ref, st)
	}
	target := int(*in.TargetShardCount)
	current := e.meta.openShards()
	out := struct {
		StreamName        string `json:"StreamName"`
		StreamARN         string `json:"StreamARN"`
		CurrentShardCount int    `json:"CurrentShardCount"`
		TargetShardCount  int    `json:"TargetShardCount"`
	}{ref.name, ref.arn(), current, target}
	switch {
	case target == current:
		return out, nil
	case target > 2*current:
		return nil, errInvalidArgument("UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: %d Target shard count: %d", current, target)
	case 2*target < current:
		return nil, errInvalidArgument("UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: %d Target shard count: %d", current, target)
	}
	now := time.Now()
	recent := 0
	for _, t := range e.meta.ShardCountUpdates {
		if now.Sub(t) < 24*time.Hour {
			recent++
		}
	}
	if recent >= maxShardCountUpdates {
		return nil, errLimitExceeded("Exceeded the limit of %d UpdateShardCount calls in a rolling 24-hour period for stream %s under account %s.", maxShardCountUpdates, ref.name, ref.account)
	}
	aerr = s.reshard(ctx, ref, func(m *streamMeta) *Error {
		if m.openShards() != current {
			return errResourceInUse("Stream %s under account %s was resharded concurrently; retry.", ref.name, ref.account)
		}
		return planShardCount(m, target)
	}, func(m *streamMeta) {
		m.ShardCountUpdates = append(recentUpdates(m.ShardCountUpdates, now), now)
	})
	if aerr != nil {
		return nil, aerr
	}
	return out, nil
}

// planShardCount plans UpdateShardCount to target open shards: all open
// shards replaced by equal ones when each new shard overlaps at most two
// old ones (a shard's two parent fields cannot express more), and
// otherwise, for layouts left by manual resharding, single splits of the
// widest open shard or merges of the narrowest adjacent pair until the
// count is right. Either way the whole plan takes effect as one update.
func planShardCount(m *streamMeta, target int) *Error {
	if parents, children, ok := planUniform(m, target); ok {
		planStep(m, parents, children)
		return nil
	}
	for m.openShards() != target {
		parents, children, aerr := planUniformStep(m, target)
		if aerr != nil {
			return aerr
		}
		planStep(m, parents, children)
	}
	return nil
}

// planUniform closes every open shard and opens target equal ones, each
// the child of the (at most two, adjacent) old shards it overlaps. It
// reports false when some new shard would overlap more than two.
func planUniform(m *streamMeta, target int) ([]int, []child, bool) {
	olds, aerr := openRanges(m)
	if aerr != nil {
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
func openRanges(m *streamMeta) ([]indexedRange, *Error) {
	var out []indexedRange
	for _, sh := range m.Shards {
		if sh.EndingSeq != "" {
			continue
		}
		_, rng, aerr := openShard(m, shard.ID(sh.Index))
		if aerr != nil {
			return nil, aerr
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
func planUniformStep(m *streamMeta, target int) ([]int, []child, *Error) {
	shards, aerr := openRanges(m)
	if aerr != nil {
		return nil, nil, aerr
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
