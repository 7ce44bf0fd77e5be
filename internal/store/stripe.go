package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tributary-data/tributary/internal/storage"
)

// Shared logs (docs/scale.md, mapping B). A log named GROUP~PART is the
// subject log.GROUP.PART of the JetStream stream GROUP, which holds one
// such subject per log plus a control subject, ctl.GROUP. A log named
// without a dot is a JetStream stream of its own (mapping A), subject
// log.NAME, exactly as before: both kinds live side by side in one
// store, so a data directory written before shared logs existed opens
// unchanged.
//
// A new shared stream captures log.GROUP.* (and ctl.GROUP): JetStream
// checks every new or changed stream's subjects against every other
// stream's, at creation and again at every start, so a subject per log
// would make creating and recovering N logs cost N² comparisons (minutes
// at 50,000). Once one of its logs closes, the stream lists its open
// logs' subjects explicitly instead; that list is the fence that keeps a
// closed log from taking another message, whichever node sends it: a
// publish to a subject no stream captures has no responder and stores
// nothing (CloseLogs). Only streams that had a log closed pay a subject
// per log.

// ErrLogClosed is returned for an append to a log that CloseLogs fenced.
var ErrLogClosed = storage.ErrLogClosed

// LogStream is the JetStream stream a log lives in: its own, or the
// shared stream of a log named STREAM~PART. Cluster status reports
// JetStream streams, which front ends name by their logs through it.
func LogStream(name string) string {
	if i := strings.IndexByte(name, partSep); i >= 0 {
		return name[:i]
	}
	return name
}

// isShared reports whether a log is one subject of a shared stream.
func isShared(name string) bool { return strings.IndexByte(name, partSep) >= 0 }

// partSep separates a shared log's stream and part in its name: a
// character that JetStream stream names and NATS subject tokens both
// allow, so that a log's name is also a valid token (other nodes are
// told of appends on subjects that end with it).
const partSep = '~'

// logSubject is the subject a log's messages are stored under.
func logSubject(name string) string {
	if i := strings.IndexByte(name, partSep); i >= 0 {
		return "log." + name[:i] + "." + name[i+1:]
	}
	return "log." + name
}

// ctlSubject is a shared stream's control subject, which the fence's
// barrier writes to.
func ctlSubject(stream string) string { return "ctl." + stream }

// allSubject captures every log of a shared stream none of whose logs
// was ever closed.
func allSubject(stream string) string { return "log." + stream + ".*" }

// captures reports whether a shared stream's subjects take appends to a
// log's subject.
func captures(stream string, subjects []string, subj string) bool {
	return slices.Contains(subjects, subj) || slices.Contains(subjects, allSubject(stream))
}

// groupShared groups shared log names by their stream, in first-seen
// order; names of unshared logs are left out.
func groupShared(names []string) ([]string, map[string][]string) {
	var order []string
	by := map[string][]string{}
	for _, n := range names {
		if !isShared(n) {
			continue
		}
		st := LogStream(n)
		if _, ok := by[st]; !ok {
			order = append(order, st)
		}
		by[st] = append(by[st], logSubject(n))
	}
	return order, by
}

// sharedConfig is the configuration of a new shared stream, capturing
// subjects besides its control subject.
func (s *Store) sharedConfig(stream string, subjects []string, maxAge time.Duration, firstSeq uint64) jetstream.StreamConfig {
	return s.logConfig(stream, append([]string{ctlSubject(stream)}, subjects...), maxAge, firstSeq)
}

// ensureShared makes the shared stream exist and capture subjects (it
// adds those missing; with none, it only makes the stream). A stream it
// makes for logs captures all of its logs' subjects (allSubject). It
// reports whether the stream existed with another maxAge.
func (s *Store) ensureShared(ctx context.Context, stream string, subjects []string, maxAge time.Duration, firstSeq uint64) (bool, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return false, err
	}
	for attempt := 0; ; attempt++ {
		st, err := c.js.Stream(ctx, stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			var capture []string
			if len(subjects) > 0 {
				capture = []string{allSubject(stream)}
			}
			_, err = c.js.CreateStream(ctx, s.sharedConfig(stream, capture, maxAge, firstSeq))
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) && attempt < 3 {
				continue // made meanwhile: add to it
			}
			return false, err
		}
		if err != nil {
			return false, err
		}
		cfg := st.CachedInfo().Config
		missing := false
		for _, subj := range subjects {
			if !captures(stream, cfg.Subjects, subj) {
				cfg.Subjects = append(cfg.Subjects, subj)
				missing = true
			}
		}
		if missing {
			if _, err := c.js.UpdateStream(ctx, cfg); err != nil {
				return false, err
			}
		}
		return maxAge != cfg.MaxAge, nil
	}
}

