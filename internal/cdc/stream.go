package cdc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// Transaction buffering: a transaction's changes are held until its
// commit so that each carries the commit's XID and the last is marked,
// up to these bounds; a bigger transaction is handed over as it is read
// (its early changes then have XID 0).
const (
	maxBufferedChanges = 4096
	maxBufferedBytes   = 8 << 20
)

// Reconnecting after the connection to the server drops.
const (
	maxReconnects  = 8
	firstBackoff   = 250 * time.Millisecond
	maxBackoff     = 8 * time.Second
	serverIdleBeat = 30 * time.Second
)

// stream reads the binary log from a transaction boundary and turns its
// events into the handler's calls. Events are handled in go-mysql's
// reading goroutine (a synchronous event handler), one at a time, so
// the state needs no locks and no event is decoded before the DDL
// preceding it has been applied.
type stream struct {
	ctx    context.Context
	r      *runner
	cfg    *Config
	h      Handler
	c      *conn // for reloading table definitions at DDL
	tables *schemas

	// Position.
	file     string
	boundary Position
	gtids    *gtidState

	// The transaction being read.
	inTx       bool
	txStart    Position
	txGTID     string
	mariaGTID  *mysql.MariadbGTID
	mysqlSID   []byte
	mysqlGNO   int64
	txIndex    int // changes made so far, counting skipped ones
	delivered  int // changes of this transaction handed to the handler
	handed     int // changes handed to the handler, ever
	output     bool
	buf        []*Change
	bufBytes   int
	query      string
	threadID   uint64
	skip       int    // changes already delivered before a reconnect
	skipGTID   string // the transaction they belong to
	payloadEnd uint32 // end of the TRANSACTION_PAYLOAD event being unpacked

	plans      map[uint64]*rowPlan
	baseTables map[tableKey]bool
	checksum   bool
	lastCall   time.Time
	warned     map[string]bool
	// err is the error that stopped event handling (go-mysql wraps what
	// the handler returns; this keeps it intact).
	err error
}

func newStream(ctx context.Context, r *runner, c *conn, tables *schemas) *stream {
	return &stream{ctx: ctx, r: r, cfg: r.cfg, h: r.h, c: c, tables: tables,
		plans: map[uint64]*rowPlan{}, baseTables: map[tableKey]bool{}, lastCall: time.Now(), warned: map[string]bool{}}
}

// run streams from a boundary until the context ends or an error, and
// reconnects (from the last boundary, skipping what was already
// delivered) when the connection drops.
func (s *stream) run(from Position) error {
	if from.Flavor == "" {
		from.Flavor = s.r.srv.flavor
	}
	s.boundary = from
	s.file = from.File
	gset := ""
	if s.r.srv.gtids {
		gset = from.GTIDSet
	}
	var err error
	if s.gtids, err = newGTIDState(s.r.srv.flavor, gset); err != nil {
		return err
	}
	attempt := 0
	for {
		s.resetTx()
		before, handed := s.boundary, s.handed
		err := s.once(s.boundary)
		if s.err != nil {
			return s.err
		}
		if s.ctx.Err() != nil {
			return s.ctx.Err()
		}
		if code := mysqlErrorCode(err); code != 0 {
			return s.serverError(code, err)
		}
		var bad *replication.EventError
		if errors.As(err, &bad) {
			return fmt.Errorf("cdc: cannot decode the binary log after %s: %w", s.boundary, err)
		}
		if s.boundary != before || s.handed != handed {
			attempt = 0 // it made progress: the connection was not the problem
		}
		attempt++
		if attempt > maxReconnects {
			return fmt.Errorf("cdc: binlog connection lost %d times in a row: %w", maxReconnects, err)
		}
		// Resume from the last boundary; the changes of the interrupted
		// transaction that the handler already has are not repeated.
		s.skip, s.skipGTID = 0, ""
		if s.inTx {
			s.skip, s.skipGTID = s.delivered, s.txGTID
		}
		backoff := firstBackoff << (attempt - 1)
		if backoff > maxBackoff {
			backoff = maxBackoff
		}
		s.r.log.Warn("binlog connection lost; reconnecting", "error", err.Error(), "position", s.boundary.String(), "in", backoff)
		select {
		case <-s.ctx.Done():
			return s.ctx.Err()
		case <-time.After(backoff):
		}
	}
}

