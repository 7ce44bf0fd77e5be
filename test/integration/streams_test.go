package integration

import (
	"context"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	smithyendpoints "github.com/aws/smithy-go/endpoints"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// maxHashKey is 2^128-1, the end of the last shard's range.
var maxHashKey = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

// TestCreateStream pins what CreateStream makes: the shard count asked for
// (four for ON_DEMAND), the key space split evenly over the shards, the
// stream mode, tags given at creation, and the errors for a missing
// ShardCount and a duplicate name.
func TestCreateStream(t *testing.T) {
	t.Parallel()
	c := client()
	tests := []struct {
		name       string
		in         kinesis.CreateStreamInput
		wantShards int
		wantMode   types.StreamMode
		wantTags   map[string]string
	}{
		{"provisioned one shard", kinesis.CreateStreamInput{ShardCount: aws.Int32(1)}, 1, types.StreamModeProvisioned, nil},
		{"provisioned three shards", kinesis.CreateStreamInput{ShardCount: aws.Int32(3)}, 3, types.StreamModeProvisioned, nil},
		{"explicit PROVISIONED mode", kinesis.CreateStreamInput{ShardCount: aws.Int32(2),
			StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned}}, 2, types.StreamModeProvisioned, nil},
		{"ON_DEMAND gets four shards", kinesis.CreateStreamInput{
			StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}, 4, types.StreamModeOnDemand, nil},
		{"tags at creation", kinesis.CreateStreamInput{ShardCount: aws.Int32(1),
			Tags: map[string]string{"team": "data", "env": "test"}}, 1, types.StreamModeProvisioned,
			map[string]string{"team": "data", "env": "test"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxFor(t)
			name := streamName(t)
			in := tc.in
			in.StreamName = aws.String(name)
			if _, err := c.CreateStream(ctx, &in); err != nil {
				t.Fatal(err)
			}
			waitStatus(t, c, name, types.StreamStatusActive)
			out, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			d := out.StreamDescription
			if len(d.Shards) != tc.wantShards {
				t.Fatalf("got %d shards, want %d", len(d.Shards), tc.wantShards)
			}
			if d.StreamModeDetails == nil || d.StreamModeDetails.StreamMode != tc.wantMode {
				t.Errorf("StreamModeDetails = %+v, want %s", d.StreamModeDetails, tc.wantMode)
			}
			if got, want := *d.StreamARN, arnOf("us-east-1", defaultAccount, name); got != want {
				t.Errorf("StreamARN = %s, want %s", got, want)
			}
			if *d.RetentionPeriodHours != 24 || d.EncryptionType != types.EncryptionTypeNone {
				t.Errorf("RetentionPeriodHours = %d, EncryptionType = %s; want 24, NONE", *d.RetentionPeriodHours, d.EncryptionType)
			}
			// The key space is split evenly and contiguously.
			step := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(int64(tc.wantShards)))
			for i, s := range d.Shards {
				if want := fmt.Sprintf("shardId-%012d", i); *s.ShardId != want {
					t.Errorf("shard %d id = %s, want %s", i, *s.ShardId, want)
				}
				wantStart := new(big.Int).Mul(step, big.NewInt(int64(i)))
				wantEnd := new(big.Int).Sub(new(big.Int).Add(wantStart, step), big.NewInt(1))
				if i == tc.wantShards-1 {
					wantEnd = maxHashKey
				}
				if *s.HashKeyRange.StartingHashKey != wantStart.String() || *s.HashKeyRange.EndingHashKey != wantEnd.String() {
					t.Errorf("shard %d range = %s..%s, want %s..%s", i, *s.HashKeyRange.StartingHashKey,
						*s.HashKeyRange.EndingHashKey, wantStart, wantEnd)
				}
				if seq := *s.SequenceNumberRange.StartingSequenceNumber; len(seq) != 56 {
					t.Errorf("shard %d StartingSequenceNumber %q is not 56 digits", i, seq)
				}
				if s.SequenceNumberRange.EndingSequenceNumber != nil {
					t.Errorf("open shard %d has an EndingSequenceNumber", i)
				}
			}
			tags, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, tg := range tags.Tags {
				got[*tg.Key] = *tg.Value
			}
			if fmt.Sprint(got) != fmt.Sprint(map[string]string(tc.wantTags)) && !(len(got) == 0 && len(tc.wantTags) == 0) {
				t.Errorf("tags = %v, want %v", got, tc.wantTags)
			}
		})
	}

	t.Run("PROVISIONED needs ShardCount", func(t *testing.T) {
		t.Parallel()
		_, err := c.CreateStream(ctxFor(t), &kinesis.CreateStreamInput{StreamName: aws.String(streamName(t))})
		wantAPIError(t, err, "InvalidArgumentException", "ShardCount must be provided for PROVISIONED streams.")
	})
	t.Run("duplicate name", func(t *testing.T) {
		t.Parallel()
		name := streamName(t)
		createStream(t, c, name, 1)
		_, err := c.CreateStream(ctxFor(t), &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(2)})
		wantAPIError(t, err, "ResourceInUseException", fmt.Sprintf("Stream %s under account %s already exists.", name, defaultAccount))
	})
}

