package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-data/tributary/internal/seal"
)

// WorkerConfig configures a worker.
type WorkerConfig struct {
	// WorkerID is reported as worker_id in statuses (Kafka uses
	// host:port of the REST listener).
	WorkerID string
	// Props are the worker properties: the default key.converter and
	// value.converter (and their settings), offset.flush.interval.ms,
	// and the other connect-distributed/standalone settings.
	Props    map[string]string
	Registry *Registry
	Streams  Streams
	KV       KV
	Logger   *slog.Logger
	// Registerer receives the runtime's Prometheus metrics; nil keeps
	// them unregistered.
	Registerer prometheus.Registerer
	// AllowedPaths, when set, confines the files connectors name
	// (FileSettings) to its directories. A server sets it; standalone,
	// which runs the user's own files, does not.
	AllowedPaths *AllowedPaths
	// MasterKey, when set, encrypts the connector records kept in the
	// KV (configurations and task configurations, which may hold
	// passwords) with keys derived from it. A server sets it to its
	// master key; standalone stores no configurations.
	MasterKey []byte
	// Bus, when set, makes this worker a member of a distributed Connect
	// group (group.go) with the other workers sharing KV, which must then
	// be a CASKV; nil runs the worker alone.
	Bus Bus
}

// Herder runs connectors on this worker and answers the REST API, as
// Kafka's herders do. Lifecycle changes (create, pause, restart, ...) are
// serialised by one mutex; task loops run in their own goroutines and
// report their states back through it.
type Herder struct {
	cfg        WorkerConfig
	log        *slog.Logger
	metrics    *metrics
	flushEvery time.Duration
	ctx        context.Context
	cancel     context.CancelFunc

	// providers resolve the ${provider:path:key} placeholders of
	// connector configurations (config.providers), built by Start.
	providers *ConfigProviders
	// seal encrypts connector records; nil without a master key.
	seal *seal.Keyring
	// tasksLimit is the highest tasks.max a connector may have
	// (tasks.max.limit).
	tasksLimit int

	// change serialises lifecycle changes for their whole length, task
	// stops included; mu guards the state and is released while a change
	// waits for tasks to stop (stopTasks), so the REST API's reads answer
	// meanwhile. A change takes change, then mu (lockChange).
	change  sync.Mutex
	mu      sync.Mutex
	conns   map[string]*connRun
	started bool
	// stopTimeout bounds the wait for tasks to stop
	// (task.shutdown.graceful.timeout.ms); past it they are abandoned.
	stopTimeout time.Duration

	// topicsMu guards connRun.topics, which task loops update while
	// h.mu may be held by a lifecycle change waiting for them.
	topicsMu sync.Mutex

	// Status changes are written to the KV by one goroutine, so task
	// loops report them without taking h.mu.
	statusMu    sync.Mutex
	statusDirty map[string]bool
	statusWake  chan struct{}
	statusDone  chan struct{}

	// group is the membership of a distributed Connect group; nil alone.
	group *group
	// remote holds, in distributed mode, the connectors whose instance
	// runs on another worker and some of whose tasks run here
	// (grouptasks.go).
	remote map[string]*connRun
}

// connRecord is what the KV keeps for a connector.
type connRecord struct {
	Config map[string]string   `json:"config"`
	Target TargetState         `json:"target"`
	Tasks  []map[string]string `json:"tasks"`
}

// connRun is a connector on this worker.
type connRun struct {
	name  string
	rec   connRecord
	typ   ConnectorType
	conn  Connector // running instance; nil when not started
	state StateInfo
	tasks []*taskRun
	// topics are the streams the connector has used (h.topicsMu).
	topics []string
	// storedTasks are the task configurations under the connector's task
	// keys, by index (nil: unknown); save writes only those that changed.
	storedTasks []map[string]string
	// keep, set before startConnector, holds tasks already running here
	// (distributed mode: the connector's instance moved to this worker,
	// which ran some of its tasks): startConnector keeps each whose
	// configuration is unchanged instead of starting it again, taking it
	// out of keep.
	keep []*taskRun
}

// taskRun is a running task. Its loop updates its state under its own
// mutex, never h.mu, so lifecycle changes can wait for it while holding
// h.mu.
type taskRun struct {
	id     int
	gate   *gate
	cancel context.CancelFunc
	done   chan struct{}

	// connector names the task's connector in reports; config is its
	// task configuration.
	connector string
	config    map[string]string
	// abandoned is set when the task did not stop in time: when it
	// does end, it commits nothing, as Kafka's cancelled tasks do, since
	// a task started in its place may have committed since.
	abandoned atomic.Bool

	mu    sync.Mutex
	state TaskState
}

func (t *taskRun) getState() TaskState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

// setState records a running task's state, unless it has failed.
func (t *taskRun) setState(s State) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state.State == StateRunning || t.state.State == StatePaused {
		t.state.State = s
	}
}

