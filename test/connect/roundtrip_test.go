package connect

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// roundTripSize is the size of the file acceptance 3 copies.
const roundTripSize = 100 << 20

// writeLines writes about size bytes of numbered lines of varying length
// and content, and returns the file's path and line count.
func writeLines(t *testing.T, dir string, size int) (string, int) {
	t.Helper()
	path := filepath.Join(dir, "in.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcdefghijklmnopqrstuvwxyz ÄÖÜ{}\":,0123456789€")
	n, lines := 0, 0
	for n < size {
		var b strings.Builder
		fmt.Fprintf(&b, "%09d ", lines)
		for range 20 + rng.IntN(160) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		b.WriteByte('\n')
		m, _ := w.WriteString(b.String())
		n += m
		lines++
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, lines
}

func fileSum(t *testing.T, path string) ([32]byte, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b), int64(len(b))
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// pipeline creates the file source (tagging each record with a header)
// and the file sink (dropping records without the tag, and wrapping and
// unwrapping each value) between them. With shards > 1 the source also
// keys each line by its content, so the lines spread over the shards.
func pipeline(t *testing.T, a api, in, out string, shards int) {
	t.Helper()
	source := map[string]string{
		"connector.class":                   "org.apache.kafka.connect.file.FileStreamSourceConnector",
		"file":                              in,
		"topic":                             "lines",
		"transforms":                        "tag",
		"transforms.tag.type":               "org.apache.kafka.connect.transforms.InsertHeader",
		"transforms.tag.header":             "origin",
		"transforms.tag.value.literal":      "file",
		"topic.creation.default.partitions": strconv.Itoa(shards),
	}
	if shards > 1 {
		for k, v := range map[string]string{
			"transforms":               "tag,hoist,key,unhoist",
			"transforms.hoist.type":    "org.apache.kafka.connect.transforms.HoistField$Value",
			"transforms.hoist.field":   "line",
			"transforms.key.type":      "org.apache.kafka.connect.transforms.ValueToKey",
			"transforms.key.fields":    "line",
			"transforms.unhoist.type":  "org.apache.kafka.connect.transforms.ExtractField$Value",
			"transforms.unhoist.field": "line",
		} {
			source[k] = v
		}
	}
	code, _, body := a.do("POST", "/connectors", map[string]any{"name": "file-in", "config": source})
	if code != 201 {
		t.Fatalf("create source = %d %v", code, body)
	}
	code, _, body = a.do("POST", "/connectors", map[string]any{"name": "file-out", "config": map[string]string{
		"connector.class":               "FileStreamSink",
		"file":                          out,
		"topics":                        "lines",
		"transforms":                    "untagged,hoist,extract",
		"transforms.untagged.type":      "org.apache.kafka.connect.transforms.Filter",
		"transforms.untagged.predicate": "tagged",
		"transforms.untagged.negate":    "true",
		"transforms.hoist.type":         "org.apache.kafka.connect.transforms.HoistField$Value",
		"transforms.hoist.field":        "line",
		"transforms.extract.type":       "org.apache.kafka.connect.transforms.ExtractField$Value",
		"transforms.extract.field":      "line",
		"predicates":                    "tagged",
		"predicates.tagged.type":        "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
		"predicates.tagged.name":        "origin",
	}})
	if code != 201 {
		t.Fatalf("create sink = %d %v", code, body)
	}
}

// TestFileRoundTrip is acceptance 3 of issue 4: a 100 MB file goes file
// source → stream → transforms → file sink line for line; and again with
// the server killed (SIGKILL) in the middle and restarted on the same
// data directory, with no line lost or duplicated.
func TestFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in, lines := writeLines(t, dir, roundTripSize)
	want, size := fileSum(t, in)
	t.Logf("input: %d lines, %d bytes", lines, size)

	for _, kill := range []bool{false, true} {
		t.Run(map[bool]string{false: "clean", true: "killed"}[kill], func(t *testing.T) {
			t.Parallel()
			data, out := t.TempDir(), filepath.Join(t.TempDir(), "out.txt")
			worker := writeFile(t, "worker.properties", "offset.flush.interval.ms=2000\n")
			flags := []string{"-data-dir", data, "-connect-worker-config", worker, allowTemp()}
			startServer := inproc.Start
			if kill {
				startServer = testserver.Start // a process, to kill
			}
			srv := startServer(t, flags...)
			a := api{t: t, base: srv.ConnectURL}
			start := time.Now()
			pipeline(t, a, in, out, 1)
			if kill {
				testserver.WaitUntil(t, "a third of the file copied", 2*time.Minute, func() bool { return fileSize(out) >= size/3 })
				srv.Kill()
				t.Logf("killed at %d of %d bytes copied", fileSize(out), size)
				inproc.Start(t, flags...)
			}
			testserver.WaitUntil(t, "the whole file copied", 5*time.Minute, func() bool { return fileSize(out) >= size })
			// Anything more would be a duplicate: give it a moment to show.
			time.Sleep(time.Second)
			got, n := fileSum(t, out)
			if got != want {
				b, _ := os.ReadFile(out)
				orig, _ := os.ReadFile(in)
				d := firstDiff(b, orig)
				recs := testserver.ReadStream(t, srv.Client(), "lines")
				seen := map[string]int{}
				dups := 0
				for i, r := range recs {
					k := string(r.Data[:9])
					if j, ok := seen[k]; ok {
						if dups < 3 {
							t.Logf("stream duplicate %s at %d and %d (seq %s)", k, j, i, *r.SequenceNumber)
						}
						dups++
					}
					seen[k] = i
				}
				t.Logf("stream: %d records, %d duplicates", len(recs), dups)
				t.Fatalf("output (%d bytes, %d lines) differs from input (%d bytes, %d lines); first difference at byte %d:\n got …%q\nwant …%q",
					n, bytes.Count(b, []byte("\n")), size, lines, d, around(b, d), around(orig, d))
			}
			t.Logf("copied %d lines in %s", lines, time.Since(start).Round(time.Millisecond))
			srv.Stop()
		})
	}
}

