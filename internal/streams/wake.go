package streams

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-data/tributary/internal/logging"
	"github.com/tributary-data/tributary/internal/storage"
)

// Wake-ups across nodes. When other processes share the store (the nodes
// of a cluster), a reader waiting on a shard must also wake for their
// appends, which the local signals never see. So after an append is
// acknowledged the writing node publishes a small notification on
// "tributary.wake.<log>", and a node listens on the subjects of the logs
// it has readers waiting on (NATS forwards a notification only to the
// nodes that listen to it). Same-node writes still wake their readers
// directly, without the round trip.
//
// A busy shard does not send one notification per append: the first
// append of a quiet shard is published at once, and later ones within
// wakeCoalesce of the last publication are folded into one more, sent
// when the window ends. A reader is woken at most wakeCoalesce after the
// append it waits for, plus the network's delay.
//
// Notifications are at most once: one lost on the network, or published
// before the listener's interest reached the writer's server, is gone.
// So while the store is shared a reader is also woken when it has waited
// WakePoll without news, and reads again: a lost notification delays its
// records by at most WakePoll, and never strands them.

const (
	// wakeSubject prefixes the subject of a log's notifications.
	wakeSubject = "tributary.wake."
	// wakeCoalesce is the window in which a shard's appends share one
	// notification.
	wakeCoalesce = 5 * time.Millisecond
	// wakeLinger is how long a node keeps listening on a log after its
	// last reader stopped waiting, so that a reader that reads and waits
	// in turn does not make the node subscribe and unsubscribe each time.
	wakeLinger = 30 * time.Second
	// DefaultWakePoll is Config.WakePoll's default.
	DefaultWakePoll = time.Second
)

// WakeStats counts the cross-node wake-ups of an engine since it opened.
type WakeStats struct {
	// Sent counts notifications published for this node's appends.
	Sent uint64
	// Received counts other nodes' notifications heard.
	Received uint64
	// FallbackPolls counts the waits for a shard's records that ended
	// after WakePoll without news, to read again.
	FallbackPolls uint64
}

// crossWake publishes this node's appends to other nodes and wakes local
// readers for theirs. It is nil in an engine whose store is not shared.
type crossWake struct {
	n    storage.Notifier
	node []byte // this engine's id, the payload of its notifications
	poll time.Duration
	log  *slog.Logger
	errs *logging.Limiter
	// wake wakes a log's local readers.
	wake func(log string)

	mu     sync.Mutex
	closed bool
	// pending holds the logs published within the last wakeCoalesce,
	// with whether they have been appended to since.
	pending map[string]*coalesced
	// listening holds the logs this node listens on, with when a reader
	// last waited on each.
	listening map[string]*listening

	sent, received, polls atomic.Uint64
}

type coalesced struct {
	dirty bool
	timer *time.Timer
}

type listening struct {
	stop   func()
	wanted time.Time
}

