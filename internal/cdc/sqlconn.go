package cdc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// conn is a SQL connection whose blocking calls end when the context it
// was opened with ends: go-mysql's client takes no context per query, so
// the connection is closed under it instead.
type conn struct {
	*client.Conn
	ctx  context.Context
	stop func() bool
}

// dial opens a connection for queries.
func dial(ctx context.Context, cfg *Config) (*conn, error) {
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	c, err := client.ConnectWithContext(ctx, addr, cfg.User, cfg.Password, "", 10*time.Second)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var me *mysql.MyError
		if errors.As(err, &me) && me.Code == mysql.ER_ACCESS_DENIED_ERROR {
			return nil, &Error{Kind: KindPrivilege, Msg: fmt.Sprintf("%s refused user %q", addr, cfg.User), Err: err,
				Hint: "check the user name, password and the host the account is allowed from"}
		}
		return nil, fmt.Errorf("cdc: connect to %s as %q: %w", addr, cfg.User, err)
	}
	cc := &conn{Conn: c, ctx: ctx}
	// Cancelling interrupts a query in flight by closing the socket
	// itself: net.Conn.Close is safe beside a read or write, where the
	// client's Close (which updates the packet state) is not.
	raw := c.Conn.Conn
	cc.stop = context.AfterFunc(ctx, func() { _ = raw.Close() })
	return cc, nil
}

// Close says goodbye to the server (so it logs no aborted connection)
// and closes the connection.
func (c *conn) Close() {
	if c.stop() && c.ctx.Err() == nil {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		_ = c.Conn.Quit()
	}
	_ = c.Conn.Close()
}

// exec runs a statement, reporting the context's error if the context
// ended it.
func (c *conn) exec(q string) (*mysql.Result, error) {
	r, err := c.Execute(q)
	if err != nil {
		if c.ctx.Err() != nil {
			return nil, c.ctx.Err()
		}
		return nil, fmt.Errorf("%s: %w", abbreviate(q), err)
	}
	return r, nil
}

// rows runs a query and returns its rows as nullable text.
func (c *conn) rows(q string) ([][]sqlText, error) {
	r, err := c.exec(q)
	if err != nil {
		return nil, err
	}
	if r.Resultset == nil {
		return nil, nil
	}
	out := make([][]sqlText, len(r.Values))
	for i, row := range r.Values {
		out[i] = make([]sqlText, len(row))
		for j := range row {
			if row[j].Type == mysql.FieldValueTypeNull {
				out[i][j] = sqlText{}
				continue
			}
			out[i][j] = sqlText{s: fieldText(&row[j]), ok: true}
		}
	}
	return out, nil
}

// row runs a query that returns at most one row; ok is false for none.
func (c *conn) row(q string) ([]sqlText, bool, error) {
	rows, err := c.rows(q)
	if err != nil || len(rows) == 0 {
		return nil, false, err
	}
	return rows[0], true, nil
}

// fieldText renders a non-NULL value as text.
func fieldText(v *mysql.FieldValue) string {
	switch v.Type {
	case mysql.FieldValueTypeSigned:
		return strconv.FormatInt(v.AsInt64(), 10)
	case mysql.FieldValueTypeUnsigned:
		return strconv.FormatUint(v.AsUint64(), 10)
	case mysql.FieldValueTypeFloat:
		return strconv.FormatFloat(v.AsFloat64(), 'g', -1, 64)
	}
	return string(v.AsString())
}

// sqlText is a nullable column value as text.
type sqlText struct {
	s  string
	ok bool
}

func (t sqlText) int() int {
	n, _ := strconv.Atoi(t.s)
	return n
}

// quoteString makes a SQL string literal (NO_BACKSLASH_ESCAPES or not).
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`, "\x00", `\0`).Replace(s) + "'"
}

// quoteName makes a quoted identifier.
func quoteName(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// quoteTable makes a qualified table name.
func quoteTable(db, table string) string { return quoteName(db) + "." + quoteName(table) }

// abbreviate shortens a statement for an error message.
func abbreviate(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 120 {
		return q[:117] + "..."
	}
	return q
}

// mysqlErrorCode returns the server's error code in err, or 0.
func mysqlErrorCode(err error) uint16 {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return me.Code
	}
	return 0
}
