package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenLocksDataDir checks that a second Open of a data directory is
// refused while the first is open, naming the directory and the holder,
// and that Close frees it; in-memory stores take no lock.
func TestOpenLocksDataDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, err := Open(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if first.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", first.Dir(), dir)
	}
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"same directory", Config{Dir: dir}, true},
		{"same directory by another path", Config{Dir: filepath.Join(dir, "..", filepath.Base(dir))}, true},
		{"in memory", Config{Dir: dir, InMemory: true}, false},
		{"another directory", Config{Dir: t.TempDir()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(ctx, tc.cfg)
			if !tc.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				return
			}
			if !errors.Is(err, ErrLocked) {
				t.Fatalf("Open = %v; want ErrLocked", err)
			}
			for _, want := range []string{dir, fmt.Sprintf("pid %d", os.Getpid())} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	again.Close()
}

// TestInMemoryLeavesNoDirectory: an in-memory store's scratch directory
// goes with it, so tests and -in-memory servers do not fill /tmp.
func TestInMemoryLeavesNoDirectory(t *testing.T) {
	s, err := Open(context.Background(), Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.opts.StoreDir
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("scratch directory %s missing while open: %v", dir, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("scratch directory %s still there after Close: %v", dir, err)
	}
}
