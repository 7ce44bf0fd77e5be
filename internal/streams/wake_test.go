package streams

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/storage"
	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/store/storetest"
)

// deaf is a store whose notifications never reach this node: its
// listeners are never called, as when every notification is lost.
type deaf struct{ *store.Store }

func (deaf) Listen(context.Context, string, func(string, []byte)) (func(), error) {
	return func() {}, nil
}

// openEngines opens an engine over each store, the first before the
// others, with a one-shard stream "s" made through the first: the others
// load it from the metadata bucket when they open.
func openEngines(t *testing.T, sts []storage.Store) []*Engine {
	t.Helper()
	ctx := t.Context()
	var es []*Engine
	for i, st := range sts {
		e, err := Open(ctx, st, Config{WakePoll: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		if i == 0 {
			if err := e.Create(ctx, CreateSpec{Ref: testRef, Shards: 1}); err != nil {
				t.Fatal(err)
			}
		}
		es = append(es, e)
	}
	return es
}

var testRef = Ref{Account: "000000000000", Region: "us-east-1", Name: "s"}

// follow reads shard 0 of "s" through e from the start, waiting on Woken
// between reads as SubscribeToShard does, until it has want records; it
// fails the test if they are not the records put, in order.
func follow(t *testing.T, e *Engine, want []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := e.Lookup(testRef)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Start(ctx, s.Meta, 0, StartOldest, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < len(want) {
		woken := e.Woken(s.Meta, 0)
		b, next, err := e.Read(ctx, s, p, 100)
		if err != nil {
			t.Fatal(err)
		}
		p = next
		for _, r := range b.Records {
			got = append(got, string(r.Data))
		}
		if len(b.Records) > 0 {
			continue
		}
		select {
		case <-woken:
		case <-ctx.Done():
			t.Fatalf("read %d of %d records before giving up", len(got), len(want))
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d is %q, want %q (all: %q)", i, got[i], want[i], got)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
}

// putAll puts records one by one through e, from another goroutine, once
// ready is closed.
func putAll(t *testing.T, e *Engine, ready <-chan struct{}, recs []string) <-chan error {
	done := make(chan error, 1)
	go func() {
		<-ready
		for _, r := range recs {
			res, err := e.Put(context.Background(), testRef, []Record{{PartitionKey: "k", Data: []byte(r)}})
			if err == nil {
				err = res[0].Err
			}
			if err != nil {
				done <- err
				return
			}
			time.Sleep(2 * time.Millisecond) // spread over several coalescing windows
		}
		done <- nil
	}()
	return done
}

// TestWakeAcrossNodes: a reader waiting on node A is woken by appends
// made through node B, and gets every record in order; with every
// notification lost on the way to A, the poll still delivers them all.
func TestWakeAcrossNodes(t *testing.T) {
	sts := storetest.Stores(t, 2)
	var recs []string
	for i := range 50 {
		recs = append(recs, fmt.Sprintf("r%03d", i))
	}
	for _, tc := range []struct {
		name string
		a    storage.Store
	}{
		{"notified", sts[0]},
		{"notifications lost", deaf{sts[0]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es := openEngines(t, []storage.Store{tc.a, sts[1]})
			a, b := es[0], es[1]
			t.Cleanup(func() {
				if err := a.Delete(context.Background(), testRef); err != nil {
					t.Error(err)
				}
			})
			ready := make(chan struct{})
			done := putAll(t, b, ready, recs)
			// The reader starts waiting first, so the records come by
			// wake-ups, not by its first read.
			go func() {
				for !a.Waiting(mustLookup(t, a).Meta, 0) {
					time.Sleep(time.Millisecond)
				}
				close(ready)
			}()
			follow(t, a, recs)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			sa, sb := a.WakeStats(), b.WakeStats()
			t.Logf("A: %+v, B: %+v", sa, sb)
			if sb.Sent == 0 || sb.Sent > uint64(len(recs)) {
				t.Errorf("B sent %d notifications for %d appends", sb.Sent, len(recs))
			}
			switch tc.name {
			case "notified":
				// A's interest reaches B's server a moment after A
				// listens: should it have come after every put above,
				// more puts must still be heard.
				heardSome(t, a, b)
			default:
				if sa.Received != 0 || sa.FallbackPolls == 0 {
					t.Errorf("with notifications lost, A heard %d and polled %d times", sa.Received, sa.FallbackPolls)
				}
			}
		})
	}
}

// heardSome puts records through b until a has heard a notification,
// failing after 10 s.
func heardSome(t *testing.T, a, b *Engine) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for a.WakeStats().Received == 0 {
		if time.Now().After(deadline) {
			t.Fatal("A heard no notification of B's appends")
		}
		if _, err := b.Put(t.Context(), testRef, []Record{{PartitionKey: "k", Data: []byte("more")}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustLookup(t *testing.T, e *Engine) *Stream {
	s, err := e.Lookup(testRef)
	if err != nil {
		panic(err) // called off the test goroutine
	}
	return s
}

// TestWakeAloneNeedsNoNotifications: an engine over a store of its own
// publishes nothing and polls nothing.
func TestWakeAloneNeedsNoNotifications(t *testing.T) {
	e := newTestEngine(t, Config{})
	if e.wake != nil {
		t.Fatal("an engine alone publishes its appends")
	}
	if err := e.Create(t.Context(), CreateSpec{Ref: testRef, Shards: 1}); err != nil {
		t.Fatal(err)
	}
	done := putAll(t, e, closedChan(), []string{"a", "b"})
	follow(t, e, []string{"a", "b"})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := e.WakeStats(); st != (WakeStats{}) {
		t.Fatalf("stats %+v", st)
	}
}

func closedChan() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