// serverError turns an error the server sent on the binlog connection
// into an *Error where the user must act.
func (s *stream) serverError(code uint16, err error) error {
	switch code {
	case mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG:
		return purgedError(s.boundary, "the server cannot send the binary log from there", s.cfg.Keys, err)
	case mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, mysql.ER_ACCESS_DENIED_ERROR, mysql.ER_DBACCESS_DENIED_ERROR:
		return &Error{Kind: KindPrivilege, Msg: "the server refused to send the binary log", Err: err,
			Hint: fmt.Sprintf("run GRANT REPLICATION SLAVE ON *.* TO %s", s.r.srv.user)}
	}
	return fmt.Errorf("cdc: binlog stream: %w", err)
}

// once runs one binlog connection until it fails or the context ends.
func (s *stream) once(from Position) error {
	period := serverIdleBeat
	if hb := s.cfg.HeartbeatInterval; hb > 0 && hb < period {
		period = hb
	}
	flags := uint16(0)
	if s.r.srv.flavor == flavorMariaDB {
		flags |= replication.BINLOG_SEND_ANNOTATE_ROWS_EVENT
	}
	var dialer client.Dialer
	if wrap := s.cfg.wrapBinlogConn; wrap != nil {
		dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return wrap(c), nil
		}
	}
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		Dialer:                  dialer,
		ServerID:                s.cfg.ServerID,
		Flavor:                  s.r.srv.flavor,
		Host:                    s.cfg.Host,
		Port:                    uint16(s.cfg.Port),
		User:                    s.cfg.User,
		Password:                s.cfg.Password,
		TimestampStringLocation: time.UTC,
		HeartbeatPeriod:         period,
		// Heartbeats keep an idle connection reading; a slow handler can
		// outlast this, which costs a reconnection, not a change.
		ReadTimeout:             3*period + time.Minute,
		DisableRetrySync:        true,
		DiscardGTIDSet:          true,
		DumpCommandFlag:         flags,
		EventCacheCount:         1,
		Logger:                  libraryLogger(s.r.log),
		SynchronousEventHandler: s,
	})
	defer syncer.Close()
	var (
		st  *replication.BinlogStreamer
		err error
	)
	if s.r.useGTID(from) {
		var set mysql.GTIDSet
		if set, err = mysql.ParseGTIDSet(s.r.srv.flavor, from.GTIDSet); err != nil {
			return fmt.Errorf("cdc: GTID set %q: %w", from.GTIDSet, err)
		}
		st, err = syncer.StartSyncGTID(set)
	} else {
		st, err = syncer.StartSync(mysql.Position{Name: from.File, Pos: from.Pos})
	}
	if err != nil {
		return err
	}
	_, err = st.GetEvent(s.ctx) // events go to HandleEvent; this waits for the end
	syncer.Close()              // waits for HandleEvent to return
	return err
}

// HandleEvent is go-mysql's synchronous event handler.
func (s *stream) HandleEvent(e *replication.BinlogEvent) error {
	if err := s.handle(e); err != nil {
		if s.err == nil {
			s.err = err
		}
		return err
	}
	return nil
}

