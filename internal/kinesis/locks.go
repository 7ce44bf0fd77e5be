package kinesis

import "sync"

// keyLocks holds a read-write lock per stream key, for as long as someone
// holds or waits for it: an entry is made by the first taker and removed
// by the last to let go, so streams created and deleted leave nothing
// behind. Removing an entry on a stream's deletion instead would race with
// a request that holds it (or waits for it) and a new stream of the same
// name, which could then take a second lock for the same key.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLockEntry
}

type keyLockEntry struct {
	rw sync.RWMutex
	// refs counts who holds or waits for rw; keyLocks.mu guards it.
	refs int
}

// keyLock is one use of a key's lock: one Lock and Unlock, or one RLock
// and RUnlock. Its unlock gives the entry back.
type keyLock struct {
	l   *keyLocks
	key string
	e   *keyLockEntry
}

// take returns the key's lock, counting the caller among its users until
// it unlocks.
func (l *keyLocks) take(key string) keyLock {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*keyLockEntry{}
	}
	e := l.m[key]
	if e == nil {
		e = &keyLockEntry{}
		l.m[key] = e
	}
	e.refs++
	return keyLock{l: l, key: key, e: e}
}

func (k keyLock) giveBack() {
	k.l.mu.Lock()
	defer k.l.mu.Unlock()
	if k.e.refs--; k.e.refs == 0 {
		delete(k.l.m, k.key)
	}
}

func (k keyLock) Lock()    { k.e.rw.Lock() }
func (k keyLock) RLock()   { k.e.rw.RLock() }
func (k keyLock) Unlock()  { k.e.rw.Unlock(); k.giveBack() }
func (k keyLock) RUnlock() { k.e.rw.RUnlock(); k.giveBack() }

// len is how many keys have a lock now.
func (l *keyLocks) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
