package kinesis

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/streams"
)

// Per-shard throughput limits, as AWS enforces them on provisioned
// streams: writes 1,000 records/s and 1 MiB/s; reads 5 calls/s and 2 MiB/s,
// where the bytes of a response pay for the time after it: a response of n
// bytes keeps the shard's reads refused for n / (2 MiB/s), so after 10 MiB
// calls in the next 5 seconds are refused, AWS's "10 MiB per 5 seconds".
// Limits apply only when Config.Throttle is set: a local Kinesis is
// normally wanted unlimited. On-demand streams are never limited per shard.
// In a cluster the nodes share their usage (usage.go).

const (
	writeRecordsPerSec = 1000
	writeBytesPerSec   = 1 << 20
	readCallsPerSec    = 5
	readBytesPerSec    = 2 << 20
)

// shardLimits are one shard's token buckets, and the time until which its
// reads are paid for.
type shardLimits struct {
	writeRecords, writeBytes *rate.Limiter
	readCalls                *rate.Limiter
	mu                       sync.Mutex
	readsBlockedUntil        time.Time
	// used is when the buckets were last taken (under limits.mu).
	used time.Time
}

// limits holds the buckets of every shard that has been used, by log name
// (which names one shard of one stream incarnation).
type limits struct {
	mu sync.Mutex
	m  map[string]*shardLimits
}

func (l *limits) of(log string) *shardLimits {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*shardLimits{}
	}
	sl, ok := l.m[log]
	if !ok {
		sl = &shardLimits{
			writeRecords: rate.NewLimiter(writeRecordsPerSec, writeRecordsPerSec),
			writeBytes:   rate.NewLimiter(writeBytesPerSec, writeBytesPerSec),
			readCalls:    rate.NewLimiter(readCallsPerSec, readCallsPerSec),
		}
		l.m[log] = sl
	}
	sl.used = time.Now()
	return sl
}

// dropIdle drops the buckets unused since before that are as new
// buckets would be: full, and with no reads to pay for.
func (l *limits) dropIdle(before, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for log, sl := range l.m {
		if sl.used.Before(before) && sl.idle(now) {
			delete(l.m, log)
		}
	}
}

func (sl *shardLimits) idle(now time.Time) bool {
	for _, b := range []*rate.Limiter{sl.writeRecords, sl.writeBytes, sl.readCalls} {
		if b.TokensAt(now) < float64(b.Burst()) {
			return false
		}
	}
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return !now.Before(sl.readsBlockedUntil)
}

// forget drops a log's buckets.
func (l *limits) forget(log string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, log)
}

// len is how many logs have buckets now.
func (l *limits) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// bucketsOf returns a shard's buckets. A read that found the stream
// before its deletion completed may get here after forgetLogs: the
// buckets it made are then dropped again (see forget.go). Puts need no
// check: they hold the stream's lock, which finishDelete waits for.
func (s *Service) bucketsOf(m *streams.Meta, shardIndex int) *shardLimits {
	log := m.LogName(shardIndex)
	sl := s.limits.of(log)
	if s.eng.Gone(m) {
		s.limits.forget(log)
	}
	return sl
}

// limited reports whether a stream's shards have throughput limits now.
func (s *Service) limited(m *streams.Meta) bool {
	return s.cfg.Throttle && m.Mode != streams.ModeOnDemand
}

func rateExceeded(m *streams.Meta, shardIndex int) *Error {
	return newError("ProvisionedThroughputExceededException", 400, "Rate exceeded for shard %s in stream %s under account %s.", shard.ID(shardIndex), m.Name, m.Account)
}

// allowWrite takes one record of n bytes from a shard's write buckets, or
// reports that the shard is over its limit (taking nothing).
func (s *Service) allowWrite(m *streams.Meta, shardIndex, n int) bool {
	if !s.limited(m) {
		return true
	}
	log := m.LogName(shardIndex)
	sl := s.limits.of(log)
	now := time.Now()
	r := sl.writeRecords.ReserveN(now, 1)
	if !r.OK() || r.DelayFrom(now) > 0 {
		r.CancelAt(now)
		return false
	}
	b := sl.writeBytes.ReserveN(now, n)
	if !b.OK() || b.DelayFrom(now) > 0 {
		b.CancelAt(now)
		r.CancelAt(now)
		return false
	}
	s.usage.add(log, shardUsage{Records: 1, Bytes: n})
	return true
}

// allowRead admits a GetRecords call on a shard, unless it is over its
// call rate or still paying off earlier reads' bytes.
func (s *Service) allowRead(m *streams.Meta, shardIndex int) bool {
	if !s.limited(m) {
		return true
	}
	sl := s.bucketsOf(m, shardIndex)
	now := time.Now()
	sl.mu.Lock()
	blocked := now.Before(sl.readsBlockedUntil)
	sl.mu.Unlock()
	if blocked {
		return false
	}
	if !sl.readCalls.AllowN(now, 1) {
		return false
	}
	s.usage.add(m.LogName(shardIndex), shardUsage{Reads: 1})
	return true
}

// chargeRead debits the bytes a GetRecords returned; a large response
// leaves the shard in debt, refusing reads until it is paid off.
func (s *Service) chargeRead(m *streams.Meta, shardIndex, n int) {
	if !s.limited(m) || n == 0 {
		return
	}
	sl := s.bucketsOf(m, shardIndex)
	cost := readCost(n)
	now := time.Now()
	sl.mu.Lock()
	defer sl.mu.Unlock()
	from := sl.readsBlockedUntil
	if from.Before(now) {
		from = now
	}
	sl.readsBlockedUntil = from.Add(cost)
	s.usage.add(m.LogName(shardIndex), shardUsage{ReadBytes: n})
}

// readCost is how long reading n bytes keeps a shard's reads refused.
func readCost(n int) time.Duration {
	return time.Duration(float64(n) / readBytesPerSec * float64(time.Second))
}
