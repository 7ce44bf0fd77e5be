package filestream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// fakeSourceContext serves committed offsets and records what it was
// asked.
type fakeSourceContext struct {
	offset map[string]any
	err    error
	asked  []map[string]any
}

func (c *fakeSourceContext) Offset(_ context.Context, partition map[string]any) (map[string]any, error) {
	c.asked = append(c.asked, partition)
	return c.offset, c.err
}

// startSource starts a source task with short waits, so that idle polls
// return quickly.
func startSource(t testing.TB, props map[string]string, tc connect.SourceTaskContext) *sourceTask {
	t.Helper()
	task := NewSource().Task().(*sourceTask)
	task.pollInterval = 5 * time.Millisecond
	task.idleWait = 30 * time.Millisecond
	if err := task.Start(context.Background(), props, tc); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t testing.TB, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

// line is what a test expects of a record: its value and position.
type line struct {
	value string
	pos   int64
}

func (l line) String() string { return fmt.Sprintf("%q@%d", l.value, l.pos) }

func lines(t testing.TB, recs []*data.Record) []line {
	t.Helper()
	var out []line
	for _, r := range recs {
		v, ok := r.Value.(string)
		if !ok {
			t.Fatalf("value %#v is not a string", r.Value)
		}
		var pos int64 = -1
		if r.SourceOffset != nil {
			pos = r.SourceOffset[positionField].(int64)
		}
		out = append(out, line{v, pos})
	}
	return out
}

// pollAll polls until a poll returns nothing, collecting the lines.
func pollAll(t testing.TB, task *sourceTask) []line {
	t.Helper()
	var out []line
	for {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if len(recs) == 0 {
			return out
		}
		out = append(out, lines(t, recs)...)
	}
}

func TestSourceLineTerminators(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		want    []line
	}{
		{"lf", "one\ntwo\n", []line{{"one", 4}, {"two", 8}}},
		{"crlf", "one\r\ntwo\r\n", []line{{"one", 5}, {"two", 10}}},
		{"cr", "one\rtwo\rx", []line{{"one", 4}, {"two", 8}}},
		{"mixed", "a\nb\r\nc\rd\n", []line{{"a", 2}, {"b", 5}, {"c", 7}, {"d", 9}}},
		{"empty lines", "\n\r\n\r\n", []line{{"", 1}, {"", 3}, {"", 5}}},
		{"cr cr lf", "a\r\r\nb\n", []line{{"a", 2}, {"", 4}, {"b", 6}}},
		{"no terminator", "partial", nil},
		{"trailing cr waits for lf", "a\nb\r", []line{{"a", 2}}},
		{"invalid utf-8", "a\xffb\nok\n", []line{{"a\uFFFDb", 4}, {"ok", 7}}},
		{"utf-8 positions are bytes", "é\nü\n", []line{{"é", 3}, {"ü", 6}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.txt")
			writeFile(t, path, tc.content)
			task := startSource(t, map[string]string{"file": path, "topic": "s"}, nil)
			if got := pollAll(t, task); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSourceRecordShape(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	writeFile(t, path, "hello\n")
	task := startSource(t, map[string]string{"file": path, "topic": " logs "}, nil)
	before := time.Now().Add(-time.Millisecond)
	recs, err := task.Poll(context.Background())
	if err != nil || len(recs) != 1 {
		t.Fatalf("Poll = %v, %v", recs, err)
	}
	r := recs[0]
	if r.Topic != "logs" || r.Key != nil || r.KeySchema != nil || r.Value != "hello" {
		t.Errorf("record %+v", r)
	}
	if r.ValueSchema == nil || r.ValueSchema.Type != data.TypeString || r.ValueSchema.Optional {
		t.Errorf("value schema %+v, want STRING", r.ValueSchema)
	}
	if r.Timestamp.Before(before) || r.Timestamp.After(time.Now()) {
		t.Errorf("timestamp %v, want the time of the read", r.Timestamp)
	}
	if !reflect.DeepEqual(r.SourcePartition, map[string]any{"filename": path}) {
		t.Errorf("partition %#v", r.SourcePartition)
	}
	if !reflect.DeepEqual(r.SourceOffset, map[string]any{"position": int64(6)}) {
		t.Errorf("offset %#v", r.SourceOffset)
	}
}

func TestSourcePartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	writeFile(t, path, "first\nsec")
	task := startSource(t, map[string]string{"file": path, "topic": "s"}, nil)
	if got, want := pollAll(t, task), []line{{"first", 6}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	appendFile(t, path, "ond\nthird\r")
	if got, want := pollAll(t, task), []line{{"second", 13}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after completing the line: got %v, want %v", got, want)
	}
	// The "\r" could be the start of "\r\n": Kafka waits to see.
	appendFile(t, path, "\nfourth\n")
	if got, want := pollAll(t, task), []line{{"third", 20}, {"fourth", 27}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after the lf: got %v, want %v", got, want)
	}
}

// TestSourceAppendWhilePolling checks that a Poll waiting at the end of
// the file returns data appended meanwhile, before its idle wait ends.
func TestSourceAppendWhilePolling(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	writeFile(t, path, "")
	task := startSource(t, map[string]string{"file": path, "topic": "s"}, nil)
	task.idleWait = 10 * time.Second
	go func() {
		time.Sleep(50 * time.Millisecond)
		appendFile(t, path, "late\n")
	}()
	start := time.Now()
	recs, err := task.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := lines(t, recs); !reflect.DeepEqual(got, []line{{"late", 5}}) {
		t.Errorf("got %v", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Poll took %v", d)
	}
}

func TestSourceResume(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offset  map[string]any
		content string
		append  string
		want    []line
		wantErr string
	}{
		{name: "no offset", offset: nil, content: "a\nbb\nccc\n", want: []line{{"a", 2}, {"bb", 5}, {"ccc", 9}}},
		{name: "int64", offset: map[string]any{"position": int64(2)}, content: "a\nbb\nccc\n", want: []line{{"bb", 5}, {"ccc", 9}}},
		{name: "float64 from JSON", offset: map[string]any{"position": float64(5)}, content: "a\nbb\nccc\n", want: []line{{"ccc", 9}}},
		{name: "at end", offset: map[string]any{"position": int64(9)}, content: "a\nbb\nccc\n", append: "d\n", want: []line{{"d", 11}}},
		{name: "null position", offset: map[string]any{"position": nil}, content: "a\n", want: []line{{"a", 2}}},
		// Beyond the end (the file was truncated): Kafka's task skips
		// as the file grows and reads on from the committed position.
		{name: "beyond end", offset: map[string]any{"position": int64(12)}, content: "a\nbb\nccc\n", append: "xyz\nmore\n", want: []line{{"", 13}, {"more", 18}}},
		{name: "bad type", offset: map[string]any{"position": "2"}, content: "a\n", wantErr: "Offset position is the incorrect type"},
		{name: "fraction", offset: map[string]any{"position": 2.5}, content: "a\n", wantErr: "Offset position is the incorrect type"},
		{name: "negative", offset: map[string]any{"position": int64(-1)}, content: "a\n", wantErr: "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.txt")
			writeFile(t, path, tc.content)
			ctx := &fakeSourceContext{offset: tc.offset}
			task := NewSource().Task().(*sourceTask)
			task.pollInterval, task.idleWait = 5*time.Millisecond, 30*time.Millisecond
			err := task.Start(context.Background(), map[string]string{"file": path, "topic": "s"}, ctx)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Start error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer task.Stop()
			if want := []map[string]any{{"filename": path}}; !reflect.DeepEqual(ctx.asked, want) {
				t.Errorf("asked for %v, want %v", ctx.asked, want)
			}
			got := pollAll(t, task)
			if tc.append != "" {
				appendFile(t, path, tc.append)
				got = append(got, pollAll(t, task)...)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSourceOffsetError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	boom := errors.New("boom")
	task := NewSource().Task()
	err := task.Start(context.Background(), map[string]string{"file": path, "topic": "s"}, &fakeSourceContext{err: boom})
	if !errors.Is(err, boom) {
		t.Fatalf("Start error %v, want it to wrap %v", err, boom)
	}
}

func TestSourceBatchSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	var b strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "line%d\n", i)
	}
	writeFile(t, path, b.String())
	for _, tc := range []struct {
		batch string
		sizes []int
	}{
		{"3", []int{3, 3, 3, 1}},
		{"10", []int{10}},
		{"2000", []int{10}},
		{"1", []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		// Kafka does not validate batch.size; below 1 it acts as 1.
		{"0", []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
	} {
		t.Run(tc.batch, func(t *testing.T) {
			task := startSource(t, map[string]string{"file": path, "topic": "s", "batch.size": tc.batch}, nil)
			var sizes []int
			var all []line
			for {
				recs, err := task.Poll(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) == 0 {
					break
				}
				sizes = append(sizes, len(recs))
				all = append(all, lines(t, recs)...)
			}
			if !reflect.DeepEqual(sizes, tc.sizes) {
				t.Errorf("batch sizes %v, want %v", sizes, tc.sizes)
			}
			if len(all) != 10 || all[9] != (line{"line9", 60}) {
				t.Errorf("lines %v", all)
			}
		})
	}
}

func TestSourceCancel(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "in.txt")
	writeFile(t, existing, "partial")
	for name, path := range map[string]string{"at end of file": existing, "missing file": filepath.Join(dir, "missing.txt")} {
		t.Run(name, func(t *testing.T) {
			task := startSource(t, map[string]string{"file": path, "topic": "s"}, nil)
			task.pollInterval, task.idleWait = 100*time.Millisecond, time.Hour
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			start := time.Now()
			recs, err := task.Poll(ctx)
			if err != nil || len(recs) != 0 {
				t.Errorf("Poll = %v, %v; want nothing", recs, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("Poll returned %v after it was cancelled", d)
			}
		})
	}
}

func TestSourceIdlePollReturns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	writeFile(t, path, "")
	task := startSource(t, map[string]string{"file": path, "topic": "s"}, nil)
	task.idleWait = 200 * time.Millisecond
	start := time.Now()
	recs, err := task.Poll(context.Background())
	if err != nil || len(recs) != 0 {
		t.Errorf("Poll = %v, %v", recs, err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("an idle Poll took %v, want about the idle wait", d)
	}
}

func TestSourceMissingFileAppears(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.txt")
	task := startSource(t, map[string]string{"file": path, "topic": "s"}, nil)
	if got := pollAll(t, task); got != nil {
		t.Fatalf("got %v before the file exists", got)
	}
	writeFile(t, path, "here\n")
	if got, want := pollAll(t, task), []line{{"here", 5}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestSourceLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	long := strings.Repeat("x", 3*readBufferSize+17)
	writeFile(t, path, "a\n"+long+"\r\nb\n")
	task := startSource(t, map[string]string{"file": path, "topic": "s"}, nil)
	want := []line{{"a", 2}, {long, int64(2 + len(long) + 2)}, {"b", int64(2 + len(long) + 4)}}
	if got := pollAll(t, task); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %d lines, want %d (a line longer than the buffer)", len(got), len(want))
	}
}

// TestSourceRandomLines compares the task with a plain splitter on a
// file of several buffers' worth of lines of random lengths and random
// terminators, so that lines and "\r\n" pairs straddle buffer refills.
func TestSourceRandomLines(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	terms := []string{"\n", "\r\n", "\r"}
	var b strings.Builder
	var want []line
	for b.Len() < 3*readBufferSize {
		n := rng.Intn(300)
		if rng.Intn(50) == 0 {
			n = rng.Intn(readBufferSize / 2)
		}
		v := strings.Repeat(string(rune('a'+rng.Intn(26))), n)
		term := terms[rng.Intn(len(terms))]
		b.WriteString(v)
		b.WriteString(term)
		want = append(want, line{v, int64(b.Len())})
	}
	b.WriteString("tail")
	path := filepath.Join(t.TempDir(), "in.txt")
	writeFile(t, path, b.String())
	task := startSource(t, map[string]string{"file": path, "topic": "s", "batch.size": "777"}, nil)
	got := pollAll(t, task)
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d: got %.20q at %d, want %.20q at %d", i, got[i].value, got[i].pos, want[i].value, want[i].pos)
		}
	}
}

func TestSourceStdin(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	task := NewSource().Task().(*sourceTask)
	task.stdin = r
	task.pollInterval, task.idleWait = 5*time.Millisecond, 2*time.Second
	tc := &fakeSourceContext{}
	if err := task.Start(context.Background(), map[string]string{"topic": "s"}, tc); err != nil {
		t.Fatal(err)
	}
	defer task.Stop()
	if len(tc.asked) != 0 {
		t.Errorf("asked for offsets of standard input: %v", tc.asked)
	}
	go w.Write([]byte("one\ntw"))
	recs, err := task.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := lines(t, recs); !reflect.DeepEqual(got, []line{{"one", -1}}) {
		t.Errorf("got %v", got)
	}
	if recs[0].SourcePartition != nil || recs[0].SourceOffset != nil {
		t.Errorf("standard input has offsets: %v %v", recs[0].SourcePartition, recs[0].SourceOffset)
	}
	go w.Write([]byte("o\n"))
	recs, err = task.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := lines(t, recs); !reflect.DeepEqual(got, []line{{"two", -1}}) {
		t.Errorf("got %v", got)
	}
	// A Poll blocked on standard input returns when cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	start := time.Now()
	if recs, err := task.Poll(ctx); err != nil || len(recs) != 0 {
		t.Errorf("Poll = %v, %v", recs, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("cancelled Poll took %v", d)
	}
	// At the end of standard input Poll keeps returning nothing.
	w.Close()
	task.idleWait = 20 * time.Millisecond
	for i := 0; i < 3; i++ {
		if recs, err := task.Poll(context.Background()); err != nil || len(recs) != 0 {
			t.Errorf("Poll after EOF = %v, %v", recs, err)
		}
	}
}

func TestSourceConfigDef(t *testing.T) {
	def := NewSource().Config()
	type key struct {
		name, typ, def string
		required       bool
		imp            connect.Importance
		doc            string
	}
	var got []key
	for _, k := range def {
		got = append(got, key{k.Name, string(k.Type), k.Default, k.Required, k.Importance, k.Documentation})
	}
	want := []key{
		{"file", "STRING", "", false, connect.High, "Source filename. If not specified, the standard input will be used"},
		{"topic", "STRING", "", true, connect.High, "The topic to publish data to"},
		{"batch.size", "INT", "2000", false, connect.Low, "The maximum number of records the source task can read from the file each time it is polled"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config def\n got %+v\nwant %+v", got, want)
	}
	sink := NewSink().Config()
	if len(sink) != 1 || sink[0].Name != "file" || sink[0].Type != connect.ConfigString || sink[0].Importance != connect.High ||
		sink[0].Documentation != "Destination filename. If not specified, the standard output will be used" {
		t.Errorf("sink config def %+v", sink)
	}
}

func TestSourceConfigValidation(t *testing.T) {
	var validate func(string) string
	for _, k := range NewSource().Config() {
		if k.Name == "topic" {
			validate = k.Validate
		}
	}
	for _, tc := range []struct {
		topic, want string
	}{
		{"logs", ""},
		{" logs ", ""},
		{"", "String must be non-empty"},
		{"  ", "String must be non-empty"},
		{"a,b", "'topic' in FileStreamSourceConnector configuration requires definition of a single topic"},
	} {
		if got := validate(tc.topic); got != tc.want {
			t.Errorf("validate(%q) = %q, want %q", tc.topic, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"ok", map[string]string{"topic": "t", "file": "/nonexistent"}, ""},
		{"missing topic", map[string]string{"file": "x"}, `Missing required configuration "topic" which has no default value.`},
		{"empty topic", map[string]string{"topic": ""}, "Invalid value  for configuration topic: String must be non-empty"},
		{"two topics", map[string]string{"topic": "a,b"}, "Invalid value a,b for configuration topic: 'topic' in FileStreamSourceConnector configuration requires definition of a single topic"},
		{"bad batch", map[string]string{"topic": "t", "batch.size": "many"}, "Invalid value many for configuration batch.size: Not a number of type INT"},
		{"batch too big for INT", map[string]string{"topic": "t", "batch.size": "3000000000"}, "Invalid value 3000000000 for configuration batch.size: Not a number of type INT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewSource()
			err := c.Start(context.Background(), tc.props)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Start: %v", err)
			case tc.want != "" && (err == nil || !strings.HasSuffix(err.Error(), tc.want)):
				t.Errorf("Start error %v, want %q", err, tc.want)
			}
			task := c.Task()
			if terr := task.Start(context.Background(), tc.props, nil); (terr == nil) != (tc.want == "") {
				t.Errorf("task Start error %v, want %q", terr, tc.want)
			}
			task.Stop()
		})
	}
}

func TestSourceTaskConfigs(t *testing.T) {
	c := NewSource()
	props := map[string]string{"name": "f", "connector.class": SourceClass, "file": "/x", "topic": "t", "tasks.max": "4"}
	if err := c.Start(context.Background(), props); err != nil {
		t.Fatal(err)
	}
	for _, max := range []int{1, 4} {
		cfgs, err := c.TaskConfigs(max)
		if err != nil {
			t.Fatal(err)
		}
		if len(cfgs) != 1 || !reflect.DeepEqual(cfgs[0], props) {
			t.Errorf("TaskConfigs(%d) = %v, want one copy of the props", max, cfgs)
		}
		cfgs[0]["file"] = "changed"
		if props["file"] != "/x" {
			t.Error("task config shares the connector's map")
		}
	}
}