func (s *stream) handle(e *replication.BinlogEvent) error {
	h := e.Header
	switch ev := e.Event.(type) {
	case *replication.RotateEvent:
		s.file = string(ev.NextLogName)
	case *replication.FormatDescriptionEvent:
		s.checksum = ev.ChecksumAlgorithm == replication.BINLOG_CHECKSUM_ALG_CRC32
	case *replication.MariadbGTIDEvent:
		id := ev.GTID
		s.gtidEvent(mariaGTID(id))
		s.mariaGTID = &id
		if !ev.IsStandalone() {
			s.begin()
		}
	case *replication.GTIDEvent:
		s.gtidEvent("")
		if !isZero(ev.SID) {
			s.mysqlSID, s.mysqlGNO = ev.SID, ev.GNO
			s.txGTID = mysqlGTID(ev.SID, ev.GNO)
		}
	case *replication.GtidTaggedLogEvent:
		s.gtidEvent("")
		s.mysqlSID, s.mysqlGNO = ev.SID, ev.GNO
		s.txGTID = mysqlGTID(ev.SID, ev.GNO)
	case *replication.QueryEvent:
		return s.queryEvent(h, ev)
	case *replication.XIDEvent:
		return s.commit(h, ev.XID)
	case *replication.TableMapEvent:
		return s.tableMap(e, ev)
	case *replication.RowsEvent:
		return s.rows(h, ev)
	case *replication.MariadbAnnotateRowsEvent:
		s.query = string(ev.Query)
	case *replication.RowsQueryEvent:
		s.query = string(ev.Query)
	case *replication.TransactionPayloadEvent:
		s.payloadEnd = h.LogPos
		defer func() { s.payloadEnd = 0 }()
		for _, inner := range ev.Events {
			if err := s.handle(inner); err != nil {
				return err
			}
		}
	default:
		switch h.EventType {
		case replication.HEARTBEAT_EVENT, replication.HEARTBEAT_LOG_EVENT_V2:
			return s.idle()
		case replication.XA_PREPARE_LOG_EVENT:
			// A prepared XA transaction: its changes are delivered now;
			// the XA COMMIT that follows later carries none.
			return s.commit(h, 0)
		}
	}
	return nil
}

