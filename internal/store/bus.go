package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// Core NATS request/reply between the nodes, over the store's own
// connection: what one node asks another to do (the Connect workers
// forward a change to the worker that runs the connector). Nothing sent
// this way is stored; a request nobody answers fails with ErrNoResponder.

// ErrNoResponder is returned by Request when no node listens on the
// subject.
var ErrNoResponder = errors.New("store: no node answers the request")

// Request sends data on subject and waits, within ctx, for one reply.
func (s *Store) Request(ctx context.Context, subject string, data []byte) ([]byte, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", subject, err)
	}
	m, err := c.nc.RequestWithContext(ctx, subject, data)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("request %s: %w", subject, ErrNoResponder)
	}
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", subject, err)
	}
	return m.Data, nil
}

// Responder answers the requests on one subject until stopped.
type Responder struct{ sub *nats.Subscription }

// Valid reports whether the responder still listens: a connection the
// store replaced (conn) takes its subscriptions with it, and the owner
// then calls Respond again.
func (r *Responder) Valid() bool { return r.sub.IsValid() }

// Stop stops answering.
func (r *Responder) Stop() { _ = r.sub.Unsubscribe() }

// Respond answers each request on subject with handle's reply. Each
// request is handled in its own goroutine, so a slow one (a change that
// waits for tasks to stop) does not hold up the others.
func (s *Store) Respond(ctx context.Context, subject string, handle func(data []byte) []byte) (*Responder, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("respond %s: %w", subject, err)
	}
	sub, err := c.nc.Subscribe(subject, func(m *nats.Msg) {
		if m.Reply != "" {
			go func() { _ = m.Respond(handle(m.Data)) }()
		}
	})
	if err != nil {
		return nil, fmt.Errorf("respond %s: %w", subject, err)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.nc.FlushWithContext(fctx); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("respond %s: %w", subject, err)
	}
	return &Responder{sub: sub}, nil
}
