package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tributary-data/tributary/internal/storage"
)

// A full disk is the one store failure that fixes itself: the operator
// frees space and writes should simply work again. JetStream does not see
// it that way. A write that meets ENOSPC marks the stream's files with a
// sticky write error, the server stops answering publishes to that
// stream, and only a restart of JetStream clears it. So the store keeps
// JetStream away from a full disk (appends are refused while the data
// directory's filesystem has less than a reserve free), bounds every wait
// for an acknowledgement, and when a write went unanswered anyway it
// looks for streams with write errors and, once there is space again,
// restarts JetStream inside the process.

// ErrUnavailable is returned for a write the store refused or could not
// confirm for now: the disk or the -max-store-bytes limit is full, or
// JetStream did not acknowledge in time. Nothing was acknowledged, so
// the write may be retried; it may succeed once space is freed.
var ErrUnavailable = storage.ErrUnavailable

// DefaultWriteTimeout bounds the wait for JetStream to acknowledge a
// write when Config.WriteTimeout is zero.
const DefaultWriteTimeout = 10 * time.Second

// unlimited is what "no limit" is in JetStream's accounting: a positive
// value, since zero or less asks it to size itself from the disk free at
// start-up.
const unlimited = math.MaxInt64

// maxReserve is the most free space the store keeps in reserve.
const maxReserve = 64 << 20

// DefaultMinFree is the reserve for a filesystem of total bytes: an
// eighth of it, at most 64 MiB. It leaves room for the metadata writes,
// index files and stream state JetStream writes beside the data, so that
// deleting a stream or committing an offset still works when appends are
// refused.
func DefaultMinFree(total int64) int64 { return min(total/8, maxReserve) }

// space watches the data directory's filesystem.
type space struct {
	dir string
	// minFree is the reserve: appends are refused below it, metadata
	// writes below half of it. Zero disables the check.
	minFree int64
	// low is set while free space is below the reserve, to log the
	// change once rather than every refusal.
	low atomic.Bool
	// capped is the size of the last append refused at -max-store-bytes,
	// zero once an append fits again; Full reports the store full while
	// such an append still would not fit.
	capped atomic.Int64
}

func newSpace(dir string, minFree int64) (*space, error) {
	sp := &space{dir: dir}
	switch {
	case dir == "" || minFree < 0:
		return sp, nil
	case minFree > 0:
		sp.minFree = minFree
		return sp, nil
	}
	_, total, err := sp.usage()
	if err != nil {
		return nil, err
	}
	sp.minFree = DefaultMinFree(total)
	return sp, nil
}

// usage reports the bytes free to this process and the filesystem's size.
func (sp *space) usage() (free, total int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(sp.dir, &st); err != nil {
		return 0, 0, fmt.Errorf("store: free space of %s: %w", sp.dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize), nil
}

// check refuses a write of n bytes that would leave less than reserve
// free. It measures every time: a statfs costs microseconds, and a
// stale figure would let a write reach the full disk.
func (sp *space) check(n int, reserve int64) error {
	if sp.minFree == 0 {
		return nil
	}
	free, _, err := sp.usage()
	if err != nil {
		return nil // cannot tell; let JetStream try
	}
	if free-int64(n) < reserve {
		sp.low.Store(true)
		return fmt.Errorf("%w: %s has %d bytes free, below the %d kept in reserve",
			ErrUnavailable, sp.dir, free, reserve)
	}
	return nil
}

// roomy says whether the filesystem has the reserve free again.
func (sp *space) roomy() bool {
	if sp.minFree == 0 {
		return true
	}
	free, _, err := sp.usage()
	return err == nil && free >= sp.minFree
}

// checkAppend applies the reserve and the size limit to an append of n
// bytes.
func (s *Store) checkAppend(n int) error {
	if err := s.space.check(n, s.space.minFree); err != nil {
		return err
	}
	if s.maxBytes <= 0 {
		return nil
	}
	used := s.used()
	if used+uint64(n) > uint64(s.maxBytes) {
		s.space.capped.Store(int64(max(n, 1)))
		return fmt.Errorf("%w: the store holds %d bytes and may hold %d (-max-store-bytes)", ErrUnavailable, used, s.maxBytes)
	}
	s.space.capped.Store(0)
	return nil
}

// used is what the store holds, as JetStream accounts it against
// -max-store-bytes.
func (s *Store) used() uint64 {
	u := s.ns.GlobalAccount().JetStreamUsage()
	if s.storage == jetstream.MemoryStorage {
		return u.Memory
	}
	return u.Store
}

// headroom is what JetStream's own limit adds to Config.MaxBytes for
// metadata: appends stop at MaxBytes, and deleting a stream, which
// frees space, must still be able to write its metadata.
func headroom(maxBytes int64) int64 { return max(maxBytes/8, 16<<20) }

// checkMeta applies half the reserve to a metadata write, so metadata
// (deleting a stream, committing offsets) still works while appends are
// refused.
func (s *Store) checkMeta(n int) error { return s.space.check(n, s.space.minFree/2) }

// unavailable turns the errors of a write that JetStream refused for
// lack of space, or did not answer, into ErrUnavailable, and notes that
// a stream may be stuck with a write error.
func (s *Store) unavailable(err error) error {
	if err == nil {
		return nil
	}
	var ae *jetstream.APIError
	switch {
	case errors.As(err, &ae) && isResourceError(ae.ErrorCode):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case errors.Is(err, jetstream.ErrAsyncPublishTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, nats.ErrTimeout), errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, nats.ErrNoResponders):
		s.suspect.Store(true)
		return fmt.Errorf("%w: no acknowledgement from jetstream: %w", ErrUnavailable, err)
	case errors.Is(err, nats.ErrDisconnected), errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, nats.ErrConnectionClosed):
		// The connection to NATS is down (an external server restarting,
		// or this process's connection being replaced): retriable.
		return fmt.Errorf("%w: not connected to nats: %w", ErrUnavailable, err)
	}
	return err
}

