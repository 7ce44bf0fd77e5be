package connect_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/tributary-data/tributary/internal/connect"
)

// greedySource asks for one task more than tasks.max allows.
type greedySource struct{ testSource }

func (c *greedySource) TaskConfigs(max int) ([]map[string]string, error) {
	return c.testSource.TaskConfigs(max + 1)
}

func limitedHerder(t *testing.T, e *engine, limit string) *connect.Herder {
	t.Helper()
	reg := connect.NewRegistry("test", map[string]func() connect.Connector{
		sourceClass:   func() connect.Connector { return &testSource{} },
		"test.Greedy": func() connect.Connector { return &greedySource{} },
	})
	h := connect.NewHerder(connect.WorkerConfig{WorkerID: "test:8083", Registry: reg, Streams: e.local, KV: e.kv,
		Logger: slog.New(slog.DiscardHandler), Props: map[string]string{"tasks.max.limit": limit}})
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestTasksMaxLimitAtStart checks the runtime never starts more tasks
// than the limit or tasks.max allow: a connector stored under a higher
// limit fails at start with a trace saying what to change, and so does a
// connector that asks for more tasks than tasks.max.
func TestTasksMaxLimitAtStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := newEngine(t, dir)
	h := limitedHerder(t, e, "10")
	cfg := map[string]string{"connector.class": sourceClass, "tasks.max": "8", "test.topic": "limited"}
	if _, err := h.CreateConnector(ctx, "wide", cfg, ""); err != nil {
		t.Fatal(err)
	}
	if _, tasks := state(t, h, "wide"); len(tasks) != 8 {
		t.Fatalf("tasks under limit 10 = %v", tasks)
	}
	h.Stop(ctx)
	e.close()

	e = newEngine(t, dir)
	h = limitedHerder(t, e, "4")
	defer h.Stop(ctx)
	st, err := h.ConnectorStatus(ctx, "wide")
	if err != nil {
		t.Fatal(err)
	}
	if st.Connector.State != connect.StateFailed ||
		!strings.Contains(st.Connector.Trace, "Value must be no more than 4 (the worker's tasks.max.limit)") {
		t.Fatalf("connector over the new limit = %+v", st)
	}
	for _, ts := range st.Tasks {
		// Its stored tasks are listed, as Kafka lists a failed
		// connector's, but none runs.
		if ts.State != connect.StateUnassigned {
			t.Fatalf("task of a connector over the limit = %+v", ts)
		}
	}
	cfg["tasks.max"] = "4"
	if _, _, err := h.PutConnectorConfig(ctx, "wide", cfg); err != nil {
		t.Fatal(err)
	}
	if got, tasks := state(t, h, "wide"); got != connect.StateRunning || len(tasks) != 4 {
		t.Fatalf("after lowering tasks.max: %s %v", got, tasks)
	}

	if _, err := h.CreateConnector(ctx, "greedy", map[string]string{"connector.class": "test.Greedy", "tasks.max": "2"}, ""); err != nil {
		t.Fatal(err)
	}
	st, err = h.ConnectorStatus(ctx, "greedy")
	if err != nil {
		t.Fatal(err)
	}
	if st.Connector.State != connect.StateFailed || len(st.Tasks) != 0 ||
		!strings.Contains(st.Connector.Trace, "has generated 3 tasks, which is greater than 2") {
		t.Fatalf("greedy connector = %+v", st)
	}
}
