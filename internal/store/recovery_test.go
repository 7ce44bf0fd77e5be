package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogEndAfterDamage: a log whose last block lost its end, with its
// index kept or deleted. With the index JetStream keeps the last sequence
// and the messages after the cut are gone (HasMessage says so at the last
// sequence, LastMessage finds the last one left); without it, JetStream
// forgets them, and IndexRebuilt tells the log apart from the others.
func TestLogEndAfterDamage(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name                   string
		deleteIndex, flipIndex bool
		lastSeq, lastMsg       uint64
		hasLast, indexRebuilt  bool
	}{
		{"index kept", false, false, 4, 2, false, false},
		{"index deleted", true, false, 2, 2, true, true},
		// JetStream discards an index failing its checksum, as if deleted.
		{"index damaged", false, true, 2, 2, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := Open(ctx, Config{Dir: dir, Durability: Sync})
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"L", "other"} {
				if err := st.CreateLog(ctx, name, 0); err != nil {
					t.Fatal(err)
				}
			}
			for i := 1; i <= 4; i++ {
				if _, err := st.AppendAsync("L", []byte(fmt.Sprintf("msg%d-%s", i, strings.Repeat("x", 50)))).Wait(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			msgs := filepath.Join(dir, "jetstream", "$G", "streams", "L", "msgs")
			blk := filepath.Join(msgs, "1.blk")
			b, err := os.ReadFile(blk)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(blk, int64(bytes.Index(b, []byte("msg3-"))+10)); err != nil {
				t.Fatal(err)
			}
			if tc.deleteIndex {
				if err := os.Remove(filepath.Join(msgs, jsIndexFile)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.flipIndex {
				flipLastByte(t, filepath.Join(msgs, jsIndexFile))
			}

			st, err = Open(ctx, Config{Dir: dir, Durability: Sync})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ls, err := st.State(ctx, "L")
			if err != nil || ls.LastSeq != tc.lastSeq {
				t.Fatalf("State = %+v, %v; want last sequence %d", ls, err, tc.lastSeq)
			}
			if has, err := st.HasMessage(ctx, "L", ls.LastSeq); err != nil || has != tc.hasLast {
				t.Errorf("HasMessage(last sequence %d) = %v, %v; want %v", ls.LastSeq, has, err, tc.hasLast)
			}
			if last, err := st.LastMessage(ctx, "L"); err != nil || last != tc.lastMsg {
				t.Errorf("LastMessage = %d, %v; want %d", last, err, tc.lastMsg)
			}
			if last, err := st.LastMessage(ctx, "other"); err != nil || last != 0 {
				t.Errorf("LastMessage of an empty log = %d, %v; want 0", last, err)
			}
			if got := st.IndexRebuilt("L"); got != tc.indexRebuilt {
				t.Errorf("IndexRebuilt(L) = %v, want %v", got, tc.indexRebuilt)
			}
			if st.IndexRebuilt("other") {
				t.Errorf("IndexRebuilt(other) = true for a log whose index is there")
			}
		})
	}
}

// flipLastByte inverts a file's last byte (part of an index file's
// checksum).
func flipLastByte(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil || len(b) == 0 {
		t.Fatalf("%s: %d bytes, %v", file, len(b), err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
