// Package streams is Tributary's stream engine, under every protocol: a
// catalog of streams (metadata in the store's KV bucket, changed by
// compare-and-set), routing of hash keys to shards, the record batch
// format, puts and reads, resharding, retention, encryption at rest,
// wake-up signals for readers, the consumers' registry and the deletion
// task. Front ends (the Kinesis API in internal/kinesis, the Connect
// runtime and the CDC daemons through Local) word its errors for their
// protocol; it imports none of them.
package streams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-data/tributary/internal/backoff"
	"github.com/tributary-data/tributary/internal/logging"
	"github.com/tributary-data/tributary/internal/seal"
	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/storage"
)

// Config holds the engine's knobs.
type Config struct {
	// CreateDelay, DeleteDelay and UpdateDelay are how long streams stay
	// CREATING, DELETING and UPDATING (after a reshard), so that clients'
	// wait loops are exercised as on AWS. A reshard takes effect when its
	// UpdateDelay ends (see reshard.go); 0 applies it at once.
	CreateDelay, DeleteDelay, UpdateDelay time.Duration
	// ShardLimit is the open-shard quota per scope (account and region).
	ShardLimit int
	// RetentionHour is the length of one hour of retention. It is an hour;
	// tests shorten it to watch records expire.
	RetentionHour time.Duration
	// MasterKey, when set (32 bytes or more), derives the data keys of
	// stream encryption; otherwise a key kept in the metadata bucket does.
	MasterKey []byte
	// WakePoll bounds a reader's wait for a shard's next records when
	// other nodes share the store: a lost cross-node wake-up delays the
	// records by at most this much (wake.go). Zero means DefaultWakePoll.
	WakePoll time.Duration
	// Observer, when set, hears of storage damage and removed streams.
	Observer Observer
	Logger   *slog.Logger
	// LogsOutliveCrash is set where other processes write the logs: NATS
	// servers this process does not run keep them, or JetStream replicates
	// them over a cluster (with replicas > 1 what a quorum acknowledged
	// survives one node's crash). It then starts no sequence-number epoch
	// after a crash: such an epoch, begun at the log's end as this node
	// reads it, renumbered the records other nodes acknowledged meanwhile.
	// (With -replicas 1 a node's crash can still lose the end of the logs
	// it holds: docs/cluster.md.)
	LogsOutliveCrash bool
	// StripeShards is how many shards of a new stream share one
	// JetStream stream (layout B, layout.go); 0 means DefaultStripeShards
	// and LayoutA gives new streams one JetStream stream per shard, the
	// layout of every stream made before layout B existed.
	StripeShards int
}

// Observer hears of what the engine finds and does by itself, for a
// front end's metrics and per-stream state.
type Observer interface {
	// LogRecreated: a shard's log was missing at start-up and was
	// re-created empty.
	LogRecreated(m *Meta, shard int)
	// MessagesLost: n stored messages of a shard were found damaged.
	MessagesLost(m *Meta, shard int, n uint64)
	// StreamRemoved: a deleted stream's data and metadata are gone.
	StreamRemoved(m *Meta)
	// Stored: records (of bytes of data and partition keys) were stored
	// in a shard, by any front end.
	Stored(m *Meta, shard, records, bytes int)
}

type nopObserver struct{}

func (nopObserver) LogRecreated(*Meta, int)         {}
func (nopObserver) MessagesLost(*Meta, int, uint64) {}
func (nopObserver) StreamRemoved(*Meta)             {}
func (nopObserver) Stored(*Meta, int, int, int)     {}

