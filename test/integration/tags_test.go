package integration

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func tagPairs(tags []types.Tag) []string {
	var out []string
	for _, tg := range tags {
		out = append(out, *tg.Key+"="+*tg.Value)
	}
	return out
}

// TestStreamTags pins AddTagsToStream, RemoveTagsFromStream and
// ListTagsForStream: adding merges and overwrites, removing unknown keys is
// a no-op, listing is in key order with Limit, ExclusiveStartTagKey and
// HasMoreTags, and the InvalidArgumentException texts for bad characters,
// the reserved aws: prefix and the 50-tag limit.
func TestStreamTags(t *testing.T) {
	t.Parallel()
	c := client()
	ctx := ctxFor(t)
	name := streamName(t)
	createStream(t, c, name, 1)
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String(name),
		Tags: map[string]string{"b": "2", "a": "1", "d": "4", "c": "3"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String(name),
		Tags: map[string]string{"a": "one", "e": "", "with space": "ünïcode/=+-@:."}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String(name),
		TagKeys: []string{"d", "not-there"}}); err != nil {
		t.Fatal(err)
	}
	all := []string{"a=one", "b=2", "c=3", "e=", "with space=ünïcode/=+-@:."}
	tests := []struct {
		name     string
		in       kinesis.ListTagsForStreamInput
		want     []string
		wantMore bool
	}{
		{"all", kinesis.ListTagsForStreamInput{}, all, false},
		{"Limit 2", kinesis.ListTagsForStreamInput{Limit: aws.Int32(2)}, all[:2], true},
		{"Limit 5", kinesis.ListTagsForStreamInput{Limit: aws.Int32(5)}, all, false},
		{"ExclusiveStartTagKey", kinesis.ListTagsForStreamInput{ExclusiveStartTagKey: aws.String("b")}, all[2:], false},
		{"ExclusiveStartTagKey and Limit", kinesis.ListTagsForStreamInput{ExclusiveStartTagKey: aws.String("a"), Limit: aws.Int32(2)}, all[1:3], true},
		{"ExclusiveStartTagKey past the end", kinesis.ListTagsForStreamInput{ExclusiveStartTagKey: aws.String("z")}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.in
			in.StreamName = aws.String(name)
			out, err := c.ListTagsForStream(ctxFor(t), &in)
			if err != nil {
				t.Fatal(err)
			}
			if got := tagPairs(out.Tags); !equalStrings(got, tc.want) || *out.HasMoreTags != tc.wantMore {
				t.Errorf("tags = %q more=%v, want %q more=%v", got, *out.HasMoreTags, tc.want, tc.wantMore)
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		other := streamName(t)
		createStream(t, c, other, 1)
		fifty := map[string]string{}
		for i := 0; i < 50; i++ {
			fifty[fmt.Sprintf("k%02d", i)] = "v"
		}
		if _, err := c.AddTagsToStream(ctxFor(t), &kinesis.AddTagsToStreamInput{StreamName: aws.String(other), Tags: fifty}); err != nil {
			t.Fatalf("50 tags: %v", err)
		}
		errTests := []struct {
			name string
			tags map[string]string
			code string
			msg  string
		}{
			{"invalid character in key", map[string]string{"semi;colon": "v"}, "InvalidArgumentException",
				"Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."},
			{"invalid character in value", map[string]string{"k": "a,b"}, "InvalidArgumentException",
				"Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."},
			{"reserved prefix", map[string]string{"aws:owner": "me"}, "InvalidArgumentException",
				fmt.Sprintf("Failed to add tags to stream %s under account %s because some tags contained illegal characters. The tag key prefix 'aws:' is reserved.", other, defaultAccount)},
			{"51st tag", map[string]string{"one-more": "v"}, "InvalidArgumentException",
				fmt.Sprintf("Failed to add tags to stream %s under account %s because a given stream cannot have more than 50 tags associated with it.", other, defaultAccount)},
		}
		for _, tc := range errTests {
			_, err := c.AddTagsToStream(ctxFor(t), &kinesis.AddTagsToStreamInput{StreamName: aws.String(other), Tags: tc.tags})
			t.Run(tc.name, func(t *testing.T) { wantAPIError(t, err, tc.code, tc.msg) })
		}
		// Overwriting one of the 50 does not count as a new tag.
		if _, err := c.AddTagsToStream(ctxFor(t), &kinesis.AddTagsToStreamInput{StreamName: aws.String(other), Tags: map[string]string{"k00": "new"}}); err != nil {
			t.Errorf("overwriting a tag at the limit: %v", err)
		}
		missing := "Stream no-such-stream under account 000000000000 not found."
		_, err := c.AddTagsToStream(ctxFor(t), &kinesis.AddTagsToStreamInput{StreamName: aws.String("no-such-stream"), Tags: map[string]string{"k": "v"}})
		wantAPIError(t, err, "ResourceNotFoundException", missing)
		_, err = c.RemoveTagsFromStream(ctxFor(t), &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String("no-such-stream"), TagKeys: []string{"k"}})
		wantAPIError(t, err, "ResourceNotFoundException", missing)
		_, err = c.ListTagsForStream(ctxFor(t), &kinesis.ListTagsForStreamInput{StreamName: aws.String("no-such-stream")})
		wantAPIError(t, err, "ResourceNotFoundException", missing)
	})
}

