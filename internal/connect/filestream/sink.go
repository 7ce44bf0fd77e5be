package filestream

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tributary-data/tributary/internal/atomicfile"
	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// writeBufferSize is the sink's output buffer: large, so that Put costs
// a copy per record and a system call per megabyte.
const writeBufferSize = 1 << 20

// stateSuffix names the sink's state file, next to its output file.
const stateSuffix = ".offsets"

// NewSink returns Kafka's FileStreamSinkConnector, which appends records
// to a file or standard output, here exactly once (see the package
// documentation).
func NewSink() connect.SinkConnector { return &sinkConnector{} }

type sinkConnector struct {
	props map[string]string
}

// Config returns Kafka's file sink setting: file.
func (c *sinkConnector) Config() connect.ConfigDef { return sinkConfigDef() }

// Start keeps the configuration for the task.
func (c *sinkConnector) Start(_ context.Context, props map[string]string) error {
	c.props = copyProps(props)
	return nil
}

// TaskConfigs returns a single task configuration when maxTasks allows
// one. Kafka returns maxTasks copies that all append to the same file;
// one writer keeps the line order and the state file consistent.
func (c *sinkConnector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	if c.props == nil {
		return nil, errors.New("filestream sink: connector not started")
	}
	if maxTasks < 1 {
		return []map[string]string{}, nil
	}
	return []map[string]string{copyProps(c.props)}, nil
}

// Stop does nothing: the connector watches nothing.
func (c *sinkConnector) Stop() error { return nil }

// Task returns a new sink task writing to the file or os.Stdout.
func (c *sinkConnector) Task() connect.SinkTask { return &sinkTask{stdout: os.Stdout} }

// sinkTask is Kafka's FileStreamSinkTask, with its progress kept in a
// state file for exactly-once output.
type sinkTask struct {
	// stdout is where output goes without a file (tests change it).
	stdout io.Writer

	mu   sync.Mutex
	file string // "" for stdout
	// files is what the file and its state file are opened through: on
	// a server, only inside its allowed paths (connect.Files).
	files *connect.AllowedPaths
	f     *os.File // nil for stdout
	w     *bufio.Writer
	// size is the length of the file with everything Put so far;
	// length is the length the state file records.
	size, length int64
	// positions are the flushed shard positions, by "<stream>/<shard>";
	// dirty is set when they changed since the state file was written.
	positions map[string]string
	dirty     bool
	scratch   []byte
}

// sinkState is the state file's content.
type sinkState struct {
	Length    int64             `json:"length"`
	Positions map[string]string `json:"positions"`
}

// Start opens the file for appending. If a state file exists, it cuts
// the file back to the length flushed last and has the runtime resume
// after the flushed positions; otherwise it records the file's current
// length, so that a crash before the first Flush loses nothing either.
func (t *sinkTask) Start(ctx context.Context, props map[string]string, tc connect.SinkTaskContext) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.file = parseSinkFile(props)
	t.files = connect.Files(ctx)
	if t.file == "" {
		t.w = bufio.NewWriterSize(t.stdout, writeBufferSize)
		return nil
	}
	statePath := t.file + stateSuffix
	st, found, err := readState(t.files, statePath)
	if err != nil {
		return err
	}
	f, err := t.files.OpenFile(t.file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("filestream sink task: couldn't find or create file %s: %w", t.file, err)
	}
	fail := func(err error) error {
		f.Close()
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(fmt.Errorf("filestream sink task: %w", err))
	}
	size := fi.Size()
	if found {
		switch {
		case size < st.Length:
			return fail(fmt.Errorf("filestream sink task: %s is %d bytes long but %s records %d flushed bytes: the file was changed by something else, and lines would be lost or repeated; remove %s to append to the file as it is",
				t.file, size, statePath, st.Length, statePath))
		case size > st.Length:
			// Lines written after the last Flush: the runtime
			// delivers them again, from after st.Positions.
			if err := f.Truncate(st.Length); err != nil {
				return fail(fmt.Errorf("filestream sink task: truncating %s to its flushed length %d: %w", t.file, st.Length, err))
			}
		}
		seek := make(map[connect.ShardRef]string, len(st.Positions))
		for k, seq := range st.Positions {
			stream, shard, _ := strings.Cut(k, "/")
			seek[connect.ShardRef{Stream: stream, Shard: shard}] = seq
		}
		if len(seek) > 0 && tc != nil {
			tc.Seek(seek)
		}
		t.positions, t.size, t.length = st.Positions, st.Length, st.Length
	} else {
		// The file may have been written by something that did not
		// fsync it (Kafka's sink, say); make its length durable before
		// recording it.
		if err := f.Sync(); err != nil {
			return fail(fmt.Errorf("filestream sink task: syncing %s: %w", t.file, err))
		}
		t.positions = map[string]string{}
		if err := writeState(t.files, statePath, sinkState{Length: size, Positions: t.positions}); err != nil {
			return fail(err)
		}
		t.size, t.length = size, size
	}
	t.f = f
	t.w = bufio.NewWriterSize(f, writeBufferSize)
	t.dirty = false
	return nil
}

