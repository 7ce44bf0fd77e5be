package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/tributary-data/tributary/internal/backoff"
)

// tailOptions say where tail starts, whether it follows and how it prints.
type tailOptions struct {
	from   types.ShardIteratorType // TRIM_HORIZON, LATEST or AT_TIMESTAMP
	at     time.Time               // for AT_TIMESTAMP
	follow bool
	json   bool
}

func (f *streamsFlags) tailOptions() (tailOptions, error) {
	o := tailOptions{follow: f.follow, json: f.output == "json"}
	switch f.from {
	case "trim-horizon":
		o.from = types.ShardIteratorTypeTrimHorizon
	case "latest":
		o.from = types.ShardIteratorTypeLatest
	case "at-timestamp":
		o.from = types.ShardIteratorTypeAtTimestamp
		if f.timestamp == "" {
			return o, errors.New("-from at-timestamp needs -timestamp")
		}
		t, err := parseTimestamp(f.timestamp)
		if err != nil {
			return o, err
		}
		o.at = t
	default:
		return o, fmt.Errorf("-from %q: start at trim-horizon, latest or at-timestamp", f.from)
	}
	if f.timestamp != "" && o.from != types.ShardIteratorTypeAtTimestamp {
		return o, errors.New("-timestamp goes with -from at-timestamp")
	}
	return o, nil
}

// parseTimestamp reads RFC 3339 or Unix seconds (with a fraction), the
// two forms the AWS CLI takes.
func parseTimestamp(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("-timestamp %q is neither RFC 3339 (2006-01-02T15:04:05Z) nor Unix seconds", s)
}

// tailShard is one shard being read.
type tailShard struct {
	id       string
	typ      types.ShardIteratorType // where the shard's reading started
	iter     *string
	lastSeq  string // of the last record printed; where to resume after an expired iterator
	caughtUp bool   // the last read reached the shard's tip
}

// tailer reads every shard of a stream, parents before children.
type tailer struct {
	c       *streamsClient
	stream  string
	opts    tailOptions
	out     *bufio.Writer
	active  []*tailShard
	known   map[string]bool // shards listed at the start
	ended   map[string]bool // shards read to their end
	started map[string]bool // shards ever read
}

// tail prints the stream's records. It starts at the shards that have
// no listed parent (with -from latest: at the open shards), reads each
// closed shard to its end and then starts its children once all their
// parents have ended, so each record is printed once and a parent's
// records come before its children's. Without follow it returns once
// every shard being read has caught up; with follow, when ctx ends.
// Expired iterators are renewed after the last record printed, and
// throttled reads are retried with a backoff.
func (c *streamsClient) tail(ctx context.Context, stream string, opts tailOptions, stdout io.Writer) error {
	shards, err := c.listShards(ctx, stream)
	if err != nil {
		return err
	}
	t := &tailer{c: c, stream: stream, opts: opts, out: bufio.NewWriter(stdout),
		known: map[string]bool{}, ended: map[string]bool{}, started: map[string]bool{}}
	for _, s := range shards {
		t.known[aws.ToString(s.ShardId)] = true
	}
	for _, s := range shards {
		if t.isStart(s) {
			if err := t.start(ctx, aws.ToString(s.ShardId), opts.from); err != nil {
				return err
			}
		}
	}
	err = t.run(ctx)
	if ferr := t.out.Flush(); err == nil {
		err = ferr
	}
	if opts.follow && errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil // interrupted: the way -f ends
	}
	return err
}

// isStart reports whether tail starts reading at shard s.
func (t *tailer) isStart(s types.Shard) bool {
	if t.opts.from == types.ShardIteratorTypeLatest {
		return s.SequenceNumberRange == nil || s.SequenceNumberRange.EndingSequenceNumber == nil
	}
	for _, p := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
		if p != nil && t.known[*p] {
			return false
		}
	}
	return true
}

// start gets an iterator for a shard and adds it to those being read.
func (t *tailer) start(ctx context.Context, id string, typ types.ShardIteratorType) error {
	t.started[id] = true
	s := &tailShard{id: id, typ: typ}
	if err := t.iterator(ctx, s); err != nil {
		return err
	}
	t.active = append(t.active, s)
	return nil
}

// iterator sets s.iter: after s.lastSeq if a record has been printed,
// else where the shard's reading started.
func (t *tailer) iterator(ctx context.Context, s *tailShard) error {
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(t.stream), ShardId: aws.String(s.id), ShardIteratorType: s.typ}
	switch {
	case s.lastSeq != "":
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.StartingSequenceNumber = aws.String(s.lastSeq)
	case s.typ == types.ShardIteratorTypeAtTimestamp:
		in.Timestamp = aws.Time(t.opts.at)
	}
	pause := newBackoff()
	for {
		out, err := t.c.GetShardIterator(ctx, in)
		if throttled(err) {
			if err := backoff.Sleep(ctx, pause()); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("shard %s: %w", s.id, err)
		}
		s.iter = out.ShardIterator
		return nil
	}
}

