package cdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Handler receives what Run reads, in order, from one goroutine. Each
// call may block (that is how a slow consumer slows the reader); an error
// stops Run, which returns it. Changes, rows and schema changes handed
// over belong to the handler from then on and are never changed by the
// reader; a *Table is shared by every change written under that
// definition and must not be modified.
type Handler interface {
	// Change is one row change (or a snapshot read, or a truncate).
	Change(ctx context.Context, c *Change) error
	// Schema is a DDL statement, or in a snapshot a captured table's
	// CREATE TABLE.
	Schema(ctx context.Context, s *SchemaChange) error
	// Boundary follows the last change of each transaction that had
	// changes for the handler (and the end of the snapshot) with the
	// position to resume from: offsets are committed here. Transactions
	// with nothing captured get no Boundary; heartbeats carry their
	// position.
	Boundary(ctx context.Context, pos Position) error
	// Heartbeat is called every Config.HeartbeatInterval while nothing
	// else was called, with the position of the last transaction read
	// (whether it was captured or not), so an idle or filtered stream
	// still moves its offsets and shows it is alive.
	Heartbeat(ctx context.Context, pos Position) error
}

// Run reads the server's changes into h until ctx ends or an error
// stops it: a snapshot first if the snapshot mode and from call for one,
// then the binary log from the snapshot's position or from, which is the
// position of the last Boundary the caller committed (nil when none).
// Reading always resumes at a transaction boundary, so after a crash the
// transaction that was being delivered arrives again whole.
//
// Before reading, Run checks the server and account and fails with an
// *Error saying what to fix: a missing privilege, a binary log that is
// off or not in ROW format with FULL images, a stored position whose
// binary log was purged. Run writes nothing anywhere, so such an error
// leaves the stored position valid. Tables without a primary key are
// captured like any other, as Debezium and Maxwell capture them: their
// Table.PrimaryKey is empty. It returns ctx.Err() when ctx ends, and nil
// after an initial_only snapshot.
func Run(ctx context.Context, cfg Config, from *Position, h Handler) error {
	cfg, err := cfg.normalized()
	if err != nil {
		return err
	}
	if h == nil {
		return &Error{Kind: KindConfig, Msg: "no handler"}
	}
	r := &runner{cfg: &cfg, h: h, log: cfg.Logger}
	return r.run(ctx, from)
}

// runner holds one Run's state.
type runner struct {
	cfg *Config
	h   Handler
	log *slog.Logger
	srv *server
}

