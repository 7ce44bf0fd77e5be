// Package storage is what the stream engine (internal/streams) needs of
// a store: logs of numbered messages and a key-value bucket changed by
// compare-and-set, their types and their errors. internal/store
// implements it over embedded NATS JetStream; the package itself is a
// leaf, so the engine depends on no server, client or protocol package.
package storage

import (
	"context"
	"errors"
	"time"
)

// Store is a store of logs and of metadata.
type Store interface {
	LogStore
	KV
}

// LogStore keeps append-only logs of messages numbered 1, 2, 3… in write order,
// which expire by age.
type LogStore interface {
	CreateLog(ctx context.Context, name string, maxAge time.Duration) error
	// RecreateLog makes a missing log anew, numbering from firstSeq.
	RecreateLog(ctx context.Context, name string, maxAge time.Duration, firstSeq uint64) error
	SetLogMaxAge(ctx context.Context, name string, maxAge time.Duration) error
	DeleteLog(ctx context.Context, name string) error
	// Logs lists every log by name.
	Logs(ctx context.Context) ([]string, error)
	// AppendAsync starts appending one message; appends to several logs
	// may be in flight at once.
	AppendAsync(name string, payload []byte) Pending
	// Read returns up to maxMsgs messages from sequence from (0: the
	// oldest kept), stopping once maxBytes have been returned.
	Read(ctx context.Context, name string, from uint64, maxMsgs, maxBytes int) (ReadResult, error)
	// ReadFromTime is Read from the first message stored at or after t.
	ReadFromTime(ctx context.Context, name string, t time.Time, maxMsgs, maxBytes int) (ReadResult, error)
	State(ctx context.Context, name string) (LogState, error)
	// LastMessage is the sequence of the last message a log still holds
	// (0 for none); damage at a log's end can leave it below LastSeq.
	LastMessage(ctx context.Context, name string) (uint64, error)
	// HasMessage reports whether a log still holds the message at seq.
	HasMessage(ctx context.Context, name string, seq uint64) (bool, error)
	// IndexRebuilt reports whether the log's index was missing when the
	// store opened, so that the log may have forgotten messages at its
	// end and will number new ones as if they had never been.
	IndexRebuilt(name string) bool
}

// KV is a bucket of values under string keys, each with a revision that
// every change checks.
type KV interface {
	Get(ctx context.Context, key string) (Entry, error)
	Create(ctx context.Context, key string, value []byte) (uint64, error)
	Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error)
	Delete(ctx context.Context, key string, rev uint64) error
	// List returns the entries whose keys match filter (a prefix ending
	// in ">", as "stream.>").
	List(ctx context.Context, filter string) ([]Entry, error)
	// Revision is the revision of the latest change, deletions included,
	// to a key matching filter (0 if there was none): once a Watch of the
	// filter has sent a change at or past it, its watcher has seen every
	// change acknowledged before Revision was asked.
	Revision(ctx context.Context, filter string) (uint64, error)
	// Watch sends every change to the keys matching filter made after
	// revision after, in revision order, whichever node or process made
	// it, until ctx ends; then it closes the channel. A change that a
	// later one to the same key replaced before it could be sent may be
	// skipped. The watch outlives the store's reconnections and
	// elections, resuming after the last change it sent.
	Watch(ctx context.Context, filter string, after uint64) (<-chan Change, error)
}

// Change is a change to a key, as Watch reports it: its new value, or
// its deletion (Deleted, with no value). Key is empty for the deletion
// of a key the store holds under a hashed name (a key too long or
// unusual to be a subject): the deletion says no more than its revision.
type Change struct {
	Entry
	Deleted bool
}

// Pending is an append in flight; Wait returns its sequence once the
// store has stored it (and, with synchronous durability, fsynced it).
type Pending interface {
	Wait(ctx context.Context) (uint64, error)
}

// FailedAppend is a Pending that fails with err, for an append that could
// not be started by its caller.
func FailedAppend(err error) Pending { return failed{err} }

type failed struct{ err error }

func (f failed) Wait(context.Context) (uint64, error) { return 0, f.err }

// Message is one stored log entry.
type Message struct {
	Seq  uint64
	Time time.Time
	Data []byte
}

// ReadResult is a run of consecutive messages and what lies beyond them.
type ReadResult struct {
	Messages []Message
	// Pending counts messages after the last one returned: zero means the
	// reader is at the tip of the log.
	Pending uint64
}

// LogState describes the extent of a log.
type LogState struct {
	// FirstSeq is the oldest message kept; LastSeq the newest ever stored.
	// When FirstSeq > LastSeq the log holds nothing.
	FirstSeq, LastSeq uint64
	LastTime          time.Time
	Msgs              uint64
	Bytes             uint64
	// Lost lists the messages the store found damaged (failing their
	// checksum, or cut off by a truncated file) and dropped when it
	// recovered the log at start-up.
	Lost []uint64
}

// Entry is a metadata value with the revision it was read at.
type Entry struct {
	Key      string
	Value    []byte
	Revision uint64
}

var (
	// ErrNotFound is returned for a key, log or message that does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is returned when a compare-and-set finds another revision.
	ErrConflict = errors.New("store: revision conflict")
	// ErrExists is returned when creating a key or log that already exists.
	ErrExists = errors.New("store: already exists")
	// ErrUnavailable is returned for a write the store refused or could
	// not confirm for now (a full disk, a write not acknowledged in
	// time). Nothing was acknowledged, so the write may be retried.
	ErrUnavailable = errors.New("store: temporarily unavailable")
)
