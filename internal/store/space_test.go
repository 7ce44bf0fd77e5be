package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testfs"
)

// TestFullDisk fills the data directory's filesystem under a running
// store and checks that appends fail with ErrUnavailable instead of
// hanging, that they succeed again once space is freed, without a
// restart, and that every acknowledged message is still there. With the
// reserve off, the appends reach JetStream's ENOSPC, which leaves the
// stream with a write error that only a JetStream restart clears.
func TestFullDisk(t *testing.T) {
	for _, tc := range []struct {
		name    string
		minFree int64
	}{
		{"reserve", 0},
		{"enospc", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := testfs.Tmpfs(t, 48<<20)
			st, err := Open(ctx, Config{Dir: dir + "/data", MinFree: tc.minFree, WriteTimeout: time.Second, Durability: Sync})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.CreateLog(ctx, "s", 0); err != nil {
				t.Fatal(err)
			}
			acked := map[uint64][]byte{}
			appendOne := func(i int) error {
				payload := bytes.Repeat([]byte{byte(i)}, 256<<10)
				seq, err := st.AppendAsync("s", payload).Wait(ctx)
				if err == nil {
					acked[seq] = payload
				}
				return err
			}
			for i := range 4 {
				if err := appendOne(i); err != nil {
					t.Fatalf("append before the disk is full: %v", err)
				}
			}
			filler := testfs.Fill(t, dir)
			var failed error
			for i := 4; i < 100 && failed == nil; i++ {
				failed = appendOne(i)
			}
			if !errors.Is(failed, ErrUnavailable) {
				t.Fatalf("append to a full disk: got %v, want ErrUnavailable", failed)
			}
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			// Service resumes by itself: keep appending until one goes
			// through (each attempt is bounded by the write timeout).
			var last error
			for i := 100; i < 160; i++ {
				if last = appendOne(i); last == nil {
					break
				}
				time.Sleep(250 * time.Millisecond)
			}
			if last != nil {
				t.Fatalf("append after freeing space: %v", last)
			}
			for seq, want := range acked {
				res, err := st.Read(ctx, "s", seq, 1, 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Messages) == 0 || res.Messages[0].Seq != seq || !bytes.Equal(res.Messages[0].Data, want) {
					t.Errorf("acknowledged message %d: %s", seq, describe(res))
				}
			}
		})
	}
}

func describe(r ReadResult) string {
	if len(r.Messages) == 0 {
		return "missing"
	}
	return fmt.Sprintf("got seq %d, %d bytes", r.Messages[0].Seq, len(r.Messages[0].Data))
}
