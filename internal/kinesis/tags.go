package kinesis

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/streams"
)

// Tagging: the stream-named actions (AddTagsToStream...) and the ARN-named
// ones (TagResource...) share one implementation.

const maxTagsPerStream = 50

var tagCharsRE = regexp.MustCompile(`^[\p{L}\p{Z}\d_./=+\-@:]*$`)

func checkTagMap(v *validation, field string, tags StrMap, max int) {
	v.length(field, quote(renderMap(tags)), len(tags), 1, max)
	for k, val := range tags {
		if len([]rune(k)) < 1 || len([]rune(k)) > 128 {
			v.msgs = append(v.msgs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]", renderMap(tags), field))
			break
		}
		if len([]rune(val)) > 256 {
			v.msgs = append(v.msgs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]", renderMap(tags), field))
			break
		}
	}
}

func checkTagKeys(v *validation, field string, keys []string) {
	v.length(field, quote("["+strings.Join(keys, ", ")+"]"), len(keys), 1, 50)
	for _, k := range keys {
		if len([]rune(k)) < 1 || len([]rune(k)) > 128 {
			v.msgs = append(v.msgs, fmt.Sprintf("Value '[%s]' at '%s' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]", strings.Join(keys, ", "), field))
			break
		}
	}
}

// renderMap echoes a map the way AWS's Java front end prints it.
func renderMap(m StrMap) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// errTagChars is AWS's answer to a tag key or value with a character
// tags may not contain, whether the tag is being added or removed.
func errTagChars() *Error {
	return errInvalidArgument("Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - %% @.")
}

func checkTagChars(tags map[string]string, verb, stream, account string) *Error {
	for k, val := range tags {
		if !tagCharsRE.MatchString(k) || !tagCharsRE.MatchString(val) {
			return errTagChars()
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return errInvalidArgument("Failed to %s stream %s under account %s because some tags contained illegal characters. The tag key prefix 'aws:' is reserved.", verb, stream, account)
		}
	}
	return nil
}

func (s *Service) addTags(ctx context.Context, ref streamRef, tags map[string]string) *Error {
	if _, aerr := s.lookup(ref); aerr != nil {
		return aerr
	}
	if aerr := checkTagChars(tags, "add tags to", ref.name, ref.account); aerr != nil {
		return aerr
	}
	_, err := s.eng.Update(ctx, ref.id(), func(m *streams.Meta) error {
		merged := map[string]string{}
		for k, v := range m.Tags {
			merged[k] = v
		}
		for k, v := range tags {
			merged[k] = v
		}
		if len(merged) > maxTagsPerStream {
			return errInvalidArgument("Failed to add tags to stream %s under account %s because a given stream cannot have more than %d tags associated with it.", m.Name, m.Account, maxTagsPerStream)
		}
		m.Tags = merged
		return nil
	})
	if err != nil {
		return awsError(ref, err)
	}
	return nil
}

// checkTagKeyChars refuses tag keys to remove that no tag could have, as
// AddTagsToStream refuses them, with the same error.
func checkTagKeyChars(keys []string) *Error {
	for _, k := range keys {
		if !tagCharsRE.MatchString(k) {
			return errTagChars()
		}
	}
	return nil
}

