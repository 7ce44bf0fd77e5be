package integration

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
)

func summary(t *testing.T, c *kinesis.Client, name string) *types.StreamDescriptionSummary {
	t.Helper()
	out, err := c.DescribeStreamSummary(ctxFor(t), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return out.StreamDescriptionSummary
}

// TestEnhancedMonitoring pins Enable/DisableEnhancedMonitoring: the
// response's current and desired metrics, "ALL", and the summary.
func TestEnhancedMonitoring(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	on, err := c.EnableEnhancedMonitoring(ctxFor(t), &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String(name),
		ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes, types.MetricsNameOutgoingRecords}})
	if err != nil {
		t.Fatal(err)
	}
	if len(on.CurrentShardLevelMetrics) != 0 || fmt.Sprint(on.DesiredShardLevelMetrics) != "[IncomingBytes OutgoingRecords]" || aws.ToString(on.StreamName) != name {
		t.Fatalf("enable: current %v desired %v", on.CurrentShardLevelMetrics, on.DesiredShardLevelMetrics)
	}
	all, err := c.EnableEnhancedMonitoring(ctxFor(t), &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String(name),
		ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}})
	if err != nil || len(all.DesiredShardLevelMetrics) != 7 {
		t.Fatalf("enable ALL: %v, %v", all, err)
	}
	off, err := c.DisableEnhancedMonitoring(ctxFor(t), &kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String(name),
		ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes}})
	if err != nil || len(off.CurrentShardLevelMetrics) != 7 || len(off.DesiredShardLevelMetrics) != 6 {
		t.Fatalf("disable: %v, %v", off, err)
	}
	if got := summary(t, c, name).EnhancedMonitoring[0].ShardLevelMetrics; len(got) != 6 {
		t.Fatalf("summary metrics %v", got)
	}
	err = rawErr(t, "EnableEnhancedMonitoring", fmt.Sprintf(`{"StreamName":%q,"ShardLevelMetrics":["Nope"]}`, name))
	wantAPIError(t, err, "ValidationException", "1 validation error detected: Value '[Nope]' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]]")
}

// TestStreamModeAndWarmThroughput pins UpdateStreamMode (UPDATING, then
// the new mode) and UpdateStreamWarmThroughput, which only on-demand
// streams accept.
func TestStreamModeAndWarmThroughput(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	arn := summary(t, c, name).StreamARN
	_, err := c.UpdateStreamWarmThroughput(ctxFor(t), &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String(name), WarmThroughputMiBps: aws.Int32(10)})
	wantAPIError(t, err, "InvalidArgumentException", fmt.Sprintf("Warm throughput can only be set for streams in ON_DEMAND mode. Stream %s under account %s is in PROVISIONED mode.", name, defaultAccount))
	if _, err := c.UpdateStreamMode(ctxFor(t), &kinesis.UpdateStreamModeInput{StreamARN: arn,
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, name, types.StreamStatusActive)
	if got := summary(t, c, name).StreamModeDetails.StreamMode; got != types.StreamModeOnDemand {
		t.Fatalf("mode = %s", got)
	}
	_, err = c.UpdateStreamMode(ctxFor(t), &kinesis.UpdateStreamModeInput{StreamARN: arn,
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	wantAPIError(t, err, "InvalidArgumentException", fmt.Sprintf("Stream %s under account %s is already in ON_DEMAND mode.", name, defaultAccount))
	out, err := c.UpdateStreamWarmThroughput(ctxFor(t), &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String(name), WarmThroughputMiBps: aws.Int32(25)})
	if err != nil || aws.ToInt32(out.WarmThroughput.TargetMiBps) != 25 || aws.ToString(out.StreamName) != name {
		t.Fatalf("warm throughput: %+v, %v", out, err)
	}
	if wt := summary(t, c, name).WarmThroughput; wt == nil || aws.ToInt32(wt.TargetMiBps) != 25 {
		t.Fatalf("summary warm throughput %+v", wt)
	}
}

// TestMaxRecordSize raises a stream's record limit to 10 MiB with
// UpdateMaxRecordSize (selecting it by StreamId) and round-trips a record
// that size. (The client's endpoint is fixed: see TestStreamId.)
func TestMaxRecordSize(t *testing.T) {
	t.Parallel()
	c := client(fixedEndpoint(shared.Endpoint))
	name := streamName(t)
	createStream(t, c, name, 1)
	big := bytes.Repeat([]byte{0x5a, 0x00, 0xff}, (10<<20-1)/3)
	_, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: big})
	wantAPIError(t, err, "ValidationException", fmt.Sprintf("1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576", len(big), len(big)))
	if _, err := c.UpdateMaxRecordSize(ctxFor(t), &kinesis.UpdateMaxRecordSizeInput{StreamId: summary(t, c, name).StreamId, MaxRecordSizeInKiB: aws.Int32(10240)}); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToInt32(summary(t, c, name).MaxRecordSizeInKiB); got != 10240 {
		t.Fatalf("MaxRecordSizeInKiB = %d", got)
	}
	put, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: big})
	if err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, c, iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon}))
	if len(recs) != 1 || !bytes.Equal(recs[0].Data, big) {
		t.Fatalf("read back %d records", len(recs))
	}
	_, err = c.UpdateMaxRecordSize(ctxFor(t), &kinesis.UpdateMaxRecordSizeInput{StreamId: summary(t, c, name).StreamId, MaxRecordSizeInKiB: aws.Int32(20000)})
	wantAPIError(t, err, "ValidationException", "1 validation error detected: Value '20000' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value less than or equal to 10240")
}

