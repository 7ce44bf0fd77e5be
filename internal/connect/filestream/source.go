package filestream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// Reading parameters. Kafka waits one second when it finds no data; the
// task checks for data more often within that second, so that appended
// lines flow with little delay.
const (
	readBufferSize  = 1 << 20
	stdinChunkSize  = 64 << 10
	pollInterval    = 100 * time.Millisecond
	idleWait        = time.Second
	maxRecordSlab   = 1024
	stdinDescriptor = "standard input"
)

// NewSource returns Kafka's FileStreamSourceConnector, which reads lines
// from a file or standard input into a stream.
func NewSource() connect.SourceConnector { return &sourceConnector{} }

type sourceConnector struct {
	props map[string]string
}

// Config returns Kafka's file source settings: file, topic, batch.size.
func (c *sourceConnector) Config() connect.ConfigDef { return sourceConfigDef() }

// Start checks the configuration and keeps it for the task.
func (c *sourceConnector) Start(_ context.Context, props map[string]string) error {
	if _, err := parseSourceConfig(props); err != nil {
		return fmt.Errorf("filestream source: %w", err)
	}
	c.props = copyProps(props)
	return nil
}

// TaskConfigs returns one task configuration whatever maxTasks is: one
// reader per file is all that makes sense, as in Kafka.
func (c *sourceConnector) TaskConfigs(int) ([]map[string]string, error) {
	if c.props == nil {
		return nil, errors.New("filestream source: connector not started")
	}
	return []map[string]string{copyProps(c.props)}, nil
}

// Stop does nothing: the connector watches nothing.
func (c *sourceConnector) Stop() error { return nil }

// Task returns a new source task reading from the file or os.Stdin.
func (c *sourceConnector) Task() connect.SourceTask {
	return &sourceTask{stdin: os.Stdin, pollInterval: pollInterval, idleWait: idleWait}
}

// sourceTask is Kafka's FileStreamSourceTask.
type sourceTask struct {
	// Set by Task (tests change them).
	stdin        io.Reader
	pollInterval time.Duration
	idleWait     time.Duration

	cfg sourceConfig
	// files is what the file is opened through: on a server, only
	// inside its allowed paths (connect.Files).
	files *connect.AllowedPaths
	// schema is the value schema of every record, Kafka's
	// Schema.STRING_SCHEMA; the task's records share it.
	schema *data.Schema
	// partition is the source partition of every record, shared by
	// them (nil for standard input).
	partition map[string]any
	in        input // nil until the file is opened

	buf  []byte // unread data is buf[r:w]
	r, w int
	// pos is the byte position in the file of buf[r].
	pos int64
	// cr is the index in buf of the first '\r' at or after crFrom, or
	// -1 when buf[crFrom:w] has none.
	cr, crFrom int
}

// input is where lines come from: a file, or standard input.
type input interface {
	// read reads what is available into p without waiting for more;
	// 0, nil means nothing is available yet.
	read(p []byte) (int, error)
	// wait returns when data may have arrived, after at most d, or when
	// ctx ends.
	wait(ctx context.Context, d time.Duration)
	close() error
}

// Start reads the configuration and, for a file, the committed position
// to resume from. The file is opened by Poll, which waits for it to
// exist as Kafka's task does.
func (t *sourceTask) Start(ctx context.Context, props map[string]string, tc connect.SourceTaskContext) error {
	cfg, err := parseSourceConfig(props)
	if err != nil {
		return fmt.Errorf("filestream source task: %w", err)
	}
	t.cfg = cfg
	t.files = connect.Files(ctx)
	t.schema = data.Primitive(data.TypeString)
	t.buf = make([]byte, readBufferSize)
	t.r, t.w, t.pos, t.cr, t.crFrom = 0, 0, 0, -1, 0
	if cfg.file == "" {
		t.in = newStdinInput(t.stdin)
		return nil
	}
	t.partition = map[string]any{filenameField: cfg.file}
	if tc == nil {
		return nil
	}
	off, err := tc.Offset(ctx, map[string]any{filenameField: cfg.file})
	if err != nil {
		return fmt.Errorf("filestream source task: reading the committed offset of %s: %w", cfg.file, err)
	}
	if v := off[positionField]; v != nil {
		p, err := toPosition(v)
		if err != nil {
			return fmt.Errorf("filestream source task: committed offset of %s: %w", cfg.file, err)
		}
		t.pos = p
	}
	return nil
}

