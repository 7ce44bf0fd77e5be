package streams

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
)

// The engine through its API alone: create, write, read and reshard, with
// the typed errors each refusal carries.

const halfKey = "170141183460469231731687303715884105728" // 2^127

var scope = Ref{Account: "000000000000", Region: "us-east-1"}

func named(name string) Ref { r := scope; r.Name = name; return r }

func mustCreate(t *testing.T, e *Engine, name string, shards int) Ref {
	t.Helper()
	ref := named(name)
	if err := e.Create(context.Background(), CreateSpec{Ref: ref, Shards: shards, Mode: ModeProvisioned}); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return ref
}

func mustPut(t *testing.T, e *Engine, ref Ref, keys ...string) []PutResult {
	t.Helper()
	recs := make([]Record, len(keys))
	for i, k := range keys {
		recs[i] = Record{PartitionKey: k, Data: []byte("data-" + k)}
	}
	res, err := e.Put(context.Background(), ref, recs)
	if err != nil {
		t.Fatalf("put to %s: %v", ref.Name, err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("put to %s: %v", ref.Name, r.Err)
		}
	}
	return res
}

// readAll reads a shard from its start to its tip (or end).
func readAll(t *testing.T, e *Engine, ref Ref, idx int) Batch {
	t.Helper()
	ctx := context.Background()
	s, err := e.Lookup(ref)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Start(ctx, s.Meta, idx, StartOldest, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := e.Read(ctx, s, p, MaxReadRecords)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCreateErrors(t *testing.T) {
	e := newTestEngine(t, Config{ShardLimit: 4})
	ctx := context.Background()
	mustCreate(t, e, "taken", 2)
	for _, tc := range []struct {
		name   string
		spec   CreateSpec
		want   error
		detail any
	}{
		{"exists", CreateSpec{Ref: named("taken"), Shards: 1}, ErrStreamExists, nil},
		{"no shards", CreateSpec{Ref: named("none"), Shards: 0}, ErrInvalidArgument, nil},
		{"a name with a space", CreateSpec{Ref: named("a b"), Shards: 1}, ErrInvalidArgument, nil},
		{"an empty name", CreateSpec{Ref: named(""), Shards: 1}, ErrInvalidArgument, nil},
		{"over the quota", CreateSpec{Ref: named("big"), Shards: 3}, ErrLimitExceeded, &ShardLimitError{Open: 2, Limit: 4, Added: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.Create(ctx, tc.spec)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Create: %v, want %v", err, tc.want)
			}
			if want, ok := tc.detail.(*ShardLimitError); ok {
				var got *ShardLimitError
				if !errors.As(err, &got) || *got != *want {
					t.Fatalf("Create: %#v, want %#v", got, want)
				}
			}
		})
	}
	// Another scope has its own quota and names.
	other := CreateSpec{Ref: Ref{"111111111111", "eu-west-1", "taken"}, Shards: 4}
	if err := e.Create(ctx, other); err != nil {
		t.Fatalf("same name in another scope: %v", err)
	}
	if got := e.Count(); got != 2 {
		t.Fatalf("Count = %d, want 2", got)
	}
}

func TestPutAndRead(t *testing.T) {
	e := newTestEngine(t, Config{})
	ctx := context.Background()
	ref := mustCreate(t, e, "s", 1)
	res := mustPut(t, e, ref, "a", "b", "c")
	mustPut(t, e, ref, "d")
	s, _ := e.Lookup(ref)
	for _, tc := range []struct {
		name string
		kind int
		seq  string
		at   time.Time
		want []string
	}{
		{"oldest", StartOldest, "", time.Time{}, []string{"a", "b", "c", "d"}},
		{"at a sequence number", StartAtSequence, res[1].Seq, time.Time{}, []string{"b", "c", "d"}},
		{"after a sequence number", StartAfterSequence, res[1].Seq, time.Time{}, []string{"c", "d"}},
		{"after the last of a batch", StartAfterSequence, res[2].Seq, time.Time{}, []string{"d"}},
		{"latest", StartLatest, "", time.Time{}, nil},
		{"at a time before all", StartAtTime, "", time.Unix(1, 0), []string{"a", "b", "c", "d"}},
		{"at a time after all", StartAtTime, "", time.Now().Add(time.Hour), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.Start(ctx, s.Meta, 0, tc.kind, tc.seq, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := e.Read(ctx, s, p, MaxReadRecords)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range b.Records {
				got = append(got, r.PartitionKey)
				if string(r.Data) != "data-"+r.PartitionKey {
					t.Errorf("record %s: data %q", r.PartitionKey, r.Data)
				}
			}
			if !slices.Equal(got, tc.want) || b.End {
				t.Fatalf("read %v (end %v), want %v", got, b.End, tc.want)
			}
		})
	}
	// A read with a limit resumes where it stopped.
	p, _ := e.Start(ctx, s.Meta, 0, StartOldest, "", time.Time{})
	b, next, err := e.Read(ctx, s, p, 2)
	if err != nil || len(b.Records) != 2 {
		t.Fatalf("read 2: %d records, %v", len(b.Records), err)
	}
	b, _, err = e.Read(ctx, s, next, 10)
	if err != nil || len(b.Records) != 2 || b.Records[0].PartitionKey != "c" || b.Records[0].Seq != res[2].Seq {
		t.Fatalf("read on: %+v, %v", b.Records, err)
	}
	if c := Continuation(s.Meta, next); c == "" {
		t.Fatal("no continuation sequence number")
	}
}

func TestStartErrors(t *testing.T) {
	e := newTestEngine(t, Config{})
	ctx := context.Background()
	ref := mustCreate(t, e, "s", 2)
	res := mustPut(t, e, ref, "a")
	s, _ := e.Lookup(ref)
	other := 1 - res[0].Shard
	for _, tc := range []struct {
		name   string
		shard  int
		seq    string
		want   error
		reason int
	}{
		{"malformed", res[0].Shard, "12", ErrInvalidArgument, SeqMalformed},
		{"another shard's", other, res[0].Seq, ErrInvalidArgument, SeqOtherShard},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Start(ctx, s.Meta, tc.shard, StartAtSequence, tc.seq, time.Time{})
			var se *SequenceError
			if !errors.Is(err, tc.want) || !errors.As(err, &se) || se.Reason != tc.reason {
				t.Fatalf("Start: %v, want %v with reason %d", err, tc.want, tc.reason)
			}
		})
	}
	if _, err := ShardIndex(s.Meta, "shardId-000000000007"); !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("ShardIndex of a missing shard: %v", err)
	}
	if _, err := ParseSequence(fmt.Sprint(shard.Sequence{ShardCreated: 1, RecordTime: time.Now().Unix() + 100}), true); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a written sequence number from the future: %v", err)
	}
}

