package testserver

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
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
			key, data, err := kplRecord(val, table)
			if err != nil {
				return nil, nil, true, err
			}
			keys, datas = append(keys, key), append(datas, data)
		default:
			return nil, nil, true, fmt.Errorf("field %d is not in the KPL's format", field)
		}
	}
	return keys, datas, true, nil
}

// kplRecord reads one Record of an AggregatedRecord, its key from the
// partition key table read before it.
func kplRecord(b []byte, table []string) (key, data string, err error) {
	var (
		idx           uint64
		hasIdx, hasDa bool
	)
	for len(b) > 0 {
		f, v, n, rest, err := protoField(b)
		if err != nil {
			return "", "", err
		}
		b = rest
		switch f {
		case 1: // partition_key_index
			idx, hasIdx = n, true
		case 2, 4: // explicit_hash_key_index, tags
		case 3: // data
			data, hasDa = string(v), true
		default:
			return "", "", fmt.Errorf("record field %d is not in the KPL's format", f)
		}
	}
	if !hasIdx || !hasDa {
		return "", "", errors.New("a record without its partition_key_index or data")
	}
	if idx >= uint64(len(table)) {
		return "", "", errors.New("partition key index out of range")
	}
	return table[idx], data, nil
}

// protoField reads one protobuf field with protowire: its number, and
// its bytes (wire type 2) or varint value (wire type 0); the KPL's format
// uses no other wire type.
func protoField(p []byte) (field protowire.Number, val []byte, n uint64, rest []byte, err error) {
	num, typ, l := protowire.ConsumeTag(p)
	if l < 0 {
		return 0, nil, 0, nil, fmt.Errorf("bad field key: %w", protowire.ParseError(l))
	}
	p = p[l:]
	switch typ {
	case protowire.VarintType:
		v, l := protowire.ConsumeVarint(p)
		if l < 0 {
			return 0, nil, 0, nil, fmt.Errorf("field %d: %w", num, protowire.ParseError(l))
		}
		return num, nil, v, p[l:], nil
	case protowire.BytesType:
		v, l := protowire.ConsumeBytes(p)
		if l < 0 {
			return 0, nil, 0, nil, fmt.Errorf("field %d: %w", num, protowire.ParseError(l))
		}
		return num, v, 0, p[l:], nil
	}
	return 0, nil, 0, nil, fmt.Errorf("field %d: wire type %d is not in the KPL's format", num, typ)
}