func (c *Config) defaults() {
	if c.ShardLimit == 0 {
		c.ShardLimit = 500
	}
	if c.RetentionHour == 0 {
		c.RetentionHour = time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.StripeShards == 0 {
		c.StripeShards = DefaultStripeShards
	}
}

// Engine is the stream engine over a store. It is safe for concurrent use.
type Engine struct {
	cfg Config
	st  storage.Store
	cat *catalog
	log *slog.Logger
	obs Observer
	// unavailable rate-limits the lines about writes the store refused
	// (a full disk fails every write, thousands a second).
	unavailable *logging.Limiter

	// removed are the stream incarnations the observer heard removed.
	removed removals
	// locks holds a lock per stream key: puts hold it for reading,
	// reshards and finishDelete for writing (see reshard.go).
	locks keyLocks
	// autoNext spreads records over shards on AUTO-distribution streams.
	autoNext atomic.Uint64
	// appended wakes readers waiting for new records in a shard's log;
	// wake carries the wake-ups to and from other nodes (nil alone).
	appended signals
	wake     *crossWake
	// damage remembers the damaged ranges of logs already reported.
	damage damageLog
	// keys seal the record batches of encrypted streams.
	keys *keyring
	// cleanStart and started: whether the previous run stopped cleanly,
	// and whether this one started (epoch.go).
	cleanStart bool
	started    atomic.Bool
	// began is when this run started: a position saved before it may
	// point past where a new epoch began (epoch.go, resumeAt).
	began time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Open opens the engine over st and finishes any stream transitions a
// previous run left half done: deletions, reshards, logs a crash lost.
func Open(ctx context.Context, st storage.Store, cfg Config) (*Engine, error) {
	cfg.defaults()
	cat, err := newCatalog(ctx, st)
	if err != nil {
		return nil, err
	}
	master, err := seal.MasterKey(ctx, st, cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	e := &Engine{cfg: cfg, st: st, cat: cat, log: cfg.Logger, obs: cfg.Observer, ctx: bg, cancel: cancel,
		unavailable: logging.NewLimiter(10 * time.Second), keys: newKeyring(master), began: time.Now()}
	// Before resume: the reshard completions it schedules wake readers.
	e.wake = newCrossWake(st, cfg.WakePoll, e.log, e.appended.fire)
	if e.cleanStart, err = e.consumeClean(ctx); err != nil {
		e.Close()
		return nil, err
	}
	if err := e.resume(ctx); err != nil {
		// Stop what earlier streams scheduled (deletions, reshard
		// completions) against the caller's store.
		e.Close()
		return nil, err
	}
	// From now on, what changes in the catalog, here or on another
	// node, sets off what follows from it.
	cat.changed = e.catalogChanged
	e.wg.Add(1)
	if err := cat.follow(e.ctx, func(msg string, err error) { e.log.Error(msg, "err", err) }, e.wg.Done); err != nil {
		e.wg.Done()
		e.Close()
		return nil, err
	}
	if err := e.removeOrphanLogs(ctx); err != nil {
		// Housekeeping: the streams are fine without it.
		e.log.Error("removing orphan logs", "err", err)
	}
	if e.wake != nil {
		e.wg.Go(func() { e.runWakePoll(bg) })
	}
	e.started.Store(true)
	return e, nil
}

// resume restarts the background work of every stream in the catalog.
func (e *Engine) resume(ctx context.Context) error {
	for _, m := range e.cat.all("stream.") {
		switch m.Status {
		case StatusDeleting:
			e.scheduleDelete(m)
		default:
			// Logs are created before the metadata naming them: one
			// missing now was lost, and is re-created past its numbers.
			if err := e.checkLogsPatiently(ctx, m); err != nil {
				return err
			}
		}
		if m.Reshard != nil && m.Status != StatusDeleting {
			// A reshard accepted before a stop or crash: finish it
			// when its update is due, or now if it is overdue.
			e.scheduleReshard(m)
		}
	}
	return nil
}

// checkLogsPatiently is checkLogs, tried again on a cluster while the
// store cannot answer for the stream's logs (ErrUnavailable): after a
// restart, the logs made while this node was down, or whose replicas are
// still electing a leader, answer only after a while, and start-up waits
// for them (within ctx) rather than fail.
func (e *Engine) checkLogsPatiently(ctx context.Context, m *Meta) error {
	b := backoff.New(100*time.Millisecond, 2*time.Second)
	for {
		err := e.checkLogs(ctx, m)
		if err == nil || !e.st.ManyWriters() || !errors.Is(err, storage.ErrUnavailable) {
			return err
		}
		e.log.Warn("waiting for a stream's logs to answer", "stream", m.Name, "err", err)
		if b.Wait(ctx) != nil {
			return err
		}
	}
}

// Close stops background work and records a clean stop.
func (e *Engine) Close() {
	e.cancel()
	e.wg.Wait()
	if e.wake != nil {
		e.wake.close()
	}
	e.markClean()
}

// Store is the store the engine keeps its streams in; front ends keep
// their own settings beside them.
func (e *Engine) Store() storage.Store { return e.st }

// UpdateDelay is how long an update keeps a stream UPDATING.
func (e *Engine) UpdateDelay() time.Duration { return e.cfg.UpdateDelay }

// Retention is how long records are kept on a stream of the given
// retention hours.
func (e *Engine) Retention(hours int) time.Duration {
	return time.Duration(hours) * e.cfg.RetentionHour
}

// lookupTimeout bounds the read of the bucket by which Lookup makes sure
// of a stream its copy of the catalog lacks.
const lookupTimeout = 5 * time.Second

// Lookup returns a visible stream: one that exists and whose deletion
// is not yet due. A stream this engine's catalog lacks is looked for in
// the bucket before it is called missing: another node may have just
// made it. (Lookup takes no context, as its callers are many and the
// wait is rare and bounded by lookupTimeout.)
func (e *Engine) Lookup(ref Ref) (*Stream, error) {
	s, ok := e.cat.get(ref.Key())
	if !ok {
		ctx, cancel := context.WithTimeout(e.ctx, lookupTimeout)
		var err error
		s, ok, err = e.cat.fetch(ctx, ref.Key())
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref.Name, err)
		}
	}
	if !ok || (s.Meta.Status == StatusDeleting && !time.Now().Before(s.Meta.TransitionAt)) {
		return nil, fmt.Errorf("%s: %w", ref.Name, ErrStreamNotFound)
	}
	return s, nil
}

// Fresh is Lookup with the stream's metadata read from the bucket, for
// a request that must see every change acknowledged before it, on any
// node (a consumer just registered elsewhere).
func (e *Engine) Fresh(ctx context.Context, ref Ref) (*Stream, error) {
	s, ok, err := e.cat.fetch(ctx, ref.Key())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref.Name, err)
	}
	if !ok || (s.Meta.Status == StatusDeleting && !time.Now().Before(s.Meta.TransitionAt)) {
		return nil, fmt.Errorf("%s: %w", ref.Name, ErrStreamNotFound)
	}
	return s, nil
}

