package logging

import (
	"testing"
	"time"
)

// TestLimiter checks that a Limiter lets the first line of a key through,
// counts the repeats within the interval, reports them with the next line
// let through, and keeps keys apart.
func TestLimiter(t *testing.T) {
	l := NewLimiter(time.Hour)
	type step struct {
		key            string
		wantOK         bool
		wantSuppressed int
	}
	for i, s := range []step{
		{"a", true, 0},
		{"a", false, 0},
		{"a", false, 0},
		{"b", true, 0},
		{"b", false, 0},
	} {
		ok, n := l.Allow(s.key)
		if ok != s.wantOK || n != s.wantSuppressed {
			t.Errorf("step %d (%s): Allow = %v, %d; want %v, %d", i, s.key, ok, n, s.wantOK, s.wantSuppressed)
		}
	}
	l.every = 0 // the interval has passed
	if ok, n := l.Allow("a"); !ok || n != 2 {
		t.Errorf("after the interval: Allow(a) = %v, %d; want true, 2", ok, n)
	}
	if got := Suppressed(0); got != nil {
		t.Errorf("Suppressed(0) = %v, want none", got)
	}
	if ok, _ := (*Limiter)(nil).Allow("x"); !ok {
		t.Error("a nil Limiter must allow every line")
	}
}
