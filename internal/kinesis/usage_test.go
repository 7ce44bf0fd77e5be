package kinesis

import (
	"encoding/json"
	"testing"
	"time"
)

// TestUsageCharges: another node's report takes from this node's buckets
// (into debt past a bucket's burst), this node's own report comes back
// and is ignored, and buckets are dropped only once idle and as new.
func TestUsageCharges(t *testing.T) {
	var l limits
	u := newUsageShare(nil, &l)
	report := func(node string, su shardUsage) []byte {
		b, err := json.Marshal(usageReport{Node: node, Shards: map[string]*shardUsage{"L": &su}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	u.heard(report(u.node, shardUsage{Records: 1000, Bytes: 1 << 20, Reads: 5, ReadBytes: 2 << 20}))
	if l.len() != 0 || u.received.Load() != 0 {
		t.Fatalf("its own report made %d buckets, counted %d", l.len(), u.received.Load())
	}
	u.heard(report("other", shardUsage{Records: 2500, Reads: 5, ReadBytes: 4 << 20}))
	sl := l.of("L")
	now := time.Now()
	for _, tc := range []struct {
		name      string
		tokens    float64
		wantBelow float64
	}{
		{"write records", sl.writeRecords.TokensAt(now), -1000},
		{"read calls", sl.readCalls.TokensAt(now), 1},
	} {
		if tc.tokens >= tc.wantBelow {
			t.Errorf("%s: %.0f tokens left, want fewer than %.0f", tc.name, tc.tokens, tc.wantBelow)
		}
	}
	if full := sl.writeBytes.TokensAt(now); full < writeBytesPerSec-1 {
		t.Errorf("write bytes charged with nothing: %.0f tokens", full)
	}
	if d := time.Until(sl.readsBlockedUntil); d < time.Second || d > 2*time.Second {
		t.Errorf("4 MiB read elsewhere blocks reads for %v, want 2s", d)
	}

	l.dropIdle(now.Add(time.Hour), now)
	if l.len() != 1 {
		t.Fatal("dropped buckets still in debt")
	}
	later := now.Add(10 * time.Second)
	l.dropIdle(now.Add(-time.Second), later)
	if l.len() != 1 {
		t.Fatal("dropped buckets used since the cut-off")
	}
	l.dropIdle(later, later)
	if l.len() != 0 {
		t.Fatal("kept idle buckets that are as new")
	}
}
