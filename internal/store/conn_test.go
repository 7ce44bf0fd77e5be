package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/syncbuf"
)

// TestReconnectsAfterClose closes the store's connection the way a bad
// request did (a protocol line over the server's limit, sent through
// the same connection) and checks that metadata and log operations work
// again at once, with the data still there.
func TestReconnectsAfterClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logs := &syncbuf.Buffer{}
	s, err := Open(ctx, Config{InMemory: true, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Create(ctx, "k.before", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLog(ctx, "L", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendAsync("L", []byte("one")).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for _, kill := range []struct {
		name string
		do   func(c *conn)
	}{
		{"oversized control line", func(c *conn) {
			_ = c.nc.Publish(strings.Repeat("x", 5000), nil)
			_ = c.nc.Flush()
		}},
		{"closed by the client", func(c *conn) { c.nc.Close() }},
	} {
		t.Run(kill.name, func(t *testing.T) {
			old := s.cur.Load()
			kill.do(old)
			if !old.nc.IsClosed() {
				t.Fatalf("the connection survived: status %s", old.nc.Status())
			}
			if err := s.Ping(ctx); err != nil {
				t.Fatalf("ping after close: %v", err)
			}
			if s.cur.Load() == old {
				t.Fatal("the closed connection was not replaced")
			}
			if e, err := s.Get(ctx, "k.before"); err != nil || string(e.Value) != "v" {
				t.Fatalf("get = %v %v", e, err)
			}
			if _, err := s.Create(ctx, "k."+kill.name[:6], []byte("w")); err != nil {
				t.Fatalf("create: %v", err)
			}
			if _, err := s.AppendAsync("L", []byte("more")).Wait(ctx); err != nil {
				t.Fatalf("append: %v", err)
			}
			r, err := s.Read(ctx, "L", 1, 100, 1<<20)
			if err != nil || len(r.Messages) < 2 || string(r.Messages[0].Data) != "one" {
				t.Fatalf("read = %+v %v", r, err)
			}
		})
	}
	// Many callers finding the connection closed at once share one
	// replacement.
	if n := strings.Count(logs.String(), "reconnected"); n != 2 {
		t.Fatalf("%d reconnections logged, want 2:\n%s", n, logs)
	}
	old := s.cur.Load()
	old.nc.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Create(ctx, fmt.Sprintf("k.concurrent-%d", i), nil); err != nil {
				errs <- err
			}
			if _, err := s.AppendAsync("L", []byte("x")).Wait(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := strings.Count(logs.String(), "reconnected"); n != 3 {
		t.Errorf("%d reconnections logged, want 3:\n%s", n, logs)
	}
	// Nothing replaces the connection of a closed store.
	s.Close()
	if _, err := s.Get(ctx, "k.before"); !errors.Is(err, ErrClosed) {
		t.Errorf("get after Close = %v, want ErrClosed", err)
	}
}