// Sync brings the engine's catalog up to every change acknowledged
// before the call, whichever node made it: List, Lookup and the rest
// then answer as the bucket would. It costs a read of the bucket's
// leader; the hot path (puts and reads) does without.
func (e *Engine) Sync(ctx context.Context) error { return e.cat.sync(ctx) }

// List returns the streams of a scope, deleted ones whose deletion is
// due included, sorted by name, as this engine's catalog has them (Sync
// first to include the latest changes made on other nodes).
func (e *Engine) List(account, region string) []*Meta {
	return e.cat.all(scopePrefix(account, region))
}

// Exists reports whether the catalog holds the stream, in any state.
func (e *Engine) Exists(ref Ref) bool {
	_, ok := e.cat.get(ref.Key())
	return ok
}

// All returns the streams of every scope, for operations that map logs
// back to streams.
func (e *Engine) All() []*Meta { return e.cat.all("stream.") }

// Count is the number of streams in every scope.
func (e *Engine) Count() int { return len(e.cat.all("stream.")) }

// Update applies fn to a fresh copy of a stream's metadata and writes it
// back with compare-and-set, retrying when another writer got there
// first. fn's error, other than ErrNoChange (which writes nothing and
// returns the metadata as it is), fails the update unchanged.
func (e *Engine) Update(ctx context.Context, ref Ref, fn func(m *Meta) error) (*Meta, error) {
	m, err := e.cat.update(ctx, ref.Key(), fn)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%s: %w", ref.Name, ErrStreamNotFound)
	}
	return m, err
}

// BeginUpdate makes a stream UPDATING for the update delay, as AWS does
// while a reshard, a mode change or an encryption change takes effect.
// It is for Update functions.
func (e *Engine) BeginUpdate(m *Meta, now time.Time) {
	m.Status = StatusUpdating
	m.TransitionAt = now.Add(e.cfg.UpdateDelay)
}

// Change applies fn to an ACTIVE stream's metadata and makes the stream
// UPDATING for the update delay, as a change that takes time (of
// encryption, of capacity mode) does. A stream that is not ACTIVE, when
// asked or at the write, is a *StatusError.
func (e *Engine) Change(ctx context.Context, ref Ref, fn func(m *Meta) error) error {
	_, now, err := e.active(ref)
	if err != nil {
		return err
	}
	_, err = e.Update(ctx, ref, func(m *Meta) error {
		// Another request may have changed the status since the check
		// above (see reshard).
		if st := m.EffectiveStatus(now); st != StatusActive {
			return &StatusError{st}
		}
		if err := fn(m); err != nil {
			return err
		}
		e.BeginUpdate(m, now)
		return nil
	})
	return err
}

