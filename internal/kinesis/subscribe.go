package kinesis

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/streams"
)

// SubscribeToShard: enhanced fan-out's push API. The response is an
// application/vnd.amazon.eventstream: an initial-response event, then a
// SubscribeToShardEvent whenever records arrive (the shard's append signal
// wakes the subscription, for appends on any node of a cluster; only in a
// cluster does a poll back it up, internal/streams/wake.go) and a heartbeat event
// when nothing has arrived for a while. The subscription ends after
// Config.SubscriptionDuration (five minutes, as on AWS), at the end of a
// closed shard (with its ChildShards), when the client goes away, or when
// a newer subscription of the same consumer to the same shard takes over.

const (
	// subscribeHeartbeat is how often an idle subscription sends an empty
	// event, so clients see MillisBehindLatest and know the stream lives.
	subscribeHeartbeat = 5 * time.Second
	// subscribeTakeoverGrace is how long a new subscription must wait
	// before it may take over a consumer's subscription to a shard, as on
	// AWS.
	subscribeTakeoverGrace = 5 * time.Second
)

// subscription is one live SubscribeToShard.
type subscription struct {
	started time.Time
	cancel  context.CancelFunc
}

// subscriptions tracks the live subscription of each consumer and shard.
type subscriptions struct {
	mu sync.Mutex
	m  map[string]*subscription
	// ended is set by endAll: every subscription ends at once, as when
	// its time is up.
	ended bool
}

func subscriptionKey(consumerARN string, shardIndex int) string {
	return consumerARN + "|" + strconv.Itoa(shardIndex)
}

// start registers a subscription, ending the one it takes over from. A
// subscription younger than the grace period may not be taken over.
func (s *subscriptions) start(key string, sub *subscription) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*subscription{}
	}
	if old, ok := s.m[key]; ok {
		if sub.started.Sub(old.started) < subscribeTakeoverGrace {
			return false
		}
		old.cancel()
	}
	s.m[key] = sub
	if s.ended {
		sub.cancel()
	}
	return true
}

// endAll ends every live subscription, and those that start after, with
// a clean end of their event streams, as when their time is up.
func (s *subscriptions) endAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	for _, sub := range s.m {
		sub.cancel()
	}
}

// EndSubscriptions ends every live SubscribeToShard, and any that starts
// later, as if its five minutes were up: its event stream ends cleanly.
// A server shutting down calls it before waiting for its requests, which
// would otherwise wait for the subscriptions' time to run out.
func (s *Service) EndSubscriptions() { s.subs.endAll() }

// end removes a subscription that has finished.
func (s *subscriptions) end(key string, sub *subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[key] == sub {
		delete(s.m, key)
	}
}

// endConsumer ends every subscription of a deregistered consumer.
func (s *subscriptions) endConsumer(consumerARN string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := consumerARN + "|"
	for k, sub := range s.m {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			sub.cancel()
			delete(s.m, k)
		}
	}
}

type startingPosition struct {
	Type           *Str       `json:"Type"`
	SequenceNumber *Str       `json:"SequenceNumber"`
	Timestamp      *Timestamp `json:"Timestamp"`
}

type subscribeInput struct {
	ConsumerARN      *Str              `json:"ConsumerARN"`
	ShardId          *Str              `json:"ShardId"`
	StartingPosition *startingPosition `json:"StartingPosition"`
	DryRun           *Bool             `json:"DryRun"`
}

// streamingActions answer with a stream of events rather than one body.
var streamingActions = map[string]func(s *Service, w http.ResponseWriter, r *http.Request, c caller, body []byte){
	"SubscribeToShard": (*Service).subscribeToShard,
}

func (s *Service) subscribeToShard(w http.ResponseWriter, r *http.Request, c caller, body []byte) {
	in, ref, e, cm, it, aerr := s.subscribeRequest(r.Context(), c, body)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.SubscriptionDuration)
	defer cancel()
	sub := &subscription{started: time.Now(), cancel: cancel}
	key := subscriptionKey(string(*in.ConsumerARN), it.ShardIndex)
	sl := consumerLabels(e.Meta, cm.Name)
	if !s.subs.start(key, sub) {
		s.metrics.subscribeExceeded.WithLabelValues(sl...).Inc()
		s.writeError(w, errResourceInUse("Another active subscription exists for this consumer: %s", *in.ConsumerARN))
		return
	}
	defer s.forgetIfGone(ref, e.Meta.UID, cm.Name)
	defer s.subs.end(key, sub)
	s.metrics.subscribeSuccess.WithLabelValues(sl...).Inc()

	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	es := &eventWriter{w: w, enc: eventstream.NewEncoder(), cbor: isCBOR(w)}
	if err := es.event("initial-response", es.emptyPayload()); err != nil {
		return
	}
	s.pump(ctx, es, ref, e.Meta, it, sl)
}

