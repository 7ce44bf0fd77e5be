package streams

import "time"

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
