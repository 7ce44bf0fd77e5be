package kinesis

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
)

// Resharding: SplitShard, MergeShards and UpdateShardCount.
//
// A reshard closes parent shards and opens children in one metadata write.
// The invariant readers depend on is that a closed shard never receives
// another record, so that reading it to its end and then its children
// delivers every record exactly once. Puts therefore route and append
// while holding their stream's lock for reading, and a reshard holds it
// for writing while it fixes the parents' ends and switches the routing.

// streamLock returns the lock that orders puts against reshards.
func (s *Service) streamLock(key string) *sync.RWMutex {
	if mu, ok := s.locks.Load(key); ok {
		return mu.(*sync.RWMutex)
	}
	mu, _ := s.locks.LoadOrStore(key, new(sync.RWMutex))
	return mu.(*sync.RWMutex)
}

// child is a new shard a reshard opens.
type child struct {
	rng            shard.Range
	parent, adjPar int // shard indexes; adjPar is -1 when there is none
}

// reshard closes the shards in parents and opens children, as one step.
// check runs on fresh metadata under the lock and may refuse.
func (s *Service) reshard(ctx context.Context, ref streamRef, plan func(m *streamMeta) ([]int, []child, *Error)) (*streamMeta, *Error) {
	mu := s.streamLock(ref.key())
	mu.Lock()
	defer mu.Unlock()

	e, aerr := s.lookup(ref)
	if aerr != nil {
		return nil, aerr
	}
	now := time.Now()
	if st := e.meta.effectiveStatus(now); st != statusActive {
		return nil, errNotActive(ref, st)
	}
	parents, children, aerr := plan(e.meta)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.checkShardLimit(ref, len(children)-len(parents)); aerr != nil {
		return nil, aerr
	}

	// Fix each parent's end. No put can be appending now: they hold the
	// lock for reading.
	ends := map[int]string{}
	for _, p := range parents {
		st, err := s.st.State(ctx, e.meta.logName(p))
		if err != nil {
			return nil, errInternal(err)
		}
		sh := e.meta.Shards[p]
		ends[p] = shard.Sequence{ShardCreated: sh.Created.Unix(), ShardIndex: p,
			Index: seqIndex(st.LastSeq, maxBatch-1), RecordTime: now.Unix()}.String()
	}
	created := now.Truncate(time.Second)
	// Children's logs exist before any metadata points at them.
	first := len(e.meta.Shards)
	for i := range children {
		name := e.meta.logName(first + i)
		if err := s.st.CreateLog(ctx, name, s.retention(e.meta.RetentionHours)); err != nil {
			return nil, errInternal(err)
		}
	}
	m, err := s.cat.update(ctx, ref.key(), func(m *streamMeta) error {
		if len(m.Shards) != first {
			return errors.New("shards changed during a reshard")
		}
		for _, p := range parents {
			m.Shards[p].Closed = now
			m.Shards[p].EndingSeq = ends[p]
		}
		for i, c := range children {
			sm := shardMeta{Index: first + i, Start: c.rng.Start.String(), End: c.rng.End.String(),
				Created: created, Parent: shard.ID(c.parent)}
			if c.adjPar >= 0 {
				sm.AdjacentParent = shard.ID(c.adjPar)
			}
			m.Shards = append(m.Shards, sm)
		}
		s.beginUpdate(m, now)
		return nil
	})
	if err != nil {
		return nil, mapStoreErr(ref, err)
	}
	// Subscribers of the parents can now see their end.
	for _, p := range parents {
		s.appended.fire(m.logName(p))
	}
	return m, nil
}

