package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tributary-data/tributary/internal/storage"
)

// A log is one JetStream stream with a single subject, or one subject of
// a shared stream (stripe.go). Its messages are numbered by JetStream:
// 1, 2, 3... in a stream of its own, increasing but sparse in a shared
// one. Expiry by age trims it from the front.

// CreateLog makes an empty log whose messages expire after maxAge (zero
// keeps them forever). It is idempotent: creating a log that exists with
// the same configuration succeeds and changes nothing, so a step that a
// crash interrupted can simply be repeated. A log of that name with
// another configuration (another maxAge) is ErrExists.
func (s *Store) CreateLog(ctx context.Context, name string, maxAge time.Duration) error {
	return s.createLog(ctx, name, maxAge, 0)
}

// RecreateLog makes an empty log in place of one that has gone missing
// (its directory was deleted), numbering its messages from firstSeq, so
// that it never issues a sequence the lost log may already have issued.
func (s *Store) RecreateLog(ctx context.Context, name string, maxAge time.Duration, firstSeq uint64) error {
	return s.createLog(ctx, name, maxAge, firstSeq)
}

func (s *Store) createLog(ctx context.Context, name string, maxAge time.Duration, firstSeq uint64) error {
	if isShared(name) {
		return s.createShared(ctx, name, maxAge, firstSeq)
	}
	c, err := s.conn(ctx)
	if err != nil {
		return fmt.Errorf("create log %s: %w", name, err)
	}
	_, err = c.js.CreateStream(ctx, s.logConfig(name, []string{logSubject(name)}, maxAge, firstSeq))
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("create log %s: %w", name, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create log %s: %w", name, err)
	}
	return nil
}

// SetLogMaxAge changes how long a log keeps its messages. Shortening it
// removes what is now too old.
func (s *Store) SetLogMaxAge(ctx context.Context, name string, maxAge time.Duration) error {
	c, err := s.conn(ctx)
	if err != nil {
		return fmt.Errorf("log %s: %w", name, err)
	}
	st, err := c.js.Stream(ctx, LogStream(name))
	if err != nil {
		return fmt.Errorf("log %s: %w", name, mapNotFound(err))
	}
	cfg := st.CachedInfo().Config
	if isShared(name) && cfg.MaxAge == maxAge {
		return nil // set already through another log of the stream
	}
	cfg.MaxAge = maxAge
	// JetStream refuses a duplicates window longer than the max age. It
	// fits the window to a short max age at creation, not on an update.
	if maxAge > 0 && cfg.Duplicates > maxAge {
		cfg.Duplicates = maxAge
	}
	if _, err := c.js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("log %s: set max age: %w", name, err)
	}
	return nil
}

// DeleteLog removes a log and its data; a shared stream's name without a
// log's part removes the stream with all its logs. Deleting a missing log
// is not an error, so that interrupted deletions can simply be repeated.
func (s *Store) DeleteLog(ctx context.Context, name string) error {
	c, err := s.conn(ctx)
	if err == nil && isShared(name) {
		err = s.deleteShared(ctx, c, name)
	} else if err == nil {
		err = c.js.DeleteStream(ctx, name)
	}
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("delete log %s: %w", name, err)
	}
	return nil
}

// Logs lists the names of every JetStream stream holding logs, in no
// particular order: logs of their own, and shared streams by their bare
// names. The metadata bucket, which is not a log, is left out.
func (s *Store) Logs(ctx context.Context) ([]string, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	l := c.js.StreamNames(ctx)
	var out []string
	for name := range l.Name() {
		if name != "KV_"+metaBucket {
			out = append(out, name)
		}
	}
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	return out, nil
}

// Pending is an append in flight; Wait returns its sequence once the
// server has stored it (and, with Sync durability, fsynced it).
type Pending = storage.Pending

// pending is an append to JetStream in flight.
type pending struct {
	f    jetstream.PubAckFuture
	s    *Store
	name string
	err  error
}

// FailedAppend is a Pending that fails with err, for an append that could
// not be started by its caller.
func FailedAppend(err error) Pending { return storage.FailedAppend(err) }

