//go:build scale

package scalebench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// layout maps shard numbers 0..n-1 onto JetStream streams and subjects.
type layout struct {
	// mapping is "A" (a stream per shard) or "B" (a stream per Kinesis
	// stream, a subject per shard).
	mapping string
	// perStream is how many shards each Kinesis stream has under B.
	perStream int
}

func (l layout) String() string {
	if l.mapping == "B" {
		return fmt.Sprintf("B (%d shards per stream)", l.perStream)
	}
	return "A (stream per shard)"
}

// stream names the JetStream stream that holds a shard.
func (l layout) stream(shard int) string {
	if l.mapping == "B" {
		return fmt.Sprintf("KS_bench_%06d", shard/l.perStream)
	}
	return fmt.Sprintf("KS_bench_%06d", shard)
}

// subject is where a shard's records are published. Under A it is the
// log's only subject, as in internal/store (log.<name>).
func (l layout) subject(shard int) string {
	if l.mapping == "B" {
		return fmt.Sprintf("log.%s.%06d", l.stream(shard), shard%l.perStream)
	}
	return "log." + l.stream(shard)
}

// filter is the subject a read of the shard must filter on: none under
// A, where the stream holds the shard alone.
func (l layout) filter(shard int) string {
	if l.mapping == "B" {
		return l.subject(shard)
	}
	return ""
}

// configs returns the JetStream streams that n shards need, configured
// as internal/store.CreateLog configures a log (file storage, limits
// retention, 24 h MaxAge, direct gets allowed).
func (l layout) configs(n, replicas int) []jetstream.StreamConfig {
	var out []jetstream.StreamConfig
	for shard := 0; shard < n; shard++ {
		if l.mapping == "B" && shard%l.perStream != 0 {
			continue
		}
		subj := l.subject(shard)
		if l.mapping == "B" {
			subj = "log." + l.stream(shard) + ".*"
		}
		out = append(out, jetstream.StreamConfig{
			Name: l.stream(shard), Subjects: []string{subj},
			Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy,
			MaxAge: 24 * time.Hour, Discard: jetstream.DiscardOld,
			AllowDirect: true, Replicas: replicas,
		})
	}
	return out
}

// createResult is how far creating the streams got within its budget.
type createResult struct {
	Created, Wanted int
	APIErrors       int // failed or timed-out create requests (retried)
	Elapsed         time.Duration
	FirstErr        error
}

// createStreams creates cfgs with a few requests in flight at once (the
// meta leader serialises them anyway) and stops starting new ones when
// the budget is spent, so that a mapping that does not scale ends the
// run with a count rather than never ending.
func createStreams(ctx context.Context, js jetstream.JetStream, cfgs []jetstream.StreamConfig, budget time.Duration) createResult {
	const workers = 8
	res := createResult{Wanted: len(cfgs)}
	start := time.Now()
	deadline := start.Add(budget)
	var next, created, apiErrs atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(cfgs) || time.Now().After(deadline) || ctx.Err() != nil {
					return
				}
				// Creating a stream that exists with the same config
				// succeeds, so a timed-out request is simply repeated.
				for try := 0; try < 5; try++ {
					c, cancel := context.WithTimeout(ctx, 10*time.Second)
					_, err := js.CreateStream(c, cfgs[i])
					cancel()
					if err == nil {
						created.Add(1)
						break
					}
					apiErrs.Add(1)
					firstErr.Do(func() { res.FirstErr = fmt.Errorf("create %s: %w", cfgs[i].Name, err) })
				}
			}
		}()
	}
	wg.Wait()
	res.Created, res.APIErrors, res.Elapsed = int(created.Load()), int(apiErrs.Load()), time.Since(start)
	return res
}

// written remembers, per shard, the stream sequences its records got,
// so that reads can be checked against what was acknowledged.
type written map[int][]uint64

// putResult summarises the timed batches.
type putResult struct {
	Batches, BatchSize int
	P50, P99           time.Duration
	RecordsPerSec      float64
}

