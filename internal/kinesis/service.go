// Package kinesis implements the Amazon Kinesis Data Streams API over
// Tributary's store: the actions, their validation and errors as AWS words
// them, and the AWS JSON 1.1 protocol that carries them over HTTP.
package kinesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-data/tributary/internal/logging"
	"github.com/tributary-data/tributary/internal/seal"
	"github.com/tributary-data/tributary/internal/store"
)

// Config holds the knobs of the Kinesis service.
type Config struct {
	// DefaultAccount is the account of requests whose access key is not a
	// 12-digit account id.
	DefaultAccount string
	// DefaultRegion is used when a request carries no credential scope.
	DefaultRegion string
	// CreateDelay, DeleteDelay and UpdateDelay are how long streams stay
	// CREATING, DELETING and UPDATING (after a reshard), so that clients'
	// wait loops are exercised as on AWS. A reshard takes effect when its
	// UpdateDelay ends (see reshard.go); 0 applies it at once.
	CreateDelay, DeleteDelay, UpdateDelay time.Duration
	// ShardLimit is the open-shard quota per account and region.
	ShardLimit int
	// RetentionHour is the length of one hour of retention. It is an hour;
	// tests shorten it to watch records expire.
	RetentionHour time.Duration
	// SubscriptionDuration is how long a SubscribeToShard lasts: five
	// minutes, as on AWS; tests shorten it.
	SubscriptionDuration time.Duration
	// Throttle enforces AWS's per-shard throughput limits on provisioned
	// streams (see throttle.go).
	Throttle bool
	// Registerer receives the service's Prometheus metrics; nil keeps
	// them unregistered.
	Registerer prometheus.Registerer
	// MasterKey, when set (32 bytes or more), derives the data keys of
	// stream encryption; otherwise a key kept in the metadata bucket does.
	MasterKey []byte
	// Verifier, when set, requires every request to carry a valid SigV4
	// signature and makes the signing key's account the caller's. When nil
	// the server is open: any signature or none is accepted (see callerOf).
	Verifier Verifier
	Logger   *slog.Logger
}