// active returns a stream that must be ACTIVE now (a *StatusError
// otherwise), and when it was.
func (e *Engine) active(ref Ref) (*Stream, time.Time, error) {
	s, err := e.Lookup(ref)
	return activeNow(s, err)
}

// activeFresh is active with the stream read from the bucket, for a
// change planned from the metadata (a reshard): another node may have
// changed it.
func (e *Engine) activeFresh(ctx context.Context, ref Ref) (*Stream, time.Time, error) {
	s, err := e.Fresh(ctx, ref)
	return activeNow(s, err)
}

func activeNow(s *Stream, err error) (*Stream, time.Time, error) {
	if err != nil {
		return nil, time.Time{}, err
	}
	now := time.Now()
	if st := s.Meta.EffectiveStatus(now); st != StatusActive {
		return nil, now, &StatusError{st}
	}
	return s, now, nil
}

// CreateSpec is what a new stream starts with.
type CreateSpec struct {
	Ref
	Shards int
	// Mode, MaxRecordSizeKiB (1024 when 0) and Tags are stored as given.
	Mode             string
	MaxRecordSizeKiB int
	Tags             map[string]string
}

// ValidName reports whether name can name a stream: 1 to 128 letters,
// digits, '_', '.' and '-', so that every front end can name it.
func ValidName(name string) bool {
	if len(name) < 1 || len(name) > 128 {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// Create makes a stream of spec.Shards even shards, CREATING for the
// create delay. A stream of the name whose deletion is due is finished
// off first; one that is not is ErrStreamExists. Creation past the
// scope's shard quota is a *ShardLimitError; an invalid name or fewer
// than one shard is ErrInvalidArgument.
func (e *Engine) Create(ctx context.Context, spec CreateSpec) error {
	ref := spec.Ref
	if !ValidName(ref.Name) || spec.Shards < 1 {
		return fmt.Errorf("create %q with %d shards: %w", ref.Name, spec.Shards, ErrInvalidArgument)
	}
	// The bucket, not this engine's copy, says whether the name is
	// taken: another node may have just made or removed the stream.
	s, ok, err := e.cat.fetch(ctx, ref.Key())
	if err != nil {
		return fmt.Errorf("create %s: %w", ref.Name, err)
	}
	if ok {
		if s.Meta.Status != StatusDeleting || time.Now().Before(s.Meta.TransitionAt) {
			return fmt.Errorf("create %s: %w", ref.Name, ErrStreamExists)
		}
		if err := e.finishDelete(ctx, ref.Key(), s.Meta.UID); err != nil {
			return fmt.Errorf("create %s: %w", ref.Name, err)
		}
	}
	m := e.newMeta(spec)
	quota, err := e.reserveShards(ctx, ref, m.UID, 0, spec.Shards)
	if err != nil {
		return err
	}
	defer quota.Release()
	// The shards' logs exist before the stream is visible: a reader that
	// finds the stream (ACTIVE at once when there is no create delay)
	// must find its logs too. Logs are named by the stream's UID, so a
	// failed create leaves nothing another stream could pick up.
	err = e.ensureLogs(ctx, m)
	if err == nil {
		err = quota.Check()
	}
	if err == nil {
		err = e.cat.create(ctx, m)
	}
	if err != nil {
		for _, n := range m.StoreNames() {
			_ = e.st.DeleteLog(ctx, n)
		}
		if errors.Is(err, storage.ErrExists) {
			return fmt.Errorf("create %s: %w", ref.Name, ErrStreamExists)
		}
		return fmt.Errorf("create %s: %w", ref.Name, err)
	}
	return nil
}

func (e *Engine) newMeta(spec CreateSpec) *Meta {
	now := time.Now().Truncate(time.Second)
	m := &Meta{
		Name: spec.Name, Account: spec.Account, Region: spec.Region,
		UID: newUID(), Created: now, Status: StatusCreating,
		TransitionAt:   now.Add(e.cfg.CreateDelay),
		RetentionHours: 24, Mode: spec.Mode, MaxRecordSizeKiB: spec.MaxRecordSizeKiB,
		StripeShards: max(e.cfg.StripeShards, 0),
	}
	if e.cfg.CreateDelay == 0 {
		m.TransitionAt = time.Time{}
	}
	if m.MaxRecordSizeKiB == 0 {
		m.MaxRecordSizeKiB = 1024
	}
	if len(spec.Tags) > 0 {
		m.Tags = spec.Tags
	}
	for i, r := range shard.SplitEvenly(spec.Shards) {
		m.Shards = append(m.Shards, ShardMeta{Index: i, Start: r.Start.String(), End: r.End.String(), Created: now})
	}
	return m
}

// Delete makes a stream DELETING and starts the task that removes it
// once the delete delay has passed (at once without one). Deleting a
// DELETING stream succeeds and changes nothing: the call that made it
// DELETING started its deletion, and only that one.
func (e *Engine) Delete(ctx context.Context, ref Ref) error {
	started := false
	m, err := e.Update(ctx, ref, func(m *Meta) error {
		started = false
		if m.Status == StatusDeleting {
			return ErrNoChange
		}
		m.Status = StatusDeleting
		m.TransitionAt = time.Now().Add(e.cfg.DeleteDelay)
		started = true
		return nil
	})
	if err != nil || !started {
		return err
	}
	if e.cfg.DeleteDelay == 0 {
		if err := e.finishDelete(ctx, ref.Key(), m.UID); err != nil {
			return fmt.Errorf("delete %s: %w", ref.Name, err)
		}
	} else {
		e.scheduleDelete(m)
	}
	// Readers learn of the deletion now, not at their next heartbeat.
	for _, sh := range m.Shards {
		e.wakeReaders(m.LogName(sh.Index))
	}
	return nil
}

// SetRetention sets a stream's retention to hours; check, when set, may
// refuse the change given the current retention. The shards' logs
// expire records from then on.
func (e *Engine) SetRetention(ctx context.Context, ref Ref, hours int, check func(m *Meta) error) error {
	m, err := e.Update(ctx, ref, func(m *Meta) error {
		if check != nil {
			if err := check(m); err != nil {
				return err
			}
		}
		if hours == m.RetentionHours {
			return ErrNoChange
		}
		m.RetentionHours = hours
		return nil
	})
	if err != nil {
		return err
	}
	for _, sh := range m.Shards {
		if err := e.st.SetLogMaxAge(ctx, m.LogName(sh.Index), e.Retention(m.RetentionHours)); err != nil {
			return fmt.Errorf("retention of %s: %w", ref.Name, err)
		}
	}
	return nil
}

func (e *Engine) ensureLogs(ctx context.Context, m *Meta) error {
	names := make([]string, len(m.Shards))
	for i, sh := range m.Shards {
		names[i] = m.LogName(sh.Index)
	}
	return e.st.CreateLogs(ctx, names, e.Retention(m.RetentionHours))
}

// scheduleDelete removes a DELETING stream's data and metadata once its
// delay has passed. It is idempotent, so it also resumes after a crash.
// One task runs per deletion on the node that made the stream DELETING:
// Delete starts it only when it is the call that did. The other nodes
// run one each too, after takeoverGrace (scheduleDeleteAfter), doing
// the work only if that node did not (it died).
func (e *Engine) scheduleDelete(m *Meta) { e.scheduleDeleteAfter(m, 0) }

// scheduleDeleteAfter is scheduleDelete, grace after the deletion is due.
func (e *Engine) scheduleDeleteAfter(m *Meta, grace time.Duration) {
	key := streamKey(m.Account, m.Region, m.Name)
	uid := m.UID
	e.log.Debug("stream deletion scheduled", "stream", m.Name, "at", m.TransitionAt, "grace", grace)
	e.runDue(m, grace, "finishing stream deletion", func(ctx context.Context) error { return e.finishDelete(ctx, key, uid) })
}

// runDue runs do once m's transition is due, plus grace, and again with
// growing pauses while it fails (an election in a cluster), until it
// succeeds or the engine closes.
func (e *Engine) runDue(m *Meta, grace time.Duration, what string, do func(ctx context.Context) error) {
	wait, retry := time.Until(m.TransitionAt.Add(grace)), time.Second
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			if backoff.Sleep(e.ctx, wait) != nil {
				return
			}
			err := do(e.ctx)
			if err == nil || e.ctx.Err() != nil {
				return
			}
			e.log.Error(what+"; retrying", "stream", m.Name, "in", retry, "err", err)
			wait, retry = retry, min(2*retry, maxReshardRetry)
		}
	}()
}

