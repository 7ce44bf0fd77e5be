package debezium

import (
	"context"
	"log/slog"

	"github.com/tributary-data/tributary/internal/cdc"
)

var _ cdc.Handler = (*handler)(nil)

// engineConfig is the engine's configuration for a Debezium one. Tables
// without a primary key are a clear error unless tributary.allow.keyless
// is set; then they are captured with null keys, as Debezium does.
func engineConfig(s *Settings, log *slog.Logger) cdc.Config {
	return cdc.Config{
		Host:              s.Hostname,
		Port:              s.Port,
		User:              s.User,
		Password:          s.Password,
		ServerID:          s.ServerID,
		Include:           Include(s),
		Snapshot:          cdc.SnapshotMode(s.SnapshotMode),
		HeartbeatInterval: s.HeartbeatInterval,
		AllowKeyless:      s.AllowKeyless,
		Logger:            log,
	}
}

// runEngine reads the server with package cdc's engine.
func runEngine(ctx context.Context, s *Settings, from *cdc.Position, h *handler, log *slog.Logger) error {
	return cdc.Run(ctx, engineConfig(s, log), from, h)
}
