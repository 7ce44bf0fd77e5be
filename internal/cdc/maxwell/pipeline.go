package maxwell

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
)

// message is one record for a producer: the partition key and the JSON.
type message struct {
	key   string
	value []byte
}

// emitter is where the pipeline's messages go: the daemon's batching
// producer, or the connector's poll queue. Both methods may be called
// from the engine's goroutine and the bootstrapper's at once.
type emitter interface {
	// emit queues a message, blocking while the emitter is full.
	emit(ctx context.Context, m message) error
	// boundary says that everything emitted so far completes the
	// transactions before pos, so pos is where reading may resume once
	// those messages are acknowledged.
	boundary(ctx context.Context, pos cdc.Position) error
}

// encoder turns rows and schema changes into messages.
type encoder struct {
	out  *OutputConfig
	part *partitioner
	now  func() time.Time
}

func (e *encoder) row(r *rowEvent) message {
	return message{key: e.part.key(r), value: rowJSON(r, e.out, e.now())}
}

func (e *encoder) ddl(d *ddlEvent) message {
	return message{key: e.part.ddlKey(d), value: ddlJSON(d, e.out)}
}

// pipeline is the cdc.Handler both the daemon and the connector run: it
// applies Maxwell's filters, numbers each transaction's rows (xoffset),
// marks each transaction's last output row (commit), hands rows of a
// table being bootstrapped to the bootstrapper, and emits the rest.
//
// Maxwell marks the last row of a transaction that passed its filters,
// so the pipeline holds one row back until it knows whether another
// follows in the same transaction.
type pipeline struct {
	cfg    *Config
	enc    *encoder
	out    emitter
	schema *schemaTracker
	boot   *bootstrapper // nil when bootstrapper=none
	// pending is the held-back row, and xoffset the index the next row
	// of the transaction gets.
	pending *rowEvent
	xoffset int64
	// bootstrapRequested says the transaction inserted a bootstrap
	// request: the bootstrapper is told at its boundary, once the
	// request's own row is out.
	bootstrapRequested bool
	// rows counts the rows emitted, for progress logs.
	rows atomic.Int64
}

func newPipeline(cfg *Config, out emitter, charset func(db, table string) string) *pipeline {
	return &pipeline{
		cfg:    cfg,
		enc:    &encoder{out: &cfg.Output, part: cfg.partitioner, now: time.Now},
		out:    out,
		schema: newSchemaTracker(charset),
	}
}

// Change handles one row change.
func (p *pipeline) Change(ctx context.Context, c *cdc.Change) error {
	if c.Table == nil {
		return nil
	}
	if c.TxIndex == 1 {
		// A new transaction: a row still held belongs to the last one.
		if err := p.commitPending(ctx); err != nil {
			return err
		}
		p.xoffset = 0
	}
	p.schema.see(c.Table)
	db, table := c.Table.DB, c.Table.Name
	var r *rowEvent
	switch {
	case db == p.cfg.SchemaDatabase:
		// Maxwell's own tables are never output, except inserts into
		// the bootstrap table, which Maxwell passes on (and which
		// start a bootstrap).
		if table == "bootstrap" && c.Op == cdc.OpCreate {
			r = rowFromChange(c, &p.cfg.Output)
			p.bootstrapRequested = true
		}
	case p.cfg.Filter.Blacklisted(db, table):
	default:
		if r = rowFromChange(c, &p.cfg.Output); r != nil && !p.cfg.Filter.IncludeRow(db, table, r.lookup) {
			r = nil
		}
	}
	if r == nil {
		if c.TxLast {
			return p.commitPending(ctx)
		}
		return nil
	}
	r.xoffset, r.hasXOffset = p.xoffset, true
	p.xoffset++
	if prev := p.pending; prev != nil {
		p.pending = nil
		if err := p.finish(ctx, prev); err != nil {
			return err
		}
	}
	if c.TxLast {
		r.commit = true
		return p.finish(ctx, r)
	}
	p.pending = r
	return nil
}

// lookup is the row's values for column-value filters.
func (r *rowEvent) lookup(column string) (string, bool, bool) {
	v, ok := r.get(column)
	return v.text, v.null, ok
}

// commitPending emits the held row as its transaction's last.
func (p *pipeline) commitPending(ctx context.Context) error {
	r := p.pending
	if r == nil {
		return nil
	}
	p.pending = nil
	r.commit = true
	return p.finish(ctx, r)
}

// finish emits a row whose commit flag is settled, unless a bootstrap
// of its table holds it back.
func (p *pipeline) finish(ctx context.Context, r *rowEvent) error {
	if p.boot != nil && p.boot.hold(r) {
		return nil
	}
	p.rows.Add(1)
	return p.out.emit(ctx, p.enc.row(r))
}

// Schema handles a DDL statement: tracked always, emitted with
// output_ddl.
func (p *pipeline) Schema(ctx context.Context, sc *cdc.SchemaChange) error {
	events := p.schema.events(sc)
	if !p.cfg.Output.DDL {
		return nil
	}
	for _, e := range events {
		if p.cfg.Filter.Blacklisted(e.database, e.table) || !e.included(p.cfg.Filter) {
			continue
		}
		p.rows.Add(1)
		if err := p.out.emit(ctx, p.enc.ddl(e)); err != nil {
			return err
		}
	}
	return nil
}

// Boundary ends a transaction: its held row is its last.
func (p *pipeline) Boundary(ctx context.Context, pos cdc.Position) error {
	if err := p.commitPending(ctx); err != nil {
		return err
	}
	p.xoffset = 0
	if err := p.out.boundary(ctx, pos); err != nil {
		return err
	}
	if p.boot == nil {
		return nil
	}
	if p.bootstrapRequested {
		p.bootstrapRequested = false
		p.boot.notify()
	}
	return p.boot.atBoundary(ctx)
}

// Heartbeat advances the resume position while the log is quiet.
func (p *pipeline) Heartbeat(ctx context.Context, pos cdc.Position) error {
	if p.pending != nil {
		return nil
	}
	if err := p.out.boundary(ctx, pos); err != nil {
		return err
	}
	if p.boot != nil {
		return p.boot.atBoundary(ctx)
	}
	return nil
}

// include is the engine's table filter.
func (p *pipeline) include(db, table string) bool {
	return p.cfg.Filter.IncludeTable(db, table)
}

// sameTable compares names as Maxwell's BootstrapTask.matches does.
func sameTable(db1, t1, db2, t2 string) bool {
	return strings.EqualFold(db1, db2) && strings.EqualFold(t1, t2)
}