// TestDeleteStream pins that a deleted stream is gone from every action
// (with EnforceConsumerDeletion accepted), that its name can be reused for
// a new, empty stream, and that deleting a missing stream is
// ResourceNotFoundException naming the stream and account.
func TestDeleteStream(t *testing.T) {
	t.Parallel()
	c := client()
	ctx := ctxFor(t)
	name := streamName(t)
	createStream(t, c, name, 1)
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	notFound := fmt.Sprintf("Stream %s under account %s not found.", name, defaultAccount)
	poll(t, "the stream to disappear", 10*time.Second, func() bool {
		_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		return err != nil
	})
	_, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
	wantAPIError(t, err, "ResourceNotFoundException", notFound)
	_, err = c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)})
	wantAPIError(t, err, "ResourceNotFoundException", notFound)
	_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x")})
	wantAPIError(t, err, "ResourceNotFoundException", notFound)
	list, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range list.StreamNames {
		if n == name {
			t.Fatalf("ListStreams still lists deleted stream %s", name)
		}
	}

	// The name can be used again, and the new stream starts empty.
	createStream(t, c, name, 1)
	it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if recs := readAll(t, c, it); len(recs) != 0 {
		t.Fatalf("re-created stream holds %d records of the deleted one", len(recs))
	}
}

// TestDescribeStream pins DescribeStream's description and its shard
// pagination: Limit caps the shards returned, ExclusiveStartShardId starts
// after a shard id, and HasMoreShards says whether more remain.
func TestDescribeStream(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 5)
	tests := []struct {
		name     string
		limit    *int32
		start    *string
		wantIDs  []int
		wantMore bool
	}{
		{"all", nil, nil, []int{0, 1, 2, 3, 4}, false},
		{"limit 2", aws.Int32(2), nil, []int{0, 1}, true},
		{"limit equal to shard count", aws.Int32(5), nil, []int{0, 1, 2, 3, 4}, false},
		{"after shard 1, limit 2", aws.Int32(2), aws.String("shardId-000000000001"), []int{2, 3}, true},
		{"after shard 3, limit 2", aws.Int32(2), aws.String("shardId-000000000003"), []int{4}, false},
		{"after the last shard", nil, aws.String("shardId-000000000004"), nil, false},
		{"after a shard id that does not exist", nil, aws.String("shardId-000000000002x"), []int{3, 4}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := c.DescribeStream(ctxFor(t), &kinesis.DescribeStreamInput{StreamName: aws.String(name),
				Limit: tc.limit, ExclusiveStartShardId: tc.start})
			if err != nil {
				t.Fatal(err)
			}
			d := out.StreamDescription
			var got []int
			for _, s := range d.Shards {
				var i int
				fmt.Sscanf(*s.ShardId, "shardId-%d", &i)
				got = append(got, i)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantIDs) {
				t.Errorf("shards = %v, want %v", got, tc.wantIDs)
			}
			if *d.HasMoreShards != tc.wantMore {
				t.Errorf("HasMoreShards = %v, want %v", *d.HasMoreShards, tc.wantMore)
			}
			if *d.StreamName != name || d.StreamStatus != types.StreamStatusActive || d.StreamCreationTimestamp == nil {
				t.Errorf("description = %s %s %v", *d.StreamName, d.StreamStatus, d.StreamCreationTimestamp)
			}
		})
	}
	t.Run("missing stream", func(t *testing.T) {
		t.Parallel()
		_, err := c.DescribeStream(ctxFor(t), &kinesis.DescribeStreamInput{StreamName: aws.String("no-such-stream")})
		wantAPIError(t, err, "ResourceNotFoundException", "Stream no-such-stream under account 000000000000 not found.")
	})
}

// TestDescribeStreamSummary pins the summary's members: open shard count,
// mode, retention, ARN, consumer count and encryption.
func TestDescribeStreamSummary(t *testing.T) {
	t.Parallel()
	c := client()
	ctx := ctxFor(t)
	name := streamName(t)
	createStream(t, c, name, 3)
	out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	s := out.StreamDescriptionSummary
	if *s.StreamName != name || *s.StreamARN != arnOf("us-east-1", defaultAccount, name) ||
		s.StreamStatus != types.StreamStatusActive || *s.OpenShardCount != 3 || *s.RetentionPeriodHours != 24 ||
		s.StreamModeDetails.StreamMode != types.StreamModeProvisioned || *s.ConsumerCount != 0 ||
		s.EncryptionType != types.EncryptionTypeNone || s.StreamCreationTimestamp == nil || s.StreamCreationTimestamp.IsZero() {
		t.Errorf("summary = %+v", s)
	}
	_, err = c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("no-such-stream")})
	wantAPIError(t, err, "ResourceNotFoundException", "Stream no-such-stream under account 000000000000 not found.")
}

