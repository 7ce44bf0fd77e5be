package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tributary-data/tributary/internal/connect/data"
	"github.com/tributary-data/tributary/internal/connect/transform"
)

// Source offsets are committed two ways.
//
// Periodically (offset.flush.interval.ms) and on a clean stop, the task's
// offsets go to the KV, as Kafka commits them to its offsets topic. That
// alone is at-least-once: a crash re-sends what was written since the
// last commit.
//
// Where the streams keep record attributes (the in-process engine,
// TailScanner), every poll's records also carry the task's offsets in the
// attributes of the last record written. A task starting after a crash
// scans the tails of its streams for the newest such marker. When a
// poll's records share one stream and one partition key, they and the
// marker are one log message, stored atomically: exactly-once, like
// Kafka's exactly-once source support (KIP-618). A poll whose records
// have several partition keys (so may span shards) or go to several
// streams is written in two steps: all but the last record, then the
// last one with the marker. A crash between the two re-sends that poll's
// records, so there the guarantee is at-least-once for that one poll;
// nothing is ever lost.

// maxPut is the most records the runtime gives one Streams.Put: a
// PutRecords' worth.
const maxPut = 500

// sendTimeout bounds writing one poll's records, retries included; a
// stream that refuses writes for that long fails the task.
const sendTimeout = 5 * time.Minute

// TailScanner is implemented by Streams that keep record attributes, so
// that source tasks can recover the offsets they stored with their
// records.
type TailScanner interface {
	// ScanBack calls fn with the attributes of the records of each
	// shard of stream, newest first, skipping records without
	// attributes, and moves to the next shard when fn returns false or
	// it reaches records that arrived before since.
	ScanBack(ctx context.Context, stream string, since time.Time, fn func(attrs []byte) bool) error
}

// marker is the offsets stored with a poll's last record.
type marker struct {
	Task    string            `json:"task"`
	Batch   uint64            `json:"b"`
	Offsets []PartitionOffset `json:"o"`
}

// commitMark is what the periodic commit records for a task: the batch
// its KV offsets cover, and when, to bound the recovery scan.
type commitMark struct {
	Batch uint64 `json:"b"`
	At    int64  `json:"at"` // Unix ms
}

func taskKey(connector string, task int) string { return fmt.Sprintf("%s#%d", connector, task) }

// sourceOffsets is the task's view of its offsets: committed ones and
// those written since.
type sourceOffsets struct {
	mu        sync.Mutex
	committed map[string]PartitionOffset
	pending   map[string]PartitionOffset
}

func (o *sourceOffsets) key(p map[string]any) string {
	b, _ := json.Marshal(p)
	return string(b)
}

// Offset implements SourceTaskContext.
func (o *sourceOffsets) Offset(_ context.Context, partition map[string]any) (map[string]any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := o.key(partition)
	if po, ok := o.pending[k]; ok {
		return po.Offset, nil
	}
	return o.committed[k].Offset, nil
}

func (o *sourceOffsets) note(r *data.Record) {
	if r.SourcePartition == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending[o.key(r.SourcePartition)] = PartitionOffset{Partition: r.SourcePartition, Offset: r.SourceOffset}
}

// with returns the uncommitted offsets as they will be once polled is
// written.
func (o *sourceOffsets) with(polled []*data.Record) []PartitionOffset {
	o.mu.Lock()
	m := make(map[string]PartitionOffset, len(o.pending)+1)
	for k, po := range o.pending {
		m[k] = po
	}
	o.mu.Unlock()
	for _, r := range polled {
		if r.SourcePartition != nil {
			m[o.key(r.SourcePartition)] = PartitionOffset{Partition: r.SourcePartition, Offset: r.SourceOffset}
		}
	}
	out := make([]PartitionOffset, 0, len(m))
	for _, po := range m {
		out = append(out, po)
	}
	return out
}

// unflushed returns the offsets written since the last commit.
func (o *sourceOffsets) unflushed() []PartitionOffset {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]PartitionOffset, 0, len(o.pending))
	for _, po := range o.pending {
		out = append(out, po)
	}
	return out
}

func (o *sourceOffsets) flushed(offs []PartitionOffset) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, po := range offs {
		k := o.key(po.Partition)
		o.committed[k] = po
		if cur, ok := o.pending[k]; ok && o.key(cur.Offset) == o.key(po.Offset) {
			delete(o.pending, k)
		}
	}
}

// sourceRun is one source task's loop state.
type sourceRun struct {
	h       *Herder
	c       *connRun
	t       *taskRun
	props   map[string]string
	codec   *codec
	chain   transform.Chain
	tol     *tolerance
	offsets *sourceOffsets
	key     string
	batch   uint64
	shards  int
	ensured map[string]bool
}

