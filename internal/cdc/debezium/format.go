package debezium

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// Formatter builds Debezium's records from the engine's changes. It keeps
// the state Debezium's records depend on (table schemas, the open
// transaction, the position of the last transaction boundary), so one
// Formatter serves one stream of changes, from one goroutine.
type Formatter struct {
	settings *Settings
	schemas  *schemas
	// now is the connector's clock: envelopes' ts_ms and schema change
	// and heartbeat times are processing times, as in Debezium.
	now func() time.Time
	// runID identifies this run of the task in the
	// __debezium.context.runId header.
	runID string
	// tables caches each table definition's schemas, by the definition
	// the engine hands out; byName keeps one definition per table.
	tables map[*cdc.Table]*tableSchema
	byName map[string]*cdc.Table
	tx     txState
	// boundary is the last transaction boundary, where a transaction
	// without a GTID starts.
	boundary *cdc.Position
	// lastSnapshotTable is the table of the previous snapshot read, for
	// the first_in_data_collection marker.
	lastSnapshotTable string
}

// NewFormatter returns a Formatter for a configuration. now is the clock
// (time.Now when nil) and runID the value of the runId context header.
func NewFormatter(s *Settings, now func() time.Time, runID string) *Formatter {
	if now == nil {
		now = time.Now
	}
	return &Formatter{settings: s, schemas: newSchemas(), now: now, runID: runID,
		tables: map[*cdc.Table]*tableSchema{}, byName: map[string]*cdc.Table{}}
}

// Partition is the source partition of a connector's records, Debezium
// MySQL's {"server": topic.prefix}.
func Partition(prefix string) map[string]any { return map[string]any{"server": prefix} }

// tableSchema is a table definition's key and value schemas and how to
// fill them from rows.
type tableSchema struct {
	topic     string
	keySchema *data.Schema // nil for tables without a primary key
	rowSchema *data.Schema
	envelope  *data.Schema
	keyCols   []columnRef
	rowCols   []columnRef
}

type columnRef struct {
	index int
	name  string
	codec *columnCodec
}

// DataTopic is the topic of a table's change events:
// <prefix>.<db>.<table>, sanitized as Debezium does.
func (f *Formatter) DataTopic(db, table string) string {
	return sanitizeTopic(f.settings.TopicPrefix + "." + db + "." + table)
}

// schemaFor returns the schemas of a table definition, building them on
// first use.
func (f *Formatter) schemaFor(t *cdc.Table) (*tableSchema, error) {
	if ts, ok := f.tables[t]; ok {
		return ts, nil
	}
	name := t.DB + "." + t.Name
	if old, ok := f.byName[name]; ok {
		delete(f.tables, old)
	}
	topic := f.DataTopic(t.DB, t.Name)
	ts := &tableSchema{topic: topic}
	var keyFields, rowFields []data.Field
	for _, pk := range t.PrimaryKey {
		i := t.Column(pk)
		if i < 0 {
			return nil, fmt.Errorf("table %s: primary key column %q is not a column", name, pk)
		}
		cc, err := f.codecFor(&t.Columns[i])
		if err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", name, pk, err)
		}
		if cc == nil {
			continue
		}
		ts.keyCols = append(ts.keyCols, columnRef{index: i, name: pk, codec: cc})
		keyFields = append(keyFields, fld(pk, cc.schema))
	}
	for i := range t.Columns {
		col := &t.Columns[i]
		if !f.settings.includeColumn(t.DB, t.Name, col.Name) {
			continue
		}
		cc, err := f.codecFor(col)
		if err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", name, col.Name, err)
		}
		if cc == nil {
			continue // a type Debezium has no mapping for
		}
		ts.rowCols = append(ts.rowCols, columnRef{index: i, name: col.Name, codec: cc})
		rowFields = append(rowFields, fld(col.Name, cc.schema))
	}
	if len(keyFields) > 0 {
		ts.keySchema = data.StructSchema(topic+".Key", keyFields...)
	}
	ts.rowSchema = data.StructSchema(topic+".Value", rowFields...)
	ts.rowSchema.Optional = true
	ts.envelope = f.schemas.envelopeSchema(topic+".Envelope", ts.rowSchema)
	f.tables[t] = ts
	f.byName[name] = t
	return ts, nil
}

// fill builds a struct of the given columns from a row.
func (f *Formatter) fill(schema *data.Schema, cols []columnRef, row cdc.Row, snapshot bool) (*data.Struct, error) {
	st := data.NewStruct(schema)
	for i, c := range cols {
		if c.index >= len(row) {
			// As Debezium: values shifted against their columns would
			// be silently wrong.
			return nil, fmt.Errorf("row has %d values but column %s is number %d: the row does not match the table definition", len(row), c.name, c.index+1)
		}
		x, err := c.codec.value(row[c.index])
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		if z, ok := x.(zonedValue); ok {
			x = f.zoned(z, snapshot)
		}
		st.Values[i] = x
	}
	return st, nil
}

