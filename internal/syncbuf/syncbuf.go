// Package syncbuf is a bytes.Buffer that several goroutines may write,
// for collecting a process's or a logger's output in tests. It depends on
// nothing of ours, so every package's tests can use it, the store's too.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects output written from several goroutines, such as a
// child process's stdout and stderr copiers or a logger shared by
// goroutines.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
