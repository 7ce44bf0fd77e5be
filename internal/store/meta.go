package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Metadata lives in one KV bucket. Every change is a compare-and-set on the
// key's revision, so two writers (two requests, or later two servers) can
// never silently overwrite each other. Keys may be any string: keys.go
// maps them to what the bucket can hold.

// Entry is a metadata value with the revision it was read at.
type Entry struct {
	Key      string
	Value    []byte
	Revision uint64
}

// kvKey is the KV handle of a working connection and key's stored form.
func (s *Store) kvKey(ctx context.Context, op, key string) (jetstream.KeyValue, string, error) {
	stored, err := storedKey(key, false)
	if err != nil {
		return nil, "", fmt.Errorf("%s %.200s: %w", op, key, err)
	}
	c, err := s.conn(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", op, key, err)
	}
	return c.kv, stored, nil
}

// Get reads one key.
func (s *Store) Get(ctx context.Context, key string) (Entry, error) {
	kv, stored, err := s.kvKey(ctx, "get", key)
	if err != nil {
		return Entry{}, err
	}
	e, err := kv.Get(ctx, stored)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return Entry{}, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("get %s: %w", key, err)
	}
	k, v, err := unwrap(stored, e.Value())
	if err == nil && k != key {
		err = fmt.Errorf("key %s: holds %s", stored, k)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("get %s: %w", key, err)
	}
	return Entry{Key: key, Value: v, Revision: e.Revision()}, nil
}

// Create writes a key that must not exist yet.
func (s *Store) Create(ctx context.Context, key string, value []byte) (uint64, error) {
	kv, stored, err := s.kvKey(ctx, "create", key)
	if err != nil {
		return 0, err
	}
	if err := s.checkMeta(len(value)); err != nil {
		return 0, fmt.Errorf("create %s: %w", key, err)
	}
	rev, err := kv.Create(ctx, stored, wrap(key, stored, value))
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
	kv, stored, err := s.kvKey(ctx, "update", key)
	if err != nil {
		return 0, err
	}
	if err := s.checkMeta(len(value)); err != nil {
		return 0, fmt.Errorf("update %s: %w", key, err)
	}
	nrev, err := kv.Update(ctx, stored, wrap(key, stored, value), rev)
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
	kv, stored, err := s.kvKey(ctx, "delete", key)
	if err != nil {
		return err
	}
	err = kv.Purge(ctx, stored, jetstream.LastRevision(rev))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("delete %s: %w", key, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, s.unavailable(err))
	}
	return nil
}

// List returns every live entry whose key matches the NATS subject filter
// (for example "stream.>"), with the keys as they were written. A filter
// is mapped like a key, its wildcards kept: "<prefix>.>" finds every key
// under the prefix whatever its length or characters.
func (s *Store) List(ctx context.Context, filter string) ([]Entry, error) {
	stored, err := storedKey(filter, true)
	if err != nil {
		return nil, fmt.Errorf("list %.200s: %w", filter, err)
	}
	c, err := s.conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", filter, err)
	}
	w, err := c.kv.Watch(ctx, stored, jetstream.IgnoreDeletes())
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
			k, v, err := unwrap(e.Key(), e.Value())
			if err != nil {
				return out, fmt.Errorf("list %s: %w", filter, err)
			}
			out = append(out, Entry{Key: k, Value: v, Revision: e.Revision()})
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
}
