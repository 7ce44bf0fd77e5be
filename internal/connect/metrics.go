package connect

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the runtime's Prometheus metrics, named after Kafka
// Connect's JMX metrics (source-record-write-total, sink-record-read-total,
// offset-commit, deadletterqueue-produce-requests, connector and task
// status) so existing dashboards translate directly.
type metrics struct {
	sourceRecords *prometheus.CounterVec // records written to streams
	sinkRecords   *prometheus.CounterVec // records read from streams and put
	skipped       *prometheus.CounterVec // records skipped under errors.tolerance=all
	deadLetters   *prometheus.CounterVec
	commits       *prometheus.CounterVec
	commitFails   *prometheus.CounterVec
	taskFailures  *prometheus.CounterVec
}

// vecs lists the per-connector vectors, for removing a connector's series.
func (m *metrics) vecs() []*prometheus.CounterVec {
	return []*prometheus.CounterVec{m.sourceRecords, m.sinkRecords, m.skipped, m.deadLetters,
		m.commits, m.commitFails, m.taskFailures}
}

// forgetTasks removes the series of a connector's tasks from..to-1: tasks
// that no longer exist because the connector now has fewer (or, stopped,
// none), as Kafka closes a stopped task's metrics. Those tasks must have
// stopped.
func (m *metrics) forgetTasks(connector string, from, to int) {
	for id := from; id < to; id++ {
		for _, v := range m.vecs() {
			v.DeleteLabelValues(connector, strconv.Itoa(id))
		}
	}
}

// forget removes every series of a deleted connector, so /metrics shows
// only connectors that exist. Its tasks must have stopped, or one could
// count again after the removal.
func (m *metrics) forget(connector string) {
	for _, v := range m.vecs() {
		v.DeletePartialMatch(prometheus.Labels{"connector": connector})
	}
}

func newMetrics(reg prometheus.Registerer) *metrics {
	labels := []string{"connector", "task"}
	counter := func(name, help string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tributary", Subsystem: "connect", Name: name, Help: help}, labels)
		if reg != nil {
			reg.MustRegister(c)
		}
		return c
	}
	return &metrics{
		sourceRecords: counter("source_record_write_total", "Records source tasks wrote to streams (after transforms)."),
		sinkRecords:   counter("sink_record_read_total", "Records sink tasks read from streams."),
		skipped:       counter("records_skipped_total", "Records skipped under errors.tolerance=all."),
		deadLetters:   counter("deadletterqueue_produce_requests_total", "Records written to dead letter streams."),
		commits:       counter("offset_commit_completion_total", "Offset commits that succeeded."),
		commitFails:   counter("offset_commit_failure_total", "Offset commits that failed."),
		taskFailures:  counter("task_failures_total", "Tasks that failed (error or panic)."),
	}
}

// statusCollector reports the number of connectors and tasks in each
// state when scraped, from the herder's current view.
type statusCollector struct {
	h    *Herder
	desc *prometheus.Desc
}

func (c statusCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[[2]string]int{}
	c.h.mu.Lock()
	for _, cr := range c.h.conns {
		st := c.h.status(cr)
		counts[[2]string{"connector", string(st.Connector.State)}]++
		for _, ts := range st.Tasks {
			counts[[2]string{"task", string(ts.State)}]++
		}
	}
	c.h.mu.Unlock()
	for _, kind := range []string{"connector", "task"} {
		for _, s := range []State{StateUnassigned, StateRunning, StatePaused, StateStopped, StateFailed, StateRestarting} {
			if kind == "task" && s == StateStopped {
				continue
			}
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[[2]string{kind, string(s)}]), kind, string(s))
		}
	}
}