// readState reads a state file; found is false when there is none. A
// state file that cannot be read fails the task rather than risk
// duplicate or lost lines.
func readState(files *connect.AllowedPaths, path string) (st sinkState, found bool, err error) {
	b, err := readFile(files, path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("filestream sink task: reading state file: %w", err)
	}
	var raw struct {
		Length    *int64            `json:"length"`
		Positions map[string]string `json:"positions"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return st, false, fmt.Errorf("filestream sink task: state file %s is corrupt: %w", path, err)
	}
	if raw.Length == nil || *raw.Length < 0 {
		return st, false, fmt.Errorf("filestream sink task: state file %s has no valid length", path)
	}
	for k := range raw.Positions {
		if stream, shard, ok := strings.Cut(k, "/"); !ok || stream == "" || shard == "" {
			return st, false, fmt.Errorf("filestream sink task: state file %s has a position for %q, which is not <stream>/<shard>", path, k)
		}
	}
	if raw.Positions == nil {
		raw.Positions = map[string]string{}
	}
	return sinkState{Length: *raw.Length, Positions: raw.Positions}, true, nil
}

// readFile is os.ReadFile through files.
func readFile(files *connect.AllowedPaths, path string) ([]byte, error) {
	f, err := files.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// writeState replaces the state file atomically and durably: a crash
// leaves either the old state or the new one.
func writeState(files *connect.AllowedPaths, path string, st sinkState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("filestream sink task: encoding state: %w", err)
	}
	tmp := path + ".tmp"
	f, err := files.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("filestream sink task: writing state: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("filestream sink task: writing state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("filestream sink task: syncing state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("filestream sink task: writing state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("filestream sink task: replacing state file: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("filestream sink task: %w", err)
	}
	return nil
}

// Put buffers each record's value and a line end.
func (t *sinkTask) Put(_ context.Context, records []*data.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return errors.New("filestream sink task: not started")
	}
	for _, rec := range records {
		var (
			n   int
			err error
		)
		switch v := rec.Value.(type) {
		case string:
			n, err = t.w.WriteString(v)
		case []byte:
			n, err = t.w.Write(v)
		default:
			t.scratch = appendValue(t.scratch[:0], v)
			n, err = t.w.Write(t.scratch)
		}
		if err == nil {
			if err = t.w.WriteByte('\n'); err == nil {
				n++
			}
		}
		t.size += int64(n)
		if err != nil {
			return fmt.Errorf("filestream sink task: writing to %s: %w", t.describe(), err)
		}
	}
	// Hand the batch to the file now (without fsync), so lines show up as
	// they arrive, as with Kafka's sink, which writes each line; the
	// buffer still turns a batch into one write.
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("filestream sink task: writing to %s: %w", t.describe(), err)
	}
	return nil
}

// Flush writes the buffer out and fsyncs the file, then records the new
// length and positions in the state file. Only then may the runtime
// commit positions, which a restart would otherwise take as done.
func (t *sinkTask) Flush(_ context.Context, positions map[connect.ShardRef]string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return errors.New("filestream sink task: not started")
	}
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("filestream sink task: writing to %s: %w", t.describe(), err)
	}
	if t.f == nil {
		return nil
	}
	for ref, seq := range positions {
		k := ref.Stream + "/" + ref.Shard
		if old, ok := t.positions[k]; !ok || old != seq {
			t.positions[k] = seq
			t.dirty = true
		}
	}
	if !t.dirty && t.size == t.length {
		return nil
	}
	if t.size != t.length {
		if err := t.f.Sync(); err != nil {
			return fmt.Errorf("filestream sink task: syncing %s: %w", t.file, err)
		}
	}
	if err := writeState(t.files, t.file+stateSuffix, sinkState{Length: t.size, Positions: t.positions}); err != nil {
		return err
	}
	t.length, t.dirty = t.size, false
	return nil
}

// Stop closes the file without flushing, as the runtime expects: what
// was not flushed is cut off by the next Start and delivered again.
func (t *sinkTask) Stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.w = nil
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	if err != nil {
		return fmt.Errorf("filestream sink task: closing %s: %w", t.file, err)
	}
	return nil
}

func (t *sinkTask) describe() string {
	if t.file == "" {
		return "standard output"
	}
	return t.file
}
