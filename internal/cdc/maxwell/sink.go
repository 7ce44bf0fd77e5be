package maxwell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"unicode/utf8"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/streams"
)

// Batching limits.
const (
	// maxBatch is the most messages one producer write takes: what one
	// PutRecords takes.
	maxBatch = 500
	// maxQueued bounds the messages waiting for the producer; the
	// engine waits beyond it, which is the daemon's back-pressure.
	maxQueued = 20 * maxBatch
)

// producer writes batches of messages and returns once they are
// acknowledged.
type producer interface {
	put(ctx context.Context, batch []message) error
	close() error
}

// mark is a resume position reached after the first seq messages.
type mark struct {
	seq uint64
	pos cdc.Position
}

// sink is the daemon's emitter. The engine (and the bootstrapper) queue
// messages; one writer goroutine takes whatever has accumulated, up to
// maxBatch, and writes it, so batches grow with the load: one message
// per write when the log is quiet, full PutRecords calls under load,
// while each write waits for the one before it. A boundary's position
// becomes durable once every message queued before it is acknowledged.
type sink struct {
	prod      producer
	ignoreErr bool
	log       *slog.Logger

	mu   sync.Mutex
	cond *sync.Cond
	// queue holds the messages not yet taken by the writer; appended
	// counts every message queued, acked those acknowledged.
	queue    []message
	appended uint64
	acked    uint64
	marks    []mark
	lastMark uint64
	durable  *cdc.Position
	err      error
	closing  bool
	done     chan struct{}
}

func newSink(p producer, ignoreErr bool, log *slog.Logger) *sink {
	s := &sink{prod: p, ignoreErr: ignoreErr, log: log, done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	return s
}

func (s *sink) emit(ctx context.Context, m message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) >= maxQueued {
		stop := context.AfterFunc(ctx, s.wake)
		defer stop()
	}
	for len(s.queue) >= maxQueued && s.err == nil && !s.closing {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.cond.Wait()
	}
	if s.err != nil {
		return s.err
	}
	if s.closing {
		return errors.New("maxwell: producer closed")
	}
	s.queue = append(s.queue, m)
	s.appended++
	s.cond.Broadcast()
	return nil
}

func (s *sink) boundary(_ context.Context, pos cdc.Position) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.lastMark = s.appended
	if s.acked >= s.appended {
		s.marks = s.marks[:0]
		s.durable = &pos
		return nil
	}
	s.marks = append(s.marks, mark{seq: s.appended, pos: pos})
	return nil
}

// flushed waits until everything queued so far is acknowledged.
func (s *sink) flushed(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	target := s.appended
	stop := context.AfterFunc(ctx, s.wake)
	defer stop()
	for s.acked < target && s.err == nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.cond.Wait()
	}
	return s.err
}

// position returns the durable position and the count of acknowledged
// messages.
func (s *sink) position() (*cdc.Position, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.durable, s.acked
}

// failure is the producer error that stopped the writer, if any.
func (s *sink) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// wake makes waiters notice ctx ending.
func (s *sink) wake() {
	s.mu.Lock()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// run is the writer goroutine; it returns once drain has been called
// and the queue is written, or on a producer failure.
func (s *sink) run(ctx context.Context) {
	defer close(s.done)
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closing {
			s.cond.Wait()
		}
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		n := min(len(s.queue), maxBatch)
		batch := make([]message, n)
		copy(batch, s.queue)
		s.queue = s.queue[n:]
		if len(s.queue) == 0 {
			s.queue = nil
		}
		s.cond.Broadcast()
		s.mu.Unlock()

		err := s.prod.put(ctx, batch)
		if err != nil && s.ignoreErr && ctx.Err() == nil {
			// Maxwell's ignore_producer_error: log and carry on.
			s.log.Error("producer failed; the batch is dropped (ignore_producer_error=true)", "messages", n, "err", err)
			err = nil
		}
		s.mu.Lock()
		if err != nil {
			s.err = fmt.Errorf("maxwell: producer: %w", err)
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
		s.acked += uint64(n)
		i := 0
		for ; i < len(s.marks) && s.marks[i].seq <= s.acked; i++ {
			p := s.marks[i].pos
			s.durable = &p
		}
		s.marks = s.marks[i:]
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// drain stops taking messages (see stop) and waits for the writer to
// write the rest.
func (s *sink) drain(ctx context.Context) error {
	s.stop()
	select {
	case <-s.done:
	case <-ctx.Done():
		return fmt.Errorf("maxwell: flushing the producer: %w", ctx.Err())
	}
	return s.failure()
}

// stop makes the writer finish: no more messages are taken, and those
// queued after the last boundary (a transaction cut short, which is read
// again on restart) are dropped.
func (s *sink) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	if extra := s.appended - s.lastMark; extra > 0 {
		drop := min(int(extra), len(s.queue))
		s.queue = s.queue[:len(s.queue)-drop]
		s.appended -= uint64(drop)
	}
	s.closing = true
	s.cond.Broadcast()
}

// Kinesis's limits on one record.
const (
	maxKeyRunes  = 256
	maxRecordLen = 1 << 20 // data and partition key together
)

// kinesisProducer writes to a stream; the partition key is Maxwell's.
type kinesisProducer struct {
	streams streams.Streams
	stream  string
	// ignoreErr and log handle a record Kinesis cannot take (a key over
	// 256 characters, a record over 1 MiB): Maxwell's KPL fails that
	// record alone, which ignore_producer_error then drops.
	ignoreErr bool
	log       *slog.Logger
	// agg is the KPL aggregation the records are packed with.
	agg  Aggregation
	recs []streams.StreamRecord
}

func (k *kinesisProducer) put(ctx context.Context, batch []message) error {
	k.recs = k.recs[:0]
	for _, m := range batch {
		key := m.key
		if key == "" {
			key = "null" // Kinesis needs a key; Maxwell's would be "null" too
		}
		if n := utf8.RuneCountInString(key); n > maxKeyRunes || len(key)+len(m.value) > maxRecordLen {
			err := fmt.Errorf("a record of %d bytes with a partition key of %d characters exceeds Kinesis's limits (1 MiB, 256 characters)", len(m.value), n)
			if !k.ignoreErr {
				return err
			}
			k.log.Error("record dropped (ignore_producer_error=true)", "err", err)
			continue
		}
		k.recs = append(k.recs, streams.StreamRecord{PartitionKey: key, Data: m.value})
	}
	if len(k.recs) == 0 {
		return nil
	}
	recs := k.recs
	if k.agg.Enabled {
		recs = k.agg.aggregate(recs)
	}
	if err := k.streams.Put(ctx, k.stream, recs); err != nil {
		return fmt.Errorf("writing %d records to stream %s: %w", len(k.recs), k.stream, err)
	}
	return nil
}

func (k *kinesisProducer) close() error { return nil }

// writerProducer writes one JSON document per line (stdout and file
// producers).
type writerProducer struct {
	w      *bufio.Writer
	closer io.Closer
}

func newWriterProducer(w io.Writer, c io.Closer) *writerProducer {
	return &writerProducer{w: bufio.NewWriterSize(w, 256<<10), closer: c}
}

func (p *writerProducer) put(_ context.Context, batch []message) error {
	for _, m := range batch {
		p.w.Write(m.value)
		p.w.WriteByte('\n')
	}
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

func (p *writerProducer) close() error {
	err := p.w.Flush()
	if p.closer != nil {
		if cerr := p.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// noneProducer is Maxwell's "none" producer: it discards everything
// (positions still advance).
type noneProducer struct{}

func (noneProducer) put(context.Context, []message) error { return nil }
func (noneProducer) close() error                         { return nil }
