package connlimit

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestListener holds one connection at a time: a second is closed
// unanswered, closing the first twice frees one slot, and the next
// connection is then accepted.
func TestListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(inner, 1, "test API", nil)
	defer l.Close()
	accepted := make(chan net.Conn)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	dial()
	first := <-accepted
	if l.Open() != 1 {
		t.Fatalf("Open() = %d with one connection", l.Open())
	}
	over := dial()
	_ = over.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.Copy(io.Discard, over); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("a connection over the limit was left open")
	}
	_ = first.Close()
	_ = first.Close()
	if l.Open() != 0 {
		t.Fatalf("Open() = %d after the only connection closed twice", l.Open())
	}
	dial()
	second := <-accepted
	if l.Open() != 1 {
		t.Fatalf("Open() = %d", l.Open())
	}
	_ = second.Close()
}
