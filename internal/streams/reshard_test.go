package streams

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/storage"
	"github.com/tributary-data/tributary/internal/store"
)

// TestReshardResumesAfterInterruptedCompletion simulates a crash in the
// middle of a reshard's completion: the children's logs were created and
// the parent's end read, but the metadata write never happened. A new
// engine over the same store must find the pending reshard and complete
// it, reusing the children's logs, with a parent end that also covers the
// records written after the interruption. Under layout B the interrupted
// completion had fenced the parent: puts to it fail, retriable, until the
// restart opens it again and the completion closes it for good.
func TestReshardResumesAfterInterruptedCompletion(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stripe int
	}{{"layout A", LayoutA}, {"layout B", DefaultStripeShards}} {
		t.Run(tc.name, func(t *testing.T) { testReshardResumes(t, tc.stripe) })
	}
}

func testReshardResumes(t *testing.T, stripe int) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ref := Ref{"000000000000", "us-east-1", "s"}
	put := func(e *Engine, n int) []string {
		var seqs []string
		for i := range n {
			res, err := e.Put(ctx, ref, []Record{{PartitionKey: fmt.Sprint(i), Data: []byte("x")}})
			if err != nil || res[0].Err != nil {
				t.Fatal(err, res)
			}
			seqs = append(seqs, res[0].Seq)
		}
		return seqs
	}

	// The first run accepts a split, and stops before it is due.
	s1, err := Open(ctx, st, Config{UpdateDelay: time.Hour, StripeShards: stripe})
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Create(ctx, CreateSpec{Ref: ref, Shards: 1}); err != nil {
		t.Fatal(err)
	}
	seqs := put(s1, 5)
	if err := s1.Split(ctx, ref, "shardId-000000000000", "170141183460469231731687303715884105728"); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	key := ref.Key()
	e, _ := s1.cat.get(key)
	if e.Meta.Reshard == nil || len(e.Meta.Shards) != 1 {
		t.Fatalf("after the split request: %d shards, pending %+v", len(e.Meta.Shards), e.Meta.Reshard)
	}
	// Half a completion: logs made, ends read, no metadata write.
	if _, err := s1.prepareReshard(ctx, e.Meta, e.Meta.Reshard, time.Now()); err != nil {
		t.Fatal(err)
	}
	if stripe == LayoutA {
		// Writes still go to the parent, which the metadata says is open.
		seqs = append(seqs, put(s1, 5)...)
	} else {
		// Retried for about 3 s (put), in vain: nothing reopens it.
		res, err := s1.Put(ctx, ref, []Record{{PartitionKey: "k", Data: []byte("x")}})
		if err != nil || !errors.Is(res[0].Err, storage.ErrUnavailable) || !errors.Is(res[0].Err, storage.ErrLogClosed) {
			t.Fatalf("put to the fenced parent: %v %+v, want a retriable closed-log error", err, res)
		}
	}

	// The update falls due while the server is down.
	if _, err := s1.cat.update(ctx, key, func(m *Meta) error {
		m.TransitionAt = time.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, st, Config{UpdateDelay: time.Hour, StripeShards: stripe})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e, _ = s2.cat.get(key)
		if e.Meta.EffectiveStatus(time.Now()) == StatusActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the restarted service did not complete the pending split")
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := e.Meta
	if m.Reshard != nil || len(m.Shards) != 3 || m.Shards[0].EndingSeq == "" || m.Shards[1].Parent != "shardId-000000000000" {
		t.Fatalf("after completion: %+v", m)
	}
	end, err := shard.ParseSequence(m.Shards[0].EndingSeq)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range seqs {
		sq, err := shard.ParseSequence(q)
		if err != nil || sq.ShardIndex != 0 || sq.Index > end.Index {
			t.Fatalf("record %s (shard %d, index %d) is not covered by the parent's end (index %d)", q, sq.ShardIndex, sq.Index, end.Index)
		}
	}
	// The children take writes.
	for i, q := range put(s2, 5) {
		if sq, _ := shard.ParseSequence(q); sq.ShardIndex == 0 {
			t.Fatalf("put %d after completion went to the closed parent", i)
		}
	}
}

