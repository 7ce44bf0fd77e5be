package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// violation is one constraint failure in a ValidationException.
type violation struct{ value, field, constraint string }

// validationMsg renders a ValidationException message as AWS words it.
func validationMsg(vs ...violation) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", v.value, v.field, v.constraint)
	}
	noun := "error"
	if len(vs) > 1 {
		noun = "errors"
	}
	return fmt.Sprintf("%d validation %s detected: %s", len(vs), noun, strings.Join(parts, "; "))
}

const (
	namePattern    = "satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
	arnPattern     = `satisfy regular expression pattern: arn:aws.*:kinesis:.*:\d{12}:stream/\S+`
	resARNPattern  = `satisfy regular expression pattern: arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+`
	hashPattern    = `satisfy regular expression pattern: 0|([1-9]\d{0,38})`
	seqPattern     = `satisfy regular expression pattern: 0|([1-9]\d{0,128})`
	notNull        = "not be null"
	minLen1        = "have length greater than or equal to 1"
	minVal1        = "have value greater than or equal to 1"
	iteratorTypes  = "satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
	filterTypes    = "satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]"
	mapKeysLen     = "Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"
	mapValuesLen   = "Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]"
	listMembersLen = "Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"
)

func q(s string) string { return "'" + s + "'" }

// tagViolation is a violation whose constraint text is not "Member must ...".
func tagViolationMsg(value, field, constraint string) string {
	return fmt.Sprintf("1 validation error detected: Value %s at '%s' failed to satisfy constraint: %s", value, field, constraint)
}

