// Package backoff holds what retry loops share: waiting between tries
// without outliving the caller's context.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Sleep waits for d, or until ctx ends, whichever comes first; it returns
// ctx's error in the second case, so a retry loop stops with it.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Exponential is an exponential backoff with jitter.
type Exponential struct{ next, max time.Duration }

// New returns a backoff whose first pause is up to start and whose pauses
// double up to max.
func New(start, max time.Duration) *Exponential { return &Exponential{next: start, max: max} }

// Step returns the next pause: between half and all of the current
// delay, which then doubles up to the cap. The jitter keeps writers that
// were throttled together from retrying together.
func (b *Exponential) Step() time.Duration {
	d := b.next
	b.next = min(2*b.next, b.max)
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

// Wait sleeps for the next pause, or until ctx ends.
func (b *Exponential) Wait(ctx context.Context) error { return Sleep(ctx, b.Step()) }