// run reads the active shards round-robin until they are all caught up
// (without follow) or ctx ends.
func (t *tailer) run(ctx context.Context) error {
	pause := newBackoff()
	for len(t.active) > 0 {
		got, throttledAny := 0, false
		// A copy: reading a shard to its end replaces it by its children.
		for _, s := range slices.Clone(t.active) {
			if s.caughtUp && !t.opts.follow {
				continue
			}
			n, err := t.read(ctx, s)
			if throttled(err) {
				throttledAny = true
				continue
			}
			if err != nil {
				return err
			}
			got += n
		}
		if err := t.out.Flush(); err != nil {
			return err
		}
		if !t.opts.follow && t.allCaughtUp() {
			return nil
		}
		switch {
		case throttledAny:
			if err := backoff.Sleep(ctx, pause()); err != nil {
				return err
			}
		case got == 0 && t.opts.follow:
			pause = newBackoff()
			if err := backoff.Sleep(ctx, tailPoll); err != nil {
				return err
			}
		default:
			pause = newBackoff()
		}
	}
	return nil
}

func (t *tailer) allCaughtUp() bool {
	for _, s := range t.active {
		if !s.caughtUp {
			return false
		}
	}
	return true
}

// read does one GetRecords on s, prints what it returns and, at the end
// of a closed shard, moves on to the children whose parents have all
// ended. It returns the number of records printed.
func (t *tailer) read(ctx context.Context, s *tailShard) (int, error) {
	out, err := t.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: s.iter})
	var expired *types.ExpiredIteratorException
	if errors.As(err, &expired) {
		return 0, t.iterator(ctx, s)
	}
	if err != nil {
		if throttled(err) {
			return 0, err
		}
		return 0, fmt.Errorf("shard %s: %w", s.id, err)
	}
	for _, r := range out.Records {
		if err := t.print(s.id, r); err != nil {
			return 0, err
		}
		s.lastSeq = aws.ToString(r.SequenceNumber)
	}
	s.iter = out.NextShardIterator
	s.caughtUp = out.MillisBehindLatest != nil && *out.MillisBehindLatest == 0
	if s.iter == nil {
		return len(out.Records), t.end(ctx, s, out.ChildShards)
	}
	return len(out.Records), nil
}

// end retires a shard read to its end and starts those of its children
// whose parents have all ended (a parent no longer listed counts as
// ended: its records are past retention).
func (t *tailer) end(ctx context.Context, s *tailShard, children []types.ChildShard) error {
	t.ended[s.id] = true
	for i, a := range t.active {
		if a == s {
			t.active = append(t.active[:i], t.active[i+1:]...)
			break
		}
	}
	typ := types.ShardIteratorTypeTrimHorizon
	if t.opts.from == types.ShardIteratorTypeAtTimestamp {
		typ = types.ShardIteratorTypeAtTimestamp
	}
next:
	for _, ch := range children {
		id := aws.ToString(ch.ShardId)
		if t.started[id] {
			continue
		}
		for _, p := range ch.ParentShards {
			if t.known[p] && !t.ended[p] {
				continue next
			}
		}
		if err := t.start(ctx, id, typ); err != nil {
			return err
		}
	}
	return nil
}

// tailRecord is a record as -o json prints it.
type tailRecord struct {
	Stream         string `json:"stream"`
	Shard          string `json:"shard"`
	SequenceNumber string `json:"sequenceNumber"`
	PartitionKey   string `json:"partitionKey"`
	// ApproximateArrivalTimestamp is RFC 3339 with milliseconds, UTC.
	ApproximateArrivalTimestamp string `json:"approximateArrivalTimestamp"`
	// Data is the record's data as a string when it is valid UTF-8, else
	// base64, as DataEncoding ("utf-8" or "base64") says.
	Data         string `json:"data"`
	DataEncoding string `json:"dataEncoding"`
}

// print writes one record: KEY<TAB>DATA, or a tailRecord as JSON.
func (t *tailer) print(shardID string, r types.Record) error {
	if !t.opts.json {
		_, err := fmt.Fprintf(t.out, "%s\t%s\n", aws.ToString(r.PartitionKey), r.Data)
		return err
	}
	rec := tailRecord{Stream: t.stream, Shard: shardID, SequenceNumber: aws.ToString(r.SequenceNumber),
		PartitionKey: aws.ToString(r.PartitionKey), Data: string(r.Data), DataEncoding: "utf-8"}
	if r.ApproximateArrivalTimestamp != nil {
		rec.ApproximateArrivalTimestamp = r.ApproximateArrivalTimestamp.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	if !utf8.Valid(r.Data) {
		rec.Data, rec.DataEncoding = base64.StdEncoding.EncodeToString(r.Data), "base64"
	}
	enc := json.NewEncoder(t.out)
	enc.SetEscapeHTML(false)
	return enc.Encode(rec)
}

// throttled reports whether err is AWS asking the caller to slow down.
func throttled(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ProvisionedThroughputExceededException", "LimitExceededException", "KMSThrottlingException", "ThrottlingException":
		return true
	}
	return false
}

// newBackoff returns successive waits after throttling: 100 ms, doubling
// up to tailMaxBackoff.
func newBackoff() func() time.Duration {
	d := 50 * time.Millisecond
	return func() time.Duration {
		d = min(2*d, tailMaxBackoff)
		return d
	}
}
