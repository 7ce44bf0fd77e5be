package connect

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Tasks in distributed mode. The leader assigns each task to a worker,
// apart from its connector's instance (group.go). The worker that runs
// the instance generates and stores the task configurations, as a lone
// worker does, and runs the tasks assigned to it; another worker runs
// its tasks of that connector from the stored record (h.remote), and
// follows its changes by reading the record at each heartbeat: a new
// configuration or new task configurations restart its tasks, a new
// target state pauses, resumes or stops them.
//
// Each worker records the status of its own tasks, one key per task
// (kindTaskStatus); the instance's worker records the connector's. Any
// worker's status reply puts them together.

const kindTaskStatus = "connect.taskstatus."

func taskStatusKey(connector string, i int) string {
	return stateKey(kindTaskStatus, connector) + "." + strconv.Itoa(i)
}

// taskCount is how many tasks a stored connector record has: none when
// it is stopped or cannot be read.
func (h *Herder) taskCount(b []byte) int {
	var sr storedRecord
	if _, err := h.openValue(b, &sr); err != nil || sr.Target == TargetStopped {
		return 0
	}
	if sr.TaskCount != nil {
		return *sr.TaskCount
	}
	return len(sr.Tasks)
}

// runningTasks lists the tasks this worker runs, by connector.
func (h *Herder) runningTasks() map[string][]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string][]int{}
	for _, m := range []map[string]*connRun{h.conns, h.remote} {
		for name, c := range m {
			for i, t := range c.tasks {
				if t != nil {
					out[name] = append(out[name], i)
				}
			}
		}
	}
	return out
}

// syncTasks runs the tasks assigned here (want) and stops the others:
// first those of connectors whose instance runs elsewhere, so that a
// task never runs twice here, then those of the connectors it runs.
func (h *Herder) syncTasks(ctx context.Context, want map[string][]int) {
	h.mu.Lock()
	names := slices.Collect(maps.Keys(h.remote))
	for name := range want {
		if _, own := h.conns[name]; !own && h.remote[name] == nil {
			names = append(names, name)
		}
	}
	h.mu.Unlock()
	sort.Strings(names)
	for _, name := range names {
		if err := h.syncRemote(ctx, name, want[name]); err != nil {
			h.log.Error("connect group: running a connector's tasks", "connector", name, "err", err)
		}
	}
	for _, name := range h.running() {
		h.syncOwnTasks(ctx, name, want[name])
	}
}

// syncOwnTasks starts and stops the tasks of a connector whose instance
// runs here.
func (h *Herder) syncOwnTasks(ctx context.Context, name string, ids []int) {
	defer h.lockChange()()
	c, ok := h.conns[name]
	if !ok {
		return
	}
	h.applyTasks(ctx, c, ids)
}

// applyTasks stops c's tasks not in ids and starts those in ids that do
// not run. The caller holds the locks of a change.
func (h *Herder) applyTasks(ctx context.Context, c *connRun, ids []int) {
	var gone []*taskRun
	for i, t := range c.tasks {
		if t != nil && !slices.Contains(ids, i) {
			gone = append(gone, t)
			c.tasks[i] = nil
		}
	}
	if len(gone) > 0 {
		h.stopTasks(gone...)
		for _, t := range gone {
			h.taskUnassigned(ctx, c.name, t.id)
		}
	}
	started := false
	if c.conn != nil && c.rec.Target != TargetStopped {
		for _, i := range ids {
			if i < len(c.rec.Tasks) && i < len(c.tasks) && c.tasks[i] == nil {
				h.startTask(c, i)
				started = true
			}
		}
	}
	if started || len(gone) > 0 {
		h.statusChanged(c.name)
	}
}

// syncRemote runs the tasks assigned here of a connector whose instance
// runs on another worker, following its stored record.
func (h *Herder) syncRemote(ctx context.Context, name string, ids []int) error {
	defer h.lockChange()()
	rc := h.remote[name]
	if _, own := h.conns[name]; own || len(ids) == 0 {
		h.dropRemote(ctx, rc)
		return nil
	}
	b, err := h.cfg.KV.Get(ctx, stateKey(kindConfig, name))
	if err != nil {
		return err
	}
	if b == nil && rc != nil {
		// Deleted, statuses and all: stop its tasks, recording
		// nothing.
		h.stopTasks(rc.tasks...)
		delete(h.remote, name)
		return nil
	}
	if b == nil {
		return nil
	}
	fresh, _, _, err := h.loadRecord(ctx, name, b)
	if err != nil {
		return err
	}
	if rc != nil && (!maps.Equal(rc.rec.Config, fresh.rec.Config) || !slices.EqualFunc(rc.rec.Tasks, fresh.rec.Tasks, maps.Equal)) {
		// Reconfigured: its tasks start again with the new
		// configurations.
		h.dropRemote(ctx, rc)
		rc = nil
	}
	if rc == nil {
		_, conn, err := h.cfg.Registry.newConnector(fresh.rec.Config[cfgClass])
		if err != nil {
			return err
		}
		rc = fresh
		rc.conn = conn
		rc.tasks = make([]*taskRun, len(rc.rec.Tasks))
		rc.state = StateInfo{State: StateRunning, WorkerID: h.cfg.WorkerID}
		if b, err := h.cfg.KV.Get(ctx, stateKey(kindTopics, name)); err == nil && b != nil {
			_ = json.Unmarshal(b, &rc.topics)
		}
		h.remote[name] = rc
	}
	if rc.rec.Target != fresh.rec.Target {
		rc.rec.Target = fresh.rec.Target
		paused := rc.rec.Target == TargetPaused
		for _, t := range rc.tasks {
			if t != nil {
				t.gate.set(paused)
				t.setState(map[bool]State{true: StatePaused, false: StateRunning}[paused])
			}
		}
		h.statusChanged(name)
	}
	if rc.rec.Target == TargetStopped {
		ids = nil
	}
	h.applyTasks(ctx, rc, ids)
	return nil
}