func (h *Herder) runSource(ctx context.Context, c *connRun, t *taskRun, conn SourceConnector, props map[string]string) error {
	r := &sourceRun{h: h, c: c, t: t, props: props, key: taskKey(c.name, t.id), ensured: map[string]bool{},
		shards: int(intSetting(props, cfgTopicCreationParts, intSetting(h.cfg.Props, cfgTopicCreationParts, 1)))}
	var err error
	if r.codec, err = newCodec(props, h.cfg.Props); err != nil {
		return err
	}
	if r.chain, err = transform.FromConfig(props); err != nil {
		return err
	}
	r.tol = newTolerance(props, h.log, h.metrics, h.cfg.Streams, c.name, t.id)
	if err := r.recover(ctx); err != nil {
		return fmt.Errorf("recovering offsets: %w", err)
	}
	task := conn.Task()
	if err := task.Start(ctx, props, r.offsets); err != nil {
		return fmt.Errorf("starting task: %w", err)
	}
	defer func() {
		if err := task.Stop(); err != nil {
			h.log.Warn("stopping task", "connector", c.name, "task", t.id, "err", err)
		}
	}()
	lastFlush := time.Now()
	for {
		if !t.gate.wait(ctx) {
			break
		}
		recs, err := task.Poll(ctx)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			return fmt.Errorf("poll: %w", err)
		}
		// Send in chunks that one Put takes whole (Streams.Put accepts
		// what PutRecords does), each with its own offsets marker. A
		// stop does not cut a poll's writes short: a write the store
		// took while the client gave up would be sent again after the
		// restart, its offsets never noted. A stop waits for them.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		var serr error
		for len(recs) > 0 && serr == nil {
			n := min(len(recs), maxPut)
			serr = r.send(sctx, recs[:n])
			recs = recs[n:]
		}
		cancel()
		if serr != nil {
			return serr
		}
		if time.Since(lastFlush) >= h.flushEvery {
			if err := r.commit(ctx); err != nil && !h.commitLater(c.name, t.id, err) {
				return err
			}
			lastFlush = time.Now()
		}
	}
	if t.abandoned.Load() {
		return nil // see taskRun.abandoned
	}
	// A clean stop commits what was written; the context is over, so
	// give the commit its own.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return r.commit(cctx)
}

// recover loads the committed offsets and, where the streams keep
// attributes, the newer ones stored with the task's records.
func (r *sourceRun) recover(ctx context.Context) error {
	kv := r.h.cfg.KV
	offs, err := loadOffsets(ctx, kv, r.c.name)
	if err != nil {
		return err
	}
	r.offsets = &sourceOffsets{committed: map[string]PartitionOffset{}, pending: map[string]PartitionOffset{}}
	for _, po := range offs {
		r.offsets.committed[r.offsets.key(po.Partition)] = po
	}
	var mark commitMark
	if b, err := kv.Get(ctx, stateKey(kindMarks, r.key)); err != nil {
		return err
	} else if b != nil {
		if err := json.Unmarshal(b, &mark); err != nil {
			return fmt.Errorf("commit mark of %s: %w", r.key, err)
		}
	}
	r.batch = mark.Batch
	ts, ok := r.h.cfg.Streams.(TailScanner)
	if !ok {
		return nil
	}
	r.h.topicsMu.Lock()
	topics := append([]string(nil), r.c.topics...)
	r.h.topicsMu.Unlock()
	since := time.UnixMilli(mark.At).Add(-time.Minute)
	var newest *marker
	for _, stream := range topics {
		err := ts.ScanBack(ctx, stream, since, func(attrs []byte) bool {
			m, ok := markerOf(attrs)
			if !ok || m.Task != r.key {
				return true
			}
			if newest == nil || m.Batch > newest.Batch {
				newest = m
			}
			return false
		})
		if err != nil && !errors.Is(err, ErrStreamNotFound) {
			return err
		}
	}
	if newest != nil && newest.Batch > r.batch {
		r.batch = newest.Batch
		for _, po := range newest.Offsets {
			r.offsets.pending[r.offsets.key(po.Partition)] = po
		}
		r.h.log.Info("recovered source offsets stored with records", "connector", r.c.name, "task", r.t.id,
			"batch", newest.Batch, "partitions", len(newest.Offsets))
	}
	return nil
}

// streamGroup is one poll's records for one stream.
type streamGroup struct {
	stream string
	recs   []StreamRecord
}

