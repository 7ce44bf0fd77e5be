// Package faults injects failures of the machine under a real server and
// checks what clients see: here, a data directory whose filesystem fills
// up, and a store that reaches its -max-store-bytes limit. Writes must
// fail fast with an error AWS clients retry, nothing acknowledged may be
// lost, and writes must work again once space is freed, without a
// restart. The full-disk test mounts a tmpfs and needs root; see
// internal/testfs.
package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/tributary-data/tributary/internal/testfs"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// callTimeout is how long a test waits for one request: a write to a
// full disk used to hang for good, so without it the test would too.
const callTimeout = 60 * time.Second

// writer puts records to one stream and remembers the acknowledged ones.
type writer struct {
	t      *testing.T
	c      *kinesis.Client
	stream string
	acked  map[string][]byte // sequence number -> data
	n      int
}

func newWriter(t *testing.T, c *kinesis.Client, stream string) *writer {
	return &writer{t: t, c: c, stream: stream, acked: map[string][]byte{}}
}

// put sends one PutRecord of size bytes and returns its error; it fails
// the test if the request does not return within callTimeout.
func (w *writer) put(size int) error {
	w.t.Helper()
	w.n++
	data := bytes.Repeat([]byte{byte(w.n)}, size)
	copy(data, fmt.Sprintf("record %d|", w.n))
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	out, err := w.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(w.stream),
		PartitionKey: aws.String(fmt.Sprint(w.n)), Data: data})
	if ctx.Err() != nil {
		w.t.Fatalf("PutRecord %d did not return within %s: %v", w.n, callTimeout, err)
	}
	if err == nil {
		w.acked[*out.SequenceNumber] = data
	}
	return err
}

// putRecords sends one PutRecords of n records and returns how many failed,
// checking that each failure carries InternalFailure.
func (w *writer) putRecords(n int) int {
	w.t.Helper()
	entries := make([]types.PutRecordsRequestEntry, n)
	for i := range entries {
		w.n++
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(w.n)),
			Data: []byte(fmt.Sprintf("record %d", w.n))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	out, err := w.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(w.stream), Records: entries})
	if ctx.Err() != nil {
		w.t.Fatalf("PutRecords did not return within %s: %v", callTimeout, err)
	}
	if err != nil {
		w.t.Fatalf("PutRecords: %v", err)
	}
	for i, r := range out.Records {
		if r.ErrorCode != nil {
			if *r.ErrorCode != "InternalFailure" {
				w.t.Errorf("PutRecords entry %d: ErrorCode %s, want InternalFailure", i, *r.ErrorCode)
			}
			continue
		}
		w.acked[*r.SequenceNumber] = entries[i].Data
	}
	return int(aws.ToInt32(out.FailedRecordCount))
}

// wantRetriable checks that err is the InternalFailure (HTTP 500) that
// the AWS SDKs, the KCL and the KPL retry.
func wantRetriable(t *testing.T, what string, err error) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InternalFailure" {
		t.Fatalf("%s: got %v, want InternalFailure", what, err)
	}
	if !strings.Contains(err.Error(), "StatusCode: 500") {
		t.Errorf("%s: %v, want HTTP 500", what, err)
	}
}

