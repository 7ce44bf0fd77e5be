package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// conn is one in-process connection to the embedded server with the
// JetStream and metadata handles made over it.
//
// The client reconnects by itself when the connection drops, but some of
// the server's protocol errors (a control line over its limit, for one)
// close it for good. Every operation therefore takes the connection
// through Store.conn, which replaces a closed one: whatever closed it,
// the next request finds a working store, not one broken until restart.
type conn struct {
	nc *nats.Conn
	js jetstream.JetStream
	kv jetstream.KeyValue
}

// ErrClosed is returned by operations on a store that has been closed.
var ErrClosed = errors.New("store: closed")

// dial connects to the embedded server. With create set it also makes
// the metadata bucket (at start-up); otherwise it finds it.
func (s *Store) dial(ctx context.Context, create bool) (*conn, error) {
	nc, err := s.connect()
	if err != nil {
		return nil, err
	}
	// The publish timeout matters: JetStream does not answer a write that
	// failed on a full disk, and without one the write waits forever.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(16384),
		jetstream.WithPublishAsyncTimeout(s.writeTimeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("store: jetstream client: %w", err)
	}
	kv, err := s.openBucket(ctx, js, create)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("store: metadata bucket: %w", err)
	}
	return &conn{nc: nc, js: js, kv: kv}, nil
}

// connect makes a client connection: in-process to the embedded server,
// or over the network to an External cluster.
func (s *Store) connect() (*nats.Conn, error) {
	opts := []nats.Option{nats.Name("tributary"), nats.MaxReconnects(-1), nats.ErrorHandler(s.asyncError)}
	if s.ns != nil {
		nc, err := nats.Connect("", append(append(opts, s.natsOpts...), nats.InProcessServer(s.ns))...)
		if err != nil {
			return nil, fmt.Errorf("store: connect in-process: %w", err)
		}
		return nc, nil
	}
	nc, err := nats.Connect(s.remote, append(opts, s.natsOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("store: connect to %s: %w", s.remote, err)
	}
	return nc, nil
}

// conn returns the current connection, first replacing it if it has been
// closed.
func (s *Store) conn(ctx context.Context) (*conn, error) {
	if c := s.cur.Load(); c != nil && !c.nc.IsClosed() {
		return c, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	old := s.cur.Load()
	if old != nil && !old.nc.IsClosed() {
		return old, nil // another caller has just replaced it
	}
	c, err := s.dial(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("store: reconnecting: %w", err)
	}
	var cause error
	if old != nil {
		cause = old.nc.LastError()
	}
	s.log.Warn("the connection to jetstream was closed; reconnected", "cause", cause)
	s.cur.Store(c)
	for _, err := range s.notes.resubscribe(c.nc) {
		s.log.Warn("notifications: could not listen again after reconnecting", "err", err)
	}
	return c, nil
}

// asyncError logs what the client reports outside any call, such as the
// server's reason for closing the connection; by default the client
// would print it to stderr.
func (s *Store) asyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	if sub != nil {
		s.log.Error("jetstream client", "subject", sub.Subject, "err", err)
		return
	}
	s.log.Error("jetstream client", "err", err)
}