// TestDeleteWaitsForReshardCompletion deletes a stream while a pending
// reshard's completion is under way (here: the test holds the stream's
// lock, as completeReshard does, and makes the children's logs). The
// deletion must not remove the stream's logs until the completion is
// over, or the completion fails on the missing parent and the children's
// logs it made are left behind, belonging to no stream.
func TestDeleteWaitsForReshardCompletion(t *testing.T) {
	ctx := context.Background()
	s := newTestEngine(t, Config{UpdateDelay: time.Hour})
	st := s.st
	ref := Ref{"000000000000", "us-east-1", "s"}
	if err := s.Create(ctx, CreateSpec{Ref: ref, Shards: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Split(ctx, ref, "shardId-000000000000", "170141183460469231731687303715884105728"); err != nil {
		t.Fatal(err)
	}
	key := ref.Key()
	e, _ := s.cat.get(key)
	m, p := e.Meta, e.Meta.Reshard

	mu := s.streamLock(key)
	mu.Lock()
	deleted := make(chan error, 1)
	go func() { deleted <- s.Delete(ctx, ref) }()
	// The deletion's status write does not wait for the lock.
	for {
		if cur, ok := s.cat.get(key); !ok || cur.Meta.Status == StatusDeleting {
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // room for a deletion that does not wait
	select {
	case err := <-deleted:
		mu.Unlock()
		t.Fatalf("DeleteStream finished (%v) during a reshard's completion", err)
	default:
	}
	_, err := s.prepareReshard(ctx, m, p, time.Now())
	mu.Unlock()
	if err != nil {
		t.Fatalf("completion's preparation during a deletion: %v", err)
	}
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := st.State(ctx, m.LogName(i)); err == nil {
			t.Errorf("log of shard %d outlives its deleted stream", i)
		}
	}
}

// TestReshardRefusesStreamDeletedMeanwhile deletes a stream while a
// SplitShard is being planned, after the split checked that the stream
// was ACTIVE (DeleteStream does not wait for the reshard's lock). The
// split must be refused as AWS refuses one on a DELETING stream, and must
// not make the stream UPDATING again, nor leave the children's logs.
func TestReshardRefusesStreamDeletedMeanwhile(t *testing.T) {
	ctx := context.Background()
	s := newTestEngine(t, Config{DeleteDelay: time.Hour})
	st := s.st
	ref := Ref{"000000000000", "us-east-1", "s"}
	if err := s.Create(ctx, CreateSpec{Ref: ref, Shards: 1}); err != nil {
		t.Fatal(err)
	}
	err := s.reshard(ctx, ref, func(m *Meta) error {
		if err := s.Delete(ctx, ref); err != nil {
			t.Fatal(err)
		}
		rng := shard.Range{Start: shard.HashKey{}, End: shard.MaxHashKey}
		k, _ := shard.ParseHashKey("170141183460469231731687303715884105728")
		planStep(m, []int{0}, []child{{shard.Range{Start: rng.Start, End: k.Sub1()}, 0, -1}, {shard.Range{Start: k, End: rng.End}, 0, -1}})
		return nil
	}, nil)
	if !errors.Is(err, ErrNotActive) {
		t.Fatalf("split of a stream deleted meanwhile: %v, want ErrNotActive (ResourceInUseException)", err)
	}
	e, _ := s.cat.get(ref.Key())
	if e.Meta.Status != StatusDeleting || len(e.Meta.Shards) != 1 {
		t.Fatalf("after the refused split: status %s, %d shards; want DELETING, 1", e.Meta.Status, len(e.Meta.Shards))
	}
	for i := 1; i <= 2; i++ {
		if logLeft(ctx, t, st, e.Meta.LogName(i)) {
			t.Errorf("log of child shard %d left behind", i)
		}
	}
}

// logLeft reports whether a shard's log exists: for a log of its own
// (layout A), whether the store has it; for a shared one (B), whether it
// still takes appends (its stripe outlives it).
func logLeft(ctx context.Context, t *testing.T, st storage.Store, name string) bool {
	t.Helper()
	if !strings.Contains(name, "~") {
		_, err := st.State(ctx, name)
		return err == nil
	}
	_, err := st.AppendAsync(name, []byte("probe")).Wait(ctx)
	if err != nil && !errors.Is(err, storage.ErrLogClosed) {
		t.Fatalf("probe of %s: %v", name, err)
	}
	return err == nil
}

// blind is a store whose watch reports no change: an engine on it keeps
// the metadata it last read, as a node whose watch lags behind does.
type blind struct{ storage.Store }

func (blind) Watch(ctx context.Context, _ string, _ uint64) (<-chan storage.Change, error) {
	ch := make(chan storage.Change)
	context.AfterFunc(ctx, func() { close(ch) })
	return ch, nil
}

// TestPutToFencedParentRoutesAgain: two engines over one store stand for
// two nodes, each with its own copy of the metadata, the second's not
// following the changes. A split on the first closes the parent's log in
// the store; the second, which still routes by the old shard map, finds
// the log closed, reads the metadata again and stores the record in the
// child that owns its key.
func TestPutToFencedParentRoutesAgain(t *testing.T) {
	ctx := context.Background()
	e1 := newTestEngine(t, Config{})
	e2, err := Open(ctx, blind{e1.st}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	ref := mustCreate(t, e1, "s", 1)
	if err := e2.cat.reload(ctx, ref.Key()); err != nil {
		t.Fatal(err)
	}
	if res, err := e2.Put(ctx, ref, []Record{{PartitionKey: "a", Data: []byte("before")}}); err != nil || res[0].Err != nil || res[0].Shard != 0 {
		t.Fatalf("put before the split: %v %+v", err, res)
	}
	if err := e1.Split(ctx, ref, "shardId-000000000000", "170141183460469231731687303715884105728"); err != nil {
		t.Fatal(err)
	}
	if s, _ := e2.Lookup(ref); len(s.Meta.Shards) != 1 {
		t.Fatalf("the second engine already sees %d shards: the test needs its old copy", len(s.Meta.Shards))
	}
	res, err := e2.Put(ctx, ref, []Record{{PartitionKey: "a", Data: []byte("after")}})
	if err != nil || res[0].Err != nil || res[0].Shard == 0 {
		t.Fatalf("put through the stale engine: %v %+v, want it stored in a child", err, res)
	}
	s, _ := e1.Lookup(ref)
	end, _ := shard.ParseSequence(s.Meta.Shards[0].EndingSeq)
	got, _ := shard.ParseSequence(res[0].Seq)
	if got.ShardIndex == 0 || got.Index <= end.Index {
		t.Fatalf("record at %s, parent's end %s", res[0].Seq, s.Meta.Shards[0].EndingSeq)
	}

	// Shard 1 splits too; the second engine's map is old again.
	if err := e1.Split(ctx, ref, "shardId-000000000001", "85070591730234615865843651857942052864"); err != nil {
		t.Fatal(err)
	}
	// As the Kinesis API puts: placed by the old map, refused, and the
	// metadata read again for the client's retry.
	st, release, err := e2.Writable(ref)
	if err != nil {
		t.Fatal(err)
	}
	placed := e2.Append(ctx, st, []Record{{PartitionKey: "a", Data: []byte("refused")}}, []int{1})
	release()
	if !errors.Is(placed[0].Err, storage.ErrLogClosed) {
		t.Fatalf("append to the fenced parent by the old map: %+v, want ErrLogClosed", placed)
	}
	if s, _ := e2.Lookup(ref); len(s.Meta.Shards) != 5 {
		t.Fatalf("after the refused append the second engine sees %d shards, want 5", len(s.Meta.Shards))
	}
}

// manyWriters is a store that says other processes write to it, as a
// node of a cluster does.
type manyWriters struct{ storage.Store }

func (manyWriters) ManyWriters() bool { return true }

// TestLayoutAReshardRefusedWithManyWriters: where other processes write
// to the store, a stream of layout A is not resharded (its closing shards
// could not be fenced: LayoutError, an InvalidArgumentException), while a
// stream of layout B is.
func TestLayoutAReshardRefusedWithManyWriters(t *testing.T) {
	ctx := context.Background()
	one := newTestEngine(t, Config{StripeShards: LayoutA})
	refA := mustCreate(t, one, "a", 1)
	one.Close()
	e, err := Open(ctx, manyWriters{one.st}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	refB := mustCreate(t, e, "b", 1)
	const key = "170141183460469231731687303715884105728"
	var lay *LayoutError
	if err := e.Split(ctx, refA, "shardId-000000000000", key); !errors.As(err, &lay) || !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("split of a layout A stream with other writers: %v, want a LayoutError", err)
	}
	if _, err := e.UpdateShardCount(ctx, refA, 2); !errors.As(err, &lay) {
		t.Fatalf("UpdateShardCount of a layout A stream with other writers: %v, want a LayoutError", err)
	}
	if err := e.Split(ctx, refB, "shardId-000000000000", key); err != nil {
		t.Fatalf("split of a layout B stream: %v", err)
	}
	if res := mustPut(t, e, refA, "k"); res[0].Shard != 0 {
		t.Fatalf("the layout A stream after the refusals: %+v", res)
	}
}
