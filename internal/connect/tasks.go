package connect

import (
	"fmt"
	"strconv"
	"strings"
)

// tasksMaxLimit is the worker property that bounds every connector's
// tasks.max, and its default. Kafka has no such bound; without one a
// single request (tasks.max=100000 on a generator, whose tasks all run)
// could start as many goroutines as it likes.
const (
	tasksMaxLimit        = "tasks.max.limit"
	defaultTasksMaxLimit = 256
)

// parseTasksLimit reads the tasks.max.limit worker property.
func parseTasksLimit(props map[string]string) (int, error) {
	v, ok := props[tasksMaxLimit]
	if !ok || strings.TrimSpace(v) == "" {
		return defaultTasksMaxLimit, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%s: want a whole number of tasks, at least 1", tasksMaxLimit, v)
	}
	return int(n), nil
}

// tasksOverLimit returns Kafka's validation message for a tasks.max
// above this worker's tasks.max.limit, or "".
func (h *Herder) tasksOverLimit(value string) string {
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil || n <= int64(h.tasksLimit) {
		return ""
	}
	return fmt.Sprintf("Invalid value %s for configuration %s: Value must be no more than %d (the worker's %s)",
		value, cfgTasksMax, h.tasksLimit, tasksMaxLimit)
}

// maxTasks is the tasks.max a connector starts with. Validation keeps it
// within the limit; a connector stored before the limit existed, or
// under a higher one, fails instead of starting more tasks.
func (h *Herder) maxTasks(props map[string]string) (int, error) {
	if msg := h.tasksOverLimit(props[cfgTasksMax]); msg != "" {
		return 0, fmt.Errorf("%s; lower tasks.max with PUT /connectors/{name}/config", msg)
	}
	return int(max(intSetting(props, cfgTasksMax, 1), 1)), nil
}
