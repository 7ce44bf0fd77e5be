package lockfile

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary a lock holder instead of running tests.
const helperEnv = "LOCKFILE_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		if _, err := Acquire(path); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		select {} // hold until killed
	}
	os.Exit(m.Run())
}

func TestAcquire(t *testing.T) {
	for _, tc := range []struct {
		name string
		// steps: "a" acquires (want success), "b" acquires (want HeldError),
		// "r" releases the first lock.
		steps string
	}{
		{"free file", "a"},
		{"second holder refused", "ab"},
		{"released lock is free again", "ara"},
		{"refused, released, then free", "abra"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "LOCK")
			var held *Lock
			for _, step := range tc.steps {
				switch step {
				case 'a':
					l, err := Acquire(path)
					if err != nil {
						t.Fatalf("Acquire: %v", err)
					}
					held = l
					h, err := readHolder(path)
					if err != nil || h.PID != os.Getpid() || h.Command == "" || h.Started.IsZero() {
						t.Fatalf("lock file names %+v, %v; want this process", h, err)
					}
				case 'b':
					_, err := Acquire(path)
					var he *HeldError
					if !errors.As(err, &he) {
						t.Fatalf("second Acquire = %v; want a HeldError", err)
					}
					if he.Holder.PID != os.Getpid() || he.Path != path {
						t.Fatalf("HeldError = %+v; want pid %d and path %s", he, os.Getpid(), path)
					}
					if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
						t.Fatalf("message %q does not name the pid", err)
					}
				case 'r':
					if err := held.Release(); err != nil {
						t.Fatal(err)
					}
					if b, _ := os.ReadFile(path); len(b) != 0 {
						t.Fatalf("released lock file still holds %q", b)
					}
				}
			}
			t.Cleanup(func() { _ = held.Release() })
		})
	}
}

func TestAcquireUnwritableDir(t *testing.T) {
	_, err := Acquire(filepath.Join(t.TempDir(), "missing", "LOCK"))
	var he *HeldError
	if err == nil || errors.As(err, &he) {
		t.Fatalf("Acquire in a missing directory = %v; want an open error", err)
	}
}

// TestKilledHolder checks that a lock held by a process killed with
// SIGKILL is free at once: the kernel releases a flock with its holder.
func TestKilledHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "LOCK")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}

	_, err = Acquire(path)
	var he *HeldError
	if !errors.As(err, &he) || he.Holder.PID != cmd.Process.Pid {
		t.Fatalf("Acquire while the helper holds the lock = %v; want a HeldError naming pid %d", err, cmd.Process.Pid)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	l, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	_ = l.Release()
}

func TestHolder(t *testing.T) {
	started := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		file string
		want Holder
		text string
	}{
		{"pid: 42\nstarted: 2026-12-07T20:00:00Z\ncommand: tributary serve -data-dir d\n",
			Holder{PID: 42, Started: started, Command: "tributary serve -data-dir d"},
			"pid 42, started 2026-12-07T20:00:00Z: tributary serve -data-dir d"},
		{"pid: 42\n", Holder{PID: 42}, "pid 42"},
		{"", Holder{}, "a process that has not written its pid yet"},
		{"garbage\npid: x\n", Holder{}, "a process that has not written its pid yet"},
	} {
		got := parseHolder(tc.file)
		if got != tc.want {
			t.Errorf("parseHolder(%q) = %+v; want %+v", tc.file, got, tc.want)
		}
		if got.String() != tc.text {
			t.Errorf("String() = %q; want %q", got.String(), tc.text)
		}
	}
}
