package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/google/uuid"

	"github.com/tributary-data/tributary/internal/sdkclient"

	"github.com/tributary-data/tributary/internal/backoff"
)

const streamsUsage = `Usage: tributary streams <command> [flags] [arguments]

Look at and write Kinesis streams without writing code, on a Tributary server or on AWS.

Commands:
  list [-v]                     stream names, one a line (-v: a table with status, mode
                                and open shards)
  create NAME [-shards N | -on-demand]
                                create a stream (default 1 shard) and wait until it is ACTIVE
  describe NAME                 the stream's summary, then its shards: id, open or closed,
                                parents and hash key range
  put NAME [-k KEY] [DATA]      write DATA as one record, or else each line of stdin as one;
                                prints each record's shard and sequence number. Without -k
                                each record gets a random partition key; with -key-sep SEP
                                each stdin line is KEY SEP DATA (e.g. -key-sep '\t')
  tail NAME [-from trim-horizon|latest|at-timestamp] [-timestamp T] [-f] [-o text|json]
                                print the records of every shard, a parent's before its
                                children's: KEY<TAB>DATA lines, or with -o json one JSON
                                object a line. Stops once every shard is caught up, or with
                                -f (-follow) keeps following until interrupted

Every command takes -endpoint, the Kinesis API's URL (default $TRIBUTARY_ENDPOINT, else
http://127.0.0.1:4567; "aws" for AWS's own endpoint), and -region (default $AWS_REGION or
the AWS config's region, else us-east-1). Credentials come from the usual AWS environment
variables and files; against an endpoint other than AWS, dummy ones are used if there are none.
`

const (
	// defaultStreamsEndpoint is a local Tributary server's Kinesis API.
	defaultStreamsEndpoint = "http://127.0.0.1:4567"
	// awsEndpoint, as -endpoint, leaves the endpoint to the SDK: the
	// region's Kinesis endpoint, or AWS_ENDPOINT_URL_KINESIS and friends.
	awsEndpoint = "aws"
	// streamsRegion is the region signed for when nothing names one; a
	// Tributary server serves it by default.
	streamsRegion = "us-east-1"
	// createWait bounds how long create waits for ACTIVE.
	createWait = 5 * time.Minute
	// tailPoll is how long tail -f waits after a round of reads that
	// found nothing: well within AWS's 5 GetRecords a second per shard.
	tailPoll = 250 * time.Millisecond
	// tailMaxBackoff caps the wait after throttling.
	tailMaxBackoff = 5 * time.Second
)

// defaultEndpoint is where the streams CLI sends requests when -endpoint
// is not given: $TRIBUTARY_ENDPOINT, else a local server.
func defaultEndpoint() string {
	if v := os.Getenv("TRIBUTARY_ENDPOINT"); v != "" {
		return v
	}
	return defaultStreamsEndpoint
}

// streamsFlags are the flags of every streams command; each command
// registers those it takes.
type streamsFlags struct {
	endpoint, region string
	verbose          bool   // list
	shards           int    // create
	onDemand         bool   // create
	key, keySep      string // put
	from, timestamp  string // tail
	follow           bool   // tail
	output           string // tail
}

func (f *streamsFlags) register(fs *flag.FlagSet, sub string) {
	fs.StringVar(&f.endpoint, "endpoint", defaultEndpoint(), "the Kinesis API's `URL`, or \"aws\" for AWS's own endpoint (env TRIBUTARY_ENDPOINT)")
	fs.StringVar(&f.region, "region", "", "`region` to sign requests for (default $AWS_REGION or the AWS config's, else us-east-1)")
	switch sub {
	case "list":
		fs.BoolVar(&f.verbose, "v", false, "a table with each stream's status, mode and open shards")
	case "create":
		fs.IntVar(&f.shards, "shards", 0, "number of shards of a provisioned stream (default 1)")
		fs.BoolVar(&f.onDemand, "on-demand", false, "create an on-demand stream")
	case "put":
		fs.StringVar(&f.key, "k", "", "partition `key` of every record (default: a random key per record)")
		fs.StringVar(&f.key, "key", "", "same as -k")
		fs.StringVar(&f.keySep, "key-sep", "", "each stdin line is KEY `SEP` DATA; '\\t' is a tab")
	case "tail":
		fs.StringVar(&f.from, "from", "trim-horizon", "where to start: trim-horizon, latest or at-timestamp")
		fs.StringVar(&f.timestamp, "timestamp", "", "with -from at-timestamp: RFC 3339 `time` or Unix seconds")
		fs.BoolVar(&f.follow, "f", false, "keep following the stream until interrupted")
		fs.BoolVar(&f.follow, "follow", false, "same as -f")
		fs.StringVar(&f.output, "o", "text", "output `format`: text (KEY<TAB>DATA) or json (one object a line)")
		fs.StringVar(&f.output, "output", "text", "same as -o")
	}
}

