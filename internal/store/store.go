// Package store keeps Tributary's data in NATS JetStream, embedded in the
// process. It offers the two things the services above it need: ordered,
// durable logs (one per shard) and a key-value bucket with compare-and-set
// for metadata. Keeping JetStream behind this small surface lets the same
// code run on an embedded server alone, on embedded servers joined in a
// JetStream cluster, or on a NATS cluster run by someone else (cluster.go).
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/semaphore"

	"github.com/tributary-data/tributary/internal/lockfile"
	"github.com/tributary-data/tributary/internal/logging"
	"github.com/tributary-data/tributary/internal/storage"
)

// Durability says when a write is acknowledged relative to fsync.
type Durability string

const (
	// Sync acknowledges a write only after it has been fsynced: it survives
	// a crash of the machine, not just of the process.
	Sync Durability = "sync"
	// Interval acknowledges a write once the operating system has it and
	// fsyncs on a timer: it survives a crash of the process, and a crash of
	// the machine loses at most the last interval.
	Interval Durability = "interval"
)

// ParseDurability turns a flag value into a Durability.
func ParseDurability(s string) (Durability, error) {
	switch Durability(s) {
	case Sync, Interval:
		return Durability(s), nil
	}
	return "", fmt.Errorf("durability %q: want %q or %q", s, Sync, Interval)
}

// Config describes where and how data is kept.
type Config struct {
	// Dir holds JetStream's files. Ignored when InMemory is set.
	Dir string
	// InMemory keeps everything in memory: nothing survives a restart.
	// Meant for tests and throwaway servers.
	InMemory bool
	// Durability and SyncInterval choose when writes reach the disk.
	Durability   Durability
	SyncInterval time.Duration
	// MaxBytes caps the bytes the store keeps (JetStream's max_file_store,
	// or max_memory_store when InMemory); past it writes fail with
	// ErrUnavailable until streams are deleted or expire. Zero means no
	// cap but the disk's (or the memory's).
	MaxBytes int64
	// MinFree is the free space kept on the data directory's filesystem:
	// appends are refused below it, metadata writes below half of it.
	// Zero picks DefaultMinFree; negative turns the check off.
	MinFree int64
	// WriteTimeout bounds the wait for a write's acknowledgement; zero
	// means DefaultWriteTimeout.
	WriteTimeout time.Duration
	Logger       *slog.Logger
	// Cluster joins the embedded server to a JetStream cluster (cluster.go);
	// nil runs it alone, as always.
	Cluster *Cluster
	// External uses an existing NATS server or cluster instead of an
	// embedded server; Dir, MinFree, MaxBytes and Durability are then the
	// NATS servers' business and must be left unset.
	External *External
	// Replicas is the replica count of every log and of the metadata
	// bucket: zero means ClusteredReplicas in a cluster, 1 alone.
	Replicas int
}

// ErrNotFound is returned for a key, log or message that does not exist.
var ErrNotFound = storage.ErrNotFound

// ErrConflict is returned when a compare-and-set finds another revision.
var ErrConflict = storage.ErrConflict

// ErrExists is returned when creating a key or log that already exists.
var ErrExists = storage.ErrExists

// Store is an open embedded JetStream server and a client connected to it
// in-process, or a client of an External NATS cluster: the storage.Store
// of the stream engine. It is safe for
// concurrent use.
type Store struct {
	ns *server.Server
	// cur is the connection to ns (conn.go); mu serialises replacing it
	// and closing the store.
	cur     atomic.Pointer[conn]
	mu      sync.Mutex
	closed  bool
	storage jetstream.StorageType
	log     *slog.Logger
	// reads bounds the bytes that reads may have in flight from the server
	// to our in-process client. The server drops a client whose pending
	// output exceeds maxPending (a "slow consumer"), losing every reply in
	// flight; reads reserve their worst case here first so that no mix of
	// concurrent reads can get there.
	reads *semaphore.Weighted
	// lock is the data directory's LOCK, held while the store is open;
	// nil in memory.
	lock *lockfile.Lock
	// dir is the data directory's absolute path, "" in memory.
	dir string
	// opts are the embedded server's, to restart JetStream with.
	opts *server.Options
	// space guards the data directory's free space; suspect is set when
	// a write went unanswered, for heal to look for stuck streams.
	space        *space
	suspect      atomic.Bool
	writeTimeout time.Duration
	maxBytes     int64
	stopHeal     context.CancelFunc
	healDone     chan struct{}
	rebuilt      map[string]bool // logs whose index was missing at Open (recovery.go)
	// clustered is set when JetStream runs in a cluster: streams may then
	// have followers whose copies lag (follower.go).
	clustered bool
	replicas  int
	// remote and natsOpts reach an External cluster, where ns is nil;
	// natsOpts also hold the credentials of a clustered embedded server.
	remote   string
	natsOpts []nats.Option
	// waiting hears what Open waits for (Cluster.Waiting).
	waiting func(why string)
}

