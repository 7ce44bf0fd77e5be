//go:build scale

package scalebench

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestFenceBySubjectRemoval checks, on one node, the reshard fence that
// docs/scale.md proposes for mapping B: the stream lists each open
// shard's subject, and closing a shard is one stream update removing its
// subject. After it, a put to the closed shard must fail, and the shard's
// records must still be readable by subject. It does not show how the
// update orders against puts in flight on a cluster's Raft log.
func TestFenceBySubjectRemoval(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := &node{name: "tributary", opts: newNodeOptions("tributary", t.TempDir(), 0, nil)}
	if err := n.start(time.Minute); err != nil {
		t.Fatal(err)
	}
	defer n.stop()
	nc, js, err := n.client()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	cfg := jetstream.StreamConfig{Name: "KSB_fence", Subjects: []string{"log.fence.0", "log.fence.1"},
		Storage: jetstream.FileStorage, MaxAge: time.Hour, AllowDirect: true}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	put := func(subj string) (uint64, error) {
		msg := &nats.Msg{Subject: subj, Data: []byte("r"), Header: nats.Header{}}
		msg.Header.Set(jetstream.ExpectedStreamHeader, cfg.Name)
		ack, err := js.PublishMsg(ctx, msg)
		if err != nil {
			return 0, err
		}
		return ack.Sequence, nil
	}
	var parent []uint64
	for _, subj := range []string{"log.fence.0", "log.fence.1", "log.fence.0"} {
		seq, err := put(subj)
		if err != nil {
			t.Fatal(err)
		}
		if subj == "log.fence.0" {
			parent = append(parent, seq)
		}
	}
	// Close shard 0, open shards 2 and 3 (its children), in one update.
	cfg.Subjects = []string{"log.fence.1", "log.fence.2", "log.fence.3"}
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := put("log.fence.0"); !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Fatalf("put to the closed shard: err %v, want %v", err, jetstream.ErrNoStreamResponse)
	}
	if _, err := put("log.fence.2"); err != nil {
		t.Fatalf("put to a child: %v", err)
	}
	got, pending, err := directGet(ctx, nc, cfg.Name, "log.fence.0", 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, parent) || pending != 0 {
		t.Fatalf("closed shard reads %v pending %d, want %v pending 0", got, pending, parent)
	}
}