func (c *Config) defaults() {
	if c.DefaultAccount == "" {
		c.DefaultAccount = "000000000000"
	}
	if c.DefaultRegion == "" {
		c.DefaultRegion = "us-east-1"
	}
	if c.ShardLimit == 0 {
		c.ShardLimit = 500
	}
	if c.RetentionHour == 0 {
		c.RetentionHour = time.Hour
	}
	if c.SubscriptionDuration == 0 {
		c.SubscriptionDuration = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Service is the Kinesis API over a store. It is safe for concurrent use.
type Service struct {
	cfg   Config
	st    *store.Store
	cat   *catalog
	iters *iteratorCodec
	log   *slog.Logger
	// unavailable rate-limits the lines about writes the store refused
	// (a full disk fails every write, thousands a second).
	unavailable *logging.Limiter

	// createMu serialises CreateStream so that the shard quota check and
	// the creation are one step.
	createMu sync.Mutex
	// locks holds a lock per stream key: puts hold it for reading,
	// reshards and finishDelete for writing (see reshard.go).
	locks keyLocks
	// autoNext spreads records over shards on AUTO-distribution streams.
	autoNext atomic.Uint64
	// appended wakes readers waiting for new records in a shard's log.
	appended signals
	// subs are the live SubscribeToShard calls, by consumer and shard.
	subs subscriptions
	// limits are the per-shard throughput buckets.
	limits  limits
	metrics *metrics
	// damage remembers the damaged ranges of logs already reported.
	damage damageLog
	// keys seal the record batches of encrypted streams.
	keys *keyring
	// cleanStart and started: whether the previous run stopped cleanly,
	// and whether this one started (epoch.go).
	cleanStart bool
	started    atomic.Bool
	// began is when this run started: an iterator made before it may
	// point past where a new epoch began (epoch.go, resumeAt).
	began time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New opens the Kinesis service over st and finishes any stream
// transitions a previous run left half done.
func New(ctx context.Context, st *store.Store, cfg Config) (*Service, error) {
	cfg.defaults()
	cat, err := newCatalog(ctx, st)
	if err != nil {
		return nil, err
	}
	key, err := storedKey(ctx, st, "server.iterator-key")
	if err != nil {
		return nil, err
	}
	codec, err := newIteratorCodec(key)
	if err != nil {
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	s := &Service{cfg: cfg, st: st, cat: cat, iters: codec, log: cfg.Logger, ctx: bg, cancel: cancel,
		metrics: newMetrics(cfg.Registerer), unavailable: logging.NewLimiter(10 * time.Second), began: time.Now()}
	master, err := masterKey(ctx, s)
	if err != nil {
		cancel()
		return nil, err
	}
	s.keys = newKeyring(master)
	if s.cleanStart, err = consumeClean(ctx, st); err != nil {
		cancel()
		return nil, err
	}
	for _, m := range cat.all("stream.") {
		switch m.Status {
		case statusDeleting:
			s.scheduleDelete(m)
		default:
			// Logs are created before the metadata naming them: one
			// missing now was lost, and is re-created past its numbers.
			if err := s.checkLogs(ctx, m); err != nil {
				// Stop what earlier streams scheduled (deletions,
				// reshard completions) against the caller's store.
				s.Close()
				return nil, err
			}
		}
		if m.Reshard != nil && m.Status != statusDeleting {
			// A reshard accepted before a stop or crash: finish it
			// when its update is due, or now if it is overdue.
			s.scheduleReshard(m)
		}
	}
	if err := s.removeOrphanLogs(ctx); err != nil {
		// Housekeeping: the streams are fine without it.
		s.log.Error("removing orphan logs", "err", err)
	}
	s.started.Store(true)
	return s, nil
}

// Close stops background work.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
	s.markClean()
}

// storedKey loads a 32-byte secret kept in the metadata bucket,
// creating it once (seal.StoredKey).
func storedKey(ctx context.Context, st *store.Store, k string) ([]byte, error) {
	return seal.StoredKey(ctx, st, k)
}

// caller is who a request comes from: Kinesis resources are scoped by
// account and region.
type caller struct{ account, region string }

var streamNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

const streamNamePattern = "[a-zA-Z0-9_.-]+"

// streamRef is a stream named by name or ARN in a request.
type streamRef struct {
	account, region, name string
}

func (r streamRef) key() string { return streamKey(r.account, r.region, r.name) }

var streamARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):stream/([a-zA-Z0-9_.-]+)$`)

// checkName validates an optional member holding a stream or shard name;
// both have the same constraints.
func checkName(v *validation, field string, s *Str) {
	if s != nil {
		v.pattern(field, string(*s), streamNamePattern, streamNameRE.MatchString(string(*s)))
		v.lenRange(field, string(*s), 1, 128)
	}
}

// checkStreamName validates an optional StreamName/StreamARN pair the way
// AWS does and reports the problems into v.
func checkStreamName(v *validation, name, arn *Str, required bool) {
	checkName(v, "streamName", name)
	if name == nil && arn == nil && required {
		v.notNull("streamName", false)
	}
	if arn != nil {
		v.pattern("streamARN", string(*arn), `arn:aws.*:kinesis:.*:\d{12}:stream/\S+`, streamARNRE.MatchString(string(*arn)))
		v.lenRange("streamARN", string(*arn), 1, 2048)
	}
}

// resolve turns a request's StreamName/StreamARN into a stream reference.
// An ARN names its own account and region.
func (c caller) resolve(name, arn *Str) (streamRef, *Error) {
	if arn != nil {
		m := streamARNRE.FindStringSubmatch(string(*arn))
		if m == nil {
			return streamRef{}, errInvalidArgument("Invalid StreamARN %s.", *arn)
		}
		if name != nil && string(*name) != m[3] {
			return streamRef{}, errInvalidArgument("StreamARN %s and StreamName %s do not refer to the same stream.", *arn, *name)
		}
		return streamRef{account: m[2], region: m[1], name: m[3]}, nil
	}
	if name == nil {
		return streamRef{}, errInvalidArgument("Either StreamName or StreamARN should be provided.")
	}
	return streamRef{account: c.account, region: c.region, name: string(*name)}, nil
}

// errNotActive refuses an action that needs an ACTIVE stream.
func errNotActive(ref streamRef, status string) *Error {
	return errResourceInUse("Stream %s under account %s not ACTIVE, instead in state %s", ref.name, ref.account, status)
}

// beginUpdate makes a stream UPDATING for the update delay, as AWS does
// while a reshard, a mode change or an encryption change takes effect.
func (s *Service) beginUpdate(m *streamMeta, now time.Time) {
	m.Status = statusUpdating
	m.TransitionAt = now.Add(s.cfg.UpdateDelay)
}

// findStreamByID finds one of the caller's streams by the StreamId that
// DescribeStreamSummary reports, which newer actions accept instead of a
// name or ARN.
func (s *Service) findStreamByID(c caller, id string) (streamRef, *cached, *Error) {
	for _, m := range s.cat.all(streamKey(c.account, c.region, "")) {
		if m.streamID() == id {
			ref := streamRef{m.Account, m.Region, m.Name}
			e, aerr := s.lookup(ref)
			return ref, e, aerr
		}
	}
	return streamRef{}, nil, errResourceNotFound("Stream with id %s under account %s not found.", id, c.account)
}

var streamIDRE = regexp.MustCompile(`^[a-z0-9]{20}-[a-z0-9]{3}$`)

// checkStreamID validates an optional StreamId member as AWS does.
func checkStreamID(v *validation, id *Str) {
	if id != nil {
		v.pattern("streamId", string(*id), `[a-z0-9]{20}-[a-z0-9]{3}`, streamIDRE.MatchString(string(*id)))
		v.lenRange("streamId", string(*id), 1, 24)
	}
}

// findStreamAny is findStream for actions that also take a StreamId.
func (s *Service) findStreamAny(c caller, name, arn, id *Str) (streamRef, *cached, *Error) {
	if id != nil && name == nil && arn == nil {
		return s.findStreamByID(c, string(*id))
	}
	return s.findStream(c, name, arn)
}

// findStream resolves a request's StreamName/StreamARN and looks the
// stream up: the first step of most stream actions.
func (s *Service) findStream(c caller, name, arn *Str) (streamRef, *cached, *Error) {
	ref, aerr := c.resolve(name, arn)
	if aerr != nil {
		return ref, nil, aerr
	}
	e, aerr := s.lookup(ref)
	return ref, e, aerr
}

// lookup returns a visible stream's metadata.
func (s *Service) lookup(ref streamRef) (*cached, *Error) {
	e, ok := s.cat.get(ref.key())
	if !ok || (e.meta.Status == statusDeleting && !time.Now().Before(e.meta.TransitionAt)) {
		return nil, streamNotFound(ref.name, ref.account)
	}
	return e, nil
}

// mapStoreErr converts a store failure into the client-visible error.
func mapStoreErr(ref streamRef, err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, store.ErrNotFound) {
		return streamNotFound(ref.name, ref.account)
	}
	return errInternal(err)
}

func (s *Service) ensureLogs(ctx context.Context, m *streamMeta) error {
	for _, sh := range m.Shards {
		err := s.st.CreateLog(ctx, m.logName(sh.Index), s.retention(m.RetentionHours))
		if err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
	}
	return nil
}

func (s *Service) retention(hours int) time.Duration {
	return time.Duration(hours) * s.cfg.RetentionHour
}

// scheduleDelete removes a DELETING stream's data and metadata once its
// delay has passed. It is idempotent, so it also resumes after a crash.
// One task runs per deletion: DeleteStream starts it only when it is the
// call that made the stream DELETING.
func (s *Service) scheduleDelete(m *streamMeta) {
	key := streamKey(m.Account, m.Region, m.Name)
	uid := m.UID
	s.log.Debug("stream deletion scheduled", "stream", m.Name, "at", m.TransitionAt)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-time.After(time.Until(m.TransitionAt)):
		case <-s.ctx.Done():
			return
		}
		if err := s.finishDelete(s.ctx, key, uid); err != nil && s.ctx.Err() == nil {
			s.log.Error("finishing stream deletion", "stream", m.Name, "err", err)
		}
	}()
}

// finishDelete removes the incarnation uid of a DELETING stream: its logs,
// then its metadata. The deletion task and a CreateStream that finds the
// old incarnation due both call it, so it holds the stream's lock for
// writing: whichever comes second finds the work done and does nothing,
// where it once lost the race to remove the metadata and failed (a 500 to
// the CreateStream) with a revision conflict.
//
// The lock also orders it after a reshard's completion: one that began
// before the deletion ends before any log is removed (the children's
// logs it made are removed too, being listed in the metadata's shards or
// its pending reshard), and none can make a log after the removal, which
// nothing would then delete.
func (s *Service) finishDelete(ctx context.Context, key, uid string) error {
	mu := s.streamLock(key)
	mu.Lock()
	defer mu.Unlock()
	for attempt := 0; ; attempt++ {
		e, ok := s.cat.get(key)
		if !ok || e.meta.UID != uid {
			return nil
		}
		shards := e.meta.Shards
		if e.meta.Reshard != nil {
			// An interrupted completion may have made these.
			shards = append(slices.Clone(shards), e.meta.Reshard.Open...)
		}
		for _, sh := range shards {
			if err := s.st.DeleteLog(ctx, e.meta.logName(sh.Index)); err != nil {
				return err
			}
		}
		err := s.cat.remove(ctx, key, e.rev)
		if errors.Is(err, store.ErrConflict) && attempt < 10 {
			// Another change (a tag, a consumer's deregistration) was
			// written since our copy was read: read it again.
			if err := s.cat.reload(ctx, key); err != nil {
				return err
			}
			continue
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		s.metrics.forgetStream(e.meta.Account, e.meta.Region, e.meta.Name)
		s.forgetLogs(e.meta, shards)
		return nil
	}
}

// streamARN renders a stream's ARN from its reference.
func (r streamRef) arn() string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", r.region, r.account, r.name)
}

func trimAction(target string) (string, bool) {
	const prefix = "Kinesis_20131202."
	if !strings.HasPrefix(target, prefix) || len(target) == len(prefix) {
		return "", false
	}
	return target[len(prefix):], true
}
