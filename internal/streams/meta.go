package streams

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
)

// Meta is everything known about a stream except its records. It is
// stored as JSON under one KV key and changed only by compare-and-set.
type Meta struct {
	Name    string    `json:"name"`
	Account string    `json:"account"`
	Region  string    `json:"region"`
	UID     string    `json:"uid"` // names the stream's logs; new for each incarnation
	Created time.Time `json:"created"`
	// Status is the stored state. A CREATING or DELETING stream finishes
	// its transition at TransitionAt; see effectiveStatus.
	Status            string            `json:"status"`
	TransitionAt      time.Time         `json:"transitionAt"`
	RetentionHours    int               `json:"retentionHours"`
	Mode              string            `json:"mode"`
	Shards            []ShardMeta       `json:"shards"`
	Tags              map[string]string `json:"tags,omitempty"`
	ShardLevelMetrics []string          `json:"shardLevelMetrics,omitempty"`
	MaxRecordSizeKiB  int               `json:"maxRecordSizeKiB"`
	// ShardCountUpdates are the times of recent UpdateShardCount calls,
	// for AWS's limit of 10 in a rolling 24 hours.
	ShardCountUpdates []time.Time `json:"shardCountUpdates,omitempty"`
	// ResourcePolicy is the JSON policy document of PutResourcePolicy.
	ResourcePolicy string `json:"resourcePolicy,omitempty"`
	// WarmThroughputMiBps is the target of UpdateStreamWarmThroughput.
	WarmThroughputMiBps int `json:"warmThroughputMiBps,omitempty"`
	// Distribution is the record distribution strategy; empty means
	// USER_PARTITION_KEY, the default.
	Distribution string `json:"distribution,omitempty"`
	// Consumers are the enhanced fan-out consumers, in registration order.
	Consumers []Consumer `json:"consumers,omitempty"`
	// KeyID is the KMS key new records are encrypted under; empty when
	// the stream is not encrypted.
	KeyID string `json:"keyId,omitempty"`
	// Reshard is a reshard that was accepted and has not taken effect:
	// the stream is UPDATING until it does (see reshard.go).
	Reshard *PendingReshard `json:"reshard,omitempty"`
}

// ShardMeta is one shard: its hash key range, creation, parents, and,
// once a reshard closed it, when and at which sequence number.
type ShardMeta struct {
	Index          int       `json:"index"`
	Start          string    `json:"start"` // decimal hash keys
	End            string    `json:"end"`
	Created        time.Time `json:"created"`
	Parent         string    `json:"parent,omitempty"`
	AdjacentParent string    `json:"adjacentParent,omitempty"`
	Closed         time.Time `json:"closed,omitzero"`
	EndingSeq      string    `json:"endingSeq,omitempty"`
	Epochs         []epoch   `json:"epochs,omitempty"` // numbering after the first (epoch.go)
}

// EffectiveStatus is the status clients see now: transitions complete on
// their own once their delay has passed, without a write.
//
// A pending reshard is the exception: it takes effect with a write (its
// completion), and the stream stays UPDATING until that write, so that a
// client that sees ACTIVE also sees the new shards.
func (m *Meta) EffectiveStatus(now time.Time) string {
	if m.Reshard != nil && m.Status == StatusUpdating {
		return StatusUpdating
	}
	if (m.Status == StatusCreating || m.Status == StatusUpdating) && !now.Before(m.TransitionAt) {
		return StatusActive
	}
	return m.Status
}

// OpenShards counts the shards no reshard has closed.
func (m *Meta) OpenShards() int {
	n := 0
	for _, s := range m.Shards {
		if s.EndingSeq == "" {
			n++
		}
	}
	return n
}

// OpenShardsAfterUpdate is how many shards will be open once a pending
// reshard has taken effect; quotas count those.
func (m *Meta) OpenShardsAfterUpdate() int {
	n := m.OpenShards()
	if m.Reshard != nil {
		n += len(m.Reshard.Open) - len(m.Reshard.Close)
	}
	return n
}

// Clone returns a deep copy of m, for a plan to change.
func (m *Meta) Clone() (*Meta, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("copy stream %s: %w", m.Name, err)
	}
	var c Meta
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("copy stream %s: %w", m.Name, err)
	}
	return &c, nil
}

// LogNames names every log of the stream: its shards' and those of a
// pending reshard's children (which an interrupted completion may have
// made).
func (m *Meta) LogNames() []string {
	shards := m.Shards
	if m.Reshard != nil {
		shards = append(slices.Clone(shards), m.Reshard.Open...)
	}
	out := make([]string, len(shards))
	for i, sh := range shards {
		out[i] = m.LogName(sh.Index)
	}
	return out
}

