package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/minio/highwayhash"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream keeps a log's state (its first and last sequence among
// others) in msgs/index.db and writes it at a clean stop. Without that
// file it rebuilds the state from the block files at start-up, and a
// damaged last block then makes it forget the messages at the log's end:
// the log's last sequence goes back, and the sequences after it are
// issued again. Open notes, before the server starts, which logs have no
// index, or one JetStream will discard (it fails its checksum: JetStream
// then rebuilds the log as if the file were missing), so that those
// above the store can number past what was lost.

// jsIndexFile is JetStream's state file in a log's msgs directory.
const jsIndexFile = "index.db"

// missingIndexes lists the logs under storeDir that have a meta file but
// no usable index file: JetStream will rebuild them from their blocks.
func missingIndexes(storeDir string) (map[string]bool, error) {
	dirs, err := filepath.Glob(filepath.Join(storeDir, "jetstream", "*", "streams", "*"))
	if err != nil {
		return nil, fmt.Errorf("store: look for logs without an index: %w", err)
	}
	out := map[string]bool{}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, jsMetaFile)); err != nil {
			continue
		}
		lost, err := indexUnusable(dir)
		if err != nil {
			return nil, fmt.Errorf("store: log %s: %w", filepath.Base(dir), err)
		}
		if lost {
			out[filepath.Base(dir)] = true
		}
	}
	return out, nil
}

// indexUnusable reports whether JetStream will not use the index file of
// the log in dir: it is missing, too short, or fails the checksum that
// ends it, a HighwayHash-64 keyed with the SHA-256 of the log's name
// (nats-server's filestore recoverFullState; the store is not encrypted).
func indexUnusable(dir string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, "msgs", jsIndexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	const minLen = 32 // JetStream's own minimum
	if len(b) < minLen {
		return true, nil
	}
	key := sha256.Sum256([]byte(filepath.Base(dir)))
	h, err := highwayhash.New64(key[:])
	if err != nil {
		return false, err
	}
	body, sum := b[:len(b)-highwayhash.Size64], b[len(b)-highwayhash.Size64:]
	h.Write(body)
	return !bytes.Equal(h.Sum(nil), sum), nil
}

// IndexRebuilt reports whether the log's index file was missing (or
// failed its checksum) when the store opened, so that JetStream rebuilt its state from its blocks and
// may have forgotten messages at its end (and will number new ones as
// if they had never been).
func (s *Store) IndexRebuilt(name string) bool { return s.rebuilt[LogStream(name)] }

// LastMessage returns the sequence of the last message a log still
// holds, 0 when it holds none. It can be below LogState.LastSeq: expiry
// empties a log from its front, and damage at the end of its last block
// leaves the last sequence where it was with the messages gone.
func (s *Store) LastMessage(ctx context.Context, name string) (uint64, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("log %s: %w", name, err)
	}
	st, err := c.js.Stream(ctx, LogStream(name))
	if err != nil {
		return 0, fmt.Errorf("log %s: %w", name, mapNotFound(err))
	}
	if s.clustered {
		// Not from a follower's copy, which may lack the last writes
		// (follower.go).
		m, err := s.leaderGet(ctx, name, msgGetRequest{LastFor: logSubject(name)})
		if errors.Is(err, ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("log %s: last message: %w", name, err)
		}
		return m.Seq, nil
	}
	m, err := st.GetLastMsgForSubject(ctx, logSubject(name))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("log %s: last message: %w", name, err)
	}
	return m.Sequence, nil
}

// HasMessage reports whether a log still holds the message at seq.
func (s *Store) HasMessage(ctx context.Context, name string, seq uint64) (bool, error) {
	res, err := s.Read(ctx, name, seq, 1, 1)
	if err != nil {
		return false, err
	}
	return len(res.Messages) > 0 && res.Messages[0].Seq == seq, nil
}
