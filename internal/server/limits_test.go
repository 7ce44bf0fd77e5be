package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"testing"
	"time"
)

// waitLimit bounds how long a test waits for something the server does
// on its own; the timeouts under test are far shorter, so reaching it
// means the server never did it.
const waitLimit = 20 * time.Second

// startLimited starts an in-memory server with both APIs and the given
// connection bounds.
func startLimited(t *testing.T, hc HTTPConfig) *Server {
	t.Helper()
	return startOnLoopback(t, Config{HTTP: hc})
}

// startOnLoopback starts cfg as an in-memory server with both APIs on
// ports of their own choosing, shut down when the test ends.
func startOnLoopback(t *testing.T, cfg Config) *Server {
	t.Helper()
	ctx := context.Background()
	cfg.Addr, cfg.Connect.Addr, cfg.Store.InMemory = "127.0.0.1:0", "127.0.0.1:0", true
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(ctx) })
	return s
}

// ports are the two APIs, each with a path any caller may GET.
func ports(s *Server) []struct{ name, addr, path string } {
	return []struct{ name, addr, path string }{
		{"kinesis", s.Addr(), "/health"},
		{"connect", s.ConnectAddr(), "/"},
	}
}

// get sends one keep-alive GET on c and reads the whole response.
func get(c net.Conn, br *bufio.Reader, path string) error {
	_ = c.SetDeadline(time.Now().Add(waitLimit))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: tributary\r\n\r\n", path); err != nil {
		return err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

// waitClosed reads c until the server closes it.
func waitClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: still open after %s", what, waitLimit)
	}
}

// waitGoroutines waits for the goroutine count to fall back to baseline.
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, baseline %d", runtime.NumGoroutine(), baseline)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIdleConnectionsClosed opens many connections to each API port and
// leaves them idle: kept alive after a request (HTTP/1.1), after the
// HTTP/2 preface, or never sending a byte. The server closes every one
// after its idle or header timeout, and its goroutines return to what
// they were.
func TestIdleConnectionsClosed(t *testing.T) {
	s := startLimited(t, HTTPConfig{IdleTimeout: 200 * time.Millisecond, ReadHeaderTimeout: 200 * time.Millisecond})
	const perKind = 50
	for _, p := range ports(s) {
		t.Run(p.name, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					_ = c.Close()
				}
			}()
			dial := func() net.Conn {
				c, err := net.Dial("tcp", p.addr)
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
				return c
			}
			for range perKind {
				c := dial()
				if err := get(c, bufio.NewReader(c), p.path); err != nil {
					t.Fatal(err)
				}
			}
			for range perKind {
				c := dial()
				// The client preface and an empty SETTINGS frame.
				if _, err := io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"); err != nil {
					t.Fatal(err)
				}
			}
			for range perKind {
				dial()
			}
			for i, c := range conns {
				waitClosed(t, c, fmt.Sprintf("%s connection %d of %d", p.name, i, len(conns)))
			}
			waitGoroutines(t, baseline)
		})
	}
}

// TestConnectionLimit fills each API port's connection limit: one more
// connection is closed unanswered, the connections already open are
// still served, and a slot freed by a client is usable again.
func TestConnectionLimit(t *testing.T) {
	const limit = 3
	s := startLimited(t, HTTPConfig{MaxConnections: limit})
	for _, p := range ports(s) {
		t.Run(p.name, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			type client struct {
				c  net.Conn
				br *bufio.Reader
			}
			open := func() (client, error) {
				c, err := net.Dial("tcp", p.addr)
				if err != nil {
					return client{}, err
				}
				cl := client{c, bufio.NewReader(c)}
				if err := get(c, cl.br, p.path); err != nil {
					_ = c.Close()
					return client{}, err
				}
				return cl, nil
			}
			var held []client
			defer func() {
				for _, cl := range held {
					_ = cl.c.Close()
				}
			}()
			for range limit {
				cl, err := open()
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, cl)
			}
			if cl, err := open(); err == nil {
				_ = cl.c.Close()
				t.Fatalf("connection %d of a limit of %d was served", limit+1, limit)
			}
			for i, cl := range held {
				if err := get(cl.c, cl.br, p.path); err != nil {
					t.Fatalf("held connection %d: %v", i, err)
				}
			}
			// Once a client leaves, its slot serves a new one.
			_ = held[0].c.Close()
			held = held[1:]
			deadline := time.Now().Add(waitLimit)
			for {
				cl, err := open()
				if err == nil {
					held = append(held, cl)
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no connection served after one of %d closed: %v", limit, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			for _, cl := range held {
				_ = cl.c.Close()
			}
			held = nil
			waitGoroutines(t, baseline)
		})
	}
}
