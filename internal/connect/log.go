package connect

import (
	"context"
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
