package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tributary-data/tributary/internal/storage"
)

// Metadata lives in one KV bucket. Every change is a compare-and-set on the
// key's revision, so two writers (two requests, or later two servers) can
// never silently overwrite each other. Keys may be any string: keys.go
// maps them to what the bucket can hold.

// Entry is a metadata value with the revision it was read at.
type Entry = storage.Entry

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
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		if derr := s.checkKey(ctx, stored); derr != nil {
			return Entry{}, fmt.Errorf("get %s: %w", key, derr)
		}
	}
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
	if errors.Is(err, jetstream.ErrKeyExists) || wrongLastSequence(err) {
		s.settle(ctx, key, 0)
		return 0, fmt.Errorf("create %s: %w", key, ErrExists)
	}
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", key, s.unavailable(err))
	}
	return rev, nil
}

// wrongLastSequence reports a write refused because its key was not at
// the revision expected. jetstream's KeyValue.Create returns that
// refusal unwrapped when the key had been deleted (nats.go v1.55): from
// a replicated bucket, with code 10164, which is not ErrKeyExists. Two
// nodes recreating a deleted key (the shard quota's, emptied) then saw
// an error instead of ErrExists.
func wrongLastSequence(err error) bool {
	var ae *jetstream.APIError
	return errors.As(err, &ae) && (ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
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
		s.settle(ctx, key, rev)
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
		s.settle(ctx, key, rev)
		return fmt.Errorf("delete %s: %w", key, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, s.unavailable(err))
	}
	return nil
}

// settleTimeout bounds settle's wait.
const settleTimeout = 2 * time.Second

// settle waits, briefly, until key no longer reads as it did when a
// write to it was refused as conflicting (at revision rev; 0: no key).
// In a cluster the bucket's leader also refuses a write that conflicts
// with one it has proposed but not yet applied, so a caller that reads
// the key right after the refusal may find it unchanged: a Create
// refused because the key exists, then a Get that finds no key; an
// Update refused, then a Get of the same revision, and the retry
// refused again. Returning after the winning write is readable keeps
// the contract callers rely on: a refused write means a change they
// can read.
func (s *Store) settle(ctx context.Context, key string, rev uint64) {
	if !s.clustered && s.ns != nil {
		return // one server applies a write before refusing the next
	}
	deadline := time.Now().Add(settleTimeout)
	for wait := time.Millisecond; time.Now().Before(deadline); wait = min(2*wait, 50*time.Millisecond) {
		e, err := s.Get(ctx, key)
		switch {
		case err == nil && e.Revision != rev, errors.Is(err, ErrNotFound) && rev != 0:
			return
		case err != nil && !errors.Is(err, ErrNotFound):
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// List returns every live entry whose key matches the NATS subject filter
// (for example "stream.>"), with the keys as they were written. A filter
// is mapped like a key, its wildcards kept: "<prefix>.>" finds every key
// under the prefix whatever its length or characters.
//
// It asks the bucket's index which keys exist and then reads each one,
// rather than watching the bucket: a watcher waits for the last value to
// arrive, and JetStream silently skips a message that fails its checksum,
// so one damaged value made start-up wait forever. Here a key the index
// knows but whose value cannot be read is reported as a DamagedError.
func (s *Store) List(ctx context.Context, filter string) ([]Entry, error) {
	stored, err := storedKey(filter, true)
	if err != nil {
		return nil, fmt.Errorf("list %.200s: %w", filter, err)
	}
	c, err := s.conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", filter, err)
	}
	st, err := c.js.Stream(ctx, metaStream)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", filter, err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(kvSubjectPrefix+stored))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", filter, err)
	}
	subjects := make([]string, 0, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		subjects = append(subjects, subj)
	}
	sort.Strings(subjects)
	var (
		out     []Entry
		damaged []string
	)
	for _, subj := range subjects {
		sk := strings.TrimPrefix(subj, kvSubjectPrefix)
		m, err := st.GetLastMsgForSubject(ctx, subj)
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			// The index counts a message for the key, but JetStream could
			// not read it back: it failed its checksum.
			damaged = append(damaged, sk)
			continue
		case err != nil:
			return nil, fmt.Errorf("list %s: get %s: %w", filter, sk, err)
		case isMarker(m):
			continue
		}
		k, v, err := unwrap(sk, m.Data)
		if err != nil {
			return out, fmt.Errorf("list %s: %w", filter, err)
		}
		out = append(out, Entry{Key: k, Value: v, Revision: m.Sequence})
	}
	if len(damaged) > 0 {
		return out, &DamagedError{Keys: damaged, Dir: s.metaDir()}
	}
	return out, nil
}

// isMarker reports whether a bucket message records a delete or purge
// rather than a value.
func isMarker(m *jetstream.RawStreamMsg) bool {
	return m.Header.Get(kvOperation) != ""
}

// kvOperation is the header of the bucket's delete and purge markers.
const kvOperation = "KV-Operation"

// checkKey tells a key (in its stored form) that was never written from one whose value is
// damaged: JetStream answers "not found" for both (and for a deleted
// key), but its index still counts a message for a damaged one, which it
// cannot read back.
func (s *Store) checkKey(ctx context.Context, key string) error {
	c, err := s.conn(ctx)
	if err != nil {
		return err
	}
	st, err := c.js.Stream(ctx, metaStream)
	if err != nil {
		return err
	}
	subj := kvSubjectPrefix + key
	_, err = st.GetLastMsgForSubject(ctx, subj)
	if !errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil // a delete marker, or a value written since
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return err
	}
	if info.State.Subjects[subj] == 0 {
		return nil
	}
	// The key may have been written between the two looks: then its
	// value reads back now.
	if _, err = st.GetLastMsgForSubject(ctx, subj); !errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	return &DamagedError{Keys: []string{key}, Dir: s.metaDir()}
}

// DamagedError reports a damaged metadata bucket: keys whose stored
// values fail their checksum, or messages JetStream dropped as damaged
// when it recovered the bucket at start-up.
type DamagedError struct {
	Keys []string
	Lost []uint64
	// Dir is the metadata bucket's directory, "" in memory.
	Dir string
}

func (e *DamagedError) Error() string {
	where := "the metadata bucket " + metaBucket
	if e.Dir != "" {
		where = e.Dir
	}
	what := fmt.Sprintf("%d key(s) unreadable (failed checksum): %s", len(e.Keys), strings.Join(e.Keys, ", "))
	if len(e.Keys) == 0 {
		what = fmt.Sprintf("message(s) %v lost, so the keys they held are gone", e.Lost)
	}
	return fmt.Sprintf("store: metadata damaged in %s: %s; restore the data directory from a backup "+
		"(see docs/reliability.md, \"Damaged files\")", where, what)
}

// metaStream is the JetStream stream behind the metadata bucket.
const metaStream = "KV_" + metaBucket

// kvSubjectPrefix is how the bucket's keys are stored as subjects.
const kvSubjectPrefix = "$KV." + metaBucket + "."

// metaDir is where the metadata bucket's files are, "" in memory.
func (s *Store) metaDir() string {
	if s.dir == "" {
		return ""
	}
	return filepath.Join(s.dir, "jetstream", "$G", "streams", metaStream)
}
