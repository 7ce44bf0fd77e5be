package connect

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
	"github.com/tributary-data/tributary/internal/connect/transform"

	"github.com/tributary-data/tributary/internal/backoff"
)

// A sink task owns the shards whose (stream, shard) hash falls on its
// index, so each shard has one reader across the connector's tasks. A
// shard is read only once every parent has been read to its end (its
// committed position is ShardEnd, or it has expired), so records of a key
// are delivered in order across splits and merges, as the KCL does.
// Positions are the sequence number of the last record delivered; they
// are committed after the task's Flush.

// sinkReadMax is how many records one read of a shard returns at most.
const sinkReadMax = 1000

// refreshEvery is how often a sink task looks for new streams and
// shards.
const refreshEvery = 2 * time.Second

type shardBatch struct {
	ref  ShardRef
	recs []StreamRecord
	end  bool
}

// sinkSeek collects the positions a task asks for in Start.
type sinkSeek struct {
	mu  sync.Mutex
	pos map[ShardRef]string
}

// Seek implements SinkTaskContext.
func (s *sinkSeek) Seek(positions map[ShardRef]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pos == nil {
		s.pos = map[ShardRef]string{}
	}
	maps.Copy(s.pos, positions)
}

func owns(ref ShardRef, task, ntasks int) bool {
	h := fnv.New32a()
	h.Write([]byte(ref.Stream))
	h.Write([]byte{0})
	h.Write([]byte(ref.Shard))
	return int(h.Sum32()%uint32(max(ntasks, 1))) == task
}

type sinkRun struct {
	h      *Herder
	c      *connRun
	t      *taskRun
	ntasks int
	codec  *codec
	chain  transform.Chain
	tol    *tolerance
	task   SinkTask

	topics []string
	regex  *regexp.Regexp

	// pos is where each shard this task reads stands; dirty marks the
	// ones changed since the last flush.
	pos     map[ShardRef]string
	dirty   map[ShardRef]bool
	readers map[ShardRef]bool
	batches chan shardBatch
	ended   chan ShardRef
	// gone receives the shards whose reader stopped because the stream
	// was not found (deleted, or still being created): a later refresh
	// may start them again.
	gone chan ShardRef
	wg   sync.WaitGroup
}

func (h *Herder) runSink(ctx context.Context, c *connRun, t *taskRun, ntasks int, conn SinkConnector, props map[string]string) error {
	r := &sinkRun{h: h, c: c, t: t, ntasks: ntasks, pos: map[ShardRef]string{}, dirty: map[ShardRef]bool{},
		readers: map[ShardRef]bool{}, batches: make(chan shardBatch, 4), ended: make(chan ShardRef, 64), gone: make(chan ShardRef),
		topics: splitList(props[cfgTopics])}
	var err error
	if re := setting(props, cfgTopicsRegex, ""); re != "" {
		if r.regex, err = regexp.Compile("^(?:" + re + ")$"); err != nil {
			return fmt.Errorf("%s: %w", cfgTopicsRegex, err)
		}
	}
	if r.codec, err = newCodec(props, h.cfg.Props); err != nil {
		return err
	}
	if r.chain, err = transform.FromConfig(props); err != nil {
		return err
	}
	r.tol = newTolerance(props, h.log, h.metrics, h.cfg.Streams, c.name, t.id)
	offs, err := loadOffsets(ctx, h.cfg.KV, c.name)
	if err != nil {
		return err
	}
	for ref, seq := range sinkPositions(offs) {
		if owns(ref, t.id, ntasks) {
			r.pos[ref] = seq
		}
	}
	r.task = conn.Task()
	seek := &sinkSeek{}
	if err := r.task.Start(ctx, props, seek); err != nil {
		return fmt.Errorf("starting task: %w", err)
	}
	defer func() {
		if err := r.task.Stop(); err != nil {
			h.log.Warn("stopping task", "connector", c.name, "task", t.id, "err", err)
		}
	}()
	maps.Copy(r.pos, seek.pos)

	readCtx, stopReaders := context.WithCancel(ctx)
	defer func() {
		stopReaders()
		r.wg.Wait()
	}()
	err = r.loop(ctx, readCtx)
	if err != nil && ctx.Err() == nil {
		return err
	}
	if r.t.abandoned.Load() {
		return nil // see taskRun.abandoned
	}
	// A clean stop: flush and commit what was delivered.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return r.flush(cctx)
}

func (r *sinkRun) loop(ctx, readCtx context.Context) error {
	if err := r.refresh(readCtx); err != nil {
		return err
	}
	refresh := time.NewTicker(refreshEvery)
	defer refresh.Stop()
	flush := time.NewTicker(r.h.flushEvery)
	defer flush.Stop()
	for {
		paused, change := r.t.gate.state()
		batches := r.batches
		if paused {
			batches = nil // readers block until resumed
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-change:
		case b := <-batches:
			if err := r.deliver(ctx, b); err != nil {
				return err
			}
		case <-r.ended:
			if err := r.refresh(readCtx); err != nil {
				return err
			}
		case ref := <-r.gone:
			delete(r.readers, ref)
		case <-refresh.C:
			if err := r.refresh(readCtx); err != nil {
				return err
			}
		case <-flush.C:
			if err := r.flush(ctx); err != nil && !r.h.commitLater(r.c.name, r.t.id, err) {
				return err
			}
		}
	}
}

