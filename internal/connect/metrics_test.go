package connect_test

import (
	"context"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// writeSeries returns the task label of each source_record_write_total
// series of a connector, and the sum of their values.
func writeSeries(t *testing.T, reg *prometheus.Registry, connector string) ([]string, float64) {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var tasks []string
	sum := 0.0
	for _, mf := range fams {
		if mf.GetName() != "tributary_connect_source_record_write_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["connector"] == connector {
				tasks = append(tasks, labels["task"])
				sum += m.GetCounter().GetValue()
			}
		}
	}
	slices.Sort(tasks)
	return tasks, sum
}

// TestMetricsFollowConnectors checks that a connector's series exist only
// for its tasks: fewer tasks after a reconfiguration drop the others'
// series, a stopped connector has none, and a deleted one none either.
// The counts also pin source_record_write_total to the records written.
func TestMetricsFollowConnectors(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, "")
	reg := prometheus.NewRegistry()
	h := newHerderWith(t, e, newLog(), reg)
	defer h.Stop(ctx)
	cfg := map[string]string{"connector.class": sourceClass, "tasks.max": "3", "test.records": "10", "test.topic": "metered"}
	if _, err := h.CreateConnector(ctx, "metered", cfg, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "30 records counted", func() bool { _, sum := writeSeries(t, reg, "metered"); return sum == 30 })
	if tasks, _ := writeSeries(t, reg, "metered"); !slices.Equal(tasks, []string{"0", "1", "2"}) {
		t.Fatalf("series for tasks %v, want 0, 1 and 2", tasks)
	}

	// Two tasks with 10 more records each: task 2's series goes.
	cfg["tasks.max"], cfg["test.records"] = "2", "20"
	if _, _, err := h.PutConnectorConfig(ctx, "metered", cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "40 records counted", func() bool { _, sum := writeSeries(t, reg, "metered"); return sum == 40 })
	if tasks, _ := writeSeries(t, reg, "metered"); !slices.Equal(tasks, []string{"0", "1"}) {
		t.Fatalf("after tasks.max=2: series for tasks %v, want 0 and 1", tasks)
	}

	if err := h.StopConnector(ctx, "metered"); err != nil {
		t.Fatal(err)
	}
	if tasks, _ := writeSeries(t, reg, "metered"); len(tasks) != 0 {
		t.Fatalf("stopped connector has series for tasks %v", tasks)
	}

	// Resumed with 10 more records a task, the series start again.
	if err := h.ResumeConnector(ctx, "metered"); err != nil {
		t.Fatal(err)
	}
	cfg["test.records"] = "30"
	if _, _, err := h.PutConnectorConfig(ctx, "metered", cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "20 records counted again", func() bool { _, sum := writeSeries(t, reg, "metered"); return sum == 20 })
	if err := h.DeleteConnector(ctx, "metered"); err != nil {
		t.Fatal(err)
	}
	if tasks, _ := writeSeries(t, reg, "metered"); len(tasks) != 0 {
		t.Fatalf("deleted connector has series for tasks %v", tasks)
	}
}
