package kinesis

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/streams"
)

// metrics are the Kinesis service's Prometheus metrics, one for each
// CloudWatch metric of Kinesis Data Streams that Tributary can produce, so
// that dashboards and alarms built on CloudWatch translate one to one. The
// help text names the CloudWatch metric. Every series carries the
// stream's account, region and name as three labels, so queries can
// aggregate by any of them; shard-level metrics add the shard id, and
// enhanced fan-out metrics the consumer name (CloudWatch's ConsumerName
// dimension). Times are in seconds, Prometheus's base unit, where
// CloudWatch uses milliseconds. A deleted stream's or deregistered
// consumer's series are removed (forgetStream, forgetConsumer), so
// dashboards do not show streams that no longer exist.
type metrics struct {
	incomingBytes, incomingRecords             *prometheus.CounterVec
	outgoingBytes, outgoingRecords             *prometheus.CounterVec
	writeExceeded, readExceeded                *prometheus.CounterVec
	putRecordSuccess                           *prometheus.CounterVec
	putRecordLatency                           *prometheus.HistogramVec
	putRecordsSuccess                          *prometheus.CounterVec
	putRecordsLatency                          *prometheus.HistogramVec
	putRecordsRecords, putRecordsAll           *prometheus.CounterVec
	putRecordsFailed, putRecordsThrottled      *prometheus.CounterVec
	putRecordsBytes                            *prometheus.CounterVec
	getRecordsSuccess                          *prometheus.CounterVec
	getRecordsLatency                          *prometheus.HistogramVec
	getRecordsBytes, getRecordsRecords         *prometheus.CounterVec
	iteratorAge                                *prometheus.GaugeVec
	subscribeSuccess, subscribeExceeded        *prometheus.CounterVec
	subscribeEventBytes, subscribeEventRecords *prometheus.CounterVec
	subscribeBehind                            *prometheus.GaugeVec
	// lostMessages and lostLogs report storage damage; they have no
	// CloudWatch counterpart, since AWS does not lose records.
	lostMessages, lostLogs *prometheus.CounterVec

	// all holds every vector above, for removing a stream's series.
	all []partialDeleter
}

// partialDeleter is what CounterVec, GaugeVec and HistogramVec share for
// removing every series whose labels include some values.
type partialDeleter interface {
	prometheus.Collector
	DeletePartialMatch(labels prometheus.Labels) int
}

