package connect

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/tributary-data/tributary/internal/store"
)

// Distributed mode: every worker of a server cluster is a member of one
// Connect group, as Kafka's connect-distributed workers sharing a
// group.id are. All the group's state is in the replicated KV:
//
//   - connect.workers.<id>: each worker's heartbeat, written every
//     heartbeat.interval.ms, with the connectors it runs. A worker whose
//     heartbeat has not changed for session.timeout.ms (as the leader's
//     own clock measures it) is gone; a worker that stops leaves by
//     deleting its key.
//   - connect.leader: the leader's lease, taken with a create, renewed
//     by compare-and-set every heartbeat, and taken over (compare-and-set
//     on the revision last seen) when it has not changed for
//     session.timeout.ms.
//   - connect.assignment: which worker runs each connector, written by
//     the leader alone (compare-and-set). Assignments are sticky: a
//     connector stays on its worker while that worker lives; a gone
//     worker's connectors stay unassigned for
//     scheduled.rebalance.max.delay.ms (it may come back) and are then
//     given to the least loaded workers. When a worker joins, the leader
//     revokes connectors from the most loaded workers and gives them to
//     it once their old worker has stopped them (its heartbeat no longer
//     lists them), as Kafka's incremental cooperative rebalancing does,
//     so a connector never runs on two live workers at once.
//
// The unit of assignment is a connector with all its tasks. Every
// change that the REST API makes on a connector is forwarded (core NATS
// request/reply, Bus) to the worker that runs it, which carries it out
// as a single worker does; so each connector's configuration has one
// writer. A new connector is placed by the leader first. Reads (status,
// configuration, offsets) are answered from the KV by any worker.

// Bus carries requests between the workers: a server's store.
type Bus interface {
	Request(ctx context.Context, subject string, data []byte) ([]byte, error)
	Respond(ctx context.Context, subject string, handle func([]byte) []byte) (*store.Responder, error)
}

// The worker properties of distributed mode, with Kafka's defaults.
const (
	heartbeatKey      = "heartbeat.interval.ms"
	sessionTimeoutKey = "session.timeout.ms"
	rebalanceDelayKey = "scheduled.rebalance.max.delay.ms"

	defaultHeartbeatMs      = 3000
	defaultSessionTimeoutMs = 10000
	defaultRebalanceDelayMs = 300000
)

const (
	kindWorker    = "connect.workers."
	leaderKey     = "connect.leader"
	assignmentKey = "connect.assignment"
	// callTimeout bounds a forwarded change: long enough for a change
	// that waits task.shutdown.graceful.timeout.ms for tasks to stop.
	callTimeout = 60 * time.Second
)

