package cdc

import (
	"context"
	"log/slog"
	"strings"
)

// libraryLogger is the logger handed to go-mysql. Its records go to the
// engine's logger (the process's, so one format for every component),
// at levels that suit an embedded library: go-mysql's progress notes
// (connected, syncing from, rotating to) are debug, its warnings are
// info and its errors warnings, since the engine itself reports, with
// context, the failures that matter. Its configuration dump (the
// "config" attribute of "create BinlogSyncer") is left out, and any
// attribute whose name suggests a secret is redacted.
func libraryLogger(l *slog.Logger) *slog.Logger {
	return slog.New(&libraryHandler{h: l.Handler()}).With("component", "go-mysql")
}

// libraryHandler maps go-mysql's levels and filters its attributes.
type libraryHandler struct{ h slog.Handler }

// libraryLevel is the level a go-mysql record is logged at.
func libraryLevel(l slog.Level) slog.Level {
	switch {
	case l >= slog.LevelError:
		return slog.LevelWarn
	case l >= slog.LevelWarn:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}

func (h *libraryHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.h.Enabled(ctx, libraryLevel(l))
}

func (h *libraryHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, libraryLevel(r.Level), r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a, ok := safeAttr(a); ok {
			out.AddAttrs(a)
		}
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *libraryHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var kept []slog.Attr
	for _, a := range attrs {
		if a, ok := safeAttr(a); ok {
			kept = append(kept, a)
		}
	}
	return &libraryHandler{h: h.h.WithAttrs(kept)}
}

func (h *libraryHandler) WithGroup(name string) slog.Handler {
	return &libraryHandler{h: h.h.WithGroup(name)}
}

// safeAttr drops configuration dumps and redacts secrets; ok is false
// for an attribute to leave out.
func safeAttr(a slog.Attr) (slog.Attr, bool) {
	key := strings.ToLower(a.Key)
	switch {
	case key == "config" || key == "cfg":
		return a, false
	case isSecretKey(key):
		return slog.String(a.Key, "[redacted]"), true
	case a.Value.Kind() == slog.KindGroup:
		var kept []any
		for _, g := range a.Value.Group() {
			if g, ok := safeAttr(g); ok {
				kept = append(kept, g)
			}
		}
		return slog.Group(a.Key, kept...), true
	}
	return a, true
}

// isSecretKey reports whether an attribute or configuration key names a
// secret (password, database.password, secret_key, ...).
func isSecretKey(key string) bool {
	key = strings.ToLower(key)
	for _, s := range []string{"password", "passwd", "secret", "credential", "jaas"} {
		if strings.Contains(key, s) {
			return true
		}
	}
	return false
}