// gtidEvent starts a new transaction's identity.
func (s *stream) gtidEvent(gtid string) {
	if s.inTx {
		s.warnOnce("gtid", "a transaction started before the previous one ended; its changes continue the previous one",
			"gtid", gtid)
	}
	s.txGTID = gtid
	s.mariaGTID = nil
	s.mysqlSID = nil
	// The thread is the one of this transaction's BEGIN statement, if
	// the log has one: MariaDB's GTID event stands in for BEGIN and
	// carries no thread, and an earlier statement's must not linger.
	s.threadID = 0
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// begin starts a multi-event transaction.
func (s *stream) begin() {
	if s.inTx {
		return
	}
	s.inTx = true
	s.txStart = s.boundary
	s.txIndex, s.delivered, s.output = 0, 0, false
	s.buf = s.buf[:0]
	s.bufBytes = 0
	s.query = ""
	if s.skip > 0 && s.skipGTID != "" && s.txGTID != s.skipGTID {
		s.r.log.Warn("the transaction read after reconnecting is not the interrupted one; nothing skipped",
			"want", s.skipGTID, "got", s.txGTID)
		s.skip = 0
	}
}

// resetTx forgets a transaction cut short by a lost connection.
func (s *stream) resetTx() {
	s.inTx = false
	s.buf = s.buf[:0]
	s.bufBytes = 0
	s.query = ""
	s.txGTID = ""
	s.threadID = 0
	s.mariaGTID, s.mysqlSID = nil, nil
	s.plans = map[uint64]*rowPlan{}
}

// queryEvent handles a statement: a transaction's BEGIN or COMMIT, or a
// statement that is its own transaction (DDL).
func (s *stream) queryEvent(h *replication.EventHeader, ev *replication.QueryEvent) error {
	q := strings.TrimSpace(string(ev.Query))
	switch strings.ToUpper(q) {
	case "BEGIN":
		s.threadID = uint64(ev.SlaveProxyID)
		s.begin()
		return nil
	case "COMMIT", "ROLLBACK":
		// Non-transactional tables end a transaction with a statement.
		return s.commit(h, 0)
	}
	db := string(ev.Schema)
	if s.inTx {
		// A statement inside a transaction: SAVEPOINT and the like, or a
		// change logged as a statement, which a row reader cannot see.
		if st := parseStatement(q, db); st.dml {
			s.warnOnce("statement", "a change was logged as a statement and is not captured; is binlog_format ROW for every session?",
				"query", abbreviate(q))
		}
		return nil
	}
	// A statement alone in its transaction.
	s.inTx = true
	s.txStart = s.boundary
	s.txIndex, s.delivered, s.output = 0, 0, false
	s.threadID = uint64(ev.SlaveProxyID)
	if ev.ErrorCode == 0 {
		if err := s.statement(h, ev, q, db); err != nil {
			return err
		}
	}
	return s.commit(h, 0)
}

// statement handles a DDL statement: reloads the tables it touches and
// tells the handler, or turns TRUNCATE into a change.
func (s *stream) statement(h *replication.EventHeader, ev *replication.QueryEvent, q, db string) error {
	st := parseStatement(q, db)
	if st.dml {
		s.warnOnce("statement", "a change was logged as a statement and is not captured; is binlog_format ROW for every session?",
			"query", abbreviate(q))
		return nil
	}
	if !st.schema || st.temporary {
		return nil
	}
	src := s.source(h) // its ThreadID is the statement's, set by queryEvent
	src.Query = q
	src.Pos = Position{File: s.file, Pos: s.endPos(h), GTIDSet: s.nextGTIDs(), Flavor: s.r.srv.flavor}

	if st.kind == "TRUNCATE" {
		return s.truncate(st, src)
	}
	if st.database {
		return s.databaseStatement(st, q, src)
	}
	involved := append(append([]tableKey(nil), st.tables...), st.renamed...)
	captured := false
	for _, k := range involved {
		if s.cfg.captured(k.db, k.name) {
			captured = true
		}
	}
	if len(involved) == 0 {
		// CREATE VIEW, CREATE TRIGGER, ...: reported when the database
		// holds captured tables.
		if st.kind == "" && q != "" && len(s.tables.inDB(db)) > 0 {
			return s.emitSchema(&SchemaChange{DB: db, DDL: q, Source: src})
		}
		return nil
	}
	if !captured {
		return nil
	}
	sc := &SchemaChange{DB: db, DDL: q, Kind: st.kind, Source: src}
	if st.kind == "DROP" {
		s.dropTables(sc, st)
	} else if err := s.reloadTables(sc, st, q); err != nil {
		return err
	}
	return s.emitSchema(sc)
}

// truncate turns TRUNCATE TABLE of a captured table into a change.
func (s *stream) truncate(st statement, src Source) error {
	if len(st.tables) == 0 || !s.cfg.captured(st.tables[0].db, st.tables[0].name) {
		return nil
	}
	k := st.tables[0]
	t := s.tables.get(k.db, k.name)
	if t == nil {
		t = &Table{DB: k.db, Name: k.name}
	}
	s.txIndex = 1
	return s.deliver(&Change{Op: OpTruncate, Table: t, Source: src, TxIndex: 1, TxLast: true})
}

// dropTables forgets the captured tables a DROP TABLE drops, reporting
// each with its last definition.
func (s *stream) dropTables(sc *SchemaChange, st statement) {
	for _, k := range st.tables {
		if !s.cfg.captured(k.db, k.name) {
			continue
		}
		old := s.tables.get(k.db, k.name)
		if old == nil {
			old = &Table{DB: k.db, Name: k.name}
		}
		s.tables.remove(k.db, k.name)
		sc.Tables = append(sc.Tables, old)
		sc.Before = append(sc.Before, old)
	}
}

// reloadTables reads the definitions of the tables a CREATE, ALTER or
// RENAME leaves, reporting each with the one it had before (under its
// old name for a rename).
func (s *stream) reloadTables(sc *SchemaChange, st statement, q string) error {
	fresh, err := s.reload(st.tables)
	if err != nil {
		return err
	}
	for i, k := range st.tables {
		var old *Table
		if i < len(st.renamed) {
			from := st.renamed[i]
			old = s.tables.get(from.db, from.name)
			s.tables.remove(from.db, from.name)
		} else if st.kind != "CREATE" {
			old = s.tables.get(k.db, k.name)
		}
		t := fresh[k]
		if t == nil {
			if !s.cfg.captured(k.db, k.name) {
				continue
			}
			// Dropped or renamed again later in the log: the
			// definition after this statement is unknown here; the
			// rows' own metadata will describe them.
			s.r.log.Warn("table definition not found after DDL; a later statement changed it again",
				"table", k.String(), "ddl", abbreviate(q))
			s.tables.remove(k.db, k.name)
			continue
		}
		s.tables.put(t)
		sc.Tables = append(sc.Tables, t)
		sc.Before = append(sc.Before, old)
	}
	return nil
}

// reload reads tables' definitions now, reconnecting once if the
// connection kept for it has gone stale.
func (s *stream) reload(keys []tableKey) (map[tableKey]*Table, error) {
	fresh, err := loadTables(s.c, s.cfg, s.r.srv.flavor, keys)
	if err == nil || s.ctx.Err() != nil || mysqlErrorCode(err) != 0 {
		return fresh, err
	}
	c, derr := dial(s.ctx, s.cfg)
	if derr != nil {
		return nil, err
	}
	s.c.Close()
	s.c = c
	return loadTables(s.c, s.cfg, s.r.srv.flavor, keys)
}

// databaseStatement handles CREATE/ALTER/DROP DATABASE.
func (s *stream) databaseStatement(st statement, q string, src Source) error {
	if systemSchemas[st.db] || !s.cfg.captured(st.db, "") && len(s.tables.inDB(st.db)) == 0 {
		return nil
	}
	sc := &SchemaChange{DB: st.db, DDL: q, Kind: st.kind, Database: true, Source: src}
	if st.kind == "DROP" {
		for _, t := range s.tables.inDB(st.db) {
			s.tables.remove(t.DB, t.Name)
			sc.Tables = append(sc.Tables, t)
			sc.Before = append(sc.Before, t)
		}
	}
	return s.emitSchema(sc)
}

func (s *stream) emitSchema(sc *SchemaChange) error {
	// Table ids may now describe other definitions.
	s.plans = map[uint64]*rowPlan{}
	clear(s.baseTables)
	s.txIndex = 1
	s.output = true
	return s.h.Schema(s.ctx, sc)
}

// tableMap prepares the decoding of the rows that follow.
func (s *stream) tableMap(e *replication.BinlogEvent, tm *replication.TableMapEvent) error {
	body := e.RawData[replication.EventHeaderSize:]
	if s.checksum && len(body) >= replication.BinlogChecksumLength {
		body = body[:len(body)-replication.BinlogChecksumLength]
	}
	if p := s.plans[tm.TableID]; p != nil && bytes.Equal(p.body, body) {
		return nil
	}
	if len(s.plans) > 4096 {
		s.plans = map[uint64]*rowPlan{}
	}
	db, name := string(tm.Schema), string(tm.Table)
	if !s.cfg.captured(db, name) {
		s.plans[tm.TableID] = &rowPlan{body: bytes.Clone(body), skip: true}
		return nil
	}
	known := s.tables.get(db, name)
	if known == nil {
		// Not a tracked base table: a sequence (MariaDB logs NEXTVAL as
		// rows), or a table dropped or renamed later in the log.
		base, err := s.isBaseTable(db, name)
		if err != nil {
			return err
		}
		if !base {
			s.plans[tm.TableID] = &rowPlan{body: bytes.Clone(body), skip: true}
			return nil
		}
	}
	p, err := buildPlan(tm, known, s.r.srv.flavor, s.r.srv.collations)
	if err != nil {
		return err
	}
	p.body = bytes.Clone(body)
	s.plans[tm.TableID] = p
	return nil
}

// isBaseTable reports whether a table the tracker does not know is a
// base table, as opposed to a sequence or view; a table that no longer
// exists counts as one. Answers are kept until the next DDL.
func (s *stream) isBaseTable(db, name string) (bool, error) {
	k := tableKey{db, name}
	if base, ok := s.baseTables[k]; ok {
		return base, nil
	}
	row, ok, err := s.c.row(fmt.Sprintf("SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
		quoteString(db), quoteString(name)))
	if err != nil {
		return false, fmt.Errorf("cdc: look up %s: %w", k, err)
	}
	base := !ok || row[0].s == "BASE TABLE" || row[0].s == "SYSTEM VERSIONED"
	s.baseTables[k] = base
	return base, nil
}

// rows turns a rows event into changes.
func (s *stream) rows(h *replication.EventHeader, ev *replication.RowsEvent) error {
	p := s.plans[ev.TableID]
	if p == nil || p.skip {
		return nil
	}
	if !s.inTx {
		s.begin()
	}
	op, step := OpCreate, 1
	switch ev.Type() {
	case replication.EnumRowsEventTypeUpdate:
		op, step = OpUpdate, 2
	case replication.EnumRowsEventTypeDelete:
		op = OpDelete
	case replication.EnumRowsEventTypeInsert:
	default:
		return nil
	}
	src := s.source(h)
	src.Pos = s.txStart
	for i := 0; i+step <= len(ev.Rows); i += step {
		s.txIndex++
		if s.skip > 0 {
			// Delivered before the connection dropped.
			s.skip--
			s.delivered++
			s.output = true
			continue
		}
		c := &Change{Op: op, Table: p.table, Source: src, TxIndex: s.txIndex}
		c.Source.Row = i / step
		switch op {
		case OpCreate:
			c.After = p.convert(ev.Rows[i])
		case OpDelete:
			c.Before = p.convert(ev.Rows[i])
		case OpUpdate:
			c.Before = p.convert(ev.Rows[i])
			c.After = p.convert(ev.Rows[i+1])
		}
		s.buf = append(s.buf, c)
	}
	s.bufBytes += int(h.EventSize)
	if len(s.buf) > maxBufferedChanges || s.bufBytes > maxBufferedBytes {
		// Too big to hold: hand over all but the last, which waits to
		// learn whether it ends the transaction.
		n := len(s.buf) - 1
		for _, c := range s.buf[:n] {
			if err := s.deliver(c); err != nil {
				return err
			}
		}
		s.buf[0] = s.buf[n]
		clear(s.buf[1:])
		s.buf = s.buf[:1]
		s.bufBytes = 0
	}
	return nil
}

// source fills in what every change of an event shares.
func (s *stream) source(h *replication.EventHeader) Source {
	end := s.endPos(h)
	return Source{
		File:     s.file,
		EventPos: end - h.EventSize,
		GTID:     s.txGTID,
		ServerID: h.ServerID,
		ThreadID: s.threadID,
		Time:     time.Unix(int64(h.Timestamp), 0),
		Query:    s.query,
	}
}

// endPos is where an event ends (inside a compressed transaction
// payload, where the payload ends).
func (s *stream) endPos(h *replication.EventHeader) uint32 {
	if h.LogPos == 0 && s.payloadEnd != 0 {
		return s.payloadEnd
	}
	return h.LogPos
}

// nextGTIDs is the GTID state once the current transaction commits.
func (s *stream) nextGTIDs() string {
	switch {
	case s.mariaGTID != nil:
		s.gtids.addMariaDB(*s.mariaGTID)
		s.mariaGTID = nil
	case s.mysqlSID != nil && s.r.srv.gtids:
		if err := s.gtids.addMySQL(s.mysqlSID, s.mysqlGNO); err != nil {
			s.r.log.Warn("bad GTID", "error", err)
		}
		s.mysqlSID = nil
	}
	return s.gtids.String()
}

// commit ends the transaction: its changes go to the handler, the last
// marked and carrying the new boundary, then Boundary.
func (s *stream) commit(h *replication.EventHeader, xid uint64) error {
	pos := Position{File: s.file, Pos: s.endPos(h), GTIDSet: s.nextGTIDs(), Flavor: s.r.srv.flavor}
	for i, c := range s.buf {
		c.Source.XID = xid
		if i == len(s.buf)-1 {
			c.TxLast = true
			c.Source.Pos = pos
		}
		if err := s.deliver(c); err != nil {
			return err
		}
	}
	clear(s.buf)
	s.buf = s.buf[:0]
	s.bufBytes = 0
	s.boundary = pos
	s.inTx = false
	s.query = ""
	s.txGTID = ""
	s.threadID = 0
	s.skip, s.skipGTID = 0, ""
	if s.output {
		s.output = false
		s.lastCall = time.Now()
		return s.h.Boundary(s.ctx, pos)
	}
	return s.idle()
}

// deliver hands a change to the handler.
func (s *stream) deliver(c *Change) error {
	s.delivered++
	s.handed++
	s.output = true
	return s.h.Change(s.ctx, c)
}

// idle sends a heartbeat when nothing was sent for the interval.
func (s *stream) idle() error {
	hb := s.cfg.HeartbeatInterval
	if hb <= 0 || s.inTx {
		return nil
	}
	now := time.Now()
	if now.Sub(s.lastCall) < hb {
		return nil
	}
	s.lastCall = now
	return s.h.Heartbeat(s.ctx, s.boundary)
}

func (s *stream) warnOnce(key, msg string, args ...any) {
	if s.warned[key] {
		return
	}
	s.warned[key] = true
	s.r.log.Warn(msg, args...)
}
