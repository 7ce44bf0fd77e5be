package cdc

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// snapshot reads every captured table as of one binlog position: each
// table's CREATE TABLE as a SchemaChange, then its rows as OpRead
// changes, then Boundary at the position streaming resumes from. It
// returns that position and the tables' definitions.
//
// The view is consistent: on MariaDB a transaction WITH CONSISTENT
// SNAPSHOT reports the binlog position it sees (binlog_snapshot_file and
// _position), so no lock is needed; elsewhere FLUSH TABLES WITH READ
// LOCK is held just long enough to start the transaction and read the
// position, or, without RELOAD, LOCK TABLES holds the captured tables
// for the whole snapshot. Rows are streamed from the server, never held
// in memory.
func (r *runner) snapshot(ctx context.Context) (Position, map[tableKey]*Table, error) {
	c, err := dial(ctx, r.cfg)
	if err != nil {
		return Position{}, nil, err
	}
	defer c.Close()
	started := time.Now()
	for _, q := range []string{
		// TIMESTAMPs in UTC; column bytes as stored, converted here the
		// same way as the binary log's; a slow handler must not make the
		// server drop the result set.
		"SET SESSION time_zone = '+00:00'",
		"SET SESSION character_set_results = NULL",
		"SET SESSION net_write_timeout = 86400",
		"SET SESSION net_read_timeout = 86400",
		"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
	} {
		if _, err := c.exec(q); err != nil {
			return Position{}, nil, fmt.Errorf("cdc: snapshot: %w", err)
		}
	}
	var start snapshotStart
	switch r.snapshotLock() {
	case lockAuto:
		start, err = r.startConsistent(c)
	case lockGlobal:
		start, err = r.startGlobalLock(c)
	case lockTables:
		start, err = r.startTableLocks(c)
	}
	if err != nil {
		return Position{}, nil, err
	}
	pos := start.pos
	list := newSchemas(start.tables).sorted()
	r.log.Info("snapshot", "position", pos.String(), "tables", len(list))

	base := Source{Pos: pos, File: pos.File, EventPos: pos.Pos, ServerID: r.srv.serverID, Time: started}
	count, err := r.snapshotTables(ctx, c, list, base)
	if err != nil {
		return Position{}, nil, err
	}
	if _, err := c.exec(start.end); err != nil {
		return Position{}, nil, fmt.Errorf("cdc: end snapshot: %w", err)
	}
	if err := r.h.Boundary(ctx, pos); err != nil {
		return Position{}, nil, err
	}
	r.log.Info("snapshot done", "rows", count, "took", time.Since(started).Round(time.Millisecond))
	return pos, start.tables, nil
}

// snapshotStart is a snapshot begun: the position it is consistent
// with, the captured tables, and the statement that ends it.
type snapshotStart struct {
	pos    Position
	tables map[tableKey]*Table
	end    string
}

// startConsistent begins a snapshot on MariaDB without a lock: the
// consistent-snapshot transaction reports its binlog position.
func (r *runner) startConsistent(c *conn) (snapshotStart, error) {
	st := snapshotStart{end: "COMMIT"}
	if _, err := c.exec("START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
		return st, fmt.Errorf("cdc: snapshot: %w", err)
	}
	rows, err := c.rows("SHOW STATUS LIKE 'binlog_snapshot_%'")
	if err != nil {
		return st, fmt.Errorf("cdc: snapshot position: %w", err)
	}
	st.pos.Flavor = r.srv.flavor
	for _, row := range rows {
		switch strings.ToLower(row[0].s) {
		case "binlog_snapshot_file":
			st.pos.File = row[1].s
		case "binlog_snapshot_position":
			p, _ := strconv.ParseUint(row[1].s, 10, 32)
			st.pos.Pos = uint32(p)
		}
	}
	if st.pos.File == "" {
		return st, &Error{Kind: KindBinlogDisabled, Msg: "the server reports no binlog snapshot position", Hint: "start the server with log_bin"}
	}
	if st.pos.GTIDSet, err = r.gtidAt(c, st.pos.File, st.pos.Pos); err != nil {
		return st, err
	}
	st.tables, err = loadTables(c, r.cfg, r.srv.flavor, nil)
	return st, err
}

// startGlobalLock begins a snapshot under FLUSH TABLES WITH READ LOCK,
// held only until the transaction has started and the position and
// tables are read.
func (r *runner) startGlobalLock(c *conn) (snapshotStart, error) {
	st := snapshotStart{end: "COMMIT"}
	if _, err := c.exec("FLUSH TABLES WITH READ LOCK"); err != nil {
		return st, fmt.Errorf("cdc: snapshot lock: %w", err)
	}
	if _, err := c.exec("START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
		return st, fmt.Errorf("cdc: snapshot: %w", err)
	}
	var err error
	if st.pos, err = r.currentPosition(c); err != nil {
		return st, err
	}
	if st.tables, err = loadTables(c, r.cfg, r.srv.flavor, nil); err != nil {
		return st, err
	}
	if _, err := c.exec("UNLOCK TABLES"); err != nil {
		return st, fmt.Errorf("cdc: snapshot unlock: %w", err)
	}
	return st, nil
}

