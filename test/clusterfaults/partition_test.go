//go:build clusterfaults

package clusterfaults

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// partitionFor is how long each partition lasts: longer than
// JetStream's election timeout (4-9 s) and its leaders' lost-quorum
// interval (10 s), so the majority elects new leaders and the isolated
// node's old leaders step down while the partition holds.
const partitionFor = 20 * time.Second

// TestClusterPartition is issue 12's acceptance 2. Three nodes, each in
// a network namespace of its own, form a cluster; a stream of 4 shards
// is replicated on all three (R3), so every shard's quorum is two nodes.
// Under continuous writes through every node, the test cuts each node in
// turn off from the other two (it still reaches all three itself) for
// partitionFor, then heals the partition and lets the node catch up for
// 10 s. Isolating every node in turn makes sure that at least one
// partition takes away the leader of shards. While a partition holds:
//
//   - the isolated node must acknowledge no record sent to it after the
//     cut: it has a quorum for no shard;
//   - what it answers instead must be an AWS error that aws-sdk-go-v2
//     retries (or a PutRecords entry with a retriable ErrorCode), not
//     success and not silence: a PutRecord probe sends one record at a
//     time to it and classifies every answer;
//   - the other two nodes keep (or resume) taking writes (reported).
//
// At the end every node reads the same records, no acknowledged record
// is lost and none, acknowledged or not, is there twice.
func TestClusterPartition(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	lab := newNetLab(t, 3)
	t.Log(lab)
	c := startCluster(t, lab.hosts())
	const stream = "part"
	createStream(ctx, t, c, stream, 4)
	var clients []*kinesis.Client
	for i := range c.nodes {
		clients = append(clients, c.client(i))
	}
	// Longer than the server's own write timeout (10 s), so that what the
	// isolated node answers is seen rather than cut short by the client.
	const callTimeout = 15 * time.Second
	l := newLoad(ctx, t, stream, clients, 5, callTimeout)
	l.start(ctx)
	sleep(ctx, 3*time.Second)

	type partition struct {
		node         int
		cutAt        time.Time // once every route of the cut is in place
		healAt       time.Time // before the first route is removed
		probe        probeFigures
		wrongAcks    []string
		isolatedErrs map[string]int
		majority     time.Duration
		resumed      bool
	}
	var parts []partition
	for cut := range c.nodes {
		pr := &probe{client: clients[cut], stream: stream, timeout: callTimeout, node: cut}
		lab.isolate(cut)
		p := partition{node: cut, cutAt: time.Now()}
		pctx, stopProbe := context.WithCancel(ctx)
		var pwg sync.WaitGroup
		pwg.Go(func() { pr.run(pctx) })
		sleep(ctx, partitionFor)
		p.healAt = time.Now()
		lab.heal(cut)
		stopProbe()
		pwg.Wait()
		p.probe = pr.figures(p.healAt)
		p.majority, p.resumed = l.resumed(p.cutAt, p.healAt, cut)
		p.wrongAcks, p.isolatedErrs = l.isolatedAnswers(cut, p.cutAt, p.healAt)
		parts = append(parts, p)
		t.Logf("isolated %s from %s to %s; the others took a write to every shard after %v (all shards: %v)", c.nodes[cut].name,
			p.cutAt.Format("15:04:05.000"), p.healAt.Format("15:04:05.000"), p.majority.Round(time.Millisecond), p.resumed)
		sleep(ctx, 10*time.Second) // the node catches up under load
	}
	l.halt()
	if err := c.waitHealthy(ctx, 2*time.Minute); err != nil {
		t.Fatalf("after healing: %v", err)
	}
	chk := l.verify(ctx, t)
	t.Logf("FIGURES cluster-partition partitions=%d each=%v calls=%d %s call_errors=%s",
		len(parts), partitionFor, len(l.attempts), chk.counts(), l.errorSummary())
	for _, p := range parts {
		n := c.nodes[p.node].name
		t.Logf("FIGURES cluster-partition isolated=%s isolated_acks=%d isolated_answers=%v probe_answers=%v probe_slowest_answer=%v probe_not_retriable=%d majority_resumed_after=%v all_shards_resumed=%v",
			n, len(p.wrongAcks), p.isolatedErrs, p.probe.answers, p.probe.slowest.Round(time.Millisecond), p.probe.notRetriable, p.majority.Round(time.Millisecond), p.resumed)
		if len(p.wrongAcks) > 0 {
			t.Errorf("%s acknowledged records sent to it while it was cut off: %s", n, strings.Join(p.wrongAcks, "; "))
		}
		if p.probe.answered == 0 {
			t.Errorf("%s answered none of the probe's calls while it was cut off", n)
		}
		if p.probe.acked > 0 {
			t.Errorf("%s acknowledged %d of the probe's PutRecord calls while it was cut off", n, p.probe.acked)
		}
		if p.probe.notRetriable > 0 {
			t.Errorf("%s answered %d PutRecord calls with what aws-sdk-go-v2 does not retry: %s", n, p.probe.notRetriable,
				strings.Join(p.probe.examples, "; "))
		}
	}
	if chk.Acked == 0 {
		t.Fatal("no record was acknowledged: the test exercised nothing")
	}
	if !chk.ok() {
		t.Errorf("after healing: %s:\n%s", chk.counts(), strings.Join(chk.Problems, "\n"))
	}
}

