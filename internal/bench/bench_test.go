package bench

import (
	"io"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// smallWorkload is enough to exercise every path of Run in a second.
var smallWorkload = Workload{Producers: 3, Shards: 2, CallsPerWriter: 3, WarmupCalls: 1, RecordsPerCall: 50, RecordSize: 10}

// TestRunThroughEveryNode runs the benchmark's workload and its push
// latency measurement on one node and on a 3-node cluster (in the test
// process), writing and reading through every node: Run fails unless
// every record put comes back, and SubscribeLatency unless every record
// is pushed to the subscriber on another node than its writer's.
func TestRunThroughEveryNode(t *testing.T) {
	ctx := testserver.Context(t, 2*time.Minute)
	single := inproc.Start(t)
	var cluster []string
	for _, n := range inproc.StartCluster(t, 3) {
		cluster = append(cluster, n.Endpoint)
	}
	for _, tc := range []struct {
		name      string
		endpoints []string
	}{
		{"1 node", []string{single.Endpoint}},
		{"3 nodes", cluster},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Run(ctx, tc.name, tc.endpoints, smallWorkload, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if want := 3 * 3 * 50; r.Records != want || r.PutPerSec <= 0 || r.GetPerSec <= 0 {
				t.Errorf("result %+v, want %d timed records and positive rates", r, want)
			}
			writer := tc.endpoints[len(tc.endpoints)-1]
			l, err := SubscribeLatency(ctx, tc.name, tc.endpoints[0], writer, 5, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if l.Records != 5 || l.P50 <= 0 || l.P99 < l.P50 || l.Max < l.P99 {
				t.Errorf("latency %+v", l)
			}
		})
	}
}
