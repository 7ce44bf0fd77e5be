// Damaged files: a real server is stopped, bytes of its data directory
// are flipped, cut off or deleted, and it is started again; the tests
// check what it reports and what it serves.

package faults

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
)

const (
	stream    = "damaged"
	batches   = 4
	batchRecs = 25
	shardID   = "shardId-000000000000"
)

// written is what a test put and had acknowledged, batch by batch.
type written struct {
	seqs [][]string // per batch, the records' sequence numbers
	data [][]string // per batch, the records' data
}

// serve starts a server on dir that fsyncs every write, so that what the
// test damages is what was acknowledged.
func serve(t *testing.T, dir string) *testserver.Proc {
	t.Helper()
	// Layout A (a JetStream stream per shard): these tests damage one
	// shard's log files, which under layout B hold a stripe of shards.
	return testserver.Start(t, "-data-dir", dir, "-durability", "sync", "-stripe-shards", "0")
}

// setUp creates a one-shard stream on a new server, puts `batches`
// PutRecords requests of batchRecs records each (one stored message
// each), and stops the server cleanly.
func setUp(t *testing.T, ctx context.Context) (dir string, w written) {
	t.Helper()
	return setUpAndEnd(t, ctx, false)
}

// put writes one batch of records whose data start with prefix.
func put(t *testing.T, ctx context.Context, c *kinesis.Client, prefix string) (seqs, data []string) {
	t.Helper()
	entries := make([]types.PutRecordsRequestEntry, batchRecs)
	for i := range entries {
		d := fmt.Sprintf("%s-r%02d-%s", prefix, i, strings.Repeat("x", 40))
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte(d)}
		data = append(data, d)
	}
	out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Records {
		if r.ErrorCode != nil {
			t.Fatalf("put %s: %s", prefix, *r.ErrorMessage)
		}
		seqs = append(seqs, *r.SequenceNumber)
	}
	return seqs, data
}

// blockFile is the one block file of the stream directory matching glob.
func blockFile(t *testing.T, dir, glob string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "jetstream", "$G", "streams", glob, "msgs", "*.blk"))
	if err != nil || len(files) != 1 {
		t.Fatalf("block files %s: %v %v", glob, files, err)
	}
	return files[0]
}

// flip inverts 16 bytes of a file where marker first occurs.
func flip(t *testing.T, file, marker string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, []byte(marker))
	if at < 0 || at+16 > len(b) {
		t.Fatalf("%q not in %s", marker, file)
	}
	for i := at; i < at+16; i++ {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// truncateAt cuts a file off in the middle of where marker first occurs.
func truncateAt(t *testing.T, file, marker string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, []byte(marker))
	if at < 0 {
		t.Fatalf("%q not in %s", marker, file)
	}
	if err := os.Truncate(file, int64(at+len(marker)/2)); err != nil {
		t.Fatal(err)
	}
}

// readAll reads the shard from TRIM_HORIZON to its tip.
func readAll(t *testing.T, ctx context.Context, c *kinesis.Client) []types.Record {
	t.Helper()
	return readFrom(t, ctx, c, &kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
}

func readFrom(t *testing.T, ctx context.Context, c *kinesis.Client, in *kinesis.GetShardIteratorInput) []types.Record {
	t.Helper()
	in.StreamName, in.ShardId = aws.String(stream), aws.String(shardID)
	it, err := c.GetShardIterator(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var out []types.Record
	for iter := it.ShardIterator; ; {
		res, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Records...)
		if len(res.Records) == 0 || aws.ToInt64(res.MillisBehindLatest) == 0 {
			return out
		}
		iter = res.NextShardIterator
	}
}

func dataOf(recs []types.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Data))
	}
	return out
}

func concat(batches ...[]string) []string {
	var out []string
	for _, b := range batches {
		out = append(out, b...)
	}
	return out
}

// errorLine finds the server's ERROR line reporting messages lo..hi of
// the shard lost.
func errorLine(log string, lo, hi int) string {
	re := regexp.MustCompile(fmt.Sprintf(`(?m)^.*level=ERROR.*shard=%s.*first_message=%d last_message=%d .*$`, shardID, lo, hi))
	return re.FindString(log)
}

