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

// partitionFor is how long the partition lasts: longer than JetStream's
// election timeout (4-9 s) and its leaders' lost-quorum interval (10 s),
// so the majority elects new leaders and the isolated node's old leaders
// step down while the partition holds.
const partitionFor = 25 * time.Second

// TestClusterPartition is issue 12's acceptance 2. Three nodes, each in
// a network namespace of its own, form a cluster; a stream of 4 shards
// is replicated on all three (R3), so every shard's quorum is two nodes.
// Under continuous writes through every node, the test cuts node n2 off
// from the other two (it still reaches all three itself) for
// partitionFor, then heals the partition. While it holds:
//
//   - n2 must acknowledge no record sent to it after the cut: it has a
//     quorum for no shard;
//   - what it answers instead must be an AWS error that aws-sdk-go-v2
//     retries (or a PutRecords entry with a retriable ErrorCode), not
//     success and not silence: a PutRecord probe sends one record at a
//     time to n2 and classifies every answer;
//   - the other two nodes keep (or resume) taking writes.
//
// After healing, every node reads the same records, no acknowledged
// record is lost and none, acknowledged or not, is there twice.
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
	// Longer than the server's own write timeout (10 s), so that what n2
	// answers is seen rather than cut short by the client.
	const callTimeout = 15 * time.Second
	l := newLoad(ctx, t, stream, clients, 5, callTimeout)
	l.start(ctx)
	sleep(ctx, 3*time.Second)

	const cut = 2
	probe := &probe{client: clients[cut], stream: stream, timeout: callTimeout}
	cutAt := time.Now()
	lab.isolate(cut)
	t.Logf("isolated %s at %s", c.nodes[cut].name, cutAt.Format("15:04:05.000"))
	pctx, stopProbe := context.WithCancel(ctx)
	var pwg sync.WaitGroup
	pwg.Go(func() { probe.run(pctx) })
	sleep(ctx, partitionFor)
	healAt := time.Now()
	lab.heal(cut)
	t.Logf("healed at %s", healAt.Format("15:04:05.000"))
	stopProbe()
	pwg.Wait()
	majority, resumed := l.resumed(cutAt, healAt, cut)
	sleep(ctx, 10*time.Second) // n2 catches up under load
	l.halt()
	if err := c.waitHealthy(ctx, 2*time.Minute); err != nil {
		t.Fatalf("after healing: %v", err)
	}
	chk := l.verify(ctx, t)

	// What n2 answered, before the partition healed, to the writers'
	// calls sent after the cut. (A call still waiting when the partition
	// heals may be acknowledged then, rightly.)
	var wrongAcks []string
	isolatedErrs := map[string]int{}
	for _, a := range l.attempts {
		if a.node != cut || a.sent.Before(cutAt) || !a.done.Before(healAt) {
			continue
		}
		for i, seq := range a.acked {
			if seq != "" && len(wrongAcks) < 10 {
				wrongAcks = append(wrongAcks, fmt.Sprintf("%s as %s %s, sent %s", payload(a.writer, a.first+i),
					l.shardIDs[a.shard], seq, a.sent.Format("15:04:05.000")))
			}
		}
		if a.err != nil {
			isolatedErrs[errorKind(a.err)]++
		}
		for code, n := range a.codes {
			isolatedErrs["record "+code] += n
		}
	}
	pf := probe.figures(healAt)
	t.Logf("FIGURES cluster-partition partition=%v calls=%d acked=%d lost=%d duplicated=%d reordered=%d diverged=%d unacked_stored=%d "+
		"isolated_acks=%d isolated_answers=%v probe_answers=%v probe_not_retriable=%d majority_resumed_after=%v (all shards: %v) call_errors=%s",
		partitionFor, len(l.attempts), chk.Acked, chk.Lost, chk.Duplicated, chk.Reordered, chk.Diverged, chk.UnackedStored,
		len(wrongAcks), isolatedErrs, pf.answers, pf.notRetriable, majority.Round(time.Millisecond), resumed, l.errorSummary())
	if chk.Acked == 0 {
		t.Fatal("no record was acknowledged: the test exercised nothing")
	}
	if len(wrongAcks) > 0 {
		t.Errorf("the isolated node acknowledged records sent to it during the partition: %s", strings.Join(wrongAcks, "; "))
	}
	if pf.answered == 0 {
		t.Error("the isolated node answered none of the probe's calls during the partition")
	}
	if pf.acked > 0 {
		t.Errorf("the isolated node acknowledged %d of the probe's PutRecord calls during the partition", pf.acked)
	}
	if pf.notRetriable > 0 {
		t.Errorf("the isolated node answered %d PutRecord calls with what aws-sdk-go-v2 does not retry: %s", pf.notRetriable,
			strings.Join(pf.examples, "; "))
	}
	if !chk.ok() {
		t.Errorf("after healing: %d lost, %d duplicated, %d reordered, %d diverged:\n%s", chk.Lost, chk.Duplicated,
			chk.Reordered, chk.Diverged, strings.Join(chk.Problems, "\n"))
	}
}

// probe puts one record at a time to the isolated node with PutRecord.
// A PutRecord has no per-record error, so its failure is the call's own
// AWS error, which the SDK's retryer judges.
type probe struct {
	client  *kinesis.Client
	stream  string
	timeout time.Duration
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
			PartitionKey: aws.String(fmt.Sprintf("probe-%d", n)), Data: []byte(fmt.Sprintf("probe:%d", n))})
		pc.done = time.Now()
		cancel()
		p.calls = append(p.calls, pc)
	}
}

// probeFigures is what the probe's calls got while the partition held
// (answered before heal): answers counts them by kind (errorKind);
// acked counts successes, notRetriable errors aws-sdk-go-v2 would not
// retry (silence included), with a few examples.
type probeFigures struct {
	answered, acked, notRetriable int
	answers                       map[string]int
	examples                      []string
}

func (p *probe) figures(heal time.Time) probeFigures {
	f := probeFigures{answers: map[string]int{}}
	for _, c := range p.calls {
		if !c.done.Before(heal) {
			f.answers["answered after healing"]++
			continue
		}
		f.answered++
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
