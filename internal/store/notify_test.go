package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// received collects notifications for a test.
type received chan string

func (r received) fn(subject string, data []byte) {
	select {
	case r <- subject + " " + string(data):
	default:
	}
}

// hear publishes through pub until want arrives on r: a listener's
// interest reaches the other servers of a cluster a moment after Listen
// returns, and what is published before that is lost, as notifications
// may be.
func hear(t *testing.T, r received, pub func() error, want string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	if err := pub(); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case got := <-r:
			if got == want {
				return
			}
			t.Fatalf("received %q, want %q", got, want)
		case <-tick.C:
			if err := pub(); err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatalf("%q never arrived", want)
		}
	}
}

// drain empties r of the repeats waitFor may have caused.
func drain(r received) {
	for {
		select {
		case <-r:
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}

// TestNotifyAcrossCluster: a notification published through one node
// reaches the listeners of every node, the publisher's own included,
// and a stopped listener hears nothing more.
func TestNotifyAcrossCluster(t *testing.T) {
	ctx := t.Context()
	nodes := startCluster(t, clusterConfigs(t, 3, nil))
	var rs []received
	var stops []func()
	for i, n := range nodes {
		if !n.st.ManyWriters() {
			t.Fatalf("node %d: a clustered store is not Shared", i)
		}
		r := make(received, 100)
		stop, err := n.st.Listen(ctx, "tributary.test.>", r.fn)
		if err != nil {
			t.Fatal(err)
		}
		rs, stops = append(rs, r), append(stops, stop)
	}
	for i, r := range rs {
		hear(t, r, func() error {
			return nodes[0].st.Notify(ctx, "tributary.test.a", []byte("hello"))
		}, "tributary.test.a hello")
		t.Logf("node %d heard node 0", i)
	}
	for _, r := range rs {
		drain(r)
	}
	// Node 2 stops listening; node 1 still hears what follows, node 2
	// nothing.
	stops[2]()
	stops[2]()
	if err := nodes[0].st.Notify(ctx, "tributary.test.b", []byte("again")); err != nil {
		t.Fatal(err)
	}
	hear(t, rs[1], func() error { return nil }, "tributary.test.b again")
	select {
	case got := <-rs[2]:
		t.Fatalf("a stopped listener received %q", got)
	case <-time.After(200 * time.Millisecond):
	}
	if n := nodes[2].st.notes.count(); n != 0 {
		t.Fatalf("%d listeners left after stop", n)
	}
}

// TestListenSurvivesReconnect: a listener keeps hearing notifications
// after the store replaces its closed connection; a store alone is not
// Shared.
func TestListenSurvivesReconnect(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.ManyWriters() {
		t.Fatal("a store alone reports Shared")
	}
	r := make(received, 100)
	stop, err := s.Listen(ctx, "tributary.test.x", r.fn)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for i := range 3 {
		if i > 0 {
			s.cur.Load().nc.Close()
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		}
		want := fmt.Sprintf("tributary.test.x %d", i)
		hear(t, r, func() error { return s.Notify(ctx, "tributary.test.x", fmt.Appendf(nil, "%d", i)) }, want)
		drain(r)
	}
}

// TestNotifyExternal: two stores on one external NATS server, as two
// Tributary processes sharing it, hear each other's notifications.
func TestNotifyExternal(t *testing.T) {
	ctx := t.Context()
	ext := External{URL: natsServer(t, true).ClientURL(), User: "app", Password: "pw"}
	var sts []*Store
	for range 2 {
		st, err := Open(ctx, Config{External: &ext})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if !st.ManyWriters() {
			t.Fatal("a store on an external NATS is not Shared")
		}
		sts = append(sts, st)
	}
	r := make(received, 100)
	stop, err := sts[1].Listen(ctx, "tributary.test.ext", r.fn)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	hear(t, r, func() error { return sts[0].Notify(ctx, "tributary.test.ext", []byte("hi")) }, "tributary.test.ext hi")
}