func TestPutErrors(t *testing.T) {
	e := newTestEngine(t, Config{})
	ctx := context.Background()
	ref := mustCreate(t, e, "s", 1)
	if err := e.Split(ctx, ref, "shardId-000000000000", halfKey); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 1<<20+1)
	tooMany := make([]Record, MaxPut+1)
	for _, tc := range []struct {
		name string
		put  func() ([]PutResult, error)
		want error
	}{
		{"no such stream", func() ([]PutResult, error) { return e.Put(ctx, named("none"), []Record{{PartitionKey: "k"}}) }, ErrStreamNotFound},
		{"too many records", func() ([]PutResult, error) { return e.Put(ctx, ref, tooMany) }, ErrInvalidArgument},
		{"record too large", func() ([]PutResult, error) { return e.Put(ctx, ref, []Record{{PartitionKey: "k", Data: big}}) }, ErrInvalidArgument},
		{"to a closed shard", func() ([]PutResult, error) { return e.PutShard(ctx, ref, 0, []Record{{PartitionKey: "k"}}) }, ErrShardClosed},
		{"to a missing shard", func() ([]PutResult, error) { return e.PutShard(ctx, ref, 9, []Record{{PartitionKey: "k"}}) }, ErrShardNotFound},
		{"to a shard, too large", func() ([]PutResult, error) { return e.PutShard(ctx, ref, 1, []Record{{PartitionKey: "k", Data: big}}) }, ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.put(); !errors.Is(err, tc.want) {
				t.Fatalf("put: %v, want %v", err, tc.want)
			}
		})
	}
	s, _ := e.Lookup(ref)
	bad := "340282366920938463463374607431768211456" // 2^128
	if _, err := e.Place(s, "k", &bad, 1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Place with hash key 2^128: %v", err)
	}
	key := "0"
	if sh, err := e.Place(s, "k", &key, 1); err != nil || sh != 1 {
		t.Fatalf("Place with hash key 0: shard %d, %v; want the first child", sh, err)
	}
	res, err := e.PutShard(ctx, ref, 2, []Record{{PartitionKey: "k", Data: []byte("x")}})
	if err != nil || res[0].Shard != 2 || res[0].Err != nil {
		t.Fatalf("PutShard to an open shard: %+v, %v", res, err)
	}
}

