package shard

import (
	"errors"
	"math/bits"
	"strconv"
)

// Sequence numbers follow the layout existing emulators reverse-engineered
// from AWS, so tools that inspect them see familiar values. As 47 hex
// digits, most significant first:
//
//	2 | shard creation time, 9 | shard index low nibble, 1 | sequence index, 16 |
//	byte, 2 | record time, 9 | shard index, 8 | 2
//
// Times are Unix seconds. Written in decimal this is always 56 digits, and
// within a shard a larger SequenceIndex always gives a larger number.

// Sequence is the decoded form of a sequence number.
type Sequence struct {
	ShardCreated int64  // Unix seconds the shard, or its numbering epoch, began
	ShardIndex   int    // the shard's index, as in its id
	Index        uint64 // position within the shard
	Byte         uint8  // unused by Tributary; preserved for round trips
	RecordTime   int64  // Unix seconds the record arrived
}

// u192 is a 192-bit unsigned integer, w[0] the least significant word.
type u192 [3]uint64

// field packs value into n bits at bit offset off.
func (u *u192) set(off, n uint, v uint64) {
	if n < 64 {
		v &= 1<<n - 1
	}
	w, b := off/64, off%64
	u[w] |= v << b
	if b+n > 64 {
		u[w+1] |= v >> (64 - b)
	}
}

func (u *u192) get(off, n uint) uint64 {
	w, b := off/64, off%64
	v := u[w] >> b
	if b+n > 64 {
		v |= u[w+1] << (64 - b)
	}
	if n < 64 {
		v &= 1<<n - 1
	}
	return v
}

const (
	offTail         = 0
	offShardIndex   = 4
	offRecordTime   = 36
	offByte         = 72
	offIndex        = 80
	offNibble       = 144
	offShardCreated = 148
	offHead         = 184
)

// String renders s as Kinesis's 56-digit decimal sequence number.
func (s Sequence) String() string {
	var u u192
	u.set(offTail, 4, 2)
	u.set(offShardIndex, 32, uint64(s.ShardIndex))
	u.set(offRecordTime, 36, uint64(s.RecordTime))
	u.set(offByte, 8, uint64(s.Byte))
	u.set(offIndex, 64, s.Index)
	u.set(offNibble, 4, uint64(s.ShardIndex))
	u.set(offShardCreated, 36, uint64(s.ShardCreated))
	u.set(offHead, 4, 2)
	return u.decimal()
}

// decimal renders u in base 10: split into 19-digit chunks by dividing by
// 10^19, then each chunk by strconv, which writes two digits at a time.
// Every record read or written needs one, so it is worth being quick.
func (u u192) decimal() string {
	const base = 10_000_000_000_000_000_000
	var chunks [3]uint64 // least significant first
	n := 0
	for u[0]|u[1]|u[2] != 0 {
		var r uint64
		u[2], r = bits.Div64(0, u[2], base)
		u[1], r = bits.Div64(r, u[1], base)
		u[0], r = bits.Div64(r, u[0], base)
		chunks[n] = r
		n++
	}
	if n == 0 {
		return "0"
	}
	buf := make([]byte, 0, 19*n)
	buf = strconv.AppendUint(buf, chunks[n-1], 10)
	for i := n - 2; i >= 0; i-- {
		var tmp [19]byte
		d := strconv.AppendUint(tmp[:0], chunks[i], 10)
		for range 19 - len(d) {
			buf = append(buf, '0')
		}
		buf = append(buf, d...)
	}
	return string(buf)
}

// ErrSequence reports a string that is not a sequence number this server
// could have issued.
var ErrSequence = errors.New("not a valid sequence number")

// ParseSequence decodes a sequence number. It rejects anything that does
// not have the layout above.
func ParseSequence(str string) (Sequence, error) {
	if len(str) != 56 {
		return Sequence{}, ErrSequence
	}
	var u u192
	for i := 0; i < len(str); i++ {
		c := str[i]
		if c < '0' || c > '9' {
			return Sequence{}, ErrSequence
		}
		// u = u*10 + digit
		var carry uint64 = uint64(c - '0')
		for w := range u {
			hi, lo := bits.Mul64(u[w], 10)
			var c2 uint64
			lo, c2 = bits.Add64(lo, carry, 0)
			u[w] = lo
			carry = hi + c2
		}
		if carry != 0 {
			return Sequence{}, ErrSequence
		}
	}
	if u.get(offHead, 4) != 2 || u.get(offTail, 4) != 2 || u[2]>>(offHead-128+4) != 0 {
		return Sequence{}, ErrSequence
	}
	s := Sequence{
		ShardIndex:   int(u.get(offShardIndex, 32)),
		RecordTime:   int64(u.get(offRecordTime, 36)),
		Byte:         uint8(u.get(offByte, 8)),
		Index:        u.get(offIndex, 64),
		ShardCreated: int64(u.get(offShardCreated, 36)),
	}
	if u.get(offNibble, 4) != uint64(s.ShardIndex)&0xf {
		return Sequence{}, ErrSequence
	}
	return s, nil
}
