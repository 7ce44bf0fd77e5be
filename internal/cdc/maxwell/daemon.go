package maxwell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect"
)

// Daemon timing.
const (
	// storeEvery is how often a new position is stored while rows flow,
	// as Maxwell's position thread does; storeIdle is how often when only
	// the position moves (the daemon's own position writes move it).
	storeEvery = time.Second
	storeIdle  = 10 * time.Second
	// heartbeatEvery is how often the engine reports its position while
	// the log is quiet.
	heartbeatEvery = 5 * time.Second
	// progressEvery is how often throughput is logged.
	progressLogEvery = 10 * time.Second
	// drainTimeout bounds the final flush at shutdown.
	drainTimeout = 30 * time.Second
)

// Run is Maxwell's daemon: it reads the binlog of cfg's replication
// server from the position stored in the schema database (or from the
// server's current position the first time: Maxwell does not snapshot,
// tables are bootstrapped on request), writes each row as Maxwell's JSON
// to the producer, and stores its position in the schema database's
// positions table once the producer has acknowledged every row before
// it, so a restart resumes at a transaction boundary with nothing lost.
//
// streams is used by the kinesis producer (nil otherwise); out is where
// the stdout producer writes. Run returns nil when ctx ends, after
// flushing what it read and storing its final position.
func Run(ctx context.Context, cfg *Config, streams connect.Streams, out io.Writer, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := cfg.prepare(); err != nil {
		return err
	}
	logIgnoredKeys(cfg, log)
	prod, err := openProducer(ctx, cfg, streams, out, log)
	if err != nil {
		return err
	}
	closeProducer := sync.OnceValue(prod.close)
	defer closeProducer()

	stateDB := newConn(cfg.Host, cfg.Port, cfg.User, cfg.Password)
	defer stateDB.close()
	src := newConn(cfg.ReplicationHost, cfg.ReplicationPort, cfg.ReplicationUser, cfg.ReplicationPassword)
	defer src.close()
	store, from, err := openState(ctx, cfg, stateDB, src, log)
	if err != nil {
		return fmt.Errorf("maxwell: %w", err)
	}

	// The writer keeps running after ctx ends, to flush what was read.
	flushCtx, cancelFlush := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelFlush()
	sink := newSink(prod, cfg.IgnoreProducerError, log)
	go sink.run(flushCtx)

	p := newPipeline(cfg, sink, charsetLookup(src))
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// A producer failure stops the daemon even while the log is quiet
	// and nothing is emitted.
	go stopOnFailure(sink, cancel)
	var wg sync.WaitGroup
	if cfg.Bootstrapper != "none" {
		p.boot = &bootstrapper{async: cfg.Bootstrapper == "async", store: store, src: src,
			dialSrc: dialStream(cfg.ReplicationHost, cfg.ReplicationPort, cfg.ReplicationUser, cfg.ReplicationPassword),
			enc:     p.enc, out: sink, rows: p, log: log, trigger: make(chan struct{}, 1), due: true}
		if p.boot.async {
			wg.Go(func() {
				if err := p.boot.loop(rctx); err != nil {
					cancel(err)
				}
			})
		}
	}
	pos := &positionStorer{store: store, sink: sink, gtid: cfg.GTIDMode, stored: from}
	wg.Go(func() {
		if err := positionLoop(rctx, sink, p, pos.save, log); err != nil {
			cancel(err)
		}
	})

	engineCfg := cfg.engineConfig(p.include, log)
	runErr := cdc.Run(rctx, engineCfg, from, p)
	cause := context.Cause(rctx)
	cancel(nil)
	sink.wake()
	wg.Wait()

	drainErr := drainAndStore(ctx, sink, pos, log)
	closeErr := closeProducer()

	switch {
	case cause != nil && !errors.Is(cause, context.Canceled):
		return fmt.Errorf("maxwell: %w", cause)
	case runErr != nil && ctx.Err() == nil:
		return fmt.Errorf("maxwell: binlog reader: %w", runErr)
	case drainErr != nil:
		return drainErr
	case closeErr != nil:
		return fmt.Errorf("maxwell: closing the producer: %w", closeErr)
	}
	return nil
}

// stopOnFailure cancels with the sink's failure once the sink is done.
func stopOnFailure(sink *sink, cancel context.CancelCauseFunc) {
	<-sink.done
	if err := sink.failure(); err != nil {
		cancel(err)
	}
}

// logIgnoredKeys tells which settings the daemon does not use.
func logIgnoredKeys(cfg *Config, log *slog.Logger) {
	for _, k := range cfg.UnknownKeys {
		log.Warn("unknown configuration key; ignored", "key", k)
	}
	if len(cfg.IgnoredKeys) > 0 {
		log.Info("Maxwell settings without effect in Tributary; ignored", "keys", strings.Join(cfg.IgnoredKeys, ","))
	}
	if len(cfg.IgnoredKPLKeys) > 0 {
		log.Info("KPL settings without effect in Tributary (each batch is written with PutRecords as it comes); ignored",
			"file", cfg.KPLPath, "keys", strings.Join(cfg.IgnoredKPLKeys, ","))
	}
}

