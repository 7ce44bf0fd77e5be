package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// JetStream keeps each log (a JetStream stream) in a directory of its own,
// <data-dir>/jetstream/<account>/streams/<name>, described by a meta file
// (meta.inf). It writes that file after making the directory when it
// creates a log, and removes it first when it deletes one, so that a
// log whose creation or deletion a crash interrupted is never loaded.
// It then skips such a directory, with a warning ("Missing stream
// metafile"), at every start, and never removes it. removeUnloadable
// removes them before the server starts: what they hold was never a log
// (an interrupted creation) or is a log already on its way out (an
// interrupted deletion); either way JetStream cannot serve it.

// jsMetaFile is the name of JetStream's meta file in a log's directory.
const jsMetaFile = "meta.inf"

// jsMetaSum is the name of the meta file's checksum, which JetStream
// writes after the meta file. A log with a meta file but no checksum is
// another creation a crash interrupted; it is removed only when it holds
// no messages, so that damage to a live log is left for JetStream (and
// whoever reads its warning) to see.
const jsMetaSum = "meta.sum"

// removeUnloadable removes the log directories under storeDir that a crash
// left half made or half deleted (see interrupted), and logs each one.
func removeUnloadable(storeDir string, lg *slog.Logger) error {
	dirs, err := filepath.Glob(filepath.Join(storeDir, "jetstream", "*", "streams", "*"))
	if err != nil {
		return fmt.Errorf("store: look for unloadable logs: %w", err)
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if strings.HasPrefix(name, ".") {
			continue // JetStream removes these itself: deletions under way
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		unloadable, err := interrupted(dir)
		if err != nil {
			return fmt.Errorf("store: log %s: %w", name, err)
		}
		if !unloadable {
			continue
		}
		size := dirSize(dir)
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("store: remove unloadable log %s: %w", name, err)
		}
		lg.Warn("removed a log directory without its meta file, left by a log creation or deletion that a crash interrupted",
			"log", name, "bytes", size)
	}
	return nil
}

// interrupted reports whether a log directory is one whose creation or
// deletion a crash interrupted: it has no meta file, or a meta file
// without its checksum and no messages.
func interrupted(dir string) (bool, error) {
	missing := func(f string) (bool, error) {
		_, err := os.Stat(filepath.Join(dir, f))
		if errors.Is(err, fs.ErrNotExist) {
			return true, nil
		}
		return false, err
	}
	if m, err := missing(jsMetaFile); m || err != nil {
		return m, err
	}
	if m, err := missing(jsMetaSum); !m || err != nil {
		return false, err
	}
	return dirSize(filepath.Join(dir, "msgs")) == 0, nil
}

// dirSize is the total size of the files under dir, for the log line.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