// streams lists the streams the connector consumes.
func (r *sinkRun) streams(ctx context.Context) ([]string, error) {
	if r.regex == nil {
		return r.topics, nil
	}
	all, err := r.h.cfg.Streams.ListStreams(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range all {
		if r.regex.MatchString(s) && s != r.tol.dlq {
			out = append(out, s)
		}
	}
	return out, nil
}

// refresh starts readers for owned shards that are ready to be read.
func (r *sinkRun) refresh(ctx context.Context) error {
	streams, err := r.streams(ctx)
	if err != nil {
		return fmt.Errorf("listing streams: %w", err)
	}
	var committed map[ShardRef]string
	for _, stream := range streams {
		shards, err := r.h.cfg.Streams.Shards(ctx, stream)
		if errors.Is(err, ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("listing shards of %s: %w", stream, err)
		}
		known := map[string]bool{}
		for _, s := range shards {
			known[s.ID] = true
		}
		for _, s := range shards {
			ref := ShardRef{stream, s.ID}
			if !owns(ref, r.t.id, r.ntasks) || r.readers[ref] || r.pos[ref] == ShardEnd {
				continue
			}
			ready := true
			for _, p := range s.Parents {
				pref := ShardRef{stream, p}
				if !known[p] || r.pos[pref] == ShardEnd {
					continue
				}
				if owns(pref, r.t.id, r.ntasks) {
					ready = false
					break
				}
				if committed == nil {
					offs, err := loadOffsets(ctx, r.h.cfg.KV, r.c.name)
					if err != nil {
						return err
					}
					committed = sinkPositions(offs)
				}
				if committed[pref] != ShardEnd {
					ready = false
					break
				}
			}
			if ready {
				r.startReader(ctx, ref)
			}
		}
		r.h.noteTopic(ctx, r.c, stream)
	}
	return nil
}

func (r *sinkRun) startReader(ctx context.Context, ref ShardRef) {
	r.readers[ref] = true
	after := r.pos[ref]
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		delay := 100 * time.Millisecond
		for {
			res, err := r.h.cfg.Streams.Read(ctx, ref.Stream, ref.Shard, after, sinkReadMax)
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, ErrStreamNotFound) {
				r.h.log.Debug("stream not found; its shard is read again once it is listed", "connector", r.c.name, "stream", ref.Stream, "shard", ref.Shard)
				select {
				case r.gone <- ref:
				case <-ctx.Done():
				}
				return
			}
			if err != nil {
				r.h.log.Warn("reading shard", "connector", r.c.name, "stream", ref.Stream, "shard", ref.Shard, "err", err)
				if backoff.Sleep(ctx, delay) != nil {
					return
				}
				delay = min(2*delay, 5*time.Second)
				continue
			}
			delay = 100 * time.Millisecond
			if len(res.Records) == 0 && !res.End {
				continue
			}
			select {
			case r.batches <- shardBatch{ref: ref, recs: res.Records, end: res.End}:
			case <-ctx.Done():
				return
			}
			if n := len(res.Records); n > 0 {
				after = res.Records[n-1].SequenceNumber
			}
			if res.End {
				return
			}
		}
	}()
}

// deliver converts, transforms and puts one batch.
func (r *sinkRun) deliver(ctx context.Context, b shardBatch) error {
	r.h.metrics.sinkRecords.WithLabelValues(r.c.name, strconv.Itoa(r.t.id)).Add(float64(len(b.recs)))
	recs := make([]*data.Record, 0, len(b.recs))
	for i := range b.recs {
		sr := &b.recs[i]
		rec, err := r.codec.decode(b.ref.Stream, b.ref.Shard, *sr)
		if err != nil {
			failed := &data.Record{Topic: b.ref.Stream, Shard: b.ref.Shard, SequenceNumber: sr.SequenceNumber}
			if err := r.tol.failed(ctx, "VALUE_CONVERTER", failed, sr, err); err != nil {
				return err
			}
			continue
		}
		out, err := r.chain.Apply(rec)
		if err != nil {
			if err := r.tol.failed(ctx, "TRANSFORMATION", rec, sr, err); err != nil {
				return err
			}
			continue
		}
		if out != nil {
			recs = append(recs, out)
		}
	}
	if len(recs) > 0 {
		if err := r.tol.retry(ctx, func() error { return r.task.Put(ctx, recs) }); err != nil {
			return fmt.Errorf("put: %w", err)
		}
	}
	if n := len(b.recs); n > 0 {
		r.pos[b.ref] = b.recs[n-1].SequenceNumber
		r.dirty[b.ref] = true
	}
	if b.end {
		r.pos[b.ref] = ShardEnd
		r.dirty[b.ref] = true
		delete(r.readers, b.ref)
		// A parent finished: its children may be ready. Flush first,
		// so that other tasks see the end too.
		if err := r.flush(ctx); err != nil {
			return err
		}
		select {
		case r.ended <- b.ref:
		default:
		}
	}
	return nil
}

// flush makes delivered records durable in the sink, then commits the
// positions.
func (r *sinkRun) flush(ctx context.Context) error {
	if len(r.dirty) == 0 {
		return nil
	}
	task := strconv.Itoa(r.t.id)
	if err := r.task.Flush(ctx, maps.Clone(r.pos)); err != nil {
		r.h.metrics.commitFails.WithLabelValues(r.c.name, task).Inc()
		return fmt.Errorf("flush: %w", err)
	}
	offs := make([]PartitionOffset, 0, len(r.dirty))
	for ref := range r.dirty {
		offs = append(offs, PartitionOffset{Partition: shardPartition(ref), Offset: map[string]any{"sequence_number": r.pos[ref]}})
	}
	if err := commitOffsets(ctx, r.h.cfg.KV, r.c.name, offs); err != nil {
		r.h.metrics.commitFails.WithLabelValues(r.c.name, task).Inc()
		return err
	}
	r.h.metrics.commits.WithLabelValues(r.c.name, task).Inc()
	clear(r.dirty)
	return nil
}
