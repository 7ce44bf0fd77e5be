package ops

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// TestConnectionFlags runs serve with -idle-timeout and -max-connections:
// a third connection to a port limited to two is closed unanswered, one
// warning says why, and idle connections are closed after the timeout.
func TestConnectionFlags(t *testing.T) {
	t.Parallel()
	p := inproc.Start(t, "-idle-timeout", "300ms", "-max-connections", "2")
	for _, port := range []struct{ name, addr, path string }{
		{"kinesis", p.Addr, "/health"},
		{"connect", strings.TrimPrefix(p.ConnectURL, "http://"), "/"},
	} {
		t.Run(port.name, func(t *testing.T) {
			// The start-up probe's pooled connection may hold a slot until
			// its idle timeout, so the first two are retried until served.
			var held []net.Conn
			defer func() {
				for _, c := range held {
					_ = c.Close()
				}
			}()
			testserver.WaitUntil(t, "two connections served", 20*time.Second, func() bool {
				c, err := served(port.addr, port.path)
				if err == nil {
					held = append(held, c)
				}
				return len(held) == 2
			})
			if c, err := served(port.addr, port.path); err == nil {
				_ = c.Close()
				t.Fatal("a third connection was served with -max-connections 2")
			}
			for _, c := range held {
				_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
				if _, err := io.Copy(io.Discard, c); errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatal("an idle connection is still open 20s after its 300ms idle timeout")
				}
			}
		})
	}
	p.Stop()
	for _, api := range []string{"Kinesis API", "Connect REST API"} {
		if n := strings.Count(p.Log(), "level=WARN msg=\""+api+": connection limit reached"); n != 1 {
			t.Errorf("%d warnings about %s's connection limit, want 1 (at most one a minute):\n%s", n, api, p.Log())
		}
	}
}

// served opens a connection and gets path on it, keeping it open.
func served(addr, path string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: tributary\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}