// checkShardLimit refuses a change that would take the account's open
// shards in the region past the quota.
func (s *Service) checkShardLimit(ref streamRef, added int) *Error {
	if added <= 0 {
		return nil
	}
	open := 0
	for _, m := range s.cat.all(streamKey(ref.account, ref.region, "")) {
		open += m.openShards()
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
	_, aerr = s.reshard(ctx, ref, func(m *streamMeta) ([]int, []child, *Error) {
		sh, rng, aerr := openShard(m, string(*in.ShardToSplit))
		if aerr != nil {
			return nil, nil, aerr
		}
		// As on AWS, start+1 < k < end: each child is at least two keys wide.
		k, err := shard.ParseHashKey(string(*in.NewStartingHashKey))
		if err != nil || k.Cmp(rng.Start.Add1()) <= 0 || k.Cmp(rng.End) >= 0 {
			return nil, nil, errInvalidArgument("NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
				*in.NewStartingHashKey, shard.ID(sh.Index), m.Name, m.Account, sh.Start, sh.End)
		}
		return []int{sh.Index}, []child{
			{shard.Range{Start: rng.Start, End: k.Sub1()}, sh.Index, -1},
			{shard.Range{Start: k, End: rng.End}, sh.Index, -1},
		}, nil
	})
	return nil, aerr
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
	_, aerr = s.reshard(ctx, ref, func(m *streamMeta) ([]int, []child, *Error) {
		a, ra, aerr := openShard(m, string(*in.ShardToMerge))
		if aerr != nil {
			return nil, nil, aerr
		}
		b, rb, aerr := openShard(m, string(*in.AdjacentShardToMerge))
		if aerr != nil {
			return nil, nil, aerr
		}
		// As on AWS the order matters: ShardToMerge's range must come
		// directly before AdjacentShardToMerge's.
		if ra.End.Add1() != rb.Start || ra.End == shard.MaxHashKey {
			return nil, nil, errInvalidArgument("Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging",
				shard.ID(a.Index), shard.ID(b.Index), m.Name, m.Account)
		}
		merged := shard.Range{Start: ra.Start, End: rb.End}
		return []int{a.Index, b.Index}, []child{{merged, a.Index, b.Index}}, nil
	})
	return nil, aerr
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
	if _, _, ok := planUniform(e.meta, target); ok {
		_, aerr = s.reshard(ctx, ref, func(m *streamMeta) ([]int, []child, *Error) {
			parents, children, ok := planUniform(m, target)
			if !ok {
				return nil, nil, errResourceInUse("Stream %s under account %s was resharded concurrently; retry.", ref.name, ref.account)
			}
			return parents, children, nil
		})
		if aerr != nil {
			return nil, aerr
		}
	} else if aerr := s.updateShardCountInSteps(ctx, ref, target); aerr != nil {
		return nil, aerr
	}
	if _, err := s.cat.update(ctx, ref.key(), func(m *streamMeta) error {
		m.ShardCountUpdates = append(recentUpdates(m.ShardCountUpdates, now), now)
		return nil
	}); err != nil {
		return nil, mapStoreErr(ref, err)
	}
	return out, nil
}

// updateShardCountInSteps reaches target by single splits and merges, for
// layouts (left by manual resharding) where equal new shards would each
// take over from more than two old ones, which a shard's two parent fields
// cannot express. It halves the widest open shard, or merges the narrowest
// adjacent pair, until the count is right.
func (s *Service) updateShardCountInSteps(ctx context.Context, ref streamRef, target int) *Error {
	for {
		cur, ok := s.cat.get(ref.key())
		if !ok {
			return streamNotFound(ref.name, ref.account)
		}
		if cur.meta.openShards() == target {
			return nil
		}
		if _, aerr := s.reshard(ctx, ref, func(m *streamMeta) ([]int, []child, *Error) {
			return planUniformStep(m, target)
		}); aerr != nil {
			return aerr
		}
		// The steps of one UpdateShardCount are one update: only the
		// last leaves the stream UPDATING.
		if _, err := s.cat.update(ctx, ref.key(), func(m *streamMeta) error {
			if m.openShards() != target {
				m.Status = statusActive
			}
			return nil
		}); err != nil {
			return mapStoreErr(ref, err)
		}
	}
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
