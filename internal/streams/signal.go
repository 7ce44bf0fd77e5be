package streams

import (
	"sync"
	"time"
)

// signals lets readers wait for the next append to a log instead of
// polling it: SubscribeToShard pushes records as soon as they are stored.
// A waiter takes the channel before it reads, so an append that lands
// between its read and its wait still wakes it.
type signals struct {
	mu sync.Mutex
	m  map[string]*signal
}

// signal is the channel of a log's waiters and when the first of them
// took it.
type signal struct {
	ch    chan struct{}
	since time.Time
}

// next returns a channel that is closed at the next append to log.
func (s *signals) next(log string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*signal{}
	}
	sg, ok := s.m[log]
	if !ok {
		sg = &signal{ch: make(chan struct{}), since: time.Now()}
		s.m[log] = sg
	}
	return sg.ch
}

// fire wakes everyone waiting for an append to log.
func (s *signals) fire(log string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sg, ok := s.m[log]; ok {
		close(sg.ch)
		delete(s.m, log)
	}
}

// fireOlder wakes the waiters of every log who have waited since before
// t, and returns how many logs' waiters it woke.
func (s *signals) fireOlder(t time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for log, sg := range s.m {
		if sg.since.Before(t) {
			close(sg.ch)
			delete(s.m, log)
			n++
		}
	}
	return n
}

// waited reports whether anyone waits for an append to log.
func (s *signals) waited(log string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[log]
	return ok
}
