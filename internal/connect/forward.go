package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"

	"github.com/tributary-data/tributary/internal/store"
)

// Forwarding, in distributed mode: a change to a connector is carried out
// by the worker that runs it (group.go). The REST API's worker sends it
// there as a call and returns its reply, so the client sees what a
// single worker would answer.

// The calls a worker answers.
const (
	opPlace        = "place"
	opCreate       = "create"
	opPut          = "put"
	opPatch        = "patch"
	opRestart      = "restart"
	opRestartTask  = "restart-task"
	opPause        = "pause"
	opResume       = "resume"
	opStop         = "stop"
	opDelete       = "delete"
	opResetTopics  = "reset-topics"
	opAlterOffsets = "alter-offsets"
	opResetOffsets = "reset-offsets"
)

type call struct {
	Op           string             `json:"op"`
	Name         string             `json:"name"`
	Task         int                `json:"task,omitempty"`
	Config       map[string]string  `json:"config,omitempty"`
	Patch        map[string]*string `json:"patch,omitempty"`
	Initial      TargetState        `json:"initial,omitempty"`
	IncludeTasks bool               `json:"include_tasks,omitempty"`
	OnlyFailed   bool               `json:"only_failed,omitempty"`
	Offsets      []PartitionOffset  `json:"offsets,omitempty"`
}