// openState opens the schema database's state for the replication
// server and finds where to start: init_position, else the stored
// position, else (nil) the server's current one.
func openState(ctx context.Context, cfg *Config, stateDB, src *conn, log *slog.Logger) (*stateStore, *cdc.Position, error) {
	serverID, flavor, err := serverInfo(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	store := &stateStore{db: stateDB, schema: quoteIdent(cfg.SchemaDatabase), clientID: cfg.ClientID, serverID: serverID}
	if cfg.GTIDMode {
		store.serverID = 0 // Maxwell keys GTID positions by server 0
	}
	if err := store.ensureSchema(ctx); err != nil {
		return nil, nil, err
	}
	var from *cdc.Position
	if cfg.InitPosition != nil {
		p := *cfg.InitPosition
		from = &p
	} else if from, err = store.position(ctx, cfg.GTIDMode); err != nil {
		return nil, nil, err
	}
	if from != nil {
		from.Flavor = flavor
		log.Info("maxwell: resuming", "client_id", cfg.ClientID, "position", formatPosition(*from))
	} else {
		log.Info("maxwell: no stored position; starting at the server's current position", "client_id", cfg.ClientID)
	}
	return store, from, nil
}

// positionStorer stores the sink's acknowledged position when it has
// moved since the last one stored; the position loop and the final
// flush both call save.
type positionStorer struct {
	mu     sync.Mutex
	store  *stateStore
	sink   *sink
	gtid   bool
	stored *cdc.Position
}

func (s *positionStorer) save(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pos, _ := s.sink.position()
	if pos == nil || (s.stored != nil && samePosition(*pos, *s.stored)) {
		return nil
	}
	if err := s.store.setPosition(ctx, *pos, s.gtid); err != nil {
		return err
	}
	s.stored = pos
	return nil
}

// drainAndStore flushes what the sink holds, within drainTimeout, and
// stores the final position.
func drainAndStore(ctx context.Context, sink *sink, pos *positionStorer, log *slog.Logger) error {
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer dcancel()
	if err := sink.drain(dctx); err != nil {
		return err
	}
	if err := pos.save(dctx); err != nil {
		return err
	}
	if pos.stored != nil {
		log.Info("maxwell: stored final position", "position", formatPosition(*pos.stored))
	}
	return nil
}

// openProducer builds the configured producer.
func openProducer(ctx context.Context, cfg *Config, streams connect.Streams, out io.Writer, log *slog.Logger) (producer, error) {
	switch cfg.Producer {
	case ProducerKinesis:
		if streams == nil {
			return nil, errors.New("maxwell: producer=kinesis needs a Kinesis client")
		}
		names, err := streams.ListStreams(ctx)
		if err != nil {
			return nil, fmt.Errorf("maxwell: listing streams: %w", err)
		}
		if !slices.Contains(names, cfg.KinesisStream) {
			return nil, fmt.Errorf("maxwell: kinesis stream %q does not exist (Maxwell does not create it)", cfg.KinesisStream)
		}
		return &kinesisProducer{streams: streams, stream: cfg.KinesisStream, ignoreErr: cfg.IgnoreProducerError, log: log,
			agg: cfg.Aggregation}, nil
	case ProducerFile:
		f, err := os.OpenFile(cfg.OutputFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("maxwell: output_file: %w", err)
		}
		return newWriterProducer(f, f), nil
	case ProducerNone:
		return noneProducer{}, nil
	default:
		if out == nil {
			out = io.Discard
		}
		return newWriterProducer(out, nil), nil
	}
}

// positionLoop stores the durable position (every second while rows
// flow, every storeIdle otherwise) and logs progress.
func positionLoop(ctx context.Context, s *sink, p *pipeline, store func(context.Context) error, log *slog.Logger) error {
	tick := time.NewTicker(storeEvery)
	defer tick.Stop()
	var lastStore, lastLog time.Time
	var storedAcked uint64
	lastRows, start := int64(0), time.Now()
	lastLog = start
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-tick.C:
			_, acked := s.position()
			if acked != storedAcked || now.Sub(lastStore) >= storeIdle {
				if err := store(ctx); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
				storedAcked, lastStore = acked, now
			}
			if now.Sub(lastLog) >= progressLogEvery {
				rows := p.rows.Load()
				if rows != lastRows {
					pos, _ := s.position()
					rate := float64(rows-lastRows) / now.Sub(lastLog).Seconds()
					attrs := []any{"rows", rows, "rows_per_sec", int64(rate)}
					if pos != nil {
						attrs = append(attrs, "position", formatPosition(*pos))
					}
					log.Info("maxwell: progress", attrs...)
				}
				lastRows, lastLog = rows, now
			}
		}
	}
}

func samePosition(a, b cdc.Position) bool {
	return a.File == b.File && a.Pos == b.Pos && a.GTIDSet == b.GTIDSet
}

func formatPosition(p cdc.Position) string {
	s := p.File + ":" + strconv.FormatUint(uint64(p.Pos), 10)
	if p.GTIDSet != "" {
		s += "[" + p.GTIDSet + "]"
	}
	return s
}