// TestRecordDistributionAuto shows that on an AUTO stream records with
// one partition key are spread over the shards, and that the summary
// reports the strategy.
func TestRecordDistributionAuto(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 4)
	if got := summary(t, c, name).RecordDistributionStrategy; got != types.RecordDistributionStrategyUserPartitionKey {
		t.Fatalf("default strategy %q", got)
	}
	if _, err := c.UpdateStreamRecordDistributionStrategy(ctxFor(t), &kinesis.UpdateStreamRecordDistributionStrategyInput{
		StreamARN: summary(t, c, name).StreamARN, RecordDistributionStrategy: types.RecordDistributionStrategyAuto}); err != nil {
		t.Fatal(err)
	}
	var entries []types.PutRecordsRequestEntry
	for i := range 40 {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("same"), Data: []byte{byte(i)}})
	}
	out, err := c.PutRecords(ctxFor(t), &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, r := range out.Records {
		used[*r.ShardId] = true
	}
	if len(used) != 4 {
		t.Fatalf("40 records with one key went to %d shards, want all 4", len(used))
	}
	if got := summary(t, c, name).RecordDistributionStrategy; got != types.RecordDistributionStrategyAuto {
		t.Fatalf("strategy %q", got)
	}
	// Partition keys are optional on an AUTO stream, and required elsewhere.
	if _, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), Data: []byte("no key")}); err != nil {
		t.Fatalf("PutRecord without a partition key on an AUTO stream: %v", err)
	}
	if out, err := c.PutRecords(ctxFor(t), &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: []types.PutRecordsRequestEntry{{Data: []byte("no key")}}}); err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords without a partition key on an AUTO stream: %v, %v", out, err)
	}
	other := streamName(t, "keyed")
	createStream(t, c, other, 1)
	err = rawErr(t, "PutRecord", fmt.Sprintf(`{"StreamName":%q,"Data":"eA=="}`, other))
	wantAPIError(t, err, "ValidationException", "1 validation error detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be null")
}

