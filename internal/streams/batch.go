package streams

import (
	"encoding/binary"
	"errors"
	"time"
)

// The records one request puts into one shard are stored as a single log
// message. That is what gives group commit: with synchronous durability
// JetStream fsyncs once per message, so a 500-record PutRecords costs one
// fsync per shard it touches instead of 500. A record's sequence number
// encodes (message sequence, index in the batch), so every record stays
// individually addressable.
//
// Payload: version byte, arrival time (Unix nanoseconds, 8 bytes big
// endian), uvarint record count, then per record a uvarint length and the
// partition key, a uvarint length and the data. The arrival time is stored
// rather than taken from JetStream's own timestamp so that the sequence
// numbers a put returns and a read rebuilds are identical.
//
// Version 3 adds, after each record's data, a uvarint length and the
// record's attributes: metadata the Connect runtime keeps beside a record
// (headers, timestamp, exact key) that the Kinesis API never shows. A
// batch without attributes is written as version 1, so plain Kinesis
// traffic keeps its format and its size.

const (
	batchVersion      = 1
	attrsBatchVersion = 3
)

// maxBatch bounds records per message: PutRecords takes at most 500.
const maxBatch = 1 << indexBits

// indexBits is how many low bits of a sequence index hold the position
// within a batch; the rest hold the log message's sequence.
const indexBits = 10

func seqIndex(msgSeq uint64, i int) uint64 { return msgSeq<<indexBits | uint64(i) }

func splitSeqIndex(ix uint64) (msgSeq uint64, i int) {
	return ix >> indexBits, int(ix & (maxBatch - 1))
}

func encodeBatch(arrival time.Time, recs []Record) []byte {
	n := 9 + binary.MaxVarintLen64
	version := byte(batchVersion)
	for _, r := range recs {
		n += 3*binary.MaxVarintLen64 + len(r.PartitionKey) + len(r.Data) + len(r.Attrs)
		if len(r.Attrs) > 0 {
			version = attrsBatchVersion
		}
	}
	b := make([]byte, 0, n)
	b = append(b, version)
	b = binary.BigEndian.AppendUint64(b, uint64(arrival.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(recs)))
	for _, r := range recs {
		b = appendString(b, r.PartitionKey)
		b = binary.AppendUvarint(b, uint64(len(r.Data)))
		b = append(b, r.Data...)
		if version == attrsBatchVersion {
			b = binary.AppendUvarint(b, uint64(len(r.Attrs)))
			b = append(b, r.Attrs...)
		}
	}
	return b
}

func knownBatch(p []byte) bool {
	return len(p) >= 10 && (p[0] == batchVersion || p[0] == attrsBatchVersion)
}

var errBadBatch = errors.New("corrupt record batch")

// batchArrival returns the arrival time stored in a batch.
func batchArrival(p []byte) (time.Time, error) {
	if !knownBatch(p) {
		return time.Time{}, errBadBatch
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(p[1:9]))), nil
}

// decodeBatch calls fn for each record from index `from` on. The record's
// slices alias p; attrs is nil for records without attributes. It stops
// early when fn returns false.
func decodeBatch(p []byte, from int, fn func(i int, pk string, data, attrs []byte) bool) (count int, err error) {
	if !knownBatch(p) {
		return 0, errBadBatch
	}
	withAttrs := p[0] == attrsBatchVersion
	n, k := binary.Uvarint(p[9:])
	if k <= 0 {
		return 0, errBadBatch
	}
	p = p[9+k:]
	next := func() ([]byte, bool) {
		l, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < l {
			return nil, false
		}
		v := p[k : k+int(l)]
		p = p[k+int(l):]
		return v, true
	}
	for i := 0; i < int(n); i++ {
		pk, ok1 := next()
		data, ok2 := next()
		var attrs []byte
		ok3 := true
		if withAttrs {
			attrs, ok3 = next()
			if len(attrs) == 0 {
				attrs = nil
			}
		}
		if !ok1 || !ok2 || !ok3 {
			return int(n), errBadBatch
		}
		if i >= from && !fn(i, string(pk), data, attrs) {
			return int(n), nil
		}
	}
	return int(n), nil
}

// appendString appends s with its uvarint length.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
