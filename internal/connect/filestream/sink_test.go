package filestream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// fakeSinkContext records the positions a task seeks to.
type fakeSinkContext struct {
	seeks []map[connect.ShardRef]string
}

func (c *fakeSinkContext) Seek(p map[connect.ShardRef]string) { c.seeks = append(c.seeks, p) }

func startSink(t testing.TB, file string, tc connect.SinkTaskContext) *sinkTask {
	t.Helper()
	task := NewSink().Task().(*sinkTask)
	if err := task.Start(context.Background(), map[string]string{"file": file}, tc); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return task
}

func records(values ...any) []*data.Record {
	out := make([]*data.Record, len(values))
	for i, v := range values {
		out[i] = &data.Record{Topic: "s", Value: v}
	}
	return out
}

func readString(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readStateFile(t testing.TB, path string) sinkState {
	t.Helper()
	var st sinkState
	if err := json.Unmarshal([]byte(readString(t, path+stateSuffix)), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRenderValue(t *testing.T) {
	schema := data.StructSchema("rec",
		data.Field{Name: "a", Schema: data.Primitive(data.TypeInt32)},
		data.Field{Name: "b", Schema: data.OptionalOf(data.Primitive(data.TypeString))},
		data.Field{Name: "c", Schema: data.Primitive(data.TypeString)},
	)
	st := data.NewStruct(schema)
	st.Values = []any{int32(1), nil, "x"}
	inner := data.NewStruct(data.StructSchema("in", data.Field{Name: "z", Schema: data.Primitive(data.TypeBoolean)}))
	inner.Values[0] = true
	outer := data.NewStruct(data.StructSchema("out",
		data.Field{Name: "in", Schema: inner.Schema},
		data.Field{Name: "l", Schema: &data.Schema{Type: data.TypeArray, Elem: data.Primitive(data.TypeInt64)}}))
	outer.Values = []any{inner, []any{int64(1), int64(2)}}
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"null", nil, "null"},
		{"string", "hello world", "hello world"},
		{"empty string", "", ""},
		{"bytes", []byte("raw\x00bytes"), "raw\x00bytes"},
		{"true", true, "true"},
		{"false", false, "false"},
		{"int8", int8(-8), "-8"},
		{"int16", int16(300), "300"},
		{"int32", int32(-2147483648), "-2147483648"},
		{"int64", int64(9223372036854775807), "9223372036854775807"},
		{"int", 42, "42"},
		{"float64", 1.5, "1.5"},
		{"float64 whole", float64(3), "3.0"},
		{"float64 large", 1e7, "1.0E7"},
		{"float64 small", 1e-4, "1.0E-4"},
		{"float64 nan", math.NaN(), "NaN"},
		{"float64 -inf", math.Inf(-1), "-Infinity"},
		{"float32", float32(0.1), "0.1"},
		{"float32 large", float32(1.2345678e9), "1.2345678E9"},
		{"decimal", data.Decimal{Unscaled: big.NewInt(12345), Scale: 2}, "123.45"},
		{"timestamp", time.UnixMilli(0), "Thu Jan 01 00:00:00 UTC 1970"},
		{"date", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), "Tue Mar 05 00:00:00 UTC 2024"},
		{"struct", st, "Struct{a=1,c=x}"},
		{"nested struct", outer, "Struct{in=Struct{z=true},l=[1, 2]}"},
		{"nil struct", (*data.Struct)(nil), "null"},
		{"list", []any{"a", int64(1), nil, 2.0}, "[a, 1, null, 2.0]"},
		{"empty list", []any{}, "[]"},
		{"map", map[any]any{"b": int32(2), "a": "x"}, "{a=x, b=2}"},
		{"schemaless map", map[string]any{"k": []any{true}, "j": map[string]any{}}, "{j={}, k=[true]}"},
		{"other slice", []string{"p", "q"}, "[p, q]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendValue(nil, tc.v)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSinkWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	task := startSink(t, path, nil)
	defer task.Stop()
	ctx := context.Background()
	if err := task.Put(ctx, records("a", []byte("b"), nil, int32(4), 2.5)); err != nil {
		t.Fatal(err)
	}
	// Put hands lines to the file at once (as Kafka's sink does); Flush
	// makes them durable and records them in the state file.
	if got, want := readString(t, path), "a\nb\nnull\n4\n2.5\n"; got != want {
		t.Errorf("after Put the file holds %q, want %q", got, want)
	}
	if st := readStateFile(t, path); st.Length != 0 {
		t.Errorf("state before Flush %+v", st)
	}
	if err := task.Flush(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := readString(t, path), "a\nb\nnull\n4\n2.5\n"; got != want {
		t.Errorf("file %q, want %q", got, want)
	}
	if st := readStateFile(t, path); st.Length != 15 || len(st.Positions) != 0 {
		t.Errorf("state %+v", st)
	}
}

func TestSinkAppendsToExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	writeFile(t, path, "old\n")
	tc := &fakeSinkContext{}
	task := startSink(t, path, tc)
	if len(tc.seeks) != 0 {
		t.Errorf("sought %v without a state file", tc.seeks)
	}
	// The current length is recorded before anything is written.
	if st := readStateFile(t, path); st.Length != 4 {
		t.Errorf("state %+v, want length 4", st)
	}
	ctx := context.Background()
	if err := task.Put(ctx, records("new")); err != nil {
		t.Fatal(err)
	}
	if err := task.Flush(ctx, map[connect.ShardRef]string{{Stream: "s", Shard: "shardId-0"}: "7"}); err != nil {
		t.Fatal(err)
	}
	task.Stop()
	if got := readString(t, path); got != "old\nnew\n" {
		t.Errorf("file %q", got)
	}
}

func TestSinkExactlyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	ctx := context.Background()
	shard0 := connect.ShardRef{Stream: "orders", Shard: "shardId-000000000000"}
	shard1 := connect.ShardRef{Stream: "orders", Shard: "shardId-000000000001"}

	task := startSink(t, path, &fakeSinkContext{})
	if err := task.Put(ctx, records("one", "two")); err != nil {
		t.Fatal(err)
	}
	flushed := map[connect.ShardRef]string{shard0: "49000000000000000000000000000000000000000000000002", shard1: connect.ShardEnd}
	if err := task.Flush(ctx, flushed); err != nil {
		t.Fatal(err)
	}
	// More output reaches the file (a full buffer is written out) but
	// is never flushed; then the worker dies: no Flush, no Stop.
	if err := task.Put(ctx, records("three", "four")); err != nil {
		t.Fatal(err)
	}
	if err := task.w.Flush(); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "half a li")
	if got := readString(t, path); got != "one\ntwo\nthree\nfour\nhalf a li" {
		t.Fatalf("before the crash the file holds %q", got)
	}

	tc := &fakeSinkContext{}
	again := startSink(t, path, tc)
	defer again.Stop()
	if got := readString(t, path); got != "one\ntwo\n" {
		t.Errorf("after restart the file holds %q, want the flushed lines only", got)
	}
	if want := []map[connect.ShardRef]string{flushed}; !reflect.DeepEqual(tc.seeks, want) {
		t.Errorf("Seek calls %v, want %v", tc.seeks, want)
	}
	// The runtime redelivers three and four.
	if err := again.Put(ctx, records("three", "four")); err != nil {
		t.Fatal(err)
	}
	if err := again.Flush(ctx, map[connect.ShardRef]string{shard0: "49000000000000000000000000000000000000000000000004"}); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != "one\ntwo\nthree\nfour\n" {
		t.Errorf("file %q", got)
	}
	if st := readStateFile(t, path); st.Length != 19 {
		t.Errorf("state length %d, want 19", st.Length)
	}
	if _, err := os.Stat(path + stateSuffix + ".tmp"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary state file left behind: %v", err)
	}
}

