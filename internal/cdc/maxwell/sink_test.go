package maxwell

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect"
)

// gatedProducer records batches; while gate is non-nil each put waits
// for a value from it.
type gatedProducer struct {
	mu      sync.Mutex
	batches [][]string
	gate    chan error
}

func (g *gatedProducer) put(ctx context.Context, batch []message) error {
	if g.gate != nil {
		select {
		case err := <-g.gate:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var b []string
	for _, m := range batch {
		b = append(b, string(m.value))
	}
	g.batches = append(g.batches, b)
	return nil
}

func (g *gatedProducer) close() error { return nil }

func (g *gatedProducer) all() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, b := range g.batches {
		out = append(out, b...)
	}
	return out
}

func msg(i int) message { return message{key: "k", value: []byte(fmt.Sprint(i))} }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestSinkBatchesAndPositions(t *testing.T) {
	ctx := context.Background()
	prod := &gatedProducer{gate: make(chan error)}
	s := newSink(prod, false, quiet)
	go s.run(ctx)

	for i := 0; i < 1201; i++ {
		if err := s.emit(ctx, msg(i)); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := s.boundary(ctx, cdc.Position{File: "f", Pos: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.boundary(ctx, cdc.Position{File: "f", Pos: 2}); err != nil {
		t.Fatal(err)
	}
	if pos, _ := s.position(); pos != nil {
		t.Fatalf("durable %v before any acknowledgement", pos)
	}
	close(prod.gate) // let the writes through
	if err := s.flushed(ctx); err != nil {
		t.Fatal(err)
	}
	pos, acked := s.position()
	if acked != 1201 || pos == nil || pos.Pos != 2 {
		t.Fatalf("acked %d durable %v", acked, pos)
	}
	got := prod.all()
	for i, v := range got {
		if v != fmt.Sprint(i) {
			t.Fatalf("message %d is %s: order lost", i, v)
		}
	}
	for _, b := range prod.batches {
		if len(b) > maxBatch {
			t.Fatalf("batch of %d", len(b))
		}
	}
	// Messages accumulated behind the blocked write: at most four
	// writes carried them (one per full batch, and the first).
	if len(prod.batches) > 4 {
		t.Errorf("%d writes for 1201 messages", len(prod.batches))
	}
	// A boundary with nothing outstanding is durable at once.
	if err := s.boundary(ctx, cdc.Position{File: "f", Pos: 3}); err != nil {
		t.Fatal(err)
	}
	if pos, _ := s.position(); pos.Pos != 3 {
		t.Errorf("durable %v", pos)
	}
	if err := s.drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSinkDrainDropsAnUnfinishedTransaction(t *testing.T) {
	ctx := context.Background()
	prod := &gatedProducer{}
	s := newSink(prod, false, quiet)
	for i := 0; i < 3; i++ {
		s.emit(ctx, msg(i))
	}
	s.boundary(ctx, cdc.Position{File: "f", Pos: 10})
	s.emit(ctx, msg(3)) // a transaction cut short by shutdown
	s.emit(ctx, msg(4))
	s.stop()
	go s.run(ctx)
	if err := s.drain(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(prod.all(), ","); got != "0,1,2" {
		t.Errorf("written %s, want 0,1,2", got)
	}
	if pos, _ := s.position(); pos == nil || pos.Pos != 10 {
		t.Errorf("durable %v", pos)
	}
	if err := s.emit(ctx, msg(5)); err == nil {
		t.Error("emit after drain succeeded")
	}
}

func TestSinkProducerFailure(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("stream gone")

	// ignore_producer_error=true: logged, dropped, positions move on.
	prod := &gatedProducer{gate: make(chan error, 1)}
	prod.gate <- boom
	var logs bytes.Buffer
	s := newSink(prod, true, slog.New(slog.NewTextHandler(&logs, nil)))
	go s.run(ctx)
	s.emit(ctx, msg(0))
	s.boundary(ctx, cdc.Position{File: "f", Pos: 5})
	if err := s.flushed(ctx); err != nil {
		t.Fatal(err)
	}
	if pos, _ := s.position(); pos == nil || pos.Pos != 5 {
		t.Errorf("durable %v", pos)
	}
	if !strings.Contains(logs.String(), "stream gone") {
		t.Errorf("error not logged: %s", logs.String())
	}
	prod.gate = nil
	s.drain(ctx)

	// ignore_producer_error=false: the daemon stops.
	prod = &gatedProducer{gate: make(chan error, 1)}
	prod.gate <- boom
	s = newSink(prod, false, quiet)
	go s.run(ctx)
	s.emit(ctx, msg(0))
	s.boundary(ctx, cdc.Position{File: "f", Pos: 5})
	if err := s.flushed(ctx); !errors.Is(err, boom) {
		t.Fatalf("flushed: %v", err)
	}
	<-s.done
	if err := s.emit(ctx, msg(1)); !errors.Is(err, boom) {
		t.Errorf("emit after failure: %v", err)
	}
	if pos, _ := s.position(); pos != nil {
		t.Errorf("durable %v after a failed write", pos)
	}
	if !errors.Is(s.failure(), boom) {
		t.Errorf("failure %v", s.failure())
	}
}

func TestSinkBackPressure(t *testing.T) {
	prod := &gatedProducer{}
	s := newSink(prod, false, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	// No writer yet: maxQueued messages fill the queue, and the next
	// emit waits until ctx ends.
	for i := 0; i < maxQueued; i++ {
		if err := s.emit(ctx, msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	errc := make(chan error)
	go func() { errc <- s.emit(ctx, msg(-1)) }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("emit into a full queue: %v", err)
	}
	// With a writer, a waiting emit goes through.
	go s.run(context.Background())
	if err := s.emit(context.Background(), msg(maxQueued)); err != nil {
		t.Fatal(err)
	}
	s.boundary(context.Background(), cdc.Position{File: "f", Pos: 1})
	if err := s.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(prod.all()); n != maxQueued+1 {
		t.Errorf("wrote %d messages", n)
	}
}

func TestWriterProducer(t *testing.T) {
	var b bytes.Buffer
	p := newWriterProducer(&b, nil)
	if err := p.put(context.Background(), []message{{value: []byte(`{"a":1}`)}, {value: []byte(`{"b":2}`)}}); err != nil {
		t.Fatal(err)
	}
	if b.String() != "{\"a\":1}\n{\"b\":2}\n" {
		t.Errorf("wrote %q", b.String())
	}
}

// memStreams is a connect.Streams that keeps Put records in memory.
type memStreams struct {
	connect.Streams
	mu   sync.Mutex
	recs map[string][]connect.StreamRecord
}

func (m *memStreams) ListStreams(context.Context) ([]string, error) { return []string{"orders"}, nil }

func (m *memStreams) Put(_ context.Context, stream string, recs []connect.StreamRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs == nil {
		m.recs = map[string][]connect.StreamRecord{}
	}
	m.recs[stream] = append(m.recs[stream], recs...)
	return nil
}

func TestKinesisProducer(t *testing.T) {
	ms := &memStreams{}
	cfg := testConfig(t, map[string]string{"producer": "kinesis", "kinesis_stream": "orders"})
	prod, err := openProducer(context.Background(), cfg, ms, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := prod.put(context.Background(), []message{{key: "ecommerce", value: []byte(`{"x":1}`)}, {key: "", value: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	got := ms.recs["orders"]
	if len(got) != 2 || got[0].PartitionKey != "ecommerce" || string(got[0].Data) != `{"x":1}` || got[1].PartitionKey != "null" {
		t.Errorf("records %+v", got)
	}
	// A key Kinesis refuses: dropped alone under ignore_producer_error,
	// else an error.
	long := strings.Repeat("k", 257)
	if err := prod.put(context.Background(), []message{{key: long, value: []byte(`{"big":1}`)}, {key: "ok", value: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if got := ms.recs["orders"]; len(got) != 3 || got[2].PartitionKey != "ok" {
		t.Errorf("records %+v", got)
	}
	strict := &kinesisProducer{streams: ms, stream: "orders", log: quiet}
	if err := strict.put(context.Background(), []message{{key: long, value: []byte(`{}`)}}); err == nil {
		t.Error("an over-long key was accepted with ignore_producer_error=false")
	}
	cfg.KinesisStream = "missing"
	if _, err := openProducer(context.Background(), cfg, ms, nil, quiet); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing stream: %v", err)
	}
}

func TestRecordQueueOffsets(t *testing.T) {
	ctx := context.Background()
	q := newRecordQueue("orders", map[string]any{"server": "maxwell"}, &cdc.Position{File: "bin.000001", Pos: 4})
	for i := 0; i < 3; i++ {
		q.emit(ctx, message{key: "k", value: []byte(fmt.Sprint(i))})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if recs, err := q.take(cctx); err != nil || len(recs) != 0 {
		t.Fatalf("rows visible before their boundary: %v %v", recs, err)
	}
	q.boundary(ctx, cdc.Position{File: "bin.000001", Pos: 500, GTIDSet: "0-1-7"})
	q.direct().emit(ctx, message{key: "b", value: []byte("boot")})
	recs, err := q.take(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := map[string]any{"file": "bin.000001", "pos": int64(4)}
	end := map[string]any{"file": "bin.000001", "pos": int64(500), "gtids": "0-1-7"}
	wantOffsets := []map[string]any{start, start, end, end}
	if len(recs) != 4 {
		t.Fatalf("%d records", len(recs))
	}
	for i, r := range recs {
		if !reflect.DeepEqual(r.SourceOffset, wantOffsets[i]) {
			t.Errorf("record %d offset %v, want %v", i, r.SourceOffset, wantOffsets[i])
		}
		if r.Topic != "orders" || !reflect.DeepEqual(r.SourcePartition, map[string]any{"server": "maxwell"}) {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	if recs[0].Key != "k" || recs[0].Value != "0" || recs[3].Value != "boot" {
		t.Errorf("records %+v", recs)
	}
	// An offset that went through JSON comes back with a float.
	var off map[string]any
	b, _ := json.Marshal(end)
	json.Unmarshal(b, &off)
	p, err := positionFromOffset(off)
	if err != nil || !reflect.DeepEqual(p, &cdc.Position{File: "bin.000001", Pos: 500, GTIDSet: "0-1-7"}) {
		t.Errorf("positionFromOffset = %+v, %v", p, err)
	}
	if p, err := positionFromOffset(nil); p != nil || err != nil {
		t.Errorf("no offset: %v %v", p, err)
	}
	if _, err := positionFromOffset(map[string]any{"file": "x", "pos": "12"}); err == nil {
		t.Error("a string pos was accepted")
	}
	q.fail(errors.New("engine failed"))
	if _, err := q.take(ctx); err == nil {
		t.Error("take after a failure returned no error")
	}
}
