package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tributary-data/tributary/internal/backoff"
	"github.com/tributary-data/tributary/internal/storage"
)

// The open-shard quota of a scope (an account in a region) holds across
// every engine sharing the bucket (the nodes of a cluster). A change
// that opens shards (a creation, a reshard that adds shards) first
// reserves them under the scope's quota key, by compare-and-set:
//
//  1. read the quota key (the reservations in flight) at revision r;
//  2. count the scope's open shards from the bucket, not from the copy
//     in memory, plus every reservation in flight whose change is not
//     in the bucket yet;
//  3. refuse past the quota, or write the key back with the new
//     reservation at revision r: if another change reserved (or
//     released) meanwhile, start again from 1;
//  4. make the change, then release the reservation.
//
// Two changes racing for the last shards thus meet at the quota key, and
// the second one counts the first, as a reservation or as a stream
// written. A reservation whose engine died before releasing it expires
// after reservationTTL, counted until then (the quota errs on the safe
// side); a change that finds its reservation near expiry gives up
// rather than write past a count others no longer make.

// reservationTTL is how long a reservation counts if never released.
const reservationTTL = 2 * time.Minute

// reservationMargin is how much of its TTL a reservation must have left
// for its change to be written.
const reservationMargin = 30 * time.Second

// maxReserveAttempts bounds the compare-and-set retries on a quota key.
const maxReserveAttempts = 200

// reservation is shards reserved for one change in flight.
type reservation struct {
	ID string `json:"id"`
	// UID is the stream incarnation the change is to; Indexes, for a
	// reshard, the shard count (closed ones included, pending children
	// too) its stream has once the reshard is written, 0 for a creation.
	UID     string    `json:"uid"`
	Indexes int       `json:"indexes,omitempty"`
	Shards  int       `json:"shards"`
	Expires time.Time `json:"expires"`
}

// written reports whether a reservation's change is in the scope's
// streams as listed, so that its shards are counted there. A reshard of
// the incarnation that reached the planned shard count is this one or
// one that won the race against it (then this one will fail).
func (r reservation) written(streams map[string]*Meta) bool {
	m, ok := streams[r.UID]
	if !ok {
		return false
	}
	if r.Indexes == 0 {
		return true
	}
	n := len(m.Shards)
	if m.Reshard != nil {
		n += len(m.Reshard.Open)
	}
	return n >= r.Indexes
}

// quotaKey is the key of a scope's reservations.
func quotaKey(account, region string) string { return "quota.shards." + account + "." + region }

// reservedShards is a reservation held: Check says whether it is still
// good to write under, Release ends it.
type reservedShards struct {
	e   *Engine
	key string
	r   reservation
}

// Check fails if the reservation is about to expire: past it, other
// changes no longer count it.
func (h *reservedShards) Check() error {
	if h == nil || time.Until(h.r.Expires) > reservationMargin {
		return nil
	}
	return fmt.Errorf("the shard quota reservation expired before the change was made: %w", ErrBusy)
}

// Release removes the reservation, once its change is written or has
// failed; it is best effort (an unreleased one expires).
func (h *reservedShards) Release() {
	if h == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Engines racing for one key spread out, more after each lost race.
	pause := backoff.New(2*time.Millisecond, 32*time.Millisecond)
	for attempt := 0; attempt < maxReserveAttempts; attempt++ {
		e, err := h.e.st.Get(ctx, h.key)
		if err != nil {
			break
		}
		var held []reservation
		if err := json.Unmarshal(e.Value, &held); err != nil {
			break
		}
		kept := live(held, time.Now(), h.r.ID)
		if len(kept) == len(held) {
			return
		}
		err = h.e.writeReservations(ctx, h.key, kept, e.Revision)
		if err == nil {
			return
		}
		if !errors.Is(err, storage.ErrConflict) {
			break
		}
		_ = pause.Wait(ctx)
	}
	h.e.log.Warn("could not release a shard quota reservation; it expires by itself", "key", h.key, "shards", h.r.Shards,
		"expires", h.r.Expires)
}

// live are the reservations not expired at now, without the one of id.
func live(held []reservation, now time.Time, id string) []reservation {
	var out []reservation
	for _, r := range held {
		if r.ID != id && now.Before(r.Expires) {
			out = append(out, r)
		}
	}
	return out
}

// reserveShards reserves added shards in ref's scope for a change to
// stream incarnation uid (indexes: see reservation), or refuses with a
// *ShardLimitError. Nothing is reserved for a change that opens none.
func (e *Engine) reserveShards(ctx context.Context, ref Ref, uid string, indexes, added int) (*reservedShards, error) {
	if added <= 0 {
		return nil, nil
	}
	key := quotaKey(ref.Account, ref.Region)
	// Engines racing for one key spread out, more after each lost race.
	pause := backoff.New(2*time.Millisecond, 32*time.Millisecond)
	for attempt := 0; ; attempt++ {
		var held []reservation
		var rev uint64
		ent, err := e.st.Get(ctx, key)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("shard quota: %w", err)
		default:
			rev = ent.Revision
			if err := json.Unmarshal(ent.Value, &held); err != nil {
				return nil, fmt.Errorf("shard quota: decode %s: %w", key, err)
			}
		}
		now := time.Now()
		held = live(held, now, "")
		open, err := e.openShards(ctx, ref, held)
		if err != nil {
			return nil, err
		}
		if open+added > e.cfg.ShardLimit {
			return nil, &ShardLimitError{Open: open, Limit: e.cfg.ShardLimit, Added: added}
		}
		r := reservation{ID: newUID(), UID: uid, Indexes: indexes, Shards: added, Expires: now.Add(reservationTTL)}
		err = e.writeReservations(ctx, key, append(held, r), rev)
		if err == nil {
			return &reservedShards{e: e, key: key, r: r}, nil
		}
		if !errors.Is(err, storage.ErrConflict) && !errors.Is(err, storage.ErrExists) {
			return nil, fmt.Errorf("shard quota: %w", err)
		}
		if attempt == maxReserveAttempts {
			return nil, fmt.Errorf("shard quota: %d concurrent changes: %w", attempt, ErrBusy)
		}
		_ = pause.Wait(ctx)
	}
}

// openShards counts the scope's open shards as the bucket has them, a
// pending reshard's result counted, plus the reservations not yet
// written. Streams being deleted count until they are gone, as before.
func (e *Engine) openShards(ctx context.Context, ref Ref, held []reservation) (int, error) {
	entries, err := e.st.List(ctx, scopePrefix(ref.Account, ref.Region)+">")
	if err != nil {
		return 0, fmt.Errorf("shard quota: %w", err)
	}
	byUID := map[string]*Meta{}
	open := 0
	for _, ent := range entries {
		var m Meta
		if err := json.Unmarshal(ent.Value, &m); err != nil {
			return 0, fmt.Errorf("shard quota: decode %s: %w", ent.Key, err)
		}
		byUID[m.UID] = &m
		open += m.OpenShardsAfterUpdate()
	}
	for _, r := range held {
		if !r.written(byUID) {
			open += r.Shards
		}
	}
	return open, nil
}

// writeReservations writes a quota key's reservations at revision rev (0:
// the key must not exist), removing the key when none are left.
func (e *Engine) writeReservations(ctx context.Context, key string, held []reservation, rev uint64) error {
	if len(held) == 0 && rev > 0 {
		return e.st.Delete(ctx, key, rev)
	}
	b, err := json.Marshal(held)
	if err != nil {
		return err
	}
	if rev == 0 {
		_, err = e.st.Create(ctx, key, b)
	} else {
		_, err = e.st.Update(ctx, key, b, rev)
	}
	return err
}
