package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape returns the body of the shared server's /metrics.
func scrape(t *testing.T) []byte {
	t.Helper()
	return scrapeAccepting(t, "")
}

// prometheusAccept is the Accept header Prometheus 2 scrapes with: it
// prefers OpenMetrics, whose counters are written with _total appended.
const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// scrapeAccepting is scrape with an Accept header.
func scrapeAccepting(t *testing.T, accept string) []byte {
	t.Helper()
	return scrapeAt(t, shared.Endpoint, accept)
}

// scrapeAt returns the body of a server's /metrics, asked for with an
// Accept header unless accept is empty.
func scrapeAt(t *testing.T, endpoint, accept string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxFor(t), http.MethodGet, endpoint+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	return body
}

// families parses a scrape in the Prometheus text format.
func families(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// matches reports whether a series carries every label of want.
func matches(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// seriesWith lists "family{labels}" for every series carrying the labels
// of want, across all families.
func seriesWith(fams map[string]*dto.MetricFamily, want map[string]string) []string {
	var out []string
	for name, mf := range fams {
		for _, m := range mf.GetMetric() {
			if matches(m, want) {
				out = append(out, name+labelString(m))
			}
		}
	}
	return out
}

func labelString(m *dto.Metric) string {
	var parts []string
	for _, lp := range m.GetLabel() {
		parts = append(parts, lp.GetName()+"="+strconv.Quote(lp.GetValue()))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// value is a series' value: a counter's or gauge's value, or a
// histogram's sample count.
func value(mf *dto.MetricFamily, m *dto.Metric) float64 {
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_HISTOGRAM:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return m.GetUntyped().GetValue()
}

// sumOf adds up a family's series that carry the labels of want.
func sumOf(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, int) {
	mf := fams[name]
	sum, n := 0.0, 0
	for _, m := range mf.GetMetric() {
		if matches(m, want) {
			sum += value(mf, m)
			n++
		}
	}
	return sum, n
}

// streamSel selects a stream's series in the default account and region.
func streamSel(stream string) map[string]string {
	return map[string]string{"account": defaultAccount, "region": "us-east-1", "stream": stream}
}

// promtoolCheck runs `promtool check metrics` on a scrape and fails the
// test on anything it reports. promtool is part of the test toolchain
// (Debian package prometheus, installed by scripts/test.sh): without it
// the test fails rather than skips, so a missing lint is noticed.
func promtoolCheck(t *testing.T, body []byte) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found (%v): install the Debian package prometheus (scripts/test.sh does)", err)
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// connectCall sends a request to the shared server's Connect REST API and
// returns the status and body.
func connectCall(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctxFor(t), method, shared.ConnectURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestMetricsPromtool drives every kind of activity that makes metrics
// (puts, GetRecords, an enhanced fan-out subscription, a reshard, a
// running connector) and requires `promtool check metrics` to report
// nothing on the scrape. It then checks the label scheme (account, region
// and stream apart) and that the series of a deregistered consumer, a
// deleted connector and a deleted stream disappear.
func TestMetricsPromtool(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 2)
	putN(t, c, name, 6)
	readStream(t, c, name)

	consumer := subscribeOnce(t, c, name)

	if _, err := c.UpdateShardCount(ctxFor(t), &kinesis.UpdateShardCountInput{StreamName: aws.String(name),
		TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, name, "ACTIVE")
	putN(t, c, name, 4)
	readStream(t, c, name)

	connector, topic := startDatagen(t)

	body := scrape(t)
	promtoolCheck(t, body)
	fams := families(t, body)
	checkNames(t, fams)
	checkLabels(t, fams, name, consumer, connector, topic)
	// What Prometheus itself scrapes has no doubled _total either.
	if om := scrapeAccepting(t, prometheusAccept); bytes.Contains(om, []byte("_total_total")) {
		t.Errorf("a scrape as Prometheus makes it has a doubled _total:\n%s", om)
	}

	// A deregistered consumer's series go; the stream's stay.
	if _, err := c.DeregisterStreamConsumer(ctxFor(t), &kinesis.DeregisterStreamConsumerInput{
		StreamARN: summary(t, c, name).StreamARN, ConsumerName: aws.String(consumer)}); err != nil {
		t.Fatal(err)
	}
	fams = families(t, scrape(t))
	consumerSel := streamSel(name)
	consumerSel["consumer"] = consumer
	if left := seriesWith(fams, consumerSel); len(left) > 0 {
		t.Errorf("series of deregistered consumer %s remain: %v", consumer, left)
	}
	if v, _ := sumOf(fams, "tributary_kinesis_incoming_records_total", streamSel(name)); v != 10 {
		t.Errorf("stream %s: incoming_records %v after its consumer went, want 10", name, v)
	}

	// A deleted connector's series go.
	if code, b := connectCall(t, http.MethodDelete, "/connectors/"+connector, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE connector: %d %s", code, b)
	}
	fams = families(t, scrape(t))
	if left := seriesWith(fams, map[string]string{"connector": connector}); len(left) > 0 {
		t.Errorf("series of deleted connector %s remain: %v", connector, left)
	}

	// A deleted stream's series go, shard-level ones included.
	for _, s := range []string{name, topic} {
		if _, err := c.DeleteStream(ctxFor(t), &kinesis.DeleteStreamInput{StreamName: aws.String(s)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{name, topic} {
		poll(t, "stream "+s+" gone", 20*time.Second, func() bool {
			_, err := c.DescribeStreamSummary(ctxFor(t), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(s)})
			var nf *types.ResourceNotFoundException
			return errors.As(err, &nf)
		})
	}
	body = scrape(t)
	fams = families(t, body)
	for _, s := range []string{name, topic} {
		if left := seriesWith(fams, streamSel(s)); len(left) > 0 {
			t.Errorf("series of deleted stream %s remain: %v", s, left)
		}
	}
	promtoolCheck(t, body)
}

// putN writes n records with distinct keys by PutRecord.
func putN(t *testing.T, c *kinesis.Client, name string, n int) {
	t.Helper()
	for i := range n {
		if _, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name),
			PartitionKey: aws.String("k" + strconv.Itoa(i)), Data: []byte("metrics")}); err != nil {
			t.Fatal(err)
		}
	}
}

// readStream reads every shard of a stream from its start by GetRecords.
func readStream(t *testing.T, c *kinesis.Client, name string) {
	t.Helper()
	for _, sh := range listShardRanges(t, c, name) {
		readAll(t, c, iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name),
			ShardId: aws.String(sh.id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}))
	}
}

// subscribeOnce registers a consumer, receives one SubscribeToShard event
// with records from shard 0, and returns the consumer's name.
func subscribeOnce(t *testing.T, c *kinesis.Client, name string) string {
	t.Helper()
	const consumer = "metrics-app"
	reg, err := c.RegisterStreamConsumer(ctxFor(t), &kinesis.RegisterStreamConsumerInput{
		StreamARN: summary(t, c, name).StreamARN, ConsumerName: aws.String(consumer)})
	if err != nil {
		t.Fatal(err)
	}
	poll(t, "consumer ACTIVE", 20*time.Second, func() bool {
		d, err := c.DescribeStreamConsumer(ctxFor(t), &kinesis.DescribeStreamConsumerInput{ConsumerARN: reg.Consumer.ConsumerARN})
		return err == nil && d.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive
	})
	events, stop := subscribe(t, c, ctxFor(t), *reg.Consumer.ConsumerARN, "shardId-000000000000",
		types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
	for ev := range events {
		if len(ev.Records) > 0 {
			break
		}
	}
	_ = stop()
	return consumer
}

// startDatagen creates an MSK Data Generator connector that writes five
// records to a stream of its own, waits until they are counted, and
// returns the connector's and the stream's names.
func startDatagen(t *testing.T) (connector, topic string) {
	t.Helper()
	connector = "metrics-datagen-" + strconv.FormatInt(nameSeq.Add(1), 10)
	topic = "metrics-topic-" + strconv.FormatInt(nameSeq.Add(1), 10)
	config := map[string]string{
		"connector.class":                     "com.amazonaws.mskdatagen.GeneratorSourceConnector",
		"genkp." + topic + ".with":            "#{Internet.uuid}",
		"genv." + topic + ".title.with":       "#{Book.title}",
		"topic." + topic + ".records.exactly": "5",
		"global.throttle.ms":                  "0",
		"value.converter":                     "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable":      "false",
	}
	if code, b := connectCall(t, http.MethodPost, "/connectors", map[string]any{"name": connector, "config": config}); code != http.StatusCreated {
		t.Fatalf("create connector: %d %s", code, b)
	}
	poll(t, "5 records counted for "+connector, 20*time.Second, func() bool {
		v, _ := sumOf(families(t, scrape(t)), "tributary_connect_source_record_write_total", map[string]string{"connector": connector})
		return v == 5
	})
	return connector, topic
}

// checkNames holds the naming rules promtool's lint does not cover
// fully: counters and only counters end in _total, and no name has
// "_total" elsewhere (put_records_total_records_total read as doubled);
// times are in seconds.
func checkNames(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	for name, mf := range fams {
		if !strings.HasPrefix(name, "tributary_") {
			continue
		}
		isCounter := mf.GetType() == dto.MetricType_COUNTER
		if strings.Contains(name, "_total_") {
			t.Errorf("%s: _total inside the name reads as a doubled _total", name)
		}
		if isCounter != strings.HasSuffix(name, "_total") {
			t.Errorf("%s is a %s: only counters end in _total", name, mf.GetType())
		}
		if strings.Contains(name, "milli") {
			t.Errorf("%s: times must be in seconds", name)
		}
	}
	for _, want := range []string{"tributary_kinesis_get_records_iterator_age_seconds",
		"tributary_kinesis_subscribe_to_shard_event_behind_latest_seconds",
		"tributary_connect_source_record_write_total", "tributary_connect_instances",
		"tributary_http_request_duration_seconds"} {
		if fams[want] == nil {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// checkLabels requires account, region and stream as separate labels on
// every Kinesis series, with the consumer and connector series present.
func checkLabels(t *testing.T, fams map[string]*dto.MetricFamily, stream, consumer, connector, topic string) {
	t.Helper()
	allowed := map[string]bool{"account": true, "region": true, "stream": true, "shard": true, "consumer": true}
	for name, mf := range fams {
		if !strings.HasPrefix(name, "tributary_kinesis_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			seen := map[string]bool{}
			for _, lp := range m.GetLabel() {
				if !allowed[lp.GetName()] {
					t.Errorf("%s%s: unexpected label %s", name, labelString(m), lp.GetName())
				}
				seen[lp.GetName()] = true
			}
			if !seen["account"] || !seen["region"] || !seen["stream"] {
				t.Errorf("%s%s: want account, region and stream labels", name, labelString(m))
			}
		}
	}
	// series < 0 or sum < 0: not checked.
	wants := []struct {
		metric string
		sel    map[string]string
		series int
		sum    float64
	}{
		{"tributary_kinesis_incoming_records_total", streamSel(stream), -1, 10},
		{"tributary_kinesis_get_records_iterator_age_seconds", streamSel(stream), 6, -1}, // 2 parents, 4 children
		{"tributary_kinesis_put_record_success_total", streamSel(stream), 1, 10},
		{"tributary_kinesis_subscribe_to_shard_success_total", with(streamSel(stream), "consumer", consumer), 1, 1},
		{"tributary_kinesis_subscribe_to_shard_event_behind_latest_seconds", with(streamSel(stream), "consumer", consumer), 1, -1},
		{"tributary_kinesis_incoming_records_total", streamSel(topic), -1, 5},
		{"tributary_connect_source_record_write_total", map[string]string{"connector": connector, "task": "0"}, 1, 5},
		// Streaming calls are named too, not "unknown".
		{"tributary_http_request_duration_seconds", map[string]string{"action": "SubscribeToShard", "code": "200"}, 1, -1},
	}
	for _, w := range wants {
		sum, n := sumOf(fams, w.metric, w.sel)
		if w.series >= 0 && n != w.series {
			t.Errorf("%s%v: %d series, want %d", w.metric, w.sel, n, w.series)
		}
		if w.sum >= 0 && sum != w.sum {
			t.Errorf("%s%v: adds up to %v, want %v", w.metric, w.sel, sum, w.sum)
		}
	}
}

func with(m map[string]string, k, v string) map[string]string {
	m[k] = v
	return m
}

// TestMetricsIteratorAgeSeconds checks that the iterator age gauge is in
// seconds: GetRecords returns the first of two records at least 100 ms
// after it was written, so the age is at least 0.1, and at most the time
// since the test began writing (in milliseconds it would be 1000 times
// that).
func TestMetricsIteratorAgeSeconds(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	begin := time.Now()
	putN(t, c, name, 1)
	putN(t, c, name, 1)
	time.Sleep(100 * time.Millisecond) // the age's lower bound, not an assertion on timing
	it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	out, err := c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(begin).Seconds()
	if len(out.Records) != 1 || aws.ToInt64(out.MillisBehindLatest) < 100 {
		t.Fatalf("GetRecords: %d records, MillisBehindLatest %d", len(out.Records), aws.ToInt64(out.MillisBehindLatest))
	}
	age, n := sumOf(families(t, scrape(t)), "tributary_kinesis_get_records_iterator_age_seconds", streamSel(name))
	if n != 1 || age < 0.1 || age > elapsed {
		t.Fatalf("iterator age = %v s (%d series), want between 0.1 and %v", age, n, elapsed)
	}
	if want := float64(aws.ToInt64(out.MillisBehindLatest)) / 1000; age != want {
		t.Errorf("iterator age = %v s, MillisBehindLatest says %v s", age, want)
	}
}
