package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Health is GET /health's body: whether the server can do its work, for
// load balancers, container health checks and people.
type Health struct {
	// Status is "ok", or "unavailable" when a part the server needs is
	// down (the response is then 503).
	Status  string        `json:"status"`
	Version string        `json:"version,omitempty"`
	Storage StorageHealth `json:"storage"`
	Connect ConnectHealth `json:"connect"`
	Streams StreamsHealth `json:"streams"`
	// Cluster is there only on a node of a cluster or on an external
	// NATS (clusterhealth.go).
	Cluster *ClusterHealth `json:"cluster,omitempty"`
}

// StorageHealth is the embedded JetStream's state.
type StorageHealth struct {
	// Status is "ok" when JetStream answers and takes writes, "full"
	// while it refuses writes for lack of space (the filesystem is full
	// or -max-store-bytes is reached; it heals once space is freed), else
	// "unavailable". Error says why.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// ConnectHealth is the connector runtime's state.
type ConnectHealth struct {
	// Status is "running", or "disabled" (-connect-listen "").
	Status string `json:"status"`
}

// StreamsHealth counts the streams of every account and region.
type StreamsHealth struct {
	Count int `json:"count"`
}

// healthTimeout bounds the storage check, so a stuck store makes the
// check fail rather than hang the prober.
const healthTimeout = 5 * time.Second

// Health checks the parts of the server. It needs no authentication: it
// reveals no stream names, only counts and states.
func (s *Server) Health(ctx context.Context) Health {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	h := Health{Status: "ok", Version: s.cfg.Connect.Version, Storage: StorageHealth{Status: "ok"},
		Connect: ConnectHealth{Status: "disabled"}, Streams: StreamsHealth{Count: s.kinesis.StreamCount()}}
	if err := s.store.Ping(ctx); err != nil {
		h.Status, h.Storage = "unavailable", StorageHealth{Status: "unavailable", Error: err.Error()}
	} else if full := s.store.Full(); full != "" {
		h.Status, h.Storage = "unavailable", StorageHealth{Status: "full", Error: full}
	}
	if s.herder != nil {
		h.Connect.Status = "running"
	}
	if h.Cluster = s.clusterHealth(ctx); h.Cluster != nil && h.Cluster.Status != "ok" {
		h.Status = "unavailable"
	}
	return h
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	h := s.Health(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if h.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(h)
}