// isolatedAnswers is what node answered, before heal, to the writers'
// calls sent to it after cut: the records it acknowledged (which it must
// not) and its errors by kind. A call still waiting when the partition
// heals may rightly be acknowledged then, and one sent before the cut
// was in place may have been committed before it.
func (l *load) isolatedAnswers(node int, cut, heal time.Time) (acks []string, errs map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	errs = map[string]int{}
	for _, a := range l.attempts {
		if a.node != node || a.sent.Before(cut) || !a.done.Before(heal) {
			continue
		}
		for i, seq := range a.acked {
			if seq != "" && len(acks) < 10 {
				acks = append(acks, fmt.Sprintf("%s as %s %s, sent %s", payload(a.writer, a.first+i),
					l.shardIDs[a.shard], seq, a.sent.Format("15:04:05.000")))
			}
		}
		if a.err != nil {
			errs[errorKind(a.err)]++
		}
		for code, n := range a.codes {
			errs["record "+code] += n
		}
	}
	return acks, errs
}

// probe puts one record at a time to the isolated node with PutRecord.
// A PutRecord has no per-record error, so its failure is the call's own
// AWS error, which the SDK's retryer judges.
type probe struct {
	client  *kinesis.Client
	stream  string
	timeout time.Duration
	node    int // in the probe's records, so that each is unique
	calls   []probeCall
}

type probeCall struct {
	sent, done time.Time
	err        error
}

// run calls until ctx ends. The call in flight then is not cut short:
// what the node answers it is part of the figures.
func (p *probe) run(ctx context.Context) {
	for n := 0; ctx.Err() == nil; n++ {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
		pc := probeCall{sent: time.Now()}
		_, pc.err = p.client.PutRecord(cctx, &kinesis.PutRecordInput{StreamName: aws.String(p.stream),
			PartitionKey: aws.String(fmt.Sprintf("probe-%d", n)), Data: []byte(fmt.Sprintf("probe%d:%d", p.node, n))})
		pc.done = time.Now()
		cancel()
		p.calls = append(p.calls, pc)
	}
}

// probeFigures is what the probe's calls got while the partition held
// (answered before heal): answers counts them by kind (errorKind);
// acked counts successes, notRetriable errors aws-sdk-go-v2 would not
// retry (silence included), with a few examples; slowest is the longest
// a call answered before heal took.
type probeFigures struct {
	answered, acked, notRetriable int
	answers                       map[string]int
	examples                      []string
	slowest                       time.Duration
}

func (p *probe) figures(heal time.Time) probeFigures {
	f := probeFigures{answers: map[string]int{}}
	for _, c := range p.calls {
		if !c.done.Before(heal) {
			f.answers["answered after healing"]++
			continue
		}
		f.answered++
		f.slowest = max(f.slowest, c.done.Sub(c.sent))
		if c.err == nil {
			f.acked++
			f.answers["acknowledged"]++
			continue
		}
		kind := errorKind(c.err)
		f.answers[kind]++
		if !retriable(c.err) {
			f.notRetriable++
			if len(f.examples) < 5 {
				f.examples = append(f.examples, kind+": "+c.err.Error())
			}
		}
	}
	return f
}