func TestReshard(t *testing.T) {
	e := newTestEngine(t, Config{ShardLimit: 6})
	ctx := context.Background()
	ref := mustCreate(t, e, "s", 2)
	mustPut(t, e, ref, "a", "b", "c", "d")
	for _, tc := range []struct {
		name string
		op   func() error
		want error
	}{
		{"split a missing shard", func() error { return e.Split(ctx, ref, "shardId-000000000009", halfKey) }, ErrShardNotFound},
		{"split at the edge", func() error { return e.Split(ctx, ref, "shardId-000000000000", "1") }, ErrInvalidArgument},
		{"merge in the wrong order", func() error { return e.Merge(ctx, ref, "shardId-000000000001", "shardId-000000000000") }, ErrInvalidArgument},
		{"split of a missing stream", func() error { return e.Split(ctx, named("none"), "shardId-000000000000", halfKey) }, ErrStreamNotFound},
		{"merge", func() error { return e.Merge(ctx, ref, "shardId-000000000000", "shardId-000000000001") }, nil},
		{"merge a closed shard", func() error { return e.Merge(ctx, ref, "shardId-000000000000", "shardId-000000000001") }, ErrShardClosed},
		{"split", func() error { return e.Split(ctx, ref, "shardId-000000000002", halfKey) }, nil},
		{"count over double", func() error { _, err := e.UpdateShardCount(ctx, ref, 5); return err }, ErrInvalidArgument},
		{"count past the quota", func() error { _, err := e.UpdateShardCount(ctx, ref, 4); return err }, nil},
		{"count past the quota again", func() error { _, err := e.UpdateShardCount(ctx, ref, 8); return err }, ErrLimitExceeded},
		{"count down", func() error { _, err := e.UpdateShardCount(ctx, ref, 3); return err }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.op(); !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
		})
	}
	s, _ := e.Lookup(ref)
	if n := s.Meta.OpenShards(); n != 3 {
		t.Fatalf("%d open shards, want 3", n)
	}
	// Reading a closed parent ends with its children, and every record
	// written before the reshard is there.
	var keys []string
	for idx := range 2 {
		b := readAll(t, e, ref, idx)
		if !b.End || len(b.Children) != 1 || b.Children[0].Shard != 2 {
			t.Fatalf("shard %d: end %v, children %+v", idx, b.End, b.Children)
		}
		for _, r := range b.Records {
			keys = append(keys, r.PartitionKey)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"a", "b", "c", "d"}) {
		t.Fatalf("records of the parents: %v", keys)
	}
}

// TestUpdating checks UPDATING as today: a reshard takes effect when the
// update delay ends; until then puts go to the old shards and another
// reshard is refused with a *StatusError.
func TestUpdating(t *testing.T) {
	e := newTestEngine(t, Config{UpdateDelay: time.Hour})
	ctx := context.Background()
	ref := mustCreate(t, e, "s", 1)
	if err := e.Split(ctx, ref, "shardId-000000000000", halfKey); err != nil {
		t.Fatal(err)
	}
	err := e.Merge(ctx, ref, "shardId-000000000000", "shardId-000000000001")
	var st *StatusError
	if !errors.Is(err, ErrNotActive) || !errors.As(err, &st) || st.Status != StatusUpdating {
		t.Fatalf("reshard while UPDATING: %v", err)
	}
	if _, err := e.UpdateShardCount(ctx, ref, 2); !errors.Is(err, ErrNotActive) {
		t.Fatalf("UpdateShardCount while UPDATING: %v", err)
	}
	if err := e.Change(ctx, ref, func(*Meta) error { return nil }); !errors.Is(err, ErrNotActive) {
		t.Fatalf("Change while UPDATING: %v", err)
	}
	res := mustPut(t, e, ref, "a")
	if res[0].Shard != 0 {
		t.Fatalf("put while UPDATING went to shard %d", res[0].Shard)
	}
	s, _ := e.Lookup(ref)
	if len(s.Meta.Shards) != 1 || s.Meta.OpenShardsAfterUpdate() != 2 {
		t.Fatalf("while UPDATING: %d shards, %d after the update", len(s.Meta.Shards), s.Meta.OpenShardsAfterUpdate())
	}
}

