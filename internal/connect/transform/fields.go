package transform

import (
	"maps"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// insertionSpec is an InsertField field name with its optionality: a "!"
// suffix makes the field required, "?" (or nothing) optional.
type insertionSpec struct {
	name     string
	optional bool
}

func parseInsertionSpec(c *config, key string) *insertionSpec {
	v, ok := c.optStr(key)
	if !ok {
		return nil
	}
	if n, ok := strings.CutSuffix(v, "?"); ok {
		return &insertionSpec{n, true}
	}
	if n, ok := strings.CutSuffix(v, "!"); ok {
		return &insertionSpec{n, false}
	}
	return &insertionSpec{v, true}
}

// insertField is InsertField$Key/$Value: adds record metadata (topic,
// shard, sequence number, timestamp) and a static string as fields.
type insertField struct {
	side                                 side
	topic, partition, offset, ts, static *insertionSpec
	staticValue                          string
	replaceNullWithDefault               bool
}

const insertPurpose = "field insertion"

func newInsertField(c *config, s side) (Transform, error) {
	t := &insertField{side: s,
		topic:     parseInsertionSpec(c, "topic.field"),
		partition: parseInsertionSpec(c, "partition.field"),
		offset:    parseInsertionSpec(c, "offset.field"),
		ts:        parseInsertionSpec(c, "timestamp.field"),
		static:    parseInsertionSpec(c, "static.field"),
	}
	var err error
	if t.replaceNullWithDefault, err = c.replaceNullWithDefault(); err != nil {
		return nil, err
	}
	if t.topic == nil && t.partition == nil && t.offset == nil && t.ts == nil && t.static == nil {
		return nil, &ConfigError{Message: "No field insertion configured"}
	}
	sv, ok := c.optStr("static.value")
	if t.static != nil && !ok {
		return nil, &ConfigError{Key: "static.value", Message: "No value specified for static field: " + t.static.name}
	}
	t.staticValue = sv
	return t, nil
}

// insertions lists the fields to insert with their values, in Kafka's
// order. Schemaless timestamps are epoch milliseconds as in Kafka.
func (t *insertField) insertions(r *data.Record, schemaless bool) ([]struct {
	spec *insertionSpec
	val  any
}, error) {
	type ins = struct {
		spec *insertionSpec
		val  any
	}
	var out []ins
	if t.topic != nil {
		out = append(out, ins{t.topic, r.Topic})
	}
	if t.partition != nil && r.Shard != "" {
		out = append(out, ins{t.partition, r.Shard})
	}
	if t.offset != nil {
		if r.SequenceNumber == "" {
			return nil, dataErrorf("Only SinkRecord supported for [%s], found: %s", insertPurpose, "org.apache.kafka.connect.source.SourceRecord")
		}
		out = append(out, ins{t.offset, r.SequenceNumber})
	}
	if t.ts != nil && !r.Timestamp.IsZero() {
		if schemaless {
			out = append(out, ins{t.ts, r.Timestamp.UnixMilli()})
		} else {
			out = append(out, ins{t.ts, time.UnixMilli(r.Timestamp.UnixMilli()).UTC()})
		}
	}
	if t.static != nil {
		out = append(out, ins{t.static, t.staticValue})
	}
	return out, nil
}

func (t *insertField) Apply(r *data.Record) (*data.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		// Tombstones pass through untouched, as in Kafka.
		return r, nil
	}
	if schema == nil {
		m, err := requireMap(v, insertPurpose)
		if err != nil {
			return nil, err
		}
		ins, err := t.insertions(r, true)
		if err != nil {
			return nil, err
		}
		out := maps.Clone(m)
		for _, i := range ins {
			out[i.spec.name] = i.val
		}
		return t.side.with(r, nil, out), nil
	}
	st, err := requireStruct(v, insertPurpose)
	if err != nil {
		return nil, err
	}
	ins, err := t.insertions(r, false)
	if err != nil {
		return nil, err
	}
	b := newStructBuilder(st.Schema)
	for _, f := range st.Schema.Fields {
		b.field(f.Name, f.Schema)
	}
	str := func(s *insertionSpec) *data.Schema {
		return &data.Schema{Type: data.TypeString, Optional: s.optional}
	}
	if t.topic != nil {
		b.field(t.topic.name, str(t.topic))
	}
	if t.partition != nil {
		b.field(t.partition.name, str(t.partition))
	}
	if t.offset != nil {
		b.field(t.offset.name, str(t.offset))
	}
	if t.ts != nil {
		ts := data.TimestampSchema()
		ts.Optional = t.ts.optional
		b.field(t.ts.name, ts)
	}
	if t.static != nil {
		b.field(t.static.name, str(t.static))
	}
	ns, err := b.build()
	if err != nil {
		return nil, err
	}
	out := data.NewStruct(ns)
	for i := range st.Schema.Fields {
		f := &st.Schema.Fields[i]
		if err := put(out, f.Name, fieldValue(st, f, t.replaceNullWithDefault)); err != nil {
			return nil, err
		}
	}
	for _, i := range ins {
		if err := put(out, i.spec.name, i.val); err != nil {
			return nil, err
		}
	}
	return t.side.with(r, ns, out), nil
}