// subscribeRequest decodes and checks a SubscribeToShard request, and
// finds its consumer and where it starts.
func (s *Service) subscribeRequest(ctx context.Context, c caller, body []byte) (in subscribeInput, ref streamRef, e *streams.Stream, cm *streams.Consumer, it iterator, aerr *Error) {
	if aerr = decodeBody(body, &in); aerr != nil {
		return
	}
	var v validation
	sel := consumerSelector{ConsumerARN: in.ConsumerARN}
	if v.notNull("consumerARN", in.ConsumerARN != nil) {
		sel.check(&v)
	}
	if v.notNull("shardId", in.ShardId != nil) {
		checkName(&v, "shardId", in.ShardId)
	}
	if v.notNull("startingPosition", in.StartingPosition != nil) {
		if v.notNull("startingPosition.type", in.StartingPosition.Type != nil) {
			v.enum("startingPosition.type", string(*in.StartingPosition.Type), iteratorTypes...)
		}
	}
	if ref, _, cm, aerr = sel.find(s, c, &v); aerr != nil {
		return
	}
	if st := cm.StatusAt(time.Now()); st != streams.ConsumerActive {
		aerr = errResourceInUse("Consumer %s is not in ACTIVE state, instead in state %s.", *in.ConsumerARN, st)
		return
	}
	pos := in.StartingPosition
	if e, it, aerr = s.startPosition(ctx, ref, string(*in.ShardId), string(*pos.Type), pos.SequenceNumber, pos.Timestamp); aerr != nil {
		return
	}
	if in.DryRun != nil && *in.DryRun {
		aerr = errDryRun()
	}
	return
}

// pump sends a subscription's events, from it on, until the shard ends,
// the stream goes, the subscription's time is up or the client leaves.
// m is the stream incarnation subscribed to; sl the consumer's metric
// labels.
func (s *Service) pump(ctx context.Context, es *eventWriter, ref streamRef, m *streams.Meta, it iterator, sl []string) {
	lastSent := time.Now()
	for {
		wake := s.eng.Woken(m, it.ShardIndex)
		// Fresh metadata each round: the shard may have been closed.
		cur, aerr := s.lookup(ref)
		if aerr == nil && (cur.Meta.UID != m.UID || cur.Meta.Status == streams.StatusDeleting) {
			aerr = errResourceNotFound("Shard %s in stream %s under account %s does not exist", shard.ID(it.ShardIndex), ref.name, ref.account)
		}
		if aerr != nil {
			es.exception(aerr)
			return
		}
		out, next, end, aerr := s.readShard(ctx, ref, cur, it, maxGetRecordsCount)
		if aerr != nil {
			if ctx.Err() == nil {
				es.exception(aerr)
			}
			return
		}
		it = next
		if len(out.records) > 0 || end || time.Since(lastSent) >= subscribeHeartbeat {
			if err := s.sendEvent(es, cur.Meta, it, &out, end, sl); err != nil {
				return
			}
			lastSent = time.Now()
		}
		if end {
			return
		}
		if len(out.records) > 0 {
			continue // more may be waiting
		}
		select {
		case <-wake:
		case <-time.After(subscribeHeartbeat - time.Since(lastSent)):
		case <-ctx.Done():
			return
		}
	}
}

// sendEvent sends one SubscribeToShardEvent and counts it.
func (s *Service) sendEvent(es *eventWriter, m *streams.Meta, it iterator, out *getRecordsOutput, end bool, sl []string) error {
	cont := ""
	if !end {
		cont = continuation(m, it)
	}
	if err := es.event("SubscribeToShardEvent", es.payload(out, cont)); err != nil {
		return err
	}
	s.metrics.read(m, it.ShardIndex, out)
	s.metrics.subscribeEventRecords.WithLabelValues(sl...).Add(float64(len(out.records)))
	s.metrics.subscribeEventBytes.WithLabelValues(sl...).Add(float64(out.bytes()))
	s.metrics.subscribeBehind.WithLabelValues(append(sl, shard.ID(it.ShardIndex))...).Set(millisToSeconds(out.millisBehind))
	return nil
}

