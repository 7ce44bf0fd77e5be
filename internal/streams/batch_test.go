package streams

import (
	"testing"
	"time"
)

func TestBatchRoundTrip(t *testing.T) {
	at := time.Unix(1700000000, 123456789)
	for _, tc := range []struct {
		name    string
		recs    []Record
		version byte
	}{
		{"plain", []Record{{"a", []byte("x"), nil}, {"ключ", nil, nil}, {"k", make([]byte, 70000), nil}}, batchVersion},
		{"attributes", []Record{{"a", []byte("x"), nil}, {"ключ", nil, []byte{1}}, {"k", make([]byte, 70000), []byte("hdr")}}, attrsBatchVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := tc.recs
			p := encodeBatch(at, recs)
			if p[0] != tc.version {
				t.Fatalf("version = %d, want %d", p[0], tc.version)
			}
			if got, err := batchArrival(p); err != nil || !got.Equal(at) {
				t.Fatalf("arrival = %v, %v", got, err)
			}
			var seen []int
			n, err := decodeBatch(p, 1, func(i int, pk string, data, attrs []byte) bool {
				if pk != recs[i].PartitionKey || len(data) != len(recs[i].Data) || string(attrs) != string(recs[i].Attrs) {
					t.Errorf("record %d = %q/%d bytes/attrs %q", i, pk, len(data), attrs)
				}
				seen = append(seen, i)
				return true
			})
			if err != nil || n != 3 || len(seen) != 2 || seen[0] != 1 {
				t.Fatalf("decode from 1: n=%d seen=%v err=%v", n, seen, err)
			}
			for cut := range len(p) - 1 {
				if _, err := decodeBatch(p[:cut], 0, func(int, string, []byte, []byte) bool { return true }); err == nil {
					t.Fatalf("truncated batch (%d of %d bytes) decoded without error", cut, len(p))
				}
			}
		})
	}
	if ms, i := splitSeqIndex(seqIndex(77, 499)); ms != 77 || i != 499 {
		t.Fatalf("seq index round trip = %d,%d", ms, i)
	}
}