// TestListStreams pins ListStreams in one account: names in sorted order
// with matching StreamSummaries, and pagination by Limit with
// HasMoreStreams, ExclusiveStartStreamName and NextToken.
func TestListStreams(t *testing.T) {
	t.Parallel()
	acct := uniqueAccount()
	c := client(testserver.WithAccount(acct))
	ctx := ctxFor(t)
	names := []string{"alpha", "bravo", "charlie", "delta", "echo"}
	// Create out of order: listing sorts.
	for _, n := range []string{"delta", "alpha", "echo", "charlie", "bravo"} {
		createStream(t, c, n, 1)
	}
	out, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !equalStrings(out.StreamNames, names) || *out.HasMoreStreams || out.NextToken != nil {
		t.Fatalf("ListStreams = %v more=%v token=%v, want %v", out.StreamNames, *out.HasMoreStreams, out.NextToken, names)
	}
	if len(out.StreamSummaries) != len(names) {
		t.Fatalf("%d StreamSummaries, want %d", len(out.StreamSummaries), len(names))
	}
	for i, s := range out.StreamSummaries {
		if *s.StreamName != names[i] || *s.StreamARN != arnOf("us-east-1", acct, names[i]) ||
			s.StreamStatus != types.StreamStatusActive || s.StreamModeDetails.StreamMode != types.StreamModeProvisioned ||
			s.StreamCreationTimestamp == nil {
			t.Errorf("summary %d = %+v", i, s)
		}
	}

	tests := []struct {
		name      string
		in        kinesis.ListStreamsInput
		want      []string
		wantMore  bool
		wantToken bool
	}{
		{"limit 2", kinesis.ListStreamsInput{Limit: aws.Int32(2)}, names[:2], true, true},
		{"limit 5", kinesis.ListStreamsInput{Limit: aws.Int32(5)}, names, false, false},
		{"exclusive start bravo", kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("bravo")}, names[2:], false, false},
		{"exclusive start not a stream", kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("c")}, names[2:], false, false},
		{"exclusive start and limit", kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("alpha"), Limit: aws.Int32(2)}, names[1:3], true, true},
		{"past the end", kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("zulu")}, nil, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			out, err := c.ListStreams(ctxFor(t), &in)
			if err != nil {
				t.Fatal(err)
			}
			if !equalStrings(out.StreamNames, tc.want) || *out.HasMoreStreams != tc.wantMore || (out.NextToken != nil) != tc.wantToken {
				t.Errorf("got %v more=%v token=%v; want %v more=%v token=%v", out.StreamNames, *out.HasMoreStreams,
					out.NextToken != nil, tc.want, tc.wantMore, tc.wantToken)
			}
		})
	}

	t.Run("NextToken pages through", func(t *testing.T) {
		var got []string
		in := &kinesis.ListStreamsInput{Limit: aws.Int32(2)}
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("too many pages")
			}
			out, err := c.ListStreams(ctxFor(t), in)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, out.StreamNames...)
			if out.NextToken == nil {
				break
			}
			in = &kinesis.ListStreamsInput{NextToken: out.NextToken, Limit: aws.Int32(2)}
		}
		if !equalStrings(got, names) {
			t.Errorf("paged names = %v, want %v", got, names)
		}
	})
	t.Run("SDK paginator", func(t *testing.T) {
		p := kinesis.NewListStreamsPaginator(c, &kinesis.ListStreamsInput{Limit: aws.Int32(3)})
		var got []string
		for p.HasMorePages() {
			out, err := p.NextPage(ctxFor(t))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, out.StreamNames...)
		}
		if !equalStrings(got, names) {
			t.Errorf("paginated names = %v, want %v", got, names)
		}
	})
	t.Run("invalid NextToken", func(t *testing.T) {
		_, err := c.ListStreams(ctxFor(t), &kinesis.ListStreamsInput{NextToken: aws.String("not-a-token")})
		wantAPIError(t, err, "InvalidArgumentException", "Invalid NextToken.")
	})
}

func shardIDs(shards []types.Shard) []string {
	var ids []string
	for _, s := range shards {
		ids = append(ids, *s.ShardId)
	}
	return ids
}

func ids(idx ...int) []string {
	var out []string
	for _, i := range idx {
		out = append(out, fmt.Sprintf("shardId-%012d", i))
	}
	return out
}

