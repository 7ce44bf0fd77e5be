// Package testfs gives tests a small filesystem of their own to fill up:
// a tmpfs mounted for the test and unmounted after it. Mounting needs
// root (CI runs as root); a test that cannot mount fails, unless
// TRIBUTARY_NO_MOUNT=1 says this machine cannot, when it is skipped.
package testfs

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// OptOut is the environment variable that lets mount tests skip.
const OptOut = "TRIBUTARY_NO_MOUNT"

// Tmpfs mounts a tmpfs of size bytes on a new directory and returns it.
func Tmpfs(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.FormatInt(size, 10), "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv(OptOut) == "1" {
			t.Skipf("cannot mount a tmpfs (%v: %s) and %s=1", err, out, OptOut)
		}
		t.Fatalf("this test mounts a tmpfs and needs root: mount: %v: %s (set %s=1 to skip it on a machine that cannot)",
			err, out, OptOut)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// Fill writes a file in dir until the filesystem is full and returns its
// path; removing the file frees the space again.
func Fill(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("filler: %v", err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for len(buf) > 0 {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v", dir, err)
			}
			buf = buf[:len(buf)/2] // top up the last blocks
		}
	}
	return path
}
