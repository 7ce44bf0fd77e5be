// Package datagen is the engine of Tributary's data generator: it takes
// the Amazon MSK Data Generator's configuration as-is (the keys of
// awslabs/amazon-msk-data-generator, itself a port of Voluble: genkp,
// genk, genv, genvp with Java-Faker expressions or "matching"
// references, attr*, topic.* and global.* settings) and produces keys
// and values. It knows nothing of the connector runtime, which wraps a
// Generator per task as the source connector
// com.amazonaws.mskdatagen.GeneratorSourceConnector.
//
// Every expression is parsed and resolved when the configuration is
// parsed (Validate, New): an unknown provider or method, or arguments
// the method cannot take, is a *ConfigError naming the key, and nothing
// a configuration can say makes generation panic.
//
// Randomness comes from a gofakeit.Faker seeded per Generator, so a
// seed reproduces a run exactly (given the same clock) and generators
// never share state.
//
// Where this differs from the MSK generator, and why:
//   - Values are strings by default, as the MSK generator writes them.
//     tributary.datagen.strings=false gives typed values instead.
//   - A malformed or unknown #{...} expression is an error. Java-Faker
//     would leave the text in the output.
//   - Matching cycles and invalid with/matching combinations are refused
//     up front. The MSK generator would stall at run time.
//   - MSK bugs are not reproduced. History keeps the newest records, not
//     the first ones; null.rate yields a null instead of crashing; and
//     tombstone.rate yields a null value instead of dropping the record.
//   - Topics are visited, and struct fields ordered, by name.
//   - Dates are rendered in UTC.
//   - Fake values come from gofakeit, so they differ from Java-Faker's
//     (formats follow Java-Faker).
//   - Java-Faker providers that gofakeit lacks, such as franchise and
//     medical data, are not supported.
package datagen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/brianvoe/gofakeit/v7"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// Errors of Generate and Poll.
var (
	// ErrNotReady: the topic matches another topic that has produced
	// nothing yet, so there is nothing to match. The MSK generator counts
	// this as a failed attempt and moves on to the next topic.
	ErrNotReady = errors.New("datagen: a matched topic has produced no records yet")
	// ErrRetired: the topic has produced topic.<name>.records.exactly
	// records.
	ErrRetired = errors.New("datagen: topic has produced all its records (records.exactly)")
	// ErrDrained: every topic is retired; the task has nothing more to do.
	ErrDrained = errors.New("datagen: every topic has produced all its records")
	// ErrUnknownTopic: the topic has no generators.
	ErrUnknownTopic = errors.New("datagen: no generators for topic")
)

// Option configures a Generator.
type Option func(*Generator)

// WithClock sets the clock that date expressions and record timestamps
// use (time.Now by default), so tests can pin generated dates.
func WithClock(now func() time.Time) Option { return func(g *Generator) { g.now = now } }

// Generator produces records for the topics of one configuration. It is
// safe for concurrent use, but a connector task owns one: the MSK
// generator's tasks do not share history.
type Generator struct {
	mu     sync.Mutex
	cfg    *Config
	f      *gofakeit.Faker
	now    func() time.Time
	topics []*topicState
	byName map[string]*topicState
	next   int // round-robin position of Poll
}

type topicState struct {
	cfg        *TopicConfig
	throttle   time.Duration
	historyMax int
	// history holds the most recent records, as a ring of historyMax.
	history []event
	head    int
	// produced counts records; last is when the latest was produced.
	produced               int64
	last                   time.Time
	keySchema, valueSchema *data.Schema
}

// event is one produced key and value, kept for matching.
type event struct{ key, value any }

