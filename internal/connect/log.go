package connect

import (
	"context"
	"fmt"
	"log/slog"
)

type loggerKey struct{}

// WithLogger returns ctx carrying lg. The runtime starts each connector
// and task with such a context, so that what a plugin logs goes through
// the worker's logger (its format, level and -log-level changes) and
// names the connector and task it came from.
func WithLogger(ctx context.Context, lg *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, lg)
}

// Logger returns the logger a plugin should log through: the one the
// runtime put in ctx, or slog's default for a plugin started by hand
// (the commands set it to their own logger).
func Logger(ctx context.Context) *slog.Logger {
	if lg, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && lg != nil {
		return lg
	}
	return slog.Default()
}

// hide returns lg with the resolved secrets of r hidden in what it logs,
// messages and attribute values alike: a connector or task logs through
// it, and may log its configuration or an error quoting a password, as
// careless connectors do. A nil r, or one without secrets, returns lg.
func (r *Resolved) hide(lg *slog.Logger) *slog.Logger {
	if r == nil || len(r.Secrets) == 0 {
		return lg
	}
	return slog.New(&redactHandler{h: lg.Handler(), r: r})
}

// redactHandler passes records on with Resolved.Redact applied.
type redactHandler struct {
	h slog.Handler
	r *Resolved
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	kept := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		kept[i] = h.attr(a)
	}
	return &redactHandler{h: h.h.WithAttrs(kept), r: h.r}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{h: h.h.WithGroup(name), r: h.r}
}

// attr redacts a value's text: strings, and anything else (errors,
// structs, LogValuers) by the text the handler would print for it.
func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		kept := make([]any, len(g))
		for i, ga := range g {
			kept[i] = h.attr(ga)
		}
		return slog.Group(a.Key, kept...)
	case slog.KindString:
		return slog.String(a.Key, h.r.Redact(v.String()))
	case slog.KindAny:
		text := fmt.Sprint(v.Any())
		if red := h.r.Redact(text); red != text {
			return slog.String(a.Key, red)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
