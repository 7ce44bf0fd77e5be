package integration

import (
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// metricSum adds up a metric's samples for one stream (of the default
// account and region) from /metrics. A name ending in _count is a
// histogram's sample count.
func metricSum(t *testing.T, name, stream string) float64 {
	t.Helper()
	fams := families(t, scrape(t))
	if fams[name] == nil {
		name = strings.TrimSuffix(name, "_count")
	}
	sum, _ := sumOf(fams, name, streamSel(stream))
	return sum
}

// TestMetrics checks that the CloudWatch-named metrics on /metrics count
// what a known workload did: 7 records by PutRecords and 3 by PutRecord
// into 2 shards, all read back by GetRecords.
func TestMetrics(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 2)
	var entries []types.PutRecordsRequestEntry
	for i := range 7 {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(strconv.Itoa(i)), Data: []byte("0123456789")})
	}
	if _, err := c.PutRecords(ctxFor(t), &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("p" + strconv.Itoa(i)), Data: []byte("abc")}); err != nil {
			t.Fatal(err)
		}
	}
	read := 0
	for _, id := range []string{"shardId-000000000000", "shardId-000000000001"} {
		read += len(readAll(t, c, iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String(id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})))
	}
	if read != 10 {
		t.Fatalf("read %d records", read)
	}
	want := map[string]float64{
		"tributary_kinesis_incoming_records_total":               10,
		"tributary_kinesis_incoming_bytes_total":                 7*11 + 3*5, // data + partition key
		"tributary_kinesis_put_record_success_total":             3,
		"tributary_kinesis_put_records_success_total":            1,
		"tributary_kinesis_put_records_records_total":            7,
		"tributary_kinesis_put_records_successful_records_total": 7,
		"tributary_kinesis_put_records_failed_records_total":     0,
		"tributary_kinesis_get_records_records_total":            10,
		"tributary_kinesis_get_records_bytes_total":              7*10 + 3*3,
		"tributary_kinesis_outgoing_records_total":               10,
		"tributary_kinesis_get_records_iterator_age_seconds":     0,
		"tributary_kinesis_put_record_latency_seconds_count":     3,
		"tributary_kinesis_put_records_latency_seconds_count":    1,
	}
	for metric, v := range want {
		if got := metricSum(t, metric, name); got != v {
			t.Errorf("%s = %v, want %v", metric, got, v)
		}
	}
}