// LockFile is the name of the lock file in a data directory.
const LockFile = "LOCK"

// ErrLocked is returned by Open when another process has the data
// directory open. Two JetStream servers on one directory would both
// acknowledge writes and then overwrite each other's files.
var ErrLocked = errors.New("store: data directory in use")

const (
	// maxPayload bounds one stored message: a whole PutRecords request
	// (5 MiB of records, or one record of up to 10 MiB) fits in one.
	maxPayload = 16 << 20
	// maxPending is the server's buffer for output to our client.
	maxPending = 256 << 20
)

const metaBucket = "tributary-meta"

// Open starts the embedded JetStream server and connects to it. The server
// listens on no client port: clients reach it only through this process.
// With Config.Cluster it also listens for its peers' routes, and Open
// waits until the cluster is usable; with Config.External it connects to
// those servers instead.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	if cfg.External != nil {
		return openExternal(ctx, cfg, lg)
	}
	replicas, err := replicaCount(cfg)
	if err != nil {
		return nil, err
	}
	opts, clientOpts, err := serverOptions(cfg)
	if err != nil {
		return nil, err
	}
	wt := cfg.WriteTimeout
	if wt <= 0 {
		wt = DefaultWriteTimeout
	}
	storage, lock, err := prepareDir(cfg, opts, lg)
	if err != nil {
		return nil, err
	}
	rebuilt, err := missingIndexes(opts.StoreDir)
	if err != nil {
		_ = lock.Release()
		return nil, err
	}
	sp := &space{}
	if !cfg.InMemory {
		if sp, err = newSpace(opts.StoreDir, cfg.MinFree); err != nil {
			lg.Warn("store: cannot measure the data directory's free space; writes to a full disk will fail after a timeout", "err", err)
			sp = &space{}
		}
	}
	s, err := start(ctx, opts, storage, lg, wt, replicas, cfg.Cluster, clientOpts)
	if err != nil {
		_ = lock.Release()
		return nil, err
	}
	s.lock, s.opts, s.space, s.maxBytes = lock, opts, sp, cfg.MaxBytes
	s.rebuilt = rebuilt
	if !cfg.InMemory {
		s.dir = opts.StoreDir
	}
	// Restarting JetStream in place to clear a full disk's write errors
	// (space.go) is for a server alone: in a cluster it would also
	// restart the node's part in every Raft group.
	if !cfg.InMemory && !s.clustered {
		s.startHealing()
	}
	if err := s.checkMetaDamage(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// serverOptions are the embedded server's options for cfg, its data
// directory not yet set, and in a cluster the options our client needs to
// reach it.
func serverOptions(cfg Config) (*server.Options, []nats.Option, error) {
	opts := &server.Options{
		ServerName: "tributary",
		DontListen: true,
		JetStream:  true,
		NoSigs:     true,
		MaxPayload: maxPayload,
		MaxPending: maxPending,
		// Explicit limits: left at zero, JetStream caps itself at 75% of
		// the disk free at start-up and never looks again.
		JetStreamMaxStore:  unlimited,
		JetStreamMaxMemory: unlimited,
	}
	var clientOpts []nats.Option
	if cfg.Cluster != nil {
		if err := cfg.Cluster.validate(); err != nil {
			return nil, nil, err
		}
		var err error
		if clientOpts, err = cfg.Cluster.apply(opts); err != nil {
			return nil, nil, err
		}
	}
	if cfg.MaxBytes > 0 {
		// The store refuses appends at MaxBytes itself; JetStream's limit
		// is the backstop, with room for metadata above it.
		if cfg.InMemory {
			opts.JetStreamMaxMemory = cfg.MaxBytes + headroom(cfg.MaxBytes)
		} else {
			opts.JetStreamMaxStore = cfg.MaxBytes + headroom(cfg.MaxBytes)
		}
	}
	switch cfg.Durability {
	case Sync:
		opts.SyncAlways = true
	case Interval, "":
		if cfg.SyncInterval > 0 {
			opts.SyncInterval = cfg.SyncInterval
		}
	default:
		return nil, nil, fmt.Errorf("store: unknown durability %q", cfg.Durability)
	}
	return opts, clientOpts, nil
}

// prepareDir sets the server's data directory: a temporary one in
// memory mode, else cfg.Dir, locked for this process and cleared of the
// log directories JetStream cannot load. It returns the storage type
// for logs and the lock (nil in memory mode).
func prepareDir(cfg Config, opts *server.Options, lg *slog.Logger) (jetstream.StorageType, *lockfile.Lock, error) {
	if cfg.InMemory {
		dir, err := os.MkdirTemp("", "tributary-mem-")
		if err != nil {
			return 0, nil, fmt.Errorf("store: temp dir: %w", err)
		}
		opts.StoreDir = dir
		return jetstream.MemoryStorage, nil, nil
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return 0, nil, fmt.Errorf("store: data dir: %w", err)
	}
	abs, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return 0, nil, fmt.Errorf("store: data dir: %w", err)
	}
	opts.StoreDir = abs
	lock, err := lockDir(abs)
	if err != nil {
		return 0, nil, err
	}
	if err := removeUnloadable(abs, lg); err != nil {
		_ = lock.Release()
		return 0, nil, err
	}
	return jetstream.FileStorage, lock, nil
}