// dropRemote stops the tasks this worker runs of a connector whose
// instance is elsewhere and forgets it. The caller holds the locks of a
// change.
func (h *Herder) dropRemote(ctx context.Context, rc *connRun) {
	if rc == nil {
		return
	}
	h.applyTasks(ctx, rc, nil)
	delete(h.remote, rc.name)
}

// taskUnassigned records a task this worker stopped running as
// UNASSIGNED here, as Kafka's workers do.
func (h *Herder) taskUnassigned(ctx context.Context, name string, i int) {
	b, _ := json.Marshal(TaskState{ID: i, State: StateUnassigned, WorkerID: h.cfg.WorkerID})
	if err := h.cfg.KV.Put(ctx, taskStatusKey(name, i), b); err != nil {
		h.log.Warn("recording a task's status", "connector", name, "task", i, "err", err)
	}
}

// localTasks returns the states of the tasks of a connector that run
// here. h.mu is held.
func (h *Herder) localTasks(name string) []TaskState {
	var out []TaskState
	for _, c := range []*connRun{h.conns[name], h.remote[name]} {
		if c == nil {
			continue
		}
		for _, t := range c.tasks {
			if t != nil {
				out = append(out, t.getState())
			}
		}
	}
	return out
}

// writeGroupStatus records, in distributed mode, a connector's state if
// its instance runs here and the states of its tasks that run here.
func (h *Herder) writeGroupStatus(name string) {
	h.mu.Lock()
	var conn *ConnectorStatus
	if c, ok := h.conns[name]; ok {
		conn = h.status(c)
	}
	tasks := h.localTasks(name)
	h.mu.Unlock()
	put := func(key string, v any) {
		b, _ := json.Marshal(v)
		if err := h.cfg.KV.Put(h.ctx, key, b); err != nil && h.ctx.Err() == nil {
			h.log.Warn("recording a connector's status", "connector", name, "err", err)
		}
	}
	if conn != nil {
		put(stateKey(kindStatus, name), conn)
	}
	for _, ts := range tasks {
		put(taskStatusKey(name, ts.ID), ts)
	}
}

// groupStatus is a connector's status in distributed mode, put together
// from what its workers recorded: the instance's state, and each task's
// (UNASSIGNED, with no worker, for a task no worker has recorded).
func (h *Herder) groupStatus(ctx context.Context, name string) (*ConnectorStatus, error) {
	c, err := h.storedConnector(ctx, name)
	if err != nil {
		return nil, err
	}
	st := &ConnectorStatus{Name: name, Type: c.typ, Tasks: []TaskState{}}
	if b, err := h.cfg.KV.Get(ctx, stateKey(kindStatus, name)); err != nil {
		return nil, err
	} else if b != nil {
		var stored ConnectorStatus
		if json.Unmarshal(b, &stored) == nil {
			st.Connector = stored.Connector
		}
	}
	if st.Connector.State == "" {
		st.Connector = StateInfo{State: StateUnassigned}
	}
	prefix := stateKey(kindTaskStatus, name) + "."
	stored, err := h.cfg.KV.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	byID := map[int]TaskState{}
	for key, b := range stored {
		var ts TaskState
		if i, err := strconv.Atoi(strings.TrimPrefix(key, prefix)); err == nil && json.Unmarshal(b, &ts) == nil {
			byID[i] = ts
		}
	}
	if st.Connector.State == StateStopped {
		return st, nil
	}
	for i := range c.rec.Tasks {
		ts, ok := byID[i]
		if !ok {
			ts = TaskState{State: StateUnassigned}
		}
		ts.ID = i
		st.Tasks = append(st.Tasks, ts)
	}
	return st, nil
}

// deleteTaskStatuses removes a deleted connector's task statuses.
func (h *Herder) deleteTaskStatuses(ctx context.Context, name string) error {
	stored, err := h.cfg.KV.List(ctx, stateKey(kindTaskStatus, name)+".")
	if err != nil {
		return err
	}
	for key := range stored {
		if err := h.cfg.KV.Delete(ctx, key); err != nil {
			return err
		}
	}
	return nil
}
