package maxwell

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/tributary-data/tributary/internal/cdc"
)

// Maxwell's state tables, as its maxwell_schema*.sql create them. Only
// the tables Tributary uses are created: positions, bootstrap and
// heartbeats. Maxwell's schema store (schemas, databases, tables,
// columns) is not: the engine reads table definitions from the binlog.
var stateTables = []string{
	"CREATE TABLE IF NOT EXISTS `positions` (\n" +
		"  server_id int unsigned not null,\n" +
		"  binlog_file varchar(255),\n" +
		"  binlog_position int unsigned,\n" +
		"  gtid_set varchar(4096),\n" +
		"  client_id varchar(255) charset latin1 not null default 'maxwell',\n" +
		"  heartbeat_at bigint null default null,\n" +
		"  last_heartbeat_read bigint null default null,\n" +
		"  primary key(server_id, client_id)\n" +
		")",
	"CREATE TABLE IF NOT EXISTS `bootstrap` (\n" +
		"  id              bigint auto_increment NOT NULL primary key,\n" +
		"  database_name   varchar(255) charset 'utf8' NOT NULL,\n" +
		"  table_name      varchar(255) charset 'utf8' NOT NULL,\n" +
		"  where_clause    text default NULL,\n" +
		"  is_complete     tinyint(1) unsigned NOT NULL default 0,\n" +
		"  inserted_rows   bigint(20) unsigned NOT NULL DEFAULT 0,\n" +
		"  total_rows      bigint(20) unsigned NOT NULL DEFAULT 0,\n" +
		"  created_at      DATETIME default NULL,\n" +
		"  started_at      DATETIME default NULL,\n" +
		"  completed_at    DATETIME default NULL,\n" +
		"  binlog_file     varchar(255) default NULL,\n" +
		"  binlog_position int unsigned default 0,\n" +
		"  client_id       varchar(255) charset 'latin1' not null default 'maxwell',\n" +
		"  comment         varchar(255) charset 'utf8' default NULL\n" +
		")",
	"CREATE TABLE IF NOT EXISTS `heartbeats` (\n" +
		"  server_id int unsigned not null,\n" +
		"  client_id varchar(255) charset latin1 not null default 'maxwell',\n" +
		"  heartbeat bigint not null,\n" +
		"  primary key(server_id, client_id)\n" +
		")",
}

// conn is a MySQL connection that reconnects once when a statement
// fails for want of one. It is safe for concurrent use; statements are
// serialised.
type conn struct {
	addr, user, password string
	mu                   sync.Mutex
	c                    *client.Conn
}

func newConn(host string, port int, user, password string) *conn {
	return &conn{addr: addr(host, port), user: user, password: password}
}

// dial opens a new connection with utf8mb4 and UTC for TIMESTAMPs. An
// UPDATE reports the rows it matched, not only those it changed, as
// with JDBC's default: a request's row is gone only when nothing
// matches.
func dial(ctx context.Context, address, user, password string) (*client.Conn, error) {
	foundRows := func(c *client.Conn) error {
		c.SetCapability(mysql.CLIENT_FOUND_ROWS)
		return nil
	}
	c, err := client.ConnectWithContext(ctx, address, user, password, "", 10*time.Second, foundRows)
	if err != nil {
		return nil, fmt.Errorf("connecting to mysql at %s: %w", address, err)
	}
	for _, s := range []string{"SET NAMES utf8mb4", "SET time_zone = '+00:00'"} {
		if _, err := c.Execute(s); err != nil {
			c.Close()
			return nil, fmt.Errorf("mysql at %s: %s: %w", address, s, err)
		}
	}
	return c, nil
}

// exec runs a statement; args make it a prepared statement.
func (c *conn) exec(ctx context.Context, query string, args ...any) (*mysql.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if c.c == nil {
			cc, err := dial(ctx, c.addr, c.user, c.password)
			if err != nil {
				return nil, err
			}
			c.c = cc
		}
		r, err := c.c.Execute(query, args...)
		if err == nil {
			return r, nil
		}
		var myErr *mysql.MyError
		if errors.As(err, &myErr) || attempt > 0 || ctx.Err() != nil {
			return nil, err
		}
		// The connection broke: drop it and try once more.
		c.c.Close()
		c.c = nil
	}
}

func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

