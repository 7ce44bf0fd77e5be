package streams

import "sync"

// signals lets readers wait for the next append to a log instead of
// polling it: SubscribeToShard pushes records as soon as they are stored.
// A waiter takes the channel before it reads, so an append that lands
// between its read and its wait still wakes it.
type signals struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// next returns a channel that is closed at the next append to log.
func (s *signals) next(log string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]chan struct{}{}
	}
	ch, ok := s.m[log]
	if !ok {
		ch = make(chan struct{})
		s.m[log] = ch
	}
	return ch
}

// fire wakes everyone waiting for an append to log.
func (s *signals) fire(log string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.m[log]; ok {
		close(ch)
		delete(s.m, log)
	}
}