// Wait blocks until the append is acknowledged or ctx ends.
func (p pending) Wait(ctx context.Context) (uint64, error) {
	if p.err != nil {
		return 0, p.err
	}
	select {
	case ack := <-p.f.Ok():
		return ack.Sequence, nil
	case err := <-p.f.Err():
		if err := p.s.closedOr(ctx, p.name, err); errors.Is(err, ErrLogClosed) {
			return 0, err
		}
		return 0, fmt.Errorf("append: %w", p.s.unavailable(err))
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// AppendAsync starts appending one message to a log. Several appends to
// different logs can be in flight at once; that is how a request touching
// many shards pays for one round of storage latency instead of many.
// An append the disk has no room for fails at once with ErrUnavailable.
func (s *Store) AppendAsync(name string, payload []byte) Pending {
	if err := s.checkAppend(len(payload)); err != nil {
		return FailedAppend(fmt.Errorf("append to %s: %w", name, err))
	}
	msg := &nats.Msg{Subject: logSubject(name), Data: payload, Header: nats.Header{}}
	msg.Header.Set(jetstream.ExpectedStreamHeader, LogStream(name))
	// Appends carry no context; replacing a closed connection is bounded
	// by the client's default timeout for JetStream requests.
	c, err := s.conn(context.Background())
	if err != nil {
		return FailedAppend(fmt.Errorf("append to %s: %w", name, err))
	}
	f, err := c.js.PublishMsgAsync(msg)
	if err != nil {
		return FailedAppend(fmt.Errorf("append to %s: %w", name, s.unavailable(err)))
	}
	return pending{f: f, s: s, name: name}
}

// Message is one stored log entry.
type Message = storage.Message

// ReadResult is a run of consecutive messages and what lies beyond them.
type ReadResult = storage.ReadResult

// MaxReadBytes is the most one Read or ReadFromTime may ask for.
const MaxReadBytes = 16 << 20

// Read returns up to maxMsgs messages starting at sequence from (or the
// first one after it that still exists), stopping once maxBytes (at most
// MaxReadBytes) have been returned; the last message may go past it.
// A from of 0 means the oldest message still kept.
func (s *Store) Read(ctx context.Context, name string, from uint64, maxMsgs, maxBytes int) (ReadResult, error) {
	return s.directGet(ctx, name, readRequest{Seq: max(from, 1), Batch: maxMsgs, MaxBytes: maxBytes})
}

// ReadFromTime is Read starting at the first message stored at or after t.
func (s *Store) ReadFromTime(ctx context.Context, name string, t time.Time, maxMsgs, maxBytes int) (ReadResult, error) {
	tu := t.UTC()
	return s.directGet(ctx, name, readRequest{StartTime: &tu, Batch: maxMsgs, MaxBytes: maxBytes})
}

// readRequest is JetStream's batched direct-get request. NextFor filters
// a shared stream on one log's subject; the end-of-batch pending count is
// then that subject's.
type readRequest struct {
	Seq       uint64     `json:"seq,omitempty"`
	NextFor   string     `json:"next_by_subj,omitempty"`
	StartTime *time.Time `json:"start_time,omitempty"`
	Batch     int        `json:"batch"`
	MaxBytes  int        `json:"max_bytes"`
}

func (s *Store) directGet(ctx context.Context, name string, req readRequest) (ReadResult, error) {
	if isShared(name) {
		req.NextFor = logSubject(name)
	}
	req.MaxBytes = min(max(req.MaxBytes, 1), MaxReadBytes)
	// The server may send one message past MaxBytes.
	reserve := int64(req.MaxBytes + maxPayload)
	if err := s.reads.Acquire(ctx, reserve); err != nil {
		return ReadResult{}, fmt.Errorf("read %s: %w", name, err)
	}
	defer s.reads.Release(reserve)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	res, err := s.replicaGet(ctx, name, req)
	if err != nil || !s.clustered || res.Pending > 0 {
		return res, err
	}
	return s.catchUp(ctx, name, req, res)
}

// replicaGet is one batched direct get, answered by whichever replica
// of the log the server picks.
func (s *Store) replicaGet(ctx context.Context, name string, req readRequest) (ReadResult, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return ReadResult{}, err
	}
	c, err := s.conn(ctx)
	if err != nil {
		return ReadResult{}, fmt.Errorf("read %s: %w", name, err)
	}
	inbox := c.nc.NewRespInbox()
	sub, err := c.nc.SubscribeSync(inbox)
	if err != nil {
		return ReadResult{}, fmt.Errorf("read %s: %w", name, err)
	}
	defer sub.Unsubscribe()
	if err := c.nc.PublishRequest("$JS.API.DIRECT.GET."+LogStream(name), inbox, body); err != nil {
		return ReadResult{}, fmt.Errorf("read %s: %w", name, err)
	}
	var res ReadResult
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if errors.Is(err, nats.ErrNoResponders) {
			return res, fmt.Errorf("read %s: %w", name, ErrNotFound)
		}
		if err != nil {
			return res, fmt.Errorf("read %s: %w", name, err)
		}
		switch m.Header.Get("Status") {
		case "":
		case "204": // end of batch
			res.Pending, _ = strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
			return res, nil
		case "404": // nothing at or after the requested position
			return res, nil
		case "503":
			return res, fmt.Errorf("read %s: %w", name, ErrNotFound)
		default:
			return res, fmt.Errorf("read %s: status %s %s", name, m.Header.Get("Status"), m.Header.Get("Description"))
		}
		seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
		if err != nil {
			return res, fmt.Errorf("read %s: bad sequence header: %w", name, err)
		}
		ts, err := time.Parse(time.RFC3339Nano, m.Header.Get(jetstream.TimeStampHeaer))
		if err != nil {
			return res, fmt.Errorf("read %s: bad time header: %w", name, err)
		}
		res.Messages = append(res.Messages, Message{Seq: seq, Time: ts, Data: m.Data})
	}
}