// streamsCommand runs "tributary streams <sub> args...". Errors AWS
// reports read "error: <message> (<ErrorCode>)"; a wrong invocation is a
// usageError. optFns adjust the Kinesis client (tests turn retries off).
func streamsCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, optFns ...func(*kinesis.Options)) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	nargs := map[string][2]int{ // least and most positional arguments
		"list": {0, 0}, "create": {1, 1}, "describe": {1, 1}, "put": {1, 2}, "tail": {1, 1},
	}
	switch sub {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, streamsUsage)
		return nil
	case "":
		fmt.Fprint(stderr, streamsUsage)
		return usageError{errors.New("streams: missing command")}
	}
	n, ok := nargs[sub]
	if !ok {
		fmt.Fprint(stderr, streamsUsage)
		return usageError{fmt.Errorf("streams: unknown command %q", sub)}
	}
	fs := flag.NewFlagSet("streams "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f streamsFlags
	f.register(fs, sub)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{fmt.Errorf("streams %s: %w", sub, err)}
	}
	switch {
	case len(pos) < n[0]:
		return usageError{fmt.Errorf("streams %s: missing stream name", sub)}
	case len(pos) > n[1]:
		return usageError{fmt.Errorf("streams %s: unexpected argument %q", sub, pos[n[1]])}
	}
	if err := f.check(sub, pos); err != nil {
		return usageError{fmt.Errorf("streams %s: %w", sub, err)}
	}
	c, err := newStreamsClient(ctx, f.endpoint, f.region, optFns...)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		err = c.list(ctx, f.verbose, stdout)
	case "create":
		err = c.create(ctx, pos[0], f.shards, f.onDemand, stdout)
	case "describe":
		err = c.describe(ctx, pos[0], stdout)
	case "put":
		err = c.put(ctx, pos, &f, stdin, stdout)
	case "tail":
		var opts tailOptions
		if opts, err = f.tailOptions(); err != nil {
			return usageError{fmt.Errorf("streams tail: %w", err)}
		}
		err = c.tail(ctx, pos[0], opts, stdout)
	}
	return c.explain(err)
}

// check validates flag combinations that the flag package cannot.
func (f *streamsFlags) check(sub string, pos []string) error {
	if f.endpoint != awsEndpoint {
		u, err := url.Parse(f.endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("-endpoint: %q is not an http:// or https:// URL, or \"aws\"", f.endpoint)
		}
	}
	switch sub {
	case "create":
		if f.onDemand && f.shards != 0 {
			return errors.New("-shards and -on-demand do not go together: an on-demand stream scales its shards itself")
		}
		if f.shards < 0 {
			return fmt.Errorf("-shards %d: a stream needs at least one shard", f.shards)
		}
	case "put":
		if f.keySep != "" && f.key != "" {
			return errors.New("-k and -key-sep do not go together: the key comes from one or the other")
		}
		if f.keySep != "" && len(pos) == 2 {
			return errors.New("-key-sep splits lines of stdin; with DATA as an argument give the key with -k")
		}
	case "tail":
		if f.output != "text" && f.output != "json" {
			return fmt.Errorf("-o %q: the output format is text or json", f.output)
		}
	}
	return nil
}

// streamsClient is a Kinesis client and where it points.
type streamsClient struct {
	*kinesis.Client
	endpoint string
}

