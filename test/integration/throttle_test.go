package integration

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/tributary-data/tributary/internal/testserver"
)

// TestThrottling runs a server with -throttle and checks AWS's per-shard
// limits. The bounds are computed from the measured elapsed time, so they
// hold on a slow machine: a shard accepts its burst (1,000 records, 1 MiB)
// at once and then no more than 1,000 records/s, refusing the rest entry
// by entry with ProvisionedThroughputExceededException; reads are limited
// to 5 calls/s and pay off large responses; on-demand streams are not
// limited per shard.
func TestThrottling(t *testing.T) {
	t.Parallel()
	// The limits are rates in real time, and the test must outpace them:
	// a server process of its own, built without -race, is fast enough
	// where one instrumented in this process under -race is not.
	p := testserver.Start(t, "-throttle")
	c := p.Client()
	ctx := testserver.Context(t, 2*time.Minute)
	create := func(name string, mode types.StreamMode) {
		in := &kinesis.CreateStreamInput{StreamName: aws.String(name), StreamModeDetails: &types.StreamModeDetails{StreamMode: mode}}
		if mode == types.StreamModeProvisioned {
			in.ShardCount = aws.Int32(1)
		}
		if _, err := c.CreateStream(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	batch := func(n, size int) []types.PutRecordsRequestEntry {
		e := make([]types.PutRecordsRequestEntry, n)
		for i := range e {
			e[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: make([]byte, size)}
		}
		return e
	}

	t.Run("records per second", func(t *testing.T) {
		create("rec", types.StreamModeProvisioned)
		wantMsg := "Rate exceeded for shard shardId-000000000000 in stream rec under account 000000000000."
		accepted, refused := 0, 0
		start := time.Now()
		for time.Since(start) < 1500*time.Millisecond {
			out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("rec"), Records: batch(500, 10)})
			if err != nil {
				t.Fatal(err)
			}
			failed := 0
			for _, r := range out.Records {
				if r.ErrorCode == nil {
					accepted++
					continue
				}
				failed++
				if *r.ErrorCode != "ProvisionedThroughputExceededException" || aws.ToString(r.ErrorMessage) != wantMsg {
					t.Fatalf("failed entry: %s %s", *r.ErrorCode, aws.ToString(r.ErrorMessage))
				}
			}
			if int(aws.ToInt32(out.FailedRecordCount)) != failed {
				t.Fatalf("FailedRecordCount %d, %d entries failed", aws.ToInt32(out.FailedRecordCount), failed)
			}
			refused += failed
		}
		elapsed := time.Since(start).Seconds()
		if max := 1000 + int(1000*elapsed) + 10; accepted < 1000 || accepted > max {
			t.Fatalf("accepted %d records in %.2fs; want between 1000 and %d", accepted, elapsed, max)
		}
		if refused == 0 {
			t.Fatal("no record was refused")
		}
		t.Logf("accepted %d, refused %d in %.2fs", accepted, refused, elapsed)
		// A single PutRecord over the limit is refused outright. Records
		// of 512 KiB pass the shard's 1 MiB/s within a few calls however
		// slow each call is (under -race on a busy machine, calls of one
		// small record each can take longer than the millisecond in which
		// the 1,000 records/s limit lets one more through).
		var apiErr smithy.APIError
		for i := 0; ; i++ {
			if i == 20 {
				t.Fatal("20 PutRecord calls of 512 KiB in a row were accepted")
			}
			_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("rec"), PartitionKey: aws.String("k"), Data: make([]byte, 512<<10)})
			if errors.As(err, &apiErr) {
				wantAPIError(t, err, "ProvisionedThroughputExceededException", wantMsg)
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("bytes per second", func(t *testing.T) {
		create("bytes", types.StreamModeProvisioned)
		start := time.Now()
		out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("bytes"), Records: batch(20, 100<<10)})
		if err != nil {
			t.Fatal(err)
		}
		accepted := 20 - int(aws.ToInt32(out.FailedRecordCount))
		// 1 MiB of burst holds 10 records of 100 KiB.
		if max := 10 + int(10*time.Since(start).Seconds()) + 1; accepted < 10 || accepted > max {
			t.Fatalf("accepted %d records of 100 KiB; want 10..%d", accepted, max)
		}
	})

	t.Run("reads", func(t *testing.T) {
		// Fill an on-demand stream (no per-shard limits) with 4 MiB, then
		// make it provisioned and read.
		create("reads", types.StreamModeOnDemand)
		for range 4 {
			entries := batch(10, 100<<10)
			for i := range entries {
				entries[i].ExplicitHashKey = aws.String("0") // all on shard 0
			}
			if out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("reads"), Records: entries}); err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
				t.Fatalf("on-demand put: %v %v", out, err)
			}
		}
		sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("reads")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: sum.StreamDescriptionSummary.StreamARN,
			StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned}}); err != nil {
			t.Fatal(err)
		}
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("reads"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range got.Records {
			n += len(r.Data)
		}
		// 4000 KiB is about two seconds of the shard's 2 MiB/s: reads are
		// refused until then, and served again after.
		if n != 40*(100<<10) {
			t.Fatalf("first read returned %d bytes, want all 4000 KiB", n)
		}
		read := time.Now()
		_, err = c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: got.NextShardIterator})
		wantAPIError(t, err, "ProvisionedThroughputExceededException", "Rate exceeded for shard shardId-000000000000 in stream reads under account 000000000000.")
		time.Sleep(time.Until(read.Add(2 * time.Second)))
		if _, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: got.NextShardIterator}); err != nil {
			t.Fatalf("read 2s after a 4000 KiB response: %v", err)
		}
	})

	t.Run("read calls per second", func(t *testing.T) {
		create("calls", types.StreamModeProvisioned)
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("calls"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
		if err != nil {
			t.Fatal(err)
		}
		ok, refused := 0, 0
		start := time.Now()
		for range 20 {
			_, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
			var apiErr smithy.APIError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &apiErr) && apiErr.ErrorCode() == "ProvisionedThroughputExceededException":
				refused++
			default:
				t.Fatal(err)
			}
		}
		if max := 5 + int(5*time.Since(start).Seconds()) + 1; ok < 5 || ok > max || refused == 0 {
			t.Fatalf("%d calls served, %d refused; want 5..%d served and some refused", ok, refused, max)
		}
	})

	t.Run("on-demand is not limited per shard", func(t *testing.T) {
		create("ondemand", types.StreamModeOnDemand)
		for range 6 {
			out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("ondemand"), Records: batch(500, 10)})
			if err != nil {
				t.Fatal(err)
			}
			if n := aws.ToInt32(out.FailedRecordCount); n != 0 {
				t.Fatalf("%d records refused on an on-demand stream", n)
			}
		}
	})

	// The throttling metrics pass promtool too, labelled like the rest.
	body := scrapeAt(t, p.Endpoint, "")
	promtoolCheck(t, body)
	fams := families(t, body)
	for metric, stream := range map[string]string{
		"tributary_kinesis_write_provisioned_throughput_exceeded_total": "rec",
		"tributary_kinesis_read_provisioned_throughput_exceeded_total":  "calls",
		"tributary_kinesis_put_records_throttled_records_total":         "rec",
	} {
		if v, _ := sumOf(fams, metric, streamSel(stream)); v == 0 {
			t.Errorf("%s for stream %s is 0 after throttling", metric, stream)
		}
	}
}