// LogName names the JetStream log of one shard.
func (m *Meta) LogName(shardIndex int) string {
	return fmt.Sprintf("KS_%s_%d", m.UID, shardIndex)
}

// StartingSequence is the SequenceNumberRange.StartingSequenceNumber of a shard.
func (s *ShardMeta) StartingSequence() string {
	return s.seqNumber(0, 0, s.Created.Unix())
}

// A stream's states. A stream is CREATING until its create delay ends,
// UPDATING while a reshard or a setting takes effect, and DELETING until
// its deletion task has removed it.
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusDeleting = "DELETING"
	StatusUpdating = "UPDATING"
)

// Mode is how a stream's capacity is managed; the engine stores it for
// the front ends, which apply it (throughput limits, quotas).
const (
	ModeProvisioned = "PROVISIONED"
	ModeOnDemand    = "ON_DEMAND"
)

// Record distribution strategies: by partition key (the default, stored
// as ""), or spread round robin over the open shards.
const (
	DistributionUserKey = "USER_PARTITION_KEY"
	DistributionAuto    = "AUTO"
)

// Ref names a stream: its scope (an account and a region; the engine
// treats them as opaque tenancy keys) and its name.
type Ref struct{ Account, Region, Name string }

// Key is the stream's metadata key.
func (r Ref) Key() string { return streamKey(r.Account, r.Region, r.Name) }

// Ref returns the stream's reference.
func (m *Meta) Ref() Ref { return Ref{m.Account, m.Region, m.Name} }

// scopePrefix is the metadata key prefix of every stream in a scope.
func scopePrefix(account, region string) string { return streamKey(account, region, "") }

// streamKey is the KV key of a stream. Stream names may contain dots,
// which KV keys use as separators, so the name is hex-encoded.
func streamKey(account, region, name string) string {
	return "stream." + account + "." + region + "." + hex.EncodeToString([]byte(name))
}

func newUID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// StreamID is the StreamId of this incarnation of the stream, in AWS's
// form: 20 lowercase letters or digits, a dash and 3 more
// ([a-z0-9]{20}-[a-z0-9]{3}). It is derived from the uid (its SHA-256,
// each byte taken modulo 36) instead of being stored: the uid is
// already random and new for each incarnation, so the id is too, and
// streams created before StreamIds had this form (they reported the bare
// uid, and their metadata holds no id) get a well-formed id that is the
// same on every read and every restart, without a migration that would
// have to rewrite metadata.
func (m *Meta) StreamID() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte("tributary stream id\x00" + m.UID))
	var b [24]byte
	for i := range b {
		b[i] = digits[int(sum[i])%len(digits)]
	}
	b[20] = '-'
	return string(b[:])
}

// routing is the parsed, ready-to-search form of a stream's open shards.
type routing struct {
	ranges  []shard.Range // sorted by start, open shards only
	indexes []int         // shard index of each range
}

func newRouting(m *Meta) (*routing, error) {
	r := &routing{}
	type item struct {
		rg  shard.Range
		idx int
	}
	var items []item
	for _, s := range m.Shards {
		if s.EndingSeq != "" {
			continue
		}
		start, err := shard.ParseHashKey(s.Start)
		if err != nil {
			return nil, fmt.Errorf("stream %s shard %d: %w", m.Name, s.Index, err)
		}
		end, err := shard.ParseHashKey(s.End)
		if err != nil {
			return nil, fmt.Errorf("stream %s shard %d: %w", m.Name, s.Index, err)
		}
		items = append(items, item{shard.Range{Start: start, End: end}, s.Index})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].rg.Start.Cmp(items[j].rg.Start) < 0 })
	for _, it := range items {
		r.ranges = append(r.ranges, it.rg)
		r.indexes = append(r.indexes, it.idx)
	}
	return r, nil
}

// route returns the index of the open shard owning hash key k.
func (r *routing) route(k shard.HashKey) (int, bool) {
	i := sort.Search(len(r.ranges), func(i int) bool { return r.ranges[i].End.Cmp(k) >= 0 })
	if i == len(r.ranges) || !r.ranges[i].Contains(k) {
		return 0, false
	}
	return r.indexes[i], true
}

// Stream is a stream's metadata as last read or written, with its
// revision and routing. Callers must not modify it.
type Stream struct {
	Meta    *Meta
	rev     uint64
	routing *routing
}
