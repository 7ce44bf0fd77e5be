package store

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCreateLogIsIdempotent: creating a log that exists with the same
// configuration succeeds and keeps its records, so an interrupted step
// can be repeated; another configuration is ErrExists. Logs lists the
// logs and not the metadata bucket.
func TestCreateLogIsIdempotent(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateLog(ctx, "L", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendAsync("L", []byte("x")).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		maxAge time.Duration
		want   error
	}{
		{"same config", time.Hour, nil},
		{"again", time.Hour, nil},
		{"other max age", 2 * time.Hour, ErrExists},
	} {
		if err := st.CreateLog(ctx, "L", tc.maxAge); !errors.Is(err, tc.want) {
			t.Errorf("%s: CreateLog = %v, want %v", tc.name, err, tc.want)
		}
	}
	if s, err := st.State(ctx, "L"); err != nil || s.Msgs != 1 {
		t.Fatalf("after re-creating, the log holds %+v (%v), want its 1 record", s, err)
	}
	logs, err := st.Logs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(logs, []string{"L"}) {
		t.Fatalf("Logs = %q, want [L]", logs)
	}
}

// TestOpenRemovesLogDirsWithoutMetaFile: a log directory without
// JetStream's meta file (a creation or deletion a crash interrupted), or
// with no messages and a meta file without its checksum (a creation
// interrupted a little later), is removed at Open, with one line saying
// so, instead of being skipped with a warning at every start; the other
// logs are untouched.
func TestOpenRemovesLogDirsWithoutMetaFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateLog(ctx, "kept", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendAsync("kept", []byte("x")).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	streams := filepath.Join(dir, "jetstream", "$G", "streams")
	if _, err := os.Stat(filepath.Join(streams, "kept", jsMetaFile)); err != nil {
		t.Fatalf("JetStream's layout is not what removeUnloadable expects: %v", err)
	}
	broken := filepath.Join(streams, "broken")
	if err := os.MkdirAll(filepath.Join(broken, "msgs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "msgs", "1.blk"), []byte("leftover"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A creation interrupted between the meta file and its checksum.
	unsummed := filepath.Join(streams, "unsummed")
	if err := os.MkdirAll(filepath.Join(unsummed, "msgs"), 0o755); err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(streams, "kept", jsMetaFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(unsummed, jsMetaFile), meta, 0o644); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	st, err = Open(ctx, Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(&out, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := out.String()
	for _, d := range []string{broken, unsummed} {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there (%v)", filepath.Base(d), err)
		}
		if strings.Count(log, "log="+filepath.Base(d)+" ") != 1 {
			t.Errorf("want one line naming %s, got:\n%s", filepath.Base(d), log)
		}
	}
	if strings.Contains(strings.ToLower(log), "missing stream") {
		t.Errorf("JetStream still warned about them:\n%s", log)
	}
	if s, err := st.State(ctx, "kept"); err != nil || s.Msgs != 1 {
		t.Fatalf("the other log holds %+v (%v), want its 1 record", s, err)
	}
}
