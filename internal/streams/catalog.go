package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tributary-data/tributary/internal/storage"
)

// The catalog is the metadata of all streams. The KV bucket is the truth;
// each engine keeps a copy in memory for the hot path (every PutRecords
// needs routing). Several engines may share one bucket (the nodes of a
// cluster), so the copy is kept up to date by watching the bucket, not
// only from the engine's own writes:
//
//   - Every write is a compare-and-set on the key's revision; the engine
//     that loses one reads the key again and reapplies its change, or
//     refuses it (update).
//   - A copy is replaced only by a newer revision, and a deletion leaves
//     a tombstone for a while, so that a read that started before a
//     deletion cannot bring the stream back.
//   - What the engine does by itself on a change (a deletion or a
//     reshard to finish, readers to wake, front ends to tell) hangs on
//     the copy changing, whoever made the change (the changed hook).
//   - A stream the copy lacks is looked up in the bucket before being
//     called missing (fetch), and sync brings the whole copy up to every
//     change acknowledged before it was called.

// streamFilter matches every stream's key.
const streamFilter = "stream.>"

// tombstoneAge is how long a deletion is remembered against late reads:
// far longer than any one metadata read takes.
const tombstoneAge = 5 * time.Minute

// syncWait bounds sync's wait for the watch before it reads the catalog
// afresh: the watch may be re-creating its consumer after an election.
const syncWait = 2 * time.Second

type catalog struct {
	st storage.Store
	mu sync.RWMutex
	m  map[string]*Stream
	// gone are recently deleted keys and the revision they were deleted at (or past).
	gone map[string]tombstone
	// applied is the revision the copy is complete up to; moved is closed
	// and replaced each time it advances.
	applied uint64
	moved   chan struct{}
	// changed, when set, hears of every change to the copy, outside the
	// lock: old or cur is nil for a stream added or removed; local says the
	// change is this engine's own write.
	changed func(old, cur *Stream, local bool)
}

type tombstone struct {
	rev uint64
	at  time.Time
}

// newCatalog loads every stream from the bucket.
func newCatalog(ctx context.Context, st storage.Store) (*catalog, error) {
	c := &catalog{st: st, m: map[string]*Stream{}, gone: map[string]tombstone{}, moved: make(chan struct{})}
	rev, err := st.Revision(ctx, streamFilter)
	if err != nil {
		return nil, fmt.Errorf("load stream catalog: %w", err)
	}
	entries, err := st.List(ctx, streamFilter)
	if err != nil {
		return nil, fmt.Errorf("load stream catalog: %w", err)
	}
	for _, e := range entries {
		if err := c.remember(e.Key, e.Value, e.Revision, false); err != nil {
			return nil, err
		}
	}
	c.advance(rev)
	return c, nil
}

// follow applies the changes other engines (and this one) make to the
// bucket from the revision the copy is complete up to, until ctx ends.
// It returns once the watch is set up; done is called when it stops.
func (c *catalog) follow(ctx context.Context, log func(msg string, err error), done func()) error {
	c.mu.RLock()
	from := c.applied
	c.mu.RUnlock()
	ch, err := c.st.Watch(ctx, streamFilter, from)
	if err != nil {
		return fmt.Errorf("watch the stream catalog: %w", err)
	}
	go func() {
		defer done()
		for ch := range ch {
			if err := c.apply(ctx, ch); err != nil {
				log("applying a change to the stream catalog", err)
			}
		}
	}()
	return nil
}

// apply puts one watched change into the copy.
func (c *catalog) apply(ctx context.Context, ch storage.Change) error {
	defer c.advance(ch.Revision)
	switch {
	case ch.Deleted && ch.Key == "":
		// A key stored hashed cannot be named: read the catalog again.
		return c.resync(ctx)
	case ch.Deleted:
		c.set(ch.Key, nil, ch.Revision, false)
		return nil
	}
	return c.remember(ch.Key, ch.Value, ch.Revision, false)
}

// advance records that the copy is complete up to rev.
func (c *catalog) advance(rev uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev > c.applied {
		c.applied = rev
		close(c.moved)
		c.moved = make(chan struct{})
	}
}