// newStreamsClient builds a client for endpoint ("aws": AWS's own) with
// the standard AWS configuration chain, region us-east-1 if that names
// none, and dummy credentials for a non-AWS endpoint if it has none, so a
// local server works without any AWS setup.
func newStreamsClient(ctx context.Context, endpoint, region string, optFns ...func(*kinesis.Options)) (*streamsClient, error) {
	local := endpoint != awsEndpoint
	var load []func(*config.LoadOptions) error
	if region != "" {
		load = append(load, config.WithRegion(region))
	}
	if local {
		// Instance roles sign for AWS, not for a local server; and off
		// EC2 the metadata service only answers by timing out.
		load = append(load, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = streamsRegion
	}
	base, name := endpoint, endpoint
	if !local {
		base, name = "", "AWS Kinesis in "+cfg.Region
	}
	return &streamsClient{Client: sdkclient.FromConfig(ctx, cfg, base, optFns...), endpoint: name}, nil
}

// explain turns an error AWS returned into "error: <message> (<code>)",
// as the AWS CLI shows them, and any other failure of a call into one
// that names the endpoint.
func (c *streamsClient) explain(err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("error: %s (%s)", ae.ErrorMessage(), ae.ErrorCode())
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("calling the Kinesis API at %s: %w", c.endpoint, err)
	}
	return err
}

// list prints stream names, one a line, or with verbose a table of
// NAME STATUS MODE SHARDS (open shards).
func (c *streamsClient) list(ctx context.Context, verbose bool, stdout io.Writer) error {
	var streams []types.StreamSummary
	p := kinesis.NewListStreamsPaginator(c, &kinesis.ListStreamsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		if len(page.StreamSummaries) == 0 {
			// Servers that fill in only StreamNames.
			for _, n := range page.StreamNames {
				streams = append(streams, types.StreamSummary{StreamName: aws.String(n)})
			}
		}
		streams = append(streams, page.StreamSummaries...)
	}
	if !verbose {
		for _, s := range streams {
			fmt.Fprintln(stdout, aws.ToString(s.StreamName))
		}
		return nil
	}
	if len(streams) == 0 {
		fmt.Fprintln(stdout, "No streams.")
		return nil
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "NAME\tSTATUS\tMODE\tSHARDS")
	for _, s := range streams {
		sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: s.StreamName})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			continue // deleted since it was listed
		}
		if err != nil {
			return err
		}
		d := sum.StreamDescriptionSummary
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", aws.ToString(d.StreamName), d.StreamStatus, streamMode(d.StreamModeDetails), aws.ToInt32(d.OpenShardCount))
	}
	return tw.Flush()
}

func streamMode(m *types.StreamModeDetails) string {
	if m == nil || m.StreamMode == "" {
		return string(types.StreamModeProvisioned)
	}
	return string(m.StreamMode)
}

// create creates a stream and waits until it is ACTIVE.
func (c *streamsClient) create(ctx context.Context, name string, shards int, onDemand bool, stdout io.Writer) error {
	in := &kinesis.CreateStreamInput{StreamName: aws.String(name)}
	if onDemand {
		in.StreamModeDetails = &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}
	} else {
		in.ShardCount = aws.Int32(int32(max(shards, 1)))
	}
	if _, err := c.CreateStream(ctx, in); err != nil {
		return err
	}
	d, err := c.waitActive(ctx, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created stream %s (%s, %d open shards): %s\n", name, streamMode(d.StreamModeDetails), aws.ToInt32(d.OpenShardCount), d.StreamStatus)
	return nil
}

// waitActive polls the stream's summary until it is ACTIVE, backing off
// from 100 ms to 1 s between polls.
func (c *streamsClient) waitActive(ctx context.Context, name string) (*types.StreamDescriptionSummary, error) {
	ctx, cancel := context.WithTimeout(ctx, createWait)
	defer cancel()
	delay := 100 * time.Millisecond
	status := types.StreamStatusCreating
	for {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		var nf *types.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
			// Not visible yet.
		case err != nil && ctx.Err() != nil:
			return nil, fmt.Errorf("stream %s is still %s after %s", name, status, createWait)
		case err != nil:
			return nil, err
		case out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive:
			return out.StreamDescriptionSummary, nil
		default:
			status = out.StreamDescriptionSummary.StreamStatus
		}
		if err := backoff.Sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("stream %s is still %s: %w", name, status, err)
		}
		delay = min(2*delay, time.Second)
	}
}

