package streams

import (
	"fmt"
	"slices"
	"strings"
)

// Storage layouts (docs/scale.md). Under layout A a shard's log is a
// JetStream stream of its own, KS_<uid>_<shard>. Under layout B the
// shards of a stream are grouped by index into stripes of StripeShards,
// each stripe one JetStream stream, KSB_<uid>_<stripe>, in which a
// shard's log is the subject log.KSB_<uid>_<stripe>.<shard>, the shared
// log KSB_<uid>_<stripe>~<shard> (storage.LogStore). Every JetStream
// stream costs the same goroutines, memory, files and, on a cluster, a
// Raft group; under B a node pays for shards/StripeShards of them
// instead of one per shard.
//
// New streams get layout B; a stream made before (no StripeShards in its
// metadata) keeps layout A, so an existing data directory opens
// unchanged, its sequence numbers and saved positions still valid.
// Nothing is migrated: copying a log into a stripe would renumber its
// messages and break every saved checkpoint.
//
// Under B a shard's message sequences are its stripe's: increasing, but
// with gaps where the stripe's other shards wrote. Nothing may read a gap
// as damage (checkGap), and a log's State is its stripe's.

// DefaultStripeShards is the stripe width of new streams. docs/scale.md
// measured reading one shard from the start at 1.1 ms (32 shards per
// JetStream stream), 1.4 ms (100), 6.7 ms (1,000) and 37 ms (10,000),
// against 0.85 ms with a stream per shard, while a put touching many
// shards costs one proposal per JetStream stream it touches; 100 keeps
// reads within 2x of layout A, puts to a stream of up to 100 shards in
// one JetStream stream, and 50,000 shards at 500 JetStream streams.
const DefaultStripeShards = 100

// LayoutA, as Config.StripeShards, gives new streams layout A.
const LayoutA = -1

// Shared reports whether the stream has layout B.
func (m *Meta) Shared() bool { return m.StripeShards > 0 }

// LogName names the log of one shard.
func (m *Meta) LogName(shardIndex int) string {
	if m.Shared() {
		return fmt.Sprintf("%s~%d", m.stripeName(shardIndex/m.StripeShards), shardIndex)
	}
	return fmt.Sprintf("KS_%s_%d", m.UID, shardIndex)
}

// stripeName names one stripe's JetStream stream.
func (m *Meta) stripeName(stripe int) string { return fmt.Sprintf("KSB_%s_%d", m.UID, stripe) }

// StoreNames names the JetStream streams the stream's logs are in, those
// of a pending reshard's children included: under layout A its logs
// (LogNames), under B its stripes, each of which DeleteLog removes whole.
func (m *Meta) StoreNames() []string {
	if !m.Shared() {
		return m.LogNames()
	}
	var out []string
	for _, sh := range m.allShards() {
		if n := m.stripeName(sh.Index / m.StripeShards); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// stripeLogs groups the stream's shards (a pending reshard's children
// included) by stripe: one log name per stripe, for the stripe's State,
// and the log names of the open shards a pending reshard does not close
// (its completion, perhaps under way on another node, may have fenced
// them already).
func (m *Meta) stripeLogs() (firsts, open []string) {
	seen := map[int]bool{}
	for _, sh := range m.allShards() {
		if s := sh.Index / m.StripeShards; !seen[s] {
			seen[s] = true
			firsts = append(firsts, m.LogName(sh.Index))
		}
		closing := m.Reshard != nil && slices.Contains(m.Reshard.Close, sh.Index)
		if sh.EndingSeq == "" && sh.Index < len(m.Shards) && !closing {
			open = append(open, m.LogName(sh.Index))
		}
	}
	return firsts, open
}

// allShards are the stream's shards and a pending reshard's children.
func (m *Meta) allShards() []ShardMeta {
	if m.Reshard == nil {
		return m.Shards
	}
	return append(slices.Clone(m.Shards), m.Reshard.Open...)
}

// logStripe is the stripe part of a shared log's name.
func logStripe(name string) string {
	stripe, _, _ := strings.Cut(name, "~")
	return stripe
}