// resume puts until a put succeeds: the server must recover by itself.
func (w *writer) resume(what string) {
	w.t.Helper()
	var err error
	for range 60 {
		if err = w.put(1024); err == nil {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	w.t.Fatalf("writes did not resume after %s: %v", what, err)
}

// checkAcked reads the stream back and checks every acknowledged record.
func (w *writer) checkAcked() {
	w.t.Helper()
	got := map[string][]byte{}
	for _, r := range testserver.ReadStream(w.t, w.c, w.stream) {
		got[*r.SequenceNumber] = r.Data
	}
	for seq, data := range w.acked {
		if !bytes.Equal(got[seq], data) {
			w.t.Errorf("acknowledged record %s: read %d bytes, want %d", seq, len(got[seq]), len(data))
		}
	}
	w.t.Logf("%d acknowledged records read back", len(w.acked))
}

// errorLines counts the server's ERROR log lines.
func errorLines(p *testserver.Proc) int { return strings.Count(p.Log(), "level=ERROR") }

// maxErrorLines is what a burst of refused writes may add to the log:
// repeats are one line per ten seconds.
const maxErrorLines = 12

func createStream(t *testing.T, c *kinesis.Client, name string, shards int32) {
	t.Helper()
	ctx := testserver.Context(t, callTimeout)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	if err := kinesis.NewStreamExistsWaiter(c).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, callTimeout); err != nil {
		t.Fatal(err)
	}
}

// TestFullDisk runs the server on a 64 MiB tmpfs, fills it with a file,
// and checks that PutRecord and PutRecords fail fast with InternalFailure
// (no hang), that the log stays short, that deleting the file lets writes
// through again without a restart, and that every acknowledged record is
// there.
func TestFullDisk(t *testing.T) {
	for _, durability := range []string{"interval", "sync"} {
		t.Run(durability, func(t *testing.T) {
			fsDir := testfs.Tmpfs(t, 64<<20)
			p := inproc.Start(t, "-data-dir", fsDir+"/data", "-durability", durability)
			c := p.Client()
			createStream(t, c, "full", 2)
			w := newWriter(t, c, "full")
			for range 10 {
				if err := w.put(4096); err != nil {
					t.Fatalf("put before the disk is full: %v", err)
				}
			}
			before := errorLines(p)
			filler := testfs.Fill(t, fsDir)
			for i := range 50 {
				wantRetriable(t, fmt.Sprintf("PutRecord %d to a full disk", i), w.put(4096))
			}
			if failed := w.putRecords(20); failed != 20 {
				t.Errorf("PutRecords to a full disk: %d of 20 failed, want all", failed)
			}
			if n := errorLines(p) - before; n > maxErrorLines {
				t.Errorf("%d ERROR lines for 51 refused writes, want at most %d", n, maxErrorLines)
			}
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			w.resume("the filler file was deleted")
			if failed := w.putRecords(20); failed != 0 {
				t.Errorf("PutRecords after space was freed: %d of 20 failed", failed)
			}
			w.checkAcked()
		})
	}
}

// TestMaxStoreBytes caps the store at 4 MiB with -max-store-bytes, on
// disk and in memory, fills it, and checks that writes fail fast with
// InternalFailure and work again once a stream is deleted, without a
// restart.
func TestMaxStoreBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"disk", []string{"-data-dir", t.TempDir()}},
		{"memory", []string{"-in-memory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := inproc.Start(t, append(tc.flags, "-max-store-bytes", fmt.Sprint(4<<20))...)
			c := p.Client()
			createStream(t, c, "filler", 1)
			createStream(t, c, "kept", 1)
			fill := newWriter(t, c, "filler")
			var err error
			for _, size := range []int{512 << 10, 1024} { // fill, then top up
				err = nil
				for i := 0; i < 1000 && err == nil; i++ {
					err = fill.put(size)
				}
				wantRetriable(t, "PutRecord past -max-store-bytes", err)
			}
			kept := newWriter(t, c, "kept")
			before := errorLines(p)
			for i := range 50 {
				wantRetriable(t, fmt.Sprintf("PutRecord %d past -max-store-bytes", i), kept.put(1024))
			}
			if n := errorLines(p) - before; n > maxErrorLines {
				t.Errorf("%d ERROR lines for 50 refused writes, want at most %d", n, maxErrorLines)
			}
			fill.checkAcked()
			ctx := testserver.Context(t, callTimeout)
			if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("filler")}); err != nil {
				t.Fatal(err)
			}
			kept.resume("a stream was deleted")
			kept.checkAcked()
		})
	}
}