func TestSinkStateMerge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	ctx := context.Background()
	task := startSink(t, path, nil)
	defer task.Stop()
	a := connect.ShardRef{Stream: "s", Shard: "shardId-0"}
	b := connect.ShardRef{Stream: "s", Shard: "shardId-1"}
	c := connect.ShardRef{Stream: "t", Shard: "shardId-0"}
	steps := []struct {
		put  []any
		pos  map[connect.ShardRef]string
		want sinkState
	}{
		{[]any{"x"}, map[connect.ShardRef]string{a: "10"}, sinkState{2, map[string]string{"s/shardId-0": "10"}}},
		{[]any{"yy"}, map[connect.ShardRef]string{b: "5"}, sinkState{5, map[string]string{"s/shardId-0": "10", "s/shardId-1": "5"}}},
		{nil, map[connect.ShardRef]string{a: "20", c: "1"}, sinkState{5, map[string]string{"s/shardId-0": "20", "s/shardId-1": "5", "t/shardId-0": "1"}}},
		{[]any{"z"}, map[connect.ShardRef]string{b: connect.ShardEnd}, sinkState{7, map[string]string{"s/shardId-0": "20", "s/shardId-1": connect.ShardEnd, "t/shardId-0": "1"}}},
	}
	for i, s := range steps {
		if err := task.Put(ctx, records(s.put...)); err != nil {
			t.Fatal(err)
		}
		if err := task.Flush(ctx, s.pos); err != nil {
			t.Fatal(err)
		}
		if got := readStateFile(t, path); !reflect.DeepEqual(got, s.want) {
			t.Errorf("step %d: state %+v, want %+v", i, got, s.want)
		}
	}
	// A Flush that brings nothing new writes nothing.
	if err := os.Remove(path + stateSuffix); err != nil {
		t.Fatal(err)
	}
	if err := task.Flush(ctx, map[connect.ShardRef]string{a: "20"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + stateSuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an idle Flush rewrote the state file (%v)", err)
	}
	// The merged positions survive a restart.
	task.Flush(ctx, map[connect.ShardRef]string{a: "21"})
	tc := &fakeSinkContext{}
	again := startSink(t, path, tc)
	defer again.Stop()
	want := map[connect.ShardRef]string{a: "21", b: connect.ShardEnd, c: "1"}
	if len(tc.seeks) != 1 || !reflect.DeepEqual(tc.seeks[0], want) {
		t.Errorf("Seek calls %v, want %v", tc.seeks, want)
	}
}