// zoned renders a TIMESTAMP value. Debezium reads snapshot rows through
// JDBC, whose timestamps it formats with ISO_OFFSET_DATE_TIME (no
// trailing zeros in the fraction), and binlog rows with exactly the
// column's fractional digits; this keeps that difference.
func (f *Formatter) zoned(z zonedValue, snapshot bool) string {
	if snapshot {
		return isoInstant(z.t)
	}
	return zonedTimestamp(z.t, z.fsp)
}

// sourceStruct builds the source block.
func (f *Formatter) sourceStruct(src *cdc.Source, db string, table any, snapshot any) *data.Struct {
	st := data.NewStruct(f.schemas.source)
	ts := src.Time
	if ts.IsZero() {
		ts = f.now()
	}
	file, pos := src.File, int64(src.EventPos)
	if file == "" {
		file, pos = src.Pos.File, int64(src.Pos.Pos)
	}
	put(st, "version", Version)
	put(st, "connector", ConnectorName)
	put(st, "name", f.settings.TopicPrefix)
	put(st, "ts_ms", ts.UnixMilli())
	put(st, "snapshot", snapshot)
	put(st, "db", db)
	put(st, "ts_us", ts.UnixMicro())
	put(st, "ts_ns", ts.UnixNano())
	put(st, "table", table)
	put(st, "server_id", int64(src.ServerID))
	if src.GTID != "" {
		put(st, "gtid", src.GTID)
	}
	put(st, "file", file)
	put(st, "pos", pos)
	put(st, "row", int32(src.Row))
	if src.Snapshot == "" && src.ThreadID != 0 {
		put(st, "thread", int64(src.ThreadID))
	}
	if f.settings.IncludeQuery && src.Snapshot == "" && src.Query != "" {
		put(st, "query", src.Query)
	}
	return st
}

// envelope builds a change event value.
func (f *Formatter) envelope(ts *tableSchema, op string, before, after, source, tx *data.Struct) *data.Struct {
	now := f.now()
	env := data.NewStruct(ts.envelope)
	if before != nil {
		put(env, "before", before)
	}
	if after != nil {
		put(env, "after", after)
	}
	put(env, "source", source)
	if tx != nil {
		put(env, "transaction", tx)
	}
	put(env, "op", op)
	put(env, "ts_ms", now.UnixMilli())
	put(env, "ts_us", now.UnixMicro())
	put(env, "ts_ns", now.UnixNano())
	return env
}

// contextHeaders are Debezium's extended headers
// (extended.headers.enabled, on by default).
func (f *Formatter) contextHeaders() []data.Header {
	if !f.settings.ExtendedHeaders {
		return nil
	}
	s := f.schemas.headerString
	return []data.Header{
		{Key: contextLogicalName, Schema: s, Value: f.settings.TopicPrefix},
		{Key: contextTaskID, Schema: s, Value: "0"},
		{Key: contextConnectorName, Schema: s, Value: ConnectorName},
		{Key: contextRunID, Schema: s, Value: f.runID},
	}
}

func (f *Formatter) record(topic string, keySchema *data.Schema, key any, valueSchema *data.Schema, value any, headers []data.Header) *data.Record {
	return &data.Record{Topic: topic, KeySchema: keySchema, Key: key, ValueSchema: valueSchema, Value: value,
		Headers: headers, SourcePartition: Partition(f.settings.TopicPrefix)}
}

// tombstone is the record after a delete that lets Kafka compact the key
// away: same key and headers, no value.
func tombstone(r *data.Record) *data.Record {
	return &data.Record{Topic: r.Topic, KeySchema: r.KeySchema, Key: r.Key,
		Headers: append([]data.Header(nil), r.Headers...), SourcePartition: r.SourcePartition}
}