// finishDelete removes the incarnation uid of a DELETING stream: its logs,
// then its metadata. The deletion task and a Create that finds the old
// incarnation due both call it, so it holds the stream's lock for
// writing: whichever comes second finds the work done and does nothing,
// where it once lost the race to remove the metadata and failed (a 500 to
// the CreateStream) with a revision conflict.
//
// The lock also orders it after a reshard's completion: one that began
// before the deletion ends before any log is removed (the children's
// logs it made are removed too, being listed in the metadata's shards or
// its pending reshard), and none can make a log after the removal, which
// nothing would then delete.
func (e *Engine) finishDelete(ctx context.Context, key, uid string) error {
	mu := e.streamLock(key)
	mu.Lock()
	defer mu.Unlock()
	for attempt := 0; ; attempt++ {
		// Another node may have finished it already.
		s, ok, ferr := e.cat.fetch(ctx, key)
		if ferr != nil {
			return ferr
		}
		if !ok || s.Meta.UID != uid {
			return nil
		}
		if err := e.deleteLogs(ctx, s.Meta); err != nil {
			return err
		}
		err := e.cat.remove(ctx, key, s.rev)
		if errors.Is(err, storage.ErrConflict) && attempt < 10 {
			// Another change (a tag, a consumer's deregistration) was
			// written since our copy was read: read it again.
			if err := e.cat.reload(ctx, key); err != nil {
				return err
			}
			continue
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		e.streamRemoved(s.Meta)
		// Firing the signals drops them and wakes readers still waiting,
		// which then find the stream gone.
		for _, log := range s.Meta.LogNames() {
			e.wakeReaders(log)
		}
		if e.wake != nil {
			e.wake.forget(s.Meta.LogNames())
		}
		return nil
	}
}

// deleteLogs removes every log of a stream, those of a pending
// reshard's children included (an interrupted completion may have made
// them).
func (e *Engine) deleteLogs(ctx context.Context, m *Meta) error {
	for _, log := range m.StoreNames() {
		if err := e.st.DeleteLog(ctx, log); err != nil {
			return err
		}
	}
	return nil
}

// streamLock returns the lock that orders puts against reshards and a
// deletion's removal of the logs, for one Lock and Unlock (or RLock and
// RUnlock): the entry goes once its last user lets go (keyLocks).
func (e *Engine) streamLock(key string) keyLock {
	return e.locks.take(key)
}

// Woken returns a channel closed at the next append to a shard on any
// node (or the shard's closing, or the stream's deletion), or, when
// other nodes share the store, after WakePoll without news, in case
// their notification was lost (wake.go). Take it before reading,
// so that an append between the read and the wait is not missed. If the
// stream is gone, the signal this made is fired at once, dropping it,
// and the reader wakes to find the stream gone.
func (e *Engine) Woken(m *Meta, shard int) <-chan struct{} {
	log := m.LogName(shard)
	if e.wake != nil {
		e.wake.want(log)
	}
	ch := e.appended.next(log)
	if e.Gone(m) {
		e.appended.fire(log)
	}
	return ch
}

// Gone reports whether a stream incarnation is no longer in the catalog.
// Front ends that keep state per stream check it after making some, as
// a request that found the stream before its deletion completed may
// make it after the deletion's Observer.StreamRemoved.
func (e *Engine) Gone(m *Meta) bool {
	s, ok := e.cat.get(streamKey(m.Account, m.Region, m.Name))
	return !ok || s.Meta.UID != m.UID
}

// Footprint is what the engine keeps per stream outside the catalog:
// stream locks and wake-up signals, for tests and diagnostics that check
// deleted streams leave nothing behind.
type Footprint struct{ Locks, Signals int }

// Footprint returns the engine's per-stream state now.
func (e *Engine) Footprint() Footprint {
	e.appended.mu.Lock()
	defer e.appended.mu.Unlock()
	return Footprint{Locks: e.locks.len(), Signals: len(e.appended.m)}
}

// Waiting reports whether a reader waits on a shard's wake-up signal.
func (e *Engine) Waiting(m *Meta, shard int) bool {
	e.appended.mu.Lock()
	defer e.appended.mu.Unlock()
	_, ok := e.appended.m[m.LogName(shard)]
	return ok
}

// logStoreError logs a failure at error level; failures of a store that
// refuses writes for now (a full disk) are one line per ten seconds per
// msg, with the count of those suppressed, since they come with every
// write until space is freed.
func (e *Engine) LogStoreError(msg string, err error, args ...any) {
	args = append(args, "err", err)
	if errors.Is(err, storage.ErrUnavailable) {
		ok, n := e.unavailable.Allow(msg)
		if !ok {
			return
		}
		args = append(args, logging.Suppressed(n)...)
	}
	e.log.Error(msg, args...)
}