// createShared is CreateLog and RecreateLog of a shared log. A re-created
// stream takes no appends (no log subject) until OpenLogs: it may hold
// closed logs as well as open ones, and only its owner knows which.
func (s *Store) createShared(ctx context.Context, name string, maxAge time.Duration, firstSeq uint64) error {
	subjects := []string{logSubject(name)}
	if firstSeq > 0 {
		subjects = nil
	}
	other, err := s.ensureShared(ctx, LogStream(name), subjects, maxAge, firstSeq)
	if err != nil {
		return fmt.Errorf("create log %s: %w", name, err)
	}
	if other {
		return fmt.Errorf("create log %s: %w", name, ErrExists)
	}
	return nil
}

// CreateLogs creates the logs of names that are missing; those that
// exist keep their configuration. The logs of one shared stream are
// created in one request when the stream is new.
func (s *Store) CreateLogs(ctx context.Context, names []string, maxAge time.Duration) error {
	for _, n := range names {
		if isShared(n) {
			continue
		}
		if err := s.CreateLog(ctx, n, maxAge); err != nil && !errors.Is(err, ErrExists) {
			return err
		}
	}
	order, by := groupShared(names)
	for _, st := range order {
		if _, err := s.ensureShared(ctx, st, by[st], maxAge, 0); err != nil {
			return fmt.Errorf("create logs of %s: %w", st, err)
		}
	}
	return nil
}

// OpenLogs makes shared logs take appends again: their subjects are
// added to their streams where missing. Unshared logs always take them.
func (s *Store) OpenLogs(ctx context.Context, names []string) error {
	order, by := groupShared(names)
	c, err := s.conn(ctx)
	if err != nil {
		return fmt.Errorf("open logs: %w", err)
	}
	for _, stream := range order {
		st, err := c.js.Stream(ctx, stream)
		if err != nil {
			return fmt.Errorf("open logs of %s: %w", stream, mapNotFound(err))
		}
		cfg := st.CachedInfo().Config
		n := len(cfg.Subjects)
		for _, subj := range by[stream] {
			if !captures(stream, cfg.Subjects, subj) {
				cfg.Subjects = append(cfg.Subjects, subj)
			}
		}
		if len(cfg.Subjects) == n {
			continue
		}
		if _, err := c.js.UpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("open logs of %s: %w", stream, err)
		}
	}
	return nil
}

// CloseLogs fences shared logs. For each stream it removes the logs'
// subjects in one configuration update (one that captured all its logs
// then lists those of keep instead) and then passes a barrier: the
// stream's leader reports the new subjects, a control message written
// to the stream is acknowledged, and the leader is still the same one.
// The update alone is not enough on a cluster, since the meta group
// orders it, not the stream's own Raft log, and appends already
// proposed would still land; the control message comes after every one
// of them in the stream's log. A change of leader between the steps
// (the new one may not have applied the update when it was elected)
// starts the barrier again. Once CloseLogs returns, State's LastSeq is
// past every message the logs will ever hold. Unshared logs are left
// alone: their writers fence them (docs/cluster.md).
func (s *Store) CloseLogs(ctx context.Context, names, keep []string) error {
	for _, n := range names {
		if !isShared(n) && s.ManyWriters() {
			return fmt.Errorf("close log %s: a log of its own cannot be fenced while other processes write to it", n)
		}
	}
	order, by := groupShared(names)
	_, kept := groupShared(keep)
	c, err := s.conn(ctx)
	if err != nil {
		return fmt.Errorf("close logs: %w", err)
	}
	for _, stream := range order {
		if err := s.closeStream(ctx, c, stream, by[stream], kept[stream]); err != nil {
			return fmt.Errorf("close logs of %s: %w", stream, err)
		}
	}
	return nil
}

// maxBarrier bounds how long CloseLogs tries to fence a stream's logs:
// through an election of its leader, say.
const maxBarrier = 30 * time.Second

// maxFenceAttempt bounds one attempt at fencing a stream's logs.
const maxFenceAttempt = 3 * time.Second