// newCrossWake returns the cross-node wake-ups of an engine over st, or
// nil if st is not shared with other processes.
func newCrossWake(st storage.Store, poll time.Duration, lg *slog.Logger, wake func(string)) *crossWake {
	n, ok := st.(storage.Notifier)
	if !ok || !st.ManyWriters() {
		return nil
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	if poll <= 0 {
		poll = DefaultWakePoll
	}
	return &crossWake{n: n, node: []byte(hex.EncodeToString(id)), poll: poll, log: lg, wake: wake,
		errs: logging.NewLimiter(10 * time.Second), pending: map[string]*coalesced{}, listening: map[string]*listening{}}
}

// validToken reports whether log can be one token of a NATS subject.
func validToken(log string) bool {
	return log != "" && !strings.ContainsAny(log, ". \t\r\n*>")
}

// appended tells other nodes of an acknowledged append to log, or folds
// it into the notification the current window will send.
func (w *crossWake) appended(log string) {
	if !validToken(log) {
		return
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	if c, ok := w.pending[log]; ok {
		c.dirty = true
		w.mu.Unlock()
		return
	}
	c := &coalesced{}
	w.pending[log] = c
	c.timer = time.AfterFunc(wakeCoalesce, func() { w.windowEnd(log, c) })
	w.mu.Unlock()
	w.publish(log)
}

// windowEnd publishes the appends made to log during its window, which
// opens another; a window without any closes.
func (w *crossWake) windowEnd(log string, c *coalesced) {
	w.mu.Lock()
	if w.closed || w.pending[log] != c {
		w.mu.Unlock()
		return
	}
	if !c.dirty {
		delete(w.pending, log)
		w.mu.Unlock()
		return
	}
	c.dirty = false
	c.timer.Reset(wakeCoalesce)
	w.mu.Unlock()
	w.publish(log)
}

func (w *crossWake) publish(log string) {
	if err := w.n.Notify(context.Background(), wakeSubject+log, w.node); err != nil {
		if ok, n := w.errs.Allow("notify"); ok {
			w.log.Warn("could not tell other nodes of an append; their readers will find it by polling",
				append([]any{"log", log, "err", err}, logging.Suppressed(n)...)...)
		}
		return
	}
	w.sent.Add(1)
}

// listenTimeout bounds the subscription of a log's wake-ups, made while
// the store may be reconnecting to NATS.
const listenTimeout = time.Second

// want makes this node listen for other nodes' appends to log, as a
// reader is about to wait on it.
func (w *crossWake) want(log string) {
	if !validToken(log) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if l, ok := w.listening[log]; ok {
		l.wanted = time.Now()
		return
	}
	// Bounded: w.mu, held here, is also every put's (appended).
	ctx, cancel := context.WithTimeout(context.Background(), listenTimeout)
	stop, err := w.n.Listen(ctx, wakeSubject+log, w.heard)
	cancel()
	if err != nil {
		// The reader still wakes by polling; the next wait tries again.
		if ok, n := w.errs.Allow("listen"); ok {
			w.log.Warn("could not listen for other nodes' appends; readers will find them by polling",
				append([]any{"log", log, "err", err}, logging.Suppressed(n)...)...)
		}
		return
	}
	w.listening[log] = &listening{stop: stop, wanted: time.Now()}
}

// heard wakes the local readers of the log another node appended to.
// This node's own notifications come back to it too, and are dropped:
// its readers were woken directly.
func (w *crossWake) heard(subject string, data []byte) {
	if string(data) == string(w.node) {
		return
	}
	w.received.Add(1)
	w.wake(strings.TrimPrefix(subject, wakeSubject))
}

// forget stops listening on the logs of a removed stream.
func (w *crossWake) forget(logs []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, log := range logs {
		if l, ok := w.listening[log]; ok {
			l.stop()
			delete(w.listening, log)
		}
	}
}

// sweep stops listening on the logs no reader has waited on for
// wakeLinger.
func (w *crossWake) sweep(now time.Time, waited func(string) bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for log, l := range w.listening {
		if now.Sub(l.wanted) > wakeLinger && !waited(log) {
			l.stop()
			delete(w.listening, log)
		}
	}
}

// close stops every listener and pending notification.
func (w *crossWake) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for log, c := range w.pending {
		c.timer.Stop()
		delete(w.pending, log)
	}
	for log, l := range w.listening {
		l.stop()
		delete(w.listening, log)
	}
}

// runWakePoll wakes, until ctx ends, the readers that have waited the poll
// interval without news, and stops listening on logs left unread.
func (e *Engine) runWakePoll(ctx context.Context) {
	w := e.wake
	tick := time.NewTicker(w.poll / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if n := e.appended.fireOlder(now.Add(-w.poll)); n > 0 {
				w.polls.Add(uint64(n))
			}
			w.sweep(now, e.appended.waited)
		}
	}
}

// wakeReaders wakes the readers of a log on every node: this node's at
// once, other nodes' through a notification.
func (e *Engine) wakeReaders(log string) {
	e.appended.fire(log)
	if e.wake != nil {
		e.wake.appended(log)
	}
}

// WakeStats returns the counts of cross-node wake-ups so far: all zero
// when the store is not shared.
func (e *Engine) WakeStats() WakeStats {
	if e.wake == nil {
		return WakeStats{}
	}
	return WakeStats{Sent: e.wake.sent.Load(), Received: e.wake.received.Load(), FallbackPolls: e.wake.polls.Load()}
}
