package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/tributary-data/tributary/internal/storage"
)

// Notifications are core NATS messages (no JetStream: nothing is stored
// or acknowledged) on subjects under "tributary.", published through the
// store's own connection. In a cluster the servers forward a message
// only to the servers whose clients listen on its subject, so a
// notification nobody listens to costs one in-process hop.
//
// The client re-subscribes by itself after it reconnects, but a
// connection the store replaced (conn.go) takes its subscriptions with
// it: listeners are therefore kept here and subscribed again on the new
// connection. Messages published while a listener was not subscribed
// are lost, which storage.Notifier allows.

var _ storage.Notifier = (*Store)(nil)

// Notify publishes data on subject to every listener, this process's
// included.
func (s *Store) Notify(ctx context.Context, subject string, data []byte) error {
	c, err := s.conn(ctx)
	if err != nil {
		return err
	}
	if err := c.nc.Publish(subject, data); err != nil {
		return fmt.Errorf("store: notify %s: %w", subject, err)
	}
	return nil
}

// Listen calls fn with each notification on subject until stop is
// called; it survives the replacement of the store's connection.
func (s *Store) Listen(ctx context.Context, subject string, fn func(subject string, data []byte)) (stop func(), err error) {
	if _, err := s.conn(ctx); err != nil {
		return nil, err
	}
	l := &listener{subject: subject, fn: fn}
	s.notes.mu.Lock()
	defer s.notes.mu.Unlock()
	// A connection closed since s.conn is replaced at the next call that
	// needs one, and resubscribe then subscribes l on the new one.
	if c := s.cur.Load(); !c.nc.IsClosed() {
		if err := l.subscribe(c.nc); err != nil {
			return nil, err
		}
	}
	if s.notes.m == nil {
		s.notes.m = map[*listener]struct{}{}
	}
	s.notes.m[l] = struct{}{}
	return func() { s.notes.stop(l) }, nil
}

// listeners are the live Listen calls of a store.
type listeners struct {
	mu sync.Mutex
	m  map[*listener]struct{}
}

// listener is one Listen call and its subscription on the connection it
// was last subscribed on (nil after that connection failed it).
type listener struct {
	subject string
	fn      func(subject string, data []byte)
	nc      *nats.Conn
	sub     *nats.Subscription
}

func (l *listener) subscribe(nc *nats.Conn) error {
	sub, err := nc.Subscribe(l.subject, func(m *nats.Msg) { l.fn(m.Subject, m.Data) })
	if err != nil {
		l.nc, l.sub = nil, nil
		return fmt.Errorf("store: listen on %s: %w", l.subject, err)
	}
	l.nc, l.sub = nc, sub
	return nil
}

// stop unsubscribes l for good.
func (ls *listeners) stop(l *listener) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if _, ok := ls.m[l]; !ok {
		return
	}
	delete(ls.m, l)
	if l.sub != nil {
		_ = l.sub.Unsubscribe()
	}
}

// resubscribe moves every listener onto nc, the store's new connection.
// A listener that fails to subscribe stays registered and is tried again
// at the next replacement.
func (ls *listeners) resubscribe(nc *nats.Conn) []error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	var errs []error
	for l := range ls.m {
		if l.nc == nc {
			continue
		}
		if err := l.subscribe(nc); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// count is the number of live listeners, for tests.
func (ls *listeners) count() int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return len(ls.m)
}