// sync brings the copy up to every change acknowledged before the call:
// it waits for the watch to pass the bucket's latest revision, or reads
// the catalog afresh if the watch is slow to.
func (c *catalog) sync(ctx context.Context) error {
	rev, err := c.st.Revision(ctx, streamFilter)
	if err != nil {
		return fmt.Errorf("sync the stream catalog: %w", err)
	}
	t := time.NewTimer(syncWait)
	defer t.Stop()
	for {
		c.mu.RLock()
		applied, moved := c.applied, c.moved
		c.mu.RUnlock()
		if applied >= rev {
			return nil
		}
		select {
		case <-moved:
		case <-t.C:
			return c.resync(ctx)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// resync reads the whole catalog from the bucket into the copy.
func (c *catalog) resync(ctx context.Context) error {
	rev, err := c.st.Revision(ctx, streamFilter)
	if err != nil {
		return fmt.Errorf("read the stream catalog again: %w", err)
	}
	entries, err := c.st.List(ctx, streamFilter)
	if err != nil {
		return fmt.Errorf("read the stream catalog again: %w", err)
	}
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.Key] = true
		if err := c.remember(e.Key, e.Value, e.Revision, false); err != nil {
			return err
		}
	}
	// A stream written at or before rev and not listed is gone.
	c.mu.RLock()
	var gone []string
	for k, s := range c.m {
		if !listed[k] && s.rev <= rev {
			gone = append(gone, k)
		}
	}
	c.mu.RUnlock()
	for _, k := range gone {
		c.set(k, nil, rev, false)
	}
	c.advance(rev)
	return nil
}

// remember puts a stream's metadata read or written at rev into the copy.
func (c *catalog) remember(key string, value []byte, rev uint64, local bool) error {
	var m Meta
	if err := json.Unmarshal(value, &m); err != nil {
		return fmt.Errorf("decode stream %s: %w", key, err)
	}
	r, err := newRouting(&m)
	if err != nil {
		return err
	}
	c.set(key, &Stream{Meta: &m, rev: rev, routing: r}, rev, local)
	return nil
}

// set makes s (nil: none) the copy of a key at rev, unless the copy is
// newer; then it tells the changed hook.
func (c *catalog) set(key string, s *Stream, rev uint64, local bool) {
	c.mu.Lock()
	old := c.m[key]
	if old != nil && old.rev >= rev && (s != nil || old.rev > rev) {
		c.mu.Unlock()
		return
	}
	if s != nil {
		if t, ok := c.gone[key]; ok && t.rev >= rev {
			c.mu.Unlock()
			return
		}
		c.m[key] = s
	} else {
		delete(c.m, key)
		c.bury(key, rev)
	}
	hook := c.changed
	c.mu.Unlock()
	if hook != nil && (old != nil || s != nil) {
		hook(old, s, local)
	}
}

// bury records a deletion at rev, forgetting old ones; c.mu is held.
func (c *catalog) bury(key string, rev uint64) {
	now := time.Now()
	for k, t := range c.gone {
		if now.Sub(t.at) > tombstoneAge {
			delete(c.gone, k)
		}
	}
	if t, ok := c.gone[key]; !ok || t.rev < rev {
		c.gone[key] = tombstone{rev: rev, at: now}
	}
}

// get returns a stream's metadata as this engine last saw it; callers
// must not modify it.
func (c *catalog) get(key string) (*Stream, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[key]
	return e, ok
}

// fetch reads a stream's metadata from the bucket into the copy and
// returns the newest the copy has: a stream created, changed or deleted
// elsewhere is seen at once.
func (c *catalog) fetch(ctx context.Context, key string) (*Stream, bool, error) {
	before, had := c.get(key)
	e, err := c.st.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		if had {
			// Deleted since the copy was made (unless the copy has
			// changed since: then it is newer than the read). The
			// deletion's own revision is later; the watch brings it.
			c.set(key, nil, before.rev, false)
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if err := c.remember(key, e.Value, e.Revision, false); err != nil {
		return nil, false, err
	}
	s, ok := c.get(key)
	return s, ok, nil
}

// all returns every stream whose key starts with prefix, sorted by name.
func (c *catalog) all(prefix string) []*Meta {
	c.mu.RLock()
	var out []*Meta
	for k, e := range c.m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, e.Meta)
		}
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// create writes a new stream's metadata; storage.ErrExists if a stream
// of the name exists, whichever engine made it.
func (c *catalog) create(ctx context.Context, m *Meta) error {
	key := streamKey(m.Account, m.Region, m.Name)
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	rev, err := c.st.Create(ctx, key, b)
	if err != nil {
		return err
	}
	return c.remember(key, b, rev, true)
}

// maxUpdateAttempts bounds update's compare-and-set retries: each lost
// race means another writer's change went in, so many in a row mean a
// storm of changes to one stream.
const maxUpdateAttempts = 100

// update applies fn to a fresh copy of a stream's metadata and writes it
// back with compare-and-set, retrying when another writer got there first.
// fn returns an error to fail the update, or ErrNoChange to write nothing.
// A stream the copy lacks is read from the bucket first.
func (c *catalog) update(ctx context.Context, key string, fn func(m *Meta) error) (*Meta, error) {
	cur, ok := c.get(key)
	for attempt := 0; ; attempt++ {
		if !ok || attempt > 0 { // none, or a stale copy: read the bucket
			var err error
			if cur, ok, err = c.fetch(ctx, key); err != nil {
				return nil, err
			}
			if !ok {
				return nil, storage.ErrNotFound
			}
		}
		b, _ := json.Marshal(cur.Meta)
		var m Meta
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		if err := fn(&m); err != nil {
			if errors.Is(err, ErrNoChange) {
				return cur.Meta, nil
			}
			return nil, err
		}
		nb, err := json.Marshal(&m)
		if err != nil {
			return nil, err
		}
		rev, err := c.st.Update(ctx, key, nb, cur.rev)
		if errors.Is(err, storage.ErrConflict) && attempt < maxUpdateAttempts {
			continue
		}
		if errors.Is(err, storage.ErrConflict) {
			return nil, fmt.Errorf("%s: %d concurrent changes: %w", m.Name, attempt, ErrBusy)
		}
		if err != nil {
			return nil, err
		}
		return &m, c.remember(key, nb, rev, true)
	}
}

// reload reads a stream's metadata from the bucket into the copy.
func (c *catalog) reload(ctx context.Context, key string) error {
	_, _, err := c.fetch(ctx, key)
	return err
}

// remove deletes a stream's metadata if it is still at revision rev.
func (c *catalog) remove(ctx context.Context, key string, rev uint64) error {
	if err := c.st.Delete(ctx, key, rev); err != nil {
		return err
	}
	c.set(key, nil, rev, true)
	return nil
}
