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
	p := fastParser{b: b}
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

type fastParser struct {
	b []byte
	i int
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
	return string(raw), ok
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

func (p *fastParser) records() (putRecordsEntries, bool) {
	if !p.consume('[') {
		return nil, false
	}
	recs := make(putRecordsEntries, 0, 500)
	if p.consume(']') {
		return recs, true
	}
	for {
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
					v := Str(s)
					if key == "PartitionKey" {
						e.PartitionKey = &v
					} else {
						e.ExplicitHashKey = &v
					}
				case "Data":
					raw, ok := p.rawStr()
					if !ok || len(raw)%4 != 0 {
						return nil, false
					}
					d := make(Blob, base64.StdEncoding.DecodedLen(len(raw)))
					n, err := base64.StdEncoding.Strict().Decode(d, raw)
					if err != nil {
						return nil, false
					}
					d = d[:n]
					e.Data = &d
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
