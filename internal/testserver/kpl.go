package testserver

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
)

// kplMagic begins a KPL aggregated record.
var kplMagic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// KPLUserRecords reads a stream record as the KCL does: a KPL aggregated
// record (magic F3 89 9A C2, the AggregatedRecord protobuf, the
// protobuf's MD5) gives its user records' partition keys and data; any
// other record is one user record, its key unknown here (nil). It is
// stricter than the KCL, as a test should be: a field the format does
// not define, or a record without its required partition_key_index or
// data, is an error.
func KPLUserRecords(b []byte) (keys, datas []string, aggregated bool, err error) {
	if !bytes.HasPrefix(b, kplMagic) {
		return nil, []string{string(b)}, false, nil
	}
	if len(b) < len(kplMagic)+md5.Size {
		return nil, nil, true, errors.New("aggregated record too short")
	}
	pb := b[len(kplMagic) : len(b)-md5.Size]
	if sum := md5.Sum(pb); !bytes.Equal(sum[:], b[len(b)-md5.Size:]) {
		return nil, nil, true, errors.New("aggregated record with a bad MD5")
	}
	var table []string
	for len(pb) > 0 {
		field, val, _, rest, err := protoField(pb)
		if err != nil {
			return nil, nil, true, err
		}
		pb = rest
		switch field {
		case 1: // partition_key_table
			table = append(table, string(val))
		case 2: // explicit_hash_key_table
		case 3: // records
			var (
				idx           uint64
				data          []byte
				hasIdx, hasDa bool
			)
			for len(val) > 0 {
				f, v, n, r, err := protoField(val)
				if err != nil {
					return nil, nil, true, err
				}
				val = r
				switch f {
				case 1: // partition_key_index
					idx, hasIdx = n, true
				case 2, 4: // explicit_hash_key_index, tags
				case 3: // data
					data, hasDa = v, true
				default:
					return nil, nil, true, fmt.Errorf("record field %d is not in the KPL's format", f)
				}
			}
			if !hasIdx || !hasDa {
				return nil, nil, true, errors.New("a record without its partition_key_index or data")
			}
			if idx >= uint64(len(table)) {
				return nil, nil, true, errors.New("partition key index out of range")
			}
			keys = append(keys, table[idx])
			datas = append(datas, string(data))
		default:
			return nil, nil, true, fmt.Errorf("field %d is not in the KPL's format", field)
		}
	}
	return keys, datas, true, nil
}

// protoField reads one protobuf field: its number, and its bytes (wire
// type 2) or varint value (wire type 0).
func protoField(p []byte) (field uint64, val []byte, n uint64, rest []byte, err error) {
	key, l := binary.Uvarint(p)
	if l <= 0 {
		return 0, nil, 0, nil, errors.New("bad field key")
	}
	p = p[l:]
	v, l := binary.Uvarint(p)
	if l <= 0 {
		return 0, nil, 0, nil, errors.New("bad varint")
	}
	p = p[l:]
	switch key & 7 {
	case 0:
		return key >> 3, nil, v, p, nil
	case 2:
		if v > uint64(len(p)) {
			return 0, nil, 0, nil, errors.New("truncated field")
		}
		return key >> 3, p[:v], 0, p[v:], nil
	}
	return 0, nil, 0, nil, fmt.Errorf("wire type %d", key&7)
}
