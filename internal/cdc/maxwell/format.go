package maxwell

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
)

// OutputConfig is Maxwell's output_* settings: which optional fields a
// row carries and how values are written. The zero value is not
// Maxwell's default; DefaultOutputConfig is.
type OutputConfig struct {
	BinlogPosition    bool // output_binlog_position: "position":"file:pos"
	GTIDPosition      bool // output_gtid_position: "gtid" (needs gtid_mode)
	CommitInfo        bool // output_commit_info: "xid" and "commit"
	XOffset           bool // output_xoffset: "xoffset", the row's index in its transaction
	Nulls             bool // output_nulls: keep null columns in data/old
	ServerID          bool // output_server_id
	ThreadID          bool // output_thread_id
	SchemaID          bool // output_schema_id: accepted, never written (no schema store)
	RowQuery          bool // output_row_query: "query", the statement
	RowQueryMaxLength int  // row_query_max_length: truncate "query" (0: no limit)
	PrimaryKeys       bool // output_primary_keys: "primary_key" values
	PrimaryKeyColumns bool // output_primary_key_columns: "primary_key_columns"
	PushTimestamp     bool // output_push_timestamp: "push_ts", when the row was sent
	DDL               bool // output_ddl: emit schema changes
	NullZeroDates     bool // output_null_zerodates: zero dates as null
	// CamelCase is output_naming_strategy=underscore_to_camelcase.
	CamelCase bool
	// ExcludeColumns (exclude_columns) drops matching columns from data
	// and old.
	ExcludeColumns []*regexp.Regexp
}

// DefaultOutputConfig returns Maxwell's defaults. Note output_xoffset:
// Maxwell's documentation says it defaults to false, but its code
// defaults it to true, so rows in the middle of a transaction carry
// "xoffset" unless it is turned off; Tributary does what Maxwell does.
func DefaultOutputConfig() OutputConfig {
	return OutputConfig{CommitInfo: true, XOffset: true, Nulls: true}
}

// field is one named value of a row's data or old map.
type field struct {
	name string
	v    value
}

// rowEvent is one Maxwell row (insert, update, delete, bootstrap-*), in
// the fields RowMap keeps.
type rowEvent struct {
	typ             string
	database, table string
	ts              int64 // seconds
	xid             uint64
	hasXID          bool
	xoffset         int64
	hasXOffset      bool
	commit          bool
	position        string // "file:pos"; "" for rows without one (bootstrap)
	gtid            string
	serverID        uint32
	hasServerID     bool
	threadID        uint64
	hasThreadID     bool
	query           string
	comment         *string
	pkColumns       []string
	data, old       []field
}

// get returns a data value by column name.
func (r *rowEvent) get(name string) (value, bool) {
	for _, f := range r.data {
		if f.name == name {
			return f.v, true
		}
	}
	return nullValue, false
}

// rowFromChange builds the Maxwell row of a change. It returns nil for
// changes Maxwell has no row for (TRUNCATE).
func rowFromChange(c *cdc.Change, out *OutputConfig) *rowEvent {
	r := &rowEvent{database: c.Table.DB, table: c.Table.Name, ts: c.Source.Time.Unix(),
		pkColumns: c.Table.PrimaryKey, query: c.Source.Query, gtid: c.Source.GTID}
	if c.Source.File != "" {
		r.position = c.Source.File + ":" + strconv.FormatUint(uint64(c.Source.EventPos), 10)
	}
	if c.Source.XID != 0 {
		r.xid, r.hasXID = c.Source.XID, true
	}
	if c.Source.ServerID != 0 {
		r.serverID, r.hasServerID = c.Source.ServerID, true
	}
	if c.Source.ThreadID != 0 {
		r.threadID, r.hasThreadID = c.Source.ThreadID, true
	}
	var image cdc.Row
	switch c.Op {
	case cdc.OpCreate, cdc.OpRead:
		r.typ, image = "insert", c.After
	case cdc.OpUpdate:
		r.typ, image = "update", c.After
	case cdc.OpDelete:
		r.typ, image = "delete", c.Before
	default:
		return nil
	}
	r.data = rowFields(c.Table, image, out)
	if c.Op == cdc.OpUpdate && c.Before != nil {
		// "old" holds the previous values of the columns that changed,
		// compared as Maxwell compares them: after conversion.
		before := rowFields(c.Table, c.Before, out)
		for i, f := range before {
			if i < len(r.data) && f.v.raw != r.data[i].v.raw {
				r.old = append(r.old, f)
			}
		}
	}
	return r
}

// rowFields converts a row image in table order.
func rowFields(t *cdc.Table, row cdc.Row, out *OutputConfig) []field {
	fs := make([]field, 0, len(t.Columns))
	for i := range t.Columns {
		var v any
		if i < len(row) {
			v = row[i]
		}
		fs = append(fs, field{name: t.Columns[i].Name, v: convert(&t.Columns[i], v, out)})
	}
	return fs
}

// name applies output_naming_strategy to a field name.
func (o *OutputConfig) name(s string) string {
	if !o.CamelCase {
		return s
	}
	return camelCase(s)
}

// camelCase is Maxwell's underscore_to_camelcase: a leading underscore
// and a trailing one stay dropped, the character after any other
// underscore is upper-cased.
func camelCase(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' {
			b.WriteByte(c)
			continue
		}
		if b.Len() > 0 && i+1 < len(s) {
			i++
			n := s[i]
			if n >= 'a' && n <= 'z' {
				n -= 'a' - 'A'
			}
			b.WriteByte(n)
		}
	}
	if b.Len() == 0 {
		return s
	}
	return b.String()
}

