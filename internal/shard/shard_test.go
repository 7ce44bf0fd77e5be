package shard

import (
	"errors"
	"strings"
	"testing"
)

func TestHashPartitionKey(t *testing.T) {
	// Expected values are int(md5(key).hexdigest(), 16), computed with Python.
	tests := []struct{ key, want string }{
		{"a", "16955237001963240173058271559858726497"},
		{"partition-1", "198019941650871988756153596255032211816"},
		{"", "281949768489412648962353822266799178366"},
	}
	for _, tt := range tests {
		if got := HashPartitionKey(tt.key).String(); got != tt.want {
			t.Errorf("HashPartitionKey(%q) = %s, want %s", tt.key, got, tt.want)
		}
	}
}

func TestSplitEvenly(t *testing.T) {
	tests := []struct {
		n    int
		want [][2]string
	}{
		{1, [][2]string{{"0", "340282366920938463463374607431768211455"}}},
		{2, [][2]string{
			{"0", "170141183460469231731687303715884105727"},
			{"170141183460469231731687303715884105728", "340282366920938463463374607431768211455"},
		}},
		{3, [][2]string{
			{"0", "113427455640312821154458202477256070484"},
			{"113427455640312821154458202477256070485", "226854911280625642308916404954512140969"},
			{"226854911280625642308916404954512140970", "340282366920938463463374607431768211455"},
		}},
	}
	for _, tt := range tests {
		got := SplitEvenly(tt.n)
		if len(got) != len(tt.want) {
			t.Fatalf("SplitEvenly(%d): %d ranges", tt.n, len(got))
		}
		for i, r := range got {
			if r.Start.String() != tt.want[i][0] || r.End.String() != tt.want[i][1] {
				t.Errorf("SplitEvenly(%d)[%d] = %s..%s, want %s..%s", tt.n, i, r.Start, r.End, tt.want[i][0], tt.want[i][1])
			}
		}
	}
}

func TestParseHashKey(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"0", true},
		{"340282366920938463463374607431768211455", true},
		{"340282366920938463463374607431768211456", false}, // 2^128
		{"-1", false},
		{"01", false},
		{"", false},
		{"12a", false},
	}
	for _, tt := range tests {
		k, err := ParseHashKey(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseHashKey(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if err != nil && !errors.Is(err, ErrHashKey) {
			t.Errorf("ParseHashKey(%q) err = %v, want ErrHashKey", tt.in, err)
		}
		if tt.ok && k.String() != tt.in {
			t.Errorf("ParseHashKey(%q) round trip = %s", tt.in, k)
		}
	}
}

func TestIDs(t *testing.T) {
	if got := ID(7); got != "shardId-000000000007" {
		t.Errorf("ID(7) = %s", got)
	}
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"shardId-000000000007", 7, true},
		{"7", 7, true},
		{"shard-0", 0, true},
		{"anything-12", 12, true},
		{"-00002147483647", 2147483647, true},
		{"shardId-002147483648", 0, false},
		{"2147483648", 0, false},
		{"shardId-", 0, false},
		{"shardId-x", 0, false},
		{"ABKLFD8", 0, false},
		{"2.14E4", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseID(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseID(%q) = %d,%v want %d,%v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSequenceLayout(t *testing.T) {
	// Built with Python from the documented hex layout:
	// '2' + '%09x'%1700000000 + '%x'%5 + '%016x'%12345 + '00' + '%09x'%1700000100 + '%08x'%5 + '2'
	s := Sequence{ShardCreated: 1700000000, ShardIndex: 5, Index: 12345, RecordTime: 1700000100}
	const want = "49646437577219980142909529536457797260091275517500588114"
	if got := s.String(); got != want {
		t.Fatalf("String() = %s, want %s", got, want)
	}
	back, err := ParseSequence(want)
	if err != nil || back != s {
		t.Fatalf("ParseSequence = %+v, %v; want %+v", back, err, s)
	}
}

func TestSequenceOrderAndWidth(t *testing.T) {
	prev := ""
	for _, idx := range []uint64{0, 1, 2, 1 << 20, 1 << 40, 1<<64 - 1} {
		s := Sequence{ShardCreated: 1800000000, ShardIndex: 123456, Index: idx, RecordTime: 1800000000 - int64(idx%7)}.String()
		if len(s) != 56 {
			t.Fatalf("index %d: %d digits", idx, len(s))
		}
		if prev != "" && s <= prev {
			t.Fatalf("index %d: %s not above %s", idx, s, prev)
		}
		prev = s
	}
}

func TestParseSequenceRejects(t *testing.T) {
	valid := Sequence{ShardCreated: 1700000000, ShardIndex: 5, Index: 1, RecordTime: 1700000000}.String()
	for _, in := range []string{
		"", "1", "0",
		strings.Repeat("9", 56),
		strings.Repeat("1", 56),
		valid[:55] + "x",
		valid + "0",
	} {
		if _, err := ParseSequence(in); !errors.Is(err, ErrSequence) {
			t.Errorf("ParseSequence(%q) err = %v, want ErrSequence", in, err)
		}
	}
}

func FuzzParseSequence(f *testing.F) {
	f.Add(Sequence{ShardCreated: 1700000000, ShardIndex: 5, Index: 1}.String())
	f.Fuzz(func(t *testing.T, s string) {
		seq, err := ParseSequence(s)
		if err != nil {
			return
		}
		if got := seq.String(); got != s {
			t.Fatalf("round trip %q -> %+v -> %q", s, seq, got)
		}
	})
}

func TestRangeMidAndWidth(t *testing.T) {
	whole := Range{HashKey{}, MaxHashKey}
	halves := SplitEvenly(2)
	if got := whole.Mid(); got != halves[1].Start {
		t.Errorf("Mid of the whole space = %s, want %s", got, halves[1].Start)
	}
	if got := whole.Width(); got != MaxHashKey {
		t.Errorf("Width of the whole space = %s", got)
	}
	quarters := SplitEvenly(4)
	if got := halves[0].Mid(); got != quarters[1].Start {
		t.Errorf("Mid of the first half = %s, want %s", got, quarters[1].Start)
	}
	for _, tt := range []struct{ start, end, mid uint64 }{{0, 0, 0}, {0, 1, 1}, {0, 2, 1}, {10, 13, 12}, {10, 14, 12}} {
		r := Range{HashKey{0, tt.start}, HashKey{0, tt.end}}
		if got := r.Mid(); got != (HashKey{0, tt.mid}) {
			t.Errorf("Mid(%d..%d) = %s, want %d", tt.start, tt.end, got, tt.mid)
		}
	}
}
