package kinesis

import (
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/store"
)

// epochShard is a shard created at Unix second 100 whose numbering moved
// to epoch 200 at message 5 (after a fault forgot messages 5 and 6 of the
// first epoch) and to 300 at message 9.
func epochShard() *shardMeta {
	return &shardMeta{Index: 3, Created: time.Unix(100, 0), Epochs: []epoch{{5, 200}, {9, 300}}}
}

// TestSeqNumberOrder: numbers issued in a later epoch are above every
// number of an earlier one, whatever their message sequences.
func TestSeqNumberOrder(t *testing.T) {
	sh := epochShard()
	issued := []string{
		sh.startingSequence(), sh.seqNumber(1, 0, 150), sh.seqNumber(4, 499, 150),
		// 5 and 6 as the first epoch numbered them, before the fault:
		shard.Sequence{ShardCreated: 100, ShardIndex: 3, Index: seqIndex(6, 9), RecordTime: 150}.String(),
		sh.seqNumber(5, 0, 250), sh.seqNumber(8, 3, 250), sh.seqNumber(9, 0, 350), sh.endingNumber(9, 400),
	}
	for i := 1; i < len(issued); i++ {
		a, _ := new(big.Int).SetString(issued[i-1], 10)
		b, _ := new(big.Int).SetString(issued[i], 10)
		if a.Cmp(b) >= 0 {
			t.Errorf("number %d (%s) is not above number %d (%s)", i, issued[i], i-1, issued[i-1])
		}
	}
}

// TestPosition: a number maps to its record, one the fault lost to the
// next epoch's first record, and one no epoch issued is refused.
func TestPosition(t *testing.T) {
	sh := epochShard()
	num := func(created int64, q uint64, i int) shard.Sequence {
		return shard.Sequence{ShardCreated: created, ShardIndex: 3, Index: seqIndex(q, i)}
	}
	for _, tc := range []struct {
		name  string
		sq    shard.Sequence
		after bool
		q     uint64
		i     int
		ok    bool
	}{
		{"shard start", num(100, 0, 0), true, 0, 0, true},
		{"first epoch", num(100, 4, 7), false, 4, 7, true},
		{"first epoch, after", num(100, 4, 7), true, 4, 8, true},
		{"lost at the first epoch's end", num(100, 6, 2), false, 5, 0, true},
		{"lost, after", num(100, 6, 2), true, 5, 0, true},
		{"second epoch", num(200, 8, 1), true, 8, 2, true},
		{"newest epoch", num(300, 12, 0), false, 12, 0, true},
		{"ending number of the newest", num(300, 8, maxBatch-1), false, 9, 0, true},
		{"before the shard", num(99, 1, 0), false, 0, 0, false},
		{"after the newest epoch", num(301, 1, 0), false, 0, 0, false},
	} {
		q, i, ok := sh.position(tc.sq, tc.after)
		if q != tc.q || i != tc.i || ok != tc.ok {
			t.Errorf("%s: position = (%d, %d, %v), want (%d, %d, %v)", tc.name, q, i, ok, tc.q, tc.i, tc.ok)
		}
	}
}

// TestPruneEpochs: epochs whose records expired, or that numbered none,
// go; the newest stays.
func TestPruneEpochs(t *testing.T) {
	es := []epoch{{5, 200}, {9, 300}, {9, 301}, {20, 400}}
	for _, tc := range []struct {
		firstSeq uint64
		want     []epoch
	}{
		{0, []epoch{{5, 200}, {9, 301}, {20, 400}}},
		{9, []epoch{{9, 301}, {20, 400}}},
		{25, []epoch{{20, 400}}},
	} {
		if got := pruneEpochs(es, tc.firstSeq); !slices.Equal(got, tc.want) {
			t.Errorf("pruneEpochs(first %d) = %v, want %v", tc.firstSeq, got, tc.want)
		}
	}
}

// TestSeqNumberBefore: a subscription's continuation number is the one
// just before its position, which AFTER_SEQUENCE_NUMBER resolves back to
// that position (or to the end of the message before it).
func TestSeqNumberBefore(t *testing.T) {
	sh := epochShard()
	for _, tc := range []struct {
		q     uint64
		i     int
		wantQ uint64
		wantI int
	}{
		{12, 3, 12, 3},
		{12, 0, 11, maxBatch},
		{9, 0, 8, maxBatch}, // the newest epoch's first record: the number before it is the previous epoch's
		{11, maxBatch, 11, maxBatch},
		{12, maxBatch, 12, maxBatch},
	} {
		sq, err := shard.ParseSequence(sh.seqNumberBefore(tc.q, tc.i, 0))
		if err != nil {
			t.Fatal(err)
		}
		q, i, ok := sh.position(sq, true)
		if !ok || q != tc.wantQ || i != tc.wantI {
			t.Errorf("AFTER the number before (%d, %d) = (%d, %d, %v), want (%d, %d)", tc.q, tc.i, q, i, ok, tc.wantQ, tc.wantI)
		}
	}
}