func newMetrics(reg prometheus.Registerer) *metrics {
	const ns = "tributary_kinesis"
	stream := []string{"account", "region", "stream"}
	shardLabels := []string{"account", "region", "stream", "shard"}
	consumer := []string{"account", "region", "stream", "consumer"}
	consumerShard := []string{"account", "region", "stream", "consumer", "shard"}
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, labels)
	}
	latency := func(name, help string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help,
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18)}, stream)
	}
	gauge := func(name, help string, labels []string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, labels)
	}
	m := &metrics{
		incomingBytes:         counter("incoming_bytes_total", "Bytes put into the shard (CloudWatch IncomingBytes).", shardLabels),
		incomingRecords:       counter("incoming_records_total", "Records put into the shard (CloudWatch IncomingRecords).", shardLabels),
		outgoingBytes:         counter("outgoing_bytes_total", "Bytes read from the shard by GetRecords and SubscribeToShard (CloudWatch OutgoingBytes).", shardLabels),
		outgoingRecords:       counter("outgoing_records_total", "Records read from the shard (CloudWatch OutgoingRecords).", shardLabels),
		writeExceeded:         counter("write_provisioned_throughput_exceeded_total", "Records refused by the shard's write limits (CloudWatch WriteProvisionedThroughputExceeded).", shardLabels),
		readExceeded:          counter("read_provisioned_throughput_exceeded_total", "GetRecords calls refused by the shard's read limits (CloudWatch ReadProvisionedThroughputExceeded).", shardLabels),
		putRecordSuccess:      counter("put_record_success_total", "Successful PutRecord calls (CloudWatch PutRecord.Success).", stream),
		putRecordLatency:      latency("put_record_latency_seconds", "PutRecord latency (CloudWatch PutRecord.Latency)."),
		putRecordsSuccess:     counter("put_records_success_total", "PutRecords calls with at least one record stored (CloudWatch PutRecords.Success).", stream),
		putRecordsLatency:     latency("put_records_latency_seconds", "PutRecords latency (CloudWatch PutRecords.Latency)."),
		putRecordsRecords:     counter("put_records_successful_records_total", "Records stored by PutRecords (CloudWatch PutRecords.SuccessfulRecords).", stream),
		putRecordsAll:         counter("put_records_records_total", "Records sent in PutRecords calls, stored or not (CloudWatch PutRecords.TotalRecords).", stream),
		putRecordsFailed:      counter("put_records_failed_records_total", "Records PutRecords failed to store for internal reasons (CloudWatch PutRecords.FailedRecords).", stream),
		putRecordsThrottled:   counter("put_records_throttled_records_total", "Records PutRecords refused for throughput limits (CloudWatch PutRecords.ThrottledRecords).", stream),
		putRecordsBytes:       counter("put_records_bytes_total", "Bytes stored by PutRecords (CloudWatch PutRecords.Bytes).", stream),
		getRecordsSuccess:     counter("get_records_success_total", "Successful GetRecords calls (CloudWatch GetRecords.Success).", stream),
		getRecordsLatency:     latency("get_records_latency_seconds", "GetRecords latency (CloudWatch GetRecords.Latency)."),
		getRecordsBytes:       counter("get_records_bytes_total", "Bytes returned by GetRecords (CloudWatch GetRecords.Bytes).", stream),
		getRecordsRecords:     counter("get_records_records_total", "Records returned by GetRecords (CloudWatch GetRecords.Records).", stream),
		iteratorAge:           gauge("get_records_iterator_age_seconds", "Age in seconds of the last record returned by GetRecords on the shard, 0 at the tip (CloudWatch GetRecords.IteratorAgeMilliseconds / IteratorAgeMilliseconds, in milliseconds there).", shardLabels),
		subscribeSuccess:      counter("subscribe_to_shard_success_total", "SubscribeToShard calls that started a subscription (CloudWatch SubscribeToShard.Success).", consumer),
		subscribeExceeded:     counter("subscribe_to_shard_rate_exceeded_total", "SubscribeToShard calls refused because the consumer already had a new subscription to the shard (CloudWatch SubscribeToShard.RateExceeded).", consumer),
		subscribeEventBytes:   counter("subscribe_to_shard_event_bytes_total", "Bytes pushed by SubscribeToShard events (CloudWatch SubscribeToShardEvent.Bytes).", consumer),
		subscribeEventRecords: counter("subscribe_to_shard_event_records_total", "Records pushed by SubscribeToShard events (CloudWatch SubscribeToShardEvent.Records).", consumer),
		subscribeBehind:       gauge("subscribe_to_shard_event_behind_latest_seconds", "How far in seconds the last SubscribeToShard event was behind the tip of the shard (CloudWatch SubscribeToShardEvent.MillisBehindLatest, in milliseconds there).", consumerShard),
		lostMessages:          counter("lost_messages_total", "Stored messages of the shard (each holds one request's records for it) found damaged and dropped, when read or when the store recovered its log at start-up. Not a CloudWatch metric.", shardLabels),
		lostLogs:              counter("lost_logs_total", "Times the shard's log was missing at start-up and was re-created empty, losing its records. Not a CloudWatch metric.", shardLabels),
	}
	m.all = []partialDeleter{m.incomingBytes, m.incomingRecords, m.outgoingBytes, m.outgoingRecords,
		m.writeExceeded, m.readExceeded, m.putRecordSuccess, m.putRecordLatency, m.putRecordsSuccess,
		m.putRecordsLatency, m.putRecordsRecords, m.putRecordsAll, m.putRecordsFailed, m.putRecordsThrottled,
		m.putRecordsBytes, m.getRecordsSuccess, m.getRecordsLatency, m.getRecordsBytes, m.getRecordsRecords,
		m.iteratorAge, m.subscribeSuccess, m.subscribeExceeded, m.subscribeEventBytes, m.subscribeEventRecords,
		m.subscribeBehind, m.lostMessages, m.lostLogs}
	if reg != nil {
		for _, c := range m.all {
			reg.MustRegister(c)
		}
	}
	return m
}

// streamLabels are the values of the account, region and stream labels.
func streamLabels(m *streams.Meta) []string { return []string{m.Account, m.Region, m.Name} }

// shardLabels are streamLabels and the shard id.
func shardLabels(m *streams.Meta, shardIndex int) []string {
	return []string{m.Account, m.Region, m.Name, shard.ID(shardIndex)}
}

// consumerLabels are streamLabels and an enhanced fan-out consumer's name.
func consumerLabels(m *streams.Meta, consumer string) []string {
	return []string{m.Account, m.Region, m.Name, consumer}
}