// NewHerder returns a herder; Start loads and starts the stored
// connectors.
func NewHerder(cfg WorkerConfig) *Herder {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Props == nil {
		cfg.Props = map[string]string{}
	}
	ms := intSetting(cfg.Props, "offset.flush.interval.ms", 60000)
	h := &Herder{cfg: cfg, log: log, metrics: newMetrics(cfg.Registerer),
		flushEvery: time.Duration(ms) * time.Millisecond,
		conns:      map[string]*connRun{}, remote: map[string]*connRun{}, statusDirty: map[string]bool{}, statusWake: make(chan struct{}, 1),
		statusDone: make(chan struct{})}
	h.stopTimeout = time.Duration(intSetting(cfg.Props, taskStopTimeoutKey, defaultTaskStopTimeoutMs)) * time.Millisecond
	// Start reports a bad tasks.max.limit; until then, the default.
	if h.tasksLimit, _ = parseTasksLimit(cfg.Props); h.tasksLimit == 0 {
		h.tasksLimit = defaultTasksMaxLimit
	}
	if len(cfg.MasterKey) > 0 {
		h.seal = seal.NewKeyring(cfg.MasterKey, recordKeyLabel)
	}
	if kv, ok := cfg.KV.(CASKV); ok && cfg.Bus != nil {
		h.group = newGroup(h, kv, cfg.Bus)
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(statusCollector{h: h, desc: prometheus.NewDesc("tributary_connect_instances",
			"Connectors and tasks on this worker by state (Kafka's connector-*-task-count).", []string{"kind", "state"}, nil)})
	}
	return h
}

// Start loads the stored connectors and starts each in its target state.
// ctx bounds the worker's life: cancelling it is an unclean stop; call
// Stop for a clean one.
func (h *Herder) Start(ctx context.Context) error {
	providers, err := NewConfigProviders(h.cfg.Props)
	if err != nil {
		return fmt.Errorf("worker properties: %w", err)
	}
	h.providers = providers
	if open := providers.Unrestricted(); len(open) > 0 {
		h.log.Warn("config providers without an allow-list: whoever can create a connector can read any file or environment variable of this process through them; set config.providers.<alias>.param.allowed.paths or allowlist.pattern",
			"providers", strings.Join(open, ","))
	}
	if h.tasksLimit, err = parseTasksLimit(h.cfg.Props); err != nil {
		return fmt.Errorf("worker properties: %w", err)
	}
	if h.cfg.Bus != nil && h.group == nil {
		return errors.New("distributed mode needs a KV with compare-and-set")
	}
	h.ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go h.writeStatuses()
	if h.group != nil {
		// The leader assigns the connectors; the group's loop starts
		// those assigned here.
		h.mu.Lock()
		h.started = true
		h.mu.Unlock()
		h.group.start(h.ctx)
		return nil
	}
	stored, err := h.cfg.KV.List(ctx, kindConfig)
	if err != nil {
		return fmt.Errorf("loading connectors: %w", err)
	}
	defer h.lockChange()()
	for key, b := range stored {
		name, ok := nameOfKey(kindConfig, key)
		if !ok {
			continue
		}
		c, err := h.load(ctx, name, b)
		if err != nil {
			h.log.Error("skipping unreadable connector record", "key", key, "err", err)
			continue
		}
		h.conns[name] = c
		h.startConnector(ctx, c)
		h.statusChanged(name)
	}
	h.started = true
	return nil
}

// load reads a stored connector record and its active topics, writing
// the record again if an earlier version stored it in plain text or
// with its task configurations inline.
func (h *Herder) load(ctx context.Context, name string, b []byte) (*connRun, error) {
	c, sealed, inline, err := h.loadRecord(ctx, name, b)
	if err != nil {
		return nil, err
	}
	if (!sealed && h.seal != nil) || inline {
		h.saveOrLog(ctx, c)
		if !sealed && h.seal != nil {
			h.log.Info("connector configuration encrypted at rest", "connector", name)
		}
	}
	if b, err := h.cfg.KV.Get(ctx, stateKey(kindTopics, name)); err == nil && b != nil {
		_ = json.Unmarshal(b, &c.topics)
	}
	return c, nil
}

// statusChanged queues a connector's status to be written to the KV
// (kindStatus), where other workers and tools can read it.
func (h *Herder) statusChanged(name string) {
	h.statusMu.Lock()
	h.statusDirty[name] = true
	h.statusMu.Unlock()
	select {
	case h.statusWake <- struct{}{}:
	default:
	}
}

func (h *Herder) writeStatuses() {
	defer close(h.statusDone)
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.statusWake:
		}
		h.statusMu.Lock()
		dirty := h.statusDirty
		h.statusDirty = map[string]bool{}
		h.statusMu.Unlock()
		for name := range dirty {
			if h.group != nil {
				// Only what runs here; a connector moved to another
				// worker was recorded UNASSIGNED when it left, a deleted
				// one removed.
				h.writeGroupStatus(name)
				continue
			}
			h.mu.Lock()
			var st *ConnectorStatus
			if c, ok := h.conns[name]; ok {
				st = h.status(c)
			}
			h.mu.Unlock()
			key := stateKey(kindStatus, name)
			var err error
			if st == nil {
				err = h.cfg.KV.Delete(h.ctx, key)
			} else {
				b, _ := json.Marshal(st)
				err = h.cfg.KV.Put(h.ctx, key, b)
			}
			if err != nil && h.ctx.Err() == nil {
				h.log.Warn("recording a connector's status", "connector", name, "err", err)
			}
		}
	}
}

