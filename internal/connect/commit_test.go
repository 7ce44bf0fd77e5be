package connect_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/store"
)

// refusingKV refuses offset commits with store.ErrUnavailable while
// refuse is set, as the store does when its disk is full, and counts the
// commits it refused and the ones it let through.
type refusingKV struct {
	connect.KV
	refuse            atomic.Bool
	refused, accepted atomic.Int64
}

func (k *refusingKV) Put(ctx context.Context, key string, value []byte) error {
	if !strings.HasPrefix(key, "connect.offsets.") {
		return k.KV.Put(ctx, key, value)
	}
	if k.refuse.Load() {
		k.refused.Add(1)
		return fmt.Errorf("put %s: %w", key, store.ErrUnavailable)
	}
	k.accepted.Add(1)
	return k.KV.Put(ctx, key, value)
}

// TestCommitRefusedForNow checks that a sink task whose offset commits
// are refused for now (a full disk) keeps running and commits once the
// store takes writes again, as Kafka Connect's tasks do when a commit
// fails.
func TestCommitRefusedForNow(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, "")
	kv := &refusingKV{KV: e.kv}
	log := newLog()
	reg := connect.NewRegistry("test", map[string]func() connect.Connector{
		sinkClass: func() connect.Connector { return &testSink{testConnector{sink: true, log: log}} },
	})
	h := connect.NewHerder(connect.WorkerConfig{WorkerID: "test:8083", Registry: reg, Streams: e.local, KV: kv,
		Logger: slog.New(slog.DiscardHandler), Props: map[string]string{"offset.flush.interval.ms": "50"}})
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer h.Stop(ctx)
	if err := e.local.EnsureStream(ctx, "full", 1); err != nil {
		t.Fatal(err)
	}
	kv.refuse.Store(true)
	if _, err := h.CreateConnector(ctx, "out", map[string]string{"connector.class": sinkClass, "topics": "full"}, ""); err != nil {
		t.Fatal(err)
	}
	put := func(v string) {
		if err := e.local.Put(ctx, "full", []connect.StreamRecord{{PartitionKey: "k", Data: []byte(v)}}); err != nil {
			t.Fatal(err)
		}
	}
	put("a")
	waitFor(t, "a refused commit", func() bool { return kv.refused.Load() > 0 })
	put("b") // delivered and committed after the refusal
	waitFor(t, "the second record", func() bool { return len(log.got("out")) == 2 })
	waitFor(t, "a second refused commit", func() bool { return kv.refused.Load() > 1 })
	if _, ts := state(t, h, "out"); len(ts) != 1 || ts[0] != connect.StateRunning {
		t.Fatalf("task states with commits refused: %v, want [RUNNING]", ts)
	}
	kv.refuse.Store(false)
	waitFor(t, "a commit once the store takes writes", func() bool { return kv.accepted.Load() > 0 })
	if _, ts := state(t, h, "out"); ts[0] != connect.StateRunning {
		t.Fatalf("task states after the commit: %v, want [RUNNING]", ts)
	}
}
