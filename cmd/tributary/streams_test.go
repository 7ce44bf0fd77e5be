package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"

	"github.com/tributary-data/tributary/internal/syncbuf"
)

// streamsEnv points the streams CLI at endpoint with no AWS
// configuration at all, as on a fresh machine: no credentials (so the
// dummy ones are used), no region (so us-east-1).
func streamsEnv(t *testing.T, endpoint string) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TRIBUTARY_ENDPOINT", endpoint)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
}

// streams runs "tributary streams args..." with stdin and returns its
// stdout, failing the test on an error.
func streams(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := streamsCommand(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr); err != nil {
		t.Fatalf("streams %q: %v\nstderr: %s", args, err, stderr.String())
	}
	return stdout.String()
}

var seqRE = regexp.MustCompile(`^shardId-\d{12}\t\d{56}$`)

// putLines checks put's output: one SHARD<TAB>SEQUENCE line per record.
func putLines(t *testing.T, out string, n int) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("put printed %d lines, want %d:\n%s", len(lines), n, out)
	}
	for _, l := range lines {
		if !seqRE.MatchString(l) {
			t.Errorf("put line %q is not SHARD<TAB>SEQUENCE-NUMBER", l)
		}
	}
	return lines
}

func TestStreamsCLI(t *testing.T) {
	// CREATING lasts a moment, so that create has to wait for ACTIVE.
	srv := inproc.Start(t, "-create-stream-delay", "300ms")
	streamsEnv(t, srv.Endpoint)

	if out := streams(t, "", "list"); out != "" {
		t.Errorf("list of no streams = %q", out)
	}
	if out := streams(t, "", "list", "-v"); out != "No streams.\n" {
		t.Errorf("list -v of no streams = %q", out)
	}
	if out := streams(t, "", "create", "orders", "--shards", "2"); out != "Created stream orders (PROVISIONED, 2 open shards): ACTIVE\n" {
		t.Errorf("create = %q", out)
	}
	if out := streams(t, "", "create", "-on-demand", "clicks"); out != "Created stream clicks (ON_DEMAND, 4 open shards): ACTIVE\n" {
		t.Errorf("create -on-demand = %q", out)
	}
	if out := streams(t, "", "create", "one"); out != "Created stream one (PROVISIONED, 1 open shards): ACTIVE\n" {
		t.Errorf("create with the default shard count = %q", out)
	}
	if out := streams(t, "", "list"); out != "clicks\none\norders\n" {
		t.Errorf("list = %q", out)
	}
	wantList := "NAME    STATUS  MODE         SHARDS\n" +
		"clicks  ACTIVE  ON_DEMAND    4\n" +
		"one     ACTIVE  PROVISIONED  1\n" +
		"orders  ACTIVE  PROVISIONED  2\n"
	if out := streams(t, "", "list", "-v"); out != wantList {
		t.Errorf("list -v:\n%s\nwant:\n%s", out, wantList)
	}

	out := streams(t, "", "describe", "orders")
	wantDescribe := "Name:         orders\n" +
		"ARN:          arn:aws:kinesis:us-east-1:000000000000:stream/orders\n" +
		"Status:       ACTIVE\n" +
		"Mode:         PROVISIONED\n" +
		"Open shards:  2\n" +
		"Retention:    24 hours\n" +
		"Encryption:   NONE\n" +
		"Created:      CREATED\n" +
		"\n" +
		"SHARD                 STATE  PARENTS  HASH KEY RANGE\n" +
		"shardId-000000000000  open   -        0-170141183460469231731687303715884105727\n" +
		"shardId-000000000001  open   -        170141183460469231731687303715884105728-340282366920938463463374607431768211455\n"
	created := regexp.MustCompile(`(?m)^(Created: +)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	if got := created.ReplaceAllString(out, "${1}CREATED"); got != wantDescribe {
		t.Errorf("describe:\n%s\nwant:\n%s", out, wantDescribe)
	}

	// put: an argument, stdin lines with -k, stdin lines KEY<TAB>DATA
	// (empty lines skipped, the last line without a newline), and
	// without any key.
	one := putLines(t, streams(t, "", "put", "orders", "-k", "customer-1", `{"id":1}`), 1)[0]
	putLines(t, streams(t, "line a\nline b\n", "put", "orders", "--key", "k2"), 2)
	putLines(t, streams(t, "k3\tv3\n\nk4\tv4 with\ttab", "put", "--key-sep", `\t`, "orders"), 2)
	putLines(t, streams(t, "", "put", "orders", "--", "-dash data"), 1)
	putLines(t, streams(t, "", "put", "one", "\xff\xfebinary"), 1)
	// customer-1 lands on shard 1 (MD5 routing); the records of one key
	// come back in order, whatever the order between shards.
	if !strings.HasPrefix(one, "shardId-000000000001\t") {
		t.Errorf("customer-1's record went to %q", one)
	}

	text := streams(t, "", "tail", "orders")
	got := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	byKey := map[string][]string{}
	for _, l := range got {
		k, d, ok := strings.Cut(l, "\t")
		if !ok {
			t.Fatalf("tail line %q is not KEY<TAB>DATA", l)
		}
		byKey[k] = append(byKey[k], d)
	}
	if len(got) != 6 || !slices.Equal(byKey["customer-1"], []string{`{"id":1}`}) || !slices.Equal(byKey["k2"], []string{"line a", "line b"}) ||
		!slices.Equal(byKey["k3"], []string{"v3"}) || !slices.Equal(byKey["k4"], []string{"v4 with\ttab"}) {
		t.Errorf("tail orders:\n%s", text)
	}
	if n := len(byKey["customer-1"]) + len(byKey["k2"]) + len(byKey["k3"]) + len(byKey["k4"]); n != 5 {
		t.Errorf("tail orders: a record with a random key is missing or doubled:\n%s", text)
	}

	var recs []tailRecord
	for _, l := range strings.Split(strings.TrimSuffix(streams(t, "", "tail", "-o", "json", "one"), "\n"), "\n") {
		var r tailRecord
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("tail -o json line %q: %v", l, err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 1 {
		t.Fatalf("tail -o json one: %d records, want 1", len(recs))
	}
	r := recs[0]
	if r.Stream != "one" || r.Shard != "shardId-000000000000" || len(r.SequenceNumber) != 56 || len(r.PartitionKey) != 36 ||
		r.DataEncoding != "base64" || r.Data != base64.StdEncoding.EncodeToString([]byte("\xff\xfebinary")) {
		t.Errorf("tail -o json of binary data: %+v", r)
	}
	if at, err := time.Parse(time.RFC3339, r.ApproximateArrivalTimestamp); err != nil || time.Since(at) > time.Hour || !strings.HasSuffix(r.ApproximateArrivalTimestamp, "Z") {
		t.Errorf("approximateArrivalTimestamp %q: %v", r.ApproximateArrivalTimestamp, err)
	}
	jsonOut := streams(t, "", "tail", "orders", "--output", "json")
	for _, want := range []string{`"partitionKey":"customer-1","approximateArrivalTimestamp":"`, `"data":"{\"id\":1}","dataEncoding":"utf-8"}`,
		`"shard":"shardId-000000000001","sequenceNumber":"` + strings.TrimPrefix(one, "shardId-000000000001\t") + `"`} {
		if !strings.Contains(jsonOut, want) {
			t.Errorf("tail -o json orders lacks %s:\n%s", want, jsonOut)
		}
	}

	// -from latest prints nothing already there; -from at-timestamp now
	// neither, and one in the past everything.
	if out := streams(t, "", "tail", "orders", "-from", "latest"); out != "" {
		t.Errorf("tail -from latest = %q", out)
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if out := streams(t, "", "tail", "orders", "-from", "at-timestamp", "-timestamp", now); out != "" {
		t.Errorf("tail -from at-timestamp %s = %q", now, out)
	}
	past := fmt.Sprint(time.Now().Add(-time.Hour).Unix())
	if out := streams(t, "", "tail", "orders", "-from", "at-timestamp", "-timestamp", past); out != text {
		t.Errorf("tail -from at-timestamp %s:\n%s\nwant:\n%s", past, out, text)
	}
}

// TestStreamsCLIExitCodes runs the commands as main does: usage errors
// exit 2, errors AWS returns exit 1 with AWS's message.
func TestStreamsCLIExitCodes(t *testing.T) {
	srv := inproc.Start(t)
	streamsEnv(t, srv.Endpoint)
	streams(t, "", "create", "s")
	cases := []struct {
		args   []string
		code   int
		stderr string // exact, or with a prefix "~" a substring
	}{
		{[]string{"describe", "nope"}, 1, "tributary: error: Stream nope under account 000000000000 not found. (ResourceNotFoundException)\n"},
		{[]string{"tail", "nope"}, 1, "tributary: error: Stream nope under account 000000000000 not found. (ResourceNotFoundException)\n"},
		{[]string{"put", "nope", "x"}, 1, "tributary: error: Stream nope under account 000000000000 not found. (ResourceNotFoundException)\n"},
		{[]string{"create", "s"}, 1, "tributary: error: Stream s under account 000000000000 already exists. (ResourceInUseException)\n"},
		{[]string{"put", "s", "-k", strings.Repeat("k", 257), "x"}, 1, "~(ValidationException)\n"},
		{[]string{"describe", "s", "-endpoint", "http://127.0.0.1:1"}, 1, "~tributary: calling the Kinesis API at http://127.0.0.1:1: "},
		{[]string{}, 2, "~tributary: streams: missing command\n"},
		{[]string{"explode"}, 2, "~tributary: streams: unknown command \"explode\"\n"},
		{[]string{"describe"}, 2, "tributary: streams describe: missing stream name\n"},
		{[]string{"describe", "a", "b"}, 2, "tributary: streams describe: unexpected argument \"b\"\n"},
		{[]string{"list", "x"}, 2, "tributary: streams list: unexpected argument \"x\"\n"},
		{[]string{"put", "s", "x", "y"}, 2, "tributary: streams put: unexpected argument \"y\"\n"},
		{[]string{"create", "s", "-shards", "2", "-on-demand"}, 2, "tributary: streams create: -shards and -on-demand do not go together: an on-demand stream scales its shards itself\n"},
		{[]string{"create", "s", "-shards", "-1"}, 2, "tributary: streams create: -shards -1: a stream needs at least one shard\n"},
		{[]string{"create", "s", "-shards", "two"}, 2, "~tributary: streams create: invalid value \"two\" for flag -shards: parse error\n"},
		{[]string{"put", "s", "-k", "a", "-key-sep", ","}, 2, "tributary: streams put: -k and -key-sep do not go together: the key comes from one or the other\n"},
		{[]string{"put", "s", "-key-sep", ",", "a,b"}, 2, "tributary: streams put: -key-sep splits lines of stdin; with DATA as an argument give the key with -k\n"},
		{[]string{"tail", "s", "-o", "yaml"}, 2, "tributary: streams tail: -o \"yaml\": the output format is text or json\n"},
		{[]string{"tail", "s", "-from", "start"}, 2, "tributary: streams tail: -from \"start\": start at trim-horizon, latest or at-timestamp\n"},
		{[]string{"tail", "s", "-from", "at-timestamp"}, 2, "tributary: streams tail: -from at-timestamp needs -timestamp\n"},
		{[]string{"tail", "s", "-from", "at-timestamp", "-timestamp", "yesterday"}, 2, "tributary: streams tail: -timestamp \"yesterday\" is neither RFC 3339 (2006-01-02T15:04:05Z) nor Unix seconds\n"},
		{[]string{"tail", "s", "-timestamp", "1700000000"}, 2, "tributary: streams tail: -timestamp goes with -from at-timestamp\n"},
		{[]string{"list", "-bogus"}, 2, "~tributary: streams list: flag provided but not defined: -bogus\n"},
		{[]string{"list", "-endpoint", "127.0.0.1:4567"}, 2, "tributary: streams list: -endpoint: \"127.0.0.1:4567\" is not an http:// or https:// URL, or \"aws\"\n"},
		{[]string{"help"}, 0, ""},
		{[]string{"tail", "-h"}, 0, "~-follow"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"streams"}, tc.args...), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if want, ok := strings.CutPrefix(tc.stderr, "~"); ok {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q lacks %q", stderr.String(), want)
				}
			} else if stderr.String() != tc.stderr {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.stderr)
			}
		})
	}
	// put stops at the first record that fails, naming its line; the
	// lines before it are written.
	var stdout bytes.Buffer
	err := streamsCommand(context.Background(), []string{"put", "s", "-key-sep", ","}, strings.NewReader("a,1\nno separator\nc,3\n"), &stdout, io.Discard)
	if err == nil || err.Error() != `line 2: no key separator ","` {
		t.Errorf("put with a line without separator: %v", err)
	}
	putLines(t, stdout.String(), 1)
	// A line that cannot be sent names its line and the endpoint, once.
	err = streamsCommand(context.Background(), []string{"put", "s", "-endpoint", "http://127.0.0.1:1"}, strings.NewReader("a\n"), io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "line 1: calling the Kinesis API at http://127.0.0.1:1: ") ||
		strings.Count(err.Error(), "calling the Kinesis API") != 1 {
		t.Errorf("put to an endpoint that refuses connections: %v", err)
	}
	if out := streams(t, "", "tail", "s"); out != "a\t1\n" {
		t.Errorf("tail after a failed put = %q", out)
	}
	var help bytes.Buffer
	if code := run(context.Background(), []string{"streams", "help"}, &help, io.Discard); code != 0 || !strings.Contains(help.String(), "tributary streams <command>") {
		t.Errorf("streams help: %d\n%s", code, help.String())
	}
	if err := streamsCommand(context.Background(), []string{"tail", "-h"}, nil, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("tail -h: %v", err)
	}
}

// tailLines splits tail's text output into KEY<TAB>DATA pairs' data.
func tailData(t *testing.T, out string) []string {
	t.Helper()
	var data []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		_, d, ok := strings.Cut(l, "\t")
		if !ok {
			t.Fatalf("tail line %q is not KEY<TAB>DATA", l)
		}
		data = append(data, d)
	}
	return data
}

// putN writes records "<prefix>-0".. "<prefix>-<n-1>" with keys spread
// over the hash key space.
func putN(t *testing.T, c *kinesis.Client, stream, prefix string, n int) []string {
	t.Helper()
	var want []string
	for i := range n {
		d := fmt.Sprintf("%s-%d", prefix, i)
		if _, err := c.PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String(stream),
			PartitionKey: aws.String(fmt.Sprint("key-", i)), Data: []byte(d)}); err != nil {
			t.Fatal(err)
		}
		want = append(want, d)
	}
	return want
}

// split splits the stream's first shard in the middle and waits until
// the stream is ACTIVE again.
func split(t *testing.T, c *kinesis.Client, stream string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(stream), ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
		t.Fatal(err)
	}
	testserver.WaitUntil(t, "the stream to be ACTIVE after SplitShard", 30*time.Second, func() bool {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})
}

// checkOnceInOrder checks that got holds each of before and after exactly
// once, every one of before ahead of every one of after.
func checkOnceInOrder(t *testing.T, got, before, after []string) {
	t.Helper()
	want := append(slices.Clone(before), after...)
	if len(got) != len(want) {
		t.Errorf("tail printed %d records, want %d: %q", len(got), len(want), got)
	}
	seen := map[string]int{}
	for _, d := range got {
		seen[d]++
	}
	for _, d := range want {
		if seen[d] != 1 {
			t.Errorf("record %s printed %d times", d, seen[d])
		}
	}
	lastBefore, firstAfter := -1, len(got)
	for i, d := range got {
		if slices.Contains(before, d) {
			lastBefore = i
		} else if firstAfter == len(got) {
			firstAfter = i
		}
	}
	if lastBefore > firstAfter {
		t.Errorf("a parent's record (of before) printed after a child's (of after): %q", got)
	}
}

func TestStreamsTailAcrossSplit(t *testing.T) {
	srv := inproc.Start(t)
	streamsEnv(t, srv.Endpoint)
	c := srv.Client()
	streams(t, "", "create", "s", "-shards", "1")
	before := putN(t, c, "s", "before", 20)
	split(t, c, "s")
	after := putN(t, c, "s", "after", 20)

	checkOnceInOrder(t, tailData(t, streams(t, "", "tail", "s")), before, after)
	// One record a read: the parent takes 20 reads, and a child read
	// meanwhile would show.
	proxy := startOneRecordProxy(t, srv.Endpoint, func(int) (string, string) { return "", "" })
	checkOnceInOrder(t, tailData(t, streams(t, "", "tail", "-endpoint", proxy.url, "s")), before, after)

	var shards []string
	for _, l := range strings.Split(strings.TrimSuffix(streams(t, "", "tail", "s", "-o", "json"), "\n"), "\n") {
		var r tailRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		want := "shardId-000000000000"
		if strings.HasPrefix(r.Data, "after-") {
			want = "shardId-000000000001 or 2"
			if r.Shard == "shardId-000000000001" || r.Shard == "shardId-000000000002" {
				want = r.Shard
			}
		}
		if r.Shard != want {
			t.Errorf("record %s came from %s, want %s", r.Data, r.Shard, want)
		}
		shards = append(shards, r.Shard)
	}
	if !slices.Contains(shards, "shardId-000000000001") || !slices.Contains(shards, "shardId-000000000002") {
		t.Errorf("the records after the split are not on both children: %q", shards)
	}
	// -from latest starts at the open shards: the children.
	if out := streams(t, "", "tail", "s", "-from", "latest"); out != "" {
		t.Errorf("tail -from latest = %q", out)
	}
	out := streams(t, "", "describe", "s")
	for _, want := range []string{
		"shardId-000000000000  closed  -                     0-340282366920938463463374607431768211455\n",
		"shardId-000000000001  open    shardId-000000000000  0-170141183460469231731687303715884105727\n",
		"shardId-000000000002  open    shardId-000000000000  170141183460469231731687303715884105728-340282366920938463463374607431768211455\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe after the split lacks %q:\n%s", want, out)
		}
	}

	// Merge the children back: their child starts once both have ended.
	if _, err := c.MergeShards(context.Background(), &kinesis.MergeShardsInput{StreamName: aws.String("s"),
		ShardToMerge: aws.String("shardId-000000000001"), AdjacentShardToMerge: aws.String("shardId-000000000002")}); err != nil {
		t.Fatal(err)
	}
	testserver.WaitUntil(t, "the stream to be ACTIVE after MergeShards", 30*time.Second, func() bool {
		out, err := c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})
	merged := putN(t, c, "s", "merged", 10)
	got := tailData(t, streams(t, "", "tail", "-endpoint", proxy.url, "s"))
	checkOnceInOrder(t, got, append(slices.Clone(before), after...), merged)
	if len(got) >= len(before) {
		checkOnceInOrder(t, got[:len(before)], before, nil)
	}
	if !strings.Contains(streams(t, "", "describe", "s"), "shardId-000000000003  open    shardId-000000000001,shardId-000000000002  0-340282366920938463463374607431768211455\n") {
		t.Errorf("describe after the merge:\n%s", streams(t, "", "describe", "s"))
	}
}

// TestStreamsTailFollow follows a stream while it is written to and
// split, then is interrupted.
func TestStreamsTailFollow(t *testing.T) {
	srv := inproc.Start(t)
	streamsEnv(t, srv.Endpoint)
	c := srv.Client()
	streams(t, "", "create", "s", "-shards", "1")
	before := putN(t, c, "s", "before", 5)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- streamsCommand(ctx, []string{"tail", "-f", "s"}, nil, &out, io.Discard) }()
	printed := func(n int) func() bool {
		return func() bool { return strings.Count(out.String(), "\n") >= n }
	}
	testserver.WaitUntil(t, "tail -f to print the records written before it started", 30*time.Second, printed(5))
	more := putN(t, c, "s", "more", 5)
	split(t, c, "s")
	after := putN(t, c, "s", "after", 10)
	testserver.WaitUntil(t, "tail -f to print the records written while it ran", 30*time.Second, printed(20))
	cancel()
	if err := <-done; err != nil {
		t.Errorf("tail -f ended with %v, want nil when interrupted", err)
	}
	checkOnceInOrder(t, tailData(t, out.String()), append(before, more...), after)
}

// TestStreamsTailRetries puts a proxy between tail and the server that
// makes each GetRecords return one record, then expires an iterator and
// throttles reads: tail renews the iterator after the last record it
// printed and backs off, printing every record once, in order.
func TestStreamsTailRetries(t *testing.T) {
	srv := inproc.Start(t)
	streamsEnv(t, srv.Endpoint)
	c := srv.Client()
	streams(t, "", "create", "s")
	want := putN(t, c, "s", "r", 5)

	proxy := startOneRecordProxy(t, srv.Endpoint, func(read int) (string, string) {
		switch read {
		case 2:
			return "ExpiredIteratorException", "Iterator expired. The iterator was created at time Mon Dec 07 20:00:00 UTC 2026 while right now it is Mon Dec 07 20:06:00 UTC 2026 which is further in the future than the tolerated delay of 300000 milliseconds."
		case 4, 5, 6:
			return "ProvisionedThroughputExceededException", "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000."
		}
		return "", ""
	})

	var stdout bytes.Buffer
	noRetries := func(o *kinesis.Options) { o.RetryMaxAttempts = 1 }
	if err := streamsCommand(context.Background(), []string{"tail", "-endpoint", proxy.url, "s"}, nil, &stdout, io.Discard, noRetries); err != nil {
		t.Fatal(err)
	}
	if got := tailData(t, stdout.String()); !slices.Equal(got, want) {
		t.Errorf("tail through the proxy printed %q, want %q", got, want)
	}
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	if !slices.Equal(proxy.iteratorTypes, []string{"TRIM_HORIZON", "AFTER_SEQUENCE_NUMBER"}) {
		t.Errorf("iterator types requested: %q, want TRIM_HORIZON then AFTER_SEQUENCE_NUMBER after the expiry", proxy.iteratorTypes)
	}
	if proxy.reads < 4+len(want) {
		t.Errorf("only %d GetRecords calls; the injected errors were not all met", proxy.reads)
	}
}

// oneRecordProxy stands between a client and the server: it makes every
// GetRecords return at most one record, and can answer a GetRecords
// with an AWS error instead.
type oneRecordProxy struct {
	url           string
	mu            sync.Mutex
	reads         int      // GetRecords calls seen
	iteratorTypes []string // of the GetShardIterator calls seen
}

// startOneRecordProxy starts a oneRecordProxy for endpoint. fail, given
// the number of a GetRecords call (from 1), returns the AWS error name
// and message to answer it with, or "" to pass it on.
func startOneRecordProxy(t *testing.T, endpoint string, fail func(read int) (string, string)) *oneRecordProxy {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	p := &oneRecordProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(500)
			return
		}
		var req map[string]any
		_ = json.Unmarshal(body, &req)
		p.mu.Lock()
		switch strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "Kinesis_20131202.") {
		case "GetShardIterator":
			p.iteratorTypes = append(p.iteratorTypes, fmt.Sprint(req["ShardIteratorType"]))
		case "GetRecords":
			p.reads++
			if name, msg := fail(p.reads); name != "" {
				p.mu.Unlock()
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.WriteHeader(400)
				fmt.Fprintf(w, `{"__type":%q,"message":%q}`, name, msg)
				return
			}
			req["Limit"] = 1
			body, _ = json.Marshal(req) // unsigned now: the server does not check signatures
		}
		p.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}
