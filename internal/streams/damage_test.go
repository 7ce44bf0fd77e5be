package streams

import (
	"slices"
	"testing"
	"time"
)

func TestSeqRanges(t *testing.T) {
	for _, tc := range []struct {
		in   []uint64
		want [][2]uint64
	}{
		{nil, nil},
		{[]uint64{7}, [][2]uint64{{7, 7}}},
		{[]uint64{3, 4, 5, 9, 11, 12}, [][2]uint64{{3, 5}, {9, 9}, {11, 12}}},
	} {
		if got := seqRanges(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("seqRanges(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestSeqFloorFits checks that a log re-created now, or in the next five
// centuries, numbers its messages within the bits a sequence number has
// for them, and above what a shard could have stored since 1970 at fewer
// than a million messages a second.
func TestSeqFloorFits(t *testing.T) {
	for _, at := range []time.Time{time.Now(), time.Date(2525, 1, 1, 0, 0, 0, 0, time.UTC)} {
		f := seqFloor(at)
		if ms, _ := splitSeqIndex(seqIndex(f, maxBatch-1)); ms != f {
			t.Errorf("seqFloor(%s) = %d does not fit a sequence index", at, f)
		}
		if lower := uint64(at.Unix()) * 999_999; f <= lower {
			t.Errorf("seqFloor(%s) = %d, not above %d", at, f, lower)
		}
	}
}