// forgetStream removes every series of a stream: its own, its shards' and
// its consumers'. It is called once the stream is deleted.
func (mt *metrics) forgetStream(account, region, name string) {
	match := prometheus.Labels{"account": account, "region": region, "stream": name}
	for _, c := range mt.all {
		c.DeletePartialMatch(match)
	}
}

// forgetConsumer removes the series of a deregistered consumer.
func (mt *metrics) forgetConsumer(account, region, stream, consumer string) {
	match := prometheus.Labels{"account": account, "region": region, "stream": stream, "consumer": consumer}
	for _, c := range mt.all {
		c.DeletePartialMatch(match)
	}
}

// read counts records read from a shard by GetRecords or a subscription.
func (mt *metrics) read(m *streams.Meta, shardIndex int, out *getRecordsOutput) {
	sl := shardLabels(m, shardIndex)
	mt.outgoingRecords.WithLabelValues(sl...).Add(float64(len(out.records)))
	mt.outgoingBytes.WithLabelValues(sl...).Add(float64(out.bytes()))
}

// recorded follows every update of a stream's series by a read.
// finishDelete removes a stream from the catalog and then its series, but
// a read that found the stream before the deletion may record after
// that. Checking the catalog after recording closes the gap: either the
// deletion's removal came after this request's series, or this check sees
// the stream gone and removes them. Puts need no check: they record while
// holding the stream's lock for reading (see writable), and finishDelete
// takes it for writing, so it waits for them, and a put that comes later
// finds no stream.
func (s *Service) recorded(m *streams.Meta) {
	if !s.eng.Exists(refOf(m).id()) {
		s.metrics.forgetStream(m.Account, m.Region, m.Name)
	}
}

// millisToSeconds converts a MillisBehindLatest to a gauge's seconds.
func millisToSeconds(ms int64) float64 { return float64(ms) / 1000 }

func since(t time.Time) float64 { return time.Since(t).Seconds() }

// observer hears of what the engine finds and does by itself, for the
// metrics.
type observer Service

func (o *observer) LogRecreated(m *streams.Meta, shard int) {
	o.metrics.lostLogs.WithLabelValues(shardLabels(m, shard)...).Inc()
}

func (o *observer) MessagesLost(m *streams.Meta, shard int, n uint64) {
	o.metrics.lostMessages.WithLabelValues(shardLabels(m, shard)...).Add(float64(n))
}

// Stored counts records stored in a shard, by the API or in-process
// writers alike.
func (o *observer) Stored(m *streams.Meta, shard, records, bytes int) {
	sl := shardLabels(m, shard)
	o.metrics.incomingRecords.WithLabelValues(sl...).Add(float64(records))
	o.metrics.incomingBytes.WithLabelValues(sl...).Add(float64(bytes))
}

func (o *observer) StreamRemoved(m *streams.Meta) { (*Service)(o).forgetStream(m) }

// registerCluster registers the counters of what the service and its
// engine tell other nodes and hear from them: the wake-ups of readers
// (internal/streams/wake.go) and the throttle's usage reports
// (usage.go). They stay at zero on a node alone.
func (mt *metrics) registerCluster(reg prometheus.Registerer, s *Service) {
	if reg == nil {
		return
	}
	wake := func(name, help string, f func(streams.WakeStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "tributary_cluster", Name: name, Help: help},
			func() float64 { return float64(f(s.eng.WakeStats())) })
	}
	usage := func(name, help string, f func(u *usageShare) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "tributary_cluster", Name: name, Help: help},
			func() float64 {
				if s.usage == nil {
					return 0
				}
				return float64(f(s.usage))
			})
	}
	reg.MustRegister(
		wake("wake_notifications_sent_total", "Notifications this node published to wake other nodes' readers of a shard it appended to (coalesced per shard).",
			func(w streams.WakeStats) uint64 { return w.Sent }),
		wake("wake_notifications_received_total", "Notifications this node heard of other nodes' appends to shards its readers wait on.",
			func(w streams.WakeStats) uint64 { return w.Received }),
		wake("wake_fallback_polls_total", "Waits for a shard's records that ended after the poll interval without news, to read again in case a notification was lost.",
			func(w streams.WakeStats) uint64 { return w.FallbackPolls }),
		usage("usage_reports_sent_total", "Reports of this node's per-shard throughput usage sent to the other nodes (with -throttle).",
			func(u *usageShare) uint64 { return u.sent.Load() }),
		usage("usage_reports_received_total", "Reports of other nodes' per-shard throughput usage charged to this node's limits (with -throttle).",
			func(u *usageShare) uint64 { return u.received.Load() }),
	)
}
