package connect

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/testserver"
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
// unwrapping each value) between them.
func pipeline(t *testing.T, a api, in, out string) {
	t.Helper()
	code, _, body := a.do("POST", "/connectors", map[string]any{"name": "file-in", "config": map[string]string{
		"connector.class":                   "org.apache.kafka.connect.file.FileStreamSourceConnector",
		"file":                              in,
		"topic":                             "lines",
		"transforms":                        "tag",
		"transforms.tag.type":               "org.apache.kafka.connect.transforms.InsertHeader",
		"transforms.tag.header":             "origin",
		"transforms.tag.value.literal":      "file",
		"topic.creation.default.partitions": "1",
	}})
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
			data, out := t.TempDir(), filepath.Join(t.TempDir(), "out.txt")
			addr, connectAddr := testserver.FreeAddr(t), testserver.FreeAddr(t)
			worker := writeFile(t, "worker.properties", "offset.flush.interval.ms=2000\n")
			flags := []string{"-data-dir", data, "-connect-listen", connectAddr, "-connect-worker-config", worker}
			srv := testserver.StartAt(t, addr, flags...)
			a := api{t: t, base: srv.ConnectURL}
			start := time.Now()
			pipeline(t, a, in, out)
			if kill {
				waitUntil(t, "a third of the file copied", 2*time.Minute, func() bool { return fileSize(out) >= size/3 })
				srv.Kill()
				t.Logf("killed at %d of %d bytes copied", fileSize(out), size)
				srv = testserver.StartAt(t, addr, flags...)
			}
			waitUntil(t, "the whole file copied", 5*time.Minute, func() bool { return fileSize(out) >= size })
			// Anything more would be a duplicate: give it a moment to show.
			time.Sleep(time.Second)
			got, n := fileSum(t, out)
			if got != want {
				b, _ := os.ReadFile(out)
				orig, _ := os.ReadFile(in)
				d := firstDiff(b, orig)
				recs := readStream(t, srv.Client(), "lines")
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
