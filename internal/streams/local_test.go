package streams

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestLocal drives the in-process adapter through the Streams interface
// the Connect runtime and the CDC daemons use.
func TestLocal(t *testing.T) {
	e := newTestEngine(t, Config{})
	ctx := context.Background()
	var l Streams = NewLocal(e, scope.Account, scope.Region)
	if err := l.EnsureStream(ctx, "s", 1); err != nil {
		t.Fatal(err)
	}
	if err := l.EnsureStream(ctx, "s", 1); err != nil {
		t.Fatalf("EnsureStream of an existing stream: %v", err)
	}
	recs := []StreamRecord{{PartitionKey: "a", Data: []byte("1"), Attrs: []byte("x")}, {PartitionKey: "b", Data: []byte("2")}}
	if err := l.Put(ctx, "s", recs); err != nil {
		t.Fatal(err)
	}
	names, err := l.ListStreams(ctx)
	if err != nil || !slices.Equal(names, []string{"s"}) {
		t.Fatalf("ListStreams: %v, %v", names, err)
	}
	shards, err := l.Shards(ctx, "s")
	if err != nil || len(shards) != 1 || shards[0].ID != "shardId-000000000000" || shards[0].Closed {
		t.Fatalf("Shards: %+v, %v", shards, err)
	}
	res, err := l.Read(ctx, "s", shards[0].ID, "", 10)
	if err != nil || len(res.Records) != 2 || string(res.Records[0].Attrs) != "x" || res.Records[1].Attrs != nil {
		t.Fatalf("Read: %+v, %v", res, err)
	}
	after, err := l.Read(ctx, "s", shards[0].ID, res.Records[0].SequenceNumber, 10)
	if err != nil || len(after.Records) != 1 || after.Records[0].PartitionKey != "b" {
		t.Fatalf("Read after the first: %+v, %v", after, err)
	}
	var attrs []string
	if err := l.(TailScanner).ScanBack(ctx, "s", time.Time{}, func(a []byte) bool { attrs = append(attrs, string(a)); return true }); err != nil || !slices.Equal(attrs, []string{"x"}) {
		t.Fatalf("ScanBack: %v, %v", attrs, err)
	}

	// A Read with nothing to return waits for the next append.
	got := make(chan ReadResult, 1)
	go func() {
		r, _ := l.Read(ctx, "s", shards[0].ID, res.Records[1].SequenceNumber, 10)
		got <- r
	}()
	if err := l.Put(ctx, "s", []StreamRecord{{PartitionKey: "c", Data: []byte("3")}}); err != nil {
		t.Fatal(err)
	}
	if r := <-got; len(r.Records) > 1 || (len(r.Records) == 1 && r.Records[0].PartitionKey != "c") {
		t.Fatalf("waiting Read: %+v", r)
	}

	for _, tc := range []struct {
		name      string
		op        func() error
		want      error
		retriable bool
	}{
		{"read a missing stream", func() error { _, err := l.Read(ctx, "none", "shardId-000000000000", "", 1); return err }, ErrStreamNotFound, false},
		{"read a missing shard", func() error { _, err := l.Read(ctx, "s", "shardId-000000000005", "", 1); return err }, ErrStreamNotFound, false},
		{"shards of a missing stream", func() error { _, err := l.Shards(ctx, "none"); return err }, ErrStreamNotFound, false},
		{"put to a missing stream", func() error { return l.Put(ctx, "none", recs) }, ErrStreamNotFound, false},
		{"put without a key", func() error { return l.Put(ctx, "s", []StreamRecord{{Data: []byte("x")}}) }, ErrInvalidArgument, false},
		{"no shards", func() error { return l.EnsureStream(ctx, "t", 0) }, ErrInvalidArgument, false},
		{"over the quota", func() error { return l.EnsureStream(ctx, "t", 1000) }, ErrLimitExceeded, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.op()
			var re *RetriableError
			if !errors.Is(err, tc.want) || errors.As(err, &re) != tc.retriable {
				t.Fatalf("%v, want %v (retriable %v)", err, tc.want, tc.retriable)
			}
		})
	}
}

func TestConsumers(t *testing.T) {
	now := time.Now()
	m := &Meta{Consumers: []Consumer{
		{Name: "new", Status: ConsumerCreating, TransitionAt: now.Add(time.Hour)},
		{Name: "ready", Status: ConsumerCreating, TransitionAt: now.Add(-time.Second)},
		{Name: "leaving", Status: ConsumerDeleting, TransitionAt: now.Add(time.Hour)},
		{Name: "gone", Status: ConsumerDeleting, TransitionAt: now.Add(-time.Second)},
	}}
	if n := m.LiveConsumers(now); n != 3 {
		t.Fatalf("LiveConsumers = %d, want 3", n)
	}
	for _, tc := range []struct {
		name, status string
	}{{"new", ConsumerCreating}, {"ready", ConsumerActive}, {"leaving", ConsumerDeleting}, {"gone", ""}, {"never", ""}} {
		c := m.FindConsumer(tc.name, now)
		if (c == nil) != (tc.status == "") || (c != nil && c.StatusAt(now) != tc.status) {
			t.Errorf("consumer %s: %+v, want status %q", tc.name, c, tc.status)
		}
	}
}

func TestConsumerRegistry(t *testing.T) {
	e := newTestEngine(t, Config{DeleteDelay: time.Hour})
	ctx := context.Background()
	ref := mustCreate(t, e, "s", 1)
	_, a, err := e.RegisterConsumer(ctx, ref, "a", map[string]string{"k": "v"}, 2)
	if err != nil || a.Name != "a" || a.Tags["k"] != "v" {
		t.Fatalf("register a: %+v, %v", a, err)
	}
	for _, tc := range []struct {
		name string
		op   func() error
		want error
	}{
		{"again", func() error { _, _, err := e.RegisterConsumer(ctx, ref, "a", nil, 2); return err }, ErrConsumerExists},
		{"a second", func() error { _, _, err := e.RegisterConsumer(ctx, ref, "b", nil, 2); return err }, nil},
		{"past the limit", func() error { _, _, err := e.RegisterConsumer(ctx, ref, "c", nil, 2); return err }, ErrLimitExceeded},
		{"of a missing stream", func() error { _, _, err := e.RegisterConsumer(ctx, named("none"), "a", nil, 2); return err }, ErrStreamNotFound},
		{"deregister another incarnation", func() error { return e.DeregisterConsumer(ctx, ref, "a", a.Created.Add(-time.Hour)) }, ErrConsumerNotFound},
		{"deregister", func() error { return e.DeregisterConsumer(ctx, ref, "a", a.Created) }, nil},
		{"deregister a missing one", func() error { return e.DeregisterConsumer(ctx, ref, "z", a.Created) }, ErrConsumerNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.op(); !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
		})
	}
	s, _ := e.Lookup(ref)
	if c := s.Meta.FindConsumer("a", time.Now()); c == nil || c.StatusAt(time.Now()) != ConsumerDeleting {
		t.Fatalf("deregistered consumer: %+v", c)
	}
}