// isResourceError says whether a JetStream error code means a storage
// limit was reached.
func isResourceError(code jetstream.ErrorCode) bool {
	switch code {
	case 10002, // JSAccountResourcesExceededErr
		10023, // JSInsufficientResourcesErr
		10028, // JSMemoryResourcesExceededErr
		10047: // JSStorageResourcesExceededErr
		return true
	}
	return false
}

// heal runs until ctx ends. After a write went unanswered it looks for
// streams JetStream has stopped writing to, and restarts JetStream once
// the disk has room again.
func (s *Store) heal(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.space.low.Load() && s.space.roomy() {
			s.space.low.Store(false)
			s.log.Info("store: the data directory has free space again; writes resume")
		}
		if !s.suspect.Swap(false) {
			continue
		}
		if !s.space.roomy() {
			s.suspect.Store(true) // look again once there is space
			continue
		}
		if err := s.unstick(); err != nil {
			s.log.Error("store: restarting jetstream", "err", err)
			s.suspect.Store(true)
		}
	}
}

// unstick restarts JetStream if streams have write errors, or starts it
// if an earlier restart left it stopped.
func (s *Store) unstick() error {
	if s.ns.JetStreamEnabled() {
		stuck := s.stuckStreams()
		if len(stuck) == 0 {
			return nil
		}
		s.log.Warn("store: restarting jetstream to clear write errors (the disk was full)",
			"streams", strings.Join(stuck, ", "))
		if err := s.ns.ShutdownJetStream(); err != nil {
			return fmt.Errorf("stop jetstream: %w", err)
		}
	}
	return s.enableJetStream()
}

// stuckStreams names the streams with a write error, as JetStream's
// health check reports them.
func (s *Store) stuckStreams() []string {
	h := s.ns.Healthz(&server.HealthzOptions{Details: true})
	var out []string
	for _, e := range h.Errors {
		if e.Stream != "" && strings.Contains(e.Error, "write error") {
			out = append(out, e.Stream)
		}
	}
	return out
}

// enableJetStream starts JetStream in the running server, as a
// configuration reload does after stopping it: streams are recovered from
// their files, without the write errors they had. The in-process
// connection stays up.
func (s *Store) enableJetStream() error {
	opts := s.opts
	err := s.ns.EnableJetStream(&server.JetStreamConfig{
		StoreDir:     opts.StoreDir,
		SyncInterval: opts.SyncInterval,
		SyncAlways:   opts.SyncAlways,
		MaxMemory:    opts.JetStreamMaxMemory,
		MaxStore:     opts.JetStreamMaxStore,
		Strict:       true,
	})
	if err != nil {
		return fmt.Errorf("start jetstream: %w", err)
	}
	return nil
}
