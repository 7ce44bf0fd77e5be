package kinesis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/tributary-data/tributary/internal/logging"
	"github.com/tributary-data/tributary/internal/storage"
)

// Throughput limits across nodes. Every node of a cluster accepts
// requests for every shard, and AWS's limits are per shard, whichever
// front end a request reaches. So each node keeps its buckets as alone
// (throttle.go) and every usageInterval tells the others, on
// usageSubject, what it took from each shard's buckets since its last
// report; a node takes what the others report from its own buckets of
// the same shards, going into debt if need be. Each node thus admits
// against the whole cluster's use, learnt up to usageInterval (plus the
// network's delay) late. The approximation lets a shard take, across
// the cluster, the limit's rate plus, while reports are in flight, what
// each node admits before hearing of the others: up to one second's
// burst per node after a quiet spell, and a usageInterval's worth at
// the limit's rate per node in a steady overload.

const (
	usageSubject  = "tributary.usage"
	usageInterval = 100 * time.Millisecond
	// usageIdle is how long a shard's buckets are kept unused: others'
	// reports make buckets for shards this node may never serve, and
	// for streams deleted since. Idle this long, they hold what new
	// buckets would (full, no read debt), so dropping them changes
	// nothing.
	usageIdle = 10 * time.Second
)

// shardUsage is what a node took from one shard's buckets.
type shardUsage struct {
	Records   int `json:"r,omitempty"`
	Bytes     int `json:"b,omitempty"`
	Reads     int `json:"c,omitempty"`
	ReadBytes int `json:"rb,omitempty"`
}

// usageReport is one node's usage message.
type usageReport struct {
	Node   string                 `json:"node"`
	Shards map[string]*shardUsage `json:"shards"`
}

// usageShare reports this node's usage to the others and charges theirs
// to its buckets. A nil *usageShare records nothing: the store is not
// shared, or the limits are off.
type usageShare struct {
	n      storage.Notifier
	limits *limits
	node   string
	log    *logging.Limiter

	mu  sync.Mutex
	cur map[string]*shardUsage

	sent, received atomic.Uint64
}

func newUsageShare(n storage.Notifier, l *limits) *usageShare {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	return &usageShare{n: n, limits: l, node: hex.EncodeToString(id), log: logging.NewLimiter(10 * time.Second),
		cur: map[string]*shardUsage{}}
}

// add records what this node took from a log's buckets.
func (u *usageShare) add(log string, d shardUsage) {
	if u == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	su := u.cur[log]
	if su == nil {
		su = &shardUsage{}
		u.cur[log] = su
	}
	su.Records += d.Records
	su.Bytes += d.Bytes
	su.Reads += d.Reads
	su.ReadBytes += d.ReadBytes
}

// runUsage reports this node's usage every usageInterval and, every
// second, drops idle buckets, until ctx ends. It listens to the others' reports meanwhile.
func (s *Service) runUsage(ctx context.Context, u *usageShare) {
	stop, err := u.n.Listen(ctx, usageSubject, func(_ string, data []byte) { u.heard(data) })
	if err != nil {
		// Each node then limits what it serves alone.
		s.log.Error("throttling: cannot hear other nodes' usage; each node will admit the full limits", "err", err)
	} else {
		defer stop()
	}
	tick := time.NewTicker(usageInterval)
	defer tick.Stop()
	swept := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			u.report(ctx, s)
			if now.Sub(swept) >= time.Second {
				s.limits.dropIdle(now.Add(-usageIdle), now)
				swept = now
			}
		}
	}
}

// report publishes the usage recorded since the last report, if any.
func (u *usageShare) report(ctx context.Context, s *Service) {
	u.mu.Lock()
	if len(u.cur) == 0 {
		u.mu.Unlock()
		return
	}
	r := usageReport{Node: u.node, Shards: u.cur}
	u.cur = map[string]*shardUsage{}
	u.mu.Unlock()
	data, err := json.Marshal(r)
	if err == nil {
		err = u.n.Notify(ctx, usageSubject, data)
	}
	if err != nil {
		if ok, n := u.log.Allow("report"); ok {
			s.log.Warn("throttling: could not report usage to other nodes", append([]any{"err", err}, logging.Suppressed(n)...)...)
		}
		return
	}
	u.sent.Add(1)
}

// heard charges another node's report to this node's buckets.
func (u *usageShare) heard(data []byte) {
	var r usageReport
	if err := json.Unmarshal(data, &r); err != nil || r.Node == u.node {
		return
	}
	u.received.Add(1)
	now := time.Now()
	for log, su := range r.Shards {
		if su == nil {
			continue
		}
		u.limits.of(log).charge(now, su)
	}
}

// charge takes what another node used from the buckets, into debt if
// need be.
func (sl *shardLimits) charge(now time.Time, su *shardUsage) {
	debit(sl.writeRecords, now, su.Records)
	debit(sl.writeBytes, now, su.Bytes)
	debit(sl.readCalls, now, su.Reads)
	if su.ReadBytes > 0 {
		sl.mu.Lock()
		sl.readsBlockedUntil = maxTime(sl.readsBlockedUntil, now).Add(readCost(su.ReadBytes))
		sl.mu.Unlock()
	}
}

// debit takes n tokens from b whether or not it has them, in steps of at
// most its burst (a bigger reservation is refused whole).
func debit(b *rate.Limiter, now time.Time, n int) {
	for n > 0 {
		k := min(n, b.Burst())
		b.ReserveN(now, k)
		n -= k
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
