package maxwell

import (
	"crypto/md5"

	"github.com/tributary-data/tributary/internal/streams"
	"google.golang.org/protobuf/encoding/protowire"
)

// kplMagic begins a record in the KPL's aggregation format; the KCL and
// the KPL's de-aggregation libraries recognise aggregated records by it.
var kplMagic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// The KPL's aggregation defaults.
const (
	defaultAggregationMaxCount = 4294967295
	defaultAggregationMaxSize  = 51200
)

// Aggregation is the KPL's aggregation settings (AggregationEnabled,
// AggregationMaxCount, AggregationMaxSize).
type Aggregation struct {
	Enabled  bool
	MaxCount uint64
	// MaxSize bounds an aggregated record's bytes (magic, protobuf and
	// checksum).
	MaxSize int
}

// aggregate packs records into KPL aggregated records, as the KPL does
// with AggregationEnabled=true: the user records of one aggregated
// record share a partition key (so a shard, whatever the shard map),
// keep their order, and fill it up to MaxCount records and MaxSize
// bytes. A record alone in its aggregate, or too big for one, is written
// as it is, as the KPL writes it.
func (a Aggregation) aggregate(recs []streams.StreamRecord) []streams.StreamRecord {
	type group struct {
		key   string
		datas [][]byte
		size  int // the encoded size so far
	}
	var groups []*group
	open := map[string]*group{}
	var out []streams.StreamRecord
	for _, r := range recs {
		// Kinesis takes 1 MiB of data and key together.
		limit := min(a.MaxSize, maxRecordLen-len(r.PartitionKey))
		add := aggregatedRecordSize(len(r.Data))
		g := open[r.PartitionKey]
		if g != nil && (uint64(len(g.datas)) >= a.MaxCount || g.size+add > limit) {
			g = nil
		}
		if g == nil {
			g = &group{key: r.PartitionKey, size: len(kplMagic) + md5.Size + keyTableSize(r.PartitionKey)}
			if g.size+add > limit || a.MaxCount < 1 {
				groups = append(groups, &group{key: r.PartitionKey, datas: [][]byte{r.Data}})
				delete(open, r.PartitionKey)
				continue
			}
			groups = append(groups, g)
			open[r.PartitionKey] = g
		}
		g.datas = append(g.datas, r.Data)
		g.size += add
	}
	for _, g := range groups {
		if len(g.datas) == 1 {
			out = append(out, streams.StreamRecord{PartitionKey: g.key, Data: g.datas[0]})
			continue
		}
		out = append(out, streams.StreamRecord{PartitionKey: g.key, Data: encodeAggregated(g.key, g.datas)})
	}
	return out
}

// The protobuf fields of AggregatedRecord and Record (proto2):
// AggregatedRecord { repeated string partition_key_table = 1;
// repeated string explicit_hash_key_table = 2; repeated Record records =
// 3; } and Record { required uint64 partition_key_index = 1; optional
// uint64 explicit_hash_key_index = 2; required bytes data = 3; }.
const (
	fieldPartitionKeyTable protowire.Number = 1 // AggregatedRecord
	fieldRecords           protowire.Number = 3 // AggregatedRecord
	fieldKeyIndex          protowire.Number = 1 // Record
	fieldData              protowire.Number = 3 // Record
)

// encodeAggregated is the KPL's aggregated record for user records that
// share one partition key: the magic, the AggregatedRecord protobuf and
// the MD5 of the protobuf.
func encodeAggregated(key string, datas [][]byte) []byte {
	pb := make([]byte, 0, 64)
	pb = protowire.AppendTag(pb, fieldPartitionKeyTable, protowire.BytesType)
	pb = protowire.AppendString(pb, key)
	for _, d := range datas {
		rec := make([]byte, 0, len(d)+8)
		rec = protowire.AppendTag(rec, fieldKeyIndex, protowire.VarintType)
		rec = protowire.AppendVarint(rec, 0) // the one key of the table
		rec = protowire.AppendTag(rec, fieldData, protowire.BytesType)
		rec = protowire.AppendBytes(rec, d)
		pb = protowire.AppendTag(pb, fieldRecords, protowire.BytesType)
		pb = protowire.AppendBytes(pb, rec)
	}
	sum := md5.Sum(pb)
	out := make([]byte, 0, len(kplMagic)+len(pb)+md5.Size)
	out = append(out, kplMagic...)
	out = append(out, pb...)
	return append(out, sum[:]...)
}

// keyTableSize is the encoded size of a partition key table entry.
func keyTableSize(key string) int {
	return protowire.SizeTag(fieldPartitionKeyTable) + protowire.SizeBytes(len(key))
}

// aggregatedRecordSize is what one user record of n bytes adds to an
// aggregated record.
func aggregatedRecordSize(n int) int {
	inner := protowire.SizeTag(fieldKeyIndex) + protowire.SizeVarint(0) +
		protowire.SizeTag(fieldData) + protowire.SizeBytes(n)
	return protowire.SizeTag(fieldRecords) + protowire.SizeBytes(inner)
}
