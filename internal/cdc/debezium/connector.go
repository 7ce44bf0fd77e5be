package debezium

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// ConnectorClass is Debezium's MySQL connector class, which Tributary's
// runtime maps to this package so that Debezium configurations run
// unchanged.
const ConnectorClass = "io.debezium.connector.mysql.MySqlConnector"

const (
	// pollMax bounds the records one Poll returns: big enough batches
	// for the runtime to write efficiently, small enough to return
	// promptly.
	pollMax = 1000
	// queueSize bounds the records converted but not yet polled; the
	// engine blocks (stops reading the binary log) when it is full.
	queueSize = 1024
	// pollWait is how long Poll waits for a first record before
	// returning none, so the runtime regains control regularly.
	pollWait = time.Second
)

// Connector is the Debezium MySQL source connector.
type Connector struct {
	props map[string]string
}

// NewConnector returns an unstarted connector.
func NewConnector() connect.SourceConnector { return &Connector{} }

// Config describes Debezium's settings that Tributary reads.
func (c *Connector) Config() connect.ConfigDef { return configDef() }

// Start checks the configuration, so that a bad one fails the connector
// rather than each task.
func (c *Connector) Start(ctx context.Context, props map[string]string) error {
	if _, err := ParseSettings(props); err != nil {
		return err
	}
	c.props = maps.Clone(props)
	if keys := UnusedKeys(props); len(keys) > 0 {
		// Once per connector start, names only: values such as SASL
		// JAAS configurations may hold secrets.
		connect.Logger(ctx).Info("configuration keys accepted but without effect in Tributary",
			"class", ConnectorClass, "keys", strings.Join(keys, ","))
	}
	return nil
}

// TaskConfigs returns one task, whatever tasks.max says: a MySQL binary
// log is one ordered stream that only one reader can follow, which is
// why Debezium's MySQL connector runs one task too.
func (c *Connector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{maps.Clone(c.props)}, nil
}

// Stop implements connect.Connector.
func (c *Connector) Stop() error { return nil }

// Task returns a task that reads the server with the engine of package
// cdc.
func (c *Connector) Task() connect.SourceTask { return &task{run: runEngine, wait: pollWait} }

// runFunc runs the engine until ctx ends or it fails; tests replace it.
type runFunc func(ctx context.Context, s *Settings, from *cdc.Position, h *handler, log *slog.Logger) error

// task runs the engine in a goroutine that hands records to Poll through
// a bounded queue.
type task struct {
	run runFunc
	// wait is how long Poll waits for a first record (pollWait).
	wait   time.Duration
	out    chan *data.Record
	done   chan struct{}
	err    error // Run's result, set before done is closed
	cancel context.CancelFunc
}

// Start reads the offset stored under {"server": topic.prefix} and
// starts the engine from it.
func (t *task) Start(ctx context.Context, props map[string]string, tc connect.SourceTaskContext) error {
	s, err := ParseSettings(props)
	if err != nil {
		return err
	}
	off, err := tc.Offset(ctx, Partition(s.TopicPrefix))
	if err != nil {
		return fmt.Errorf("reading the stored offset of %s: %w", s.TopicPrefix, err)
	}
	from, err := PositionFromOffset(off)
	if err != nil {
		return err
	}
	log := connect.Logger(ctx).With("class", ConnectorClass)
	h := &handler{f: NewFormatter(s, nil, uuid.NewString()), s: s}
	if from != nil {
		ts, _ := offsetNumber(off[offsetTsSec])
		sid, _ := offsetNumber(off[offsetServerID])
		var at time.Time
		if ts > 0 {
			at = time.Unix(ts, 0)
		}
		h.resume = Offset(*from, at, uint32(sid), false)
		h.lastTime, h.lastServer = at, uint32(sid)
		log.Info("resuming MySQL change capture", "file", from.File, "pos", from.Pos, "gtids", from.GTIDSet)
	} else if len(off) > 0 {
		log.Info("the stored offset was written during a snapshot that did not finish; snapshotting again")
	}
	t.out = make(chan *data.Record, queueSize)
	h.out = t.out
	t.done = make(chan struct{})
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t.cancel = cancel
	go func() {
		defer close(t.done)
		err := t.run(rctx, s, from, h, log)
		if rctx.Err() == nil {
			// Hand out the record held back for its offset: the
			// engine is done, so no boundary will come for it.
			if ferr := h.flush(rctx); ferr != nil && err == nil {
				err = ferr
			}
		}
		t.err = err
	}()
	return nil
}

// Poll returns the records converted so far, up to pollMax, waiting up
// to a second for the first. Once the engine has stopped and its records
// are handed out, Poll returns its error, which fails the task; an
// engine that finished (snapshot.mode=initial_only) leaves the task idle.
func (t *task) Poll(ctx context.Context) ([]*data.Record, error) {
	timer := time.NewTimer(t.wait)
	defer timer.Stop()
	var batch []*data.Record
	select {
	case r := <-t.out:
		batch = append(batch, r)
	case <-t.done:
		batch = t.drain(batch)
		if len(batch) > 0 {
			return batch, nil
		}
		if t.err != nil && !errors.Is(t.err, context.Canceled) {
			return nil, fmt.Errorf("MySQL change capture stopped: %w", t.err)
		}
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		return nil, nil
	case <-ctx.Done():
		return nil, nil
	case <-timer.C:
		return nil, nil
	}
	return t.drain(batch), nil
}

