package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// A connector is stored as Kafka's config topic stores it: a record with
// its configuration and target state under kindConfig, and each task's
// configuration under its own key (kindTask, Kafka's
// task-<connector>-<n>). A connector's configuration is at most the REST
// API's 1 MiB body, so every value, sealed, stays far below the store's
// largest message (16 MiB), whatever tasks.max is; one record holding
// every task's copy of the configuration did not.
//
// The record says how many task keys are current (task_count). Task keys
// are written before the record and surplus ones removed after it, so a
// crash leaves the record readable; at worst its task configurations are
// stale, and a connector's tasks are generated afresh whenever it starts.
const (
	kindTask = "connect.task."
)

// maxStoredConfig bounds a configuration as a record or task key holds
// it, JSON-encoded, before sealing (which adds 29 bytes). The store's
// largest message is 16 MiB; the other half is room for the record's
// own fields and, for a long connector name, the key's spelling, which
// the store keeps in the value. A 1 MiB request body makes at most 6 MiB
// (JSON writes '<', '>' and '&' as \u003c), so only a configuration
// grown past that by PATCH requests is refused.
const maxStoredConfig = 8 << 20

// tooLargeToStore returns an error message, and the key of the largest
// value to attach it to, for a configuration over maxStoredConfig.
func tooLargeToStore(props map[string]string) (string, string) {
	b, err := json.Marshal(props)
	if err != nil || len(b) <= maxStoredConfig {
		return "", ""
	}
	var largest string
	for k, v := range props {
		if len(v) > len(props[largest]) || largest == "" {
			largest = k
		}
	}
	return largest, fmt.Sprintf("The configuration is %d bytes when stored, over the limit of %d bytes; its largest value is that of %s",
		len(b), maxStoredConfig, largest)
}

func taskConfigKey(connector string, i int) string {
	return stateKey(kindTask, connector) + "." + strconv.Itoa(i)
}

// storedRecord is a connector record as the KV holds it.
type storedRecord struct {
	Config map[string]string `json:"config"`
	Target TargetState       `json:"target"`
	// Tasks held every task configuration inline before each had its
	// own key; it is read, never written.
	Tasks []map[string]string `json:"tasks,omitempty"`
	// TaskCount is the number of current task keys; absent when the
	// connector has no task configurations (stopped) or the record is
	// older.
	TaskCount *int `json:"task_count,omitempty"`
}

// loadRecord decodes a stored connector record and its task keys. It
// reports whether the record needs writing again: stored in plain text,
// or with its task configurations inline.
func (h *Herder) loadRecord(ctx context.Context, name string, b []byte) (*connRun, bool, bool, error) {
	var sr storedRecord
	sealed, err := h.openValue(b, &sr)
	if err != nil {
		return nil, sealed, false, err
	}
	c := &connRun{name: name, rec: connRecord{Config: sr.Config, Target: sr.Target, Tasks: sr.Tasks},
		typ: h.cfg.Registry.typeOf(sr.Config[cfgClass])}
	if sr.TaskCount == nil {
		return c, sealed, sr.Tasks != nil, nil
	}
	stored, err := h.cfg.KV.List(ctx, stateKey(kindTask, name)+".")
	if err != nil {
		return nil, sealed, false, fmt.Errorf("task configurations: %w", err)
	}
	for key := range stored {
		if i, err := strconv.Atoi(key[len(stateKey(kindTask, name))+1:]); err == nil && i >= 0 && i < 1<<20 {
			for len(c.storedTasks) <= i {
				c.storedTasks = append(c.storedTasks, nil)
			}
			tc := map[string]string{}
			if _, err := h.openValue(stored[key], &tc); err == nil {
				c.storedTasks[i] = tc
			}
		}
	}
	n := *sr.TaskCount
	if n > len(c.storedTasks) || slices.ContainsFunc(c.storedTasks[:n], func(m map[string]string) bool { return m == nil }) {
		// The connector generates its tasks again when it starts.
		h.log.Warn("a connector's stored task configurations are incomplete; they are generated again", "connector", name)
		return c, sealed, false, nil
	}
	c.rec.Tasks = slices.Clone(c.storedTasks[:n])
	return c, sealed, false, nil
}

// encodeRecord returns c's record as the KV stores it, sealed.
func (h *Herder) encodeRecord(c *connRun) ([]byte, error) {
	sr := storedRecord{Config: c.rec.Config, Target: c.rec.Target}
	if c.rec.Tasks != nil {
		n := len(c.rec.Tasks)
		sr.TaskCount = &n
	}
	return h.sealValue(sr)
}

// save writes c's task configurations that changed, then its record,
// then removes task keys past the current tasks.
func (h *Herder) save(ctx context.Context, c *connRun) error {
	if err := h.saveTasks(ctx, c); err != nil {
		return fmt.Errorf("saving connector %s: %w", c.name, err)
	}
	b, err := h.encodeRecord(c)
	if err != nil {
		return fmt.Errorf("saving connector %s: %w", c.name, err)
	}
	if err := h.cfg.KV.Put(ctx, stateKey(kindConfig, c.name), b); err != nil {
		return fmt.Errorf("saving connector %s: %w", c.name, err)
	}
	if err := h.dropTasks(ctx, c, len(c.rec.Tasks)); err != nil {
		return fmt.Errorf("saving connector %s: %w", c.name, err)
	}
	return nil
}

func (h *Herder) saveTasks(ctx context.Context, c *connRun) error {
	for i, tc := range c.rec.Tasks {
		if i < len(c.storedTasks) && c.storedTasks[i] != nil && maps.Equal(c.storedTasks[i], tc) {
			continue
		}
		b, err := h.sealValue(tc)
		if err != nil {
			return fmt.Errorf("task %d: %w", i, err)
		}
		if err := h.cfg.KV.Put(ctx, taskConfigKey(c.name, i), b); err != nil {
			return fmt.Errorf("task %d: %w", i, err)
		}
		for len(c.storedTasks) <= i {
			c.storedTasks = append(c.storedTasks, nil)
		}
		c.storedTasks[i] = tc
	}
	return nil
}

// dropTasks removes c's task keys from index from on.
func (h *Herder) dropTasks(ctx context.Context, c *connRun, from int) error {
	for i := len(c.storedTasks) - 1; i >= from; i-- {
		if err := h.cfg.KV.Delete(ctx, taskConfigKey(c.name, i)); err != nil {
			return fmt.Errorf("task %d: %w", i, err)
		}
		c.storedTasks = c.storedTasks[:i]
	}
	return nil
}

// deleteRecord removes a connector's record and task keys.
func (h *Herder) deleteRecord(ctx context.Context, c *connRun) error {
	if err := h.cfg.KV.Delete(ctx, stateKey(kindConfig, c.name)); err != nil {
		return err
	}
	stored, err := h.cfg.KV.List(ctx, stateKey(kindTask, c.name)+".")
	if err != nil {
		return err
	}
	for key := range stored {
		if err := h.cfg.KV.Delete(ctx, key); err != nil {
			return err
		}
	}
	c.storedTasks = nil
	return nil
}
