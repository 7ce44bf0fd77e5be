package kinesis

import (
	"encoding/base64"
)

// decodePutRecordsFast decodes the PutRecords bodies that SDKs send (one
// object with StreamName/StreamARN and Records, every string plain ASCII
// without escapes, valid base64 data) without reflection. It reports false
// for anything else, and the caller then uses encoding/json, whose path
// produces AWS's exact error messages; so this never changes behaviour,
// only speed. FuzzPutRecordsFast checks that.
func decodePutRecordsFast(b []byte, in *putRecordsInput) bool {
	p := fastParser{b: b, sb: string(b), arena: make([]byte, 0, len(b)*3/4+4)}
	if !p.consume('{') {
		return false
	}
	if p.consume('}') {
		return p.end()
	}
	for {
		key, ok := p.str()
		if !ok || !p.consume(':') {
			return false
		}
		switch key {
		case "StreamName", "StreamARN":
			s, ok := p.str()
			if !ok {
				return false
			}
			v := Str(s)
			if key == "StreamName" {
				in.StreamName = &v
			} else {
				in.StreamARN = &v
			}
		case "Records":
			recs, ok := p.records()
			if !ok {
				return false
			}
			in.Records = &recs
		default:
			return false
		}
		if p.consume(',') {
			continue
		}
		return p.consume('}') && p.end()
	}
}

// fastParser reads one request body. Its strings are substrings of sb, a
// single string copy of the body, and record data is decoded into one
// arena, so a 500-record request costs a handful of allocations, not
// thousands.
type fastParser struct {
	b     []byte
	i     int
	sb    string
	arena []byte
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) consume(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *fastParser) end() bool {
	p.ws()
	return p.i == len(p.b)
}

// str reads a JSON string that needs no unescaping and is printable ASCII.
func (p *fastParser) str() (string, bool) {
	raw, ok := p.rawStr()
	if !ok {
		return "", false
	}
	end := p.i - 1 // rawStr leaves p.i after the closing quote
	return p.sb[end-len(raw) : end], true
}

func (p *fastParser) rawStr() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			p.i++
			return p.b[start : p.i-1], true
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// entryValues holds the members one putRecordsEntry points at.
type entryValues struct {
	pk, ehk Str
	data    Blob
}

func (p *fastParser) records() (putRecordsEntries, bool) {
	if !p.consume('[') {
		return nil, false
	}
	recs := make(putRecordsEntries, 0, 500)
	// The members the entries point at, all in one allocation. More than
	// 500 entries is a validation error, left to the general decoder.
	vals := make([]entryValues, 0, 500)
	if p.consume(']') {
		return recs, true
	}
	for {
		if len(vals) == cap(vals) {
			return nil, false
		}
		vals = vals[:len(vals)+1] // within capacity: earlier pointers stay valid
		val := &vals[len(vals)-1]
		var e putRecordsEntry
		if !p.consume('{') {
			return nil, false
		}
		if !p.consume('}') {
			for {
				key, ok := p.str()
				if !ok || !p.consume(':') {
					return nil, false
				}
				switch key {
				case "PartitionKey", "ExplicitHashKey":
					s, ok := p.str()
					if !ok {
						return nil, false
					}
					if key == "PartitionKey" {
						val.pk = Str(s)
						e.PartitionKey = &val.pk
					} else {
						val.ehk = Str(s)
						e.ExplicitHashKey = &val.ehk
					}
				case "Data":
					raw, ok := p.rawStr()
					if !ok || len(raw)%4 != 0 {
						return nil, false
					}
					at := len(p.arena)
					need := base64.StdEncoding.DecodedLen(len(raw))
					if at+need > cap(p.arena) {
						return nil, false
					}
					n, err := base64.StdEncoding.Strict().Decode(p.arena[at:at+need], raw)
					if err != nil {
						return nil, false
					}
					p.arena = p.arena[:at+n]
					val.data = Blob(p.arena[at : at+n : at+n])
					e.Data = &val.data
				default:
					return nil, false
				}
				if p.consume(',') {
					continue
				}
				if !p.consume('}') {
					return nil, false
				}
				break
			}
		}
		recs = append(recs, e)
		if p.consume(',') {
			continue
		}
		return recs, p.consume(']')
	}
}