// drain adds the queued records to batch without waiting, up to pollMax.
func (t *task) drain(batch []*data.Record) []*data.Record {
	for len(batch) < pollMax {
		select {
		case r := <-t.out:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// Stop stops the engine and waits for it.
func (t *task) Stop() error {
	if t.cancel != nil {
		t.cancel()
		<-t.done
	}
	return nil
}

// handler receives the engine's changes and queues their records, each
// with the source partition and the offset to resume from once it is
// written. Records of a transaction carry the offset of the boundary
// before the transaction, except the transaction's last record, which
// carries the boundary after it: a restart never resumes inside a
// transaction, so it never loses the rest of one. To know which record
// is last, the handler holds the latest record back until the next
// record or boundary.
type handler struct {
	f   *Formatter
	s   *Settings
	out chan<- *data.Record
	// pending is the record held back.
	pending *data.Record
	// resume is the offset of the last boundary (or the stored offset
	// the engine started from), nil before the first.
	resume map[string]any
	// lastTime and lastServer describe the last event read, for the
	// offsets' ts_sec and server_id.
	lastTime   time.Time
	lastServer uint32
	// snapshotting is set by snapshot reads until the boundary that
	// ends the snapshot.
	snapshotting bool
}

func (h *handler) note(src *cdc.Source) {
	if !src.Time.IsZero() {
		h.lastTime = src.Time
	}
	if src.ServerID != 0 {
		h.lastServer = src.ServerID
	}
}

// Change queues a row change's records.
func (h *handler) Change(ctx context.Context, c *cdc.Change) error {
	recs, err := h.f.Change(c)
	if err != nil {
		return fmt.Errorf("debezium format: %w", err)
	}
	var off map[string]any
	if c.Source.Snapshot != "" {
		h.snapshotting = true
		off = Offset(c.Source.Pos, c.Source.Time, c.Source.ServerID, true)
	} else {
		h.note(&c.Source)
		off = h.resume
		if off == nil {
			off = Offset(c.Source.Pos, h.lastTime, h.lastServer, false)
		}
	}
	return h.emit(ctx, recs, off)
}

// Schema queues a schema change's record. A DDL statement is a
// transaction of its own, so its position is a boundary.
func (h *handler) Schema(ctx context.Context, sc *cdc.SchemaChange) error {
	recs, err := h.f.SchemaChange(sc)
	if err != nil {
		return fmt.Errorf("debezium format: %w", err)
	}
	var off map[string]any
	switch {
	case sc.Source.Snapshot != "" || h.snapshotting:
		h.snapshotting = true
		off = Offset(sc.Source.Pos, sc.Source.Time, sc.Source.ServerID, true)
	case sc.Source.Pos.File != "" || sc.Source.Pos.GTIDSet != "":
		h.note(&sc.Source)
		off = Offset(sc.Source.Pos, h.lastTime, h.lastServer, false)
		h.resume = off
	default:
		off = h.resume
	}
	return h.emit(ctx, recs, off)
}

// Boundary gives the held-back record (the last of its transaction, or
// of the snapshot) the boundary's offset and hands it out.
func (h *handler) Boundary(ctx context.Context, pos cdc.Position) error {
	off := Offset(pos, h.lastTime, h.lastServer, false)
	if err := h.emit(ctx, h.f.Boundary(pos), off); err != nil {
		return err
	}
	if h.pending != nil {
		h.pending.SourceOffset = off
	}
	h.snapshotting = false
	h.resume = off
	return h.flush(ctx)
}

// Heartbeat queues a heartbeat record when heartbeat.interval.ms is set.
// Its offset lets the runtime store the position even when no captured
// table changes. None is sent while a snapshot or transaction is open,
// where the position is no place to resume.
func (h *handler) Heartbeat(ctx context.Context, pos cdc.Position) error {
	if h.s.HeartbeatInterval <= 0 || h.snapshotting || h.f.tx.open {
		return nil
	}
	if err := h.flush(ctx); err != nil {
		return err
	}
	r := h.f.Heartbeat()
	r.SourceOffset = Offset(pos, h.lastTime, h.lastServer, false)
	h.resume = r.SourceOffset
	return h.send(ctx, r)
}

// emit queues records with an offset.
func (h *handler) emit(ctx context.Context, recs []*data.Record, off map[string]any) error {
	for _, r := range recs {
		r.SourceOffset = off
		if h.pending != nil {
			markLastInTable(h.pending, r)
			if err := h.send(ctx, h.pending); err != nil {
				return err
			}
		}
		h.pending = r
	}
	return nil
}

// flush hands out the held-back record.
func (h *handler) flush(ctx context.Context) error {
	if h.pending == nil {
		return nil
	}
	r := h.pending
	h.pending = nil
	return h.send(ctx, r)
}

// send queues a record, waiting while the queue is full: that is the
// backpressure that keeps the engine from reading ahead of the writes.
func (h *handler) send(ctx context.Context, r *data.Record) error {
	select {
	case h.out <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