// closeStream fences one stream's closing subjects (CloseLogs), trying
// again while its leader does not answer or changes.
func (s *Store) closeStream(ctx context.Context, c *conn, stream string, closing, keep []string) error {
	ctx, cancel := context.WithTimeout(ctx, maxBarrier)
	defer cancel()
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		// A request no leader answers waits for its deadline: keep each
		// attempt short, so that the next one can find the new leader.
		actx, acancel := context.WithTimeout(ctx, maxFenceAttempt)
		done, err := s.closeOnce(actx, c, stream, closing, keep)
		acancel()
		if done || errors.Is(err, ErrNotFound) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: fence: %w (last: %v)", ErrUnavailable, ctx.Err(), err)
		case <-time.After(wait):
		}
	}
}

// closeOnce is one attempt at closeStream: the configuration update, if
// still needed, and the barrier. It reports whether both are done.
func (s *Store) closeOnce(ctx context.Context, c *conn, stream string, closing, keep []string) (bool, error) {
	st, err := c.js.Stream(ctx, stream)
	if err != nil {
		return false, mapNotFound(err)
	}
	cfg := st.CachedInfo().Config
	gone := append(slices.Clone(closing), allSubject(stream))
	subjects := slices.DeleteFunc(slices.Clone(cfg.Subjects), func(subj string) bool { return slices.Contains(gone, subj) })
	if slices.Contains(cfg.Subjects, allSubject(stream)) {
		for _, subj := range keep {
			if !slices.Contains(subjects, subj) && !slices.Contains(closing, subj) {
				subjects = append(subjects, subj)
			}
		}
	}
	if !slices.Equal(subjects, cfg.Subjects) {
		cfg.Subjects = subjects
		if _, err := c.js.UpdateStream(ctx, cfg); err != nil {
			return false, err
		}
	}
	return s.barrierOnce(ctx, c, stream, gone)
}

// barrierOnce is one attempt at the barrier: true when it passed.
func (s *Store) barrierOnce(ctx context.Context, c *conn, stream string, gone []string) (bool, error) {
	leader, err := s.leaderWithout(ctx, c, stream, gone)
	if leader == nil || err != nil {
		return false, err
	}
	msg := &nats.Msg{Subject: ctlSubject(stream), Header: nats.Header{}}
	msg.Header.Set(jetstream.ExpectedStreamHeader, stream)
	if _, err := c.js.PublishMsg(ctx, msg); err != nil {
		return false, err
	}
	after, err := s.leaderWithout(ctx, c, stream, gone)
	if after == nil || err != nil {
		return false, err
	}
	return *after == *leader, nil
}

// leaderWithout names the stream's leader if it reports none of the
// subjects gone in its configuration; nil otherwise.
func (s *Store) leaderWithout(ctx context.Context, c *conn, stream string, gone []string) (*string, error) {
	st, err := c.js.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	info := st.CachedInfo()
	for _, subj := range info.Config.Subjects {
		if slices.Contains(gone, subj) {
			return nil, nil
		}
	}
	leader := ""
	if info.Cluster != nil {
		leader = info.Cluster.Leader
	}
	return &leader, nil
}

// ManyWriters reports whether other processes may append to this store's
// logs: it is a node of a JetStream cluster, or a client of a NATS server
// it does not run.
func (s *Store) ManyWriters() bool { return s.clustered || s.ns == nil }

// closedOr tells an append to a shared log that found no stream apart:
// ErrClosed when the log's subject is not in its stream's configuration
// (CloseLogs removed it), err otherwise (a leader being elected, say).
func (s *Store) closedOr(ctx context.Context, name string, err error) error {
	if !isShared(name) || !(errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders)) {
		return err
	}
	c, cerr := s.conn(ctx)
	if cerr != nil {
		return err
	}
	st, serr := c.js.Stream(ctx, LogStream(name))
	if serr != nil || captures(LogStream(name), st.CachedInfo().Config.Subjects, logSubject(name)) {
		return err
	}
	return fmt.Errorf("append to %s: %w", name, ErrLogClosed)
}

// deleteShared removes one log of a shared stream: its subject (unless
// the stream captures all its logs' subjects), then its messages.
func (s *Store) deleteShared(ctx context.Context, c *conn, name string) error {
	st, err := c.js.Stream(ctx, LogStream(name))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg := st.CachedInfo().Config
	subj := logSubject(name)
	if i := slices.Index(cfg.Subjects, subj); i >= 0 {
		cfg.Subjects = slices.Delete(cfg.Subjects, i, i+1)
		if _, err := c.js.UpdateStream(ctx, cfg); err != nil {
			return err
		}
	}
	return st.Purge(ctx, jetstream.WithPurgeSubject(subj))
}