// Change returns the records of one row change, in order: one record,
// or for a delete the delete and its tombstone, or for an update that
// changes the primary key a delete (header __debezium.newkey), its
// tombstone and a create (header __debezium.oldkey); with
// provide.transaction.metadata, a transaction's first change is preceded
// by its BEGIN record (and by the previous transaction's END when that
// was not closed by a boundary). Operations in skipped.operations give
// none (truncates by default, as in Debezium).
func (f *Formatter) Change(c *cdc.Change) ([]*data.Record, error) {
	if c.Table == nil {
		return nil, fmt.Errorf("change without a table")
	}
	snapshot := c.Source.Snapshot != ""
	if !snapshot && f.settings.SkippedOperations[byte(c.Op)] {
		return nil, nil
	}
	ts, err := f.schemaFor(c.Table)
	if err != nil {
		return nil, err
	}
	b := &changeRecords{f: f, c: c, ts: ts, snapshot: snapshot, name: c.Table.DB + "." + c.Table.Name, headers: f.contextHeaders()}
	var marker any
	if snapshot {
		m := c.Source.Snapshot
		if m == snapshotTrue && f.lastSnapshotTable != b.name {
			m = snapshotFirstInTable
		}
		f.lastSnapshotTable = b.name
		marker = m
	}
	b.source = f.sourceStruct(&c.Source, c.Table.DB, c.Table.Name, marker)
	switch c.Op {
	case cdc.OpRead, cdc.OpCreate:
		err = b.create()
	case cdc.OpUpdate:
		err = b.update()
	case cdc.OpDelete:
		err = b.delete()
	case cdc.OpTruncate:
		// Truncates have no key (and so no key schema).
		b.out = append(b.out, f.record(ts.topic, nil, nil, ts.envelope, f.envelope(ts, "t", nil, nil, b.source, nil), b.headers))
	default:
		return nil, fmt.Errorf("change of %s with unknown operation %q", b.name, string(c.Op))
	}
	if err != nil {
		return nil, err
	}
	return b.out, nil
}

// changeRecords builds the records of one change.
type changeRecords struct {
	f        *Formatter
	c        *cdc.Change
	ts       *tableSchema
	snapshot bool
	name     string // db.table
	source   *data.Struct
	headers  []data.Header
	out      []*data.Record
}

// row fills a row image (which: "new" or "old") and its key (nil for a
// table without one).
func (b *changeRecords) row(which string, row cdc.Row) (*data.Struct, any, error) {
	wrap := func(err error) error {
		return fmt.Errorf("%s row of %s at %s:%d: %w", which, b.name, b.c.Source.File, b.c.Source.EventPos, err)
	}
	value, err := b.f.fill(b.ts.rowSchema, b.ts.rowCols, row, b.snapshot)
	if err != nil {
		return nil, nil, wrap(err)
	}
	if b.ts.keySchema == nil {
		return value, nil, nil
	}
	key, err := b.f.fill(b.ts.keySchema, b.ts.keyCols, row, b.snapshot)
	if err != nil {
		return nil, nil, wrap(err)
	}
	return value, key, nil
}

// txBlock returns the transaction block of the next data record,
// opening the transaction (and emitting BEGIN) on its first.
func (b *changeRecords) txBlock() *data.Struct {
	if b.snapshot || b.c.Op == cdc.OpTruncate || !b.f.settings.ProvideTransactionMetadata {
		return nil
	}
	recs, block := b.f.tx.event(b.f, &b.c.Source, b.name)
	b.out = append(b.out, recs...)
	return block
}

// add appends the record of one envelope (op with its images).
func (b *changeRecords) add(op string, key any, before, after *data.Struct, headers []data.Header) *data.Record {
	env := b.f.envelope(b.ts, op, before, after, b.source, b.txBlock())
	r := b.f.record(b.ts.topic, b.ts.keySchema, key, b.ts.envelope, env, headers)
	b.out = append(b.out, r)
	return r
}

// addDelete appends a delete's record and, with tombstones.on.delete,
// its tombstone.
func (b *changeRecords) addDelete(key any, before *data.Struct, headers []data.Header) {
	del := b.add("d", key, before, nil, headers)
	if b.f.settings.TombstonesOnDelete {
		b.out = append(b.out, tombstone(del))
	}
}

func (b *changeRecords) create() error {
	after, key, err := b.row("new", b.c.After)
	if err != nil {
		return err
	}
	b.add(string(b.c.Op), key, nil, after, b.headers)
	return nil
}

func (b *changeRecords) delete() error {
	before, key, err := b.row("old", b.c.Before)
	if err != nil {
		return err
	}
	b.addDelete(key, before, b.headers)
	return nil
}

// update appends an update; one that changes the primary key is, as in
// Debezium, the old row's delete and the new row's create, each naming
// the other key in a header.
func (b *changeRecords) update() error {
	var before *data.Struct
	var oldKey any
	if b.c.Before != nil { // without a before image, a plain update
		var err error
		if before, oldKey, err = b.row("old", b.c.Before); err != nil {
			return err
		}
	}
	after, newKey, err := b.row("new", b.c.After)
	if err != nil {
		return err
	}
	if oldKey == nil || valuesEqual(oldKey, newKey) {
		b.add("u", newKey, before, after, b.headers)
		return nil
	}
	b.addDelete(oldKey, before, append([]data.Header{{Key: pkUpdateNewKeyHeader, Schema: b.ts.keySchema, Value: newKey}}, b.headers...))
	b.add("c", newKey, nil, after, append([]data.Header{{Key: pkUpdateOldKeyHeader, Schema: b.ts.keySchema, Value: oldKey}}, b.headers...))
	return nil
}