// replaceField is ReplaceField$Key/$Value: drops, keeps and renames
// fields.
type replaceField struct {
	side                   side
	exclude, include       map[string]bool
	renames, reverse       map[string]string
	replaceNullWithDefault bool
}

func newReplaceField(c *config, s side) (Transform, error) {
	t := &replaceField{side: s, exclude: map[string]bool{}, include: map[string]bool{}, renames: map[string]string{}, reverse: map[string]string{}}
	// blacklist and whitelist are the names Kafka used before 2.7; they
	// still work there, so they work here.
	for _, k := range []string{"exclude", "blacklist"} {
		for _, f := range c.list(k) {
			t.exclude[f] = true
		}
	}
	for _, k := range []string{"include", "whitelist"} {
		for _, f := range c.list(k) {
			t.include[f] = true
		}
	}
	for _, m := range c.list("renames") {
		parts := strings.Split(m, ":")
		if len(parts) != 2 {
			return nil, invalid("renames", c.props["renames"], "Invalid rename mapping: "+m)
		}
		t.renames[parts[0]] = parts[1]
		t.reverse[parts[1]] = parts[0]
	}
	var err error
	if t.replaceNullWithDefault, err = c.replaceNullWithDefault(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *replaceField) keep(name string) bool {
	return !t.exclude[name] && (len(t.include) == 0 || t.include[name])
}

func (t *replaceField) renamed(name string) string {
	if n, ok := t.renames[name]; ok {
		return n
	}
	return name
}

func (t *replaceField) Apply(r *data.Record) (*data.Record, error) {
	const purpose = "field replacement"
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	if schema == nil {
		m, err := requireMap(v, purpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			if t.keep(k) {
				out[t.renamed(k)] = e
			}
		}
		return t.side.with(r, nil, out), nil
	}
	st, err := requireStruct(v, purpose)
	if err != nil {
		return nil, err
	}
	b := newStructBuilder(st.Schema)
	for _, f := range st.Schema.Fields {
		if t.keep(f.Name) {
			b.field(t.renamed(f.Name), f.Schema)
		}
	}
	ns, err := b.build()
	if err != nil {
		return nil, err
	}
	out := data.NewStruct(ns)
	for _, f := range ns.Fields {
		orig := f.Name
		if o, ok := t.reverse[f.Name]; ok {
			orig = o
		}
		if err := put(out, f.Name, fieldByName(st, orig, t.replaceNullWithDefault)); err != nil {
			return nil, err
		}
	}
	return t.side.with(r, ns, out), nil
}

// maskField is MaskField$Key/$Value: replaces field values with the zero
// value of their type, or with a configured replacement.
type maskField struct {
	side                   side
	fields                 map[string]bool
	replacement            *string
	replaceNullWithDefault bool
}

const maskPurpose = "mask fields"

func newMaskField(c *config, s side) (Transform, error) {
	fields, err := c.nonEmptyList("fields")
	if err != nil {
		return nil, err
	}
	t := &maskField{side: s, fields: map[string]bool{}}
	for _, f := range fields {
		t.fields[f] = true
	}
	if rep, ok := c.optStr("replacement"); ok {
		if rep == "" {
			return nil, invalid("replacement", rep, "String must be non-empty")
		}
		t.replacement = &rep
	}
	if t.replaceNullWithDefault, err = c.replaceNullWithDefault(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *maskField) Apply(r *data.Record) (*data.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		m, err := requireMap(v, maskPurpose)
		if err != nil {
			return nil, err
		}
		out := maps.Clone(m)
		for f := range t.fields {
			mv, err := t.masked(m[f])
			if err != nil {
				return nil, err
			}
			out[f] = mv
		}
		return t.side.with(r, nil, out), nil
	}
	st, err := requireStruct(v, maskPurpose)
	if err != nil {
		return nil, err
	}
	out := data.NewStruct(st.Schema)
	for i := range st.Schema.Fields {
		f := &st.Schema.Fields[i]
		fv := fieldValue(st, f, t.replaceNullWithDefault)
		if t.fields[f.Name] {
			if fv, err = t.masked(fv); err != nil {
				return nil, err
			}
		}
		if err := put(out, f.Name, fv); err != nil {
			return nil, err
		}
	}
	return t.side.with(r, st.Schema, out), nil
}

func (t *maskField) masked(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.replacement == nil {
		return maskZero(v)
	}
	return maskReplace(v, *t.replacement)
}

// maskZero is the "null value" of v's type that Kafka masks with.
func maskZero(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return false, nil
	case int8:
		return int8(0), nil
	case int16:
		return int16(0), nil
	case int32:
		return int32(0), nil
	case int64:
		return int64(0), nil
	case float32:
		return float32(0), nil
	case float64:
		return float64(0), nil
	case string:
		return "", nil
	case data.Decimal:
		// Kafka uses BigDecimal.ZERO; keeping the scale keeps the value
		// valid for its Decimal schema.
		return data.Decimal{Unscaled: new(big.Int), Scale: x.Scale}, nil
	case time.Time:
		return time.UnixMilli(0).UTC(), nil
	case []any:
		return []any{}, nil
	case map[string]any:
		return map[string]any{}, nil
	case map[any]any:
		return map[any]any{}, nil
	}
	return nil, dataErrorf("Cannot mask value of type: class %s", javaClass(v))
}