// startHealing runs heal in the background until Close.
func (s *Store) startHealing() {
	hctx, cancel := context.WithCancel(context.Background())
	s.stopHeal, s.healDone = cancel, make(chan struct{})
	go func() {
		defer close(s.healDone)
		s.heal(hctx, time.Second)
	}()
}

// lockDir takes the data directory's LOCK for this process.
func lockDir(dir string) (*lockfile.Lock, error) {
	l, err := lockfile.Acquire(filepath.Join(dir, LockFile))
	var held *lockfile.HeldError
	if errors.As(err, &held) {
		return nil, fmt.Errorf("%w: %s is locked by another process (%s); stop it, or give this one another data directory (-data-dir)",
			ErrLocked, dir, held.Holder)
	}
	if err != nil {
		return nil, fmt.Errorf("store: data dir: %w", err)
	}
	return l, nil
}

// replicaCount is Config.Replicas, or its default.
func replicaCount(cfg Config) (int, error) {
	switch {
	case cfg.Replicas < 0:
		return 0, fmt.Errorf("store: replicas %d: want 1 or more", cfg.Replicas)
	case cfg.Cluster == nil && cfg.Replicas > 1:
		return 0, fmt.Errorf("store: %d replicas need a cluster (node name, cluster address and peers)", cfg.Replicas)
	case cfg.Replicas > 0:
		return cfg.Replicas, nil
	case cfg.Cluster != nil:
		return ClusteredReplicas, nil
	}
	return 1, nil
}

// start runs the embedded server in opts.StoreDir and connects to it; in
// a cluster it waits until the cluster is usable.
func start(ctx context.Context, opts *server.Options, storage jetstream.StorageType, lg *slog.Logger,
	writeTimeout time.Duration, replicas int, cl *Cluster, clientOpts []nats.Option) (*Store, error) {
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("store: new jetstream server: %w", err)
	}
	ns.SetLoggerV2(&natsLogger{l: lg, errs: logging.NewLimiter(10 * time.Second)}, false, false, false)
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("store: jetstream server did not start within 30s")
	}
	s := &Store{ns: ns, storage: storage, log: lg,
		reads: semaphore.NewWeighted(maxPending / 2), space: &space{}, writeTimeout: writeTimeout,
		replicas: replicas, clustered: cl != nil, natsOpts: clientOpts, opts: opts}
	var c *conn
	if cl != nil {
		s.waiting = cl.Waiting
		c, err = s.waitReady(ctx, cl.readyTimeout())
	} else {
		c, err = s.dial(ctx, true)
	}
	if err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, err
	}
	s.cur.Store(c)
	return s, nil
}