// TestListShards pins ListShards: every ShardFilter type, MaxResults with
// NextToken paging, ExclusiveStartShardId, and the InvalidArgumentException
// for a NextToken combined with another member, for neither NextToken nor
// a stream, for incomplete filters and for a bad token.
func TestListShards(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 5)
	desc, err := c.DescribeStreamSummary(ctxFor(t), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	created := *desc.StreamDescriptionSummary.StreamCreationTimestamp
	all := ids(0, 1, 2, 3, 4)
	filter := func(typ types.ShardFilterType, id *string, ts *time.Time) *types.ShardFilter {
		return &types.ShardFilter{Type: typ, ShardId: id, Timestamp: ts}
	}
	past := time.Now().Add(-time.Hour)
	now := time.Now()
	tests := []struct {
		name      string
		in        kinesis.ListShardsInput
		want      []string
		wantToken bool
	}{
		{"all", kinesis.ListShardsInput{}, all, false},
		{"MaxResults 2", kinesis.ListShardsInput{MaxResults: aws.Int32(2)}, ids(0, 1), true},
		{"MaxResults 5", kinesis.ListShardsInput{MaxResults: aws.Int32(5)}, all, false},
		{"MaxResults above 1000", kinesis.ListShardsInput{MaxResults: aws.Int32(10000)}, all, false},
		{"ExclusiveStartShardId", kinesis.ListShardsInput{ExclusiveStartShardId: aws.String("shardId-000000000002")}, ids(3, 4), false},
		{"ExclusiveStartShardId and MaxResults", kinesis.ListShardsInput{ExclusiveStartShardId: aws.String("shardId-000000000000"), MaxResults: aws.Int32(2)}, ids(1, 2), true},
		{"StreamCreationTimestamp", kinesis.ListShardsInput{StreamCreationTimestamp: &created}, all, false},
		{"AFTER_SHARD_ID", kinesis.ListShardsInput{ShardFilter: filter(types.ShardFilterTypeAfterShardId, aws.String("shardId-000000000001"), nil)}, ids(2, 3, 4), false},
		{"AT_TRIM_HORIZON", kinesis.ListShardsInput{ShardFilter: filter(types.ShardFilterTypeAtTrimHorizon, nil, nil)}, all, false},
		{"FROM_TRIM_HORIZON", kinesis.ListShardsInput{ShardFilter: filter(types.ShardFilterTypeFromTrimHorizon, nil, nil)}, all, false},
		{"AT_LATEST", kinesis.ListShardsInput{ShardFilter: filter(types.ShardFilterTypeAtLatest, nil, nil)}, all, false},
		{"AT_TIMESTAMP now", kinesis.ListShardsInput{ShardFilter: filter(types.ShardFilterTypeAtTimestamp, nil, &now)}, all, false},
		{"AT_TIMESTAMP before creation", kinesis.ListShardsInput{ShardFilter: filter(types.ShardFilterTypeAtTimestamp, nil, &past)}, all, false},
		{"FROM_TIMESTAMP", kinesis.ListShardsInput{ShardFilter: filter(types.ShardFilterTypeFromTimestamp, nil, &past)}, all, false},
		{"AFTER_SHARD_ID with MaxResults", kinesis.ListShardsInput{MaxResults: aws.Int32(1),
			ShardFilter: filter(types.ShardFilterTypeAfterShardId, aws.String("shardId-000000000003"), nil)}, ids(4), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.in
			in.StreamName = aws.String(name)
			out, err := c.ListShards(ctxFor(t), &in)
			if err != nil {
				t.Fatal(err)
			}
			if got := shardIDs(out.Shards); !equalStrings(got, tc.want) || (out.NextToken != nil) != tc.wantToken {
				t.Errorf("shards = %v token=%v, want %v token=%v", got, out.NextToken != nil, tc.want, tc.wantToken)
			}
		})
	}

	t.Run("NextToken pages through", func(t *testing.T) {
		t.Parallel()
		var got []string
		in := &kinesis.ListShardsInput{StreamName: aws.String(name), MaxResults: aws.Int32(2)}
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("too many pages")
			}
			out, err := c.ListShards(ctxFor(t), in)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, shardIDs(out.Shards)...)
			if out.NextToken == nil {
				break
			}
			in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(2)}
		}
		if !equalStrings(got, all) {
			t.Errorf("paged shards = %v, want %v", got, all)
		}
	})

	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		first, err := c.ListShards(ctxFor(t), &kinesis.ListShardsInput{StreamName: aws.String(name), MaxResults: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		tok := first.NextToken
		errTests := []struct {
			name string
			in   kinesis.ListShardsInput
			code string
			msg  string
		}{
			{"NextToken with StreamName", kinesis.ListShardsInput{NextToken: tok, StreamName: aws.String(name)},
				"InvalidArgumentException", "NextToken and StreamName cannot be provided together."},
			{"NextToken with StreamARN", kinesis.ListShardsInput{NextToken: tok, StreamARN: aws.String(arnOf("us-east-1", defaultAccount, name))},
				"InvalidArgumentException", "NextToken and StreamARN cannot be provided together."},
			{"NextToken with ExclusiveStartShardId", kinesis.ListShardsInput{NextToken: tok, ExclusiveStartShardId: aws.String("shardId-000000000000")},
				"InvalidArgumentException", "NextToken and ExclusiveStartShardId cannot be provided together."},
			{"NextToken with ShardFilter", kinesis.ListShardsInput{NextToken: tok, ShardFilter: filter(types.ShardFilterTypeAtLatest, nil, nil)},
				"InvalidArgumentException", "NextToken and ShardFilter cannot be provided together."},
			{"neither NextToken nor StreamName", kinesis.ListShardsInput{},
				"InvalidArgumentException", "Either NextToken or StreamName should be provided."},
			{"bad NextToken", kinesis.ListShardsInput{NextToken: aws.String("garbage")},
				"InvalidArgumentException", "Invalid NextToken."},
			{"AFTER_SHARD_ID without ShardId", kinesis.ListShardsInput{StreamName: aws.String(name), ShardFilter: filter(types.ShardFilterTypeAfterShardId, nil, nil)},
				"InvalidArgumentException", "ShardId must be supplied in a ShardFilter with a Type of AFTER_SHARD_ID."},
			{"AT_TIMESTAMP without Timestamp", kinesis.ListShardsInput{StreamName: aws.String(name), ShardFilter: filter(types.ShardFilterTypeAtTimestamp, nil, nil)},
				"InvalidArgumentException", "Timestamp must be supplied in a ShardFilter with a Type of FROM_TIMESTAMP or AT_TIMESTAMP."},
			{"FROM_TIMESTAMP without Timestamp", kinesis.ListShardsInput{StreamName: aws.String(name), ShardFilter: filter(types.ShardFilterTypeFromTimestamp, nil, nil)},
				"InvalidArgumentException", "Timestamp must be supplied in a ShardFilter with a Type of FROM_TIMESTAMP or AT_TIMESTAMP."},
			{"missing stream", kinesis.ListShardsInput{StreamName: aws.String("no-such-stream")},
				"ResourceNotFoundException", "Stream no-such-stream under account 000000000000 not found."},
		}
		for _, tc := range errTests {
			in := tc.in
			_, err := c.ListShards(ctxFor(t), &in)
			t.Run(tc.name, func(t *testing.T) { wantAPIError(t, err, tc.code, tc.msg) })
		}
	})
}

