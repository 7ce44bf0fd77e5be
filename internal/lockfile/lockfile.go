// Package lockfile gives a process exclusive use of a file or directory
// through an advisory flock(2) on a lock file. The kernel drops the lock
// when the process dies, however it dies, so a lock left by a crash (or
// kill -9) never blocks a restart, unlike a lock that is merely a file's
// existence. The holder writes who it is into the lock file, so that a
// process refused the lock can say which process holds it.
package lockfile

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Holder describes the process holding a lock, as it wrote itself into
// the lock file.
type Holder struct {
	PID     int
	Started time.Time
	Command string
}

// String formats the holder for an error message: "pid 1234, started
// 2026-12-07T20:00:00Z: tributary serve -data-dir data".
func (h Holder) String() string {
	if h.PID == 0 {
		return "a process that has not written its pid yet"
	}
	s := "pid " + strconv.Itoa(h.PID)
	if !h.Started.IsZero() {
		s += ", started " + h.Started.UTC().Format(time.RFC3339)
	}
	if h.Command != "" {
		s += ": " + h.Command
	}
	return s
}

// HeldError is returned by Acquire when another process (or another
// Acquire in this one) holds the lock.
type HeldError struct {
	Path   string
	Holder Holder
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is held by %s", e.Path, e.Holder)
}

// Lock is a held lock. Release it, or let the process exit.
type Lock struct {
	f *os.File
}

// Acquire takes the exclusive lock on path, creating the file if needed,
// without waiting: if it is held, the error is a *HeldError naming the
// holder. On success the file holds this process's pid, start time and
// command line.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := flock(f); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			h, _ := readHolder(path)
			return nil, &HeldError{Path: path, Holder: h}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := writeHolder(f, self()); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// flock takes the lock without blocking, retrying when a signal
// interrupts the call.
func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// Release gives the lock up. The file stays, so the next holder need not
// create it; its contents are cleared so it names no one.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing the last descriptor releases the flock
	l.f = nil
	return err
}

// self describes this process.
func self() Holder {
	h := Holder{PID: os.Getpid(), Started: time.Now(), Command: strings.Join(os.Args, " ")}
	return h
}

// The lock file's format: one "key: value" line each for pid, started
// (RFC 3339) and command, readable by people and by readHolder.
func writeHolder(f *os.File, h Holder) error {
	body := fmt.Sprintf("pid: %d\nstarted: %s\ncommand: %s\n", h.PID, h.Started.UTC().Format(time.RFC3339), oneLine(h.Command))
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(body), 0)
	return err
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// readHolder parses a lock file. A file being written at the moment may
// be empty; the zero Holder then says so.
func readHolder(path string) (Holder, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Holder{}, err
	}
	return parseHolder(string(b)), nil
}

func parseHolder(s string) Holder {
	var h Holder
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch k {
		case "pid":
			h.PID, _ = strconv.Atoi(strings.TrimSpace(v))
		case "started":
			h.Started, _ = time.Parse(time.RFC3339, strings.TrimSpace(v))
		case "command":
			h.Command = v
		}
	}
	return h
}