func (r *runner) run(ctx context.Context, from *Position) error {
	c, err := dial(ctx, r.cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	if r.srv, err = inspect(c); err != nil {
		return r.ctxErr(ctx, err)
	}
	if err := r.checkStart(from); err != nil {
		return err
	}
	if r.cfg.Snapshot == SnapshotInitialOnly && from != nil {
		r.log.Info("snapshot already taken; initial_only does not stream")
		return nil
	}
	current, err := loadTables(c, r.cfg, r.srv.flavor, nil)
	if err != nil {
		return r.ctxErr(ctx, err)
	}
	tables := newSchemas(current).sorted()
	snapshot, err := r.needSnapshot(c, tables, from)
	if err != nil {
		return r.ctxErr(ctx, err)
	}
	start, known, stream, err := r.startAt(ctx, c, from, snapshot, current, tables)
	if err != nil || !stream {
		return r.ctxErr(ctx, err)
	}
	s := newStream(ctx, r, c, newSchemas(known))
	defer func() { s.c.Close() }() // may be a replacement of c
	return r.ctxErr(ctx, s.run(start))
}

// checkStart refuses a server without a usable binary log and a stored
// position this server cannot have written, and warns when rows will be
// decoded with a tracked schema.
func (r *runner) checkStart(from *Position) error {
	if err := r.srv.checkBinlog(); err != nil {
		return err
	}
	if r.srv.rowMetadata != "FULL" {
		r.log.Warn("binlog_row_metadata is not FULL: rows are decoded with the schema tracked from DDL; "+
			"set binlog_row_metadata=FULL so rows written before a schema change decode with the schema they were written under",
			"binlog_row_metadata", r.srv.rowMetadata)
	}
	if from != nil && from.File == "" && from.GTIDSet == "" {
		return &Error{Kind: KindConfig, Msg: "the stored position has neither a binlog file nor GTIDs",
			Hint: "pass nil when there is no stored position"}
	}
	if from != nil && from.Flavor != "" && from.Flavor != r.srv.flavor {
		return &Error{Kind: KindConfig, Msg: fmt.Sprintf("the stored position is from a %s server and this one is %s", from.Flavor, r.srv.flavor),
			Hint: "reset the connector's offsets to read this server"}
	}
	return nil
}

// needSnapshot decides by the snapshot mode whether to take a snapshot,
// after checking the privileges that needs: when_needed takes one when
// the stored position is gone from the server, other modes fail then.
func (r *runner) needSnapshot(c *conn, tables []*Table, from *Position) (bool, error) {
	mode := r.cfg.Snapshot
	snapshot := false
	switch mode {
	case SnapshotAlways:
		snapshot = true
	case SnapshotInitial, SnapshotInitialOnly, SnapshotWhenNeeded:
		snapshot = from == nil
	}
	mayLock := (snapshot || mode == SnapshotWhenNeeded) && r.snapshotLock() != lockAuto
	if err := r.checkPrivileges(c, tables, mayLock); err != nil {
		return false, err
	}
	if from == nil || snapshot {
		return snapshot, nil
	}
	why, err := r.unavailable(c, *from)
	if err != nil || why == "" {
		return false, err
	}
	if mode != SnapshotWhenNeeded {
		return false, purgedError(*from, why, r.cfg.Keys, nil)
	}
	r.log.Warn("stored position no longer available; taking a new snapshot", "position", from.String(), "reason", why)
	return true, nil
}

// startAt finds where streaming starts, and the tables' definitions as
// of there: after a snapshot, at the stored position, at the current
// position once the schemas are reported (no_data), or at the oldest
// (never). stream is false when nothing is to be streamed (initial_only).
func (r *runner) startAt(ctx context.Context, c *conn, from *Position, snapshot bool, current map[tableKey]*Table, tables []*Table) (
	start Position, known map[tableKey]*Table, stream bool, err error) {
	switch {
	case snapshot:
		if start, known, err = r.snapshot(ctx); err != nil {
			return start, nil, false, err
		}
		return start, known, r.cfg.Snapshot != SnapshotInitialOnly, nil
	case from != nil:
		return *from, current, true, nil
	case r.cfg.Snapshot == SnapshotNoData:
		if start, err = r.currentPosition(c); err != nil {
			return start, nil, false, err
		}
		return start, current, true, r.schemaOnly(ctx, tables, start)
	default: // never
		start, err = r.oldestPosition(c)
		return start, current, err == nil, err
	}
}

// ctxErr reports the context's end rather than the failure it caused.
func (r *runner) ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// useGTID reports whether to resume from a position by its GTIDs.
func (r *runner) useGTID(pos Position) bool {
	return pos.GTIDSet != "" && r.srv.gtids
}

// snapshotLock is the snapshot's way to a consistent position.
func (r *runner) snapshotLock() lockMode {
	if r.cfg.snapshotLock != lockAuto {
		return r.cfg.snapshotLock
	}
	if r.srv.flavor == flavorMariaDB {
		return lockAuto
	}
	return lockGlobal
}

// schemaOnly reports the captured tables' definitions (no_data mode) and
// commits the starting position.
func (r *runner) schemaOnly(ctx context.Context, tables []*Table, pos Position) error {
	c, err := dial(ctx, r.cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, t := range tables {
		ddl, err := showCreate(c, t)
		if err != nil {
			return err
		}
		sc := &SchemaChange{DB: t.DB, DDL: ddl, Kind: "CREATE", Tables: []*Table{t}, Before: []*Table{nil},
			Source: Source{Pos: pos, File: pos.File, EventPos: pos.Pos, ServerID: r.srv.serverID, Snapshot: "true"}}
		if err := r.h.Schema(ctx, sc); err != nil {
			return err
		}
	}
	return r.h.Boundary(ctx, pos)
}

// showCreate returns a table's CREATE TABLE statement.
func showCreate(c *conn, t *Table) (string, error) {
	row, ok, err := c.row("SHOW CREATE TABLE " + quoteTable(t.DB, t.Name))
	if err != nil {
		return "", fmt.Errorf("cdc: %w", err)
	}
	if !ok || len(row) < 2 {
		return "", errors.New("cdc: SHOW CREATE TABLE " + t.DB + "." + t.Name + " returned nothing")
	}
	return row[1].s, nil
}