// send transforms, converts and writes one poll's records, then notes
// their offsets.
func (r *sourceRun) send(ctx context.Context, recs []*data.Record) error {
	if len(recs) == 0 {
		return nil
	}
	var groups []*streamGroup
	byStream := map[string]*streamGroup{}
	for _, rec := range recs {
		out, err := r.chain.Apply(rec)
		if err != nil {
			if err := r.tol.failed(ctx, "TRANSFORMATION", rec, nil, err); err != nil {
				return err
			}
			continue
		}
		if out == nil {
			continue // filtered out
		}
		sr, err := r.codec.encode(out)
		if err != nil {
			if err := r.tol.failed(ctx, "VALUE_CONVERTER", out, nil, err); err != nil {
				return err
			}
			continue
		}
		g := byStream[out.Topic]
		if g == nil {
			g = &streamGroup{stream: out.Topic}
			byStream[out.Topic] = g
			groups = append(groups, g)
		}
		g.recs = append(g.recs, sr)
	}
	for _, g := range groups {
		if !r.ensured[g.stream] {
			if err := r.h.cfg.Streams.EnsureStream(ctx, g.stream, r.shards); err != nil {
				return fmt.Errorf("stream %s: %w", g.stream, err)
			}
			r.h.noteTopic(ctx, r.c, g.stream)
			r.ensured[g.stream] = true
		}
	}
	// Counted before writing: write moves the last record, which carries
	// the marker, out of its group when it writes it on its own.
	written := 0
	for _, g := range groups {
		written += len(g.recs)
	}
	if err := r.write(ctx, recs, groups); err != nil {
		return err
	}
	r.h.metrics.sourceRecords.WithLabelValues(r.c.name, strconv.Itoa(r.t.id)).Add(float64(written))
	// Only now are the records stored: their offsets may be committed.
	for _, rec := range recs {
		r.offsets.note(rec)
	}
	return nil
}

// write stores a poll's groups; see the comment at the top of the file
// for the marker.
func (r *sourceRun) write(ctx context.Context, polled []*data.Record, groups []*streamGroup) error {
	if len(groups) == 0 {
		return nil
	}
	if _, ok := r.h.cfg.Streams.(TailScanner); !ok {
		return r.putAll(ctx, groups)
	}
	r.batch++
	m := marker{Task: r.key, Batch: r.batch, Offsets: r.offsets.with(polled)}
	last := groups[len(groups)-1]
	tail := last.recs[len(last.recs)-1]
	var err error
	if tail.Attrs, err = withMarker(tail.Attrs, &m); err != nil {
		return err
	}
	if len(groups) == 1 && samePartitionKey(last.recs) {
		// One stream and one partition key, so one shard: one log
		// message holds the records and the marker, atomically.
		recs := append(last.recs[:len(last.recs)-1:len(last.recs)-1], tail)
		return putWithRetry(ctx, r.h.cfg.Streams, last.stream, recs)
	}
	last.recs = last.recs[:len(last.recs)-1]
	if err := r.putAll(ctx, groups); err != nil {
		return err
	}
	return putWithRetry(ctx, r.h.cfg.Streams, last.stream, []StreamRecord{tail})
}

func samePartitionKey(recs []StreamRecord) bool {
	for _, r := range recs[1:] {
		if r.PartitionKey != recs[0].PartitionKey {
			return false
		}
	}
	return true
}

// putAll writes each group's records, streams in parallel.
func (r *sourceRun) putAll(ctx context.Context, groups []*streamGroup) error {
	if len(groups) == 1 {
		return putWithRetry(ctx, r.h.cfg.Streams, groups[0].stream, groups[0].recs)
	}
	eg, ctx := errgroup.WithContext(ctx)
	for _, g := range groups {
		if len(g.recs) > 0 {
			eg.Go(func() error { return putWithRetry(ctx, r.h.cfg.Streams, g.stream, g.recs) })
		}
	}
	return eg.Wait()
}

// commit writes the offsets written since the last commit to the KV.
func (r *sourceRun) commit(ctx context.Context) error {
	offs := r.offsets.unflushed()
	if len(offs) == 0 {
		return nil
	}
	task := strconv.Itoa(r.t.id)
	err := commitOffsets(ctx, r.h.cfg.KV, r.c.name, offs)
	if err == nil {
		b, _ := json.Marshal(commitMark{Batch: r.batch, At: time.Now().UnixMilli()})
		if err = r.h.cfg.KV.Put(ctx, stateKey(kindMarks, r.key), b); err != nil {
			err = fmt.Errorf("commit mark of %s: %w", r.key, err)
		}
	}
	if err != nil {
		r.h.metrics.commitFails.WithLabelValues(r.c.name, task).Inc()
		return err
	}
	r.h.metrics.commits.WithLabelValues(r.c.name, task).Inc()
	r.offsets.flushed(offs)
	return nil
}