// excluded reports whether exclude_columns drops a column.
func (o *OutputConfig) excluded(name string) bool {
	for _, re := range o.ExcludeColumns {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// jsonWriter builds one JSON object with Maxwell's key order.
type jsonWriter struct {
	b     strings.Builder
	first bool
}

func newJSONWriter() *jsonWriter {
	w := &jsonWriter{first: true}
	w.b.WriteByte('{')
	return w
}

func (w *jsonWriter) key(k string) {
	if !w.first {
		w.b.WriteByte(',')
	}
	w.first = false
	appendQuoted(&w.b, k)
	w.b.WriteByte(':')
}

func (w *jsonWriter) raw(k, raw string) {
	w.key(k)
	w.b.WriteString(raw)
}

func (w *jsonWriter) str(k, s string) { w.raw(k, quote(s)) }

// strOrNull writes s, or null when it is empty.
func (w *jsonWriter) strOrNull(k, s string) {
	if s == "" {
		w.raw(k, "null")
		return
	}
	w.str(k, s)
}

func (w *jsonWriter) done() []byte {
	w.b.WriteByte('}')
	return []byte(w.b.String())
}

// rowJSON writes a row as Maxwell's RowMap.toJSON does, field for field
// and in its order: database, table, query, type, ts, xid, xoffset,
// commit, position, gtid, server_id, thread_id, push_ts, comment,
// primary_key, primary_key_columns, data, old.
func rowJSON(r *rowEvent, o *OutputConfig, now time.Time) []byte {
	w := newJSONWriter()
	w.str(o.name("database"), r.database)
	w.str(o.name("table"), r.table)
	if o.RowQuery && r.query != "" {
		q := r.query
		if o.RowQueryMaxLength > 0 && len([]rune(q)) > o.RowQueryMaxLength {
			q = string([]rune(q)[:o.RowQueryMaxLength])
		}
		w.str(o.name("query"), q)
	}
	w.str(o.name("type"), r.typ)
	w.raw(o.name("ts"), strconv.FormatInt(r.ts, 10))
	if o.CommitInfo {
		r.commitJSON(w, o)
	}
	if r.position != "" {
		r.positionJSON(w, o)
	}
	if o.ServerID && r.hasServerID {
		w.raw(o.name("server_id"), strconv.FormatUint(uint64(r.serverID), 10))
	}
	if o.ThreadID && r.hasThreadID {
		w.raw(o.name("thread_id"), strconv.FormatUint(r.threadID, 10))
	}
	if o.PushTimestamp {
		w.raw(o.name("push_ts"), pushTimestamp(now))
	}
	if r.comment != nil {
		w.str("comment", *r.comment)
	}
	if o.PrimaryKeys {
		w.raw(o.name("primary_key"), jsonArray(len(r.pkColumns), func(b *strings.Builder, i int) {
			v, _ := r.get(r.pkColumns[i])
			b.WriteString(v.raw)
		}))
	}
	if o.PrimaryKeyColumns {
		w.raw(o.name("primary_key_columns"), stringsJSON(r.pkColumns))
	}
	w.raw(o.name("data"), fieldsJSON(r.data, o))
	// Maxwell writes "old" when its map has entries after
	// exclude_columns, even if output_nulls=false then leaves it empty.
	for _, f := range r.old {
		if !o.excluded(f.name) {
			w.raw(o.name("old"), fieldsJSON(r.old, o))
			break
		}
	}
	return w.done()
}

// commitJSON writes output_commit_info's xid, xoffset and commit.
func (r *rowEvent) commitJSON(w *jsonWriter, o *OutputConfig) {
	if r.hasXID {
		w.raw(o.name("xid"), strconv.FormatUint(r.xid, 10))
	}
	if o.XOffset && r.hasXOffset && !r.commit {
		w.raw(o.name("xoffset"), strconv.FormatInt(r.xoffset, 10))
	}
	if r.commit {
		w.raw(o.name("commit"), "true")
	}
}

// positionJSON writes output_binlog_position's position and
// output_gtid_position's gtid (null when the server has none).
func (r *rowEvent) positionJSON(w *jsonWriter, o *OutputConfig) {
	if o.BinlogPosition {
		w.str(o.name("position"), r.position)
	}
	if o.GTIDPosition {
		w.strOrNull(o.name("gtid"), r.gtid)
	}
}

// jsonArray writes a JSON array of n elements, each written by elem.
func jsonArray(n int, elem func(b *strings.Builder, i int)) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		elem(&b, i)
	}
	b.WriteByte(']')
	return b.String()
}

// stringsJSON writes a JSON array of strings.
func stringsJSON(ss []string) string {
	return jsonArray(len(ss), func(b *strings.Builder, i int) { appendQuoted(b, ss[i]) })
}

func fieldsJSON(fs []field, o *OutputConfig) string {
	w := newJSONWriter()
	for _, f := range fs {
		if f.v.null && !o.Nulls {
			continue
		}
		if o.excluded(f.name) {
			continue
		}
		w.raw(o.name(f.name), f.v.raw)
	}
	return string(w.done())
}

// pushTimestamp is Maxwell's push_ts: seconds with the microseconds as
// a fraction, written as BigDecimal(seconds) + BigDecimal.valueOf(frac).
func pushTimestamp(now time.Time) string {
	now = now.Truncate(time.Microsecond)
	frac := strings.TrimRight(fmt.Sprintf("%06d", now.Nanosecond()/1000), "0")
	if frac == "" {
		frac = "0"
	}
	return strconv.FormatInt(now.Unix(), 10) + "." + frac
}
