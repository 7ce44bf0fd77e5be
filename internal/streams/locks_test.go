package streams

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestKeyLocksExclude has many goroutines take one key's lock for
// writing, and others for reading, while entries come and go: at most
// one writer at a time holds it, never beside a reader, and the entry
// is gone once all have let go.
func TestKeyLocksExclude(t *testing.T) {
	var (
		l                keyLocks
		writers, readers atomic.Int32
		wg               sync.WaitGroup
	)
	check := func() {
		if w, r := writers.Load(), readers.Load(); w > 1 || (w == 1 && r > 0) {
			t.Errorf("%d writers and %d readers hold the lock together", w, r)
		}
	}
	for i := range 64 {
		wg.Go(func() {
			for range 200 {
				k := l.take("s")
				if i%2 == 0 {
					k.Lock()
					writers.Add(1)
					check()
					writers.Add(-1)
					k.Unlock()
				} else {
					k.RLock()
					readers.Add(1)
					check()
					readers.Add(-1)
					k.RUnlock()
				}
			}
		})
	}
	wg.Wait()
	if n := l.len(); n != 0 {
		t.Errorf("%d lock entries left after every user let go", n)
	}
}
