package transform

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// Transform is a single message transform. Apply returns the transformed
// record, or nil to drop it (as Filter does). It must not modify r: it
// returns a new record (r.Copy() and friends) when anything changes, so a
// caller may keep the original for error reporting or dead-lettering.
type Transform interface {
	Apply(r *data.Record) (*data.Record, error)
}

// Predicate decides whether a transform applies to a record.
type Predicate interface {
	Test(r *data.Record) bool
}

// ConfigError is an invalid or missing setting. Key is the configuration
// key as the user wrote it (prefixed, "transforms.route.regex", when the
// error comes from FromConfig; bare, "regex", from NewTransform), so the
// REST validate endpoint can attach the message to that key.
type ConfigError struct {
	// Alias is the transform or predicate alias ("route"), empty when the
	// error does not concern a single alias or comes from NewTransform.
	Alias string
	// Key is the offending configuration key.
	Key string
	// Value is the offending value, if any.
	Value string
	// HasValue tells a missing value from an empty one.
	HasValue bool
	// Message says what is wrong, in Kafka's words where Kafka has them.
	Message string
}

// Error renders the error as Kafka's ConfigException does ("Invalid value
// x for configuration k: message"), naming the alias when known.
func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.Alias != "" {
		fmt.Fprintf(&b, "%s: ", e.Alias)
	}
	switch {
	case e.Key == "":
		b.WriteString(e.Message)
	case e.HasValue:
		fmt.Fprintf(&b, "Invalid value %s for configuration %s: %s", e.Value, e.Key, e.Message)
	default:
		fmt.Fprintf(&b, "Invalid configuration %s: %s", e.Key, e.Message)
	}
	return b.String()
}

// DataError is a record the transform cannot handle (Kafka's
// DataException): wrong value type, missing field, unparsable timestamp.
// It is distinct from configuration errors so that the runtime's error
// tolerance can skip or dead-letter the record.
type DataError struct {
	Message string
}

func (e *DataError) Error() string { return e.Message }

func dataErrorf(format string, args ...any) error {
	return &DataError{Message: fmt.Sprintf(format, args...)}
}

// Stage is one configured transform with its optional predicate, Kafka's
// TransformationStage.
type Stage struct {
	Alias     string
	Transform Transform
	// Predicate, when set, limits the transform to the records it
	// accepts (or, with Negate, to those it rejects).
	Predicate Predicate
	Negate    bool
}

// Apply runs the stage's transform on r if its predicate allows.
func (s Stage) Apply(r *data.Record) (*data.Record, error) {
	if s.Predicate != nil && s.Negate == s.Predicate.Test(r) {
		return r, nil
	}
	return s.Transform.Apply(r)
}

// Chain is a connector's configured transforms, applied in order.
type Chain []Stage

// Apply runs every stage in order. A nil result means a stage dropped the
// record; the later stages do not see it. Errors name the stage's alias.
func (c Chain) Apply(r *data.Record) (*data.Record, error) {
	for _, s := range c {
		if r == nil {
			return nil, nil
		}
		out, err := s.Apply(r)
		if err != nil {
			return nil, fmt.Errorf("transform %q: %w", s.Alias, err)
		}
		r = out
	}
	return r, nil
}

// The Connect connector configuration keys for transforms and predicates.
const (
	TransformsConfig = "transforms"
	PredicatesConfig = "predicates"
	typeConfig       = "type"
	predicateConfig  = "predicate"
	negateConfig     = "negate"
)

// FromConfig builds the transform chain a connector configuration
// describes: "transforms" lists aliases in order; "transforms.<a>.type"
// names each class and "transforms.<a>.<key>" configures it;
// "transforms.<a>.predicate" and ".negate" make it conditional on a
// predicate from "predicates" ("predicates.<p>.type", ...). Keys not under
// these prefixes are ignored. No transforms is an empty chain.
func FromConfig(props map[string]string) (Chain, error) {
	aliases, err := aliasList(props, TransformsConfig)
	if err != nil {
		return nil, err
	}
	predAliases, err := aliasList(props, PredicatesConfig)
	if err != nil {
		return nil, err
	}
	preds := make(map[string]Predicate, len(predAliases))
	for _, a := range predAliases {
		prefix := PredicatesConfig + "." + a + "."
		class, ok := props[prefix+typeConfig]
		if !ok || strings.TrimSpace(class) == "" {
			return nil, &ConfigError{Alias: a, Key: prefix + typeConfig, Message: "Missing required configuration \"" + prefix + typeConfig + "\" which has no default value."}
		}
		p, err := NewPredicate(strings.TrimSpace(class), withPrefix(props, prefix))
		if err != nil {
			return nil, qualify(err, a, prefix)
		}
		preds[a] = p
	}
	chain := make(Chain, 0, len(aliases))
	for _, a := range aliases {
		prefix := TransformsConfig + "." + a + "."
		class, ok := props[prefix+typeConfig]
		if !ok || strings.TrimSpace(class) == "" {
			return nil, &ConfigError{Alias: a, Key: prefix + typeConfig, Message: "Missing required configuration \"" + prefix + typeConfig + "\" which has no default value."}
		}
		sub := withPrefix(props, prefix)
		predAlias, hasPred := sub[predicateConfig]
		negateStr, hasNegate := sub[negateConfig]
		delete(sub, predicateConfig)
		delete(sub, negateConfig)
		t, err := NewTransform(strings.TrimSpace(class), sub)
		if err != nil {
			return nil, qualify(err, a, prefix)
		}
		stage := Stage{Alias: a, Transform: t}
		if hasNegate && !hasPred {
			return nil, &ConfigError{Alias: a, Key: prefix + negateConfig, Value: negateStr, HasValue: true,
				Message: "Config '" + prefix + negateConfig + "' was provided but there is no config '" + prefix + predicateConfig + "' defining a predicate to be negated."}
		}
		if hasPred {
			predAlias = strings.TrimSpace(predAlias)
			p, ok := preds[predAlias]
			if !ok {
				return nil, &ConfigError{Alias: a, Key: prefix + predicateConfig, Value: predAlias, HasValue: true,
					Message: "predicate \"" + predAlias + "\" is not defined in \"" + PredicatesConfig + "\""}
			}
			stage.Predicate = p
			if hasNegate {
				neg, err := parseBool(negateStr)
				if err != nil {
					return nil, &ConfigError{Alias: a, Key: prefix + negateConfig, Value: negateStr, HasValue: true, Message: err.Error()}
				}
				stage.Negate = neg
			}
		}
		chain = append(chain, stage)
	}
	return chain, nil
}