// metric returns the value of a series of the server's /metrics.
func metric(t *testing.T, p *testserver.Proc, series string) string {
	t.Helper()
	resp, err := http.Get(p.Endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return ""
}

// TestDamagedDataBlock damages a shard's block file of a stopped server.
// After a restart the server serves every record it still has, reports
// each lost message at ERROR with the shard and the range lost (and in
// tributary_kinesis_lost_messages_total), and goes on numbering records
// above every sequence number it acknowledged.
func TestDamagedDataBlock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, file string)
		// lo..hi are the messages (batches, counting from 1) lost.
		lo, hi int
	}{
		// 16 bytes flipped inside the second batch's records: JetStream's
		// checksum catches it and the batch is dropped.
		{"flipped", func(t *testing.T, f string) { flip(t, f, "b1-r10-") }, 2, 2},
		// The file cut off inside the third batch: the third and the
		// fourth are gone.
		{"truncated", func(t *testing.T, f string) { truncateAt(t, f, "b2-r05-") }, 3, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testserver.Context(t, 2*time.Minute)
			dir, w := setUp(t, ctx)
			tc.damage(t, blockFile(t, dir, "KS_*"))

			p := serve(t, dir)
			c := p.Client()
			// A new batch after the damage: the reader must get past it.
			newSeqs, newData := put(t, ctx, c, "after")
			kept := concat(w.data[:tc.lo-1]...)
			kept = append(concat(kept, concat(w.data[tc.hi:]...)), newData...)
			if got := dataOf(readAll(t, ctx, c)); !slices.Equal(got, kept) {
				t.Errorf("served %d records, want the %d not damaged:\n got %q\nwant %q", len(got), len(kept), got, kept)
			}
			// The server logs before it answers, but its output reaches
			// p.Log() through a pipe.
			var line string
			testserver.WaitUntil(t, fmt.Sprintf("an ERROR line reporting messages %d-%d of %s lost", tc.lo, tc.hi, shardID),
				30*time.Second, func() bool { line = errorLine(p.Log(), tc.lo, tc.hi); return line != "" })
			if !strings.Contains(line, "stream="+stream) {
				t.Errorf("ERROR line does not name the stream: %s", line)
			}
			// An iterator at a lost record starts at the next record that
			// exists; the gap is on record (logged above, and counted).
			got := readFrom(t, ctx, c, &kinesis.GetShardIteratorInput{
				ShardIteratorType:      types.ShardIteratorTypeAtSequenceNumber,
				StartingSequenceNumber: aws.String(w.seqs[tc.lo-1][3]),
			})
			if len(got) == 0 || string(got[0].Data) != kept[(tc.lo-1)*batchRecs] {
				t.Errorf("AT_SEQUENCE_NUMBER of a lost record served %q first, want %q", dataOf(got), kept[(tc.lo-1)*batchRecs])
			}
			series := `tributary_kinesis_lost_messages_total{account="000000000000",region="us-east-1",shard="` + shardID + `",stream="` + stream + `"}`
			if v, want := metric(t, p, series), fmt.Sprint(tc.hi-tc.lo+1); v != want {
				t.Errorf("%s = %q, want %s", series, v, want)
			}
			assertAbove(t, newSeqs, concat(w.seqs...))
		})
	}
}

// TestDeletedShardDirectory deletes a shard's log directory of a stopped
// server. The restarted server reports the lost log at ERROR and
// re-creates it; the records it now accepts have sequence numbers above
// every one acknowledged before, so a consumer resuming
// AFTER_SEQUENCE_NUMBER its last record reads them all.
func TestDeletedShardDirectory(t *testing.T) {
	t.Parallel()
	ctx := testserver.Context(t, 2*time.Minute)
	dir, w := setUp(t, ctx)
	logs, err := filepath.Glob(filepath.Join(dir, "jetstream", "$G", "streams", "KS_*"))
	if err != nil || len(logs) != 1 {
		t.Fatalf("shard logs: %v %v", logs, err)
	}
	if err := os.RemoveAll(logs[0]); err != nil {
		t.Fatal(err)
	}

	p := serve(t, dir)
	c := p.Client()
	missing := regexp.MustCompile(`level=ERROR msg="shard log missing[^"]*".* shard=` + shardID + ` log=` + filepath.Base(logs[0]))
	testserver.WaitUntil(t, "an ERROR line reporting the shard's log missing", 30*time.Second,
		func() bool { return missing.MatchString(p.Log()) })
	newSeqs, newData := put(t, ctx, c, "after")
	assertAbove(t, newSeqs, concat(w.seqs...))
	last := w.seqs[batches-1][batchRecs-1]
	got := readFrom(t, ctx, c, &kinesis.GetShardIteratorInput{
		ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(last),
	})
	if !slices.Equal(dataOf(got), newData) {
		t.Errorf("AFTER_SEQUENCE_NUMBER the last acknowledged record served %q, want the %d new records", dataOf(got), len(newData))
	}
}

// TestDamagedMetadata flips 16 bytes of the metadata bucket's block file:
// inside the stream's metadata document, and over the checksum that ends
// the bucket's last write (which JetStream then truncates away without a
// word). Start-up must not hang or go on without the stream: it fails
// (exits) with a message naming the file, what is damaged, and what to
// do. The deadline is generous; it is not a timing assertion.
func TestDamagedMetadata(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, file string)
		says   string
	}{
		{"document", func(t *testing.T, f string) { flip(t, f, `"name":"`+stream+`"`) },
			"1 key(s) unreadable (failed checksum): stream.000000000000.us-east-1." + hex.EncodeToString([]byte(stream))},
		{"last write", flipEnd, "lost, so the keys they held are gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testserver.Context(t, 2*time.Minute)
			dir, _ := setUp(t, ctx)
			file := blockFile(t, dir, "KV_tributary-meta")
			tc.damage(t, file)

			runCtx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			cmd := exec.CommandContext(runCtx, testserver.Binary(t), "serve", "-data-dir", dir,
				"-listen", "127.0.0.1:0", "-connect-listen", "127.0.0.1:0")
			out, err := cmd.CombinedOutput()
			if runCtx.Err() != nil {
				t.Fatalf("start-up on damaged metadata did not fail within a minute; output:\n%s", out)
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("start-up on damaged metadata: %v, want a failure; output:\n%s", err, out)
			}
			for _, want := range []string{"metadata damaged in " + filepath.Dir(filepath.Dir(file)), tc.says,
				"restore the data directory from a backup"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("start-up output does not say %q:\n%s", want, out)
				}
			}
		})
	}
}

// flipEnd inverts the last 16 bytes of a file.
func flipEnd(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) - 16; i < len(b); i++ {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// assertAbove checks that every sequence number in later is greater than
// every one in earlier.
func assertAbove(t *testing.T, later, earlier []string) {
	t.Helper()
	top := new(big.Int)
	for _, s := range earlier {
		n, ok := new(big.Int).SetString(s, 10)
		if !ok {
			t.Fatalf("sequence number %q", s)
		}
		if n.Cmp(top) > 0 {
			top = n
		}
	}
	for _, s := range later {
		n, _ := new(big.Int).SetString(s, 10)
		if n.Cmp(top) <= 0 {
			t.Fatalf("new record got sequence number %s, not above %s, which was already acknowledged", s, top)
		}
	}
}