type reply struct {
	Result  json.RawMessage `json:"result,omitempty"`
	Created bool            `json:"created,omitempty"`
	Code    int             `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
}

func (r *reply) err() error {
	if r.Code == 0 {
		return nil
	}
	return &Error{Code: r.Code, Message: r.Message}
}

// decode reads the call's result into v, or returns its error.
func (r *reply) decode(v any) error {
	if err := r.err(); err != nil {
		return err
	}
	if v == nil || len(r.Result) == 0 {
		return nil
	}
	return json.Unmarshal(r.Result, v)
}

func errReply(err error) *reply {
	var ce *Error
	if errors.As(err, &ce) {
		return &reply{Code: ce.Code, Message: ce.Message}
	}
	return &reply{Code: http.StatusInternalServerError, Message: err.Error()}
}

type localKey struct{}

// asLocal marks a context as a call's: it is carried out here, never
// forwarded again.
func asLocal(ctx context.Context) context.Context { return context.WithValue(ctx, localKey{}, true) }

func isLocal(ctx context.Context) bool { v, _ := ctx.Value(localKey{}).(bool); return v }

// send makes a call to a worker.
func (g *group) send(ctx context.Context, worker string, c call) *reply {
	if worker == g.id {
		return g.h.handle(asLocal(ctx), c)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return errReply(err)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	out, err := g.bus.Request(ctx, subjectOf(worker), b)
	if errors.Is(err, store.ErrNoResponder) {
		// Its worker is gone and the connector not moved yet.
		return errReply(rebalancing())
	}
	if err != nil {
		return errReply(fmt.Errorf("forwarding the request to worker %s: %w", worker, err))
	}
	var r reply
	if err := json.Unmarshal(out, &r); err != nil {
		return errReply(fmt.Errorf("reply of worker %s: %w", worker, err))
	}
	return &r
}

// route sends a change on an existing connector to the worker that runs
// it. It returns false when the change is to be carried out here.
func (h *Herder) route(ctx context.Context, c call) (*reply, bool) {
	g := h.group
	if g == nil {
		return nil, false
	}
	if !isLocal(ctx) {
		owner, err := g.owner(ctx, c.Name)
		if c.Op == opRestartTask && err == nil {
			// A task restarts where it runs.
			if _, err = h.storedConnector(ctx, c.Name); err != nil {
				return errReply(err), true
			}
			owner, err = g.taskOwner(ctx, c.Name, c.Task)
		}
		if err != nil {
			return errReply(err), true
		}
		if owner != "" && owner != g.id {
			return g.send(ctx, owner, c), true
		}
	}
	h.mu.Lock()
	_, ok := h.conns[c.Name]
	if c.Op == opRestartTask && h.remote[c.Name] != nil {
		ok = true
	}
	h.mu.Unlock()
	if ok {
		return nil, false
	}
	return errReply(h.missing(ctx, c.Name)), true
}

// missing is the error for a connector this worker does not run: 404 if
// it does not exist, else 409 (it is between workers).
func (h *Herder) missing(ctx context.Context, name string) error {
	b, err := h.cfg.KV.Get(ctx, stateKey(kindConfig, name))
	if err != nil {
		return err
	}
	if b == nil {
		return notFound(name)
	}
	return rebalancing()
}

// create carries out a create (or a PUT of a new connector's
// configuration) in distributed mode: the configuration is checked
// here, the leader places the connector, and its worker creates it.
func (g *group) create(ctx context.Context, c call) *reply {
	h := g.h
	config := maps.Clone(c.Config)
	if config == nil {
		config = map[string]string{}
	}
	config[cfgName] = c.Name
	if err := h.checkConfig(ctx, config); err != nil {
		return errReply(err)
	}
	if b, err := h.cfg.KV.Get(ctx, stateKey(kindConfig, c.Name)); err != nil {
		return errReply(err)
	} else if b != nil {
		if c.Op == opCreate {
			return errReply(errorf(http.StatusConflict, "Connector %s already exists", c.Name))
		}
		if r, ok := h.route(ctx, c); ok {
			return r
		}
		return h.handle(asLocal(ctx), c)
	}
	leader, err := g.leader(ctx)
	if err != nil {
		return errReply(err)
	}
	var worker string
	if err := g.send(ctx, leader, call{Op: opPlace, Name: c.Name}).decode(&worker); err != nil {
		return errReply(err)
	}
	return g.send(ctx, worker, c)
}

// serveCall answers a call from another worker.
func (h *Herder) serveCall(data []byte) []byte {
	var c call
	r := &reply{}
	if err := json.Unmarshal(data, &c); err != nil {
		r = errReply(fmt.Errorf("a forwarded request: %w", err))
	} else {
		ctx, cancel := context.WithTimeout(asLocal(h.ctx), callTimeout)
		r = h.handle(ctx, c)
		cancel()
	}
	out, _ := json.Marshal(r)
	return out
}

// handle carries out a call here (ctx is local).
func (h *Herder) handle(ctx context.Context, c call) *reply {
	var (
		res     any
		err     error
		created bool
	)
	switch c.Op {
	case opPlace:
		res, err = h.group.place(ctx, c.Name)
	case opCreate:
		res, err = h.CreateConnector(ctx, c.Name, c.Config, c.Initial)
	case opPut:
		res, created, err = h.PutConnectorConfig(ctx, c.Name, c.Config)
	case opPatch:
		res, err = h.PatchConnectorConfig(ctx, c.Name, c.Patch)
	case opRestart:
		res, err = h.RestartConnector(ctx, c.Name, c.IncludeTasks, c.OnlyFailed)
	case opRestartTask:
		err = h.RestartTask(ctx, c.Name, c.Task)
	case opPause:
		err = h.PauseConnector(ctx, c.Name)
	case opResume:
		err = h.ResumeConnector(ctx, c.Name)
	case opStop:
		err = h.StopConnector(ctx, c.Name)
	case opDelete:
		err = h.DeleteConnector(ctx, c.Name)
	case opResetTopics:
		err = h.ResetTopics(ctx, c.Name)
	case opAlterOffsets:
		err = h.AlterOffsets(ctx, c.Name, c.Offsets)
	case opResetOffsets:
		err = h.ResetOffsets(ctx, c.Name)
	default:
		err = fmt.Errorf("unknown forwarded request %q", c.Op)
	}
	if err != nil {
		return errReply(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		return errReply(err)
	}
	return &reply{Result: b, Created: created}
}

// running lists the connectors this worker runs, sorted.
func (h *Herder) running() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := slices.Collect(maps.Keys(h.conns))
	sort.Strings(names)
	return names
}

// adopt starts a connector the leader assigned to this worker, from its
// stored record; its tasks resume from the committed offsets.
func (h *Herder) adopt(ctx context.Context, name string) error {
	defer h.lockChange()()
	if _, ok := h.conns[name]; ok {
		return nil
	}
	b, err := h.cfg.KV.Get(ctx, stateKey(kindConfig, name))
	if err != nil || b == nil {
		return err // nil: deleted, or placed and not created yet
	}
	c, err := h.load(ctx, name, b)
	if err != nil {
		return err
	}
	// Its tasks that run here, for the instance's old worker, go on
	// running under it if their configuration has not changed.
	if rc := h.remote[name]; rc != nil {
		delete(h.remote, name)
		if rc.rec.Target == c.rec.Target && maps.Equal(rc.rec.Config, c.rec.Config) {
			c.keep = rc.tasks
		} else {
			h.applyTasks(ctx, rc, nil)
		}
	}
	h.conns[name] = c
	h.startConnector(ctx, c)
	if left := (&connRun{name: name, tasks: c.keep}); len(runningIDs(left)) > 0 {
		h.applyTasks(ctx, left, nil)
	}
	c.keep = nil
	h.statusChanged(name)
	h.log.Info("connect group: connector assigned to this worker", "connector", name)
	return nil
}

// release stops a connector's instance assigned elsewhere now and
// records it UNASSIGNED, as Kafka's workers do on revocation; its
// record stays. Its tasks still assigned here go on running (unless
// all is set), following the record as those of any connector whose
// instance runs elsewhere; the others stop, committing their offsets.
func (h *Herder) release(ctx context.Context, name string, all bool) {
	defer h.lockChange()()
	c, ok := h.conns[name]
	if !ok {
		return
	}
	var keep []int
	for _, i := range runningIDs(c) {
		if !all && h.group.taskHere(name, i) {
			keep = append(keep, i)
		}
	}
	h.applyTasks(ctx, c, keep)
	if c.conn != nil {
		if err := safely(c.conn.Stop); err != nil {
			h.log.Warn("stopping connector", "connector", c.name, "err", err)
		}
		c.conn = nil
	}
	delete(h.conns, name)
	h.unassigned(ctx, c)
	if len(keep) > 0 {
		if _, conn, err := h.cfg.Registry.newConnector(c.rec.Config[cfgClass]); err == nil {
			c.conn = conn
			h.remote[name] = c
		} else {
			h.applyTasks(ctx, c, nil)
		}
	}
	if len(keep) == 0 {
		h.metrics.forget(name)
	}
	h.log.Info("connect group: connector revoked from this worker", "connector", name, "tasks_kept", len(keep))
}

// releaseAll stops every connector and task this worker runs.
func (h *Herder) releaseAll(ctx context.Context) {
	for _, name := range h.running() {
		h.release(ctx, name, true)
	}
	h.mu.Lock()
	names := slices.Collect(maps.Keys(h.remote))
	h.mu.Unlock()
	for _, name := range names {
		_ = h.syncRemote(ctx, name, nil)
	}
}

// unassigned writes c's status as UNASSIGNED on this worker, its tasks
// stopped. h.mu is held.
func (h *Herder) unassigned(ctx context.Context, c *connRun) {
	c.state = StateInfo{}
	b, _ := json.Marshal(h.status(c))
	if err := h.cfg.KV.Put(ctx, stateKey(kindStatus, c.name), b); err != nil {
		h.log.Warn("recording a connector's status", "connector", c.name, "err", err)
	}
}

// storedConnector reads a connector another worker runs from the KV.
func (h *Herder) storedConnector(ctx context.Context, name string) (*connRun, error) {
	b, err := h.cfg.KV.Get(ctx, stateKey(kindConfig, name))
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, notFound(name)
	}
	c, _, _, err := h.loadRecord(ctx, name, b)
	return c, err
}

// elsewhere returns a connector from the KV when, in distributed mode,
// this worker does not run it (nil when it does).
func (h *Herder) elsewhere(ctx context.Context, name string) (*connRun, error) {
	if h.group == nil {
		return nil, nil
	}
	h.mu.Lock()
	_, ok := h.conns[name]
	h.mu.Unlock()
	if ok {
		return nil, nil
	}
	return h.storedConnector(ctx, name)
}

func infoOf(c any, err error) (*ConnectorInfo, error) {
	if err != nil {
		return nil, err
	}
	switch c := c.(type) {
	case *ConnectorInfo:
		return c, nil
	case *connRun:
		return c.info(), nil
	}
	return nil, fmt.Errorf("connector info of %T", c)
}

// storedNames lists every connector of the group, sorted.
func (h *Herder) storedNames(ctx context.Context) ([]string, error) {
	stored, err := h.cfg.KV.List(ctx, kindConfig)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for key := range stored {
		if name, ok := nameOfKey(kindConfig, key); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// storedTopics reads the active topics another worker recorded.
func (h *Herder) storedTopics(ctx context.Context, name string) ([]string, error) {
	b, err := h.cfg.KV.Get(ctx, stateKey(kindTopics, name))
	if err != nil {
		return nil, err
	}
	out := []string{}
	if b != nil {
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, fmt.Errorf("active topics of %s: %w", name, err)
		}
	}
	sort.Strings(out)
	return out, nil
}

// runningIDs lists the tasks of c that run here.
func runningIDs(c *connRun) []int {
	var out []int
	for i, t := range c.tasks {
		if t != nil {
			out = append(out, i)
		}
	}
	return out
}