// maskReplace converts the replacement string to v's type; only numbers
// and strings can take a custom replacement.
func maskReplace(v any, rep string) (any, error) {
	numErr := func() error {
		return dataErrorf("Unable to convert %s (class java.lang.String) to number", rep)
	}
	parseI := func(bits int) (int64, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(rep), 10, bits)
		if err != nil {
			// Kafka's Values.convertTo* also accepts a decimal string and
			// truncates it.
			f, ferr := strconv.ParseFloat(strings.TrimSpace(rep), 64)
			if ferr != nil {
				return 0, numErr()
			}
			return int64(f), nil
		}
		return n, nil
	}
	switch x := v.(type) {
	case string:
		return rep, nil
	case int8:
		n, err := parseI(8)
		return int8(n), err
	case int16:
		n, err := parseI(16)
		return int16(n), err
	case int32:
		n, err := parseI(32)
		return int32(n), err
	case int64:
		return parseI(64)
	case float32:
		f, err := strconv.ParseFloat(strings.TrimSpace(rep), 32)
		if err != nil {
			return nil, numErr()
		}
		return float32(f), nil
	case float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(rep), 64)
		if err != nil {
			return nil, numErr()
		}
		return f, nil
	case data.Decimal:
		rat, ok := new(big.Rat).SetString(rep)
		if !ok {
			return nil, numErr()
		}
		scaled := rat.Mul(rat, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale)), nil)))
		if !scaled.IsInt() {
			return nil, dataErrorf("Unable to convert %s to a decimal of scale %d", rep, x.Scale)
		}
		return data.Decimal{Unscaled: new(big.Int).Set(scaled.Num()), Scale: x.Scale}, nil
	}
	return nil, dataErrorf("Cannot mask value of type class %s with custom replacement.", javaClass(v))
}

// valueToKey is ValueToKey: the record key becomes a struct (or map) of
// the named value fields.
type valueToKey struct {
	fields                 []string
	replaceNullWithDefault bool
}

func newValueToKey(c *config, _ side) (Transform, error) {
	fields, err := c.nonEmptyList("fields")
	if err != nil {
		return nil, err
	}
	t := &valueToKey{fields: fields}
	if t.replaceNullWithDefault, err = c.replaceNullWithDefault(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *valueToKey) Apply(r *data.Record) (*data.Record, error) {
	const purpose = "copying fields from value to key"
	c := r.Copy()
	if r.ValueSchema == nil {
		m, err := requireMap(r.Value, purpose)
		if err != nil {
			return nil, err
		}
		key := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			key[f] = m[f]
		}
		c.KeySchema, c.Key = nil, key
		return c, nil
	}
	st, err := requireStruct(r.Value, purpose)
	if err != nil {
		return nil, err
	}
	b := newStructBuilder(nil)
	for _, name := range t.fields {
		f := st.Schema.Field(name)
		if f == nil {
			return nil, dataErrorf("Field does not exist: %s", name)
		}
		b.field(name, f.Schema)
	}
	ks, err := b.build()
	if err != nil {
		return nil, err
	}
	key := data.NewStruct(ks)
	for _, name := range t.fields {
		if err := put(key, name, fieldByName(st, name, t.replaceNullWithDefault)); err != nil {
			return nil, err
		}
	}
	c.KeySchema, c.Key = ks, key
	return c, nil
}

// hoistField is HoistField$Key/$Value: wraps the key or value in a
// single-field struct (or map).
type hoistField struct {
	side  side
	field string
}