// New parses props and returns a generator seeded with seed. Every seed,
// including 0, is deterministic; the runtime picks a random one.
func New(props map[string]string, seed int64, opts ...Option) (*Generator, error) {
	cfg, err := ParseConfig(props)
	if err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:    cfg,
		f:      gofakeit.NewFaker(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15), false),
		now:    time.Now,
		byName: map[string]*topicState{},
	}
	for _, o := range opts {
		o(g)
	}
	for _, t := range cfg.Topics {
		ts := &topicState{cfg: t, historyMax: DefaultHistoryRecordsMax}
		switch {
		case t.ThrottleMs != nil:
			ts.throttle = time.Duration(*t.ThrottleMs) * time.Millisecond
		case cfg.ThrottleMs != nil:
			ts.throttle = time.Duration(*cfg.ThrottleMs) * time.Millisecond
		}
		switch {
		case t.HistoryRecordsMax != nil:
			ts.historyMax = int(min(*t.HistoryRecordsMax, 1<<31))
		case cfg.HistoryRecordsMax != nil:
			ts.historyMax = int(min(*cfg.HistoryRecordsMax, 1<<31))
		}
		g.topics = append(g.topics, ts)
		g.byName[t.Name] = ts
	}
	for _, ts := range g.topics {
		ts.keySchema = g.shapeSchema(ts.cfg.Key)
		ts.valueSchema = g.shapeSchema(ts.cfg.Value)
	}
	return g, nil
}

// Config returns the parsed configuration.
func (g *Generator) Config() *Config { return g.cfg }

// Topics returns the names of the topics, in the order Poll visits them.
func (g *Generator) Topics() []string {
	out := make([]string, len(g.topics))
	for i, t := range g.topics {
		out[i] = t.cfg.Name
	}
	return out
}

// Throttle is the minimum interval between two records of a topic:
// topic.<name>.throttle.ms, else global.throttle.ms, else 0. As in the
// MSK generator it paces each topic separately; it is not a global rate.
func (g *Generator) Throttle(topic string) time.Duration {
	if t, ok := g.byName[topic]; ok {
		return t.throttle
	}
	return 0
}

// Produced returns how many records a topic has produced.
func (g *Generator) Produced(topic string) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t, ok := g.byName[topic]; ok {
		return t.produced
	}
	return 0
}

// Generate produces the next key and value of a topic, ignoring its
// throttle (which is Poll's business). Keys and values are nil (no
// generator, a null.rate hit, a tombstone), a primitive (string, int64,
// float64, bool), or, for attribute generators, a map[string]any, nested
// for "a->b" attributes. All matching references of one topic read the
// same, randomly chosen, history record of each matched topic, so that
// two fields matching book.key and book.value.title agree.
func (g *Generator) Generate(topic string) (key, value any, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.byName[topic]
	if !ok {
		return nil, nil, fmt.Errorf("%w %q", ErrUnknownTopic, topic)
	}
	return g.generate(t, g.now())
}

func (g *Generator) generate(t *topicState, now time.Time) (key, value any, err error) {
	if t.cfg.RecordsExactly > 0 && t.produced >= t.cfg.RecordsExactly {
		return nil, nil, fmt.Errorf("%w: %s", ErrRetired, t.cfg.Name)
	}
	deps := make(map[string]*event, len(t.cfg.Dependencies))
	for _, d := range t.cfg.Dependencies {
		if h := g.byName[d]; len(h.history) > 0 {
			deps[d] = &h.history[g.f.IntN(len(h.history))]
		}
	}
	for _, d := range t.cfg.hard {
		if deps[d] == nil {
			return nil, nil, fmt.Errorf("%w: %s matches %s", ErrNotReady, t.cfg.Name, d)
		}
	}
	ec := &evalCtx{f: g.f, now: now}
	key = g.shape(ec, t.cfg.Key, deps)
	if t.cfg.TombstoneRate > 0 && g.f.Float64() < t.cfg.TombstoneRate {
		value = nil
	} else {
		value = g.shape(ec, t.cfg.Value, deps)
	}
	t.remember(event{key, value})
	t.produced++
	t.last = now
	return key, value, nil
}

func (t *topicState) remember(e event) {
	if len(t.history) < t.historyMax {
		t.history = append(t.history, e)
		return
	}
	// Keep the most recent records, as Voluble does. (The MSK generator
	// keeps the first historyMax and drops every later one, so its
	// matches stop following new records; that reads as a bug.)
	t.history[t.head] = e
	t.head = (t.head + 1) % t.historyMax
}