// Stop stops every task cleanly (committing offsets) and every
// connector. The tasks stop together, within one
// task.shutdown.graceful.timeout.ms: a task that does not is abandoned.
func (h *Herder) Stop(ctx context.Context) {
	if h.group != nil {
		// No more heartbeats, assignments or forwarded changes; the
		// connectors stop below, then the worker leaves the group, and
		// they move after the rebalance delay.
		h.group.halt()
		defer h.group.leave(ctx)
	}
	defer h.lockChange()()
	var tasks []*taskRun
	for _, c := range h.conns {
		tasks = append(tasks, c.tasks...)
	}
	for _, c := range h.remote {
		tasks = append(tasks, c.tasks...)
	}
	h.stopTasks(tasks...)
	for _, c := range h.remote {
		for _, t := range c.tasks {
			if t != nil {
				h.taskUnassigned(ctx, c.name, t.id)
			}
		}
		c.tasks = nil
	}
	for _, c := range h.conns {
		ran := runningIDs(c)
		c.tasks = nil // stopped above; listed until then, for status
		h.stopConnector(ctx, c)
		if h.group != nil {
			h.unassigned(ctx, c)
			for _, i := range ran {
				h.taskUnassigned(ctx, c.name, i)
			}
		}
	}
	if h.cancel != nil {
		h.cancel()
		h.mu.Unlock()
		<-h.statusDone
		h.mu.Lock()
	}
}

// WorkerID implements the REST API's Herder.
func (h *Herder) WorkerID() string { return h.cfg.WorkerID }

// Health reports whether the worker has finished starting.
func (h *Herder) Health(context.Context) (string, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started {
		return "starting", "Worker is still starting up."
	}
	return "healthy", "Worker has completed startup and is ready to handle requests."
}

func (h *Herder) get(name string) (*connRun, error) {
	c, ok := h.conns[name]
	if !ok {
		return nil, notFound(name)
	}
	return c, nil
}