// listShards returns every shard of the stream, closed ones included.
func (c *streamsClient) listShards(ctx context.Context, name string) ([]types.Shard, error) {
	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(name)}
	for {
		out, err := c.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			return shards, nil
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// describe prints the stream's summary and a table of its shards.
func (c *streamsClient) describe(ctx context.Context, name string, stdout io.Writer) error {
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		return err
	}
	shards, err := c.listShards(ctx, name)
	if err != nil {
		return err
	}
	d := sum.StreamDescriptionSummary
	created := "-"
	if d.StreamCreationTimestamp != nil {
		created = d.StreamCreationTimestamp.UTC().Format(time.RFC3339)
	}
	tw := newTable(stdout)
	fmt.Fprintf(tw, "Name:\t%s\n", aws.ToString(d.StreamName))
	fmt.Fprintf(tw, "ARN:\t%s\n", aws.ToString(d.StreamARN))
	fmt.Fprintf(tw, "Status:\t%s\n", d.StreamStatus)
	fmt.Fprintf(tw, "Mode:\t%s\n", streamMode(d.StreamModeDetails))
	fmt.Fprintf(tw, "Open shards:\t%d\n", aws.ToInt32(d.OpenShardCount))
	fmt.Fprintf(tw, "Retention:\t%d hours\n", aws.ToInt32(d.RetentionPeriodHours))
	fmt.Fprintf(tw, "Encryption:\t%s\n", orDash(string(d.EncryptionType)))
	fmt.Fprintf(tw, "Created:\t%s\n", created)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	tw = newTable(stdout)
	fmt.Fprintln(tw, "SHARD\tSTATE\tPARENTS\tHASH KEY RANGE")
	for _, s := range shards {
		state := "open"
		if s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil {
			state = "closed"
		}
		var parents []string
		for _, p := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
			if p != nil {
				parents = append(parents, *p)
			}
		}
		hashes := "-"
		if h := s.HashKeyRange; h != nil {
			hashes = aws.ToString(h.StartingHashKey) + "-" + aws.ToString(h.EndingHashKey)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", aws.ToString(s.ShardId), state, orDash(strings.Join(parents, ",")), hashes)
	}
	return tw.Flush()
}

// put writes pos[1] as one record, or each line of stdin (without its
// newline; empty lines skipped) as one, in order, printing each record's
// SHARD<TAB>SEQUENCE-NUMBER. It stops at the first record that fails,
// naming its line; the lines before it are written.
func (c *streamsClient) put(ctx context.Context, pos []string, f *streamsFlags, stdin io.Reader, stdout io.Writer) error {
	stream := pos[0]
	if len(pos) == 2 {
		return c.putOne(ctx, stream, f.key, []byte(pos[1]), stdout)
	}
	sep := f.keySep
	if unq, err := strconv.Unquote(`"` + sep + `"`); err == nil {
		sep = unq // '\t' as typed in a shell
	}
	r := bufio.NewReader(stdin)
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading stdin: %w", err)
		}
		b = bytes.TrimSuffix(b, []byte("\n"))
		if len(b) > 0 {
			key, data := f.key, b
			if sep != "" {
				k, d, ok := strings.Cut(string(b), sep)
				if !ok {
					return fmt.Errorf("line %d: no key separator %q", line, sep)
				}
				key, data = k, []byte(d)
			}
			if perr := c.putOne(ctx, stream, key, data, stdout); perr != nil {
				// Explained here, under its line; %v so that
				// streamsCommand's explain does not name the endpoint
				// a second time.
				return fmt.Errorf("line %d: %v", line, c.explain(perr))
			}
		}
		if err != nil {
			return nil // EOF
		}
	}
}

// putOne writes one record; an empty key becomes a random one.
func (c *streamsClient) putOne(ctx context.Context, stream, key string, data []byte, stdout io.Writer) error {
	if key == "" {
		key = uuid.NewString()
	}
	out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String(key), Data: data})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\t%s\n", aws.ToString(out.ShardId), aws.ToString(out.SequenceNumber))
	return err
}
