package server

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-data/tributary/internal/store"
)

// ClusterHealth is /health's view of the cluster, present only when the
// server is a node of one (-node-name) or uses an external NATS
// (-nats-url).
type ClusterHealth struct {
	// Status is "ok" when the cluster can serve this node's requests,
	// else "unavailable", and Error says why (no meta leader: too few
	// nodes reachable; this node not caught up; the metadata bucket
	// without a leader).
	Status string `json:"status"`
	// Node is this node's -node-name ("" with -nats-url).
	Node string `json:"node,omitempty"`
	// External is set with -nats-url: the cluster is NATS servers the
	// operator runs, whose own monitoring says more.
	External bool `json:"external,omitempty"`
	// MetaLeader is the node leading JetStream's metadata.
	MetaLeader string `json:"meta_leader,omitempty"`
	// JetStreamCurrent is whether this node's JetStream has caught up
	// with the cluster's metadata.
	JetStreamCurrent bool `json:"jetstream_current"`
	// Peers are the other nodes this node has a connection to.
	Peers []string `json:"peers"`
	// Replicas is the copies kept of every shard's log and of the metadata.
	Replicas int    `json:"replicas"`
	Error    string `json:"error,omitempty"`
}

// clusterHealth checks the cluster, nil for a server alone.
func (s *Server) clusterHealth(ctx context.Context) *ClusterHealth {
	if !s.store.Clustered() {
		return nil
	}
	ch := s.store.ClusterHealth(ctx)
	h := &ClusterHealth{Status: "ok", Node: ch.Node, External: s.store.External(), MetaLeader: ch.MetaLeader,
		JetStreamCurrent: ch.Current, Peers: ch.Peers, Replicas: s.store.Replicas(), Error: ch.Err}
	if h.Peers == nil {
		h.Peers = []string{}
	}
	if ch.Err != "" {
		h.Status = "unavailable"
	}
	return h
}

// registerCluster exports the embedded cluster's state as gauges, read
// from the embedded server at each scrape. A server alone, or on an
// external NATS (whose own monitoring has this), has none.
func registerCluster(reg prometheus.Registerer, st *store.Store) {
	if !st.Clustered() || st.External() {
		return
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tributary_cluster_peers",
		Help: "Other nodes of the cluster this node has a connection (route) to.",
	}, func() float64 { return float64(len(st.ClusterPeers())) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tributary_cluster_jetstream_current",
		Help: "1 when this node's JetStream has caught up with the cluster's metadata, 0 while it has not (or has no meta leader to follow).",
	}, func() float64 {
		if st.JetStreamCurrent() {
			return 1
		}
		return 0
	}))
}
