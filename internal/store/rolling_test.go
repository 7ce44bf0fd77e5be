package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// liveNodes hands the writer a node that is up while the test restarts
// the others.
type liveNodes struct {
	mu    sync.Mutex
	nodes []*node
	down  int // the node being restarted, -1 for none
	next  int
}

// pick returns the store of the next node that is up, in turn.
func (l *liveNodes) pick() *Store {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range l.nodes {
		l.next = (l.next + 1) % len(l.nodes)
		if l.next != l.down && l.nodes[l.next].st != nil {
			return l.nodes[l.next].st
		}
	}
	return nil
}

func (l *liveNodes) set(i int, st *Store) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nodes[i].st = st
	if st == nil {
		l.down = i
	} else {
		l.down = -1
	}
}

// ackedWrite is a write the log acknowledged: its sequence, its payload,
// and how long it took from its first attempt, retries included.
type ackedWrite struct {
	seq     uint64
	payload string
	took    time.Duration
	retries int
	lastErr error // the last failure before the acknowledgement
}

// writeRetryBound is how long one write may be retried before the test
// counts it as lost availability.
const writeRetryBound = 20 * time.Second

// attemptTimeout bounds one attempt of a write: short, so that the time
// a write takes measures the unavailability rather than the timeout.
const attemptTimeout = 500 * time.Millisecond

// writeUntil appends numbered payloads to L through the live nodes, each
// retried until acknowledged (bounded), until stop is closed.
func writeUntil(ctx context.Context, l *liveNodes, stop <-chan struct{}) ([]ackedWrite, error) {
	var acked []ackedWrite
	for i := 0; ; i++ {
		select {
		case <-stop:
			return acked, nil
		default:
		}
		payload := fmt.Sprintf("w%06d", i)
		start := time.Now()
		var lastErr error
		for retries := 0; ; retries++ {
			st := l.pick()
			var seq uint64
			err := errors.New("no node up")
			if st != nil {
				wctx, cancel := context.WithTimeout(ctx, attemptTimeout)
				seq, err = st.AppendAsync("L", []byte(payload)).Wait(wctx)
				cancel()
			}
			if err == nil {
				acked = append(acked, ackedWrite{seq: seq, payload: payload, took: time.Since(start), retries: retries, lastErr: lastErr})
				break
			}
			lastErr = err
			if time.Since(start) > writeRetryBound {
				return acked, fmt.Errorf("write %s still failing after %s and %d retries: %w", payload, writeRetryBound, retries, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestRollingRestart: three nodes are restarted one at a time, as
// docs/operations.md says to, while a writer appends to an R3 log
// through the nodes that are up. Every write is acknowledged within
// bounded retries, and every acknowledged write is in the log, once per
// acknowledgement, in order, read through every node. Before each stop
// the node's leaderships are handed over (stepdown), or not; the longest
// a write waited is logged, for docs/operations.md.
func TestRollingRestart(t *testing.T) {
	t.Parallel() // mostly waits on elections: it overlaps well with the other cluster tests
	modes := []struct {
		name     string
		handOver bool
	}{
		{"stepdown before each stop", true},
		{"plain stops", false},
	}
	for _, tc := range modes[:rollingModes] {
		t.Run(tc.name, func(t *testing.T) { rollingRestart(t, tc.handOver) })
	}
}

func rollingRestart(t *testing.T, handOverFirst bool) {
	ctx := t.Context()
	nodes := startCluster(t, clusterConfigs(t, 3, nil))
	if err := nodes[0].st.CreateLog(ctx, "L", 0); err != nil {
		t.Fatal(err)
	}
	live := &liveNodes{nodes: nodes, down: -1}
	stop := make(chan struct{})
	var (
		acked    []ackedWrite
		writeErr error
		wg       sync.WaitGroup
	)
	wg.Go(func() { acked, writeErr = writeUntil(ctx, live, stop) })
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
			wg.Wait()
		}
	}()

	for r := range rollingRounds * len(nodes) {
		i := r % len(nodes)
		name := nodes[i].cfg.Cluster.NodeName
		other := nodes[(i+1)%3].st
		waitHealthy(t, other, 3)
		if handOverFirst {
			handOver(t, other, name)
		}
		old := nodes[i].st
		live.set(i, nil)
		if err := old.Close(); err != nil {
			t.Fatalf("stop %s: %v", name, err)
		}
		st, err := Open(ctx, nodes[i].cfg)
		if err != nil {
			t.Fatalf("restart %s: %v", name, err)
		}
		live.set(i, st)
	}
	waitHealthy(t, nodes[0].st, 3)
	close(stop)
	wg.Wait()
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged")
	}
	for _, n := range nodes {
		checkAcked(t, n.st, acked)
	}
	var worst time.Duration
	retried := 0
	for _, a := range acked {
		worst = max(worst, a.took)
		if a.retries > 0 {
			retried++
			t.Logf("write %s: acknowledged after %d retries in %s; it had failed with: %v", a.payload, a.retries, a.took.Round(time.Millisecond), a.lastErr)
		}
	}
	t.Logf("%d writes acknowledged across %d restarts; %d needed a retry; the longest took %s (retries included)",
		len(acked), rollingRounds*len(nodes), retried, worst.Round(time.Millisecond))
}

// waitHealthy waits until st's status shows n current nodes, a meta
// leader, and no log under-replicated: the check between two restarts.
func waitHealthy(t *testing.T, st *Store, n int) {
	t.Helper()
	eventually(t, "the cluster healthy again", func() error {
		s, err := st.ClusterStatus(t.Context())
		if err != nil {
			return err
		}
		if s.MetaLeader == "" {
			return errors.New("no meta leader")
		}
		current := 0
		for _, nd := range s.Nodes {
			if nd.Current && !nd.Offline {
				current++
			}
		}
		if current != n {
			return fmt.Errorf("%d of %d nodes current: %+v", current, n, s.Nodes)
		}
		for _, l := range s.Logs {
			if l.UnderReplicated {
				return fmt.Errorf("log %s under-replicated: %+v", l.Name, l)
			}
		}
		return nil
	})
}

// handOver moves every leadership that node holds (the meta group's,
// the logs') to other nodes, through st.
func handOver(t *testing.T, st *Store, node string) {
	t.Helper()
	s, err := st.ClusterStatus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s.MetaLeader == node {
		if _, err := st.StepDown(t.Context(), ""); err != nil {
			t.Fatalf("meta stepdown: %v", err)
		}
	}
	for _, l := range s.Logs {
		if l.Leader == node {
			if _, err := st.StepDown(t.Context(), l.Name); err != nil {
				t.Fatalf("stepdown of %s: %v", l.Name, err)
			}
		}
	}
}

// checkAcked reads L through st: each acknowledged write is there with
// its payload, in acknowledgement order.
func checkAcked(t *testing.T, st *Store, acked []ackedWrite) {
	t.Helper()
	got := map[uint64]string{}
	var from uint64 = 1
	for {
		res, err := st.Read(t.Context(), "L", from, 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Messages {
			got[m.Seq] = string(m.Data)
			from = m.Seq + 1
		}
		if res.Pending == 0 || len(res.Messages) == 0 {
			break
		}
	}
	seqs := make([]uint64, 0, len(acked))
	for _, a := range acked {
		if got[a.seq] != a.payload {
			t.Fatalf("acknowledged %s at %d; the log has %q there", a.payload, a.seq, got[a.seq])
		}
		seqs = append(seqs, a.seq)
	}
	if !slices.IsSorted(seqs) {
		t.Fatal("acknowledged sequences out of order")
	}
}
