package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/fxamacker/cbor/v2"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// TestStreamConsumers pins the consumer registry: register, describe by
// ARN and by name, list with pagination, the 20-consumer limit,
// duplicates, deregistration, and DeleteStream's EnforceConsumerDeletion.
func TestStreamConsumers(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	arn := summary(t, c, name).StreamARN
	reg, err := c.RegisterStreamConsumer(ctxFor(t), &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app-00")})
	if err != nil {
		t.Fatal(err)
	}
	cons := reg.Consumer
	if !strings.HasPrefix(*cons.ConsumerARN, *arn+"/consumer/app-00:") || aws.ToString(cons.ConsumerName) != "app-00" {
		t.Fatalf("registered %+v", cons)
	}
	d, err := c.DescribeStreamConsumer(ctxFor(t), &kinesis.DescribeStreamConsumerInput{ConsumerARN: cons.ConsumerARN})
	if err != nil || aws.ToString(d.ConsumerDescription.StreamARN) != *arn || d.ConsumerDescription.ConsumerStatus != types.ConsumerStatusActive {
		t.Fatalf("describe by ARN: %+v, %v", d, err)
	}
	d, err = c.DescribeStreamConsumer(ctxFor(t), &kinesis.DescribeStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app-00")})
	if err != nil || *d.ConsumerDescription.ConsumerARN != *cons.ConsumerARN {
		t.Fatalf("describe by name: %+v, %v", d, err)
	}
	_, err = c.RegisterStreamConsumer(ctxFor(t), &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app-00")})
	wantAPIError(t, err, "ResourceInUseException", fmt.Sprintf("Consumer app-00 under stream %s already exists for account %s.", name, defaultAccount))
	for i := 1; i < 20; i++ {
		if _, err := c.RegisterStreamConsumer(ctxFor(t), &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String(fmt.Sprintf("app-%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.RegisterStreamConsumer(ctxFor(t), &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app-20")})
	wantAPIError(t, err, "LimitExceededException", fmt.Sprintf("Consumer limit of 20 exceeded for stream %s under account %s.", name, defaultAccount))
	if n := aws.ToInt32(summary(t, c, name).ConsumerCount); n != 20 {
		t.Fatalf("ConsumerCount = %d", n)
	}
	var names []string
	p := kinesis.NewListStreamConsumersPaginator(c, &kinesis.ListStreamConsumersInput{StreamARN: arn, MaxResults: aws.Int32(7)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, cs := range page.Consumers {
			names = append(names, *cs.ConsumerName)
		}
	}
	if len(names) != 20 || !slices.IsSorted(names) {
		t.Fatalf("listed %v", names)
	}

	_, err = c.DeleteStream(ctxFor(t), &kinesis.DeleteStreamInput{StreamName: aws.String(name)})
	wantAPIError(t, err, "ResourceInUseException", fmt.Sprintf("Stream %s under account %s has 20 registered consumers. Deregister them, or delete the stream with EnforceConsumerDeletion.", name, defaultAccount))
	if _, err := c.DeregisterStreamConsumer(ctxFor(t), &kinesis.DeregisterStreamConsumerInput{ConsumerARN: cons.ConsumerARN}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStreamConsumer(ctxFor(t), &kinesis.DescribeStreamConsumerInput{ConsumerARN: cons.ConsumerARN})
	wantAPIError(t, err, "ResourceNotFoundException", fmt.Sprintf("Consumer %s, account %s not found.", *cons.ConsumerARN, defaultAccount))
	if _, err := c.DeleteStream(ctxFor(t), &kinesis.DeleteStreamInput{StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
}

// subscribe opens a SubscribeToShard and returns its events on a channel
// that closes when the subscription ends (its error, if any, after).
func subscribe(t *testing.T, c *kinesis.Client, ctx context.Context, consumerARN, shardID string, pos types.StartingPosition) (<-chan *types.SubscribeToShardEvent, func() error) {
	t.Helper()
	// A client of its own: aws-sdk-go-v2 (smithy-go 1.28) decodes every
	// event stream of a client with one codec and one buffer, so two
	// subscriptions on one client race (go test -race reports it). New
	// gives the copy a protocol, and so a codec, of its own.
	c = kinesis.New(c.Options())
	out, err := c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(consumerARN), ShardId: aws.String(shardID), StartingPosition: &pos})
	if err != nil {
		t.Fatalf("SubscribeToShard %s: %v", shardID, err)
	}
	stream := out.GetStream()
	ch := make(chan *types.SubscribeToShardEvent, 1024)
	go func() {
		defer close(ch)
		for ev := range stream.Events() {
			if e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent); ok {
				ch <- &e.Value
			}
		}
	}()
	return ch, func() error { stream.Close(); return stream.Err() }
}

// TestSubscribeToShardAcrossSplit subscribes an enhanced fan-out consumer,
// puts records while the subscription is open, splits the shard, and
// follows the ChildShards event to the children: every record arrives
// exactly once, pushed (not polled), in per-key order, and the parent's
// subscription ends with the children listed. On a server that keeps
// streams UPDATING for a second, records put between the split and its
// completion are pushed on the parent, whose subscription ends only when
// the split completes.
func TestSubscribeToShardAcrossSplit(t *testing.T) {
	t.Parallel()
	t.Run("immediate", func(t *testing.T) {
		t.Parallel()
		subscribeAcrossSplit(t, client(), false)
	})
	t.Run("updating", func(t *testing.T) {
		t.Parallel()
		subscribeAcrossSplit(t, inproc.Start(t, "-update-stream-delay", "1s").Client(), true)
	})
}

func subscribeAcrossSplit(t *testing.T, c *kinesis.Client, updating bool) {
	name := streamName(t)
	createStream(t, c, name, 1)
	arn := summary(t, c, name).StreamARN
	reg, err := c.RegisterStreamConsumer(ctxFor(t), &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("fanout")})
	if err != nil {
		t.Fatal(err)
	}
	consumer := *reg.Consumer.ConsumerARN
	ctx := testserver.Context(t, time.Minute)

	events, closeSub := subscribe(t, c, ctx, consumer, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	put := func(from, to int) {
		for i := from; i < to; i++ {
			key := "k" + strconv.Itoa(i%8)
			if _, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(key), Data: []byte(key + ":" + strconv.Itoa(i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := map[string]bool{}
	lastByKey := map[string]int{}
	take := func(ev *types.SubscribeToShardEvent) {
		for _, r := range ev.Records {
			d := string(r.Data)
			if got[d] {
				t.Fatalf("record %s delivered twice", d)
			}
			got[d] = true
			key, n, _ := strings.Cut(d, ":")
			num, _ := strconv.Atoi(n)
			if last, ok := lastByKey[key]; ok && num <= last {
				t.Fatalf("%s delivered after %d", d, last)
			}
			lastByKey[key] = num
		}
	}
	put(0, 50)
	for len(got) < 50 {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("subscription ended after %d records", len(got))
			}
			if ev.ContinuationSequenceNumber == nil {
				t.Fatal("open shard event without ContinuationSequenceNumber")
			}
			take(ev)
		case <-ctx.Done():
			t.Fatalf("only %d of 50 records pushed", len(got))
		}
	}

	// Split while subscribed; the parent's subscription drains and ends.
	if _, err := c.SplitShard(ctxFor(t), &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
		t.Fatal(err)
	}
	// On the parent while the split is UPDATING, on the children otherwise.
	put(50, 60)
	if updating {
		if st := summary(t, c, name).StreamStatus; st != types.StreamStatusUpdating {
			t.Fatalf("the split completed (%s) before the puts could be checked: the machine is too slow for the 1s update", st)
		}
	}
	var children []types.ChildShard
	for ev := range events {
		take(ev)
		if len(ev.ChildShards) > 0 {
			children = ev.ChildShards
		}
	}
	if updating && len(got) != 60 {
		t.Fatalf("the parent's subscription pushed %d records before its end, want the 60 put before the split completed", len(got))
	}
	if err := closeSub(); err != nil {
		t.Fatalf("parent subscription: %v", err)
	}
	if len(children) != 2 {
		t.Fatalf("parent subscription ended with %d child shards, want 2", len(children))
	}
	put(60, 110)
	// Both children at once, until every record has arrived.
	merged := make(chan *types.SubscribeToShardEvent)
	for _, ch := range children {
		evs, closeChild := subscribe(t, c, ctx, consumer, *ch.ShardId, types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
		defer closeChild()
		go func() {
			for ev := range evs {
				select {
				case merged <- ev:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	for len(got) < 110 {
		select {
		case ev := <-merged:
			take(ev)
		case <-ctx.Done():
			t.Fatalf("only %d of 110 records delivered", len(got))
		}
	}
	for i := range 110 {
		key := "k" + strconv.Itoa(i%8)
		if !got[key+":"+strconv.Itoa(i)] {
			t.Fatalf("record %d never delivered (got %d)", i, len(got))
		}
	}
}

// TestSubscribeToShardRules pins SubscribeToShard's errors: an unknown
// consumer, a second subscription within 5 seconds, and the end of a
// subscription after its lifetime (shortened with -subscription-duration).
func TestSubscribeToShardRules(t *testing.T) {
	t.Parallel()
	p := inproc.Start(t, "-subscription-duration", "1500ms")
	c := p.Client()
	ctx := testserver.Context(t, time.Minute)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("subs"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("subs")})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: sum.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("c")})
	if err != nil {
		t.Fatal(err)
	}
	pos := &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}
	_, err = c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(*reg.Consumer.ConsumerARN + "9"), ShardId: aws.String("0"), StartingPosition: pos})
	wantAPIError(t, err, "ResourceNotFoundException", fmt.Sprintf("Consumer %s9, account %s not found.", *reg.Consumer.ConsumerARN, defaultAccount))

	start := time.Now()
	events, closeSub := subscribe(t, c, ctx, *reg.Consumer.ConsumerARN, "shardId-000000000000", *pos)
	_, err = c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("0"), StartingPosition: pos})
	wantAPIError(t, err, "ResourceInUseException", "Another active subscription exists for this consumer: "+*reg.Consumer.ConsumerARN)
	for range events {
	}
	if err := closeSub(); err != nil {
		t.Fatalf("subscription: %v", err)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("subscription ended after %v; it lasts 1.5s here", d)
	}
}

// TestSubscribeToShardCBOR subscribes over CBOR, as the Java SDKs (and so
// the KCL) do: events carry CBOR payloads with blobs as byte strings and
// arrival times as tag-1 epoch milliseconds.
func TestSubscribeToShardCBOR(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	reg, err := c.RegisterStreamConsumer(ctxFor(t), &kinesis.RegisterStreamConsumerInput{StreamARN: summary(t, c, name).StreamARN, ConsumerName: aws.String("java")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := cbor.Marshal(map[string]any{"ConsumerARN": *reg.Consumer.ConsumerARN, "ShardId": "shardId-000000000000",
		"StartingPosition": map[string]any{"Type": "TRIM_HORIZON"}})
	req, _ := http.NewRequestWithContext(ctxFor(t), http.MethodPost, shared.Endpoint, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.SubscribeToShard")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.amazon.eventstream" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	data := []byte{0, 1, 2, 0xfe, 0xff}
	if _, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: data}); err != nil {
		t.Fatal(err)
	}
	dec := eventstream.NewDecoder()
	header := func(m eventstream.Message, name string) string {
		if v := m.Headers.Get(name); v != nil {
			return v.String()
		}
		return ""
	}
	first, err := dec.Decode(resp.Body, nil)
	if err != nil || header(first, ":event-type") != "initial-response" || !bytes.Equal(first.Payload, []byte{0xa0}) ||
		header(first, ":content-type") != "application/x-amz-cbor-1.1" {
		t.Fatalf("first message: %v %+v %x", err, first.Headers, first.Payload)
	}
	for {
		m, err := dec.Decode(resp.Body, nil)
		if err != nil {
			t.Fatal(err)
		}
		if header(m, ":event-type") != "SubscribeToShardEvent" {
			t.Fatalf("unexpected message %+v", m.Headers)
		}
		var ev struct {
			Records []struct {
				Data                        []byte
				ApproximateArrivalTimestamp cbor.Tag
				PartitionKey                string
			}
			ContinuationSequenceNumber string
		}
		if err := cbor.Unmarshal(m.Payload, &ev); err != nil {
			t.Fatalf("event payload %x: %v", m.Payload, err)
		}
		if len(ev.Records) == 0 {
			continue
		}
		r := ev.Records[0]
		if !bytes.Equal(r.Data, data) || r.PartitionKey != "k" || r.ApproximateArrivalTimestamp.Number != 1 || len(ev.ContinuationSequenceNumber) != 56 {
			t.Fatalf("record %+v, continuation %q", r, ev.ContinuationSequenceNumber)
		}
		if ms, ok := r.ApproximateArrivalTimestamp.Content.(uint64); !ok || time.Since(time.UnixMilli(int64(ms))) > time.Minute {
			t.Fatalf("arrival timestamp %#v is not epoch milliseconds", r.ApproximateArrivalTimestamp.Content)
		}
		return
	}
}

// TestConsumerTags tags consumers by ARN: RegisterStreamConsumer's Tags,
// then TagResource, UntagResource and ListTagsForResource on the
// consumer's ARN, separate from the stream's own tags.
func TestConsumerTags(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	streamARN := summary(t, c, name).StreamARN
	reg, err := c.RegisterStreamConsumer(ctxFor(t), &kinesis.RegisterStreamConsumerInput{StreamARN: streamARN,
		ConsumerName: aws.String("tagged"), Tags: map[string]string{"team": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := reg.Consumer.ConsumerARN
	if _, err := c.TagResource(ctxFor(t), &kinesis.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"env": "dev", "team": "b"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctxFor(t), &kinesis.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.ListTagsForResource(ctxFor(t), &kinesis.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil || len(got.Tags) != 1 || *got.Tags[0].Key != "team" || aws.ToString(got.Tags[0].Value) != "b" {
		t.Fatalf("consumer tags: %+v, %v", got, err)
	}
	st, err := c.ListTagsForResource(ctxFor(t), &kinesis.ListTagsForResourceInput{ResourceARN: streamARN})
	if err != nil || len(st.Tags) != 0 {
		t.Fatalf("stream tags: %+v, %v", st, err)
	}
}

// TestSubscribeToShardHTTP2 runs a subscription over cleartext HTTP/2, as
// the Java async SDK and KCL 2.x do, through aws-sdk-go-v2 on an
// HTTP/2-only transport: records put during the subscription arrive.
func TestSubscribeToShardHTTP2(t *testing.T) {
	t.Parallel()
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &protocols}
	defer tr.CloseIdleConnections()
	seen := make(chan int, 16)
	h2 := client(func(o *kinesis.Options) {
		o.HTTPClient = roundTripRecorder{&http.Client{Transport: tr}, seen}
	})
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	reg, err := c.RegisterStreamConsumer(ctxFor(t), &kinesis.RegisterStreamConsumerInput{StreamARN: summary(t, c, name).StreamARN, ConsumerName: aws.String("h2")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testserver.Context(t, time.Minute)
	events, closeSub := subscribe(t, h2, ctx, *reg.Consumer.ConsumerARN, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	defer closeSub()
	if proto := <-seen; proto != 2 {
		t.Fatalf("SubscribeToShard went over HTTP/%d", proto)
	}
	if _, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("over h2")}); err != nil {
		t.Fatal(err)
	}
	for ev := range events {
		if len(ev.Records) > 0 {
			if string(ev.Records[0].Data) != "over h2" {
				t.Fatalf("got %q", ev.Records[0].Data)
			}
			return
		}
	}
	t.Fatal("subscription ended without the record")
}

// roundTripRecorder reports each response's HTTP major version.
type roundTripRecorder struct {
	hc   *http.Client
	seen chan<- int
}

func (r roundTripRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.hc.Do(req)
	if err == nil {
		select {
		case r.seen <- resp.ProtoMajor:
		default:
		}
	}
	return resp, err
}

// TestSubscribeToShardTakeover checks AWS's rule for a second
// subscription of one consumer to one shard: refused within 5 seconds of
// the first, and after that it takes over, ending the first.
func TestSubscribeToShardTakeover(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	reg, err := c.RegisterStreamConsumer(ctxFor(t), &kinesis.RegisterStreamConsumerInput{StreamARN: summary(t, c, name).StreamARN, ConsumerName: aws.String("twice")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testserver.Context(t, time.Minute)
	pos := types.StartingPosition{Type: types.ShardIteratorTypeLatest}
	first, closeFirst := subscribe(t, c, ctx, *reg.Consumer.ConsumerARN, "shardId-000000000000", pos)
	defer closeFirst()
	time.Sleep(5100 * time.Millisecond) // AWS's grace period
	second, closeSecond := subscribe(t, c, ctx, *reg.Consumer.ConsumerARN, "shardId-000000000000", pos)
	defer closeSecond()
	for range first { // the first subscription ends
	}
	if _, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	for ev := range second {
		if len(ev.Records) == 1 {
			return
		}
	}
	t.Fatal("the second subscription ended without the record")
}

// TestSubscribeToShardException deletes a stream under a subscription: the
// error arrives in the event stream, as AWS sends errors once a
// subscription has started.
func TestSubscribeToShardException(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	reg, err := c.RegisterStreamConsumer(ctxFor(t), &kinesis.RegisterStreamConsumerInput{StreamARN: summary(t, c, name).StreamARN, ConsumerName: aws.String("gone")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testserver.Context(t, time.Minute)
	events, closeSub := subscribe(t, c, ctx, *reg.Consumer.ConsumerARN, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	if _, err := c.DeleteStream(ctxFor(t), &kinesis.DeleteStreamInput{StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	// Wake the subscription: a put to a re-created stream of the same
	// name is a different stream, so the old subscription must fail.
	createStream(t, c, name, 1)
	if _, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	for range events {
	}
	err = closeSub()
	var apiErr interface{ ErrorCode() string }
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ResourceNotFoundException" {
		t.Fatalf("subscription ended with %v, want an in-stream ResourceNotFoundException", err)
	}
}
