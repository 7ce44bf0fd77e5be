package kinesis

// What the service keeps per shard log outside the catalog (throttle
// buckets, wake-up signals) is dropped when a stream's deletion
// completes, so that streams created and deleted leave nothing behind.
// A request that found the stream before the deletion may make an entry
// again after it; each such place checks the catalog after making one
// and drops it if the stream is gone, as recorded does for the metrics.

// forgetLogs drops the per-log state of a deleted stream's shards. Firing
// the signals wakes readers still waiting on them, which then find the
// stream gone.
func (s *Service) forgetLogs(m *streamMeta, shards []shardMeta) {
	for _, sh := range shards {
		log := m.logName(sh.Index)
		s.limits.forget(log)
		s.appended.fire(log)
	}
}

// wakeOn returns the channel closed at the next append to a shard's
// log (signals.next). If the stream is gone, the signal this made is
// fired at once, dropping it, and the reader wakes to find the stream
// gone.
func (s *Service) wakeOn(m *streamMeta, shardIndex int) <-chan struct{} {
	log := m.logName(shardIndex)
	ch := s.appended.next(log)
	if s.gone(m) {
		s.appended.fire(log)
	}
	return ch
}

// gone reports whether a stream incarnation is no longer in the catalog.
func (s *Service) gone(m *streamMeta) bool {
	e, ok := s.cat.get(streamKey(m.Account, m.Region, m.Name))
	return !ok || e.meta.UID != m.UID
}
