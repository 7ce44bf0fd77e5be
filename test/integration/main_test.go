// Package integration drives a real Tributary server over HTTP, through
// aws-sdk-go-v2 and through plain net/http, and pins the behaviour Kinesis
// clients see: responses, errors and their exact wording. The servers run
// in the test process (inproc.Start), so that -race and -cover see the
// server's request paths; the few that run as processes say why.
package integration

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// shared is the server most tests use. Each test works on streams (or
// accounts) of its own, so the tests can run in parallel against it.
var shared *testserver.Proc

// defaultAccount is the account of requests whose access key is not a
// 12-digit number (the SDK clients below use "test"), and of unsigned
// raw requests.
const defaultAccount = "000000000000"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) (code int) {
	// The binary a test that needs a server process built (deferred
	// first, so removed after the servers' cleanups).
	defer testserver.RemoveBinary()
	tb := &mainTB{}
	defer tb.cleanup()
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(mainFatal); !ok {
				panic(r)
			}
			code = 1
		}
	}()
	shared = inproc.Start(tb)
	code = m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "shared server log:\n%s", shared.Log())
	}
	return code
}

// mainTB lets TestMain start the shared server through testserver, which
// wants a testing.TB: it implements the methods testserver calls and runs
// the cleanups after all tests. Any other method would panic, which is
// what we want to notice.
type mainTB struct {
	testing.TB
	cleanups []func()
	failed   bool
}

type mainFatal struct{}

func (t *mainTB) Helper()                           {}
func (t *mainTB) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *mainTB) Failed() bool                      { return t.failed }
func (t *mainTB) Logf(format string, args ...any)   { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (t *mainTB) Errorf(format string, args ...any) { t.failed = true; t.Logf(format, args...) }
func (t *mainTB) Fatal(args ...any) {
	t.failed = true
	fmt.Fprintln(os.Stderr, args...)
	panic(mainFatal{})
}
func (t *mainTB) Fatalf(format string, args ...any) {
	t.failed = true
	t.Logf(format, args...)
	panic(mainFatal{})
}
func (t *mainTB) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// client returns an SDK client for the shared server.
func client(optFns ...func(*kinesis.Options)) *kinesis.Client {
	return shared.Client(optFns...)
}

func ctxFor(t *testing.T) context.Context {
	return testserver.Context(t, 60*time.Second)
}

var nameSeq atomic.Int64

var nameUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// streamName returns a stream name no other test uses.
func streamName(t *testing.T, suffix ...string) string {
	n := nameUnsafe.ReplaceAllString(strings.TrimPrefix(t.Name(), "Test"), ".")
	if len(n) > 80 {
		n = n[:80]
	}
	s := fmt.Sprintf("%s-%d", n, nameSeq.Add(1))
	for _, x := range suffix {
		s += "-" + x
	}
	return s
}

// uniqueAccount returns a 12-digit account id no other test uses, so a test
// can count streams and shards without seeing anyone else's.
func uniqueAccount() string {
	return fmt.Sprintf("7%011d", nameSeq.Add(1))
}

func arnOf(region, account, name string) string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", region, account, name)
}

// createStream creates a provisioned stream and waits until it is ACTIVE.
func createStream(t *testing.T, c *kinesis.Client, name string, shards int32) {
	t.Helper()
	ctx := ctxFor(t)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatalf("CreateStream %s: %v", name, err)
	}
	waitStatus(t, c, name, "ACTIVE")
}

// waitStatus polls DescribeStreamSummary until the stream reaches status.
func waitStatus(t *testing.T, c *kinesis.Client, name string, status types.StreamStatus) {
	t.Helper()
	ctx := ctxFor(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeStreamSummary %s: %v", name, err)
		}
		if out.StreamDescriptionSummary.StreamStatus == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s still %s, want %s", name, out.StreamDescriptionSummary.StreamStatus, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// poll calls f until it returns true or the deadline passes.
func poll(t *testing.T, what string, d time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// wantAPIError fails unless err is an API error with the given code and,
// when msg is not empty, exactly that message.
func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s: %s", code, msg)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v (%T), want API error %s", err, err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("%s message\n got: %s\nwant: %s", code, ae.ErrorMessage(), msg)
	}
}

// rawCall sends one unsigned AWS JSON 1.1 request (default account and
// region) and returns the response status and body.
func rawCall(t *testing.T, endpoint, action, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+action)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// rawErr sends a raw request to the shared server and returns its error as
// a smithy.APIError, or nil on success. It reaches server-side checks the
// SDK's own required-member validation would stop before sending.
func rawErr(t *testing.T, action, body string) error {
	t.Helper()
	status, _, b := rawCall(t, shared.Endpoint, action, body)
	if status == http.StatusOK {
		return nil
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
		Cap     string `json:"Message"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s: status %d, body %q: %v", action, status, b, err)
	}
	if e.Message == "" {
		e.Message = e.Cap
	}
	return &smithy.GenericAPIError{Code: e.Type, Message: e.Message}
}

// shardRange is a shard's hash-key range as ListShards reports it.
type shardRange struct {
	id         string
	start, end *big.Int
}

func listShardRanges(t *testing.T, c *kinesis.Client, name string) []shardRange {
	t.Helper()
	out, err := c.ListShards(ctxFor(t), &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var rs []shardRange
	for _, s := range out.Shards {
		start, _ := new(big.Int).SetString(*s.HashKeyRange.StartingHashKey, 10)
		end, _ := new(big.Int).SetString(*s.HashKeyRange.EndingHashKey, 10)
		rs = append(rs, shardRange{*s.ShardId, start, end})
	}
	return rs
}

// hashOf is the MD5 of a partition key as a big-endian 128-bit integer.
func hashOf(pk string) *big.Int {
	sum := md5.Sum([]byte(pk))
	return new(big.Int).SetBytes(sum[:])
}

// owner returns the shard whose range holds hash key k.
func owner(t *testing.T, rs []shardRange, k *big.Int) string {
	t.Helper()
	for _, r := range rs {
		if r.start.Cmp(k) <= 0 && k.Cmp(r.end) <= 0 {
			return r.id
		}
	}
	t.Fatalf("no shard owns hash key %s", k)
	return ""
}

// iterator gets a shard iterator.
func iterator(t *testing.T, c *kinesis.Client, in *kinesis.GetShardIteratorInput) string {
	t.Helper()
	out, err := c.GetShardIterator(ctxFor(t), in)
	if err != nil {
		t.Fatalf("GetShardIterator %s: %v", in.ShardIteratorType, err)
	}
	return *out.ShardIterator
}

// readAll follows an iterator until a page comes back empty and returns
// every record read.
func readAll(t *testing.T, c *kinesis.Client, it string) []types.Record {
	t.Helper()
	var recs []types.Record
	for i := 0; i < 1000; i++ {
		out, err := c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		recs = append(recs, out.Records...)
		if len(out.Records) == 0 || out.NextShardIterator == nil {
			return recs
		}
		it = *out.NextShardIterator
	}
	t.Fatal("GetRecords never reached the end of the shard")
	return nil
}

func dataOf(recs []types.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Data)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