// TestValidation pins the exact ValidationException the server returns for
// at least one bad input per member of every action: missing required
// members, patterns, lengths, numeric ranges and enums, with AWS's member
// paths and value rendering. Inputs the SDK would refuse to send (missing
// required members) go over raw HTTP; the rest through the SDK.
func TestValidation(t *testing.T) {
	t.Parallel()
	c := client()
	long := func(n int) string { return strings.Repeat("a", n) }
	name := aws.String("valid-name")
	arn := aws.String(arnOf("us-east-1", defaultAccount, "valid-name"))
	bigData := make([]byte, 10<<20+1)
	bigBlob := q("java.nio.HeapByteBuffer[pos=0 lim=10485761 cap=10485761]")
	sdk := func(f func(ctx context.Context) error) func(t *testing.T) error {
		return func(t *testing.T) error { return f(ctxFor(t)) }
	}
	raw := func(action, body string) func(t *testing.T) error {
		return func(t *testing.T) error { return rawErr(t, action, body) }
	}
	entry := func(pk string) types.PutRecordsRequestEntry {
		return types.PutRecordsRequestEntry{PartitionKey: aws.String(pk), Data: []byte("x")}
	}

	tests := []struct {
		name string
		call func(t *testing.T) error
		msg  string
	}{
		// CreateStream
		{"CreateStream streamName null", raw("CreateStream", `{"ShardCount":1}`),
			validationMsg(violation{"null", "streamName", notNull})},
		{"CreateStream streamName pattern", sdk(func(ctx context.Context) error {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("bad name!"), ShardCount: aws.Int32(1)})
			return err
		}), validationMsg(violation{q("bad name!"), "streamName", namePattern})},
		{"CreateStream streamName too long", sdk(func(ctx context.Context) error {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(long(129)), ShardCount: aws.Int32(1)})
			return err
		}), validationMsg(violation{q(long(129)), "streamName", "have length less than or equal to 128"})},
		{"CreateStream shardCount", sdk(func(ctx context.Context) error {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(0)})
			return err
		}), validationMsg(violation{q("0"), "shardCount", minVal1})},
		{"CreateStream streamModeDetails.streamMode enum", sdk(func(ctx context.Context) error {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, StreamModeDetails: &types.StreamModeDetails{StreamMode: "FAST"}})
			return err
		}), validationMsg(violation{q("FAST"), "streamModeDetails.streamMode", "satisfy enum value set: [PROVISIONED, ON_DEMAND]"})},
		{"CreateStream streamModeDetails.streamMode null", raw("CreateStream", `{"StreamName":"valid-name","StreamModeDetails":{}}`),
			validationMsg(violation{"null", "streamModeDetails.streamMode", notNull})},
		{"CreateStream tags empty", sdk(func(ctx context.Context) error {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(1), Tags: map[string]string{}})
			return err
		}), validationMsg(violation{q("{}"), "tags", minLen1})},
		{"CreateStream tags key too long", sdk(func(ctx context.Context) error {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(1), Tags: map[string]string{long(129): "v"}})
			return err
		}), tagViolationMsg(q("{"+long(129)+"=v}"), "tags", mapKeysLen)},
		{"CreateStream maxRecordSizeInKiB", sdk(func(ctx context.Context) error {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(1), MaxRecordSizeInKiB: aws.Int32(100)})
			return err
		}), validationMsg(violation{q("100"), "maxRecordSizeInKiB", "have value greater than or equal to 1024"})},
		{"CreateStream several members at once", raw("CreateStream", `{"StreamName":"","ShardCount":0}`),
			validationMsg(violation{q("0"), "shardCount", minVal1}, violation{q(""), "streamName", namePattern}, violation{q(""), "streamName", minLen1})},

		// DeleteStream
		{"DeleteStream streamName null", raw("DeleteStream", `{}`), validationMsg(violation{"null", "streamName", notNull})},
		{"DeleteStream streamName pattern", sdk(func(ctx context.Context) error {
			_, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("a/b")})
			return err
		}), validationMsg(violation{q("a/b"), "streamName", namePattern})},
		{"DeleteStream streamARN pattern", raw("DeleteStream", `{"StreamARN":"arn:nope"}`),
			validationMsg(violation{q("arn:nope"), "streamARN", arnPattern})},

		// DescribeStream
		{"DescribeStream limit low", sdk(func(ctx context.Context) error {
			_, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: name, Limit: aws.Int32(0)})
			return err
		}), validationMsg(violation{q("0"), "limit", minVal1})},
		{"DescribeStream limit high", sdk(func(ctx context.Context) error {
			_, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: name, Limit: aws.Int32(10001)})
			return err
		}), validationMsg(violation{q("10001"), "limit", "have value less than or equal to 10000"})},
		{"DescribeStream exclusiveStartShardId", sdk(func(ctx context.Context) error {
			_, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: name, ExclusiveStartShardId: aws.String("shard 1")})
			return err
		}), validationMsg(violation{q("shard 1"), "exclusiveStartShardId", namePattern})},
		{"DescribeStream streamName empty", sdk(func(ctx context.Context) error {
			_, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("")})
			return err
		}), validationMsg(violation{q(""), "streamName", namePattern}, violation{q(""), "streamName", minLen1})},
		{"DescribeStream streamName null", raw("DescribeStream", `{"Limit":1}`), validationMsg(violation{"null", "streamName", notNull})},

		// DescribeStreamSummary
		{"DescribeStreamSummary streamName too long", sdk(func(ctx context.Context) error {
			_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(long(129))})
			return err
		}), validationMsg(violation{q(long(129)), "streamName", "have length less than or equal to 128"})},
		{"DescribeStreamSummary streamName null", raw("DescribeStreamSummary", `{}`), validationMsg(violation{"null", "streamName", notNull})},
		{"DescribeStreamSummary streamARN pattern", raw("DescribeStreamSummary", `{"StreamARN":"arn:aws:kinesis:us-east-1:123:stream/x"}`),
			validationMsg(violation{q("arn:aws:kinesis:us-east-1:123:stream/x"), "streamARN", arnPattern})},

		// ListStreams
		{"ListStreams limit", sdk(func(ctx context.Context) error {
			_, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{Limit: aws.Int32(0)})
			return err
		}), validationMsg(violation{q("0"), "limit", minVal1})},
		{"ListStreams exclusiveStartStreamName", sdk(func(ctx context.Context) error {
			_, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("no spaces")})
			return err
		}), validationMsg(violation{q("no spaces"), "exclusiveStartStreamName", namePattern})},
		{"ListStreams nextToken", sdk(func(ctx context.Context) error {
			_, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{NextToken: aws.String("")})
			return err
		}), validationMsg(violation{q(""), "nextToken", minLen1})},

		// ListShards
		{"ListShards exclusiveStartShardId", sdk(func(ctx context.Context) error {
			_, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name, ExclusiveStartShardId: aws.String("")})
			return err
		}), validationMsg(violation{q(""), "exclusiveStartShardId", namePattern}, violation{q(""), "exclusiveStartShardId", minLen1})},
		{"ListShards maxResults", sdk(func(ctx context.Context) error {
			_, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name, MaxResults: aws.Int32(10001)})
			return err
		}), validationMsg(violation{q("10001"), "maxResults", "have value less than or equal to 10000"})},
		{"ListShards nextToken", sdk(func(ctx context.Context) error {
			_, err := c.ListShards(ctx, &kinesis.ListShardsInput{NextToken: aws.String("")})
			return err
		}), validationMsg(violation{q(""), "nextToken", minLen1})},
		{"ListShards streamName", sdk(func(ctx context.Context) error {
			_, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("bad!")})
			return err
		}), validationMsg(violation{q("bad!"), "streamName", namePattern})},
		{"ListShards streamARN", raw("ListShards", `{"StreamARN":"stream/x"}`),
			validationMsg(violation{q("stream/x"), "streamARN", arnPattern})},
		{"ListShards shardFilter.type enum", sdk(func(ctx context.Context) error {
			_, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name, ShardFilter: &types.ShardFilter{Type: "BOGUS"}})
			return err
		}), validationMsg(violation{q("BOGUS"), "shardFilter.type", filterTypes})},
		{"ListShards shardFilter.type null", raw("ListShards", `{"StreamName":"valid-name","ShardFilter":{}}`),
			validationMsg(violation{"null", "shardFilter.type", notNull})},
		{"ListShards shardFilter.shardId", sdk(func(ctx context.Context) error {
			_, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name,
				ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String("#1")}})
			return err
		}), validationMsg(violation{q("#1"), "shardFilter.shardId", namePattern})},

		// PutRecord
		{"PutRecord partitionKey empty", sdk(func(ctx context.Context) error {
			_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: name, PartitionKey: aws.String(""), Data: []byte("x")})
			return err
		}), validationMsg(violation{q(""), "partitionKey", minLen1})},
		{"PutRecord partitionKey too long", sdk(func(ctx context.Context) error {
			_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: name, PartitionKey: aws.String(long(257)), Data: []byte("x")})
			return err
		}), validationMsg(violation{q(long(257)), "partitionKey", "have length less than or equal to 256"})},
		{"PutRecord partitionKey null", raw("PutRecord", `{"StreamName":"valid-name","Data":"eA=="}`),
			validationMsg(violation{"null", "partitionKey", notNull})},
		{"PutRecord explicitHashKey", sdk(func(ctx context.Context) error {
			_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: name, PartitionKey: aws.String("k"), ExplicitHashKey: aws.String("01"), Data: []byte("x")})
			return err
		}), validationMsg(violation{q("01"), "explicitHashKey", hashPattern})},
		{"PutRecord data null", raw("PutRecord", `{"StreamName":"valid-name","PartitionKey":"k"}`),
			validationMsg(violation{"null", "data", notNull})},
		{"PutRecord data too large", sdk(func(ctx context.Context) error {
			_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: name, PartitionKey: aws.String("k"), Data: bigData})
			return err
		}), validationMsg(violation{bigBlob, "data", "have length less than or equal to 10485760"})},
		{"PutRecord sequenceNumberForOrdering", sdk(func(ctx context.Context) error {
			_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: name, PartitionKey: aws.String("k"), Data: []byte("x"), SequenceNumberForOrdering: aws.String("abc")})
			return err
		}), validationMsg(violation{q("abc"), "sequenceNumberForOrdering", seqPattern})},
		{"PutRecord streamName null", raw("PutRecord", `{"PartitionKey":"k","Data":""}`),
			validationMsg(violation{"null", "streamName", notNull})},
		{"PutRecord streamARN", raw("PutRecord", `{"StreamARN":"arn:aws:s3:::bucket","PartitionKey":"k","Data":""}`),
			validationMsg(violation{q("arn:aws:s3:::bucket"), "streamARN", arnPattern})},

		// PutRecords
		{"PutRecords records empty", sdk(func(ctx context.Context) error {
			_, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: name, Records: []types.PutRecordsRequestEntry{}})
			return err
		}), validationMsg(violation{q("[]"), "records", minLen1})},
		{"PutRecords records null", raw("PutRecords", `{"StreamName":"valid-name"}`),
			validationMsg(violation{"null", "records", notNull})},
		{"PutRecords partitionKey", sdk(func(ctx context.Context) error {
			_, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: name, Records: []types.PutRecordsRequestEntry{entry("ok"), entry("")}})
			return err
		}), validationMsg(violation{q(""), "records.2.member.partitionKey", minLen1})},
		{"PutRecords explicitHashKey", sdk(func(ctx context.Context) error {
			e := entry("k")
			e.ExplicitHashKey = aws.String("-1")
			_, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: name, Records: []types.PutRecordsRequestEntry{e}})
			return err
		}), validationMsg(violation{q("-1"), "records.1.member.explicitHashKey", hashPattern})},
		{"PutRecords data too large", sdk(func(ctx context.Context) error {
			_, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: name, Records: []types.PutRecordsRequestEntry{
				entry("a"), entry("b"), {PartitionKey: aws.String("c"), Data: bigData}}})
			return err
		}), validationMsg(violation{bigBlob, "records.3.member.data", "have length less than or equal to 10485760"})},
		{"PutRecords data null", raw("PutRecords", `{"StreamName":"valid-name","Records":[{"PartitionKey":"k"}]}`),
			validationMsg(violation{"null", "records.1.member.data", notNull})},
		{"PutRecords streamName", sdk(func(ctx context.Context) error {
			_, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("bad name"), Records: []types.PutRecordsRequestEntry{entry("k")}})
			return err
		}), validationMsg(violation{q("bad name"), "streamName", namePattern})},
		{"PutRecords at most 10 errors listed", raw("PutRecords", `{"StreamName":"valid-name","Records":[`+
			strings.TrimSuffix(strings.Repeat(`{"PartitionKey":"","Data":""},`, 12), ",")+`]}`),
			validationMsg(func() []violation {
				var vs []violation
				for i := 1; i <= 10; i++ {
					vs = append(vs, violation{q(""), fmt.Sprintf("records.%d.member.partitionKey", i), minLen1})
				}
				return vs
			}()...)},

		// GetShardIterator
		{"GetShardIterator shardId null", raw("GetShardIterator", `{"StreamName":"valid-name","ShardIteratorType":"LATEST"}`),
			validationMsg(violation{"null", "shardId", notNull})},
		{"GetShardIterator shardId pattern", sdk(func(ctx context.Context) error {
			_, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: name, ShardId: aws.String("shard 0"), ShardIteratorType: types.ShardIteratorTypeLatest})
			return err
		}), validationMsg(violation{q("shard 0"), "shardId", namePattern})},
		{"GetShardIterator shardIteratorType enum", sdk(func(ctx context.Context) error {
			_, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: name, ShardId: aws.String("0"), ShardIteratorType: "SOMEWHERE"})
			return err
		}), validationMsg(violation{q("SOMEWHERE"), "shardIteratorType", iteratorTypes})},
		{"GetShardIterator shardIteratorType null", raw("GetShardIterator", `{"StreamName":"valid-name","ShardId":"0"}`),
			validationMsg(violation{"null", "shardIteratorType", notNull})},
		{"GetShardIterator startingSequenceNumber", sdk(func(ctx context.Context) error {
			_, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: name, ShardId: aws.String("0"),
				ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String("0x10")})
			return err
		}), validationMsg(violation{q("0x10"), "startingSequenceNumber", seqPattern})},
		{"GetShardIterator streamName", sdk(func(ctx context.Context) error {
			_, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(long(200)), ShardId: aws.String("0"), ShardIteratorType: types.ShardIteratorTypeLatest})
			return err
		}), validationMsg(violation{q(long(200)), "streamName", "have length less than or equal to 128"})},

		// GetRecords
		{"GetRecords limit low", sdk(func(ctx context.Context) error {
			_, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("it"), Limit: aws.Int32(0)})
			return err
		}), validationMsg(violation{q("0"), "limit", minVal1})},
		{"GetRecords limit high", sdk(func(ctx context.Context) error {
			_, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("it"), Limit: aws.Int32(10001)})
			return err
		}), validationMsg(violation{q("10001"), "limit", "have value less than or equal to 10000"})},
		{"GetRecords shardIterator empty", sdk(func(ctx context.Context) error {
			_, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("")})
			return err
		}), validationMsg(violation{q(""), "shardIterator", minLen1})},
		{"GetRecords shardIterator too long", sdk(func(ctx context.Context) error {
			_, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(long(513))})
			return err
		}), validationMsg(violation{q(long(513)), "shardIterator", "have length less than or equal to 512"})},
		{"GetRecords shardIterator null", raw("GetRecords", `{"Limit":5}`), validationMsg(violation{"null", "shardIterator", notNull})},

		// Increase/DecreaseStreamRetentionPeriod
		{"IncreaseStreamRetentionPeriod retentionPeriodHours null", raw("IncreaseStreamRetentionPeriod", `{"StreamName":"valid-name"}`),
			validationMsg(violation{"null", "retentionPeriodHours", notNull})},
		{"IncreaseStreamRetentionPeriod streamName", sdk(func(ctx context.Context) error {
			_, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("x y"), RetentionPeriodHours: aws.Int32(48)})
			return err
		}), validationMsg(violation{q("x y"), "streamName", namePattern})},
		{"DecreaseStreamRetentionPeriod retentionPeriodHours null", raw("DecreaseStreamRetentionPeriod", `{"StreamName":"valid-name"}`),
			validationMsg(violation{"null", "retentionPeriodHours", notNull})},
		{"DecreaseStreamRetentionPeriod streamName null", raw("DecreaseStreamRetentionPeriod", `{"RetentionPeriodHours":24}`),
			validationMsg(violation{"null", "streamName", notNull})},

		// AddTagsToStream / RemoveTagsFromStream / ListTagsForStream
		{"AddTagsToStream tags null", raw("AddTagsToStream", `{"StreamName":"valid-name"}`), validationMsg(violation{"null", "tags", notNull})},
		{"AddTagsToStream tags empty", sdk(func(ctx context.Context) error {
			_, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: name, Tags: map[string]string{}})
			return err
		}), validationMsg(violation{q("{}"), "tags", minLen1})},
		{"AddTagsToStream tag value too long", sdk(func(ctx context.Context) error {
			_, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: name, Tags: map[string]string{"k": long(257)}})
			return err
		}), tagViolationMsg(q("{k="+long(257)+"}"), "tags", mapValuesLen)},
		{"AddTagsToStream streamName", sdk(func(ctx context.Context) error {
			_, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("é"), Tags: map[string]string{"k": "v"}})
			return err
		}), validationMsg(violation{q("é"), "streamName", namePattern})},
		{"RemoveTagsFromStream tagKeys null", raw("RemoveTagsFromStream", `{"StreamName":"valid-name"}`), validationMsg(violation{"null", "tagKeys", notNull})},
		{"RemoveTagsFromStream tagKeys empty", sdk(func(ctx context.Context) error {
			_, err := c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: name, TagKeys: []string{}})
			return err
		}), validationMsg(violation{q("[]"), "tagKeys", minLen1})},
		{"RemoveTagsFromStream tag key too long", sdk(func(ctx context.Context) error {
			_, err := c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: name, TagKeys: []string{"a", long(129)}})
			return err
		}), tagViolationMsg(q("[a, "+long(129)+"]"), "tagKeys", listMembersLen)},
		{"RemoveTagsFromStream streamName null", raw("RemoveTagsFromStream", `{"TagKeys":["a"]}`), validationMsg(violation{"null", "streamName", notNull})},
		{"ListTagsForStream limit", sdk(func(ctx context.Context) error {
			_, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: name, Limit: aws.Int32(51)})
			return err
		}), validationMsg(violation{q("51"), "limit", "have value less than or equal to 50"})},
		{"ListTagsForStream exclusiveStartTagKey", sdk(func(ctx context.Context) error {
			_, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: name, ExclusiveStartTagKey: aws.String("")})
			return err
		}), validationMsg(violation{q(""), "exclusiveStartTagKey", minLen1})},
		{"ListTagsForStream streamName null", raw("ListTagsForStream", `{}`), validationMsg(violation{"null", "streamName", notNull})},

		// TagResource / UntagResource / ListTagsForResource
		{"TagResource resourceARN null", raw("TagResource", `{"Tags":{"k":"v"}}`), validationMsg(violation{"null", "resourceARN", notNull})},
		{"TagResource resourceARN pattern", raw("TagResource", `{"ResourceARN":"arn:aws:sqs:us-east-1:123456789012:queue","Tags":{"k":"v"}}`),
			validationMsg(violation{q("arn:aws:sqs:us-east-1:123456789012:queue"), "resourceARN", resARNPattern})},
		{"TagResource tags null", raw("TagResource", `{"ResourceARN":"arn:aws:kinesis:us-east-1:000000000000:stream/valid-name"}`),
			validationMsg(violation{"null", "tags", notNull})},
		{"TagResource tags empty", sdk(func(ctx context.Context) error {
			_, err := c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: arn, Tags: map[string]string{}})
			return err
		}), validationMsg(violation{q("{}"), "tags", minLen1})},
		{"UntagResource resourceARN null", raw("UntagResource", `{"TagKeys":["k"]}`), validationMsg(violation{"null", "resourceARN", notNull})},
		{"UntagResource tagKeys empty", sdk(func(ctx context.Context) error {
			_, err := c.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: arn, TagKeys: []string{}})
			return err
		}), validationMsg(violation{q("[]"), "tagKeys", minLen1})},
		{"ListTagsForResource resourceARN null", raw("ListTagsForResource", `{}`), validationMsg(violation{"null", "resourceARN", notNull})},
		{"ListTagsForResource resourceARN pattern", raw("ListTagsForResource", `{"ResourceARN":"arn:aws:kinesis:us-east-1:1:stream/x"}`),
			validationMsg(violation{q("arn:aws:kinesis:us-east-1:1:stream/x"), "resourceARN", resARNPattern})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantAPIError(t, tc.call(t), "ValidationException", tc.msg)
		})
	}
}