// putBatches sends batches of one record to each of batchSize random
// shards, as a PutRecords request with records for many shards stores
// one message per shard, and times each batch from its first publish to
// its last acknowledgement. Only shards below limit receive records.
func putBatches(ctx context.Context, js jetstream.JetStream, l layout, limit, batches, batchSize int, w written) (putResult, error) {
	payload := make([]byte, 100)
	lat := make([]time.Duration, 0, batches)
	start := time.Now()
	for b := 0; b < batches; b++ {
		shards := make([]int, batchSize)
		futs := make([]jetstream.PubAckFuture, batchSize)
		t0 := time.Now()
		for i := range shards {
			shards[i] = rand.IntN(limit)
			msg := &nats.Msg{Subject: l.subject(shards[i]), Data: payload, Header: nats.Header{}}
			msg.Header.Set(jetstream.ExpectedStreamHeader, l.stream(shards[i]))
			f, err := js.PublishMsgAsync(msg)
			if err != nil {
				return putResult{}, fmt.Errorf("publish: %w", err)
			}
			futs[i] = f
		}
		for i, f := range futs {
			select {
			case ack := <-f.Ok():
				w[shards[i]] = append(w[shards[i]], ack.Sequence)
			case err := <-f.Err():
				return putResult{}, fmt.Errorf("put to shard %d: %w", shards[i], err)
			case <-ctx.Done():
				return putResult{}, ctx.Err()
			}
		}
		lat = append(lat, time.Since(t0))
	}
	elapsed := time.Since(start)
	p50, p99 := percentiles(lat)
	return putResult{Batches: batches, BatchSize: batchSize, P50: p50, P99: p99,
		RecordsPerSec: float64(batches*batchSize) / elapsed.Seconds()}, nil
}

// readResult times reads of written shards, from the start (Kinesis's
// TRIM_HORIZON: under B the server must skip other shards' messages)
// and at the newest record (a consumer at the tip, which must learn that
// nothing follows).
type readResult struct {
	Shards                 int
	HorizonP50, HorizonP99 time.Duration
	TipP50, TipP99         time.Duration
}

// readShards reads up to 200 written shards both ways and checks that
// each read returns exactly what was acknowledged for that shard, in
// order, with the right filtered pending count.
func readShards(ctx context.Context, nc *nats.Conn, l layout, w written) (readResult, error) {
	var horizon, tip []time.Duration
	for shard, seqs := range w {
		if len(horizon) == 200 {
			break
		}
		t0 := time.Now()
		msgs, pending, err := directGet(ctx, nc, l.stream(shard), l.filter(shard), 1, 100)
		if err != nil {
			return readResult{}, err
		}
		horizon = append(horizon, time.Since(t0))
		want := seqs[:min(len(seqs), 100)]
		if !slices.Equal(msgs, want) || pending != uint64(len(seqs)-len(want)) {
			return readResult{}, fmt.Errorf("shard %d from the start: got %v pending %d, want %v pending %d",
				shard, msgs, pending, want, len(seqs)-len(want))
		}
		last := seqs[len(seqs)-1]
		t0 = time.Now()
		msgs, pending, err = directGet(ctx, nc, l.stream(shard), l.filter(shard), last, 100)
		if err != nil {
			return readResult{}, err
		}
		tip = append(tip, time.Since(t0))
		if !slices.Equal(msgs, []uint64{last}) || pending != 0 {
			return readResult{}, fmt.Errorf("shard %d at the tip: got %v pending %d, want [%d] pending 0", shard, msgs, pending, last)
		}
	}
	r := readResult{Shards: len(horizon)}
	r.HorizonP50, r.HorizonP99 = percentiles(horizon)
	r.TipP50, r.TipP99 = percentiles(tip)
	return r, nil
}

// directGet is internal/store's batched direct get, with next_by_subj
// when filter is set; it returns the sequences read and the server's
// count of (filtered) messages after them.
func directGet(ctx context.Context, nc *nats.Conn, stream, filter string, from uint64, batch int) ([]uint64, uint64, error) {
	body, err := json.Marshal(map[string]any{"seq": from, "next_by_subj": filter, "batch": batch, "max_bytes": 1 << 20})
	if err != nil {
		return nil, 0, err
	}
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, 0, err
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest("$JS.API.DIRECT.GET."+stream, inbox, body); err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var seqs []uint64
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("read %s %s: %w", stream, filter, err)
		}
		switch st := m.Header.Get("Status"); st {
		case "":
		case "204":
			pending, _ := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
			return seqs, pending, nil
		case "404":
			return seqs, 0, nil
		default:
			return nil, 0, errors.New("read " + stream + ": status " + st + " " + m.Header.Get("Description"))
		}
		seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("read %s: sequence header: %w", stream, err)
		}
		seqs = append(seqs, seq)
	}
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[min(len(s)-1, len(s)*99/100)]
}