func TestDelete(t *testing.T) {
	for _, delay := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprint(delay), func(t *testing.T) {
			e := newTestEngine(t, Config{DeleteDelay: delay})
			ctx := context.Background()
			ref := mustCreate(t, e, "s", 1)
			s, _ := e.Lookup(ref)
			woken := e.Woken(s.Meta, 0)
			if err := e.Delete(ctx, ref); err != nil {
				t.Fatal(err)
			}
			<-woken // readers hear of the deletion
			if err := e.Delete(ctx, ref); delay > 0 && err != nil {
				t.Fatalf("second delete of a DELETING stream: %v", err)
			}
			if _, err := e.Put(ctx, ref, []Record{{PartitionKey: "k"}}); !errors.Is(err, ErrStreamNotFound) {
				t.Fatalf("put to a deleted stream: %v", err)
			}
			// The name is free again once the deletion is due; before, it
			// is in use.
			err := e.Create(ctx, CreateSpec{Ref: ref, Shards: 1})
			if want := map[bool]error{true: ErrStreamExists, false: nil}[delay > 0]; !errors.Is(err, want) {
				t.Fatalf("create after delete: %v, want %v", err, want)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	e := newTestEngine(t, Config{})
	ctx := context.Background()
	ref := mustCreate(t, e, "s", 2)

	// Retention: a check may refuse; the same value writes nothing.
	tooShort := errors.New("too short")
	if err := e.SetRetention(ctx, ref, 12, func(*Meta) error { return tooShort }); !errors.Is(err, tooShort) {
		t.Fatalf("refused retention: %v", err)
	}
	for _, h := range []int{48, 48} {
		if err := e.SetRetention(ctx, ref, h, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.SetRetention(ctx, named("none"), 48, nil); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("retention of a missing stream: %v", err)
	}

	// Encryption at rest: records written while a key is set are sealed
	// and read back as they were.
	if err := e.Change(ctx, ref, func(m *Meta) error { m.KeyID = "alias/k"; return nil }); err != nil {
		t.Fatal(err)
	}
	mustPut(t, e, ref, "sealed")

	// AUTO distribution spreads records over the open shards.
	if _, err := e.Update(ctx, ref, func(m *Meta) error { m.Distribution = DistributionAuto; return nil }); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, r := range mustPut(t, e, ref, "x", "x", "x", "x") {
		seen[r.Shard] = true
	}
	if len(seen) != 2 {
		t.Fatalf("AUTO put to shards %v, want both", seen)
	}
	var all []ReadRecord
	for idx := range 2 {
		all = append(all, readAll(t, e, ref, idx).Records...)
	}
	if i := slices.IndexFunc(all, func(r ReadRecord) bool { return r.PartitionKey == "sealed" }); i < 0 || !all[i].Encrypted || string(all[i].Data) != "data-sealed" {
		t.Fatalf("sealed record read back as %+v", all)
	}
	if _, err := e.Update(ctx, ref, func(*Meta) error { return ErrNoChange }); err != nil {
		t.Fatalf("an update that changes nothing: %v", err)
	}
	if !e.Exists(ref) || e.Exists(named("none")) {
		t.Fatal("Exists")
	}
}

// TestRestart reopens an engine over the same store: streams, records
// and a pending reshard that fell due meanwhile survive.
func TestRestart(t *testing.T) {
	e1 := newTestEngine(t, Config{UpdateDelay: 50 * time.Millisecond})
	ctx := context.Background()
	ref := mustCreate(t, e1, "s", 1)
	mustPut(t, e1, ref, "a")
	if err := e1.Split(ctx, ref, "shardId-000000000000", halfKey); err != nil {
		t.Fatal(err)
	}
	e1.Close()
	e2, err := Open(ctx, e1.Store(), Config{UpdateDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	for {
		s, err := e2.Lookup(ref)
		if err != nil {
			t.Fatal(err)
		}
		woken := e2.Woken(s.Meta, 0) // the completion closes the parent
		if s, _ = e2.Lookup(ref); s.Meta.EffectiveStatus(time.Now()) == StatusActive {
			break
		}
		<-woken
	}
	if b := readAll(t, e2, ref, 0); len(b.Records) != 1 || !b.End {
		t.Fatalf("after the restart: %+v", b)
	}
	if got := e2.List(scope.Account, scope.Region); len(got) != 1 || got[0].Name != "s" {
		t.Fatalf("List: %v", got)
	}
}