// TestRetentionPeriod pins Increase/DecreaseStreamRetentionPeriod: the new
// period shows in the description, equal values are accepted by both, and
// each direction, bound and missing stream fails with AWS's
// InvalidArgumentException or ResourceNotFoundException wording.
func TestRetentionPeriod(t *testing.T) {
	t.Parallel()
	c := client()
	ctx := ctxFor(t)
	name := streamName(t)
	createStream(t, c, name, 1)
	inc := func(h int32) error {
		_, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(h)})
		return err
	}
	dec := func(h int32) error {
		_, err := c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(h)})
		return err
	}
	retention := func() int32 {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.StreamDescriptionSummary.RetentionPeriodHours
	}
	steps := []struct {
		name string
		call func() error
		code string
		msg  string
		want int32
	}{
		{"increase to 48", func() error { return inc(48) }, "", "", 48},
		{"increase to the same value", func() error { return inc(48) }, "", "", 48},
		{"decrease to the same value", func() error { return dec(48) }, "", "", 48},
		{"increase to less", func() error { return inc(24) }, "InvalidArgumentException",
			fmt.Sprintf("Requested retention period (24 hours) for stream %s can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API.", name), 48},
		{"decrease to more", func() error { return dec(72) }, "InvalidArgumentException",
			fmt.Sprintf("Requested retention period (72 hours) for stream %s can not be longer than existing retention period (48 hours). Use IncreaseRetentionPeriod API.", name), 48},
		{"decrease below 24", func() error { return dec(23) }, "InvalidArgumentException",
			"Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.", 48},
		{"increase below 24", func() error { return inc(1) }, "InvalidArgumentException",
			"Minimum allowed retention period is 24 hours. Requested retention period (1 hours) is too short.", 48},
		{"increase above 8760", func() error { return inc(8761) }, "InvalidArgumentException",
			"Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long.", 48},
		{"increase to 8760", func() error { return inc(8760) }, "", "", 8760},
		{"decrease to 24", func() error { return dec(24) }, "", "", 24},
	}
	for _, s := range steps {
		err := s.call()
		if s.code == "" {
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		} else {
			t.Run(s.name, func(t *testing.T) { wantAPIError(t, err, s.code, s.msg) })
		}
		if got := retention(); got != s.want {
			t.Fatalf("after %s: RetentionPeriodHours = %d, want %d", s.name, got, s.want)
		}
	}
	_, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("no-such-stream"), RetentionPeriodHours: aws.Int32(48)})
	wantAPIError(t, err, "ResourceNotFoundException", "Stream no-such-stream under account 000000000000 not found.")
	_, err = c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String("no-such-stream"), RetentionPeriodHours: aws.Int32(24)})
	wantAPIError(t, err, "ResourceNotFoundException", "Stream no-such-stream under account 000000000000 not found.")
}

// TestDescribeLimits pins DescribeLimits' counts, per account and region:
// the shard limit, open shards over all streams, and on-demand streams.
func TestDescribeLimits(t *testing.T) {
	t.Parallel()
	acct := uniqueAccount()
	c := client(testserver.WithAccount(acct))
	ctx := ctxFor(t)
	createStream(t, c, "provisioned", 3)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("on-demand"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                string
		c                   *kinesis.Client
		open, onDemandCount int32
	}{
		{"account with streams", c, 7, 1},
		{"same account, other region", client(testserver.WithAccount(acct), testserver.WithRegion("eu-west-1")), 0, 0},
		{"other account", client(testserver.WithAccount(uniqueAccount())), 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.c.DescribeLimits(ctxFor(t), &kinesis.DescribeLimitsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if *out.ShardLimit != 500 || *out.OpenShardCount != tc.open || *out.OnDemandStreamCount != tc.onDemandCount || *out.OnDemandStreamCountLimit != 50 {
				t.Errorf("limits = shard %d open %d on-demand %d/%d; want 500, %d, %d/50", *out.ShardLimit, *out.OpenShardCount,
					*out.OnDemandStreamCount, *out.OnDemandStreamCountLimit, tc.open, tc.onDemandCount)
			}
		})
	}
}

