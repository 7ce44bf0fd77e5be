package kinesis

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/tributary-data/tributary/internal/streams"
)

// seriesCount is the number of series a collector has now.
func seriesCount(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	n := 0
	for range ch {
		n++
	}
	return n
}

// counterValue reads one counter series.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestMetricsOfDeletedStream checks that deleting a stream removes its
// series, and that a request which found the stream before the deletion
// but records after it (a race no end-to-end test can time) leaves no
// series behind, while another stream's series stay.
func TestMetricsOfDeletedStream(t *testing.T) {
	s := newTestService(t, Config{})
	ctx := context.Background()
	c := caller{"000000000000", "us-east-1"}
	for _, name := range []string{"gone", "kept"} {
		n := Str(name)
		if _, err := s.createStream(ctx, c, &createStreamInput{StreamName: &n, ShardCount: ptr(Int(1))}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.putRecord(ctx, c, &putRecordInput{StreamName: &n, PartitionKey: ptr(Str("k")), Data: ptr(Blob("x"))}); err != nil {
			t.Fatal(err)
		}
	}
	if n := seriesCount(s.metrics.incomingRecords); n != 2 {
		t.Fatalf("%d incoming_records series, want 2", n)
	}
	stale, _ := s.eng.Lookup(streams.Ref{Account: c.account, Region: c.region, Name: "gone"})
	if _, err := s.deleteStream(ctx, c, &deleteStreamInput{StreamName: ptr(Str("gone"))}); err != nil {
		t.Fatal(err)
	}
	if n := seriesCount(s.metrics.incomingRecords); n != 1 {
		t.Fatalf("%d incoming_records series after the delete, want 1", n)
	}

	// A request that looked "gone" up before the delete records
	// afterwards. (Puts cannot, since the deletion waits for them, but
	// reads can.)
	s.metrics.putRecordSuccess.WithLabelValues(streamLabels(stale.Meta)...).Inc()
	s.recorded(stale.Meta)
	kept, _ := s.eng.Lookup(streams.Ref{Account: c.account, Region: c.region, Name: "kept"})
	s.recorded(kept.Meta)
	if got := counterValue(t, s.metrics.putRecordSuccess.WithLabelValues(streamLabels(kept.Meta)...)); got != 1 {
		t.Fatalf("kept stream's put_record_success = %v, want 1", got)
	}
	if n := seriesCount(s.metrics.putRecordSuccess); n != 1 {
		t.Fatalf("%d put_record_success series, want only the kept stream's", n)
	}
}
