package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Metadata lives in one KV bucket. Every change is a compare-and-set on the
// key's revision, so two writers (two requests, or later two servers) can
// never silently overwrite each other.

// Entry is a metadata value with the revision it was read at.
type Entry struct {
	Key      string
	Value    []byte
	Revision uint64
}

// Get reads one key.
func (s *Store) Get(ctx context.Context, key string) (Entry, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return Entry{}, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("get %s: %w", key, err)
	}
	return Entry{Key: key, Value: e.Value(), Revision: e.Revision()}, nil
}

// Create writes a key that must not exist yet.
func (s *Store) Create(ctx context.Context, key string, value []byte) (uint64, error) {
	if err := s.checkMeta(len(value)); err != nil {
		return 0, fmt.Errorf("create %s: %w", key, err)
	}
	rev, err := s.kv.Create(ctx, key, value)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("create %s: %w", key, ErrExists)
	}
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", key, s.unavailable(err))
	}
	return rev, nil
}

// Update replaces a key's value if it is still at revision rev.
func (s *Store) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := s.checkMeta(len(value)); err != nil {
		return 0, fmt.Errorf("update %s: %w", key, err)
	}
	nrev, err := s.kv.Update(ctx, key, value, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("update %s: %w", key, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("update %s: %w", key, s.unavailable(err))
	}
	return nrev, nil
}

// Delete removes a key if it is still at revision rev.
func (s *Store) Delete(ctx context.Context, key string, rev uint64) error {
	err := s.kv.Purge(ctx, key, jetstream.LastRevision(rev))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("delete %s: %w", key, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, s.unavailable(err))
	}
	return nil
}

// List returns every live entry whose key matches the NATS subject filter
// (for example "stream.>").
func (s *Store) List(ctx context.Context, filter string) ([]Entry, error) {
	w, err := s.kv.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", filter, err)
	}
	defer w.Stop()
	var out []Entry
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return out, nil
			}
			if e == nil { // initial values delivered
				return out, nil
			}
			out = append(out, Entry{Key: e.Key(), Value: e.Value(), Revision: e.Revision()})
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
}