// TestStreamARN pins that every action that names a stream accepts its ARN
// in StreamARN instead of StreamName, that a StreamName contradicting the
// ARN is rejected, and that an ARN of a missing stream is
// ResourceNotFoundException naming the stream and the ARN's account.
func TestStreamARN(t *testing.T) {
	t.Parallel()
	c := client()
	ctx := ctxFor(t)
	name := streamName(t)
	createStream(t, c, name, 2)
	arn := aws.String(arnOf("us-east-1", defaultAccount, name))
	var seq, it string

	steps := []struct {
		action string
		call   func() error
	}{
		{"DescribeStream", func() error {
			out, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamARN: arn})
			if err == nil && (*out.StreamDescription.StreamName != name || len(out.StreamDescription.Shards) != 2) {
				return fmt.Errorf("described %s with %d shards", *out.StreamDescription.StreamName, len(out.StreamDescription.Shards))
			}
			return err
		}},
		{"DescribeStreamSummary", func() error {
			out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: arn})
			if err == nil && *out.StreamDescriptionSummary.StreamName != name {
				return fmt.Errorf("described %s", *out.StreamDescriptionSummary.StreamName)
			}
			return err
		}},
		{"ListShards", func() error {
			out, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: arn})
			if err == nil && len(out.Shards) != 2 {
				return fmt.Errorf("%d shards", len(out.Shards))
			}
			return err
		}},
		{"PutRecord", func() error {
			out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: arn, PartitionKey: aws.String("k"),
				ExplicitHashKey: aws.String("0"), Data: []byte("one")})
			if err == nil {
				seq = *out.SequenceNumber
			}
			return err
		}},
		{"PutRecords", func() error {
			out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: arn, Records: []types.PutRecordsRequestEntry{
				{PartitionKey: aws.String("k"), ExplicitHashKey: aws.String("0"), Data: []byte("two")}}})
			if err == nil && *out.FailedRecordCount != 0 {
				return fmt.Errorf("%d failed", *out.FailedRecordCount)
			}
			return err
		}},
		{"GetShardIterator", func() error {
			out, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: arn, ShardId: aws.String("shardId-000000000000"),
				ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(seq)})
			if err == nil {
				it = *out.ShardIterator
			}
			return err
		}},
		{"GetRecords", func() error {
			out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: arn, ShardIterator: aws.String(it)})
			if err == nil && !equalStrings(dataOf(out.Records), []string{"one", "two"}) {
				return fmt.Errorf("read %q", dataOf(out.Records))
			}
			return err
		}},
		{"IncreaseStreamRetentionPeriod", func() error {
			_, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamARN: arn, RetentionPeriodHours: aws.Int32(36)})
			return err
		}},
		{"DecreaseStreamRetentionPeriod", func() error {
			_, err := c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamARN: arn, RetentionPeriodHours: aws.Int32(30)})
			return err
		}},
		{"AddTagsToStream", func() error {
			_, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamARN: arn, Tags: map[string]string{"a": "1", "b": "2"}})
			return err
		}},
		{"RemoveTagsFromStream", func() error {
			_, err := c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamARN: arn, TagKeys: []string{"a"}})
			return err
		}},
		{"ListTagsForStream", func() error {
			out, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamARN: arn})
			if err == nil && (len(out.Tags) != 1 || *out.Tags[0].Key != "b") {
				return fmt.Errorf("tags %v", out.Tags)
			}
			return err
		}},
		{"DescribeStreamSummary sees the changes", func() error {
			out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
			if err == nil && *out.StreamDescriptionSummary.RetentionPeriodHours != 30 {
				return fmt.Errorf("retention %d", *out.StreamDescriptionSummary.RetentionPeriodHours)
			}
			return err
		}},
		{"DeleteStream", func() error {
			_, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: arn})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.call(); err != nil {
			t.Fatalf("%s by ARN: %v", s.action, err)
		}
	}
	poll(t, "the stream to disappear", 10*time.Second, func() bool {
		_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: arn})
		return err != nil
	})

	t.Run("ARN of a missing stream", func(t *testing.T) {
		_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(arnOf("us-east-1", "123456789012", "nope"))})
		wantAPIError(t, err, "ResourceNotFoundException", "Stream nope under account 123456789012 not found.")
	})
	t.Run("StreamName contradicting StreamARN", func(t *testing.T) {
		other := streamName(t)
		createStream(t, c, other, 1)
		a := arnOf("us-east-1", defaultAccount, other)
		_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(a), StreamName: aws.String("different")})
		wantAPIError(t, err, "InvalidArgumentException", fmt.Sprintf("StreamARN %s and StreamName different do not refer to the same stream.", a))
		if _, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(a), StreamName: aws.String(other)}); err != nil {
			t.Errorf("matching StreamARN and StreamName: %v", err)
		}
	})
}