// Connectors lists the connectors' names, sorted.
func (h *Herder) Connectors(ctx context.Context) ([]string, error) {
	if h.group != nil {
		return h.storedNames(ctx)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	names := slices.Collect(maps.Keys(h.conns))
	sort.Strings(names)
	return names, nil
}

func (c *connRun) info() *ConnectorInfo {
	tasks := make([]TaskID, len(c.rec.Tasks))
	for i := range tasks {
		tasks[i] = TaskID{Connector: c.name, Task: i}
	}
	return &ConnectorInfo{Name: c.name, Config: maps.Clone(c.rec.Config), Tasks: tasks, Type: c.typ}
}

// ConnectorInfo returns a connector's configuration and tasks.
func (h *Herder) ConnectorInfo(ctx context.Context, name string) (*ConnectorInfo, error) {
	if c, err := h.elsewhere(ctx, name); c != nil || err != nil {
		return infoOf(c, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return nil, err
	}
	return c.info(), nil
}

// ConnectorConfig returns a connector's configuration.
func (h *Herder) ConnectorConfig(ctx context.Context, name string) (map[string]string, error) {
	if c, err := h.elsewhere(ctx, name); c != nil || err != nil {
		if err != nil {
			return nil, err
		}
		return c.rec.Config, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return nil, err
	}
	return maps.Clone(c.rec.Config), nil
}

// Validate checks a configuration for a connector class, as PUT
// /connector-plugins/{class}/config/validate does.
func (h *Herder) Validate(ctx context.Context, class string, config map[string]string) (*ConfigInfos, error) {
	props := maps.Clone(config)
	if props == nil {
		props = map[string]string{}
	}
	if props[cfgClass] == "" {
		props[cfgClass] = class
	}
	return h.validateConfig(ctx, props)
}

// Plugins lists the installed plugins.
func (h *Herder) Plugins(connectorsOnly bool) []PluginInfo {
	return h.cfg.Registry.Plugins(connectorsOnly)
}

// PluginConfig lists a connector class's settings.
func (h *Herder) PluginConfig(class string) ([]ConfigKeyInfo, error) {
	return h.cfg.Registry.PluginConfig(class)
}

// checkConfig validates a connector configuration, returning Kafka's
// 400 with the validate-style explanation when it is invalid.
func (h *Herder) checkConfig(ctx context.Context, config map[string]string) error {
	infos, err := h.validateConfig(ctx, config)
	if err != nil {
		return err
	}
	if infos.ErrorCount > 0 {
		return invalidConfig(infos)
	}
	return nil
}

// CreateConnector creates and starts a connector. initial may be empty
// (STARTED).
func (h *Herder) CreateConnector(ctx context.Context, name string, config map[string]string, initial TargetState) (*ConnectorInfo, error) {
	if h.group != nil && !isLocal(ctx) {
		var info ConnectorInfo
		err := h.group.create(ctx, call{Op: opCreate, Name: name, Config: config, Initial: initial}).decode(&info)
		return infoOf(&info, err)
	}
	info, created, err := h.putConfig(ctx, name, config, initial, false)
	if err == nil && !created {
		err = errorf(http.StatusConflict, "Connector %s already exists", name)
	}
	return info, err
}

// PutConnectorConfig creates a connector or replaces its configuration,
// restarting it.
func (h *Herder) PutConnectorConfig(ctx context.Context, name string, config map[string]string) (*ConnectorInfo, bool, error) {
	if h.group != nil && !isLocal(ctx) {
		var info ConnectorInfo
		r := h.group.create(ctx, call{Op: opPut, Name: name, Config: config})
		if err := r.decode(&info); err != nil {
			return nil, false, err
		}
		return &info, r.Created, nil
	}
	return h.putConfig(ctx, name, config, "", true)
}

// PatchConnectorConfig changes some settings of a connector; a nil
// value removes a setting.
func (h *Herder) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (*ConnectorInfo, error) {
	if r, ok := h.route(ctx, call{Op: opPatch, Name: name, Patch: patch}); ok {
		var info ConnectorInfo
		return infoOf(&info, r.decode(&info))
	}
	h.mu.Lock()
	c, err := h.get(name)
	var config map[string]string
	if err == nil {
		config = maps.Clone(c.rec.Config)
	}
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	for k, v := range patch {
		if v == nil {
			delete(config, k)
		} else {
			config[k] = *v
		}
	}
	info, _, err := h.putConfig(ctx, name, config, "", true)
	return info, err
}

func (h *Herder) putConfig(ctx context.Context, name string, config map[string]string, initial TargetState, replace bool) (*ConnectorInfo, bool, error) {
	config = maps.Clone(config)
	if config == nil {
		config = map[string]string{}
	}
	config[cfgName] = name
	if err := h.checkConfig(ctx, config); err != nil {
		return nil, false, err
	}
	defer h.lockChange()()
	if c, ok := h.conns[name]; ok {
		if !replace {
			return nil, false, nil
		}
		h.stopConnector(ctx, c)
		c.rec.Config = config
		c.typ = h.cfg.Registry.typeOf(config[cfgClass])
		if err := h.save(ctx, c); err != nil {
			return nil, false, err
		}
		h.startConnector(ctx, c)
		h.statusChanged(name)
		return c.info(), false, nil
	}
	if initial == "" {
		initial = TargetStarted
	}
	c := &connRun{name: name, rec: connRecord{Config: config, Target: initial}, typ: h.cfg.Registry.typeOf(config[cfgClass])}
	if err := h.save(ctx, c); err != nil {
		return nil, false, err
	}
	h.conns[name] = c
	h.startConnector(ctx, c)
	h.statusChanged(name)
	return c.info(), true, nil
}

// startConnector starts a connector and its tasks in its target state.
// h.mu is held.
func (h *Herder) startConnector(ctx context.Context, c *connRun) {
	if c.rec.Target == TargetStopped {
		c.state = StateInfo{State: StateStopped, WorkerID: h.cfg.WorkerID}
		if c.rec.Tasks != nil {
			h.metrics.forgetTasks(c.name, 0, len(c.rec.Tasks))
			c.rec.Tasks = nil
			h.saveOrLog(ctx, c)
		}
		return
	}
	conn, configs, err := h.launch(ctx, c)
	if err != nil {
		return
	}
	c.conn = conn
	if !slices.EqualFunc(configs, c.rec.Tasks, maps.Equal) {
		h.metrics.forgetTasks(c.name, len(configs), len(c.rec.Tasks))
		c.rec.Tasks = configs
		h.saveOrLog(ctx, c)
	}
	c.state = StateInfo{State: StateRunning, WorkerID: h.cfg.WorkerID}
	if c.rec.Target == TargetPaused {
		c.state.State = StatePaused
	}
	c.tasks = make([]*taskRun, len(c.rec.Tasks))
	for i := range c.rec.Tasks {
		if i < len(c.keep) && c.keep[i] != nil && maps.Equal(c.keep[i].config, c.rec.Tasks[i]) {
			c.tasks[i], c.keep[i] = c.keep[i], nil
			continue
		}
		h.startTask(c, i)
	}
	h.log.Info("connector started", "connector", c.name, "tasks", len(c.tasks), "target", c.rec.Target)
}

// pluginContext is the context a connector or task runs with: the
// worker's logger naming it (args) with its resolved secrets hidden, and
// the worker's allowed paths, which file connectors open their files
// through (Files).
func (h *Herder) pluginContext(ctx context.Context, res *Resolved, args ...any) context.Context {
	return withAllowedPaths(WithLogger(ctx, res.hide(h.log.With(args...))), h.cfg.AllowedPaths)
}

// launch instantiates and starts c's connector and asks it for its task
// configurations. On failure the connector is FAILED with the trace.
// h.mu is held.
//
// The connector sees its configuration resolved (config providers); the
// task configurations it returns are stored with the placeholders put
// back, and a failure's trace has the resolved secrets hidden.
func (h *Herder) launch(ctx context.Context, c *connRun) (Connector, []map[string]string, error) {
	_, conn, err := h.cfg.Registry.newConnector(c.rec.Config[cfgClass])
	var (
		configs []map[string]string
		res     *Resolved
	)
	if err == nil {
		res, err = h.prepare(conn, c.rec.Config)
	}
	maxTasks := 1
	if err == nil {
		maxTasks, err = h.maxTasks(res.Config)
	}
	if err == nil {
		err = safely(func() error {
			if err := conn.Start(h.pluginContext(ctx, res, "connector", c.name), maps.Clone(res.Config)); err != nil {
				return err
			}
			var err error
			if configs, err = conn.TaskConfigs(maxTasks); err == nil && len(configs) > maxTasks {
				err = fmt.Errorf("the connector %s has generated %d tasks, which is greater than %d, the maximum number of tasks it is configured to create", c.name, len(configs), maxTasks)
			}
			return err
		})
		if err != nil {
			_ = safely(conn.Stop)
		}
	}
	if err != nil {
		tr := res.Redact(trace(err))
		c.state = StateInfo{State: StateFailed, WorkerID: h.cfg.WorkerID, Trace: tr}
		h.log.Error("connector failed to start", "connector", c.name, "err", tr)
		return nil, nil, err
	}
	for i := range configs {
		configs[i] = h.providers.Unresolve(c.rec.Config, configs[i])
	}
	return conn, configs, nil
}

func (h *Herder) saveOrLog(ctx context.Context, c *connRun) {
	if err := h.save(ctx, c); err != nil {
		h.log.Error("saving connector state", "connector", c.name, "err", err)
	}
}

// startTask starts task i of a started connector. h.mu is held.
func (h *Herder) startTask(c *connRun, i int) {
	if h.group != nil && !h.group.taskHere(c.name, i) {
		c.tasks[i] = nil // assigned to another worker
		return
	}
	ctx, cancel := context.WithCancel(h.ctx)
	t := &taskRun{id: i, connector: c.name, config: c.rec.Tasks[i], gate: newGate(c.rec.Target == TargetPaused), cancel: cancel, done: make(chan struct{}),
		state: TaskState{ID: i, State: StateRunning, WorkerID: h.cfg.WorkerID}}
	if c.rec.Target == TargetPaused {
		t.state.State = StatePaused
	}
	c.tasks[i] = t
	props := maps.Clone(c.rec.Config)
	maps.Copy(props, c.rec.Tasks[i])
	conn, ntasks := c.conn, len(c.rec.Tasks)
	go func() {
		defer close(t.done)
		res, err := h.prepare(conn, props)
		if err == nil {
			err = h.runTask(h.pluginContext(ctx, res, "connector", c.name, "task", i), c, t, conn, res.Config, ntasks)
		}
		if err != nil && ctx.Err() == nil {
			tr := res.Redact(trace(err))
			t.mu.Lock()
			t.state.State, t.state.Trace = StateFailed, tr
			t.mu.Unlock()
			h.log.Error("task failed", "connector", c.name, "task", i, "err", tr)
			h.metrics.taskFailures.WithLabelValues(c.name, strconv.Itoa(i)).Inc()
			h.statusChanged(c.name)
		}
	}()
}

// runTask runs a task to its end. A panic becomes the task's failure, so
// one task never takes down the worker. ctx is the task's pluginContext,
// which its Start, Poll or Put see.
func (h *Herder) runTask(ctx context.Context, c *connRun, t *taskRun, conn Connector, props map[string]string, ntasks int) error {
	return safely(func() error {
		switch conn := conn.(type) {
		case SourceConnector:
			return h.runSource(ctx, c, t, conn, props)
		case SinkConnector:
			return h.runSink(ctx, c, t, ntasks, conn, props)
		}
		return fmt.Errorf("connector class %s is neither a source nor a sink", props[cfgClass])
	})
}

// safely runs plugin code, turning a panic into an error with its stack,
// so a faulty connector cannot take down the worker.
func safely(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return f()
}

// stopConnector stops a connector's tasks and the connector. A change
// holds the locks (lockChange); h.mu is released while the tasks stop.
func (h *Herder) stopConnector(_ context.Context, c *connRun) {
	// The tasks stay listed while they stop, so a status request
	// answered meanwhile shows their last state, as Kafka's does,
	// rather than UNASSIGNED.
	h.stopTasks(c.tasks...)
	c.tasks = nil
	if c.conn != nil {
		if err := safely(c.conn.Stop); err != nil {
			h.log.Warn("stopping connector", "connector", c.name, "err", err)
		}
		c.conn = nil
	}
}

// ConnectorStatus returns the states of a connector and its tasks.
func (h *Herder) ConnectorStatus(ctx context.Context, name string) (*ConnectorStatus, error) {
	if h.group != nil {
		return h.groupStatus(ctx, name)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return nil, err
	}
	return h.status(c), nil
}

func (h *Herder) status(c *connRun) *ConnectorStatus {
	st := &ConnectorStatus{Name: c.name, Connector: c.state, Type: c.typ, Tasks: []TaskState{}}
	if st.Connector.State == "" {
		st.Connector = StateInfo{State: StateUnassigned, WorkerID: h.cfg.WorkerID}
	}
	for i := range c.rec.Tasks {
		ts := TaskState{ID: i, State: StateUnassigned, WorkerID: h.cfg.WorkerID}
		if i < len(c.tasks) && c.tasks[i] != nil {
			ts = c.tasks[i].getState()
		}
		st.Tasks = append(st.Tasks, ts)
	}
	return st
}

// Tasks lists a connector's task configurations.
func (h *Herder) Tasks(ctx context.Context, name string) ([]TaskInfo, error) {
	c, err := h.elsewhere(ctx, name)
	if c == nil && err == nil {
		h.mu.Lock()
		defer h.mu.Unlock()
		c, err = h.get(name)
	}
	if err != nil {
		return nil, err
	}
	out := make([]TaskInfo, len(c.rec.Tasks))
	for i, tc := range c.rec.Tasks {
		out[i] = TaskInfo{ID: TaskID{Connector: name, Task: i}, Config: maps.Clone(tc)}
	}
	return out, nil
}

func (h *Herder) task(name string, id int) (*connRun, error) {
	c, err := h.get(name)
	if err != nil {
		return nil, err
	}
	if id < 0 || id >= len(c.rec.Tasks) {
		return nil, errorf(http.StatusNotFound, "Task %s-%d not found", name, id)
	}
	return c, nil
}

// TaskStatus returns one task's state.
func (h *Herder) TaskStatus(ctx context.Context, name string, id int) (*TaskState, error) {
	if h.group != nil {
		st, err := h.groupStatus(ctx, name)
		if err != nil {
			return nil, err
		}
		if id < 0 || id >= len(st.Tasks) {
			return nil, errorf(http.StatusNotFound, "Task %s-%d not found", name, id)
		}
		return &st.Tasks[id], nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.task(name, id)
	if err != nil {
		return nil, err
	}
	ts := h.status(c).Tasks[id]
	return &ts, nil
}

// RestartTask restarts one task.
func (h *Herder) RestartTask(ctx context.Context, name string, id int) error {
	if r, ok := h.route(ctx, call{Op: opRestartTask, Name: name, Task: id}); ok {
		return r.err()
	}
	defer h.lockChange()()
	c, err := h.task(name, id)
	if rc := h.remote[name]; err != nil && rc != nil && id >= 0 && id < len(rc.tasks) {
		c, err = rc, nil // its instance runs elsewhere, this task here
	}
	if err != nil {
		return err
	}
	if c.conn == nil || id >= len(c.tasks) {
		return errorf(http.StatusConflict, "Cannot restart task %s-%d: the connector is not running", name, id)
	}
	h.stopTasks(c.tasks[id])
	if c.conn != nil && id < len(c.tasks) {
		h.startTask(c, id)
	}
	h.statusChanged(name)
	return nil
}

// RestartConnector restarts a connector and, with includeTasks, its
// tasks; with onlyFailed only the instances that have failed. The status
// returned shows the instances being restarted as RESTARTING, as
// Kafka's does.
func (h *Herder) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*ConnectorStatus, error) {
	if r, ok := h.route(ctx, call{Op: opRestart, Name: name, IncludeTasks: includeTasks, OnlyFailed: onlyFailed}); ok {
		var st ConnectorStatus
		if err := r.decode(&st); err != nil {
			return nil, err
		}
		return &st, nil
	}
	st, elsewhere, err := h.restartHere(ctx, name, includeTasks, onlyFailed)
	if len(elsewhere) > 0 {
		// In distributed mode, the tasks that run on other workers
		// restart there.
		fctx, cancel := context.WithTimeout(h.ctx, callTimeout)
		defer cancel()
		for _, i := range elsewhere {
			if err := h.RestartTask(fctx, name, i); err != nil {
				h.log.Warn("restarting a task on another worker", "connector", name, "task", i, "err", err)
			}
		}
	}
	return st, err
}

// restartHere is RestartConnector on the worker that runs the
// connector. It returns the tasks to restart that run on other workers.
func (h *Herder) restartHere(ctx context.Context, name string, includeTasks, onlyFailed bool) (*ConnectorStatus, []int, error) {
	defer h.lockChange()()
	c, err := h.get(name)
	if err != nil {
		return nil, nil, err
	}
	st, err := h.restartStatus(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	restartConn := !onlyFailed || c.state.State == StateFailed
	var tasks []int
	if includeTasks {
		for i, ts := range st.Tasks {
			if !onlyFailed || ts.State == StateFailed {
				tasks = append(tasks, i)
			}
		}
	}
	if restartConn {
		st.Connector.State, st.Connector.Trace = StateRestarting, ""
	}
	for _, i := range tasks {
		st.Tasks[i].State, st.Tasks[i].Trace = StateRestarting, ""
	}
	if c.rec.Target == TargetStopped {
		return st, nil, nil
	}
	var elsewhere []int
	if h.group != nil {
		for _, i := range tasks {
			if !h.group.taskHere(name, i) {
				elsewhere = append(elsewhere, i)
			}
		}
	}
	defer h.statusChanged(name)
	if restartConn {
		// Restart the connector instance; its tasks keep running unless
		// their configurations change or they are restarted too.
		if c.conn != nil {
			_ = safely(c.conn.Stop)
			c.conn = nil
		}
		h.restartInstance(ctx, c, c.rec.Tasks, tasks)
	} else {
		h.restartTasks(c, tasks)
	}
	return st, elsewhere, nil
}

// restartStatus is the status a restart starts from: this worker's
// view of c alone, or in distributed mode, the group's, with c's
// instance and the tasks that run here as this worker sees them. h.mu
// is held.
func (h *Herder) restartStatus(ctx context.Context, c *connRun) (*ConnectorStatus, error) {
	if h.group == nil {
		return h.status(c), nil
	}
	st, err := h.groupStatus(ctx, c.name)
	if err != nil {
		return nil, err
	}
	local := h.status(c)
	st.Connector = local.Connector
	for i := range st.Tasks {
		if i < len(c.tasks) && c.tasks[i] != nil {
			st.Tasks[i] = local.Tasks[i]
		}
	}
	return st, nil
}

// restartInstance starts a connector instance again, restarting the
// tasks listed and any whose configuration changed. h.mu is held.
func (h *Herder) restartInstance(ctx context.Context, c *connRun, oldConfigs []map[string]string, restart []int) {
	conn, configs, err := h.launch(ctx, c)
	if err != nil {
		return
	}
	c.conn = conn
	c.state = StateInfo{State: StateRunning, WorkerID: h.cfg.WorkerID}
	if c.rec.Target == TargetPaused {
		c.state.State = StatePaused
	}
	if !slices.EqualFunc(configs, oldConfigs, maps.Equal) {
		h.stopTasks(c.tasks...)
		h.metrics.forgetTasks(c.name, len(configs), len(c.rec.Tasks))
		c.rec.Tasks = configs
		h.saveOrLog(ctx, c)
		c.tasks = make([]*taskRun, len(configs))
		for i := range configs {
			h.startTask(c, i)
		}
		return
	}
	for len(c.tasks) < len(configs) {
		c.tasks = append(c.tasks, nil)
	}
	var again []int
	for i := range c.tasks {
		if c.tasks[i] == nil || slices.Contains(restart, i) {
			again = append(again, i)
		}
	}
	h.restartTasks(c, again)
}

// PauseConnector pauses a connector's tasks; the target state is kept.
func (h *Herder) PauseConnector(ctx context.Context, name string) error {
	return h.setTarget(ctx, name, TargetPaused)
}

// ResumeConnector resumes a paused or stopped connector.
func (h *Herder) ResumeConnector(ctx context.Context, name string) error {
	return h.setTarget(ctx, name, TargetStarted)
}

// StopConnector stops a connector and its tasks, leaving it with no
// tasks, so that its offsets may be changed.
func (h *Herder) StopConnector(ctx context.Context, name string) error {
	return h.setTarget(ctx, name, TargetStopped)
}

func (h *Herder) setTarget(ctx context.Context, name string, target TargetState) error {
	op := map[TargetState]string{TargetPaused: opPause, TargetStarted: opResume, TargetStopped: opStop}[target]
	if r, ok := h.route(ctx, call{Op: op, Name: name}); ok {
		return r.err()
	}
	defer h.lockChange()()
	c, err := h.get(name)
	if err != nil {
		return err
	}
	prev := c.rec.Target
	c.rec.Target = target
	if err := h.save(ctx, c); err != nil {
		return err
	}
	defer h.statusChanged(name)
	switch {
	case target == TargetStopped:
		h.stopConnector(ctx, c)
		h.metrics.forgetTasks(c.name, 0, len(c.rec.Tasks))
		c.rec.Tasks = nil
		h.saveOrLog(ctx, c)
		c.state = StateInfo{State: StateStopped, WorkerID: h.cfg.WorkerID}
	case prev == TargetStopped || c.conn == nil:
		h.stopConnector(ctx, c)
		h.startConnector(ctx, c)
	default:
		paused := target == TargetPaused
		if c.state.State != StateFailed {
			c.state.State = StateRunning
			if paused {
				c.state.State = StatePaused
			}
		}
		for _, t := range c.tasks {
			if t == nil {
				continue
			}
			t.gate.set(paused)
			if paused {
				t.setState(StatePaused)
			} else {
				t.setState(StateRunning)
			}
		}
	}
	return nil
}

// DeleteConnector stops and removes a connector: its tasks, status,
// metric series and active topics. Its offsets stay, as in Kafka, so a
// connector created again under the same name resumes.
func (h *Herder) DeleteConnector(ctx context.Context, name string) error {
	if r, ok := h.route(ctx, call{Op: opDelete, Name: name}); ok {
		return r.err()
	}
	defer h.lockChange()()
	c, err := h.get(name)
	if err != nil {
		return err
	}
	h.stopConnector(ctx, c)
	delete(h.conns, name)
	h.metrics.forget(name)
	defer h.statusChanged(name)
	if err := h.deleteRecord(ctx, c); err != nil {
		return fmt.Errorf("deleting connector %s: %w", name, err)
	}
	if h.group != nil {
		if err := h.cfg.KV.Delete(ctx, stateKey(kindStatus, name)); err != nil {
			return fmt.Errorf("deleting connector %s: %w", name, err)
		}
		if err := h.deleteTaskStatuses(ctx, name); err != nil {
			return fmt.Errorf("deleting connector %s: %w", name, err)
		}
	}
	// Its active topics go too, as Kafka's do (KIP-558).
	h.topicsMu.Lock()
	defer h.topicsMu.Unlock()
	c.topics = nil
	if err := h.cfg.KV.Delete(ctx, stateKey(kindTopics, name)); err != nil {
		return fmt.Errorf("deleting connector %s: %w", name, err)
	}
	return nil
}

// Topics returns the streams a connector has used since its topics were
// last reset.
func (h *Herder) Topics(ctx context.Context, name string) ([]string, error) {
	if c, err := h.elsewhere(ctx, name); c != nil || err != nil {
		if err != nil {
			return nil, err
		}
		return h.storedTopics(ctx, name)
	}
	h.mu.Lock()
	c, err := h.get(name)
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	h.topicsMu.Lock()
	defer h.topicsMu.Unlock()
	out := append([]string{}, c.topics...)
	sort.Strings(out)
	return out, nil
}

// ResetTopics forgets the streams a connector has used.
func (h *Herder) ResetTopics(ctx context.Context, name string) error {
	if r, ok := h.route(ctx, call{Op: opResetTopics, Name: name}); ok {
		return r.err()
	}
	h.mu.Lock()
	c, err := h.get(name)
	h.mu.Unlock()
	if err != nil {
		return err
	}
	h.topicsMu.Lock()
	defer h.topicsMu.Unlock()
	c.topics = nil
	return h.cfg.KV.Delete(ctx, stateKey(kindTopics, name))
}

// noteTopic records that connector c used a stream.
func (h *Herder) noteTopic(ctx context.Context, c *connRun, stream string) {
	h.topicsMu.Lock()
	defer h.topicsMu.Unlock()
	if slices.Contains(c.topics, stream) {
		return
	}
	c.topics = append(c.topics, stream)
	b, _ := json.Marshal(c.topics)
	if err := h.cfg.KV.Put(ctx, stateKey(kindTopics, c.name), b); err != nil {
		h.log.Warn("recording a connector's topics", "connector", c.name, "err", err)
	}
}

// Offsets returns a connector's committed offsets.
func (h *Herder) Offsets(ctx context.Context, name string) ([]PartitionOffset, error) {
	c, err := h.elsewhere(ctx, name)
	if c == nil && err == nil {
		h.mu.Lock()
		_, err = h.get(name)
		h.mu.Unlock()
	}
	if err != nil {
		return nil, err
	}
	return loadOffsets(ctx, h.cfg.KV, name)
}

func (h *Herder) stoppedForOffsets(name string) (*connRun, error) {
	c, err := h.get(name)
	if err != nil {
		return nil, err
	}
	if c.rec.Target != TargetStopped || c.state.State != StateStopped {
		return nil, errorf(http.StatusBadRequest, "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	return c, nil
}

// AlterOffsets changes offsets of a stopped connector; a nil offset
// resets its partition.
func (h *Herder) AlterOffsets(ctx context.Context, name string, offs []PartitionOffset) error {
	if r, ok := h.route(ctx, call{Op: opAlterOffsets, Name: name, Offsets: offs}); ok {
		return r.err()
	}
	defer h.lockChange()()
	c, err := h.stoppedForOffsets(name)
	if err != nil {
		return err
	}
	if c.typ == TypeSink {
		if err := checkSinkOffsets(offs); err != nil {
			return err
		}
	}
	for _, po := range offs {
		if po.Partition == nil {
			return errorf(http.StatusBadRequest, "Partitions cannot be null")
		}
	}
	return commitOffsets(ctx, h.cfg.KV, name, offs)
}

// ResetOffsets removes all offsets of a stopped connector.
func (h *Herder) ResetOffsets(ctx context.Context, name string) error {
	if r, ok := h.route(ctx, call{Op: opResetOffsets, Name: name}); ok {
		return r.err()
	}
	defer h.lockChange()()
	if _, err := h.stoppedForOffsets(name); err != nil {
		return err
	}
	offs, err := loadOffsets(ctx, h.cfg.KV, name)
	if err != nil {
		return err
	}
	for i := range offs {
		offs[i].Offset = nil
	}
	return commitOffsets(ctx, h.cfg.KV, name, offs)
}

// trace renders an error for a status trace: the message, then, as a
// Java stack trace does, each cause whose text the message does not
// already hold (a %w wrapper repeats its cause's text).
func trace(err error) string {
	var b strings.Builder
	last := err.Error()
	b.WriteString(last)
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		if msg := e.Error(); !strings.Contains(last, msg) {
			b.WriteString("\nCaused by: ")
			b.WriteString(msg)
			last = msg
		}
	}
	return b.String()
}

// gate pauses a task loop.
type gate struct {
	mu     sync.Mutex
	paused bool
	change chan struct{}
}

func newGate(paused bool) *gate { return &gate{paused: paused, change: make(chan struct{})} }

func (g *gate) set(paused bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused != paused {
		g.paused = paused
		close(g.change)
		g.change = make(chan struct{})
	}
}

// state returns whether the gate is closed and a channel closed at the
// next change.
func (g *gate) state() (bool, <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused, g.change
}

// wait blocks while the gate is paused. It returns false when ctx ends.
func (g *gate) wait(ctx context.Context) bool {
	for {
		paused, change := g.state()
		if !paused {
			return true
		}
		select {
		case <-change:
		case <-ctx.Done():
			return false
		}
	}
}