// checkMetaDamage fails if messages of the metadata bucket were lost to a
// damaged or truncated block file: some keys are gone, and which ones
// cannot be known, so carrying on would quietly forget streams or keys.
// JetStream reports some such losses itself. Others it leaves silent: a
// block cut short, or whose last message fails its checksum, is truncated
// while the bucket keeps its last sequence. That message is always the
// bucket's latest write, which nothing in a one-value-per-key bucket ever
// removes, so it must be readable.
func (s *Store) checkMetaDamage(ctx context.Context) error {
	c, err := s.conn(ctx)
	if err != nil {
		return fmt.Errorf("store: metadata bucket: %w", err)
	}
	st, err := c.js.Stream(ctx, metaStream)
	if err != nil {
		return fmt.Errorf("store: metadata bucket: %w", err)
	}
	state := st.CachedInfo().State
	if state.Lost != nil && len(state.Lost.Msgs) > 0 {
		return &DamagedError{Lost: state.Lost.Msgs, Dir: s.metaDir()}
	}
	if state.LastSeq == 0 {
		return nil // a new bucket
	}
	_, err = st.GetMsg(ctx, state.LastSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		// Still in the file but failing its checksum, it is a key List
		// can name; cut off, it is lost.
		var damaged *DamagedError
		if _, err := s.List(ctx, ">"); errors.As(err, &damaged) {
			return damaged
		}
		return &DamagedError{Lost: []uint64{state.LastSeq}, Dir: s.metaDir()}
	}
	if err != nil {
		return fmt.Errorf("store: metadata bucket: %w", err)
	}
	return nil
}

// Close drains the client and stops the server, flushing what is pending.
func (s *Store) Close() error {
	if s.stopHeal != nil {
		s.stopHeal()
		<-s.healDone
	}
	s.mu.Lock()
	s.closed = true
	if c := s.cur.Load(); c != nil {
		c.nc.Close()
	}
	s.mu.Unlock()
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
	if s.storage == jetstream.MemoryStorage && s.opts != nil {
		// In memory, the directory JetStream was given holds nothing of
		// value; it was made for this store alone.
		_ = os.RemoveAll(s.opts.StoreDir)
	}
	// Only now may another process open the directory.
	return s.lock.Release()
}

// Dir is the data directory's absolute path, or "" for an in-memory
// store. Other state that belongs with the data (such as a generated TLS
// certificate) lives there, under the same lock.
func (s *Store) Dir() string { return s.dir }

// natsLogger forwards the embedded server's log lines to slog.
type natsLogger struct {
	l *slog.Logger
	// ready is set once the server has started: its start-up notices, a
	// banner and a dump of its configuration, are dropped before that.
	ready atomic.Bool
	// errs rate-limits error lines: a full disk makes the server report
	// the same failure for every write.
	errs *logging.Limiter
}

// Noticef carries both start-up chatter (dropped, or debug for us) and
// slow-consumer reports, which mean lost replies and must be seen.
func (n *natsLogger) Noticef(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	switch {
	case strings.Contains(msg, "Slow Consumer"):
		n.l.Warn(msg)
	case msg == "Server is ready":
		n.ready.Store(true)
		n.l.Debug("jetstream ready")
	case n.ready.Load():
		n.l.Debug(msg)
	}
}

// Warnf reports the server's warnings, except the one about payloads over
// 8 MB: Tributary needs them for 10 MiB records, and only our in-process
// client sends them.
func (n *natsLogger) Warnf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	switch {
	case strings.Contains(msg, "Maximum payloads over"):
		n.l.Debug(msg)
	case strings.Contains(msg, "Plaintext passwords detected"):
		// The client password of a clustered server is made afresh by
		// each process (cluster.go), and the cluster's secret is the
		// operator's own to protect.
		n.l.Debug(msg)
	case strings.Contains(msg, "corrupt"):
		// A damaged file: JetStream drops what it cannot read.
		n.l.Error(msg)
	default:
		n.l.Warn(msg)
	}
}
func (n *natsLogger) Fatalf(format string, v ...any) { n.l.Error(fmt.Sprintf(format, v...)) }

// Errorf logs one line per format every few seconds, with the count of
// those suppressed since the last.
func (n *natsLogger) Errorf(format string, v ...any) {
	if ok, suppressed := n.errs.Allow(format); ok {
		n.l.Error(fmt.Sprintf(format, v...), logging.Suppressed(suppressed)...)
	}
}
func (n *natsLogger) Debugf(format string, v ...any) { n.l.Debug(fmt.Sprintf(format, v...)) }
func (n *natsLogger) Tracef(format string, v ...any) {}

// Ping checks that JetStream is up and answering: the in-process
// connection is open (a closed one is replaced first) and the server
// replies to an account info request.
func (s *Store) Ping(ctx context.Context) error {
	c, err := s.conn(ctx)
	if err != nil {
		return err
	}
	if st := c.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("store: connection to jetstream is %s", st)
	}
	if _, err := c.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("store: jetstream: %w", err)
	}
	return nil
}

var _ storage.Store = (*Store)(nil)