// TestAccountsAndRegions pins that streams are scoped by account and
// region: the same name in two accounts and two regions is three streams
// holding their own records, listed, described and deleted separately, and
// a stream missing from an account is reported under that account.
func TestAccountsAndRegions(t *testing.T) {
	t.Parallel()
	acctA, acctB := uniqueAccount(), uniqueAccount()
	const name = "orders"
	scopes := []struct {
		label, account, region string
		c                      *kinesis.Client
	}{
		{"A us-east-1", acctA, "us-east-1", client(testserver.WithAccount(acctA))},
		{"B us-east-1", acctB, "us-east-1", client(testserver.WithAccount(acctB))},
		{"A eu-west-1", acctA, "eu-west-1", client(testserver.WithAccount(acctA), testserver.WithRegion("eu-west-1"))},
	}
	for i, s := range scopes {
		ctx := ctxFor(t)
		createStream(t, s.c, name, int32(i+1))
		if _, err := s.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"),
			ExplicitHashKey: aws.String("0"), Data: []byte("from " + s.label)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range scopes {
		t.Run(s.label, func(t *testing.T) {
			ctx := ctxFor(t)
			d, err := s.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.StreamDescription.Shards) != i+1 || *d.StreamDescription.StreamARN != arnOf(s.region, s.account, name) {
				t.Errorf("described %d shards, ARN %s", len(d.StreamDescription.Shards), *d.StreamDescription.StreamARN)
			}
			it := iterator(t, s.c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"),
				ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if got := dataOf(readAll(t, s.c, it)); !equalStrings(got, []string{"from " + s.label}) {
				t.Errorf("records = %q, want only this scope's", got)
			}
			l, err := s.c.ListStreams(ctx, &kinesis.ListStreamsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if !equalStrings(l.StreamNames, []string{name}) || *l.StreamSummaries[0].StreamARN != arnOf(s.region, s.account, name) {
				t.Errorf("ListStreams = %v %v", l.StreamNames, l.StreamSummaries)
			}
		})
	}
	t.Run("missing in another account", func(t *testing.T) {
		other := uniqueAccount()
		_, err := client(testserver.WithAccount(other)).DescribeStream(ctxFor(t), &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
		wantAPIError(t, err, "ResourceNotFoundException", fmt.Sprintf("Stream %s under account %s not found.", name, other))
	})
	t.Run("delete in one scope only", func(t *testing.T) {
		ctx := ctxFor(t)
		if _, err := scopes[0].c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		poll(t, "the stream to disappear", 10*time.Second, func() bool {
			_, err := scopes[0].c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
			return err != nil
		})
		for _, s := range scopes[1:] {
			if _, err := s.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)}); err != nil {
				t.Errorf("%s: %v", s.label, err)
			}
		}
	})
}

// TestStreamLifecycle pins the status transitions clients wait on: a new
// stream is CREATING (no shards, puts rejected as not found, duplicate
// creates rejected) until its delay passes and then ACTIVE; a deleted one
// is DELETING, still listed, and then gone.
func TestStreamLifecycle(t *testing.T) {
	t.Parallel()
	// The delays are long enough that the checks made while the stream is
	// CREATING or DELETING finish inside them even on a loaded machine.
	p := inproc.Start(t, "-create-stream-delay", "2s", "-delete-stream-delay", "2s")
	c := p.Client()
	ctx := ctxFor(t)
	name := "lifecycle"
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if d.StreamDescription.StreamStatus != types.StreamStatusCreating || len(d.StreamDescription.Shards) != 0 {
		t.Fatalf("new stream is %s with %d shards, want CREATING with none", d.StreamDescription.StreamStatus, len(d.StreamDescription.Shards))
	}
	_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x")})
	wantAPIError(t, err, "ResourceNotFoundException", "Stream lifecycle under account 000000000000 not found.")
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(2)})
	wantAPIError(t, err, "ResourceInUseException", "Stream lifecycle under account 000000000000 already exists.")
	_, err = c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	wantAPIError(t, err, "ResourceNotFoundException", "Shard shardId-000000000000 in stream lifecycle under account 000000000000 does not exist")

	// The SDK's own waiter sees it become ACTIVE.
	if err := kinesis.NewStreamExistsWaiter(c, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	}).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	d, err = c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if d.StreamDescription.StreamStatus != types.StreamStatusActive || len(d.StreamDescription.Shards) != 2 {
		t.Fatalf("stream is %s with %d shards, want ACTIVE with 2", d.StreamDescription.StreamStatus, len(d.StreamDescription.Shards))
	}
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}

	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	s, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if s.StreamDescriptionSummary.StreamStatus != types.StreamStatusDeleting {
		t.Fatalf("deleted stream is %s, want DELETING", s.StreamDescriptionSummary.StreamStatus)
	}
	l, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.StreamSummaries) != 1 || l.StreamSummaries[0].StreamStatus != types.StreamStatusDeleting {
		t.Fatalf("ListStreams while deleting = %+v", l.StreamSummaries)
	}
	if err := kinesis.NewStreamNotExistsWaiter(c, func(o *kinesis.StreamNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	}).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	wantAPIError(t, err, "ResourceNotFoundException", "Stream lifecycle under account 000000000000 not found.")
	l, err = c.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.StreamNames) != 0 {
		t.Fatalf("ListStreams after deletion = %v", l.StreamNames)
	}
}

