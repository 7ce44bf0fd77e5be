// Package shard holds the arithmetic of Kinesis shards: 128-bit hash keys
// and their ranges, MD5 partition-key routing, shard ids and the 56-digit
// sequence numbers. It is pure logic with no I/O, so every client-visible
// number Tributary produces can be tested on its own.
package shard

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strings"
)

// HashKey is an unsigned 128-bit integer, the space partition keys hash into.
type HashKey struct{ Hi, Lo uint64 }

// MaxHashKey is 2^128 - 1, the end of the last shard's range.
var MaxHashKey = HashKey{^uint64(0), ^uint64(0)}

// HashPartitionKey routes a partition key the way Kinesis does: the MD5 of
// its UTF-8 bytes read as a big-endian 128-bit integer.
func HashPartitionKey(key string) HashKey {
	sum := md5.Sum([]byte(key))
	return HashKey{binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:])}
}

// Cmp returns -1, 0 or +1 as h is less than, equal to or greater than o.
func (h HashKey) Cmp(o HashKey) int {
	switch {
	case h.Hi < o.Hi:
		return -1
	case h.Hi > o.Hi:
		return 1
	case h.Lo < o.Lo:
		return -1
	case h.Lo > o.Lo:
		return 1
	}
	return 0
}

// Add1 returns h+1, wrapping at 2^128.
func (h HashKey) Add1() HashKey {
	lo, c := bits.Add64(h.Lo, 1, 0)
	return HashKey{h.Hi + c, lo}
}

// Sub1 returns h-1, wrapping at 0.
func (h HashKey) Sub1() HashKey {
	lo, b := bits.Sub64(h.Lo, 1, 0)
	return HashKey{h.Hi - b, lo}
}

func (h HashKey) big() *big.Int {
	b := new(big.Int).SetUint64(h.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(h.Lo))
}

func fromBig(b *big.Int) HashKey {
	lo := new(big.Int).And(b, new(big.Int).SetUint64(^uint64(0))).Uint64()
	hi := new(big.Int).Rsh(b, 64).Uint64()
	return HashKey{hi, lo}
}

// String renders h in decimal, as Kinesis does on the wire.
func (h HashKey) String() string { return h.big().Text(10) }

// ErrHashKey reports a string that is not a decimal 128-bit integer.
var ErrHashKey = errors.New("not a hash key")

// ParseHashKey parses a decimal hash key in 0..2^128-1.
func ParseHashKey(s string) (HashKey, error) {
	if s == "" || len(s) > 39 || (len(s) > 1 && s[0] == '0') {
		return HashKey{}, fmt.Errorf("%q: %w", s, ErrHashKey)
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok || b.Sign() < 0 || b.BitLen() > 128 {
		return HashKey{}, fmt.Errorf("%q: %w", s, ErrHashKey)
	}
	return fromBig(b), nil
}

// Range is an inclusive range of hash keys owned by one shard.
type Range struct{ Start, End HashKey }

// Contains reports whether k falls in r.
func (r Range) Contains(k HashKey) bool { return r.Start.Cmp(k) <= 0 && k.Cmp(r.End) <= 0 }

// SplitEvenly divides the whole key space into n contiguous ranges the way
// CreateStream does: each starts at i*floor(2^128/n), the last ends at 2^128-1.
func SplitEvenly(n int) []Range {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	step := new(big.Int).Div(space, big.NewInt(int64(n)))
	out := make([]Range, n)
	for i := range n {
		start := new(big.Int).Mul(step, big.NewInt(int64(i)))
		out[i].Start = fromBig(start)
		if i > 0 {
			out[i-1].End = out[i].Start.Sub1()
		}
	}
	out[n-1].End = MaxHashKey
	return out
}

// ID formats a shard index as Kinesis's shard id, shardId-000000000000.
// Every PutRecords result carries one, so it avoids fmt.
func ID(index int) string {
	var b [20]byte // "shardId-" and 12 digits
	copy(b[:], "shardId-")
	if index < 0 || index >= 1e12 {
		return fmt.Sprintf("shardId-%012d", index)
	}
	for i := 19; i >= 8; i-- {
		b[i] = byte('0' + index%10)
		index /= 10
	}
	return string(b[:])
}

// ParseID returns the index in a shard id. It accepts what AWS accepts:
// the digits after the first '-' (so "shardId-000000000007", "shard-7"
// and "-7"), or a bare number, up to 2147483647.
func ParseID(id string) (int, bool) {
	digits := id
	if i := strings.IndexByte(id, '-'); i >= 0 {
		digits = id[i+1:]
	}
	if digits == "" {
		return 0, false
	}
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > math.MaxInt32 {
			return 0, false
		}
	}
	return n, true
}

// Width returns End - Start: how much of the key space r covers, less one.
func (r Range) Width() HashKey {
	lo, b := bits.Sub64(r.End.Lo, r.Start.Lo, 0)
	hi, _ := bits.Sub64(r.End.Hi, r.Start.Hi, b)
	return HashKey{hi, lo}
}

// Mid returns the key that splits r into two halves of equal size (the
// upper half gets the extra key when the size is odd): the
// NewStartingHashKey of an even split.
func (r Range) Mid() HashKey {
	w := r.Width()
	// half = (w + 1) / 2, computed as w/2 + (w&1) to avoid overflow at 2^128.
	half := HashKey{w.Hi >> 1, w.Lo>>1 | w.Hi<<63}
	if w.Lo&1 == 1 {
		half = half.Add1()
	}
	lo, c := bits.Add64(r.Start.Lo, half.Lo, 0)
	hi, _ := bits.Add64(r.Start.Hi, half.Hi, c)
	return HashKey{hi, lo}
}