func (g *Generator) shape(ec *evalCtx, s *Shape, deps map[string]*event) any {
	if s == nil {
		return nil
	}
	if s.Primitive != nil {
		return g.field(ec, s.Primitive, deps)
	}
	m := map[string]any{}
	for _, f := range s.Fields {
		v := g.field(ec, f, deps)
		cur := m
		for _, p := range f.Path[:len(f.Path)-1] {
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
		cur[f.Path[len(f.Path)-1]] = v
	}
	return m
}

func (g *Generator) field(ec *evalCtx, f *Field, deps map[string]*event) any {
	if f.NullRate > 0 && g.f.Float64() < f.NullRate {
		return nil
	}
	var v any
	switch {
	case f.Sometimes:
		rate := DefaultMatchingRate
		if f.MatchingRate != nil {
			rate = *f.MatchingRate
		} else if g.cfg.MatchingRate != nil {
			rate = *g.cfg.MatchingRate
		}
		if e := deps[f.Match.Topic]; e != nil && g.f.Float64() < rate {
			v = lookup(e, f.Match)
		} else {
			v = f.With.eval(ec)
		}
	case f.Match != nil:
		v = lookup(deps[f.Match.Topic], f.Match)
	default:
		v = f.With.eval(ec)
	}
	if g.cfg.Strings && v != nil {
		return javaString(v)
	}
	return v
}

// lookup reads the matched key or value (or attribute of it) from a
// history record; nil when the record has none (a null or tombstone).
func lookup(e *event, m *MatchRef) any {
	if e == nil {
		return nil
	}
	v := e.key
	if m.Value {
		v = e.value
	}
	for _, p := range m.Path {
		mv, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mv[p]
	}
	return v
}

// Record produces the next record of a topic (as Generate) as a Connect
// record with schemas, as the MSK generator's SourceRecord has:
// primitives are optional primitives, attribute maps are optional
// structs named com.amazonaws.mskdatagen.Gen<depth>, with every field
// optional and fields in name order.
func (g *Generator) Record(topic string) (*data.Record, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.byName[topic]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownTopic, topic)
	}
	return g.record(t, g.now())
}

func (g *Generator) record(t *topicState, now time.Time) (*data.Record, error) {
	k, v, err := g.generate(t, now)
	if err != nil {
		return nil, err
	}
	return &data.Record{
		Topic:       t.cfg.Name,
		KeySchema:   t.keySchema,
		Key:         toConnect(t.keySchema, k),
		ValueSchema: t.valueSchema,
		Value:       toConnect(t.valueSchema, v),
		Timestamp:   now,
	}, nil
}