// startTableLocks begins a snapshot without RELOAD: LOCK TABLES holds
// the captured tables until the snapshot ends.
func (r *runner) startTableLocks(c *conn) (snapshotStart, error) {
	st := snapshotStart{end: "COMMIT"}
	var err error
	if st.tables, err = loadTables(c, r.cfg, r.srv.flavor, nil); err != nil {
		return st, err
	}
	if len(st.tables) > 0 {
		var names []string
		for _, t := range newSchemas(st.tables).sorted() {
			names = append(names, quoteTable(t.DB, t.Name)+" READ")
		}
		if _, err := c.exec("LOCK TABLES " + strings.Join(names, ", ")); err != nil {
			return st, fmt.Errorf("cdc: snapshot lock: %w", err)
		}
		st.end = "UNLOCK TABLES"
	}
	st.pos, err = r.currentPosition(c)
	return st, err
}

// snapshotTables hands the handler each table's CREATE TABLE, then every
// table's rows, and returns how many rows it read.
func (r *runner) snapshotTables(ctx context.Context, c *conn, list []*Table, base Source) (int, error) {
	for _, t := range list {
		ddl, err := showCreate(c, t)
		if err != nil {
			return 0, err
		}
		src := base
		src.Snapshot = "true"
		sc := &SchemaChange{DB: t.DB, DDL: ddl, Kind: "CREATE", Tables: []*Table{t}, Before: []*Table{nil}, Source: src}
		if err := r.h.Schema(ctx, sc); err != nil {
			return 0, err
		}
	}
	e := &snapshotEmitter{ctx: ctx, h: r.h, base: base}
	for _, t := range list {
		if err := r.readTable(c, t, e); err != nil {
			return 0, err
		}
	}
	if err := e.finish(); err != nil {
		return 0, err
	}
	return e.count, nil
}

// readTable streams one table's rows to the emitter, with the binary
// protocol so that FLOAT and DOUBLE arrive exactly (the text protocol
// rounds them).
func (r *runner) readTable(c *conn, t *Table, e *snapshotEmitter) error {
	cols := make([]string, len(t.Columns))
	plans := make([]colPlan, len(t.Columns))
	for i := range t.Columns {
		cols[i] = quoteName(t.Columns[i].Name)
		plans[i] = planFor(&t.Columns[i])
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteTable(t.DB, t.Name)
	stmt, err := c.Prepare(q)
	if err != nil {
		return r.ctxErr(c.ctx, fmt.Errorf("cdc: snapshot %s.%s: %w", t.DB, t.Name, err))
	}
	defer stmt.Close()
	var res mysql.Result
	err = stmt.ExecuteSelectStreaming(&res, func(row []mysql.FieldValue) error {
		vals := make(Row, len(row))
		for i := range row {
			if i < len(plans) {
				vals[i] = plans[i].fromSnapshot(&row[i])
			}
		}
		return e.emit(&Change{Op: OpRead, Table: t, After: vals})
	}, nil)
	if err != nil {
		if e.err != nil {
			return e.err
		}
		return r.ctxErr(c.ctx, fmt.Errorf("cdc: snapshot %s.%s: %w", t.DB, t.Name, err))
	}
	return nil
}

// snapshotEmitter hands snapshot reads to the handler one behind, so the
// last one can be marked.
type snapshotEmitter struct {
	ctx     context.Context
	h       Handler
	base    Source
	pending *Change
	count   int
	err     error // the handler's, kept apart from the client's wrapping
}

func (e *snapshotEmitter) emit(c *Change) error {
	e.count++
	c.TxIndex = e.count
	c.Source = e.base
	if e.pending != nil {
		if err := e.deliver(e.pending, false); err != nil {
			return err
		}
	}
	e.pending = c
	return nil
}

func (e *snapshotEmitter) finish() error {
	if e.pending == nil {
		return nil
	}
	c := e.pending
	e.pending = nil
	return e.deliver(c, true)
}

func (e *snapshotEmitter) deliver(c *Change, last bool) error {
	switch {
	case last:
		c.Source.Snapshot = "last"
		c.TxLast = true
	case c.TxIndex == 1:
		c.Source.Snapshot = "first"
	default:
		c.Source.Snapshot = "true"
	}
	if err := e.h.Change(e.ctx, c); err != nil {
		e.err = err
		return err
	}
	return nil
}