// TestNextEpochs: an open shard whose log may have lost its end starts an
// epoch at its next message, above the newest, even within the same
// second; a closed one does not; an epoch that numbered nothing goes.
func TestNextEpochs(t *testing.T) {
	open := epochShard()
	closed := epochShard()
	closed.EndingSeq = "x"
	empty := &shardMeta{Index: 1, Created: time.Unix(100, 0), Epochs: []epoch{{1, 150}}}
	for _, tc := range []struct {
		name string
		sh   *shardMeta
		st   store.LogState
		lost bool
		want []epoch
	}{
		{"clean", open, store.LogState{FirstSeq: 1, LastSeq: 12}, false, []epoch{{5, 200}, {9, 300}}},
		{"crash", open, store.LogState{FirstSeq: 1, LastSeq: 12}, true, []epoch{{5, 200}, {9, 300}, {13, 301}}},
		{"crash, first epochs expired", open, store.LogState{FirstSeq: 10, LastSeq: 12}, true, []epoch{{9, 300}, {13, 301}}},
		{"crash, closed", closed, store.LogState{FirstSeq: 1, LastSeq: 12}, true, []epoch{{5, 200}, {9, 300}}},
		{"crash, nothing written since the last", empty, store.LogState{}, true, []epoch{{1, 250}}},
	} {
		if got := tc.sh.nextEpochs(tc.st, tc.lost, 250); !slices.Equal(got, tc.want) {
			t.Errorf("%s: nextEpochs = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestEpochBelowAnEarlierOne: a second fault can take a log back below
// where the previous epoch began (its last block damaged further back).
// The new epoch starts there, the earlier one, whose records are all
// gone, is dropped, and a number of the first epoch for a record the
// second fault lost resolves to the new epoch's first record, not to the
// same message sequence, which the new epoch numbers from its start.
func TestEpochBelowAnEarlierOne(t *testing.T) {
	sh := &shardMeta{Index: 0, Created: time.Unix(100, 0), Epochs: []epoch{{101, 200}}}
	sh.Epochs = sh.nextEpochs(store.LogState{FirstSeq: 1, LastSeq: 89}, true, 300)
	if want := []epoch{{90, 300}}; !slices.Equal(sh.Epochs, want) {
		t.Errorf("epochs = %v, want %v", sh.Epochs, want)
	}
	for _, tc := range []struct {
		name    string
		created int64
		q       uint64
	}{
		{"first epoch, lost by the second fault", 100, 95},
		{"second epoch, lost", 200, 105},
	} {
		for _, after := range []bool{false, true} {
			q, i, ok := sh.position(shard.Sequence{ShardCreated: tc.created, Index: seqIndex(tc.q, 3)}, after)
			if !ok || q != 90 || i != 0 {
				t.Errorf("%s (after %v): position = (%d, %d, %v), want (90, 0): the new epoch's first record", tc.name, after, q, i, ok)
			}
		}
	}
}

// TestResumeAt: an iterator from an earlier run past the start of an
// epoch begun since goes back to that start; one below it, or made after
// the epoch began, reads on where it was.
func TestResumeAt(t *testing.T) {
	sh := epochShard() // epochs from message 5 at second 200 and 9 at 300
	for _, tc := range []struct {
		name string
		q    uint64
		i    uint16
		made int64
		wq   uint64
		wi   uint16
	}{
		{"past the newest epoch's start, made before it", 11, 2, 250, 9, 0},
		{"inside the newest epoch's first message", 9, 1, 250, 9, 0},
		{"past both, made before both", 11, 0, 150, 5, 0},
		{"at the newest epoch's start", 9, 0, 250, 9, 0},
		{"below the newest epoch's start", 7, 4, 250, 7, 4},
		{"made after every epoch began", 11, 2, 301, 11, 2},
	} {
		q, i := sh.resumeAt(tc.q, tc.i, time.Unix(tc.made, 0))
		if q != tc.wq || i != tc.wi {
			t.Errorf("%s: resumeAt = (%d, %d), want (%d, %d)", tc.name, q, i, tc.wq, tc.wi)
		}
	}
}