// around is the text around offset i, from the start of its line.
func around(b []byte, i int) []byte {
	start := bytes.LastIndexByte(b[:i], '\n') + 1
	return b[start:min(len(b), i+300)]
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestFileRoundTripAcrossShards kills the server while the file source
// writes lines keyed by their content to a 4-shard stream. Each poll's
// records then span shards, so the source's guarantee is at-least-once
// for the poll in flight at the crash (docs/connect.md): every line must
// arrive, and at most one poll's worth (500 lines) may arrive twice.
func TestFileRoundTripAcrossShards(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in, lines := writeLines(t, dir, roundTripSize/4)
	data, out := t.TempDir(), filepath.Join(t.TempDir(), "out.txt")
	worker := writeFile(t, "worker.properties", "offset.flush.interval.ms=2000\n")
	flags := []string{"-data-dir", data, "-connect-worker-config", worker, allowTemp()}
	srv := testserver.Start(t, flags...) // a process, to kill

	pipeline(t, api{t: t, base: srv.ConnectURL}, in, out, 4)
	inBytes, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	testserver.WaitUntil(t, "a third of the file copied", 2*time.Minute, func() bool { return fileSize(out) >= int64(len(inBytes))/3 })
	srv.Kill()
	inproc.Start(t, flags...)
	want := strings.SplitAfter(string(inBytes), "\n")
	want = want[:len(want)-1]
	var got []string
	testserver.WaitUntil(t, "every line copied", 5*time.Minute, func() bool {
		b, _ := os.ReadFile(out)
		got = strings.SplitAfter(string(b), "\n")
		got = got[:len(got)-1]
		return len(got) >= lines
	})
	time.Sleep(2 * time.Second) // let stragglers show
	b, _ := os.ReadFile(out)
	got = strings.SplitAfter(string(b), "\n")
	got = got[:len(got)-1]
	slices.Sort(want)
	slices.Sort(got)
	dups, missing := 0, 0
	for i, j := 0, 0; i < len(want) || j < len(got); {
		switch {
		case j == len(got) || (i < len(want) && want[i] < got[j]):
			missing++
			i++
		case i == len(want) || got[j] < want[i]:
			t.Fatalf("output has a line that is not in the input: %q", got[j])
		default:
			i++
			j++
			for j < len(got) && i > 0 && got[j] == want[i-1] {
				dups++
				j++
			}
		}
	}
	t.Logf("%d lines, %d duplicated after the kill", lines, dups)
	if missing > 0 || dups > 500 {
		t.Fatalf("%d lines missing, %d duplicated (at most 500 allowed)", missing, dups)
	}
	srv.Stop()
}
