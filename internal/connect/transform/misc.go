package transform

import (
	"fmt"
	"maps"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// regexRouter is RegexRouter: when the whole topic (stream name) matches
// the regex, the topic becomes the replacement, with $n and ${name}
// group references as in Java's Matcher.replaceFirst.
type regexRouter struct {
	re          *regexp.Regexp
	replacement []replPart
}

// replPart is a literal or a group reference of a Java replacement.
type replPart struct {
	lit   string
	group int
	name  string
}

func newRegexRouter(c *config, _ side) (Transform, error) {
	pattern, err := c.required("regex")
	if err != nil {
		return nil, err
	}
	re, err := compileJavaRegex("regex", pattern)
	if err != nil {
		return nil, err
	}
	rep, err := c.required("replacement")
	if err != nil {
		return nil, err
	}
	parts, err := parseJavaReplacement(rep, re)
	if err != nil {
		// Java fails here on the first matching record; failing at
		// configuration time reports the same mistake earlier.
		return nil, invalid("replacement", rep, err.Error())
	}
	return &regexRouter{re: re, replacement: parts}, nil
}

// parseJavaReplacement parses Java's replacement syntax: \x is a literal
// x, ${name} a named group, and $ followed by digits the longest group
// number that exists (so with 3 groups "$12" is group 1 then "2").
func parseJavaReplacement(rep string, re *regexp.Regexp) ([]replPart, error) {
	var parts []replPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, replPart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	groups := re.NumSubexp()
	for i := 0; i < len(rep); i++ {
		switch c := rep[i]; c {
		case '\\':
			i++
			if i >= len(rep) {
				return nil, fmt.Errorf("character to be escaped is missing")
			}
			lit.WriteByte(rep[i])
		case '$':
			i++
			if i >= len(rep) {
				return nil, fmt.Errorf("Illegal group reference: group index is missing")
			}
			if rep[i] == '{' {
				end := strings.IndexByte(rep[i:], '}')
				if end < 0 {
					return nil, fmt.Errorf("named capturing group is missing trailing '}'")
				}
				name := rep[i+1 : i+end]
				if re.SubexpIndex(name) < 0 {
					return nil, fmt.Errorf("No group with name {%s}", name)
				}
				flush()
				parts = append(parts, replPart{group: -1, name: name})
				i += end
				continue
			}
			if !isDigit(rep[i]) {
				return nil, fmt.Errorf("Illegal group reference")
			}
			n := int(rep[i] - '0')
			if n > groups {
				return nil, fmt.Errorf("No group %d", n)
			}
			for i+1 < len(rep) && isDigit(rep[i+1]) {
				next := n*10 + int(rep[i+1]-'0')
				if next > groups {
					break
				}
				n = next
				i++
			}
			flush()
			parts = append(parts, replPart{group: n})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return parts, nil
}

func (t *regexRouter) Apply(r *data.Record) (*data.Record, error) {
	m := t.re.FindStringSubmatchIndex(r.Topic)
	if m == nil {
		return r, nil
	}
	var b strings.Builder
	for _, p := range t.replacement {
		g := p.group
		if p.name != "" {
			g = t.re.SubexpIndex(p.name)
		}
		if g < 0 {
			b.WriteString(p.lit)
			continue
		}
		if m[2*g] >= 0 {
			b.WriteString(r.Topic[m[2*g]:m[2*g+1]])
		}
	}
	c := r.Copy()
	c.Topic = b.String()
	return c, nil
}

// flatten is Flatten$Key/$Value: nested structs (or maps) become
// top-level fields named by joining the path with the delimiter.
type flatten struct {
	side      side
	delimiter string
}

func newFlatten(c *config, s side) (Transform, error) {
	d, ok := c.lookup("delimiter")
	if !ok {
		d = "."
	}
	return &flatten{side: s, delimiter: d}, nil
}

func (t *flatten) name(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + t.delimiter + field
}

func (t *flatten) Apply(r *data.Record) (*data.Record, error) {
	const purpose = "flattening"
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	if schema == nil {
		m, err := requireMap(v, purpose)
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		if err := t.flattenMap(m, "", out); err != nil {
			return nil, err
		}
		return t.side.with(r, nil, out), nil
	}
	st, err := requireStructOrNull(v, purpose)
	if err != nil {
		return nil, err
	}
	b := newStructBuilder(schema)
	def, _ := schema.Default.(*data.Struct)
	if err := t.flattenSchema(schema, "", b, schema.Optional, def); err != nil {
		return nil, err
	}
	ns, err := b.build()
	if err != nil {
		return nil, err
	}
	out := data.NewStruct(ns)
	if err := t.flattenStruct(st, "", out); err != nil {
		return nil, err
	}
	return t.side.with(r, ns, out), nil
}

func (t *flatten) flattenMap(m map[string]any, prefix string, out map[string]any) error {
	for k, v := range m {
		name := t.name(prefix, k)
		if v == nil {
			out[name] = nil
			continue
		}
		switch schemaTypeOf(v) {
		case data.TypeMap:
			sub, err := requireMap(v, "flattening")
			if err != nil {
				return err
			}
			if err := t.flattenMap(sub, name, out); err != nil {
				return err
			}
		case "":
			return dataErrorf("Flatten transformation was passed a value of type class %s which is not supported by Connect's data API", javaClass(v))
		case data.TypeStruct:
			return dataErrorf("Flatten transformation does not support class %s for record without schemas (for field %s).", javaClass(v), name)
		default:
			out[name] = v
		}
	}
	return nil
}

// flattenSchema adds the flattened fields of s to b. A field is optional
// if it or any ancestor is, and takes its default from itself or from an
// ancestor's default struct, as in Kafka.
func (t *flatten) flattenSchema(s *data.Schema, prefix string, b *structBuilder, optional bool, parentDefault *data.Struct) error {
	for i := range s.Fields {
		f := &s.Fields[i]
		name := t.name(prefix, f.Name)
		opt := optional || f.Schema.Optional
		def := f.Schema.Default
		if def == nil && parentDefault != nil {
			def = fieldValue(parentDefault, f, true)
		}
		switch f.Schema.Type {
		case data.TypeStruct:
			sd, _ := def.(*data.Struct)
			if err := t.flattenSchema(f.Schema, name, b, opt, sd); err != nil {
				return err
			}
		case data.TypeMap:
			return dataErrorf("Flatten transformation does not support %s for record with schemas (for field %s).", f.Schema.Type, name)
		default:
			fs := copyBasics(f.Schema, f.Schema.Type)
			fs.Optional = opt
			fs.Default = def
			b.field(name, fs)
		}
	}
	return nil
}

func (t *flatten) flattenStruct(st *data.Struct, prefix string, out *data.Struct) error {
	if st == nil {
		return nil
	}
	for i := range st.Schema.Fields {
		f := &st.Schema.Fields[i]
		name := t.name(prefix, f.Name)
		fv := fieldValue(st, f, true)
		if f.Schema.Type == data.TypeStruct {
			sub, _ := fv.(*data.Struct)
			if err := t.flattenStruct(sub, name, out); err != nil {
				return err
			}
			continue
		}
		if err := put(out, name, fv); err != nil {
			return err
		}
	}
	return nil
}

// filter is Filter: drops every record it sees. It is meant to be used
// with a predicate, so that only matching records are dropped.
type filter struct{}

func newFilter(*config, side) (Transform, error) { return filter{}, nil }

func (filter) Apply(*data.Record) (*data.Record, error) { return nil, nil }

// headerFrom is HeaderFrom$Key/$Value: copies or moves fields into
// headers.
type headerFrom struct {
	side                   side
	fields, headers        []string
	move                   bool
	replaceNullWithDefault bool
}

func newHeaderFrom(c *config, s side) (Transform, error) {
	fields, err := c.nonEmptyList("fields")
	if err != nil {
		return nil, err
	}
	headers, err := c.nonEmptyList("headers")
	if err != nil {
		return nil, err
	}
	if len(fields) != len(headers) {
		return nil, &ConfigError{Key: "headers", Value: c.props["headers"], HasValue: true, Message: "'fields' config must have the same number of elements as 'headers' config."}
	}
	op, err := c.oneOf("operation", "", "move", "copy")
	if err != nil {
		return nil, err
	}
	t := &headerFrom{side: s, fields: fields, headers: headers, move: op == "move"}
	if t.replaceNullWithDefault, err = c.replaceNullWithDefault(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *headerFrom) Apply(r *data.Record) (*data.Record, error) {
	purpose := "header copy"
	if t.move {
		purpose = "header move"
	}
	schema, v := t.side.get(r)
	if schema == nil {
		m, err := requireMap(v, purpose)
		if err != nil {
			return nil, err
		}
		out := maps.Clone(m)
		c := r.Copy()
		for i, f := range t.fields {
			if t.move {
				delete(out, f)
			}
			c.Headers = append(c.Headers, data.Header{Key: t.headers[i], Value: m[f]})
		}
		c = t.side.with(c, nil, out)
		return c, nil
	}
	st, err := requireStruct(v, purpose)
	if err != nil {
		return nil, err
	}
	c := r.Copy()
	for i, name := range t.fields {
		f := st.Schema.Field(name)
		if f == nil {
			return nil, dataErrorf("Field does not exist: %s", name)
		}
		c.Headers = append(c.Headers, data.Header{Key: t.headers[i], Schema: f.Schema, Value: fieldValue(st, f, t.replaceNullWithDefault)})
	}
	if !t.move {
		return c, nil
	}
	b := newStructBuilder(schema)
	for _, f := range schema.Fields {
		if !slices.Contains(t.fields, f.Name) {
			b.field(f.Name, f.Schema)
		}
	}
	ns, err := b.build()
	if err != nil {
		return nil, err
	}
	out := data.NewStruct(ns)
	for _, f := range ns.Fields {
		if err := put(out, f.Name, fieldByName(st, f.Name, t.replaceNullWithDefault)); err != nil {
			return nil, err
		}
	}
	return t.side.with(c, ns, out), nil
}

// insertHeader is InsertHeader: adds a header with a literal value,
// typed as Kafka's Values.parseString types it.
type insertHeader struct {
	header string
	schema *data.Schema
	value  any
}

func newInsertHeader(c *config, _ side) (Transform, error) {
	h, err := c.required("header")
	if err != nil {
		return nil, err
	}
	lit, ok := c.props["value.literal"]
	if !ok {
		return nil, missing("value.literal")
	}
	s, v := parseLiteral(lit)
	return &insertHeader{header: h, schema: s, value: v}, nil
}

func (t *insertHeader) Apply(r *data.Record) (*data.Record, error) {
	c := r.Copy()
	c.Headers = append(c.Headers, data.Header{Key: t.header, Schema: t.schema, Value: t.value})
	return c, nil
}

// parseLiteral infers a schema and value from a string as Kafka's
// Values.parseString does for scalars: null, booleans, the narrowest
// integer type, FLOAT32 (or FLOAT64, or Decimal) for fractions, ISO-8601
// dates, times and timestamps; anything else is a STRING. Arrays and maps
// ("[1,2]", "{a:1}") are kept as strings.
func parseLiteral(s string) (*data.Schema, any) {
	if s == "" {
		return data.Primitive(data.TypeString), s
	}
	tok := strings.TrimSpace(s)
	switch tok {
	case "null":
		return nil, nil
	case "true":
		return data.Primitive(data.TypeBoolean), true
	case "false":
		return data.Primitive(data.TypeBoolean), false
	}
	if tok == "" {
		return data.Primitive(data.TypeString), s
	}
	if c := tok[0]; isDigit(c) {
		for _, f := range []struct {
			layout string
			schema *data.Schema
		}{
			{"2006-01-02T15:04:05.000Z", data.TimestampSchema()},
			{"2006-01-02", data.DateSchema()},
			{"15:04:05.000Z", data.TimeSchema()},
		} {
			if len(tok) == len(f.layout) {
				if t, err := time.Parse(f.layout, tok); err == nil {
					return f.schema, t.UTC()
				}
			}
		}
	}
	if c := tok[0]; isDigit(c) || c == '+' || c == '-' {
		if s, v, ok := parseNumber(tok); ok {
			return s, v
		}
	}
	return data.Primitive(data.TypeString), tok
}

func parseNumber(tok string) (*data.Schema, any, bool) {
	r, ok := new(big.Rat).SetString(tok)
	if !ok || strings.ContainsAny(tok, "/") {
		return nil, nil, false
	}
	if r.IsInt() && r.Num().IsInt64() {
		n := r.Num().Int64()
		switch {
		case n >= math.MinInt8 && n <= math.MaxInt8:
			return data.Primitive(data.TypeInt8), int8(n), true
		case n >= math.MinInt16 && n <= math.MaxInt16:
			return data.Primitive(data.TypeInt16), int16(n), true
		case n >= math.MinInt32 && n <= math.MaxInt32:
			return data.Primitive(data.TypeInt32), int32(n), true
		}
		return data.Primitive(data.TypeInt64), n, true
	}
	scale := 0
	if i := strings.IndexAny(tok, "eE"); i < 0 {
		if j := strings.IndexByte(tok, '.'); j >= 0 {
			scale = len(tok) - j - 1
		}
	} else {
		scale = 1 // Exponent form: treat as fractional.
	}
	if scale != 0 {
		if f, err := strconv.ParseFloat(tok, 32); err == nil {
			return data.Primitive(data.TypeFloat32), float32(f), true
		}
		if f, err := strconv.ParseFloat(tok, 64); err == nil {
			return data.Primitive(data.TypeFloat64), f, true
		}
	}
	// Integers beyond int64: a Decimal of scale 0.
	if r.IsInt() {
		return data.DecimalSchema(0), data.Decimal{Unscaled: new(big.Int).Set(r.Num()), Scale: 0}, true
	}
	return nil, nil, false
}

// dropHeaders is DropHeaders: removes every header with one of the names.
type dropHeaders struct {
	names map[string]bool
}

func newDropHeaders(c *config, _ side) (Transform, error) {
	names, err := c.nonEmptyList("headers")
	if err != nil {
		return nil, err
	}
	t := &dropHeaders{names: map[string]bool{}}
	for _, n := range names {
		t.names[n] = true
	}
	return t, nil
}

func (t *dropHeaders) Apply(r *data.Record) (*data.Record, error) {
	c := r.Copy()
	c.Headers = slices.DeleteFunc(c.Headers, func(h data.Header) bool { return t.names[h.Key] })
	return c, nil
}

// setSchemaMetadata is SetSchemaMetadata$Key/$Value: renames and/or
// re-versions the key or value schema, e.g. to match a sink's expected
// record name.
type setSchemaMetadata struct {
	side                   side
	name                   *string
	version                *int
	replaceNullWithDefault bool
}

func newSetSchemaMetadata(c *config, s side) (Transform, error) {
	t := &setSchemaMetadata{side: s}
	if n, ok := c.optStr("schema.name"); ok {
		t.name = &n
	}
	v, ok, err := c.optInt("schema.version")
	if err != nil {
		return nil, err
	}
	if ok {
		t.version = &v
	}
	if t.name == nil && t.version == nil {
		return nil, &ConfigError{Message: "Neither schema name nor version configured"}
	}
	if t.replaceNullWithDefault, err = c.replaceNullWithDefault(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *setSchemaMetadata) Apply(r *data.Record) (*data.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil && v == nil {
		return r, nil
	}
	if schema == nil {
		return nil, dataErrorf("Schema required for [updating schema metadata]")
	}
	ns := *schema
	if t.name != nil {
		ns.Name = *t.name
	}
	if t.version != nil {
		ns.Version = *t.version
	}
	st, ok := v.(*data.Struct)
	if !ok || st == nil {
		return t.side.with(r, &ns, v), nil
	}
	// The struct must point at the new schema, or it would still report
	// the old name.
	out := data.NewStruct(&ns)
	for i := range ns.Fields {
		f := &ns.Fields[i]
		if err := put(out, f.Name, fieldByName(st, f.Name, t.replaceNullWithDefault)); err != nil {
			return nil, err
		}
	}
	return t.side.with(r, &ns, out), nil
}

// topicNameMatches is the TopicNameMatches predicate: the whole topic
// (stream name) matches a Java regular expression.
type topicNameMatches struct{ re *regexp.Regexp }

func newTopicNameMatches(c *config) (Predicate, error) {
	p, err := c.nonEmpty("pattern")
	if err != nil {
		return nil, err
	}
	re, err := compileJavaRegex("pattern", p)
	if err != nil {
		return nil, invalid("pattern", p, "entry must be a Java-compatible regular expression: "+err.(*ConfigError).Message)
	}
	return topicNameMatches{re}, nil
}

func (p topicNameMatches) Test(r *data.Record) bool { return p.re.MatchString(r.Topic) }

// hasHeaderKey is the HasHeaderKey predicate: the record has at least one
// header with the name.
type hasHeaderKey struct{ name string }

func newHasHeaderKey(c *config) (Predicate, error) {
	n, err := c.nonEmpty("name")
	if err != nil {
		return nil, err
	}
	return hasHeaderKey{n}, nil
}

func (p hasHeaderKey) Test(r *data.Record) bool {
	return slices.ContainsFunc(r.Headers, func(h data.Header) bool { return h.Key == p.name })
}

// recordIsTombstone is the RecordIsTombstone predicate: the value is
// null.
type recordIsTombstone struct{}

func newRecordIsTombstone(*config) (Predicate, error) { return recordIsTombstone{}, nil }

func (recordIsTombstone) Test(r *data.Record) bool { return r.Value == nil }
