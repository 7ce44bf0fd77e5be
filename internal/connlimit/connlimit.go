// Package connlimit caps how many connections a listener holds open at
// once. Without a cap, every idle keep-alive connection a client opens
// costs the server a goroutine and a file descriptor, and a client that
// opens enough of them (no credentials needed to connect) exhausts the
// process's descriptors for everyone.
package connlimit

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// warnEvery bounds how often refusals are logged: a client hammering a
// full server must not flood the log too.
const warnEvery = time.Minute

// Listener accepts at most max connections at a time. A connection over
// the limit is closed as soon as it is accepted, rather than left waiting
// in the kernel's backlog: the client learns at once that the server is
// busy (its connect succeeds and the first read fails, which SDKs treat
// as a retriable network error), and the connections already open keep
// being served.
type Listener struct {
	net.Listener
	slots chan struct{}
	log   *slog.Logger
	name  string

	refused  atomic.Int64 // since the last warning
	lastWarn atomic.Int64 // unix nanoseconds
}

// New wraps ln so that it holds at most max connections. name says which
// API the port serves, in the warning logged (at most once a minute) when
// connections are refused. A nil logger discards.
func New(ln net.Listener, max int, name string, lg *slog.Logger) *Listener {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Listener{Listener: ln, slots: make(chan struct{}, max), log: lg, name: name}
}

// Accept returns the next connection within the limit, closing any that
// arrive while the limit is reached.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &conn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			_ = c.Close()
			l.warn()
		}
	}
}

// Open is how many connections are open now.
func (l *Listener) Open() int { return len(l.slots) }

func (l *Listener) warn() {
	n := l.refused.Add(1)
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if now-last < int64(warnEvery) || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	l.refused.Add(-n)
	l.log.Warn(l.name+": connection limit reached; new connections are closed until others end (raise it with -max-connections)",
		"limit", cap(l.slots), "refused", n)
}

// conn gives its slot back when closed, once however often Close is called.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