// toPosition reads a committed position. Kafka stores a Long; offsets
// that went through JSON may come back as another number type.
func toPosition(v any) (int64, error) {
	var p int64
	switch x := v.(type) {
	case int64:
		p = x
	case int:
		p = int64(x)
	case int32:
		p = int64(x)
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return 0, kafkaErrorf("Offset position is the incorrect type: %v", x)
		}
		p = int64(x)
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			return 0, kafkaErrorf("Offset position is the incorrect type: %v", x)
		}
		p = n
	default:
		return 0, kafkaErrorf("Offset position is the incorrect type: %T", v)
	}
	if p < 0 {
		return 0, fmt.Errorf("offset position %d is negative", p)
	}
	return p, nil
}

// Poll returns the complete lines read so far, at most batch.size of
// them. With none available it waits for more, checking every
// pollInterval, and returns no records after idleWait or when ctx ends.
func (t *sourceTask) Poll(ctx context.Context) ([]*data.Record, error) {
	if t.buf == nil {
		return nil, errors.New("filestream source task: not started")
	}
	deadline := time.Now().Add(t.idleWait)
	if t.in == nil {
		if ok, err := t.waitOpen(ctx, deadline); !ok || err != nil {
			return nil, err
		}
	}
	var b pollBatch
	for {
		for len(b.out)+len(b.spans) < t.cfg.batchSize {
			sp, ok := t.nextLine()
			if !ok {
				break
			}
			b.spans = append(b.spans, sp)
		}
		if len(b.out)+len(b.spans) >= t.cfg.batchSize {
			t.emit(&b)
			return b.out, nil
		}
		t.emit(&b)
		n, err := t.fill()
		if err != nil {
			return b.out, err
		}
		if n > 0 {
			continue
		}
		if len(b.out) > 0 {
			return b.out, nil
		}
		d := time.Until(deadline)
		if d <= 0 || ctx.Err() != nil {
			return nil, nil
		}
		t.in.wait(ctx, min(d, t.pollInterval))
	}
}

// waitOpen opens the input, trying every pollInterval until deadline or
// the end of ctx; false when it could not.
func (t *sourceTask) waitOpen(ctx context.Context, deadline time.Time) (bool, error) {
	for {
		ok, err := t.open()
		if err != nil || ok {
			return ok, err
		}
		if !sleep(ctx, time.Until(deadline), t.pollInterval) {
			return false, nil
		}
	}
}

// pollBatch is one Poll's records so far, and the lines found in buf
// but not yet turned into records, as end indexes into buf and
// positions after them; they are turned into records together (emit),
// sharing one string, before buf changes. Records are carved from slab,
// allocated a batch at a time.
type pollBatch struct {
	out   []*data.Record
	slab  []data.Record
	spans []span
}

// emit turns the batch's pending lines into records.
func (t *sourceTask) emit(b *pollBatch) {
	if len(b.spans) == 0 {
		return
	}
	first, last := b.spans[0].start, b.spans[len(b.spans)-1].end
	s := string(t.buf[first:last])
	// Kafka stamps each record with the time it was read, in
	// milliseconds.
	now := time.Now().Truncate(time.Millisecond)
	valid := utf8.ValidString(s)
	for _, sp := range b.spans {
		if len(b.slab) == 0 {
			b.slab = make([]data.Record, min(t.cfg.batchSize-len(b.out), maxRecordSlab))
		}
		rec := &b.slab[0]
		b.slab = b.slab[1:]
		line := s[sp.start-first : sp.end-first]
		if !valid && !utf8.ValidString(line) {
			line = decodeLikeJava(line)
		}
		rec.Topic = t.cfg.topic
		rec.ValueSchema = t.schema
		rec.Value = line
		rec.Timestamp = now
		if t.partition != nil {
			rec.SourcePartition = t.partition
			rec.SourceOffset = map[string]any{positionField: sp.pos}
		}
		b.out = append(b.out, rec)
	}
	b.spans = b.spans[:0]
}

