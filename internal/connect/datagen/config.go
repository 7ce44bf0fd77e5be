package datagen

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ConnectorClass is the MSK Data Generator's connector class, which
// Tributary's runtime maps to this package so that its configurations
// run unchanged.
const ConnectorClass = "com.amazonaws.mskdatagen.GeneratorSourceConnector"

// StringsKey is Tributary's one addition to the MSK generator's keys
// (which ignores keys it does not know, so configurations stay portable
// both ways). The MSK generator renders every generated value as a Java
// string, so #{number.number_between '1','5'} becomes "4", not 4, and so
// does this package by default: consumers moving from MSK see the same
// records. Setting StringsKey to "false" keeps values typed (an int64
// here) for new pipelines that want real numbers.
const StringsKey = "tributary.datagen.strings"

// Defaults, as in the MSK generator.
const (
	DefaultHistoryRecordsMax = 1000000
	DefaultMatchingRate      = 0.1
)

// ConfigError is a problem with one configuration key, reported against
// that key so that the REST validate endpoint can attach it to the field.
type ConfigError struct {
	Key     string
	Message string
}

func (e *ConfigError) Error() string { return e.Key + ": " + e.Message }

// Config is a parsed and validated MSK Data Generator configuration.
type Config struct {
	// Topics are the topics that have generators, sorted by name. The
	// MSK generator discovers topics from the generator keys too, and
	// visits them in (HashMap) order; sorting makes ours reproducible.
	Topics []*TopicConfig
	// ThrottleMs, HistoryRecordsMax and MatchingRate are the global.*
	// settings (nil when absent).
	ThrottleMs        *int64
	HistoryRecordsMax *int64
	MatchingRate      *float64
	// Strings is StringsKey.
	Strings bool
}

// TopicConfig is one topic's generators and topic.<name>.* settings.
type TopicConfig struct {
	Name       string
	Key, Value *Shape // nil when the topic has no generator for it
	// Settings from topic.<name>.*; nil or zero when absent.
	ThrottleMs        *int64
	HistoryRecordsMax *int64
	TombstoneRate     float64
	RecordsExactly    int64
	// Dependencies are the topics this one's "matching" generators read
	// history from, sorted.
	Dependencies []string
	// hard are the dependencies without "sometimes": the topic can
	// produce nothing until they have produced something.
	hard []string
}

// Shape is how a key or a value is generated: one primitive generator
// (genkp/genvp) or named fields (genk/genv), possibly nested with "->".
type Shape struct {
	Primitive *Field   // genkp / genvp
	Fields    []*Field // genk / genv, sorted by path
}

// Field is the generator of one attribute (or of a primitive key or
// value, with a nil Path).
type Field struct {
	Path []string // attribute path, "a->b" is [a b]
	Key  string   // the configuration key that defines it, for errors
	// With is the "with" expression; nil for a pure "matching" field.
	With *Template
	// Match is the "matching" reference; nil for a pure "with" field.
	Match *MatchRef
	// Sometimes is set when the field has both sometimes.with and
	// sometimes.matching: it matches with probability MatchingRate.
	Sometimes    bool
	NullRate     float64
	MatchingRate *float64
}

// MatchRef is the value of a "matching" key: <topic>.key,
// <topic>.value, or <topic>.key|value.<attr>.
type MatchRef struct {
	Topic string
	Value bool     // value namespace, else key
	Path  []string // nil for a primitive key or value
}

func (m *MatchRef) String() string {
	s := m.Topic + ".key"
	if m.Value {
		s = m.Topic + ".value"
	}
	if m.Path != nil {
		s += "." + strings.Join(m.Path, "->")
	}
	return s
}

// TaskConfigs is the MSK generator's task split: every task gets the
// whole configuration and generates every topic independently (its own
// history, its own throttle), so tasks.max=N produces N times the data.
func TaskConfigs(props map[string]string, maxTasks int) []map[string]string {
	out := make([]map[string]string, maxTasks)
	for i := range out {
		c := make(map[string]string, len(props))
		for k, v := range props {
			c[k] = v
		}
		out[i] = c
	}
	return out
}

// Validate checks a configuration as the MSK generator would when a
// connector starts, plus what it leaves to fail at run time (unknown
// expressions, bad numbers, dependency cycles). It returns one error
// (a *ConfigError) per problem, in key order; none means New succeeds.
func Validate(props map[string]string) []error {
	_, errs := parse(props)
	return errs
}