// rebalancing is Kafka's reply while the group cannot take a change: the
// connector's worker is gone and its connectors not reassigned yet, or
// the assignment is changing.
func rebalancing() *Error {
	return errorf(http.StatusConflict, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
}

type heartbeat struct {
	Worker string `json:"worker"`
	Beat   uint64 `json:"beat"`
	// At is the writer's clock (Unix ms), trusted only to tell a worker
	// long gone at its first sighting; after that a worker lives while
	// Beat changes, by the reader's own clock.
	At int64 `json:"at"`
	// Running lists the connector instances the worker runs; Tasks its
	// tasks, by connector.
	Running []string         `json:"running"`
	Tasks   map[string][]int `json:"tasks,omitempty"`
}

// assignment is the leader's: the worker of each connector instance,
// and of each of its tasks ("" while unassigned).
type assignment struct {
	Connectors map[string]string   `json:"connectors"`
	Tasks      map[string][]string `json:"tasks,omitempty"`
}

// here lists the tasks assignment a gives worker w, by connector.
func (a assignment) here(w string) map[string][]int {
	out := map[string][]int{}
	for name, ws := range a.Tasks {
		for i, x := range ws {
			if x == w {
				out[name] = append(out[name], i)
			}
		}
	}
	return out
}

// taskRef names one task.
type taskRef struct {
	name string
	task int
}

type seenAt struct {
	beat uint64
	at   time.Time
}

// group is this worker's membership of the Connect group.
type group struct {
	h   *Herder
	kv  CASKV
	bus Bus
	id  string

	beat, session, delay time.Duration

	resp *store.Responder

	beatN, beatRev uint64
	lastBeat       time.Time

	// The leader's lease as last seen, to take it over when it stops
	// changing.
	leaderRev  uint64
	leaderSeen time.Time

	// mu guards the leader's state: leading, what it has seen of the
	// workers, and the connectors it placed.
	mu      sync.Mutex
	leading bool
	seen    map[string]seenAt
	lostAt  map[string]time.Time
	placed  map[string]time.Time

	// current is the assignment as this worker last read it (amu).
	amu     sync.Mutex
	current assignment

	cancel context.CancelFunc
	done   chan struct{}
}

// taskHere says whether task i of a connector is assigned here.
func (g *group) taskHere(name string, i int) bool {
	g.amu.Lock()
	defer g.amu.Unlock()
	ws := g.current.Tasks[name]
	return i < len(ws) && ws[i] == g.id
}

// taskOwner returns the worker of a task, or "".
func (g *group) taskOwner(ctx context.Context, name string, i int) (string, error) {
	a, _, err := g.readAssignment(ctx)
	if ws := a.Tasks[name]; err == nil && i >= 0 && i < len(ws) {
		return ws[i], nil
	}
	return "", err
}

func newGroup(h *Herder, kv CASKV, bus Bus) *group {
	ms := func(key string, def int64) time.Duration {
		return time.Duration(max(intSetting(h.cfg.Props, key, def), 1)) * time.Millisecond
	}
	return &group{h: h, kv: kv, bus: bus, id: h.cfg.WorkerID,
		beat: ms(heartbeatKey, defaultHeartbeatMs), session: ms(sessionTimeoutKey, defaultSessionTimeoutMs),
		delay: ms(rebalanceDelayKey, defaultRebalanceDelayMs),
		seen:  map[string]seenAt{}, lostAt: map[string]time.Time{}, placed: map[string]time.Time{}}
}

func subjectOf(worker string) string {
	return "tributary.connect.worker." + hex.EncodeToString([]byte(worker))
}

func (g *group) start(ctx context.Context) {
	ctx, g.cancel = context.WithCancel(ctx)
	g.done = make(chan struct{})
	// The first heartbeat (and, alone, the lease) before Start returns,
	// so that a lone worker takes requests at once.
	g.tick(ctx)
	go g.run(ctx)
}

// halt stops the group's loop: no more heartbeats, assignments or
// forwarded changes.
func (g *group) halt() {
	if g.cancel == nil {
		return
	}
	g.cancel()
	<-g.done
	if g.resp != nil {
		g.resp.Stop()
	}
}

// leaveTimeout bounds a worker's leaving of its group at shutdown.
const leaveTimeout = 5 * time.Second

// leave removes the worker from the group, once its connectors have
// stopped: its heartbeat key and, if it held it, the leader's lease, so
// that the others need not wait for its session to expire.
func (g *group) leave(ctx context.Context) {
	if g.cancel == nil {
		return
	}
	// A courtesy: the others would find the worker gone after its
	// session anyway, so a store without a quorum (the cluster's last
	// nodes stopping together) must not hold the shutdown up.
	ctx, cancel := context.WithTimeout(ctx, leaveTimeout)
	defer cancel()
	if b, rev, err := g.kv.GetRev(ctx, leaderKey); err == nil && string(b) == g.id {
		_ = g.kv.DeleteRev(ctx, leaderKey, rev)
	}
	if err := g.kv.Delete(ctx, stateKey(kindWorker, g.id)); err != nil {
		g.h.log.Warn("leaving the connect group", "err", err)
	}
}

func (g *group) run(ctx context.Context) {
	defer close(g.done)
	t := time.NewTicker(g.beat)
	defer t.Stop()
	for {
		g.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick is one heartbeat: the beat, the election, the leader's pass and
// applying the assignment. The group's own reads and writes are bounded
// by opTimeout: a store that cannot answer for now (the bucket's leader
// was on a node that died and is being elected again) fails the tick,
// and the next one tries again.
func (g *group) tick(parent context.Context) {
	if parent.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(parent, callTimeout)
	defer cancel()
	op := func(f func(context.Context) error) error {
		octx, cancel := context.WithTimeout(parent, g.opTimeout())
		defer cancel()
		return f(octx)
	}
	if g.resp == nil || !g.resp.Valid() {
		err := op(func(octx context.Context) error {
			r, err := g.bus.Respond(octx, subjectOf(g.id), g.h.serveCall)
			if err == nil {
				g.resp = r
			}
			return err
		})
		if err != nil {
			g.h.log.Warn("connect group: listening for forwarded requests", "err", err)
		}
	}
	// A store that cannot take the beat within a session is as good as
	// gone: give up on it in time to notice.
	bctx, bcancel := context.WithTimeout(parent, g.session)
	err := g.heartbeat(bctx)
	bcancel()
	if err != nil {
		if parent.Err() != nil {
			return
		}
		g.h.log.Warn("connect group: heartbeat failed", "err", err)
		if time.Since(g.lastBeat) > g.session {
			// Cut off from the group: the leader will give this
			// worker's connectors to others, so stop running them.
			g.h.releaseAll(ctx)
		}
		return
	}
	_ = op(func(octx context.Context) error { g.elect(octx); return nil })
	if g.isLeader() {
		if err := op(g.rebalance); err != nil && parent.Err() == nil {
			g.h.log.Warn("connect group: rebalance", "err", err)
		}
	}
	var a assignment
	err = op(func(octx context.Context) (err error) { a, _, err = g.readAssignment(octx); return err })
	if err == nil {
		g.reconcile(ctx, a)
	} else if parent.Err() == nil {
		g.h.log.Warn("connect group: reading the assignment", "err", err)
	}
}

// opTimeout bounds each of the group's own store operations but the
// heartbeat (bounded by a session): long enough for the leader's pass,
// which reads every heartbeat and configuration, on a loaded machine.
func (g *group) opTimeout() time.Duration { return max(g.session, 5*time.Second) }

// heartbeat writes this worker's heartbeat with the connectors it runs.
func (g *group) heartbeat(ctx context.Context) error {
	g.beatN++
	b, err := json.Marshal(heartbeat{Worker: g.id, Beat: g.beatN, At: time.Now().UnixMilli(), Running: g.h.running(),
		Tasks: g.h.runningTasks()})
	if err != nil {
		return err
	}
	key := stateKey(kindWorker, g.id)
	rev, err := g.kv.PutRev(ctx, key, b, g.beatRev)
	if errors.Is(err, store.ErrConflict) {
		// First beat, or the key was removed meanwhile: write over
		// whatever is there now.
		var cur uint64
		if _, cur, err = g.kv.GetRev(ctx, key); err == nil {
			rev, err = g.kv.PutRev(ctx, key, b, cur)
		}
	}
	if err != nil {
		return err
	}
	g.beatRev, g.lastBeat = rev, time.Now()
	return nil
}

func (g *group) isLeader() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.leading
}

func (g *group) setLeading(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if on && !g.leading {
		g.h.log.Info("connect group: this worker leads", "worker", g.id)
		clear(g.seen)
		clear(g.lostAt)
	}
	g.leading = on
}

// elect takes, renews or takes over the leader's lease.
func (g *group) elect(ctx context.Context) {
	b, rev, err := g.kv.GetRev(ctx, leaderKey)
	if err != nil {
		g.setLeading(false)
		return
	}
	switch {
	case b == nil:
		_, err = g.kv.PutRev(ctx, leaderKey, []byte(g.id), 0)
		g.setLeading(err == nil)
	case string(b) == g.id:
		_, err = g.kv.PutRev(ctx, leaderKey, []byte(g.id), rev)
		g.setLeading(err == nil)
	default:
		g.setLeading(false)
		if rev != g.leaderRev {
			g.leaderRev, g.leaderSeen = rev, time.Now()
			return
		}
		if time.Since(g.leaderSeen) > g.session {
			_, err = g.kv.PutRev(ctx, leaderKey, []byte(g.id), rev)
			g.setLeading(err == nil)
		}
	}
}

func (g *group) readAssignment(ctx context.Context) (assignment, uint64, error) {
	a := assignment{Connectors: map[string]string{}, Tasks: map[string][]string{}}
	b, rev, err := g.kv.GetRev(ctx, assignmentKey)
	if err != nil || b == nil {
		return a, rev, err
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, rev, fmt.Errorf("connect assignment: %w", err)
	}
	if a.Connectors == nil {
		a.Connectors = map[string]string{}
	}
	if a.Tasks == nil {
		a.Tasks = map[string][]string{}
	}
	return a, rev, nil
}

func (g *group) writeAssignment(ctx context.Context, a assignment, rev uint64) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = g.kv.PutRev(ctx, assignmentKey, b, rev)
	return err
}

// members reads the heartbeats and returns the live workers and how
// many live workers run each connector instance and each task. g.mu is
// held.
func (g *group) members(ctx context.Context, now time.Time) (map[string]bool, running, error) {
	beats, err := g.kv.List(ctx, kindWorker)
	if err != nil {
		return nil, running{}, err
	}
	live, present := map[string]bool{g.id: true}, map[string]bool{}
	run := running{conns: map[string]int{}, tasks: map[taskRef]int{}}
	for _, b := range beats {
		var hb heartbeat
		if json.Unmarshal(b, &hb) != nil || hb.Worker == "" {
			continue
		}
		present[hb.Worker] = true
		s, ok := g.seen[hb.Worker]
		switch {
		case !ok:
			// First sighting: as old as its writer says, at most now.
			s = seenAt{beat: hb.Beat, at: time.UnixMilli(hb.At)}
			if s.at.After(now) {
				s.at = now
			}
		case s.beat != hb.Beat:
			s = seenAt{beat: hb.Beat, at: now}
		}
		g.seen[hb.Worker] = s
		if hb.Worker == g.id || now.Sub(s.at) <= g.session {
			live[hb.Worker] = true
			for _, name := range hb.Running {
				run.conns[name]++
			}
			for name, ids := range hb.Tasks {
				for _, i := range ids {
					run.tasks[taskRef{name, i}]++
				}
			}
			continue
		}
		if _, ok := g.lostAt[hb.Worker]; !ok {
			g.lostAt[hb.Worker] = now
		}
		if now.Sub(g.lostAt[hb.Worker]) > g.delay+g.session {
			// Long gone, with nothing held for it: forget it. If it
			// comes back, its next heartbeat writes the key again.
			if err := g.kv.Delete(ctx, stateKey(kindWorker, hb.Worker)); err == nil {
				delete(g.seen, hb.Worker)
			}
		}
	}
	for w := range g.seen {
		if !present[w] {
			delete(g.seen, w)
		}
	}
	for w := range live {
		delete(g.lostAt, w)
	}
	return live, run, nil
}

// running counts the live workers that run each connector instance and
// each task.
type running struct {
	conns map[string]int
	tasks map[taskRef]int
}

// rebalance is the leader's pass over the assignment.
func (g *group) rebalance(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	live, run, err := g.members(ctx, now)
	if err != nil {
		return err
	}
	stored, err := g.kv.List(ctx, kindConfig)
	if err != nil {
		return err
	}
	var names []string
	counts := map[string]int{}
	for key, b := range stored {
		if name, ok := nameOfKey(kindConfig, key); ok {
			names = append(names, name)
			counts[name] = g.h.taskCount(b)
		}
	}
	sort.Strings(names)
	a, rev, err := g.readAssignment(ctx)
	if err != nil {
		return err
	}
	next := map[string]string{}
	var free []string
	for _, name := range names {
		w := a.Connectors[name]
		switch {
		case w != "" && live[w]:
			next[name] = w
		case w != "" && !g.expired(w, now):
			next[name] = w // held for its worker, which may come back
		case run.conns[name] == 0:
			free = append(free, name)
		}
	}
	// A connector just placed has an entry before its record exists.
	for name, at := range g.placed {
		if now.Sub(at) > 2*g.session {
			delete(g.placed, name)
		} else if w := a.Connectors[name]; w != "" && next[name] == "" && !slices.Contains(names, name) {
			next[name] = w
		}
	}
	load := loads(next, live)
	for _, name := range free {
		w := leastLoaded(load)
		next[name] = w
		load[w]++
	}
	g.revoke(next, load)
	tasks := g.assignTasks(names, counts, a.Tasks, live, run, now)
	if maps.Equal(next, a.Connectors) && maps.EqualFunc(tasks, a.Tasks, slices.Equal) {
		return nil
	}
	if err := g.writeAssignment(ctx, assignment{Connectors: next, Tasks: tasks}, rev); err != nil {
		return err
	}
	g.h.log.Info("connect group: new assignment", "workers", len(live), "connectors", len(next))
	return nil
}

// assignTasks assigns the tasks of the connectors (counts: how many
// each has now) as rebalance assigns the instances: sticky, held for a
// gone worker for the delay, a free task given to the live worker with
// the fewest tasks once no live worker runs it, and tasks revoked from
// the most loaded workers to balance. g.mu is held.
func (g *group) assignTasks(names []string, counts map[string]int, cur map[string][]string, live map[string]bool, run running, now time.Time) map[string][]string {
	next := map[string][]string{}
	var free []taskRef
	for _, name := range names {
		n := counts[name]
		if n == 0 {
			continue
		}
		ws := make([]string, n)
		for i := range n {
			var w string
			if i < len(cur[name]) {
				w = cur[name][i]
			}
			switch {
			case w != "" && live[w]:
				ws[i] = w
			case w != "" && !g.expired(w, now):
				ws[i] = w
			case run.tasks[taskRef{name, i}] == 0:
				free = append(free, taskRef{name, i})
			}
		}
		next[name] = ws
	}
	load := map[string]int{}
	for w := range live {
		load[w] = 0
	}
	for _, ws := range next {
		for _, w := range ws {
			if live[w] {
				load[w]++
			}
		}
	}
	for _, r := range free {
		w := leastLoaded(load)
		next[r.name][r.task] = w
		load[w]++
	}
	for {
		hi, lo := mostLoaded(load), leastLoaded(load)
		if load[hi]-load[lo] <= 1 {
			return next
		}
		victim := taskRef{task: -1}
		for name, ws := range next {
			for i, w := range ws {
				if w == hi && (name > victim.name || (name == victim.name && i > victim.task)) {
					victim = taskRef{name, i}
				}
			}
		}
		next[victim.name][victim.task] = ""
		load[hi]--
		load[lo]++
	}
}

// expired reports whether worker w, gone, has been gone for
// scheduled.rebalance.max.delay.ms. g.mu is held.
func (g *group) expired(w string, now time.Time) bool {
	at, ok := g.lostAt[w]
	if !ok {
		g.h.log.Info("connect group: a worker is gone; its connectors move if it is not back in time",
			"worker", w, rebalanceDelayKey, g.delay.Milliseconds())
		at = now
		g.lostAt[w] = at
	}
	return now.Sub(at) >= g.delay
}

// revoke takes connectors from the most loaded live workers while one
// holds two more than another; the next passes give them to the least
// loaded once their worker has stopped them. The load of the worker
// that will get each is counted now, so no more are revoked than the
// balance needs.
func (g *group) revoke(next map[string]string, load map[string]int) {
	for {
		hi, lo := mostLoaded(load), leastLoaded(load)
		if load[hi]-load[lo] <= 1 {
			return
		}
		var victim string
		for name, w := range next {
			if w == hi && name > victim {
				victim = name
			}
		}
		delete(next, victim)
		load[hi]--
		load[lo]++
	}
}

func loads(a map[string]string, live map[string]bool) map[string]int {
	load := map[string]int{}
	for w := range live {
		load[w] = 0
	}
	for _, w := range a {
		if live[w] {
			load[w]++
		}
	}
	return load
}

func leastLoaded(load map[string]int) string {
	best := ""
	for w, n := range load {
		if best == "" || n < load[best] || (n == load[best] && w < best) {
			best = w
		}
	}
	return best
}

func mostLoaded(load map[string]int) string {
	best := ""
	for w, n := range load {
		if best == "" || n > load[best] || (n == load[best] && w < best) {
			best = w
		}
	}
	return best
}

// place gives a new connector a worker: the least loaded live one. The
// leader alone writes the assignment.
func (g *group) place(ctx context.Context, name string) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.leading {
		return "", rebalancing()
	}
	live, _, err := g.members(ctx, time.Now())
	if err != nil {
		return "", err
	}
	for range 5 {
		a, rev, err := g.readAssignment(ctx)
		if err != nil {
			return "", err
		}
		if w := a.Connectors[name]; w != "" {
			return w, nil
		}
		w := leastLoaded(loads(a.Connectors, live))
		a.Connectors[name] = w
		err = g.writeAssignment(ctx, a, rev)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return "", err
		}
		g.placed[name] = time.Now()
		return w, nil
	}
	return "", rebalancing()
}