// TestUnknownStreamBeforeShard pins the order of AWS's not-found errors:
// for a stream that does not exist, the stream is reported whatever the
// shard id; for one that does, a shard that is not found is named as the
// caller wrote it, not normalised to twelve digits.
func TestUnknownStreamBeforeShard(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	missing := "no-such-stream-" + name
	notFound := fmt.Sprintf("Stream %s under account %s not found.", missing, defaultAccount)
	calls := map[string]func(stream, shardID string) error{
		"GetShardIterator": func(stream, shardID string) error {
			_, err := c.GetShardIterator(ctxFor(t), &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shardID),
				ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			return err
		},
		"SplitShard": func(stream, shardID string) error {
			_, err := c.SplitShard(ctxFor(t), &kinesis.SplitShardInput{StreamName: aws.String(stream), ShardToSplit: aws.String(shardID),
				NewStartingHashKey: aws.String("170141183460469231731687303715884105728")})
			return err
		},
		"MergeShards": func(stream, shardID string) error {
			_, err := c.MergeShards(ctxFor(t), &kinesis.MergeShardsInput{StreamName: aws.String(stream), ShardToMerge: aws.String(shardID),
				AdjacentShardToMerge: aws.String("shardId-000000000000")})
			return err
		},
		"ListShards": func(stream, shardID string) error {
			_, err := c.ListShards(ctxFor(t), &kinesis.ListShardsInput{StreamName: aws.String(stream),
				ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String(shardID)}})
			return err
		},
	}
	for action, call := range calls {
		for _, shardID := range []string{"shardId-5", "5", "shard-zero", "shardId-000000000000"} {
			t.Run(action+" unknown stream "+shardID, func(t *testing.T) {
				wantAPIError(t, call(missing, shardID), "ResourceNotFoundException", notFound)
			})
		}
	}
	// The stream exists: the shard is named as written.
	tests := []struct {
		action, shardID, msg string
	}{
		{"GetShardIterator", "shardId-5", "Shard shardId-5 in stream %s under account %s does not exist"},
		{"GetShardIterator", "7", "Shard 7 in stream %s under account %s does not exist"},
		{"GetShardIterator", "shard-zero", "Could not find shard shard-zero in stream %s under account %s."},
		{"SplitShard", "shardId-5", "Could not find shard shardId-5 in stream %s under account %s."},
		{"MergeShards", "shardId-5", "Could not find shard shardId-5 in stream %s under account %s."},
	}
	for _, tc := range tests {
		t.Run(tc.action+" "+tc.shardID, func(t *testing.T) {
			wantAPIError(t, calls[tc.action](name, tc.shardID), "ResourceNotFoundException", fmt.Sprintf(tc.msg, name, defaultAccount))
		})
	}
}