// TestResourcePolicy round-trips Put/Get/DeleteResourcePolicy.
func TestResourcePolicy(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	arn := summary(t, c, name).StreamARN
	got, err := c.GetResourcePolicy(ctxFor(t), &kinesis.GetResourcePolicyInput{ResourceARN: arn})
	if err != nil || aws.ToString(got.Policy) != "{}" {
		t.Fatalf("no policy yet: %v, %v", got, err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kinesis:GetRecords","Resource":"` + *arn + `"}]}`
	if _, err := c.PutResourcePolicy(ctxFor(t), &kinesis.PutResourcePolicyInput{ResourceARN: arn, Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetResourcePolicy(ctxFor(t), &kinesis.GetResourcePolicyInput{ResourceARN: arn})
	if err != nil || aws.ToString(got.Policy) != policy {
		t.Fatalf("policy = %v, %v", aws.ToString(got.Policy), err)
	}
	_, err = c.PutResourcePolicy(ctxFor(t), &kinesis.PutResourcePolicyInput{ResourceARN: arn, Policy: aws.String("not json")})
	wantAPIError(t, err, "InvalidArgumentException", "Policy is not a valid JSON document.")
	if _, err := c.DeleteResourcePolicy(ctxFor(t), &kinesis.DeleteResourcePolicyInput{ResourceARN: arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteResourcePolicy(ctxFor(t), &kinesis.DeleteResourcePolicyInput{ResourceARN: arn})
	wantAPIError(t, err, "ResourceNotFoundException", fmt.Sprintf("No resource policy found for resource %s.", *arn))
}

// TestAccountSettings walks the minimum throughput billing commitment:
// off, on, and "disabled" early, which keeps it until its earliest end.
func TestAccountSettings(t *testing.T) {
	t.Parallel()
	acct := client(testserver.WithAccount(uniqueAccount()))
	d, err := acct.DescribeAccountSettings(ctxFor(t), &kinesis.DescribeAccountSettingsInput{})
	if err != nil || d.MinimumThroughputBillingCommitment.Status != types.MinimumThroughputBillingCommitmentOutputStatusDisabled {
		t.Fatalf("initial: %+v, %v", d, err)
	}
	on, err := acct.UpdateAccountSettings(ctxFor(t), &kinesis.UpdateAccountSettingsInput{MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: types.MinimumThroughputBillingCommitmentInputStatusEnabled}})
	if err != nil {
		t.Fatal(err)
	}
	m := on.MinimumThroughputBillingCommitment
	if m.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabled || m.StartedAt == nil || m.EarliestAllowedEndAt == nil || !m.EarliestAllowedEndAt.After(*m.StartedAt) {
		t.Fatalf("enabled: %+v", m)
	}
	off, err := acct.UpdateAccountSettings(ctxFor(t), &kinesis.UpdateAccountSettingsInput{MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: types.MinimumThroughputBillingCommitmentInputStatusDisabled}})
	if err != nil || off.MinimumThroughputBillingCommitment.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabledUntilEarliestAllowedEnd {
		t.Fatalf("disabled early: %+v, %v", off, err)
	}
}

// TestDryRun checks that DryRun answers DryRunOperationException where
// the call would have succeeded, and does nothing.
func TestDryRun(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	const msg = "Request would have succeeded, but DryRun flag is set."
	_, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x"), DryRun: aws.Bool(true)})
	wantAPIError(t, err, "DryRunOperationException", msg)
	_, err = c.PutRecords(ctxFor(t), &kinesis.PutRecordsInput{StreamName: aws.String(name), DryRun: aws.Bool(true),
		Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte("x")}}})
	wantAPIError(t, err, "DryRunOperationException", msg)
	_, err = c.GetShardIterator(ctxFor(t), &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("0"),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon, DryRun: aws.Bool(true)})
	wantAPIError(t, err, "DryRunOperationException", msg)
	it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("0"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	_, err = c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it), DryRun: aws.Bool(true)})
	wantAPIError(t, err, "DryRunOperationException", msg)
	// A dry run that would fail reports the failure.
	_, err = c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String("missing-" + name), PartitionKey: aws.String("k"), Data: []byte("x"), DryRun: aws.Bool(true)})
	wantAPIError(t, err, "ResourceNotFoundException", fmt.Sprintf("Stream missing-%s under account %s not found.", name, defaultAccount))
	if recs := readAll(t, c, it); len(recs) != 0 {
		t.Fatalf("dry runs stored %d records", len(recs))
	}
}
