//go:build scale

package scalebench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// TestFenceBySubjectRemovalCluster checks that fence on a 3-node R3
// cluster with puts in flight while the subject is removed: every put
// acknowledged for the closed shard must lie at or below the end read
// from the stream leader, and the leader must hold no message of the
// closed shard past that end. This is what "a closed shard never takes
// another record, whichever node wrote it" needs.
//
// The stream update is ordered by the meta group, not by the stream's
// own Raft log, so on its own it does not order against puts already
// proposed: measured, a run acknowledged 1,896 puts past the end read
// right after the update. The fence therefore has a barrier: wait until
// the stream leader reports the new subjects, then put one message on a
// control subject and wait for its acknowledgement, so that every put
// proposed before the leader dropped the subject is applied; only then
// read the end. The naive variant runs first and is only reported.
func TestFenceBySubjectRemovalCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kids := startChildren(t, t.TempDir(), 3)
	var urls []string
	for _, k := range kids {
		urls = append(urls, k.url())
	}
	nc, err := connectRetry(strings.Join(urls, ","), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := waitJetStream(ctx, js); err != nil {
		t.Fatal(err)
	}
	if err := waitPeers(kids, time.Minute); err != nil {
		t.Fatal(err)
	}
	naive := fenceUnderLoad(ctx, t, nc, js, "KSB_naive", false)
	report(t, "fence without barrier: %s", naive)
	fenced := fenceUnderLoad(ctx, t, nc, js, "KSB_fence", true)
	report(t, "fence with barrier: %s", fenced)
	if fenced.past != 0 {
		t.Fatalf("%d puts to the closed shard were acknowledged past its end %d", fenced.past, fenced.end)
	}
	if !errors.Is(fenced.afterErr, errNoMessage) {
		t.Fatalf("the closed shard holds message %d past its end %d (err %v)", fenced.after, fenced.end, fenced.afterErr)
	}
	if fenced.refused+fenced.unanswered == 0 {
		t.Fatal("no put was refused: the fence was never exercised")
	}
}

// fenceRun is what one fence under load saw.
type fenceRun struct {
	acked, refused, unanswered, past int
	end, after                       uint64
	afterErr                         error
}

func (f fenceRun) String() string {
	return fmt.Sprintf("%d puts acknowledged, %d refused, %d unanswered (timed out), end %d; acknowledged past the end: %d; next stored past the end: %d (%v)",
		f.acked, f.refused, f.unanswered, f.end, f.past, f.after, f.afterErr)
}

// fenceUnderLoad creates an R3 stream, puts to shard 0 without pause,
// closes shard 0 by removing its subject, and reports where the closed
// shard ended and whether anything was acknowledged or stored past it.
func fenceUnderLoad(ctx context.Context, t *testing.T, nc *nats.Conn, js jetstream.JetStream, name string, barrier bool) fenceRun {
	t.Helper()
	parent, ctl := "log."+name+".0", "ctl."+name
	cfg := jetstream.StreamConfig{Name: name, Subjects: []string{parent, "log." + name + ".1", ctl},
		Storage: jetstream.FileStorage, MaxAge: time.Hour, AllowDirect: true, Replicas: 3}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	futs := make(chan []jetstream.PubAckFuture, 1)
	go func() {
		var all []jetstream.PubAckFuture
		defer func() { futs <- all }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			msg := &nats.Msg{Subject: parent, Data: []byte("r"), Header: nats.Header{}}
			msg.Header.Set(jetstream.ExpectedStreamHeader, name)
			f, err := js.PublishMsgAsync(msg)
			if err != nil {
				time.Sleep(time.Millisecond) // the async window is full
				continue
			}
			all = append(all, f)
		}
	}()
	time.Sleep(500 * time.Millisecond)
	cfg.Subjects = []string{"log." + name + ".1", "log." + name + ".2", ctl}
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if barrier {
		if err := fenceBarrier(ctx, js, name, parent, ctl); err != nil {
			t.Fatal(err)
		}
	}
	var r fenceRun
	var err error
	if r.end, err = leaderGet(ctx, nc, name, map[string]any{"last_by_subj": parent}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	for _, f := range <-futs {
		select {
		case ack := <-f.Ok():
			r.acked++
			if ack.Sequence > r.end {
				r.past++
			}
		case err := <-f.Err():
			if errors.Is(err, jetstream.ErrAsyncPublishTimeout) {
				r.unanswered++
			} else {
				r.refused++
			}
		case <-ctx.Done():
			t.Fatal("a put was never answered")
		}
	}
	r.after, r.afterErr = leaderGet(ctx, nc, name, map[string]any{"seq": r.end + 1, "next_by_subj": parent})
	return r
}

// fenceBarrier waits until the stream leader no longer lists the closed
// shard's subject, then puts a control message through the stream's Raft
// log and waits for it: every put proposed before it has been applied.
func fenceBarrier(ctx context.Context, js jetstream.JetStream, name, closed, ctl string) error {
	for {
		st, err := js.Stream(ctx, name)
		if err != nil {
			return err
		}
		if !slices.Contains(st.CachedInfo().Config.Subjects, closed) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	_, err := js.Publish(ctx, ctl, []byte("fence"))
	return err
}

var errNoMessage = errors.New("no message")

// leaderGet asks the stream leader (not a follower, which may be behind)
// for one message and returns its sequence.
func leaderGet(ctx context.Context, nc *nats.Conn, stream string, req map[string]any) (uint64, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	m, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+stream, body)
	if err != nil {
		return 0, err
	}
	var resp struct {
		Message *struct {
			Seq uint64 `json:"seq"`
		} `json:"message"`
		Error *struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return 0, err
	}
	if resp.Error != nil && resp.Error.Code == 404 {
		return 0, errNoMessage
	}
	if resp.Error != nil {
		return 0, fmt.Errorf("msg get %s: %s", stream, resp.Error.Description)
	}
	return resp.Message.Seq, nil
}
