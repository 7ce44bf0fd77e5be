package store

import "fmt"

// Full says why appends are refused for lack of space, or returns "" when
// they are not: the data directory's filesystem has less than the reserve
// free, or the store holds -max-store-bytes (or too much for the last
// append refused there to fit). It measures at every call, so it turns
// false by itself once space is freed (files deleted, a stream deleted,
// records expired), as the writes do. The health endpoints and the
// tributary_store_full gauge report it.
func (s *Store) Full() string {
	if sp := s.space; sp.minFree > 0 {
		if free, _, err := sp.usage(); err == nil && free < sp.minFree {
			return fmt.Sprintf("writes are refused: the filesystem of the data directory %s is full (%d bytes free, %d kept in reserve); free space on it",
				sp.dir, free, sp.minFree)
		}
	}
	if s.maxBytes <= 0 {
		return ""
	}
	used := s.used()
	refused := s.space.capped.Load()
	if used >= uint64(s.maxBytes) || (refused > 0 && used+uint64(refused) > uint64(s.maxBytes)) {
		return fmt.Sprintf("writes are refused: the store holds %d bytes and reached -max-store-bytes (%d); delete streams, lower their retention or raise the limit",
			used, s.maxBytes)
	}
	return ""
}