func newHoistField(c *config, s side) (Transform, error) {
	f, err := c.required("field")
	if err != nil {
		return nil, err
	}
	return &hoistField{side: s, field: f}, nil
}

func (t *hoistField) Apply(r *data.Record) (*data.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		return t.side.with(r, nil, map[string]any{t.field: v}), nil
	}
	ns := &data.Schema{Type: data.TypeStruct, Fields: []data.Field{{Name: t.field, Index: 0, Schema: schema}}}
	out := data.NewStruct(ns)
	if err := put(out, t.field, v); err != nil {
		return nil, err
	}
	return t.side.with(r, ns, out), nil
}

// extractField is ExtractField$Key/$Value: replaces the key or value with
// one of its fields. field.syntax.version V2 allows dotted paths into
// nested structs and maps.
type extractField struct {
	side                   side
	original               string
	path                   []string
	replaceNullWithDefault bool
}

func newExtractField(c *config, s side) (Transform, error) {
	f, err := c.required("field")
	if err != nil {
		return nil, err
	}
	t := &extractField{side: s, original: f}
	path, err := fieldPath(c, f)
	if err != nil {
		return nil, err
	}
	t.path = path
	if t.replaceNullWithDefault, err = c.replaceNullWithDefault(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *extractField) Apply(r *data.Record) (*data.Record, error) {
	const purpose = "field extraction"
	schema, v := t.side.get(r)
	if schema == nil {
		if v == nil {
			return t.side.with(r, nil, nil), nil
		}
		m, err := requireMap(v, purpose)
		if err != nil {
			return nil, err
		}
		for _, step := range t.path[:len(t.path)-1] {
			if m[step] == nil {
				return t.side.with(r, nil, nil), nil
			}
			if m, err = requireMap(m[step], "nested field access"); err != nil {
				return nil, err
			}
		}
		return t.side.with(r, nil, m[t.path[len(t.path)-1]]), nil
	}
	st, err := requireStructOrNull(v, purpose)
	if err != nil {
		return nil, err
	}
	// Find the field's schema first: an unknown field fails even for a
	// null value, as in Kafka.
	cur := schema
	var field *data.Field
	for i, step := range t.path {
		if cur == nil || cur.Type != data.TypeStruct {
			field = nil
			break
		}
		field = cur.Field(step)
		if field == nil {
			break
		}
		if i < len(t.path)-1 {
			cur = field.Schema
		}
	}
	if field == nil {
		return nil, dataErrorf("Unknown field: %s", t.original)
	}
	var out any
	for i, step := range t.path {
		if st == nil {
			out = nil
			break
		}
		f := st.Schema.Field(step)
		if f == nil {
			out = nil
			break
		}
		fv := fieldValue(st, f, t.replaceNullWithDefault)
		if i == len(t.path)-1 {
			out = fv
			break
		}
		if st, err = requireStructOrNull(fv, "nested field access"); err != nil {
			return nil, err
		}
	}
	return t.side.with(r, field.Schema, out), nil
}

// fieldPath splits a field reference by field.syntax.version: V1 (the
// default) takes the name as is; V2 splits on dots, with backticks
// quoting names that contain dots (and \` a literal backtick).
func fieldPath(c *config, name string) ([]string, error) {
	ver := strings.ToUpper(c.str("field.syntax.version", "V1"))
	switch ver {
	case "V1":
		return []string{name}, nil
	case "V2":
	default:
		return nil, invalid("field.syntax.version", c.props["field.syntax.version"], "String must be one of (case insensitive): V1, V2")
	}
	var steps []string
	i := 0
	for i < len(name) {
		if name[i] != '`' {
			j := strings.IndexByte(name[i:], '.')
			if j < 0 {
				steps = append(steps, name[i:])
				break
			}
			steps = append(steps, name[i:i+j])
			i += j + 1
			continue
		}
		// Backtick-quoted step: ends at a backtick followed by a dot or
		// the end; \` is a literal backtick.
		open := i
		i++
		var sb strings.Builder
		closed := false
		for i < len(name) {
			ch := name[i]
			if ch == '\\' && i+1 < len(name) && name[i+1] == '`' {
				sb.WriteByte('`')
				i += 2
				continue
			}
			if ch == '`' && (i == len(name)-1 || name[i+1] == '.') {
				closed = true
				i += 2
				break
			}
			sb.WriteByte(ch)
			i++
		}
		if !closed {
			return nil, invalid("field", name, "Incomplete backtick pair in path: ["+name+"], consider adding a backslash before backtick at position "+strconv.Itoa(open)+" to escape it")
		}
		steps = append(steps, sb.String())
	}
	if name == "" || name[len(name)-1] == '.' {
		steps = append(steps, "")
	}
	return steps, nil
}