// reconcile stops the connectors and tasks assigned elsewhere and
// starts those assigned here.
func (g *group) reconcile(ctx context.Context, a assignment) {
	g.amu.Lock()
	g.current = a
	g.amu.Unlock()
	for _, name := range g.h.running() {
		if a.Connectors[name] != g.id {
			g.h.release(ctx, name, false)
		}
	}
	var mine []string
	for name, w := range a.Connectors {
		if w == g.id {
			mine = append(mine, name)
		}
	}
	sort.Strings(mine)
	for _, name := range mine {
		if err := g.h.adopt(ctx, name); err != nil {
			g.h.log.Error("connect group: starting an assigned connector", "connector", name, "err", err)
		}
	}
	g.h.syncTasks(ctx, a.here(g.id))
}

// owner returns the worker a connector is assigned to, or "".
func (g *group) owner(ctx context.Context, name string) (string, error) {
	a, _, err := g.readAssignment(ctx)
	return a.Connectors[name], err
}

// leader returns the worker holding the leader's lease, waiting up to
// a session timeout while there is none (the group is forming, or its
// leader left).
func (g *group) leader(ctx context.Context) (string, error) {
	deadline := time.Now().Add(g.session)
	for {
		b, _, err := g.kv.GetRev(ctx, leaderKey)
		if err != nil {
			return "", err
		}
		if b != nil {
			return string(b), nil
		}
		if time.Now().After(deadline) {
			return "", rebalancing()
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(g.beat):
		}
	}
}