// valuesEqual compares Connect values as Java's equals does for key
// structs.
func valuesEqual(a, b any) bool {
	switch x := a.(type) {
	case *data.Struct:
		y, ok := b.(*data.Struct)
		if !ok || x == nil || y == nil || len(x.Values) != len(y.Values) {
			return x == nil && y == nil
		}
		for i := range x.Values {
			if !valuesEqual(x.Values[i], y.Values[i]) {
				return false
			}
		}
		return true
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case data.Decimal:
		y, ok := b.(data.Decimal)
		return ok && x.Scale == y.Scale && x.Unscaled.Cmp(y.Unscaled) == 0
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// markLastInTable updates the snapshot marker of a snapshot read when the
// read that follows it is of another table: Debezium marks a table's
// last snapshot read "last_in_data_collection". The connector calls it
// on the record it holds back before handing it out.
func markLastInTable(prev, next *data.Record) {
	ps, pt := snapshotSource(prev)
	if ps == nil {
		return
	}
	if ns, nt := snapshotSource(next); ns != nil && nt == pt {
		return
	}
	f := ps.Schema.Field("snapshot")
	switch ps.Values[f.Index] {
	case snapshotTrue, snapshotFirstInTable:
		ps.Values[f.Index] = snapshotLastInTable
	}
}

// snapshotSource returns the source block and table of a snapshot read
// record, or nil.
func snapshotSource(r *data.Record) (*data.Struct, any) {
	if r == nil {
		return nil, nil
	}
	env, ok := r.Value.(*data.Struct)
	if !ok || env.Schema.Field("op") == nil {
		return nil, nil
	}
	if op, _ := env.Get("op"); op != "r" {
		return nil, nil
	}
	src, _ := env.Get("source")
	s, ok := src.(*data.Struct)
	if !ok {
		return nil, nil
	}
	table, _ := s.Get("table")
	return s, table
}

// txState is the open transaction, for transaction metadata.
type txState struct {
	open    bool
	id      string
	total   int64
	counts  map[string]int64
	order   []string // data collections in order of first change
	started time.Time
	last    time.Time
}

// event counts a data record of the transaction the source belongs to,
// returning the records to emit before it (END of the previous
// transaction, BEGIN of this one) and its transaction block.
func (tx *txState) event(f *Formatter, src *cdc.Source, collection string) ([]*data.Record, *data.Struct) {
	id := src.GTID
	if id == "" {
		start := f.boundary
		if start == nil {
			start = &src.Pos
		}
		id = fmt.Sprintf("file=%s,pos=%d", start.File, start.Pos)
	}
	var out []*data.Record
	if tx.open && tx.id != id {
		out = append(out, tx.end(f))
	}
	if !tx.open {
		*tx = txState{open: true, id: id, counts: map[string]int64{}, started: src.Time, last: src.Time}
		out = append(out, tx.beginRecord(f))
	}
	tx.total++
	if _, ok := tx.counts[collection]; !ok {
		tx.order = append(tx.order, collection)
	}
	tx.counts[collection]++
	if !src.Time.IsZero() {
		tx.last = src.Time
	}
	block := data.NewStruct(f.schemas.txBlock)
	put(block, "id", tx.id)
	put(block, "total_order", tx.total)
	put(block, "data_collection_order", tx.counts[collection])
	return out, block
}

func (tx *txState) key(f *Formatter) *data.Struct {
	k := data.NewStruct(f.schemas.txKey)
	put(k, "id", tx.id)
	return k
}

func (f *Formatter) txTopic() string {
	return sanitizeTopic(f.settings.TopicPrefix + "." + f.settings.TransactionTopic)
}

func (tx *txState) beginRecord(f *Formatter) *data.Record {
	v := data.NewStruct(f.schemas.txValue)
	put(v, "status", "BEGIN")
	put(v, "id", tx.id)
	put(v, "ts_ms", orNow(f, tx.started).UnixMilli())
	return f.record(f.txTopic(), f.schemas.txKey, tx.key(f), f.schemas.txValue, v, nil)
}

// end closes the transaction and returns its END record.
func (tx *txState) end(f *Formatter) *data.Record {
	v := data.NewStruct(f.schemas.txValue)
	put(v, "status", "END")
	put(v, "id", tx.id)
	put(v, "event_count", tx.total)
	cols := make([]any, len(tx.order))
	for i, name := range tx.order {
		c := data.NewStruct(f.schemas.txCollection)
		put(c, "data_collection", name)
		put(c, "event_count", tx.counts[name])
		cols[i] = c
	}
	put(v, "data_collections", cols)
	put(v, "ts_ms", orNow(f, tx.last).UnixMilli())
	r := f.record(f.txTopic(), f.schemas.txKey, tx.key(f), f.schemas.txValue, v, nil)
	*tx = txState{}
	return r
}

func orNow(f *Formatter, t time.Time) time.Time {
	if t.IsZero() {
		return f.now()
	}
	return t
}

// Boundary notes a transaction boundary, where reading may resume: the
// open transaction, if any, ends there, and its END record is returned.
func (f *Formatter) Boundary(pos cdc.Position) []*data.Record {
	p := pos
	f.boundary = &p
	if f.tx.open {
		return []*data.Record{f.tx.end(f)}
	}
	return nil
}

// Heartbeat returns a heartbeat record: topic
// <topic.heartbeat.prefix>.<prefix>, key {serverName}, value {ts_ms}.
func (f *Formatter) Heartbeat() *data.Record {
	k := data.NewStruct(f.schemas.heartbeatKey)
	put(k, "serverName", f.settings.TopicPrefix)
	v := data.NewStruct(f.schemas.heartbeatVal)
	put(v, "ts_ms", f.now().UnixMilli())
	topic := sanitizeTopic(f.settings.HeartbeatPrefix + "." + f.settings.TopicPrefix)
	return f.record(topic, f.schemas.heartbeatKey, k, f.schemas.heartbeatVal, v, nil)
}

// SchemaChange returns the schema change records of a DDL statement, on
// topic <prefix> with key {databaseName}, or none when
// include.schema.changes is off. As in Debezium, a statement on several
// tables ("DROP TABLE a, b", "RENAME TABLE a TO b, c TO d") gives one
// record per table, each with one entry in tableChanges (whose source
// names all the statement's tables); a statement on a database, or on
// no table, gives one record with none. TRUNCATE gives none: it is a
// truncate change event (see Change).
func (f *Formatter) SchemaChange(sc *cdc.SchemaChange) ([]*data.Record, error) {
	if !f.settings.IncludeSchemaChanges || strings.EqualFold(sc.Kind, "TRUNCATE") {
		return nil, nil
	}
	var marker any
	if sc.Source.Snapshot != "" {
		marker = sc.Source.Snapshot
	}
	kind := strings.ToUpper(sc.Kind)
	tableStatement := !sc.Database && len(sc.Tables) > 0 &&
		(kind == schemaChangeTypeCreate || kind == schemaChangeTypeAlter || kind == schemaChangeTypeDrop)
	if !tableStatement {
		// CREATE/ALTER/DROP DATABASE and statements on no table (a view,
		// a procedure): Debezium's source block names no table.
		return []*data.Record{f.schemaChangeRecord(sc, sc.DB, nil, marker, []any{})}, nil
	}
	var names []string
	for _, t := range sc.Tables {
		names = append(names, t.Name)
	}
	table := strings.Join(names, ",")
	out := make([]*data.Record, 0, len(sc.Tables))
	for _, t := range sc.Tables {
		ch := data.NewStruct(f.schemas.historyChange)
		put(ch, "type", kind)
		put(ch, "id", `"`+t.DB+`"."`+t.Name+`"`)
		if kind != schemaChangeTypeDrop {
			put(ch, "table", f.historyTable(t))
		}
		// The database the statement changed, which Debezium keys the
		// event by, is the table's; sc.DB is the session's.
		out = append(out, f.schemaChangeRecord(sc, t.DB, table, marker, []any{ch}))
	}
	return out, nil
}

func (f *Formatter) schemaChangeRecord(sc *cdc.SchemaChange, db string, table, marker any, changes []any) *data.Record {
	k := data.NewStruct(f.schemas.changeKey)
	put(k, "databaseName", db)
	v := data.NewStruct(f.schemas.changeValue)
	put(v, "source", f.sourceStruct(&sc.Source, db, table, marker))
	put(v, "ts_ms", f.now().UnixMilli())
	put(v, "databaseName", db)
	put(v, "ddl", sc.DDL)
	put(v, "tableChanges", changes)
	return f.record(sanitizeTopic(f.settings.TopicPrefix), f.schemas.changeKey, k, f.schemas.changeValue, v, f.contextHeaders())
}