// Poll is a task's poll: it produces the next record in round-robin
// order over the topics that are due (their throttle has elapsed since
// their last record), skipping retired topics and topics whose matched
// topics have produced nothing yet, as the MSK generator's state machine
// does. When no topic is due it returns a nil record and how long to
// wait until the earliest one is. ErrDrained means every topic is
// retired.
func (g *Generator) Poll(now time.Time) (*data.Record, time.Duration, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := len(g.topics)
	wait := time.Duration(-1)
	live, notReady := 0, 0
	for i := 0; i < n; i++ {
		idx := (g.next + i) % n
		t := g.topics[idx]
		if t.cfg.RecordsExactly > 0 && t.produced >= t.cfg.RecordsExactly {
			continue
		}
		live++
		if t.produced > 0 && t.throttle > 0 {
			if due := t.last.Add(t.throttle); now.Before(due) {
				if d := due.Sub(now); wait < 0 || d < wait {
					wait = d
				}
				continue
			}
		}
		rec, err := g.record(t, now)
		if errors.Is(err, ErrNotReady) {
			notReady++
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		g.next = (idx + 1) % n
		return rec, 0, nil
	}
	if live == 0 {
		return nil, 0, ErrDrained
	}
	if wait < 0 {
		// Every live topic waits on a topic that can no longer produce
		// (it retired without a record in this history). Validation
		// rules out cycles, so this needs records.exactly on the
		// matched topic and cannot resolve itself.
		return nil, 0, fmt.Errorf("datagen: %d topic(s) wait on matched topics that will produce nothing more", notReady)
	}
	return nil, wait, nil
}

// shapeSchema is the Connect schema of a key or value.
func (g *Generator) shapeSchema(s *Shape) *data.Schema {
	if s == nil {
		// The MSK generator gives a missing key an optional string schema.
		return data.OptionalOf(data.Primitive(data.TypeString))
	}
	if s.Primitive != nil {
		return g.fieldSchema(s.Primitive)
	}
	return g.structSchema(s.Fields, 0)
}

func (g *Generator) fieldSchema(f *Field) *data.Schema {
	t := data.TypeString
	if !g.cfg.Strings {
		switch g.kindOf(f, 0) {
		case KindInt:
			t = data.TypeInt64
		case KindFloat:
			t = data.TypeFloat64
		case KindBool:
			t = data.TypeBoolean
		}
	}
	return data.OptionalOf(data.Primitive(t))
}

// kindOf is the kind of a field's values: its expression's, or, for a
// matching field, the matched field's (followed through chains of
// matches); a "sometimes" field whose two sources disagree is a string.
func (g *Generator) kindOf(f *Field, depth int) Kind {
	if depth > len(g.topics)+1 {
		return KindString
	}
	var with, match Kind = -1, -1
	if f.With != nil {
		with = f.With.Kind()
	}
	if f.Match != nil {
		match = KindString
		if t, ok := g.byName[f.Match.Topic]; ok {
			s := t.cfg.Key
			if f.Match.Value {
				s = t.cfg.Value
			}
			if mf := s.field(f.Match.Path); mf != nil {
				match = g.kindOf(mf, depth+1)
			}
		}
	}
	switch {
	case with < 0:
		return match
	case match < 0 || match == with:
		return with
	}
	return KindString
}

// field returns the field generating path (nil: the primitive).
func (s *Shape) field(path []string) *Field {
	if s == nil {
		return nil
	}
	if path == nil {
		return s.Primitive
	}
	want := strings.Join(path, "->")
	for _, f := range s.Fields {
		if strings.Join(f.Path, "->") == want {
			return f
		}
	}
	return nil
}

// structSchema builds the struct schema of the fields at one depth,
// grouping nested attributes (fields are sorted by path, so a group is
// contiguous).
func (g *Generator) structSchema(fields []*Field, depth int) *data.Schema {
	var fs []data.Field
	for i := 0; i < len(fields); {
		name := fields[i].Path[depth]
		j := i
		for j < len(fields) && fields[j].Path[depth] == name {
			j++
		}
		var s *data.Schema
		if len(fields[i].Path) == depth+1 {
			s = g.fieldSchema(fields[i])
		} else {
			s = g.structSchema(fields[i:j], depth+1)
		}
		fs = append(fs, data.Field{Name: name, Schema: s})
		i = j
	}
	s := data.StructSchema(fmt.Sprintf("com.amazonaws.mskdatagen.Gen%d", depth), fs...)
	s.Optional = true
	return s
}

// toConnect converts a generated value to the Connect value of schema s.
func toConnect(s *data.Schema, v any) any {
	m, ok := v.(map[string]any)
	if !ok || s.Type != data.TypeStruct {
		return coerce(s, v)
	}
	st := data.NewStruct(s)
	for i, f := range s.Fields {
		st.Values[i] = toConnect(f.Schema, m[f.Name])
	}
	return st
}

// coerce makes a primitive fit its schema: a matched value keeps the
// type it was generated with, which may not be the type the schema
// (derived from the configuration) promises.
func coerce(s *data.Schema, v any) any {
	if v == nil || data.Validate(s, v) == nil {
		return v
	}
	if s.Type == data.TypeString {
		return javaString(v)
	}
	return nil
}
