// Package logging builds the one *slog.Logger a Tributary command logs
// through, from its -log-format and -log-level flags. Every component gets
// this logger (or a With of it) passed down, so a process writes one format
// on stderr, whichever part of it speaks.
package logging

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Formats are the values -log-format takes.
const (
	Text = "text"
	JSON = "json"
)

// Flags are a command's logging flags.
type Flags struct {
	Format string
	Level  string
}

// Register adds -log-format and -log-level to fs.
func Register(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	fs.StringVar(&f.Format, "log-format", Text, "log format on stderr: text (key=value) or json (one object per line)")
	fs.StringVar(&f.Level, "log-level", "info", "log level: debug, info, warn or error")
	return f
}

// New returns a logger writing to w in format at the level of lv, which
// the caller may change later (PUT /admin/loggers does).
func New(w io.Writer, format string, lv *slog.LevelVar) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case Text, "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case JSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want %q or %q", format, Text, JSON)
}

// Logger builds the logger the flags describe, and its level variable.
func (f *Flags) Logger(w io.Writer) (*slog.Logger, *slog.LevelVar, error) {
	lv := new(slog.LevelVar)
	if err := ParseLevel(f.Level, lv); err != nil {
		return nil, nil, err
	}
	lg, err := New(w, f.Format, lv)
	return lg, lv, err
}

// ParseLevel sets lv from a level name.
func ParseLevel(s string, lv *slog.LevelVar) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	lv.Set(level)
	return nil
}

// RouteLibraries sends what libraries log through the process-wide
// loggers (slog's default and the standard log package, which some
// dependencies use) to lg, so those lines come out in the same format.
// Only a command's main may call it, once: it is the one global change,
// and no component relies on it for its own logging.
func RouteLibraries(lg *slog.Logger) {
	slog.SetDefault(lg) // also routes the log package, at level Info
}