// ParseConfig parses and validates props, joining the problems.
func ParseConfig(props map[string]string) (*Config, error) {
	c, errs := parse(props)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// genDecl is one generator key (with / matching) before it is combined
// with the others for the same attribute.
type genDecl struct {
	key       string
	sometimes bool
	with      *Template
	match     *MatchRef
}

type nsKey struct {
	topic string
	value bool
	attr  string // "" for primitive
	prim  bool
}

type parser struct {
	errs   []error
	cfg    *Config
	topics map[string]*TopicConfig
	gens   map[nsKey][]genDecl
	// attr settings, by the same key, with the keys that set them
	attrs    map[nsKey]map[string]string // setting → value
	attrKeys map[nsKey]string
	topicKey map[string]string // topic → a topic.* key naming it
}

func (p *parser) errorf(key, format string, args ...any) {
	p.errs = append(p.errs, &ConfigError{Key: key, Message: fmt.Sprintf(format, args...)})
}

func parse(props map[string]string) (*Config, []error) {
	p := &parser{
		cfg:      &Config{Strings: true},
		topics:   map[string]*TopicConfig{},
		gens:     map[nsKey][]genDecl{},
		attrs:    map[nsKey]map[string]string{},
		attrKeys: map[nsKey]string{},
		topicKey: map[string]string{},
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.parseKey(k, props[k])
	}
	p.assemble()
	sort.SliceStable(p.errs, func(i, j int) bool {
		return p.errs[i].(*ConfigError).Key < p.errs[j].(*ConfigError).Key
	})
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return p.cfg, nil
}

func (p *parser) topic(name string) *TopicConfig {
	t, ok := p.topics[name]
	if !ok {
		t = &TopicConfig{Name: name}
		p.topics[name] = t
	}
	return t
}

// parseKey sorts one key by its first dot-separated token, as the MSK
// generator's ParseKeyProcessor does. Keys it does not recognise
// (connector.class, tasks.max, converters, transforms…) belong to the
// runtime and are ignored.
func (p *parser) parseKey(key, val string) {
	tok := strings.Split(key, ".")
	switch tok[0] {
	case "genkp", "genvp":
		// genkp.<topic>.with | genkp.<topic>.sometimes.with
		rest := tok[2:]
		if len(tok) < 3 || tok[1] == "" {
			p.errorf(key, "expected %s.<topic>.with or %s.<topic>.matching", tok[0], tok[0])
			return
		}
		p.generator(key, val, nsKey{topic: tok[1], value: tok[0] == "genvp", prim: true}, rest)
	case "genk", "genv":
		// genv.<topic>.<attr>.with | genv.<topic>.<attr>.sometimes.with
		if len(tok) < 4 || tok[1] == "" || tok[2] == "" {
			p.errorf(key, "expected %s.<topic>.<attribute>.with or %s.<topic>.<attribute>.matching", tok[0], tok[0])
			return
		}
		p.generator(key, val, nsKey{topic: tok[1], value: tok[0] == "genv", attr: tok[2]}, tok[3:])
	case "attrkp", "attrvp":
		if len(tok) < 3 || tok[1] == "" {
			p.errorf(key, "expected %s.<topic>.null.rate or %s.<topic>.matching.rate", tok[0], tok[0])
			return
		}
		p.attrSetting(key, val, nsKey{topic: tok[1], value: tok[0] == "attrvp", prim: true}, strings.Join(tok[2:], "."))
	case "attrk", "attrv":
		if len(tok) < 4 || tok[1] == "" || tok[2] == "" {
			p.errorf(key, "expected %s.<topic>.<attribute>.null.rate or %s.<topic>.<attribute>.matching.rate", tok[0], tok[0])
			return
		}
		p.attrSetting(key, val, nsKey{topic: tok[1], value: tok[0] == "attrv", attr: tok[2]}, strings.Join(tok[3:], "."))
	case "topic":
		if len(tok) < 3 || tok[1] == "" {
			p.errorf(key, "expected topic.<topic>.<setting>")
			return
		}
		setting := strings.Join(tok[2:], ".")
		if _, ok := topicDef().Lookup(setting); tok[1] == "creation" && !ok {
			// Kafka Connect's topic.creation.* (KIP-158) belong to the
			// runtime, unless a topic named "creation" is being set up.
			return
		}
		p.topicSetting(key, val, tok[1], setting)
	case "global", "tributary":
		p.globalSetting(key, val, tok[0] == "global")
	}
}

func (p *parser) generator(key, val string, nk nsKey, rest []string) {
	d := genDecl{key: key}
	if len(rest) == 2 && rest[0] == "sometimes" {
		d.sometimes = true
		rest = rest[1:]
	}
	if len(rest) != 1 || rest[0] != "with" && rest[0] != "matching" {
		p.errorf(key, "unrecognised generator %q: expected with, matching, sometimes.with or sometimes.matching", strings.Join(rest, "."))
		return
	}
	if rest[0] == "with" {
		t, err := ParseTemplate(val)
		if err != nil {
			p.errorf(key, "%v", err)
			return
		}
		d.with = t
	} else {
		m, err := parseMatch(val)
		if err != nil {
			p.errorf(key, "%v", err)
			return
		}
		d.match = m
	}
	p.topic(nk.topic)
	p.gens[nk] = append(p.gens[nk], d)
}

// parseMatch parses "<topic>.key", "<topic>.value" or
// "<topic>.key|value.<attr>" (attr may be nested with "->").
func parseMatch(v string) (*MatchRef, error) {
	tok := strings.Split(strings.TrimSpace(v), ".")
	if len(tok) < 2 || len(tok) > 3 || tok[0] == "" || tok[1] != "key" && tok[1] != "value" || len(tok) == 3 && tok[2] == "" {
		return nil, fmt.Errorf("matching value %q: expected <topic>.key, <topic>.value, <topic>.key.<attribute> or <topic>.value.<attribute>", v)
	}
	m := &MatchRef{Topic: tok[0], Value: tok[1] == "value"}
	if len(tok) == 3 {
		m.Path = strings.Split(tok[2], "->")
	}
	return m, nil
}

func (p *parser) attrSetting(key, val string, nk nsKey, setting string) {
	k, ok := attrDef().Lookup(setting)
	if !ok {
		p.errorf(key, "unrecognised attribute configuration %q: expected %s", setting, expected(attrDef(), ""))
		return
	}
	if _, ok := p.read(k, key, val); !ok {
		return
	}
	if p.attrs[nk] == nil {
		p.attrs[nk] = map[string]string{}
	}
	p.attrs[nk][setting] = val
	p.attrKeys[nk] = key
}

func (p *parser) topicSetting(key, val, topic, setting string) {
	if _, ok := p.topicKey[topic]; !ok {
		p.topicKey[topic] = key
	}
	t := p.topic(topic)
	k, ok := topicDef().Lookup(setting)
	if !ok {
		p.errorf(key, "unrecognised topic configuration %q: expected %s", setting, expected(topicDef(), ""))
		return
	}
	v, ok := p.read(k, key, val)
	switch {
	case !ok:
	case setting == "throttle.ms":
		t.ThrottleMs = ptr(v.Long(setting))
	case setting == "history.records.max":
		t.HistoryRecordsMax = ptr(v.Long(setting))
	case setting == "tombstone.rate":
		t.TombstoneRate = v.Double(setting)
	case setting == "records.exactly":
		t.RecordsExactly = v.Long(setting)
	}
}

// globalSetting reads a global.* setting or Tributary's StringsKey;
// other tributary.* keys are not the generator's.
func (p *parser) globalSetting(key, val string, global bool) {
	k, ok := globalDef().Lookup(key)
	if !ok {
		if global {
			p.errorf(key, "unrecognised global configuration %q: expected %s", strings.TrimPrefix(key, "global."), expected(globalDef(), "global."))
		}
		return
	}
	v, ok := p.read(k, key, val)
	switch {
	case !ok:
	case key == "global.throttle.ms":
		p.cfg.ThrottleMs = ptr(v.Long(key))
	case key == "global.history.records.max":
		p.cfg.HistoryRecordsMax = ptr(v.Long(key))
	case key == "global.matching.rate":
		p.cfg.MatchingRate = ptr(v.Double(key))
	case key == StringsKey:
		p.cfg.Strings = v.Bool(key)
	}
}

func ptr[T any](v T) *T { return &v }

// assemble combines the generator declarations into shapes and runs the
// cross-key checks of the MSK generator's validators.
func (p *parser) assemble() {
	hasGen := map[string]bool{}
	for nk := range p.gens {
		hasGen[nk.topic] = true
	}
	if len(hasGen) == 0 && len(p.errs) == 0 {
		p.errs = append(p.errs, &ConfigError{Key: "genkp/genk/genv/genvp", Message: "no generators: configure at least one genkp, genk, genv or genvp key"})
	}
	for name, key := range p.topicKey {
		if !hasGen[name] {
			p.errorf(key, "topic configuration is supplied for topic %s, but no generators are specified for it", name)
			delete(p.topics, name)
		}
	}
	// Shapes, and conflicts between primitive and complex generators.
	for nk, decls := range p.gens {
		t := p.topic(nk.topic)
		shape := &t.Key
		if nk.value {
			shape = &t.Value
		}
		if *shape == nil {
			*shape = &Shape{}
		}
		f, ok := p.combine(nk, decls)
		if !ok {
			continue
		}
		if nk.prim {
			(*shape).Primitive = f
		} else {
			(*shape).Fields = append((*shape).Fields, f)
		}
	}
	for _, t := range p.topics {
		for _, s := range []*Shape{t.Key, t.Value} {
			if s == nil {
				continue
			}
			sort.Slice(s.Fields, func(i, j int) bool {
				return strings.Join(s.Fields[i].Path, "\x00") < strings.Join(s.Fields[j].Path, "\x00")
			})
			if s.Primitive != nil && len(s.Fields) > 0 {
				p.errorf(s.Primitive.Key, "both primitive and complex generators are supplied for this topic's %s (%s); use one primitive generator or attribute generators", nsName(s == t.Value), s.Fields[0].Key)
			}
			p.checkPaths(s)
		}
	}
	p.applyAttrs()
	p.checkDependencies()
	names := make([]string, 0, len(p.topics))
	for n := range p.topics {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p.cfg.Topics = append(p.cfg.Topics, p.topics[n])
	}
}

// shape is the topic's value or key shape: nil when it has none, or
// when there is no topic.
func (t *TopicConfig) shape(value bool) *Shape {
	switch {
	case t == nil:
		return nil
	case value:
		return t.Value
	}
	return t.Key
}

func nsName(value bool) string {
	if value {
		return "value"
	}
	return "key"
}

// combine turns the declarations for one attribute into a Field: one
// plain with or matching, or the sometimes.with + sometimes.matching
// pair (the MSK generator accepts no other combination).
func (p *parser) combine(nk nsKey, decls []genDecl) (*Field, bool) {
	sort.Slice(decls, func(i, j int) bool { return decls[i].key < decls[j].key })
	f := &Field{Key: decls[0].key}
	if !nk.prim {
		f.Path = strings.Split(nk.attr, "->")
		for _, s := range f.Path {
			if s == "" {
				p.errorf(decls[0].key, "empty attribute name in %q", nk.attr)
				return nil, false
			}
		}
	}
	var with, match, swith, smatch int
	for _, d := range decls {
		switch {
		case d.sometimes && d.with != nil:
			swith++
			f.With = d.with
		case d.sometimes:
			smatch++
			f.Match = d.match
		case d.with != nil:
			with++
			f.With = d.with
		default:
			match++
			f.Match = d.match
		}
	}
	switch {
	case len(decls) == 1 && with+match == 1:
		return f, true
	case len(decls) == 2 && swith == 1 && smatch == 1:
		f.Sometimes = true
		return f, true
	}
	keys := make([]string, len(decls))
	for i, d := range decls {
		keys[i] = d.key
	}
	p.errorf(decls[0].key, "incompatible generators for one attribute (%s): use a single with or matching, or exactly one sometimes.with together with one sometimes.matching", strings.Join(keys, ", "))
	return nil, false
}

// checkPaths rejects an attribute that is both a leaf and the parent of
// nested attributes (a and a->b): it cannot be both a value and a struct.
func (p *parser) checkPaths(s *Shape) {
	leaves := map[string]*Field{}
	for _, f := range s.Fields {
		leaves[strings.Join(f.Path, "->")] = f
	}
	for _, f := range s.Fields {
		for i := 1; i < len(f.Path); i++ {
			if g, ok := leaves[strings.Join(f.Path[:i], "->")]; ok {
				p.errorf(f.Key, "attribute %s is nested in %s, which %s also generates as a value", strings.Join(f.Path, "->"), strings.Join(f.Path[:i], "->"), g.Key)
			}
		}
	}
}

func (p *parser) applyAttrs() {
	for nk, settings := range p.attrs {
		key := p.attrKeys[nk]
		s := p.topics[nk.topic].shape(nk.value)
		if s == nil {
			p.errorf(key, "attribute configuration is supplied for topic %s's %s, but no generator is specified for it", nk.topic, nsName(nk.value))
			continue
		}
		var f *Field
		if nk.prim {
			if s.Primitive == nil {
				p.errorf(key, "primitive attribute configuration is supplied for topic %s, but its %s is generated as a complex type; use attr%s.%s.<attribute>.…", nk.topic, nsName(nk.value), nsName(nk.value)[:1], nk.topic)
				continue
			}
			f = s.Primitive
		} else {
			if s.Primitive != nil {
				p.errorf(key, "complex attribute configuration is supplied for topic %s, but its %s is generated as a primitive; use attr%sp.%s.…", nk.topic, nsName(nk.value), nsName(nk.value)[:1], nk.topic)
				continue
			}
			for _, g := range s.Fields {
				if strings.Join(g.Path, "->") == nk.attr {
					f = g
				}
			}
			if f == nil {
				p.errorf(key, "attribute configuration is supplied for %s, but no generator creates that attribute", nk.attr)
				continue
			}
		}
		v, _ := attrDef().Parse(settings) // each checked by attrSetting
		f.NullRate = v.Double("null.rate")
		if v.IsSet("matching.rate") {
			f.MatchingRate = ptr(v.Double("matching.rate"))
		}
	}
}

// checkDependencies checks each matching reference against the topic it
// reads, and that every topic can eventually produce: a topic that
// (through matching, without "sometimes") waits on itself would stall
// the MSK generator until it gives up ("livelocked").
func (p *parser) checkDependencies() {
	for _, t := range p.topics {
		deps, hard := map[string]bool{}, map[string]bool{}
		for _, s := range []*Shape{t.Key, t.Value} {
			if s == nil {
				continue
			}
			for _, f := range append([]*Field{s.Primitive}, s.Fields...) {
				if f == nil || f.Match == nil {
					continue
				}
				if !p.checkMatch(t.Name, f) {
					continue
				}
				deps[f.Match.Topic] = true
				if !f.Sometimes {
					hard[f.Match.Topic] = true
				}
			}
		}
		t.Dependencies, t.hard = sortedKeys(deps), sortedKeys(hard)
	}
	ok := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, t := range p.topics {
			if ok[t.Name] {
				continue
			}
			ready := true
			for _, d := range t.hard {
				ready = ready && ok[d]
			}
			if ready {
				ok[t.Name], changed = true, true
			}
		}
	}
	for _, t := range p.topics {
		if !ok[t.Name] {
			key := ""
			for _, s := range []*Shape{t.Key, t.Value} {
				if s == nil {
					continue
				}
				for _, f := range append([]*Field{s.Primitive}, s.Fields...) {
					if f != nil && f.Match != nil && !f.Sometimes && !ok[f.Match.Topic] && (key == "" || f.Key < key) {
						key = f.Key
					}
				}
			}
			p.errorf(key, "topic %s can never produce a record: it matches %s, which (directly or through other topics) waits on %s itself", t.Name, strings.Join(t.hard, ", "), t.Name)
		}
	}
}

func (p *parser) checkMatch(topic string, f *Field) bool {
	m := f.Match
	dt, ok := p.topics[m.Topic]
	s := dt.shape(m.Value)
	ns := nsName(m.Value)
	switch {
	case !ok:
		p.errorf(f.Key, "topic %s matches %s, but no generator is defined for topic %s", topic, m, m.Topic)
	case s == nil:
		p.errorf(f.Key, "topic %s matches %s, but topic %s has no %s generator", topic, m, m.Topic, ns)
	case m.Path == nil && s.Primitive == nil:
		p.errorf(f.Key, "topic %s matches %s, but topic %s's %s is not a primitive (genkp/genvp); name an attribute: %s.%s.<attribute>", topic, m, m.Topic, ns, m.Topic, ns)
	case m.Path != nil && !hasPath(s, m.Path):
		p.errorf(f.Key, "topic %s matches %s, but no generator is defined for attribute %s of topic %s's %s", topic, m, strings.Join(m.Path, "->"), m.Topic, ns)
	default:
		return true
	}
	return false
}

func hasPath(s *Shape, path []string) bool {
	want := strings.Join(path, "->")
	for _, f := range s.Fields {
		if strings.Join(f.Path, "->") == want {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
