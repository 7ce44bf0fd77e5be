package connect

import (
	"fmt"
	"time"
)

// Stopping tasks. A task stops when its context ends: it leaves Poll or
// Put, commits what it wrote or delivered, and exits. Plugin code may
// ignore the context, so the wait is bounded by the worker property
// task.shutdown.graceful.timeout.ms, as in Kafka: a task still running
// after it is abandoned (reported at ERROR, and FAILED where its status
// is still shown), and the change that stopped it goes on. The wait
// happens without h.mu, so one stuck task cannot freeze the REST API.

const (
	taskStopTimeoutKey = "task.shutdown.graceful.timeout.ms"
	// defaultTaskStopTimeoutMs is Kafka's default.
	defaultTaskStopTimeoutMs = 5000
)

// lockChange takes the locks of a lifecycle change, h.change and then
// h.mu, and returns their release.
func (h *Herder) lockChange() func() {
	h.change.Lock()
	h.mu.Lock()
	return func() {
		h.mu.Unlock()
		h.change.Unlock()
	}
}

// stopTasks asks tasks to stop and waits until they have, each within
// task.shutdown.graceful.timeout.ms of the request (one deadline for
// all, as Kafka's awaitStopTasks); those still running then are
// abandoned. Nil tasks are skipped. The caller holds the locks of a
// change (lockChange); h.mu is released during the wait, while h.change
// keeps other changes out. The wait is bounded by the timeout alone, not
// by a context: a REST client that hangs up must not cut the tasks'
// final commits short.
func (h *Herder) stopTasks(tasks ...*taskRun) {
	running := tasks[:0:0]
	for _, t := range tasks {
		if t != nil {
			t.cancel()
			running = append(running, t)
		}
	}
	if len(running) == 0 {
		return
	}
	h.mu.Unlock()
	defer h.mu.Lock()
	deadline := time.NewTimer(h.stopTimeout)
	defer deadline.Stop()
	expired := false
	for _, t := range running {
		if !expired {
			select {
			case <-t.done:
				continue
			case <-deadline.C:
			}
			expired = true
		}
		select {
		case <-t.done:
		default:
			h.abandon(t)
		}
	}
}

// abandon gives up on a task that did not stop in time.
func (h *Herder) abandon(t *taskRun) {
	t.abandoned.Store(true)
	msg := fmt.Sprintf("Graceful stop of task %s-%d failed.", t.connector, t.id)
	trace := fmt.Sprintf("%s It did not stop within %s=%d and was abandoned.", msg, taskStopTimeoutKey, h.stopTimeout.Milliseconds())
	t.mu.Lock()
	t.state.State, t.state.Trace = StateFailed, trace
	t.mu.Unlock()
	h.log.Error(msg, "connector", t.connector, "task", t.id, "timeout_ms", h.stopTimeout.Milliseconds())
	h.statusChanged(t.connector)
}

// restartTasks stops the listed tasks of a running connector together,
// then starts them again. The caller holds the locks of a change.
func (h *Herder) restartTasks(c *connRun, ids []int) {
	var old []*taskRun
	for _, i := range ids {
		if i < len(c.tasks) {
			old = append(old, c.tasks[i])
		}
	}
	h.stopTasks(old...)
	for _, i := range ids {
		if c.conn != nil && i < len(c.tasks) {
			h.startTask(c, i)
		}
	}
}
