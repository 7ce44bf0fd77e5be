package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/semaphore"
)

// openExternal connects to NATS servers someone else runs. Where and how
// durably they keep data is their configuration (store_dir,
// sync_interval, account limits), so the options that tune an embedded
// server are refused rather than silently ignored.
func openExternal(ctx context.Context, cfg Config, lg *slog.Logger) (*Store, error) {
	ext := cfg.External
	switch {
	case cfg.Cluster != nil:
		return nil, errors.New("store: an external NATS cluster and an embedded cluster exclude each other")
	case ext.URL == "":
		return nil, errors.New("store: external NATS: a URL is required")
	case cfg.Dir != "":
		return nil, errors.New("store: external NATS keeps the data on its servers: no data directory is used")
	case cfg.MaxBytes > 0:
		return nil, errors.New("store: external NATS: limit the store's size with the account's JetStream limits on the NATS servers")
	case cfg.Durability == Sync:
		return nil, errors.New("store: external NATS: when writes are fsynced is the servers' sync_interval setting")
	case cfg.Durability != "" && cfg.Durability != Interval:
		return nil, fmt.Errorf("store: unknown durability %q", cfg.Durability)
	case cfg.Replicas < 0:
		return nil, fmt.Errorf("store: replicas %d: want 1 or more", cfg.Replicas)
	}
	opts, err := ext.clientOptions()
	if err != nil {
		return nil, err
	}
	wt := cfg.WriteTimeout
	if wt <= 0 {
		wt = DefaultWriteTimeout
	}
	storage := jetstream.FileStorage
	if cfg.InMemory {
		storage = jetstream.MemoryStorage
	}
	s := &Store{storage: storage, log: lg, reads: semaphore.NewWeighted(maxPending / 2), space: &space{},
		writeTimeout: wt, remote: ext.URL, natsOpts: opts, waiting: ext.Waiting}
	timeout := ext.ReadyTimeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	if err := s.probeCluster(ctx, timeout, cfg.Replicas); err != nil {
		return nil, err
	}
	c, err := s.waitReady(ctx, timeout)
	if err != nil {
		return nil, err
	}
	s.cur.Store(c)
	if err := s.checkMetaDamage(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// probeCluster connects once to learn whether the servers are clustered,
// which decides the default replica count and whether followers' reads
// must be checked against the leader.
func (s *Store) probeCluster(ctx context.Context, timeout time.Duration, replicas int) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var nc *nats.Conn
	for {
		var err error
		if nc, err = s.connect(); err == nil {
			break
		}
		if s.waiting != nil {
			s.waiting(fmt.Sprintf("the NATS servers at %s: %v", s.remote, err))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: external NATS not reachable within %s: %w", timeout, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	defer nc.Close()
	s.clustered = nc.ConnectedClusterName() != ""
	switch {
	case replicas > 0:
		s.replicas = replicas
	case s.clustered:
		s.replicas = ClusteredReplicas
	default:
		s.replicas = 1
	}
	return nil
}

// clientOptions turns External's credentials and TLS files into the
// NATS client's options.
func (e *External) clientOptions() ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case e.CredsFile != "" && (e.User != "" || e.Token != ""),
		e.User != "" && e.Token != "":
		return nil, errors.New("store: external NATS: give one of a credentials file, a user and password, or a token")
	case e.CredsFile != "":
		opts = append(opts, nats.UserCredentials(e.CredsFile))
	case e.User != "":
		opts = append(opts, nats.UserInfo(e.User, e.Password))
	case e.Token != "":
		opts = append(opts, nats.Token(e.Token))
	}
	if (e.CertFile == "") != (e.KeyFile == "") {
		return nil, errors.New("store: external NATS: a client certificate needs both its certificate and key files")
	}
	if e.CAFile != "" {
		opts = append(opts, nats.RootCAs(e.CAFile))
	}
	if e.CertFile != "" {
		opts = append(opts, nats.ClientCert(e.CertFile, e.KeyFile))
	}
	return opts, nil
}