// span is one complete line in buf: buf[start:end], ending before pos.
type span struct {
	start, end int
	pos        int64
}

// nextLine finds the next complete line in buf[r:w] and consumes it. A
// line ends at "\n", "\r\n" or "\r"; a "\r" at the end of the data read
// so far is not an end yet, since "\n" may follow.
func (t *sourceTask) nextLine() (span, bool) {
	seg := t.buf[t.r:t.w]
	nl := bytes.IndexByte(seg, '\n')
	limit := t.w
	if nl >= 0 {
		limit = t.r + nl
	}
	cr := t.nextCR(limit)
	var end, next int // relative to r
	switch {
	case cr >= 0:
		end = cr - t.r
		if end+1 == len(seg) {
			return span{}, false
		}
		next = end + 1
		if seg[next] == '\n' {
			next++
		}
	case nl >= 0:
		end, next = nl, nl+1
	default:
		return span{}, false
	}
	sp := span{start: t.r, end: t.r + end, pos: t.pos + int64(next)}
	t.r += next
	t.pos += int64(next)
	return sp, true
}

// nextCR returns the index in buf of the first '\r' in buf[r:limit], or
// -1. It remembers where it found one, so that a file without '\r' is
// searched for it once, not once per line.
func (t *sourceTask) nextCR(limit int) int {
	if t.cr >= 0 && t.cr < t.r {
		// Consumed: search again from the current line.
		t.cr, t.crFrom = -1, t.r
	}
	if t.crFrom < t.r {
		t.crFrom = t.r
	}
	if t.cr < 0 && t.crFrom < t.w {
		if i := bytes.IndexByte(t.buf[t.crFrom:t.w], '\r'); i >= 0 {
			t.cr = t.crFrom + i
		} else {
			t.crFrom = t.w
		}
	}
	if t.cr >= 0 && t.cr < limit {
		return t.cr
	}
	return -1
}

// fill makes room in buf, by moving the unread data to its start or, if
// the buffer holds one incomplete line, by doubling it, and reads what is
// available into it.
func (t *sourceTask) fill() (int, error) {
	if t.r > 0 {
		n := copy(t.buf, t.buf[t.r:t.w])
		switch {
		case t.cr >= t.r:
			t.cr -= t.r
		case t.cr >= 0:
			// Consumed: search again from the unread data.
			t.cr, t.crFrom = -1, t.r
		}
		t.crFrom = max(t.crFrom-t.r, 0)
		t.r, t.w = 0, n
	}
	if t.w == len(t.buf) {
		nb := make([]byte, 2*len(t.buf))
		copy(nb, t.buf[:t.w])
		t.buf = nb
	}
	n, err := t.in.read(t.buf[t.w:])
	t.w += n
	if err != nil {
		return n, fmt.Errorf("filestream source task: reading %s: %w", t.describe(), err)
	}
	return n, nil
}

// open opens the file and moves to the committed position; it returns
// false when the file does not exist yet.
func (t *sourceTask) open() (bool, error) {
	f, err := t.files.OpenFile(t.cfg.file, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("filestream source task: opening %s: %w", t.cfg.file, err)
	}
	if t.pos > 0 {
		// Past the end of the file, reads find nothing until the file
		// has grown past pos: Kafka's task, skipping, waits likewise.
		if _, err := f.Seek(t.pos, io.SeekStart); err != nil {
			f.Close()
			return false, fmt.Errorf("filestream source task: seeking %s to the committed position %d: %w", t.cfg.file, t.pos, err)
		}
	}
	t.in = &fileInput{f: f}
	return true, nil
}