// TestShardLimit pins the per-account, per-region open-shard quota set by
// -shard-limit: a create that would exceed it fails with AWS's
// LimitExceededException text, DescribeLimits reports it, other accounts
// have their own quota, and deleting a stream frees its shards.
func TestShardLimit(t *testing.T) {
	t.Parallel()
	p := inproc.Start(t, "-shard-limit", "5")
	c := p.Client()
	ctx := ctxFor(t)
	create := func(c *kinesis.Client, name string, n int32) error {
		_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(n)})
		return err
	}
	if err := create(c, "three", 3); err != nil {
		t.Fatal(err)
	}
	limitMsg := func(acct, region string, current, extra int) string {
		return fmt.Sprintf("This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %d. Limit: 5. Number of additional shards that would have resulted from this request: %d. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
			acct, region, current, extra)
	}
	wantAPIError(t, create(c, "three-more", 3), "LimitExceededException", limitMsg(defaultAccount, "us-east-1", 3, 3))
	wantAPIError(t, create(c, "on-demand", 0), "ValidationException", "")
	_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("on-demand"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	wantAPIError(t, err, "LimitExceededException", limitMsg(defaultAccount, "us-east-1", 3, 4))
	if err := create(c, "two", 2); err != nil {
		t.Fatalf("filling the quota exactly: %v", err)
	}
	lim, err := c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *lim.ShardLimit != 5 || *lim.OpenShardCount != 5 {
		t.Errorf("DescribeLimits = limit %d open %d, want 5 and 5", *lim.ShardLimit, *lim.OpenShardCount)
	}
	wantAPIError(t, create(c, "one", 1), "LimitExceededException", limitMsg(defaultAccount, "us-east-1", 5, 1))

	other := p.Client(testserver.WithAccount("123456789012"))
	if err := create(other, "five", 5); err != nil {
		t.Errorf("another account's quota: %v", err)
	}
	eu := p.Client(testserver.WithRegion("eu-west-1"))
	if err := create(eu, "five", 5); err != nil {
		t.Errorf("another region's quota: %v", err)
	}
	wantAPIError(t, create(eu, "six", 1), "LimitExceededException", limitMsg(defaultAccount, "eu-west-1", 5, 1))

	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("three")}); err != nil {
		t.Fatal(err)
	}
	poll(t, "deleted shards to be freed", 10*time.Second, func() bool { return create(c, "three-again", 3) == nil })
	if err := create(c, "one-too-many", 1); err == nil || !strings.Contains(err.Error(), "LimitExceededException") {
		t.Errorf("create beyond the quota after re-filling it: %v", err)
	}
}

// TestStreamId pins AWS's form of StreamId ([a-z0-9]{20}-[a-z0-9]{3}),
// that it names one incarnation of a stream (stable while it lives, new
// when the name is reused), that the actions taking a StreamId find the
// stream by it, and that a StreamId of another form is a
// ValidationException.
//
// aws-sdk-go-v2 routes a request carrying a StreamId of AWS's form to a
// per-stream AWS host (its endpoint rules for the reserved member), even
// with a custom endpoint, so the calls that select by StreamId use a
// client whose endpoint resolver always answers the server's address.
func TestStreamId(t *testing.T) {
	t.Parallel()
	c := client(fixedEndpoint(shared.Endpoint))
	form := regexp.MustCompile(`^[a-z0-9]{20}-[a-z0-9]{3}$`)
	name := streamName(t)
	createStream(t, c, name, 1)
	id := aws.ToString(summary(t, c, name).StreamId)
	if !form.MatchString(id) {
		t.Fatalf("StreamId %q does not match %s", id, form)
	}
	if again := aws.ToString(summary(t, c, name).StreamId); again != id {
		t.Fatalf("StreamId changed from %s to %s", id, again)
	}
	other := streamName(t)
	createStream(t, c, other, 1)
	if oid := aws.ToString(summary(t, c, other).StreamId); oid == id {
		t.Fatalf("two streams share StreamId %s", id)
	}
	if _, err := c.EnableEnhancedMonitoring(ctxFor(t), &kinesis.EnableEnhancedMonitoringInput{StreamId: aws.String(id),
		ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes}}); err != nil {
		t.Fatalf("EnableEnhancedMonitoring by StreamId: %v", err)
	}
	if m := summary(t, c, name).EnhancedMonitoring; len(m) != 1 || len(m[0].ShardLevelMetrics) != 1 {
		t.Fatalf("enhanced monitoring of %s after enabling it by StreamId: %+v", name, m)
	}

	if _, err := c.DeleteStream(ctxFor(t), &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	createStream(t, c, name, 1)
	if again := aws.ToString(summary(t, c, name).StreamId); again == id || !form.MatchString(again) {
		t.Fatalf("re-created stream has StreamId %q (the old one was %s)", again, id)
	}
	_, err := c.EnableEnhancedMonitoring(ctxFor(t), &kinesis.EnableEnhancedMonitoringInput{StreamId: aws.String(id),
		ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes}})
	wantAPIError(t, err, "ResourceNotFoundException", fmt.Sprintf("Stream with id %s under account %s not found.", id, defaultAccount))

	for _, bad := range []string{"0123456789abcdef", "ABCDEFGHIJ0123456789-abc", "abcdefghij0123456789_abc"} {
		_, err := c.EnableEnhancedMonitoring(ctxFor(t), &kinesis.EnableEnhancedMonitoringInput{StreamId: aws.String(bad),
			ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes}})
		wantAPIError(t, err, "ValidationException", validationMsg(violation{q(bad), "streamId", `satisfy regular expression pattern: [a-z0-9]{20}-[a-z0-9]{3}`}))
	}
}

// fixedEndpoint makes a client send every request to endpoint, whatever
// the SDK's endpoint rules would derive from its members (a StreamId of
// AWS's form would otherwise send it to AWS).
func fixedEndpoint(endpoint string) func(*kinesis.Options) {
	return func(o *kinesis.Options) { o.EndpointResolverV2 = fixedResolver{endpoint} }
}

type fixedResolver struct{ endpoint string }

func (r fixedResolver) ResolveEndpoint(context.Context, kinesis.EndpointParameters) (smithyendpoints.Endpoint, error) {
	u, err := url.Parse(r.endpoint)
	if err != nil {
		return smithyendpoints.Endpoint{}, err
	}
	return smithyendpoints.Endpoint{URI: *u}, nil
}
