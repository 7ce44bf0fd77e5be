package kinesis

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/tributary-data/tributary/internal/streams"
)

// iteratorTTL is how long a shard iterator stays valid, as on AWS.
const iteratorTTL = 5 * time.Minute

// iterator is the decoded content of a shard iterator. Clients see it only
// as an opaque, authenticated string, so they can neither forge positions
// nor depend on the format.
type iterator struct {
	Created time.Time
	// Position: the next record to read is record Index of log message
	// Seq. Seq 0 means the oldest record still kept (TRIM_HORIZON). When
	// AtTime is set the position is instead the first record at or after
	// it, found when the iterator is first used.
	Seq    uint64
	Index  uint16
	AtTime time.Time

	ShardIndex int
	UID        string // the stream incarnation, so a re-created stream rejects old iterators
	Account    string
	Region     string
	Stream     string
}

// iteratorAt is an iterator, created at now, at the engine position p of
// stream m.
func iteratorAt(m *streams.Meta, p streams.Position, now time.Time) iterator {
	return iterator{Created: now, Seq: p.Seq, Index: p.Index, AtTime: p.AtTime, ShardIndex: p.Shard,
		UID: m.UID, Account: m.Account, Region: m.Region, Stream: m.Name}
}

// position is the engine's position of the iterator.
func (it iterator) position() streams.Position {
	return streams.Position{Shard: it.ShardIndex, Seq: it.Seq, Index: it.Index, AtTime: it.AtTime}
}

// moved is the iterator moved to p.
func (it iterator) moved(p streams.Position) iterator {
	it.Seq, it.Index, it.AtTime = p.Seq, p.Index, p.AtTime
	return it
}

const iteratorVersion = 1

// iteratorCodec seals and opens iterators with a key kept in the store,
// so iterators stay valid across restarts.
type iteratorCodec struct{ aead cipher.AEAD }

func newIteratorCodec(key []byte) (*iteratorCodec, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &iteratorCodec{aead}, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (c *iteratorCodec) seal(it iterator) string {
	p := make([]byte, 0, 96)
	p = append(p, iteratorVersion)
	p = binary.BigEndian.AppendUint64(p, uint64(it.Created.UnixMilli()))
	p = binary.BigEndian.AppendUint64(p, it.Seq)
	p = binary.BigEndian.AppendUint16(p, it.Index)
	var at int64
	if !it.AtTime.IsZero() {
		at = it.AtTime.UnixMilli()
	}
	p = binary.BigEndian.AppendUint64(p, uint64(at))
	p = binary.BigEndian.AppendUint32(p, uint32(it.ShardIndex))
	p = appendString(p, it.UID)
	p = appendString(p, it.Account)
	p = appendString(p, it.Region)
	p = appendString(p, it.Stream)

	out := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(p)+c.aead.Overhead())
	_, _ = rand.Read(out)
	out = c.aead.Seal(out, out, p, nil)
	return base64.StdEncoding.EncodeToString(out)
}

var errBadIterator = errors.New("invalid shard iterator")

func (c *iteratorCodec) open(s string) (iterator, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	ns := c.aead.NonceSize()
	if err != nil || len(raw) < ns+c.aead.Overhead() {
		return iterator{}, errBadIterator
	}
	p, err := c.aead.Open(nil, raw[:ns], raw[ns:], nil)
	if err != nil || len(p) < 31 || p[0] != iteratorVersion {
		return iterator{}, errBadIterator
	}
	var it iterator
	it.Created = time.UnixMilli(int64(binary.BigEndian.Uint64(p[1:])))
	it.Seq = binary.BigEndian.Uint64(p[9:])
	it.Index = binary.BigEndian.Uint16(p[17:])
	if at := int64(binary.BigEndian.Uint64(p[19:])); at != 0 {
		it.AtTime = time.UnixMilli(at)
	}
	it.ShardIndex = int(binary.BigEndian.Uint32(p[27:]))
	p = p[31:]
	for _, dst := range []*string{&it.UID, &it.Account, &it.Region, &it.Stream} {
		n, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < n {
			return iterator{}, errBadIterator
		}
		*dst = string(p[k : k+int(n)])
		p = p[k+int(n):]
	}
	return it, nil
}