func TestSinkBadState(t *testing.T) {
	for _, tc := range []struct {
		name, file, state, want string
	}{
		{"file shorter than state", "ab\n", `{"length": 10, "positions": {}}`, "was changed by something else"},
		{"file missing", "", `{"length": 3, "positions": {}}`, "was changed by something else"},
		{"corrupt", "ab\n", `{"length": 3,`, "corrupt"},
		{"no length", "ab\n", `{"positions": {}}`, "no valid length"},
		{"bad key", "ab\n", `{"length": 3, "positions": {"noslash": "1"}}`, "not <stream>/<shard>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.txt")
			if tc.file != "" {
				writeFile(t, path, tc.file)
			}
			writeFile(t, path+stateSuffix, tc.state)
			task := NewSink().Task()
			err := task.Start(context.Background(), map[string]string{"file": path}, &fakeSinkContext{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSinkStdout(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var out bytes.Buffer
	task := NewSink().Task().(*sinkTask)
	task.stdout = &out
	ctx := context.Background()
	if err := task.Start(ctx, map[string]string{"file": ""}, &fakeSinkContext{}); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(ctx, records("to", "stdout")); err != nil {
		t.Fatal(err)
	}
	if err := task.Flush(ctx, map[connect.ShardRef]string{{Stream: "s", Shard: "0"}: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "to\nstdout\n" {
		t.Errorf("stdout got %q", out.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("writing to stdout left files: %v", entries)
	}
}

func TestSinkTaskConfigs(t *testing.T) {
	c := NewSink()
	props := map[string]string{"name": "s", "connector.class": SinkClass, "file": "/tmp/x", "topics": "a,b", "tasks.max": "3"}
	if err := c.Start(context.Background(), props); err != nil {
		t.Fatal(err)
	}
	for max, n := range map[int]int{0: 0, 1: 1, 3: 1} {
		cfgs, err := c.TaskConfigs(max)
		if err != nil {
			t.Fatal(err)
		}
		if len(cfgs) != n {
			t.Errorf("TaskConfigs(%d) gave %d configs, want %d", max, len(cfgs), n)
		}
		for _, cfg := range cfgs {
			if !reflect.DeepEqual(cfg, props) {
				t.Errorf("task config %v, want %v", cfg, props)
			}
		}
	}
}

func TestSinkNotStarted(t *testing.T) {
	task := NewSink().Task()
	if err := task.Put(context.Background(), records("x")); err == nil {
		t.Error("Put before Start succeeded")
	}
	if err := task.Flush(context.Background(), nil); err == nil {
		t.Error("Flush before Start succeeded")
	}
}