// TestSequenceNumberForOrdering pins how PutRecord checks
// SequenceNumberForOrdering: against the SequenceNumber pattern first (a
// ValidationException), then, like GetShardIterator's
// StartingSequenceNumber, by decoding it as a sequence number this server
// issues (an InvalidArgumentException). A bad one stores nothing.
func TestSequenceNumberForOrdering(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	put := func(seq string) (*kinesis.PutRecordOutput, error) {
		return c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"),
			Data: []byte("x"), SequenceNumberForOrdering: aws.String(seq)})
	}
	first, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("first")})
	if err != nil {
		t.Fatal(err)
	}
	good := *first.SequenceNumber
	// A 56-digit number that is not a sequence number: the top digit
	// changed, so it no longer starts with the layout's 2.
	forged := "9" + good[1:]
	invalid := func(seq string) string {
		return fmt.Sprintf("ExclusiveMinimumSequenceNumber %s used in PutRecord on stream %s under account %s is invalid.", seq, name, defaultAccount)
	}
	tests := []struct {
		name, seq, code, msg string
	}{
		{"leading zero", "0" + good, "ValidationException", validationMsg(violation{q("0" + good), "sequenceNumberForOrdering", seqPattern})},
		{"not digits", "12a45", "ValidationException", validationMsg(violation{q("12a45"), "sequenceNumberForOrdering", seqPattern})},
		{"130 digits", "1" + strings.Repeat("0", 129), "ValidationException", validationMsg(violation{q("1" + strings.Repeat("0", 129)), "sequenceNumberForOrdering", seqPattern})},
		{"zero", "0", "InvalidArgumentException", invalid("0")},
		{"short", "12345", "InvalidArgumentException", invalid("12345")},
		{"57 digits", good + "1", "InvalidArgumentException", invalid(good + "1")},
		{"56 digits, not our layout", forged, "InvalidArgumentException", invalid(forged)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := put(tc.seq)
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}
	// A sequence number the server issued orders the next put after it.
	next, err := put(good)
	if err != nil {
		t.Fatal(err)
	}
	if !seqLess(good, *next.SequenceNumber) {
		t.Fatalf("sequence %s does not follow %s", *next.SequenceNumber, good)
	}
	it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if recs := readAll(t, c, it); len(recs) != 2 {
		t.Fatalf("%d records stored, want 2: the refused puts stored something", len(recs))
	}
}
