package streams

import (
	"context"
	"fmt"
	"time"
)

// The consumers' registry: the readers registered with a stream (for
// the Kinesis API, its enhanced fan-out consumers). A consumer belongs to
// a stream and lives in the stream's metadata.

// Consumer is one registered consumer.
type Consumer struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"` // whole seconds: they are part of the ARN
	Status  string    `json:"status"`
	// TransitionAt is when CREATING becomes ACTIVE, or DELETING ends.
	TransitionAt time.Time         `json:"transitionAt"`
	Tags         map[string]string `json:"tags,omitempty"`
}

// A consumer's states.
const (
	ConsumerCreating = "CREATING"
	ConsumerActive   = "ACTIVE"
	ConsumerDeleting = "DELETING"
)

// StatusAt is the consumer's status at now: CREATING turns ACTIVE when
// its time comes, without a write.
func (c *Consumer) StatusAt(now time.Time) string {
	if c.Status == ConsumerCreating && !now.Before(c.TransitionAt) {
		return ConsumerActive
	}
	return c.Status
}

// Gone reports a deregistered consumer whose DELETING time has passed.
func (c *Consumer) Gone(now time.Time) bool {
	return c.Status == ConsumerDeleting && !now.Before(c.TransitionAt)
}

// LiveConsumers counts a stream's consumers that still exist.
func (m *Meta) LiveConsumers(now time.Time) int {
	n := 0
	for i := range m.Consumers {
		if !m.Consumers[i].Gone(now) {
			n++
		}
	}
	return n
}

// FindConsumer finds a live consumer by name.
func (m *Meta) FindConsumer(name string, now time.Time) *Consumer {
	for i := range m.Consumers {
		c := &m.Consumers[i]
		if c.Name == name && !c.Gone(now) {
			return c
		}
	}
	return nil
}

// ConsumerError is a refusal about one consumer: Err is
// ErrConsumerExists or ErrConsumerNotFound.
type ConsumerError struct {
	Name string
	Err  error
}

func (e *ConsumerError) Error() string { return "consumer " + e.Name + ": " + e.Err.Error() }
func (e *ConsumerError) Unwrap() error { return e.Err }

// ConsumerLimitError refuses a consumer past a stream's limit.
type ConsumerLimitError struct{ Max int }

func (e *ConsumerLimitError) Error() string { return fmt.Sprintf("more than %d consumers", e.Max) }
func (e *ConsumerLimitError) Unwrap() error { return ErrLimitExceeded }

// RegisterConsumer registers a consumer of a stream, CREATING for the
// create delay, with at most limit live consumers per stream (a
// *ConsumerLimitError past it); a live consumer of the name is
// ErrConsumerExists. It returns the stream's metadata as written and the
// consumer.
func (e *Engine) RegisterConsumer(ctx context.Context, ref Ref, name string, tags map[string]string, limit int) (*Meta, Consumer, error) {
	now := time.Now()
	var added Consumer
	m, err := e.Update(ctx, ref, func(m *Meta) error {
		if m.FindConsumer(name, now) != nil {
			return &ConsumerError{Name: name, Err: ErrConsumerExists}
		}
		if m.LiveConsumers(now) >= limit {
			return &ConsumerLimitError{Max: limit}
		}
		// Forget consumers whose deletion has finished.
		kept := m.Consumers[:0]
		for _, c := range m.Consumers {
			if !c.Gone(now) {
				kept = append(kept, c)
			}
		}
		added = Consumer{Name: name, Created: now.Truncate(time.Second), Status: ConsumerCreating,
			TransitionAt: now.Add(e.cfg.CreateDelay)}
		if len(tags) > 0 {
			added.Tags = tags
		}
		m.Consumers = append(kept, added)
		return nil
	})
	return m, added, err
}

// DeregisterConsumer makes the consumer of the name registered at
// created DELETING for the delete delay; ErrConsumerNotFound if there is
// none (any more).
func (e *Engine) DeregisterConsumer(ctx context.Context, ref Ref, name string, created time.Time) error {
	now := time.Now()
	_, err := e.Update(ctx, ref, func(m *Meta) error {
		cur := m.FindConsumer(name, now)
		if cur == nil || !cur.Created.Equal(created) {
			return &ConsumerError{Name: name, Err: ErrConsumerNotFound}
		}
		cur.Status = ConsumerDeleting
		cur.TransitionAt = now.Add(e.cfg.DeleteDelay)
		return nil
	})
	return err
}
