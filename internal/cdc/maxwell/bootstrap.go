package maxwell

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/tributary-data/tributary/internal/cdc"
)

// Bootstrap timing.
const (
	// bootstrapPoll is how often due bootstrap requests are looked for
	// besides the binlog trigger, for requests scheduled through
	// started_at and for restarts. Maxwell looks every second.
	bootstrapPoll = 5 * time.Second
	// progressEvery is how often inserted_rows is updated, as in Maxwell.
	progressEvery = time.Second
)

// Bootstrap requests a bootstrap of database.table (rows matching where,
// if given) from the Maxwell daemon whose client_id is cfg.ClientID: it
// inserts the request into the schema database's bootstrap table, as
// maxwell-bootstrap does. The daemon sees the insert in the binlog and
// re-reads the table into the stream. Bootstrap returns once the request
// is stored; it does not wait for the daemon.
func Bootstrap(ctx context.Context, cfg *Config, database, table, where string) error {
	_, err := RequestBootstrap(ctx, cfg, database, table, where, "")
	return err
}

// RequestBootstrap is Bootstrap with maxwell-bootstrap's --comment,
// returning the request's id.
func RequestBootstrap(ctx context.Context, cfg *Config, database, table, where, comment string) (int64, error) {
	if database == "" || table == "" {
		return 0, errors.New("bootstrap: a database and a table are required")
	}
	if err := cfg.prepare(); err != nil {
		return 0, err
	}
	src := newConn(cfg.ReplicationHost, cfg.ReplicationPort, cfg.ReplicationUser, cfg.ReplicationPassword)
	defer src.close()
	db := newConn(cfg.Host, cfg.Port, cfg.User, cfg.Password)
	defer db.close()
	store := &stateStore{db: db, schema: quoteIdent(cfg.SchemaDatabase), clientID: cfg.ClientID}
	if err := store.ensureSchema(ctx); err != nil {
		return 0, fmt.Errorf("bootstrap: %w", err)
	}
	// total_rows, as maxwell-bootstrap counts them for its progress.
	q := "SELECT COUNT(*) FROM " + quoteIdent(database) + "." + quoteIdent(table)
	if where != "" {
		q += " WHERE " + where
	}
	r, err := src.exec(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("bootstrap: counting rows of %s.%s: %w", database, table, err)
	}
	total, _ := r.GetInt(0, 0)
	r.Close()
	id, err := store.insertBootstrap(ctx, database, table, where, comment, total)
	if err != nil {
		return 0, fmt.Errorf("bootstrap: %w", err)
	}
	return id, nil
}

// bootstrapper runs Maxwell's bootstraps: for each incomplete request
// in the bootstrap table it emits bootstrap-start, one bootstrap-insert
// per row of `SELECT * ... [WHERE ...] ORDER BY <primary key>`, and
// bootstrap-complete, then marks the request complete.
//
// In async mode (Maxwell's default) it runs beside replication, and the
// binlog rows of the table being bootstrapped are held back and emitted
// after bootstrap-complete, so a consumer sees the snapshot and then the
// changes made since. In sync mode replication waits while it runs.
type bootstrapper struct {
	async bool
	store *stateStore
	// src reads the bootstrapped tables; it is the replication server.
	src *conn
	// dialSrc opens the streaming connection for a table's rows.
	dialSrc func(ctx context.Context) (*rowStream, error)
	enc     *encoder
	out     emitter
	rows    *pipeline
	log     *slog.Logger
	trigger chan struct{}

	mu     sync.Mutex
	active *bootstrapTask
	held   []*rowEvent

	// sync mode: due says a request may be waiting; last is when the
	// table was last looked at.
	due  bool
	last time.Time
}

// rowStream is the streaming part of a MySQL connection the
// bootstrapper needs.
type rowStream struct {
	exec  func(query string, perRow func(row []mysql.FieldValue) error) error
	close func()
}

// notify says a bootstrap request was inserted.
func (b *bootstrapper) notify() {
	if b.async {
		select {
		case b.trigger <- struct{}{}:
		default:
		}
		return
	}
	b.due = true
}

