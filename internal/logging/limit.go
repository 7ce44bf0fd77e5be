package logging

import (
	"sync"
	"time"
)

// Limiter keeps a repeated failure from flooding the log: it lets one
// line per key through per interval and counts the rest, so the next
// line can say how many were suppressed. A full disk, for one, fails
// every write the same way, thousands a second.
type Limiter struct {
	every time.Duration
	mu    sync.Mutex
	keys  map[string]*limited
}

type limited struct {
	last       time.Time
	suppressed int
}

// maxLimiterKeys bounds the keys a Limiter remembers; callers use a few
// fixed ones (a message, a format), so reaching it means they do not,
// and forgetting them all is the safe way out.
const maxLimiterKeys = 1024

// NewLimiter returns a Limiter letting one line per key through every
// interval.
func NewLimiter(every time.Duration) *Limiter {
	return &Limiter{every: every, keys: map[string]*limited{}}
}

// Allow reports whether a line for key may be logged now and, if so, how
// many were suppressed since the last one. A nil Limiter allows all.
func (l *Limiter) Allow(key string) (ok bool, suppressed int) {
	if l == nil {
		return true, 0
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.keys[key]
	if e == nil {
		if len(l.keys) >= maxLimiterKeys {
			clear(l.keys)
		}
		l.keys[key] = &limited{last: now}
		return true, 0
	}
	if now.Sub(e.last) < l.every {
		e.suppressed++
		return false, 0
	}
	n := e.suppressed
	e.last, e.suppressed = now, 0
	return true, n
}

// Suppressed is the attribute a line allowed by a Limiter carries: none
// when nothing was suppressed, else "suppressed" with the count.
func Suppressed(n int) []any {
	if n == 0 {
		return nil
	}
	return []any{"suppressed", n}
}
