package cdc

import (
	"errors"
	"strings"
)

// ErrorKind classifies the errors a user must act on, so a connector can
// report them (and a test can check them) without matching text.
type ErrorKind string

// The kinds of Error.
const (
	// KindConfig is a bad Config value.
	KindConfig ErrorKind = "config"
	// KindPrivilege is a privilege the account lacks.
	KindPrivilege ErrorKind = "privilege"
	// KindBinlogDisabled is a server without a binary log (log_bin OFF).
	KindBinlogDisabled ErrorKind = "binlog_disabled"
	// KindBinlogFormat is binlog_format other than ROW.
	KindBinlogFormat ErrorKind = "binlog_format"
	// KindRowImage is binlog_row_image other than FULL.
	KindRowImage ErrorKind = "binlog_row_image"
	// KindPositionPurged is a stored position the server no longer has
	// (its binlog file or GTIDs were purged, or the server was reset).
	KindPositionPurged ErrorKind = "position_purged"
	// KindSchema is a row the reader cannot decode with any schema it
	// knows (only possible without binlog_row_metadata=FULL).
	KindSchema ErrorKind = "schema"
)

// Error is an error the user has to fix outside the program: it says
// what is wrong (Msg) and what to do (Hint). None of them is raised after
// anything persistent changed: the caller's stored offset stays valid.
type Error struct {
	Kind ErrorKind
	Msg  string
	Hint string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("cdc: ")
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// IsKind reports whether err is, or wraps, an *Error of the kind.
func IsKind(err error, kind ErrorKind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}