// hold keeps back a binlog row of the table an async bootstrap is
// reading.
func (b *bootstrapper) hold(r *rowEvent) bool {
	if !b.async {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.active == nil || !sameTable(b.active.database, b.active.table, r.database, r.table) {
		return false
	}
	b.held = append(b.held, r)
	return true
}

// atBoundary runs due bootstraps between transactions in sync mode.
func (b *bootstrapper) atBoundary(ctx context.Context) error {
	if b.async || (!b.due && time.Since(b.last) < bootstrapPoll) {
		return nil
	}
	b.due = false
	b.last = time.Now()
	if err := b.runDue(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// loop runs due bootstraps in async mode until ctx ends.
func (b *bootstrapper) loop(ctx context.Context) error {
	t := time.NewTicker(bootstrapPoll)
	defer t.Stop()
	for {
		if err := b.runDue(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-b.trigger:
		case <-t.C:
		}
	}
}

// runDue runs the due requests in order. A request that fails (a bad
// where clause, a lost connection) is logged and left incomplete, to be
// tried again at the next look, as Maxwell does; only the end of ctx
// stops the caller.
func (b *bootstrapper) runDue(ctx context.Context) error {
	tasks, err := b.store.incompleteTasks(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.log.Error("bootstrap: reading requests", "err", err)
		return nil
	}
	for i := range tasks {
		if err := b.run(ctx, &tasks[i]); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.log.Error("bootstrap failed; it will be tried again", "id", tasks[i].id,
				"database", tasks[i].database, "table", tasks[i].table, "err", err)
		}
	}
	return nil
}

// event builds a bootstrap row: no xid, no position, the time now.
func (b *bootstrapper) event(typ string, t *bootstrapTask, pk []string) *rowEvent {
	return &rowEvent{typ: typ, database: t.database, table: t.table, ts: b.enc.now().Unix(),
		pkColumns: pk, comment: t.comment}
}

func (b *bootstrapper) emit(ctx context.Context, r *rowEvent) error {
	b.rows.rows.Add(1)
	return b.out.emit(ctx, b.enc.row(r))
}

// run performs one bootstrap.
func (b *bootstrapper) run(ctx context.Context, task *bootstrapTask) error {
	start := time.Now()
	table, err := readTable(ctx, b.src, task.database, task.table)
	if err != nil {
		return err
	}
	if table == nil {
		b.log.Error("bootstrap aborted: couldn't find db/table", "id", task.id, "database", task.database, "table", task.table)
		return b.store.bootstrapCompleted(ctx, task.id, 0)
	}
	b.log.Info("bootstrapping started", "id", task.id, "database", task.database, "table", task.table, "where", task.where)
	if b.async {
		b.mu.Lock()
		b.active = task
		b.mu.Unlock()
	}
	n, err := b.copyRows(ctx, task, table)
	switch {
	case errors.Is(err, errBootstrapGone):
		b.log.Info("bootstrapping aborted: the request was deleted", "id", task.id)
	case err != nil:
		// The held rows go out now, without bootstrap-complete; the
		// request stays incomplete and runs again.
		if rerr := b.release(ctx, nil); rerr != nil {
			return rerr
		}
		return err
	}
	if err := b.release(ctx, b.event("bootstrap-complete", task, nil)); err != nil {
		return err
	}
	if f, ok := b.out.(interface{ flushed(context.Context) error }); ok {
		if err := f.flushed(ctx); err != nil {
			return err
		}
	}
	if err := b.store.bootstrapCompleted(ctx, task.id, n); err != nil {
		return err
	}
	b.log.Info("bootstrapping ended", "id", task.id, "database", task.database, "table", task.table,
		"rows", n, "seconds", time.Since(start).Round(time.Millisecond).Seconds())
	return nil
}

// release emits bootstrap-complete (when given) and the rows held back
// meanwhile, then lets the table's rows flow again. It holds the lock
// throughout, so no row of the table can slip in between.
func (b *bootstrapper) release(ctx context.Context, complete *rowEvent) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	held := b.held
	b.held, b.active = nil, nil
	if complete != nil {
		if err := b.emit(ctx, complete); err != nil {
			return err
		}
	}
	for _, r := range held {
		if err := b.emit(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// copyRows emits bootstrap-start and the table's rows.
func (b *bootstrapper) copyRows(ctx context.Context, task *bootstrapTask, table *cdc.Table) (int64, error) {
	if err := b.emit(ctx, b.event("bootstrap-start", task, table.PrimaryKey)); err != nil {
		return 0, err
	}
	if err := b.store.bootstrapStarted(ctx, task.id); err != nil {
		return 0, err
	}
	q := "SELECT * FROM " + quoteIdent(task.database) + "." + quoteIdent(task.table)
	if strings.TrimSpace(task.where) != "" {
		q += " WHERE " + task.where
	}
	if len(table.PrimaryKey) > 0 {
		cols := make([]string, len(table.PrimaryKey))
		for i, c := range table.PrimaryKey {
			cols[i] = quoteIdent(c)
		}
		q += " ORDER BY " + strings.Join(cols, ", ")
	}
	conn, err := b.dialSrc(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.close()
	var n int64
	lastProgress := time.Time{}
	row := make(cdc.Row, len(table.Columns))
	err = conn.exec(q, func(values []mysql.FieldValue) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := range table.Columns {
			if i >= len(values) {
				row[i] = nil
				continue
			}
			v, err := textValue(&table.Columns[i], &values[i])
			if err != nil {
				return err
			}
			row[i] = v
		}
		r := b.event("bootstrap-insert", task, table.PrimaryKey)
		r.data = rowFields(table, row, b.enc.out)
		if err := b.emit(ctx, r); err != nil {
			return err
		}
		n++
		if time.Since(lastProgress) > progressEvery {
			lastProgress = time.Now()
			if err := b.store.bootstrapProgress(ctx, task.id, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if errors.Is(err, errBootstrapGone) {
			return n, err
		}
		return n, fmt.Errorf("reading %s.%s: %w", task.database, task.table, err)
	}
	return n, nil
}