// quoteIdent quotes a MySQL identifier.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// resultString reads a column of a result row; "" for NULL. go-mysql's
// GetString aliases the result's buffer, which goes back to a pool when
// the result is closed, so the string is copied.
func resultString(r *mysql.Result, row, col int) string {
	s, _ := r.GetString(row, col)
	return strings.Clone(s)
}

// stateStore keeps Maxwell's state in its schema database: positions,
// and the bootstrap requests.
type stateStore struct {
	db       *conn
	schema   string // schema_database, quoted
	clientID string
	// serverID keys positions: the source's @@server_id, or 0 in GTID
	// mode, as in Maxwell.
	serverID uint32
}

func (s *stateStore) table(name string) string { return s.schema + "." + quoteIdent(name) }

// ensureSchema creates the schema database and the state tables when
// they are missing.
func (s *stateStore) ensureSchema(ctx context.Context) error {
	if _, err := s.db.exec(ctx, "CREATE DATABASE IF NOT EXISTS "+s.schema); err != nil {
		return fmt.Errorf("creating schema database %s: %w", s.schema, err)
	}
	for _, ddl := range stateTables {
		ddl = strings.Replace(ddl, "IF NOT EXISTS `", "IF NOT EXISTS "+s.schema+".`", 1)
		if _, err := s.db.exec(ctx, ddl); err != nil {
			return fmt.Errorf("creating state table in %s: %w", s.schema, err)
		}
	}
	return nil
}

// position reads the stored position; nil when there is none.
func (s *stateStore) position(ctx context.Context, gtidMode bool) (*cdc.Position, error) {
	r, err := s.db.exec(ctx, "SELECT binlog_file, binlog_position, gtid_set FROM "+s.table("positions")+
		" WHERE server_id = ? AND client_id = ?", s.serverID, s.clientID)
	if err != nil {
		return nil, fmt.Errorf("reading position: %w", err)
	}
	defer r.Close()
	if r.RowNumber() == 0 {
		return nil, nil
	}
	pos, _ := r.GetUint(0, 1)
	p := &cdc.Position{File: resultString(r, 0, 0), Pos: uint32(pos)}
	if gtidMode {
		p.GTIDSet = resultString(r, 0, 2)
	}
	return p, nil
}

// setPosition stores a position with Maxwell's statement.
func (s *stateStore) setPosition(ctx context.Context, p cdc.Position, gtidMode bool) error {
	var gtid any
	if gtidMode && p.GTIDSet != "" {
		gtid = p.GTIDSet
	}
	_, err := s.db.exec(ctx, "INSERT INTO "+s.table("positions")+" SET server_id = ?, gtid_set = ?, binlog_file = ?, "+
		"binlog_position = ?, last_heartbeat_read = ?, client_id = ? ON DUPLICATE KEY UPDATE "+
		"last_heartbeat_read = ?, gtid_set = ?, binlog_file = ?, binlog_position = ?",
		s.serverID, gtid, p.File, p.Pos, 0, s.clientID, 0, gtid, p.File, p.Pos)
	if err != nil {
		return fmt.Errorf("storing position %s:%d: %w", p.File, p.Pos, err)
	}
	return nil
}

// bootstrapTask is a row of the bootstrap table.
type bootstrapTask struct {
	id              int64
	database, table string
	where           string
	comment         *string
}