func (t *sourceTask) describe() string {
	if t.cfg.file == "" {
		return stdinDescriptor
	}
	return t.cfg.file
}

// Stop closes the file. Buffered lines are dropped; their offsets were
// not committed, so a new task reads them again.
func (t *sourceTask) Stop() error {
	if t.in == nil {
		return nil
	}
	err := t.in.close()
	t.in = nil
	t.buf = nil
	if err != nil {
		return fmt.Errorf("filestream source task: closing %s: %w", t.describe(), err)
	}
	return nil
}

// decodeLikeJava replaces each byte of s that is not part of valid UTF-8
// with U+FFFD, as Java's InputStreamReader does (near enough: Java
// replaces a truncated sequence once, not once per byte).
func decodeLikeJava(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// sleep waits for min(d, step) or until ctx ends; it reports false when
// d has already passed or ctx has ended.
func sleep(ctx context.Context, d, step time.Duration) bool {
	if d <= 0 || ctx.Err() != nil {
		return false
	}
	tm := time.NewTimer(min(d, step))
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// fileInput reads a regular file, which at its end reports io.EOF until
// it grows.
type fileInput struct{ f *os.File }

func (in *fileInput) read(p []byte) (int, error) {
	n, err := in.f.Read(p)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

func (in *fileInput) wait(ctx context.Context, d time.Duration) { sleep(ctx, d, d) }

func (in *fileInput) close() error { return in.f.Close() }

// stdinInput reads standard input in a goroutine, since a read there
// blocks and cannot be interrupted: Poll must not block on it, and must
// return when its context ends.
type stdinInput struct {
	chunks  chan stdinChunk
	done    chan struct{}
	pending []byte
	err     error
	eof     bool
}

type stdinChunk struct {
	b   []byte
	err error
}

func newStdinInput(r io.Reader) *stdinInput {
	in := &stdinInput{chunks: make(chan stdinChunk, 4), done: make(chan struct{})}
	go in.pump(r)
	return in
}

// pump copies r into chunks until r ends or the input is closed. After
// close it stays blocked in Read until standard input delivers data or
// ends: nothing can interrupt that read.
func (in *stdinInput) pump(r io.Reader) {
	for {
		b := make([]byte, stdinChunkSize)
		n, err := r.Read(b)
		if n > 0 {
			select {
			case in.chunks <- stdinChunk{b: b[:n]}:
			case <-in.done:
				return
			}
		}
		if err != nil {
			select {
			case in.chunks <- stdinChunk{err: err}:
			case <-in.done:
			}
			return
		}
	}
}

func (in *stdinInput) take(c stdinChunk) {
	if c.err != nil {
		if errors.Is(c.err, io.EOF) {
			// Like Kafka: at the end of standard input, keep
			// returning nothing.
			in.eof = true
		} else {
			in.err = c.err
		}
		return
	}
	in.pending = c.b
}

func (in *stdinInput) read(p []byte) (int, error) {
	if len(in.pending) == 0 && !in.eof && in.err == nil {
		select {
		case c := <-in.chunks:
			in.take(c)
		default:
		}
	}
	if len(in.pending) > 0 {
		n := copy(p, in.pending)
		in.pending = in.pending[n:]
		return n, nil
	}
	return 0, in.err
}

func (in *stdinInput) wait(ctx context.Context, d time.Duration) {
	if len(in.pending) > 0 || in.err != nil {
		return
	}
	if in.eof {
		sleep(ctx, d, d)
		return
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case c := <-in.chunks:
		in.take(c)
	case <-ctx.Done():
	case <-tm.C:
	}
}

func (in *stdinInput) close() error {
	close(in.done)
	return nil
}