// LogState describes the extent of a log.
type LogState = storage.LogState

// State reports a log's first and last sequence; a shared log's is its
// stream's. It is read from the stream's leader.
func (s *Store) State(ctx context.Context, name string) (LogState, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return LogState{}, fmt.Errorf("log %s: %w", name, err)
	}
	// A server still catching up with its cluster may never answer;
	// ErrUnavailable after opsTimeout lets the caller ask again.
	rctx, cancel := context.WithTimeout(ctx, opsTimeout)
	defer cancel()
	st, err := c.js.Stream(rctx, LogStream(name))
	if err != nil {
		return LogState{}, fmt.Errorf("log %s: %w", name, noAnswer(mapNotFound(err)))
	}
	ss := st.CachedInfo().State
	ls := LogState{FirstSeq: ss.FirstSeq, LastSeq: ss.LastSeq, LastTime: ss.LastTime,
		Msgs: ss.Msgs, Bytes: ss.Bytes}
	if ss.Lost != nil {
		ls.Lost = ss.Lost.Msgs
	}
	return ls, nil
}

// logConfig is the configuration of a JetStream stream holding logs:
// oldest messages expire after maxAge, every replica answers direct gets
// (follower.go handles their lag), numbering starts at firstSeq.
func (s *Store) logConfig(name string, subjects []string, maxAge time.Duration, firstSeq uint64) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        name,
		Subjects:    subjects,
		Storage:     s.storage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      maxAge,
		Discard:     jetstream.DiscardOld,
		AllowDirect: true,
		Replicas:    s.replicas,
		FirstSeq:    firstSeq,
	}
}

// noAnswer marks the errors of a request JetStream did not answer (no
// leader elected yet, a timeout, no responders, its "temporarily
// unavailable", code 10008) as ErrUnavailable, which callers may retry.
func noAnswer(err error) error {
	var ae *jetstream.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders),
		errors.As(err, &ae) && ae.ErrorCode == 10008:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

func mapNotFound(err error) error {
	if errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrKeyNotFound) {
		return ErrNotFound
	}
	return err
}
