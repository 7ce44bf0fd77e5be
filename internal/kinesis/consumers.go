package kinesis

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/tributary-data/tributary/internal/streams"
)

// Enhanced fan-out consumers: RegisterStreamConsumer,
// DeregisterStreamConsumer, DescribeStreamConsumer and ListStreamConsumers.
// A consumer belongs to a stream and lives in the stream's metadata; it is
// what SubscribeToShard subscribes as.

// maxConsumersPerStream is AWS's limit of registered consumers.
const maxConsumersPerStream = 20

func consumerARN(m *streams.Meta, c *streams.Consumer) string {
	return fmt.Sprintf("%s/consumer/%s:%d", metaARN(m), c.Name, c.Created.Unix())
}

var consumerARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):stream/([a-zA-Z0-9_.-]+)/consumer/([a-zA-Z0-9_.-]+):(\d+)$`)

type consumerOut struct {
	ConsumerName              string    `json:"ConsumerName"`
	ConsumerARN               string    `json:"ConsumerARN"`
	ConsumerStatus            string    `json:"ConsumerStatus"`
	ConsumerCreationTimestamp Timestamp `json:"ConsumerCreationTimestamp"`
	StreamARN                 string    `json:"StreamARN,omitempty"`
}

func describeConsumer(m *streams.Meta, c *streams.Consumer, now time.Time, withStream bool) consumerOut {
	out := consumerOut{c.Name, consumerARN(m, c), c.StatusAt(now), Timestamp{c.Created}, ""}
	if withStream {
		out.StreamARN = metaARN(m)
	}
	return out
}

func checkConsumerName(v *validation, name *Str) {
	if v.notNull("consumerName", name != nil) {
		checkName(v, "consumerName", name)
	}
}

type registerConsumerInput struct {
	StreamARN    *Str    `json:"StreamARN"`
	StreamId     *Str    `json:"StreamId"`
	ConsumerName *Str    `json:"ConsumerName"`
	Tags         *StrMap `json:"Tags"`
}

func (s *Service) registerStreamConsumer(ctx context.Context, c caller, in *registerConsumerInput) (any, *Error) {
	var v validation
	checkConsumerName(&v, in.ConsumerName)
	if in.StreamId == nil {
		v.notNull("streamARN", in.StreamARN != nil)
	}
	checkStreamName(&v, nil, in.StreamARN, false)
	checkStreamID(&v, in.StreamId)
	if in.Tags != nil {
		checkTagMap(&v, "tags", *in.Tags, 50)
	}
	sel := streamIDInput{StreamARN: in.StreamARN, StreamId: in.StreamId}
	ref, _, aerr := sel.find(s, c, &v)
	if aerr != nil {
		return nil, aerr
	}
	if in.Tags != nil {
		if aerr := checkTagChars(*in.Tags, "add tags to", ref.name, ref.account); aerr != nil {
			return nil, aerr
		}
	}
	var tags map[string]string
	if in.Tags != nil {
		tags = map[string]string(*in.Tags)
	}
	m, added, err := s.eng.RegisterConsumer(ctx, ref.id(), string(*in.ConsumerName), tags, maxConsumersPerStream)
	if err != nil {
		return nil, awsError(ref, err)
	}
	now := time.Now()
	return struct {
		Consumer consumerOut `json:"Consumer"`
	}{describeConsumer(m, &added, now, false)}, nil
}

type consumerSelector struct {
	StreamARN    *Str `json:"StreamARN"`
	StreamId     *Str `json:"StreamId"`
	ConsumerName *Str `json:"ConsumerName"`
	ConsumerARN  *Str `json:"ConsumerARN"`
}

func (in *consumerSelector) check(v *validation) {
	if in.ConsumerARN != nil {
		v.pattern("consumerARN", string(*in.ConsumerARN), `^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+`, consumerARNRE.MatchString(string(*in.ConsumerARN)))
		v.lenRange("consumerARN", string(*in.ConsumerARN), 1, 2048)
	}
	if in.ConsumerName != nil {
		checkName(v, "consumerName", in.ConsumerName)
	}
	checkStreamName(v, nil, in.StreamARN, false)
	checkStreamID(v, in.StreamId)
}

// find resolves a consumer named by ARN, or by stream and name.
// A consumer this node's catalog lacks is looked for in the bucket
// before it is called missing: another node may have just registered it.
func (in *consumerSelector) find(s *Service, c caller, v *validation) (streamRef, *streams.Stream, *streams.Consumer, *Error) {
	ctx, cancel := context.WithTimeout(context.Background(), freshTimeout)
	defer cancel()
	return in.findCtx(ctx, s, c, v)
}

// freshTimeout bounds find's read of the bucket, for callers without a
// context.
const freshTimeout = 5 * time.Second

// findCtx is find within ctx.
func (in *consumerSelector) findCtx(ctx context.Context, s *Service, c caller, v *validation) (streamRef, *streams.Stream, *streams.Consumer, *Error) {
	if err := v.err(); err != nil {
		return streamRef{}, nil, nil, err
	}
	now := time.Now()
	if in.ConsumerARN != nil {
		m := consumerARNRE.FindStringSubmatch(string(*in.ConsumerARN))
		ref := streamRef{account: m[2], region: m[1], name: m[3]}
		e, aerr := s.lookup(ref)
		if aerr != nil {
			return ref, nil, nil, aerr
		}
		cm := e.Meta.FindConsumer(m[4], now)
		if cm == nil || strconv.FormatInt(cm.Created.Unix(), 10) != m[5] {
			e, cm = s.freshConsumer(ctx, ref, e, m[4], now)
		}
		if cm == nil || strconv.FormatInt(cm.Created.Unix(), 10) != m[5] {
			return ref, nil, nil, errResourceNotFound("Consumer %s, account %s not found.", *in.ConsumerARN, ref.account)
		}
		return ref, e, cm, nil
	}
	if in.ConsumerName == nil || (in.StreamARN == nil && in.StreamId == nil) {
		return streamRef{}, nil, nil, errInvalidArgument("Either ConsumerARN or both ConsumerName and StreamARN should be provided.")
	}
	ref, e, aerr := s.findStreamAny(c, nil, in.StreamARN, in.StreamId)
	if aerr != nil {
		return ref, nil, nil, aerr
	}
	cm := e.Meta.FindConsumer(string(*in.ConsumerName), now)
	if cm == nil {
		e, cm = s.freshConsumer(ctx, ref, e, string(*in.ConsumerName), now)
	}
	if cm == nil {
		return ref, nil, nil, errResourceNotFound("Consumer %s under stream %s not found for account %s.", *in.ConsumerName, ref.name, ref.account)
	}
	return ref, e, cm, nil
}

// freshConsumer looks for a consumer in the stream's metadata as the
// bucket has it; e is kept if the bucket cannot be read.
func (s *Service) freshConsumer(ctx context.Context, ref streamRef, e *streams.Stream, name string, now time.Time) (*streams.Stream, *streams.Consumer) {
	f, err := s.eng.Fresh(ctx, ref.id())
	if err != nil {
		return e, nil
	}
	return f, f.Meta.FindConsumer(name, now)
}

func (s *Service) describeStreamConsumer(ctx context.Context, c caller, in *consumerSelector) (any, *Error) {
	var v validation
	in.check(&v)
	_, e, cm, aerr := in.findCtx(ctx, s, c, &v)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		ConsumerDescription consumerOut `json:"ConsumerDescription"`
	}{describeConsumer(e.Meta, cm, time.Now(), true)}, nil
}

func (s *Service) deregisterStreamConsumer(ctx context.Context, c caller, in *consumerSelector) (any, *Error) {
	var v validation
	in.check(&v)
	ref, _, cm, aerr := in.findCtx(ctx, s, c, &v)
	if aerr != nil {
		return nil, aerr
	}
	name := cm.Name
	if err := s.eng.DeregisterConsumer(ctx, ref.id(), name, cm.Created); err != nil {
		return nil, awsError(ref, err)
	}
	s.subs.endConsumer(consumerARN(&streams.Meta{Name: ref.name, Account: ref.account, Region: ref.region}, cm))
	s.metrics.forgetConsumer(ref.account, ref.region, ref.name, name)
	return nil, nil
}

type listConsumersInput struct {
	StreamARN               *Str       `json:"StreamARN"`
	StreamId                *Str       `json:"StreamId"`
	MaxResults              *Int       `json:"MaxResults"`
	NextToken               *Str       `json:"NextToken"`
	StreamCreationTimestamp *Timestamp `json:"StreamCreationTimestamp"`
}

func (s *Service) listStreamConsumers(ctx context.Context, c caller, in *listConsumersInput) (any, *Error) {
	var v validation
	if in.StreamId == nil && in.NextToken == nil {
		v.notNull("streamARN", in.StreamARN != nil)
	}
	checkStreamName(&v, nil, in.StreamARN, false)
	checkStreamID(&v, in.StreamId)
	if in.MaxResults != nil {
		v.intRange("maxResults", int64(*in.MaxResults), 1, 10000)
	}
	if in.NextToken != nil {
		v.lenRange("nextToken", string(*in.NextToken), 1, 1048576)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	after := ""
	var ref streamRef
	var e *streams.Stream
	var aerr *Error
	if in.NextToken != nil {
		t, aerr := decodePageToken(string(*in.NextToken))
		if aerr != nil {
			return nil, aerr
		}
		ref, after = streamRef{t.Account, t.Region, t.Stream}, t.After
		e, aerr = s.lookup(ref)
		if aerr != nil {
			return nil, aerr
		}
	} else if ref, e, aerr = s.findStreamAny(c, nil, in.StreamARN, in.StreamId); aerr != nil {
		return nil, aerr
	}
	// Consumers registered through other nodes included.
	if f, err := s.eng.Fresh(ctx, ref.id()); err == nil {
		e = f
	}
	if in.StreamCreationTimestamp != nil && in.StreamCreationTimestamp.Unix() != e.Meta.Created.Unix() {
		return nil, streamNotFound(ref.name, ref.account)
	}
	limit := 100
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	now := time.Now()
	out := struct {
		Consumers []consumerOut `json:"Consumers"`
		NextToken string        `json:"NextToken,omitempty"`
	}{Consumers: []consumerOut{}}
	for i := range e.Meta.Consumers {
		cm := &e.Meta.Consumers[i]
		if cm.Gone(now) || (after != "" && cm.Name <= after) {
			continue
		}
		if len(out.Consumers) == limit {
			out.NextToken = pageToken{After: out.Consumers[limit-1].ConsumerName, Stream: ref.name,
				Account: ref.account, Region: ref.region, Issued: now.UnixMilli()}.encode()
			break
		}
		out.Consumers = append(out.Consumers, describeConsumer(e.Meta, cm, now, false))
	}
	return out, nil
}
