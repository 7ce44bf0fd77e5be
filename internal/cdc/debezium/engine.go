package debezium

import (
	"context"
	"log/slog"

	"github.com/tributary-data/tributary/internal/cdc"
)

var _ cdc.Handler = (*handler)(nil)

// engineConfig is the engine's configuration for a Debezium one. Tables
// without a primary key are captured, and their events have null keys,
// as in Debezium.
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
		Keys:              cdc.DebeziumKeys,
		Logger:            log,
	}
}

// runEngine reads the server with package cdc's engine.
func runEngine(ctx context.Context, s *Settings, from *cdc.Position, h *handler, log *slog.Logger) error {
	return cdc.Run(ctx, engineConfig(s, log), from, h)
}
