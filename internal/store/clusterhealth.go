package store

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/nats-server/v2/server"
)

// ClusterHealth is whether the JetStream cluster a store belongs to can
// serve it now, as far as this node can tell: what /health and the
// metrics report. Open waits for the same conditions once; afterwards a
// quorum can be lost and found again, and this says which.
type ClusterHealth struct {
	// Node is this node's name ("" with an external NATS).
	Node string
	// MetaLeader names the server leading JetStream's metadata group,
	// "" while there is none (no quorum) or when it cannot be known (an
	// external NATS, whose monitoring is not ours).
	MetaLeader string
	// Current is JetStream's own verdict that this node's copy of the
	// cluster's metadata is caught up with its leader's. With an
	// external NATS it is true once JetStream answers.
	Current bool
	// Peers are the names of the other nodes this one has a route to.
	Peers []string
	// Err says why the cluster cannot serve, "" when it can.
	Err string
}

// Clustered reports whether the store is more than a server alone: its
// embedded server is in a cluster, or it uses an external NATS.
func (s *Store) Clustered() bool { return s.embeddedCluster() || s.External() }

// External reports whether the store uses NATS servers it does not run:
// their files, and their crashes, are not this process's.
func (s *Store) External() bool { return s.ns == nil }

// NodeName is this node's name in its cluster, "" when the embedded
// server runs alone or there is none.
func (s *Store) NodeName() string {
	if !s.embeddedCluster() {
		return ""
	}
	return s.opts.ServerName
}

func (s *Store) embeddedCluster() bool {
	return s.ns != nil && s.opts != nil && s.opts.Cluster.Port != 0
}

// ClusterHealth checks the cluster the store belongs to; for a server
// alone it is the zero value with nothing to report.
func (s *Store) ClusterHealth(ctx context.Context) ClusterHealth {
	if !s.Clustered() {
		return ClusterHealth{Current: true}
	}
	h := ClusterHealth{Node: s.NodeName(), Current: true}
	var problems []error
	if s.ns != nil {
		h.Peers = s.ClusterPeers()
		h.Current = s.JetStreamCurrent()
		if jsi, err := s.ns.Jsz(&server.JSzOptions{}); err == nil && jsi.Meta != nil {
			h.MetaLeader = jsi.Meta.Leader
		}
		if h.MetaLeader == "" {
			problems = append(problems, fmt.Errorf("no JetStream meta leader: fewer than a quorum of the nodes are reachable (%s)", s.peerStatus()))
		}
		if !h.Current {
			problems = append(problems, errors.New("this node's JetStream metadata is not caught up with the leader's"))
		}
	}
	if len(problems) == 0 {
		// The cluster has a leader; the metadata bucket, which every
		// request reads, needs one of its own.
		c, err := s.conn(ctx)
		if err == nil {
			err = s.bucketLed(ctx, c)
		}
		if err != nil {
			problems = append(problems, err)
		}
	}
	if err := errors.Join(problems...); err != nil {
		h.Err = err.Error()
	}
	return h
}

// JetStreamCurrent is JetStream's verdict that this node's copy of the
// cluster's metadata is caught up with its leader's (true alone). It asks
// the embedded server only, so it is cheap enough for every scrape.
func (s *Store) JetStreamCurrent() bool {
	return s.ns == nil || s.ns.JetStreamIsCurrent()
}

// ClusterPeers are the names of the nodes this node's embedded server
// has a route to (several routes to one node count once).
func (s *Store) ClusterPeers() []string {
	if s.ns == nil {
		return nil
	}
	rz, err := s.ns.Routez(nil)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var names []string
	for _, r := range rz.Routes {
		if r.RemoteName != "" && !seen[r.RemoteName] {
			seen[r.RemoteName] = true
			names = append(names, r.RemoteName)
		}
	}
	sort.Strings(names)
	return names
}
