package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/streams"
)

// Cluster operations on the Kinesis port, for `tributary cluster`:
//
//	GET  /cluster/status                 the nodes, the meta leader, every log's replicas
//	POST /cluster/remove-node?node=NAME  remove a node that is gone for good
//	POST /cluster/stepdown[?log=NAME]    move the meta leader (or a log's leader) elsewhere
//
// With -credentials they need a key, as /metrics does (HTTP Basic with a
// key id and its secret, or a SigV4 signature): they reveal stream names
// and change the cluster.

// ClusterStatus is GET /cluster/status's body: the store's view with
// each log named by the Kinesis stream and shards it holds.
type ClusterStatus struct {
	store.ClusterStatus
	Logs []LogStatus `json:"logs"`
}

// LogStatus is a log's replicas and what it holds.
type LogStatus struct {
	store.LogStatus
	// Holds is "shards" for a shard log, "metadata" for the catalog's
	// bucket, "" for a log no stream names (being made or deleted).
	Holds   string   `json:"holds,omitempty"`
	Account string   `json:"account,omitempty"`
	Region  string   `json:"region,omitempty"`
	Stream  string   `json:"stream,omitempty"`
	Shards  []string `json:"shards,omitempty"`
}

// opsTimeout bounds one cluster operation.
const opsTimeout = 30 * time.Second

func (s *Server) routeClusterOps(mux *http.ServeMux) {
	routes := map[string]http.HandlerFunc{
		"GET /cluster/status":       s.serveClusterStatus,
		"POST /cluster/remove-node": s.serveRemoveNode,
		"POST /cluster/stepdown":    s.serveStepDown,
	}
	for pattern, h := range routes {
		var handler http.Handler = h
		if s.verifier != nil {
			handler = requireKeyAuth(s.verifier, "Tributary cluster operations", "/cluster", handler)
		}
		mux.Handle(pattern, handler)
	}
}

// logOwner is what one log holds.
type logOwner struct {
	meta   *streams.Meta
	shards []string
}

// logOwners maps each JetStream stream to the Kinesis stream and shards
// it holds, through the engine's naming of logs (Meta.LogName) and the
// store's of the JetStream streams they live in (a stripe holds many).
func logOwners(metas []*streams.Meta) map[string]*logOwner {
	out := map[string]*logOwner{}
	for _, m := range metas {
		for _, sh := range m.Shards {
			name := store.LogStream(m.LogName(sh.Index))
			o := out[name]
			if o == nil {
				o = &logOwner{meta: m}
				out[name] = o
			}
			o.shards = append(o.shards, shard.ID(sh.Index))
		}
	}
	return out
}

// ClusterStatus gathers the cluster's status and names each log.
func (s *Server) ClusterStatus(ctx context.Context) (*ClusterStatus, error) {
	st, err := s.store.ClusterStatus(ctx)
	if err != nil {
		return nil, err
	}
	owners := logOwners(s.kinesis.Engine().All())
	out := &ClusterStatus{ClusterStatus: *st, Logs: make([]LogStatus, len(st.Logs))}
	for i, l := range st.Logs {
		ls := LogStatus{LogStatus: l}
		if o := owners[l.Name]; o != nil {
			ls.Holds, ls.Account, ls.Region, ls.Stream, ls.Shards = "shards", o.meta.Account, o.meta.Region, o.meta.Name, o.shards
		} else if l.Name == store.MetaLog {
			ls.Holds = "metadata"
		}
		out.Logs[i] = ls
	}
	out.ClusterStatus.Logs = nil
	return out, nil
}

func (s *Server) serveClusterStatus(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), opsTimeout)
	defer cancel()
	st, err := s.ClusterStatus(ctx)
	if err != nil {
		writeOpsError(w, err)
		return
	}
	writeOpsJSON(w, http.StatusOK, st)
}

func (s *Server) serveRemoveNode(w http.ResponseWriter, r *http.Request) {
	node := r.URL.Query().Get("node")
	if node == "" {
		writeOpsJSON(w, http.StatusBadRequest, opsError{Error: "BadRequest", Message: "name the node to remove: ?node=NAME"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), opsTimeout)
	defer cancel()
	if err := s.store.RemoveNode(ctx, node); err != nil {
		writeOpsError(w, err)
		return
	}
	s.log.Warn("cluster: node removed for good", "node", node, "by", r.RemoteAddr)
	writeOpsJSON(w, http.StatusOK, map[string]string{"removed": node})
}

func (s *Server) serveStepDown(w http.ResponseWriter, r *http.Request) {
	log := r.URL.Query().Get("log")
	ctx, cancel := context.WithTimeout(r.Context(), opsTimeout)
	defer cancel()
	leader, err := s.store.StepDown(ctx, log)
	if err != nil {
		writeOpsError(w, err)
		return
	}
	s.log.Info("cluster: leader stepped down", "log", log, "new_leader", leader)
	writeOpsJSON(w, http.StatusOK, map[string]string{"log": log, "leader": leader})
}

// opsError is the body of a failed cluster operation.
type opsError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// writeOpsError answers with the status and code that fit err.
func writeOpsError(w http.ResponseWriter, err error) {
	code, status := "InternalError", http.StatusInternalServerError
	switch {
	case errors.Is(err, store.ErrUnknownNode):
		code, status = "UnknownNode", http.StatusNotFound
	case errors.Is(err, store.ErrNotFound):
		code, status = "UnknownLog", http.StatusNotFound
	case errors.Is(err, store.ErrNodeOnline):
		code, status = "NodeOnline", http.StatusConflict
	case errors.Is(err, store.ErrNotClustered):
		code, status = "NotClustered", http.StatusBadRequest
	case errors.Is(err, store.ErrNoMetaLeader), errors.Is(err, context.DeadlineExceeded):
		code, status = "Unavailable", http.StatusServiceUnavailable
	}
	writeOpsJSON(w, status, opsError{Error: code, Message: err.Error()})
}

func writeOpsJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
