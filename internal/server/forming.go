package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/tributary-data/tributary/internal/store"
)

// A node of a cluster can wait a long time for its store: until a
// quorum of the nodes is up, which on machines started one by one may be
// minutes. Meanwhile the Kinesis port answers, so that operators and
// orchestrators see why the node is not ready rather than a refused
// connection: /health says what the store waits for, and API requests
// get AWS's retriable ServiceUnavailable.

// forming serves the Kinesis port while the store waits for its cluster.
type forming struct {
	ln     net.Listener // the port, handed on to the API once the store is open
	hs     *http.Server
	served chan struct{}
	health Health

	mu  sync.Mutex
	why string
}

// serveWhileForming binds the Kinesis port and answers on it while the
// store waits for its cluster. It returns nil for a server alone, whose
// store opens at once, and with -tls-self-signed, whose certificate is
// kept in the data directory and so is made only once the store is open.
func serveWhileForming(cfg Config, tlsConf *tls.Config, lg *slog.Logger) (*forming, error) {
	if cfg.Store.Cluster == nil && cfg.Store.External == nil || cfg.TLS.SelfSigned {
		return nil, nil
	}
	ln, err := listen("Kinesis API", cfg.Addr, "-listen", "")
	if err != nil {
		return nil, err
	}
	// The early server accepts on a duplicate of the port's socket:
	// closing the duplicate stops it and leaves the port open, its
	// pending connections queued for the API.
	tcp, ok := ln.(*net.TCPListener)
	if !ok {
		return nil, errors.Join(fmt.Errorf("Kinesis API: %T is not a TCP listener", ln), ln.Close())
	}
	file, err := tcp.File()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("Kinesis API: %w", err), ln.Close())
	}
	dup, err := net.FileListener(file)
	_ = file.Close()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("Kinesis API: %w", err), ln.Close())
	}
	f := &forming{ln: ln, served: make(chan struct{}), why: "starting the embedded server"}
	f.health = Health{Status: "unavailable", Version: cfg.Connect.Version,
		Storage: StorageHealth{Status: "starting"}, Connect: ConnectHealth{Status: "disabled"},
		Cluster: &ClusterHealth{Status: "forming", External: cfg.Store.External != nil, Peers: []string{}}}
	if cfg.Connect.Addr != "" {
		f.health.Connect.Status = "starting"
	}
	if cl := cfg.Store.Cluster; cl != nil {
		f.health.Cluster.Node, f.health.Cluster.Replicas = cl.NodeName, store.ClusteredReplicas
	}
	if cfg.Store.Replicas > 0 {
		f.health.Cluster.Replicas = cfg.Store.Replicas
	}
	f.hs = cfg.HTTP.NewHTTPServer(f, lg)
	if tlsConf != nil {
		f.hs.TLSConfig = tlsConf.Clone()
	}
	go func() {
		defer close(f.served)
		if err := serveHTTP(f.hs, dup); err != nil && !errors.Is(err, http.ErrServerClosed) {
			lg.Error("http server stopped while waiting for the cluster", "err", err)
		}
	}()
	lg.Info("waiting for the cluster; /health on the Kinesis port says why until it is usable", "addr", ln.Addr().String())
	return f, nil
}

// waiting records what the store waits for.
func (f *forming) waiting(why string) {
	f.mu.Lock()
	f.why = why
	f.mu.Unlock()
}

func (f *forming) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	why := f.why
	f.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	var body any
	if r.URL.Path == "/health" {
		h := f.health
		c := *h.Cluster
		c.Error, h.Storage.Error, h.Cluster = why, "waiting for the cluster", &c
		body = h
	} else {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("x-amzn-ErrorType", "ServiceUnavailable")
		body = map[string]string{"__type": "ServiceUnavailable",
			"message": "This node is waiting for its cluster to be usable: " + why}
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(body)
}

// handOver stops answering and returns the port for the API, whose
// connections made meanwhile wait in its queue.
func (f *forming) handOver(ctx context.Context) net.Listener {
	_ = f.hs.Shutdown(ctx)
	<-f.served
	return f.ln
}

// stop closes the port of a start-up that failed; nil is stopped.
func (f *forming) stop(ctx context.Context) {
	if f != nil {
		_ = f.handOver(ctx).Close()
	}
}

// openStore opens the store. A node of a cluster waits as long as its
// -cluster-wait allows (the store bounds the wait), telling early what it
// waits for; a store alone that cannot open within startupStepTimeout
// fails start-up.
func openStore(ctx context.Context, cfg store.Config, early *forming) (*store.Store, error) {
	if cfg.Cluster == nil && cfg.External == nil {
		openCtx, cancel := context.WithTimeout(ctx, startupStepTimeout)
		defer cancel()
		st, err := store.Open(openCtx, cfg)
		if err != nil {
			return nil, startupErr("opening the store", err)
		}
		return st, nil
	}
	if early != nil && cfg.Cluster != nil {
		cl := *cfg.Cluster
		cl.Waiting, cfg.Cluster = early.waiting, &cl
	}
	if early != nil && cfg.External != nil {
		ext := *cfg.External
		ext.Waiting, cfg.External = early.waiting, &ext
	}
	st, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	if early != nil {
		early.waiting("loading the streams")
	}
	return st, nil
}