// forgetIfGone removes the series of a subscription's consumer, or of its
// whole stream, if they were deregistered or deleted while it ran: the
// subscription's last metric update may have raced their removal.
func (s *Service) forgetIfGone(ref streamRef, uid, consumer string) {
	cur, aerr := s.lookup(ref)
	if aerr != nil {
		s.metrics.forgetStream(ref.account, ref.region, ref.name)
		return
	}
	if cur.Meta.UID != uid {
		return // a new stream of the same name: the series are its own
	}
	if c := cur.Meta.FindConsumer(consumer, time.Now()); c == nil || c.Status == streams.ConsumerDeleting {
		s.metrics.forgetConsumer(ref.account, ref.region, ref.name, consumer)
	}
}

// continuation is the ContinuationSequenceNumber for a position: a
// subscription resumed AFTER_SEQUENCE_NUMBER it starts exactly there.
func continuation(m *streams.Meta, it iterator) string {
	return streams.Continuation(m, it.position())
}

// appendEvent encodes a SubscribeToShardEvent's payload.
func (o getRecordsOutput) appendEvent(b []byte, cont string) []byte {
	b = append(b, '{')
	if cont != "" {
		b = append(b, `"ContinuationSequenceNumber":"`...)
		b = append(b, cont...)
		b = append(b, `",`...)
	}
	b = append(b, `"MillisBehindLatest":`...)
	b = strconv.AppendInt(b, o.millisBehind, 10)
	b = append(b, `,"Records":`...)
	b = o.appendRecords(b)
	if o.children != nil {
		cb, _ := json.Marshal(o.children)
		b = append(b, `,"ChildShards":`...)
		b = append(b, cb...)
	}
	return append(b, '}')
}

// appendEventCBOR is appendEvent in CBOR, for clients that speak CBOR
// (the Java SDKs, and so the KCL).
func (o getRecordsOutput) appendEventCBOR(b []byte, cont string) []byte {
	members := uint64(2)
	if cont != "" {
		members++
	}
	if o.children != nil {
		members++
	}
	b = appendCBORHead(b, 5, members)
	if cont != "" {
		b = appendCBORText(b, "ContinuationSequenceNumber")
		b = appendCBORText(b, cont)
	}
	b = appendCBORText(b, "MillisBehindLatest")
	b = appendCBORInt(b, o.millisBehind)
	b = appendCBORText(b, "Records")
	b = o.appendRecordsCBOR(b)
	if o.children != nil {
		b = appendCBORText(b, "ChildShards")
		cb, _ := cborEnc.Marshal(o.children)
		b = append(b, cb...)
	}
	return b
}

// eventWriter writes event-stream messages and flushes each one, so that
// it reaches the client as soon as it is written. Payloads are JSON or
// CBOR, whichever the request was.
type eventWriter struct {
	w    http.ResponseWriter
	enc  *eventstream.Encoder
	cbor bool
}

func (e *eventWriter) contentType() string {
	if e.cbor {
		return contentTypeCBOR
	}
	return "application/json"
}

func (e *eventWriter) emptyPayload() []byte {
	if e.cbor {
		return emptyCBORMap
	}
	return []byte("{}")
}

func (e *eventWriter) payload(o *getRecordsOutput, cont string) []byte {
	if e.cbor {
		return o.appendEventCBOR(nil, cont)
	}
	return o.appendEvent(nil, cont)
}

func (e *eventWriter) write(headers eventstream.Headers, payload []byte) error {
	if err := e.enc.Encode(e.w, eventstream.Message{Headers: headers, Payload: payload}); err != nil {
		return err
	}
	if f, ok := e.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

func (e *eventWriter) event(typ string, payload []byte) error {
	return e.write(eventstream.Headers{
		{Name: ":message-type", Value: eventstream.StringValue("event")},
		{Name: ":event-type", Value: eventstream.StringValue(typ)},
		{Name: ":content-type", Value: eventstream.StringValue(e.contentType())},
	}, payload)
}

// exception ends a subscription with an error, in the stream, as AWS does
// once the response has started.
func (e *eventWriter) exception(aerr *Error) {
	payload, _ := json.Marshal(map[string]string{"message": aerr.Message})
	if e.cbor {
		payload, _ = cborEnc.Marshal(map[string]string{"message": aerr.Message})
	}
	_ = e.write(eventstream.Headers{
		{Name: ":message-type", Value: eventstream.StringValue("exception")},
		{Name: ":exception-type", Value: eventstream.StringValue(aerr.Type)},
		{Name: ":content-type", Value: eventstream.StringValue(e.contentType())},
	}, payload)
}