func (s *Service) removeTags(ctx context.Context, ref streamRef, keys []string) *Error {
	if _, aerr := s.lookup(ref); aerr != nil {
		return aerr
	}
	if aerr := checkTagKeyChars(keys); aerr != nil {
		return aerr
	}
	_, err := s.eng.Update(ctx, ref.id(), func(m *streams.Meta) error {
		for _, k := range keys {
			delete(m.Tags, k)
		}
		return nil
	})
	if err != nil {
		return awsError(ref, err)
	}
	return nil
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// sortedTags lists a stream's tags in key order, after `after` if set.
func sortedTags(m *streams.Meta, after string) []tag { return sortTags(m.Tags, after) }

// sortTags lists tags in key order, after `after` if set.
func sortTags(tags map[string]string, after string) []tag {
	out := []tag{}
	for k, v := range tags {
		if after == "" || k > after {
			out = append(out, tag{k, v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

type addTagsInput struct {
	StreamName *Str    `json:"StreamName"`
	StreamARN  *Str    `json:"StreamARN"`
	Tags       *StrMap `json:"Tags"`
}

func (s *Service) addTagsToStream(ctx context.Context, c caller, in *addTagsInput) (any, *Error) {
	var v validation
	if v.notNull("tags", in.Tags != nil) {
		checkTagMap(&v, "tags", *in.Tags, 50)
	}
	ref, aerr := validRef(c, &v, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	return nil, s.addTags(ctx, ref, *in.Tags)
}

type removeTagsInput struct {
	StreamName *Str     `json:"StreamName"`
	StreamARN  *Str     `json:"StreamARN"`
	TagKeys    *StrList `json:"TagKeys"`
}

func (s *Service) removeTagsFromStream(ctx context.Context, c caller, in *removeTagsInput) (any, *Error) {
	var v validation
	if v.notNull("tagKeys", in.TagKeys != nil) {
		checkTagKeys(&v, "tagKeys", *in.TagKeys)
	}
	ref, aerr := validRef(c, &v, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	return nil, s.removeTags(ctx, ref, *in.TagKeys)
}

type listTagsForStreamInput struct {
	StreamName           *Str `json:"StreamName"`
	StreamARN            *Str `json:"StreamARN"`
	Limit                *Int `json:"Limit"`
	ExclusiveStartTagKey *Str `json:"ExclusiveStartTagKey"`
}

func (s *Service) listTagsForStream(_ context.Context, c caller, in *listTagsForStreamInput) (any, *Error) {
	var v validation
	if in.Limit != nil {
		v.intRange("limit", int64(*in.Limit), 1, 50)
	}
	if in.ExclusiveStartTagKey != nil {
		v.lenRange("exclusiveStartTagKey", string(*in.ExclusiveStartTagKey), 1, 128)
	}
	_, e, aerr := s.validStream(c, &v, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	after := ""
	if in.ExclusiveStartTagKey != nil {
		after = string(*in.ExclusiveStartTagKey)
	}
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	tags := sortedTags(e.Meta, after)
	more := len(tags) > limit
	if more {
		tags = tags[:limit]
	}
	return struct {
		Tags        []tag `json:"Tags"`
		HasMoreTags bool  `json:"HasMoreTags"`
	}{tags, more}, nil
}

// Resource-ARN tagging. Stream ARNs are the only taggable resources until
// enhanced fan-out consumers exist.

var resourceARNRE = regexp.MustCompile(`^arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+$`)

func checkResourceARN(v *validation, arn *Str) {
	if v.notNull("resourceARN", arn != nil) {
		v.pattern("resourceARN", string(*arn), `arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+`, resourceARNRE.MatchString(string(*arn)))
		v.lenRange("resourceARN", string(*arn), 1, 2048)
	}
}

type tagResourceInput struct {
	ResourceARN *Str    `json:"ResourceARN"`
	Tags        *StrMap `json:"Tags"`
}

func (s *Service) tagResource(ctx context.Context, c caller, in *tagResourceInput) (any, *Error) {
	var v validation
	if v.notNull("tags", in.Tags != nil) {
		checkTagMap(&v, "tags", *in.Tags, 200)
	}
	checkResourceARN(&v, in.ResourceARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	if m := consumerARNRE.FindStringSubmatch(string(*in.ResourceARN)); m != nil {
		if aerr := checkTagChars(*in.Tags, "add tags to", m[3], m[2]); aerr != nil {
			return nil, aerr
		}
		return nil, s.changeConsumerTags(ctx, c, in.ResourceARN, func(tags map[string]string) *Error {
			for k, v := range *in.Tags {
				tags[k] = v
			}
			if len(tags) > maxTagsPerStream {
				return errInvalidArgument("Failed to add tags to consumer %s because a given consumer cannot have more than %d tags associated with it.", m[4], maxTagsPerStream)
			}
			return nil
		})
	}
	ref, aerr := c.resolve(nil, in.ResourceARN)
	if aerr != nil {
		return nil, aerr
	}
	return nil, s.addTags(ctx, ref, *in.Tags)
}

type untagResourceInput struct {
	ResourceARN *Str     `json:"ResourceARN"`
	TagKeys     *StrList `json:"TagKeys"`
}

func (s *Service) untagResource(ctx context.Context, c caller, in *untagResourceInput) (any, *Error) {
	var v validation
	if v.notNull("tagKeys", in.TagKeys != nil) {
		checkTagKeys(&v, "tagKeys", *in.TagKeys)
	}
	checkResourceARN(&v, in.ResourceARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	if consumerARNRE.MatchString(string(*in.ResourceARN)) {
		if aerr := checkTagKeyChars(*in.TagKeys); aerr != nil {
			return nil, aerr
		}
		return nil, s.changeConsumerTags(ctx, c, in.ResourceARN, func(tags map[string]string) *Error {
			for _, k := range *in.TagKeys {
				delete(tags, k)
			}
			return nil
		})
	}
	ref, aerr := c.resolve(nil, in.ResourceARN)
	if aerr != nil {
		return nil, aerr
	}
	return nil, s.removeTags(ctx, ref, *in.TagKeys)
}

type listTagsForResourceInput struct {
	ResourceARN *Str `json:"ResourceARN"`
}

func (s *Service) listTagsForResource(_ context.Context, c caller, in *listTagsForResourceInput) (any, *Error) {
	var v validation
	checkResourceARN(&v, in.ResourceARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	if consumerARNRE.MatchString(string(*in.ResourceARN)) {
		sel := consumerSelector{ConsumerARN: in.ResourceARN}
		_, _, cm, aerr := sel.find(s, c, &validation{})
		if aerr != nil {
			return nil, aerr
		}
		return struct {
			Tags []tag `json:"Tags"`
		}{sortTags(cm.Tags, "")}, nil
	}
	ref, aerr := c.resolve(nil, in.ResourceARN)
	if aerr != nil {
		return nil, aerr
	}
	e, aerr := s.lookup(ref)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		Tags []tag `json:"Tags"`
	}{sortedTags(e.Meta, "")}, nil
}

// changeConsumerTags applies fn to a copy of a consumer's tags and stores
// the result with the stream's metadata.
func (s *Service) changeConsumerTags(ctx context.Context, c caller, arn *Str, fn func(tags map[string]string) *Error) *Error {
	sel := consumerSelector{ConsumerARN: arn}
	ref, _, cm, aerr := sel.find(s, c, &validation{})
	if aerr != nil {
		return aerr
	}
	name, created := cm.Name, cm.Created
	now := time.Now()
	_, err := s.eng.Update(ctx, ref.id(), func(m *streams.Meta) error {
		cur := m.FindConsumer(name, now)
		if cur == nil || !cur.Created.Equal(created) {
			return errResourceNotFound("Consumer %s, account %s not found.", *arn, ref.account)
		}
		tags := map[string]string{}
		for k, v := range cur.Tags {
			tags[k] = v
		}
		if aerr := fn(tags); aerr != nil {
			return aerr
		}
		cur.Tags = tags
		return nil
	})
	if err != nil {
		return awsError(ref, err)
	}
	return nil
}
