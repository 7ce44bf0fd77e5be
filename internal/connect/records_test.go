package connect_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// plainRecord is a connector record as versions before sealing stored
// it: plain JSON, task configurations inline.
func plainRecord(t *testing.T, name string, tasks []map[string]string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"config": map[string]string{"connector.class": sourceClass, "name": name, "tasks.max": "2", "topic": "t"},
		"target": "PAUSED", "tasks": tasks})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTaskConfigsOwnKeys loads a record with its task configurations
// inline, as earlier versions wrote it: the connector comes back with
// them, and they are rewritten one key per task, read back the same
// after a restart.
func TestTaskConfigsOwnKeys(t *testing.T) {
	const name = "inline"
	ctx := context.Background()
	e := newEngine(t, "")
	hexName := hex.EncodeToString([]byte(name))
	inline := []map[string]string{{"test.task": "0"}, {"test.task": "1"}}
	if err := e.kv.Put(ctx, "connect.config."+hexName, plainRecord(t, name, inline)); err != nil {
		t.Fatal(err)
	}
	for restart := range 2 {
		h := newHerder(t, e, nil)
		tasks, err := h.Tasks(ctx, name)
		if err != nil || len(tasks) != 2 || tasks[1].Config["test.task"] != "1" {
			t.Fatalf("start %d: tasks = %+v, %v", restart, tasks, err)
		}
		h.Stop(ctx)
		keys, err := e.kv.List(ctx, "connect.task."+hexName+".")
		if err != nil || len(keys) != 2 {
			t.Fatalf("start %d: task keys = %d, %v; want 2", restart, len(keys), err)
		}
		var rec map[string]json.RawMessage
		b, _ := e.kv.Get(ctx, "connect.config."+hexName)
		if err := json.Unmarshal(b, &rec); err != nil || rec["tasks"] != nil || string(rec["task_count"]) != "2" {
			t.Fatalf("start %d: record = %s, %v; want task_count 2 and no inline tasks", restart, b, err)
		}
	}
	h := newHerder(t, e, nil)
	defer h.Stop(ctx)
	if err := h.DeleteConnector(ctx, name); err != nil {
		t.Fatal(err)
	}
	if keys, err := e.kv.List(ctx, "connect.task."+hexName+"."); err != nil || len(keys) != 0 {
		t.Fatalf("task keys after delete = %v, %v", keys, err)
	}
}
