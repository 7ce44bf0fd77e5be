// Package kinesis is the Amazon Kinesis Data Streams front end over the
// stream engine (internal/streams): the actions, their validation, AWS's
// errors and wording (enginerrors.go maps the engine's), AWS's throughput
// limits, event streams, metrics, and the AWS JSON 1.1 and CBOR protocols
// that carry them over HTTP.
package kinesis

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-data/tributary/internal/seal"
	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/streams"
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
	// StripeShards is streams.Config's: shards of a new stream per
	// JetStream stream (0: the default; streams.LayoutA: one each).
	StripeShards int
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

// Service is the Kinesis API over the stream engine. It is safe for
// concurrent use.
type Service struct {
	cfg   Config
	st    *store.Store
	eng   *streams.Engine
	iters *iteratorCodec
	log   *slog.Logger

	// subs are the live SubscribeToShard calls, by consumer and shard.
	subs subscriptions
	// limits are the per-shard throughput buckets; usage shares them
	// with the other nodes of a cluster (nil alone or unthrottled), until
	// stopUsage.
	limits    limits
	usage     *usageShare
	stopUsage func()
	metrics   *metrics
}

// New opens the Kinesis service over st: the stream engine, which
// finishes any stream transitions a previous run left half done, and
// the API's own keys.
func New(ctx context.Context, st *store.Store, cfg Config) (*Service, error) {
	cfg.defaults()
	key, err := storedKey(ctx, st, "server.iterator-key")
	if err != nil {
		return nil, err
	}
	codec, err := newIteratorCodec(key)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, st: st, iters: codec, log: cfg.Logger, metrics: newMetrics(cfg.Registerer)}
	s.eng, err = streams.Open(ctx, st, streams.Config{
		CreateDelay: cfg.CreateDelay, DeleteDelay: cfg.DeleteDelay, UpdateDelay: cfg.UpdateDelay,
		ShardLimit: cfg.ShardLimit, RetentionHour: cfg.RetentionHour, MasterKey: cfg.MasterKey,
		Observer: (*observer)(s), Logger: cfg.Logger, LogsOutliveCrash: st.ManyWriters(),
		StripeShards: cfg.StripeShards,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Throttle && st.ManyWriters() {
		s.shareUsage()
	}
	s.metrics.registerCluster(cfg.Registerer, s)
	return s, nil
}

// shareUsage starts sharing the throttle buckets' usage with the other
// nodes (usage.go).
func (s *Service) shareUsage() {
	s.usage = newUsageShare(s.st, &s.limits)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.runUsage(ctx, s.usage)
	}()
	s.stopUsage = func() { cancel(); <-done }
}

// Close stops background work.
func (s *Service) Close() {
	if s.stopUsage != nil {
		s.stopUsage()
	}
	s.eng.Close()
}

// Engine is the stream engine the service fronts.
func (s *Service) Engine() *streams.Engine { return s.eng }

// Local returns the in-process view of account's streams in region;
// empty strings mean the server's defaults.
func (s *Service) Local(account, region string) *streams.Local {
	if account == "" {
		account = s.cfg.DefaultAccount
	}
	if region == "" {
		region = s.cfg.DefaultRegion
	}
	return streams.NewLocal(s.eng, account, region)
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

// id is the engine's name of the stream.
func (r streamRef) id() streams.Ref {
	return streams.Ref{Account: r.account, Region: r.region, Name: r.name}
}

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

// findStreamByID finds one of the caller's streams by the StreamId that
// DescribeStreamSummary reports, which newer actions accept instead of a
// name or ARN.
func (s *Service) findStreamByID(c caller, id string) (streamRef, *streams.Stream, *Error) {
	for _, m := range s.eng.List(c.account, c.region) {
		if m.StreamID() == id {
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
func (s *Service) findStreamAny(c caller, name, arn, id *Str) (streamRef, *streams.Stream, *Error) {
	if id != nil && name == nil && arn == nil {
		return s.findStreamByID(c, string(*id))
	}
	return s.findStream(c, name, arn)
}

// validStream ends a request's validation with its StreamName and
// StreamARN, then finds the stream: the preamble of most stream actions.
func (s *Service) validStream(c caller, v *validation, name, arn *Str) (streamRef, *streams.Stream, *Error) {
	ref, aerr := validRef(c, v, name, arn)
	if aerr != nil {
		return ref, nil, aerr
	}
	e, aerr := s.lookup(ref)
	return ref, e, aerr
}

// validRef ends a request's validation with its StreamName and StreamARN
// and resolves them.
func validRef(c caller, v *validation, name, arn *Str) (streamRef, *Error) {
	checkStreamName(v, name, arn, true)
	if err := v.err(); err != nil {
		return streamRef{}, err
	}
	return c.resolve(name, arn)
}

// findStream resolves a request's StreamName/StreamARN and looks the
// stream up: the first step of most stream actions.
func (s *Service) findStream(c caller, name, arn *Str) (streamRef, *streams.Stream, *Error) {
	ref, aerr := c.resolve(name, arn)
	if aerr != nil {
		return ref, nil, aerr
	}
	e, aerr := s.lookup(ref)
	return ref, e, aerr
}

// lookup returns a visible stream's metadata.
func (s *Service) lookup(ref streamRef) (*streams.Stream, *Error) {
	e, err := s.eng.Lookup(ref.id())
	return e, awsError(ref, err)
}

// lookupShard is lookup for a request naming one of the stream's shards
// (and, unless uid is "", its incarnation). A node whose copy of the
// catalog lacks the shard or the incarnation reads the stream afresh
// before it answers that they do not exist: another node's reshard or
// re-creation may not have reached it yet, and an iterator made there
// must work here.
func (s *Service) lookupShard(ctx context.Context, ref streamRef, idx int, uid string) (*streams.Stream, *Error) {
	e, aerr := s.lookup(ref)
	if aerr == nil && idx < len(e.Meta.Shards) && (uid == "" || e.Meta.UID == uid) {
		return e, nil
	}
	if f, err := s.eng.Fresh(ctx, ref.id()); err == nil {
		return f, nil
	}
	return e, aerr
}

// arn renders a stream's ARN from its reference.
func (r streamRef) arn() string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", r.region, r.account, r.name)
}

// metaARN is the ARN of a stream.
func metaARN(m *streams.Meta) string { return refOf(m).arn() }

// refOf is the reference of a stream.
func refOf(m *streams.Meta) streamRef { return streamRef{m.Account, m.Region, m.Name} }

func trimAction(target string) (string, bool) {
	const prefix = "Kinesis_20131202."
	if !strings.HasPrefix(target, prefix) || len(target) == len(prefix) {
		return "", false
	}
	return target[len(prefix):], true
}