// TestResourceTags pins the ARN-based tagging actions: TagResource,
// UntagResource and ListTagsForResource act on the same tags as the
// stream-named actions, and an ARN of a missing stream is
// ResourceNotFoundException.
func TestResourceTags(t *testing.T) {
	t.Parallel()
	c := client()
	ctx := ctxFor(t)
	name := streamName(t)
	createStream(t, c, name, 1)
	arn := aws.String(arnOf("us-east-1", defaultAccount, name))
	if _, err := c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"z": "26", "y": "25", "x": "24"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String(name), Tags: map[string]string{"w": "23"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"y", "absent"}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"w=23", "x=24", "z=26"}
	byARN, err := c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if got := tagPairs(byARN.Tags); !equalStrings(got, want) {
		t.Errorf("ListTagsForResource = %q, want %q", got, want)
	}
	byName, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got := tagPairs(byName.Tags); !equalStrings(got, want) {
		t.Errorf("ListTagsForStream = %q, want %q", got, want)
	}
	_, err = c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"aws:x": "1"}})
	wantAPIError(t, err, "InvalidArgumentException",
		fmt.Sprintf("Failed to add tags to stream %s under account %s because some tags contained illegal characters. The tag key prefix 'aws:' is reserved.", name, defaultAccount))

	missing := aws.String(arnOf("us-east-1", "123456789012", "nope"))
	msg := "Stream nope under account 123456789012 not found."
	_, err = c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: missing, Tags: map[string]string{"k": "v"}})
	wantAPIError(t, err, "ResourceNotFoundException", msg)
	_, err = c.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: missing, TagKeys: []string{"k"}})
	wantAPIError(t, err, "ResourceNotFoundException", msg)
	_, err = c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: missing})
	wantAPIError(t, err, "ResourceNotFoundException", msg)
}

// TestRemoveTagsIllegalKeys pins that removing a tag key with a character
// no tag may hold fails exactly as adding it does, by stream name and by
// ARN, and that such a request removes nothing, not even its legal keys.
func TestRemoveTagsIllegalKeys(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	arn := aws.String(arnOf("us-east-1", defaultAccount, name))
	if _, err := c.AddTagsToStream(ctxFor(t), &kinesis.AddTagsToStreamInput{StreamName: aws.String(name), Tags: map[string]string{"keep": "1", "team": "2"}}); err != nil {
		t.Fatal(err)
	}
	const msg = "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."
	for _, key := range []string{"semi;colon", "a,b", "star*", "hash#"} {
		calls := []struct {
			name string
			call func() error
		}{
			{"AddTagsToStream", func() error {
				_, err := c.AddTagsToStream(ctxFor(t), &kinesis.AddTagsToStreamInput{StreamName: aws.String(name), Tags: map[string]string{key: "v"}})
				return err
			}},
			{"RemoveTagsFromStream", func() error {
				_, err := c.RemoveTagsFromStream(ctxFor(t), &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String(name), TagKeys: []string{"team", key}})
				return err
			}},
			{"TagResource", func() error {
				_, err := c.TagResource(ctxFor(t), &kinesis.TagResourceInput{ResourceARN: arn, Tags: map[string]string{key: "v"}})
				return err
			}},
			{"UntagResource", func() error {
				_, err := c.UntagResource(ctxFor(t), &kinesis.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"team", key}})
				return err
			}},
		}
		for _, tc := range calls {
			t.Run(tc.name+" "+key, func(t *testing.T) { wantAPIError(t, tc.call(), "InvalidArgumentException", msg) })
		}
	}
	out, err := c.ListTagsForStream(ctxFor(t), &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tagPairs(out.Tags), []string{"keep=1", "team=2"}; !equalStrings(got, want) {
		t.Errorf("tags after the refused calls = %q, want %q", got, want)
	}
}
