package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-data/tributary/internal/storage"
)

// Watching the metadata bucket. Every node of a cluster keeps copies of
// some metadata (the stream engine's catalog) and must learn of the
// changes other nodes make: Watch follows the bucket's stream with
// JetStream's ordered consumer, which the client re-creates by itself
// when it misses messages or heartbeats (an election, a node gone), and
// which this file re-creates when the connection under it was replaced.

// Change is a change to a key, as Watch reports it.
type Change = storage.Change

// Revision is the revision of the latest change, deletions included, to
// a key matching filter; 0 when there was none. In a cluster the
// bucket's leader answers it (the bucket has no direct gets), so it
// counts every acknowledged change.
func (s *Store) Revision(ctx context.Context, filter string) (uint64, error) {
	stored, err := storedKey(filter, true)
	if err != nil {
		return 0, fmt.Errorf("revision %.200s: %w", filter, err)
	}
	c, err := s.conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("revision %s: %w", filter, err)
	}
	st, err := c.js.Stream(ctx, metaStream)
	if err != nil {
		return 0, fmt.Errorf("revision %s: %w", filter, s.leaderless(err))
	}
	m, err := st.GetLastMsgForSubject(ctx, kvSubjectPrefix+stored)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("revision %s: %w", filter, s.leaderless(err))
	}
	return m.Sequence, nil
}

// Watch sends every change to the keys matching filter after revision
// after, until ctx ends or the store closes; then it closes the channel.
// The first watcher is made before Watch returns, so that a bucket that
// cannot be watched fails the call.
func (s *Store) Watch(ctx context.Context, filter string, after uint64) (<-chan Change, error) {
	stored, err := storedKey(filter, true)
	if err != nil {
		return nil, fmt.Errorf("watch %.200s: %w", filter, err)
	}
	w, err := s.watchFrom(ctx, stored, after)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", filter, err)
	}
	out := make(chan Change, 64)
	go s.follow(ctx, filter, stored, w, after, out)
	return out, nil
}

// watchFrom watches the stored keys from revision after+1 on.
func (s *Store) watchFrom(ctx context.Context, stored string, after uint64) (jetstream.KeyWatcher, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return nil, err
	}
	opts := []jetstream.WatchOpt{jetstream.IncludeHistory()}
	if after > 0 {
		opts = append(opts, jetstream.ResumeFromRevision(after+1))
	}
	return c.kv.Watch(ctx, stored, opts...)
}

// maxWatchRetry caps the wait between attempts to watch again.
const maxWatchRetry = 5 * time.Second

// follow forwards a watcher's changes to out, watching again after the
// last change sent whenever the watcher ends (its connection was closed
// and replaced), until ctx ends or the store is closed.
func (s *Store) follow(ctx context.Context, filter, stored string, w jetstream.KeyWatcher, last uint64, out chan<- Change) {
	defer close(out)
	defer func() {
		if w != nil {
			_ = w.Stop()
		}
	}()
	retry := 100 * time.Millisecond
	for {
		if w == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(retry):
			}
			nw, err := s.watchFrom(ctx, stored, last)
			if errors.Is(err, ErrClosed) || ctx.Err() != nil {
				return
			}
			if err != nil {
				s.log.Warn("store: watching the metadata bucket again; retrying", "filter", filter, "in", retry, "err", err)
				retry = min(2*retry, maxWatchRetry)
				continue
			}
			w, retry = nw, 100*time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			switch {
			case !ok:
				w = nil // the subscription ended with its connection
				continue
			case e == nil || e.Revision() <= last:
				// The end of the values at start; or a change sent
				// before the watch was made again.
				continue
			}
			ch, err := change(e)
			if err != nil {
				s.log.Error("store: an unreadable metadata change; skipped", "filter", filter, "err", err)
			} else {
				select {
				case out <- ch:
				case <-ctx.Done():
					return
				}
			}
			last = e.Revision()
		}
	}
}

// change turns a watched entry into a Change, with the key as written.
func change(e jetstream.KeyValueEntry) (Change, error) {
	sk := e.Key()
	if op := e.Operation(); op == jetstream.KeyValueDelete || op == jetstream.KeyValuePurge {
		key := sk
		if hashed(sk) {
			key = ""
		}
		return Change{Entry: Entry{Key: key, Revision: e.Revision()}, Deleted: true}, nil
	}
	k, v, err := unwrap(sk, e.Value())
	if err != nil {
		return Change{}, err
	}
	return Change{Entry: Entry{Key: k, Value: v, Revision: e.Revision()}}, nil
}