// incompleteTasks lists this client's bootstrap requests that are due,
// in Maxwell's order.
func (s *stateStore) incompleteTasks(ctx context.Context) ([]bootstrapTask, error) {
	r, err := s.db.exec(ctx, "SELECT id, database_name, table_name, where_clause, comment FROM "+s.table("bootstrap")+
		" WHERE is_complete = 0 AND client_id = ? AND (started_at IS NULL OR started_at <= NOW())"+
		" ORDER BY ISNULL(started_at), started_at ASC, id ASC", s.clientID)
	if err != nil {
		return nil, fmt.Errorf("reading bootstrap requests: %w", err)
	}
	defer r.Close()
	var tasks []bootstrapTask
	for i := 0; i < r.RowNumber(); i++ {
		id, _ := r.GetInt(i, 0)
		t := bootstrapTask{id: id, database: resultString(r, i, 1), table: resultString(r, i, 2), where: resultString(r, i, 3)}
		if null, _ := r.IsNull(i, 4); !null {
			c := resultString(r, i, 4)
			t.comment = &c
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// errBootstrapGone says a bootstrap row was deleted while it ran: the
// way maxwell-bootstrap --abort stops one.
var errBootstrapGone = errors.New("bootstrap request deleted")

func (s *stateStore) updateBootstrap(ctx context.Context, query string, args ...any) error {
	r, err := s.db.exec(ctx, "UPDATE "+s.table("bootstrap")+" SET "+query, args...)
	if err != nil {
		return fmt.Errorf("updating bootstrap request: %w", err)
	}
	if r.AffectedRows == 0 {
		return errBootstrapGone
	}
	return nil
}

func (s *stateStore) bootstrapStarted(ctx context.Context, id int64) error {
	return s.updateBootstrap(ctx, "started_at = NOW() WHERE id = ?", id)
}

func (s *stateStore) bootstrapProgress(ctx context.Context, id, rows int64) error {
	return s.updateBootstrap(ctx, "inserted_rows = ? WHERE id = ?", rows, id)
}

func (s *stateStore) bootstrapCompleted(ctx context.Context, id, rows int64) error {
	err := s.updateBootstrap(ctx, "is_complete = 1, inserted_rows = ?, completed_at = NOW() WHERE id = ?", rows, id)
	if errors.Is(err, errBootstrapGone) {
		return nil
	}
	return err
}

// insertBootstrap requests a bootstrap, as maxwell-bootstrap does.
func (s *stateStore) insertBootstrap(ctx context.Context, database, table, where, comment string, total int64) (int64, error) {
	var w, c any
	if where != "" {
		w = where
	}
	if comment != "" {
		c = comment
	}
	r, err := s.db.exec(ctx, "INSERT INTO "+s.table("bootstrap")+
		" (database_name, table_name, where_clause, total_rows, client_id, comment) VALUES (?, ?, ?, ?, ?, ?)",
		database, table, w, total, s.clientID, c)
	if err != nil {
		return 0, fmt.Errorf("inserting bootstrap request: %w", err)
	}
	return int64(r.InsertId), nil
}

// serverInfo reads what the state keys on: the source's server_id and
// its flavor.
func serverInfo(ctx context.Context, c *conn) (uint32, string, error) {
	r, err := c.exec(ctx, "SELECT @@server_id, VERSION()")
	if err != nil {
		return 0, "", fmt.Errorf("reading server_id: %w", err)
	}
	defer r.Close()
	id, _ := r.GetUint(0, 0)
	flavor := "mysql"
	if strings.Contains(strings.ToLower(resultString(r, 0, 1)), "mariadb") {
		flavor = "mariadb"
	}
	return uint32(id), flavor, nil
}

// charsetLookup answers the default character set of a table or (table
// "") a database from information_schema, for schema-change events.
func charsetLookup(c *conn) func(db, table string) string {
	return func(db, table string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var r *mysql.Result
		var err error
		if table == "" {
			r, err = c.exec(ctx, "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db)
		} else {
			r, err = c.exec(ctx, "SELECT c.CHARACTER_SET_NAME FROM information_schema.TABLES t "+
				"JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY c ON c.COLLATION_NAME = t.TABLE_COLLATION "+
				"WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?", db, table)
		}
		if err != nil {
			return ""
		}
		defer r.Close()
		if r.RowNumber() == 0 {
			return ""
		}
		return resultString(r, 0, 0)
	}
}

// readTable reads a table's definition from information_schema; nil
// when the table does not exist.
func readTable(ctx context.Context, c *conn, db, table string) (*cdc.Table, error) {
	r, err := c.exec(ctx, "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME, NUMERIC_PRECISION, "+
		"NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_MAXIMUM_LENGTH, IS_NULLABLE, EXTRA, ORDINAL_POSITION "+
		"FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION", db, table)
	if err != nil {
		return nil, fmt.Errorf("reading the columns of %s.%s: %w", db, table, err)
	}
	defer r.Close()
	if r.RowNumber() == 0 {
		return nil, nil
	}
	t := &cdc.Table{DB: db, Name: table}
	for i := 0; i < r.RowNumber(); i++ {
		colType := resultString(r, i, 2)
		col := cdc.Column{
			Name:          resultString(r, i, 0),
			DataType:      strings.ToLower(resultString(r, i, 1)),
			ColumnType:    colType,
			Unsigned:      strings.Contains(strings.ToLower(colType), "unsigned"),
			Charset:       resultString(r, i, 3),
			Nullable:      resultString(r, i, 8) == "YES",
			AutoIncrement: strings.Contains(strings.ToLower(resultString(r, i, 9)), "auto_increment"),
		}
		pos, _ := r.GetInt(i, 10)
		col.Position = int(pos)
		prec, _ := r.GetInt(i, 4)
		scale, _ := r.GetInt(i, 5)
		dtp, _ := r.GetInt(i, 6)
		chars, _ := r.GetInt(i, 7)
		switch col.DataType {
		case "decimal", "bit":
			col.Length, col.Scale = int(prec), int(scale)
		case "datetime", "timestamp", "time":
			col.Length = int(dtp)
		case "enum", "set":
			col.Values = cdc.EnumValues(colType)
		default:
			col.Length = int(chars)
		}
		t.Columns = append(t.Columns, col)
	}
	k, err := c.exec(ctx, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? "+
		"AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION", db, table)
	if err != nil {
		return nil, fmt.Errorf("reading the primary key of %s.%s: %w", db, table, err)
	}
	defer k.Close()
	for i := 0; i < k.RowNumber(); i++ {
		t.PrimaryKey = append(t.PrimaryKey, resultString(k, i, 0))
	}
	return t, nil
}

// textValue converts a text-protocol value to the engine's value types
// (see cdc.Row), so that bootstrapped rows are formatted exactly like
// rows read from the binlog.
func textValue(col *cdc.Column, fv *mysql.FieldValue) (any, error) {
	switch fv.Type {
	case mysql.FieldValueTypeNull:
		return nil, nil
	case mysql.FieldValueTypeSigned:
		return fv.AsInt64(), nil
	case mysql.FieldValueTypeUnsigned:
		if col.DataType == "bigint" {
			return fv.AsUint64(), nil
		}
		return int64(fv.AsUint64()), nil
	case mysql.FieldValueTypeFloat:
		if col.DataType == "float" {
			return float32(fv.AsFloat64()), nil
		}
		return fv.AsFloat64(), nil
	}
	b := fv.AsString()
	switch col.DataType {
	case "decimal", "numeric":
		return cdc.Decimal(string(b)), nil
	case "timestamp":
		s := string(b)
		if strings.HasPrefix(s, "0000-00-00") {
			return time.Unix(0, 0).UTC(), nil
		}
		t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", s, time.UTC)
		if err != nil {
			return nil, fmt.Errorf("column %s: timestamp %q: %w", col.Name, s, err)
		}
		return t, nil
	case "bit":
		var n uint64
		for _, c := range b {
			n = n<<8 | uint64(c)
		}
		return n, nil
	case "year":
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("column %s: year %q: %w", col.Name, b, err)
		}
		return n, nil
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
		"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
		"geometrycollection", "geomcollection":
		return append([]byte(nil), b...), nil
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		if col.Charset == "binary" {
			return append([]byte(nil), b...), nil
		}
	}
	return string(b), nil
}

// dialStream opens a connection that streams a query's rows. ctx
// ending closes it, which stops a query in progress.
func dialStream(host string, port int, user, password string) func(ctx context.Context) (*rowStream, error) {
	return func(ctx context.Context) (*rowStream, error) {
		c, err := dial(ctx, addr(host, port), user, password)
		if err != nil {
			return nil, err
		}
		// The reader may pause while the producer catches up; the
		// server must not give up on it meanwhile.
		if _, err := c.Execute("SET SESSION net_write_timeout = 3600"); err != nil {
			c.Close()
			return nil, fmt.Errorf("mysql: %w", err)
		}
		// Closed once, by whichever comes first: ctx ending or close.
		closeConn := sync.OnceFunc(func() { c.Close() })
		stop := context.AfterFunc(ctx, closeConn)
		return &rowStream{
			exec: func(query string, perRow func(row []mysql.FieldValue) error) error {
				var res mysql.Result
				return c.ExecuteSelectStreaming(query, &res, func(row []mysql.FieldValue) error { return perRow(row) }, nil)
			},
			close: func() {
				stop()
				closeConn()
			},
		}, nil
	}
}
