package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// appendTo appends one message to a log and returns its sequence.
func appendTo(t *testing.T, st *Store, name, data string) uint64 {
	t.Helper()
	seq, err := st.AppendAsync(name, []byte(data)).Wait(t.Context())
	if err != nil {
		t.Fatalf("append to %s: %v", name, err)
	}
	return seq
}

// seqsOf lists the sequences of a read's messages.
func seqsOf(res ReadResult) []uint64 {
	var out []uint64
	for _, m := range res.Messages {
		out = append(out, m.Seq)
	}
	return out
}

// TestSharedLogs: two logs sharing one JetStream stream, written
// interleaved, each read back alone (by sequence, by time, at its tip),
// fenced, reopened, deleted; beside them a log of its own, read as before.
func TestSharedLogs(t *testing.T) {
	ctx := t.Context()
	st, err := Open(ctx, Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateLogs(ctx, []string{"S~a", "S~b", "L"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if subj := streamInfo(t, st, "S").Config.Subjects; !slices.Equal(subj, []string{"ctl.S", "log.S.*"}) {
		t.Fatalf("new shared stream's subjects: %q, want its control subject and all its logs'", subj)
	}
	seqs := map[string][]uint64{}
	for _, n := range []string{"S~a", "S~b", "S~b", "S~a", "S~b"} {
		seqs[n] = append(seqs[n], appendTo(t, st, n, n))
	}
	appendTo(t, st, "L", "own")
	between := time.Now()
	seqs["S~a"] = append(seqs["S~a"], appendTo(t, st, "S~a", "S~a"))
	seqs["S~b"] = append(seqs["S~b"], appendTo(t, st, "S~b", "S~b"))

	for _, n := range []string{"S~a", "S~b"} {
		res, err := st.Read(ctx, n, 0, 100, 1<<20)
		if err != nil || !slices.Equal(seqsOf(res), seqs[n]) || res.Pending != 0 {
			t.Fatalf("%s read whole: %v pending %d, %v; want %v pending 0", n, seqsOf(res), res.Pending, err, seqs[n])
		}
		res, err = st.Read(ctx, n, seqs[n][0]+1, 1, 1<<20)
		if err != nil || !slices.Equal(seqsOf(res), seqs[n][1:2]) || res.Pending != uint64(len(seqs[n])-2) {
			t.Fatalf("%s read one after its first: %v pending %d, %v; want %v pending %d", n, seqsOf(res), res.Pending, err, seqs[n][1:2], len(seqs[n])-2)
		}
		res, err = st.ReadFromTime(ctx, n, between, 100, 1<<20)
		if last := seqs[n][len(seqs[n])-1:]; err != nil || !slices.Equal(seqsOf(res), last) {
			t.Fatalf("%s read from a time: %v, %v; want %v", n, seqsOf(res), err, last)
		}
		if last, err := st.LastMessage(ctx, n); err != nil || last != seqs[n][len(seqs[n])-1] {
			t.Fatalf("%s LastMessage %d, %v", n, last, err)
		}
	}
	if has, err := st.HasMessage(ctx, "S~a", seqs["S~b"][0]); err != nil || has {
		t.Fatalf("S~a holds S~b's message: %v %v", has, err)
	}
	if res, err := st.Read(ctx, "L", 0, 100, 1<<20); err != nil || !slices.Equal(seqsOf(res), []uint64{1}) {
		t.Fatalf("log of its own: %v, %v", seqsOf(res), err)
	}
	if logs, err := st.Logs(ctx); err != nil || !slices.Equal(sorted(logs), []string{"L", "S"}) {
		t.Fatalf("Logs: %q, %v", logs, err)
	}

	// Fenced: appends refused, records kept; reopened: appends taken.
	if err := st.CloseLogs(ctx, []string{"S~a", "L"}, []string{"S~b"}); err != nil {
		t.Fatal(err)
	}
	if subj := streamInfo(t, st, "S").Config.Subjects; !slices.Equal(subj, []string{"ctl.S", "log.S.b"}) {
		t.Fatalf("subjects after a log closed: %q, want the control subject and the open log's", subj)
	}
	if _, err := st.AppendAsync("S~a", []byte("late")).Wait(ctx); !errors.Is(err, ErrLogClosed) {
		t.Fatalf("append to a closed log: %v, want ErrLogClosed", err)
	}
	appendTo(t, st, "S~b", "still open")
	appendTo(t, st, "L", "not shared: not fenced by the store")
	end, err := st.State(ctx, "S~a")
	if err != nil || end.LastSeq <= seqs["S~a"][len(seqs["S~a"])-1] {
		t.Fatalf("closed log's end %+v, %v", end, err)
	}
	if res, err := st.Read(ctx, "S~a", 0, 100, 1<<20); err != nil || !slices.Equal(seqsOf(res), seqs["S~a"]) {
		t.Fatalf("closed log read: %v, %v", seqsOf(res), err)
	}
	if err := st.OpenLogs(ctx, []string{"S~a"}); err != nil {
		t.Fatal(err)
	}
	if q := appendTo(t, st, "S~a", "reopened"); q <= end.LastSeq {
		t.Fatalf("append after reopening at %d, not past %d", q, end.LastSeq)
	}

	// Another max age: ErrExists, as for a log of its own, and the log is made.
	if err := st.CreateLog(ctx, "S~c", 2*time.Hour); !errors.Is(err, ErrExists) {
		t.Fatalf("shared log under another max age: %v, want ErrExists", err)
	}
	appendTo(t, st, "S~c", "c")

	// One shared log deleted: the others keep theirs.
	if err := st.DeleteLog(ctx, "S~b"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendAsync("S~b", []byte("gone")).Wait(ctx); !errors.Is(err, ErrLogClosed) {
		t.Fatalf("append to a deleted shared log: %v", err)
	}
	if res, err := st.Read(ctx, "S~b", 0, 100, 1<<20); err != nil || len(res.Messages) != 0 {
		t.Fatalf("deleted shared log read: %v, %v", seqsOf(res), err)
	}
	if res, err := st.Read(ctx, "S~a", 0, 100, 1<<20); err != nil || len(res.Messages) != len(seqs["S~a"])+1 {
		t.Fatalf("S~a after S~b's deletion: %v, %v", seqsOf(res), err)
	}

	// The whole stream deleted, then re-created past its numbers: no
	// log takes appends until opened.
	if err := st.DeleteLog(ctx, "S"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.State(ctx, "S~a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("state of a deleted shared stream's log: %v", err)
	}
	if err := st.RecreateLog(ctx, "S~a", time.Hour, 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendAsync("S~a", []byte("x")).Wait(ctx); !errors.Is(err, ErrLogClosed) {
		t.Fatalf("append to a re-created stream's log before OpenLogs: %v", err)
	}
	if err := st.OpenLogs(ctx, []string{"S~a"}); err != nil {
		t.Fatal(err)
	}
	if q := appendTo(t, st, "S~a", "x"); q < 1000 {
		t.Fatalf("first append to the re-created stream at %d, want 1000 or more", q)
	}
}

// TestClusterFenceOfSharedLog: on a three-node R3 cluster, writers on
// every node append to a shared log without pause while another node
// closes it (CloseLogs) and then reads its end (State). Nothing
// acknowledged, and nothing stored, lies past that end; after the fence
// appends fail, as closed (or, when the outcome is unknown, unavailable).
//
// In the second case the stream's leader is asked to step down as the
// fence begins, so that the barrier meets (or follows) an election.
func TestClusterFenceOfSharedLog(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stepdown bool
	}{{"steady leader", false}, {"leader steps down", true}} {
		t.Run(tc.name, func(t *testing.T) { testClusterFence(t, tc.stepdown) })
	}
}

func testClusterFence(t *testing.T, stepdown bool) {
	ctx := t.Context()
	nodes := startCluster(t, clusterConfigs(t, 3, nil))
	if err := nodes[0].st.CreateLogs(ctx, []string{"F~parent", "F~child"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		acked   []uint64
		refused int
		closed  = make(chan struct{})
		wg      sync.WaitGroup
	)
	for _, n := range nodes {
		for range 2 {
			wg.Go(func() { fenceWriter(ctx, n.st, &mu, &acked, &refused, closed) })
		}
	}
	// Let the writers get going: some hundreds of acknowledged appends.
	eventually(t, "writers under way", func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 300 {
			return errors.New("too few appends yet")
		}
		return nil
	})
	if stepdown {
		c, err := nodes[2].st.conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			if _, err := c.nc.Request("$JS.API.STREAM.LEADER.STEPDOWN.F", nil, 5*time.Second); err != nil {
				t.Logf("step down: %v", err)
			}
		}()
	}
	if err := nodes[1].st.CloseLogs(ctx, []string{"F~parent"}, []string{"F~child"}); err != nil {
		t.Fatal(err)
	}
	st, err := nodes[1].st.State(ctx, "F~parent")
	if err != nil {
		t.Fatal(err)
	}
	close(closed)
	wg.Wait()
	if refused == 0 {
		t.Fatal("no append was refused after the fence: the writers stopped too soon to test it")
	}
	for _, q := range acked {
		if q > st.LastSeq {
			t.Fatalf("append acknowledged at %d, past the closed log's end %d", q, st.LastSeq)
		}
	}
	for _, n := range nodes {
		res, err := n.st.Read(ctx, "F~parent", st.LastSeq+1, 100, 1<<20)
		if err != nil || len(res.Messages) != 0 {
			t.Fatalf("node %s: stored past the end %d: %v, %v", n.cfg.Cluster.NodeName, st.LastSeq, seqsOf(res), err)
		}
		if q, err := n.st.AppendAsync("F~child", []byte("child")).Wait(ctx); err != nil || q <= st.LastSeq {
			t.Fatalf("append to the open log through %s: %d, %v", n.cfg.Cluster.NodeName, q, err)
		}
	}
	t.Logf("%d appends acknowledged, end %d, %d refused after the fence", len(acked), st.LastSeq, refused)
}

// fenceWriter appends to F~parent, a few appends in flight, until the
// fence is up and it has seen 20 appends refused.
func fenceWriter(ctx context.Context, st *Store, mu *sync.Mutex, acked *[]uint64, refused *int, closed <-chan struct{}) {
	mine := 0
	for {
		var ps []Pending
		for range 4 {
			ps = append(ps, st.AppendAsync("F~parent", []byte("p")))
		}
		for _, p := range ps {
			q, err := p.Wait(ctx)
			mu.Lock()
			switch {
			case err == nil:
				*acked = append(*acked, q)
			case errors.Is(err, ErrLogClosed) || errors.Is(err, ErrUnavailable):
				*refused++
				mine++
			default: // not a refusal a writer expects: the test fails
				*acked = append(*acked, ^uint64(0))
				mine = 20
			}
			mu.Unlock()
		}
		select {
		case <-closed:
			if mine >= 20 {
				return
			}
		case <-ctx.Done():
			return
		default:
		}
	}
}