// aliasList reads a list of aliases, rejecting duplicates as Kafka does.
func aliasList(props map[string]string, key string) ([]string, error) {
	list := parseList(props[key])
	seen := make(map[string]bool, len(list))
	for _, a := range list {
		if a == "" {
			return nil, &ConfigError{Key: key, Value: props[key], HasValue: true, Message: "Empty alias provided."}
		}
		if seen[a] {
			return nil, &ConfigError{Key: key, Value: props[key], HasValue: true, Message: "Duplicate alias provided."}
		}
		seen[a] = true
	}
	return list, nil
}

// withPrefix returns the properties under prefix, with it removed.
func withPrefix(props map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range props {
		if rest, ok := strings.CutPrefix(k, prefix); ok && rest != typeConfig {
			out[rest] = v
		}
	}
	return out
}

// qualify turns a plugin's ConfigError into one naming the full key.
func qualify(err error, alias, prefix string) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		c := *ce
		c.Alias = alias
		if c.Key != "" {
			c.Key = prefix + c.Key
		}
		return &c
	}
	return err
}

const (
	transformsPkg = "org.apache.kafka.connect.transforms."
	predicatesPkg = "org.apache.kafka.connect.transforms.predicates."
)

type transformFactory func(cfg *config, s side) (Transform, error)

// transformClasses maps each transform class name to its factory and
// whether it has $Key/$Value variants. Built per call: nothing global.
func transformClasses() map[string]struct {
	make     transformFactory
	keyValue bool
} {
	type entry = struct {
		make     transformFactory
		keyValue bool
	}
	return map[string]entry{
		"Cast":               {newCast, true},
		"DropHeaders":        {newDropHeaders, false},
		"ExtractField":       {newExtractField, true},
		"Filter":             {newFilter, false},
		"Flatten":            {newFlatten, true},
		"HeaderFrom":         {newHeaderFrom, true},
		"HoistField":         {newHoistField, true},
		"InsertField":        {newInsertField, true},
		"InsertHeader":       {newInsertHeader, false},
		"MaskField":          {newMaskField, true},
		"RegexRouter":        {newRegexRouter, false},
		"ReplaceField":       {newReplaceField, true},
		"SetSchemaMetadata":  {newSetSchemaMetadata, true},
		"TimestampConverter": {newTimestampConverter, true},
		"TimestampRouter":    {newTimestampRouter, false},
		"ValueToKey":         {newValueToKey, false},
	}
}

func predicateClasses() map[string]func(cfg *config) (Predicate, error) {
	return map[string]func(cfg *config) (Predicate, error){
		"HasHeaderKey":      newHasHeaderKey,
		"RecordIsTombstone": newRecordIsTombstone,
		"TopicNameMatches":  newTopicNameMatches,
	}
}

// TransformClasses lists the transform class names NewTransform accepts,
// sorted, as the connector-plugins endpoint reports them.
func TransformClasses() []string {
	var out []string
	for name, e := range transformClasses() {
		if e.keyValue {
			out = append(out, transformsPkg+name+"$Key", transformsPkg+name+"$Value")
		} else {
			out = append(out, transformsPkg+name)
		}
	}
	sort.Strings(out)
	return out
}

// PredicateClasses lists the predicate class names NewPredicate accepts.
func PredicateClasses() []string {
	var out []string
	for name := range predicateClasses() {
		out = append(out, predicatesPkg+name)
	}
	sort.Strings(out)
	return out
}

// NewTransform builds one transform from its class name and its own
// settings (keys without the "transforms.<alias>." prefix).
func NewTransform(class string, props map[string]string) (Transform, error) {
	name := strings.TrimPrefix(class, transformsPkg)
	base, variant, hasVariant := strings.Cut(name, "$")
	e, ok := transformClasses()[base]
	if !ok || hasVariant != e.keyValue || (hasVariant && variant != "Key" && variant != "Value") {
		msg := "Class " + class + " could not be found."
		if ok && e.keyValue && !hasVariant {
			msg = "Class " + class + " is abstract; use " + class + "$Key or " + class + "$Value."
		}
		return nil, &ConfigError{Key: typeConfig, Value: class, HasValue: true, Message: msg}
	}
	s := valueSide
	if variant == "Key" {
		s = keySide
	}
	return e.make(&config{props: props}, s)
}

// NewPredicate builds one predicate from its class name and its own
// settings (keys without the "predicates.<alias>." prefix).
func NewPredicate(class string, props map[string]string) (Predicate, error) {
	f, ok := predicateClasses()[strings.TrimPrefix(class, predicatesPkg)]
	if !ok {
		return nil, &ConfigError{Key: typeConfig, Value: class, HasValue: true, Message: "Class " + class + " could not be found."}
	}
	return f(&config{props: props})
}
