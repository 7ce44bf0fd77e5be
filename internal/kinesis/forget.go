package kinesis

import "github.com/tributary-data/tributary/internal/streams"

// What the service keeps per shard log beside the engine (throttle
// buckets, metric series) is dropped when a stream's deletion completes
// (the engine's Observer.StreamRemoved), so that streams created and
// deleted leave nothing behind. A request that found the stream before
// the deletion may make an entry again after it; each such place checks
// the engine (Gone) after making one and drops it if the stream is gone,
// as recorded does for the metrics. The engine does the same for its own
// state: stream locks and wake-up signals.

// forgetStream drops the per-stream state of a deleted stream.
func (s *Service) forgetStream(m *streams.Meta) {
	s.metrics.forgetStream(m.Account, m.Region, m.Name)
	for _, log := range m.LogNames() {
		s.limits.forget(log)
	}
}
