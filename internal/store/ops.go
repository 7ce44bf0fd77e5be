package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Cluster operations: who the nodes are and how current, which node
// leads each log and which replicas lag, removing a lost node for good,
// and handing a leadership over before a restart. All of it is
// JetStream's own view, asked for over the JetStream API and, for the
// cluster-wide parts (the meta group, peer removal, meta stepdown),
// over the system account of the embedded server.

// sysUser is the in-process user of the embedded server's system
// account (cluster.go makes it, with a password of the process's own).
const sysUser = "tributary-sys"

// ErrNotClustered is returned by operations that need a cluster of
// embedded servers.
var ErrNotClustered = errors.New("store: not a cluster of embedded servers")

// ErrUnknownNode is returned when a node name is not a member of the
// cluster.
var ErrUnknownNode = errors.New("store: no such node in the cluster")

// ErrNodeOnline is returned when asked to remove a node that is up.
var ErrNodeOnline = errors.New("store: the node is online")

// ErrNoMetaLeader is returned when the cluster has no JetStream meta
// leader (no quorum of nodes): no cluster-wide change can be made.
var ErrNoMetaLeader = errors.New("store: the cluster has no JetStream meta leader (is a majority of the nodes up?)")

// MetaLog is the JetStream stream of the metadata bucket, as
// ClusterStatus lists it.
const MetaLog = metaStream

// opsTimeout bounds each request of an operation.
const opsTimeout = 5 * time.Second

// electionWait bounds the wait for a new leader after a stepdown.
const electionWait = 15 * time.Second

// leaderName names the leader of a log for messages.
func leaderName(log string) string {
	if log == "" {
		return "the meta leader"
	}
	return "the leader of " + log
}

// gatherWait is how long a request answered by every server waits for
// the servers still to answer, once it has the first answer.
const gatherWait = 500 * time.Millisecond

// ClusterStatus is a cluster as JetStream sees it.
type ClusterStatus struct {
	// Clustered is false for a node alone (its logs have one replica).
	Clustered bool `json:"clustered"`
	// Cluster names the cluster; Node is the node that answered.
	Cluster string `json:"cluster,omitempty"`
	Node    string `json:"node,omitempty"`
	// MetaLeader is the node leading JetStream's meta group, which places
	// logs and makes every cluster-wide change; "" when there is none.
	MetaLeader string `json:"meta_leader"`
	// Replicas is the configured replica count of every log.
	Replicas int          `json:"replicas"`
	Nodes    []NodeStatus `json:"nodes"`
	Logs     []LogStatus  `json:"logs"`
	// Warnings say what could not be seen, and why.
	Warnings []string `json:"warnings,omitempty"`
}

// NodeStatus is one member of the meta group, as its leader sees it.
type NodeStatus struct {
	Name string `json:"name"`
	// Address is the host:port the node takes routes on, "" when it did
	// not answer.
	Address string `json:"address,omitempty"`
	// Current: seen recently and caught up with the meta group. Offline:
	// not seen for a while (stopped, crashed or cut off).
	Current bool `json:"current"`
	Offline bool `json:"offline"`
	// LastSeen is how long ago the meta leader last heard from it.
	LastSeen time.Duration `json:"last_seen_ns"`
	// Lag counts the meta operations it is behind.
	Lag        uint64 `json:"lag"`
	MetaLeader bool   `json:"meta_leader,omitempty"`
}

// LogStatus is one JetStream stream: a shard's log, or the metadata
// bucket.
type LogStatus struct {
	Name string `json:"name"`
	// Replicas is the configured count; Current how many are caught up,
	// the leader included.
	Replicas int `json:"replicas"`
	Current  int `json:"current"`
	// Leader is "" when the log has none (fewer than a quorum of its
	// replicas are up): it takes no writes.
	Leader string `json:"leader"`
	// Peers are the leader and its followers.
	Peers []ReplicaStatus `json:"peers"`
	// UnderReplicated: fewer current replicas than configured.
	UnderReplicated bool `json:"under_replicated"`
	// Error is set when the log's leader did not answer.
	Error string `json:"error,omitempty"`
}

// ReplicaStatus is one replica of a log.
type ReplicaStatus struct {
	Node     string        `json:"node"`
	Leader   bool          `json:"leader,omitempty"`
	Current  bool          `json:"current"`
	Offline  bool          `json:"offline,omitempty"`
	LastSeen time.Duration `json:"last_seen_ns"`
	Lag      uint64        `json:"lag,omitempty"`
}

// State names a replica's state for people: leader, current, lagging
// or offline.
func (r ReplicaStatus) State() string {
	switch {
	case r.Leader:
		return "leader"
	case r.Offline:
		return "offline"
	case r.Current:
		return "current"
	}
	return "lagging"
}

// sysConnect connects to the embedded server as its system account,
// from which JetStream takes cluster-wide requests.
func (s *Store) sysConnect() (*nats.Conn, error) {
	if s.ns == nil || !s.clustered || s.opts == nil {
		return nil, ErrNotClustered
	}
	for _, u := range s.opts.Users {
		if u.Username == sysUser {
			nc, err := nats.Connect("", nats.InProcessServer(s.ns), nats.UserInfo(u.Username, u.Password),
				nats.Name("tributary-ops"))
			if err != nil {
				return nil, fmt.Errorf("store: connect to the system account: %w", err)
			}
			return nc, nil
		}
	}
	return nil, ErrNotClustered
}

// ClusterStatus reports the nodes, the meta leader and every log's
// replicas. Alone, it reports this node and its one-replica logs. With
// an external NATS cluster the node list comes from the logs' replicas
// (the meta group needs the system account, which Tributary does not
// have there).
func (s *Store) ClusterStatus(ctx context.Context) (*ClusterStatus, error) {
	st := &ClusterStatus{Clustered: s.clustered, Replicas: s.replicas}
	if s.ns != nil {
		st.Node = s.ns.Name()
		st.Cluster = s.ns.ClusterName()
	}
	if s.clustered && s.ns != nil {
		if err := s.metaStatus(ctx, st); err != nil {
			return nil, err
		}
		if st.MetaLeader == "" {
			// Listing the logs needs a meta leader: show those this node
			// holds, as it sees them.
			st.Logs = s.localLogStatuses()
			return st, nil
		}
	}
	logs, err := s.logStatuses(ctx)
	switch {
	case err != nil && !s.clustered:
		return nil, err
	case err != nil:
		st.Warnings = append(st.Warnings, "the logs could not be listed: "+err.Error())
	}
	st.Logs = logs
	switch {
	case !s.clustered && s.ns != nil:
		st.MetaLeader = st.Node
		st.Nodes = []NodeStatus{{Name: st.Node, Current: true, MetaLeader: true}}
	case s.ns == nil:
		st.Nodes = nodesOfLogs(logs)
		st.Warnings = append(st.Warnings, "external NATS: nodes are those holding logs, and the meta leader is not shown "+
			"(they need the NATS system account; `nats server report jetstream` shows them)")
	}
	return st, nil
}

// localLogStatuses are the logs this node holds a replica of, with
// their leaders and peers as this node knows them.
func (s *Store) localLogStatuses() []LogStatus {
	jsi, err := s.ns.Jsz(&server.JSzOptions{Streams: true, Config: true, Limit: 1 << 30})
	if err != nil {
		return nil
	}
	var out []LogStatus
	for _, acc := range jsi.AccountDetails {
		for _, sd := range acc.Streams {
			if sd.Config == nil {
				continue
			}
			ls := logStatus(&server.StreamInfo{Config: *sd.Config, Cluster: sd.Cluster})
			if ls.Leader == "" {
				ls.Error = "no leader: fewer than a quorum of its replicas are up"
			}
			out = append(out, ls)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// metaStatus fills in the nodes from the meta leader's view of the meta
// group (a follower knows little of the other followers), and their
// addresses from each node's own answer.
func (s *Store) metaStatus(ctx context.Context, st *ClusterStatus) error {
	nc, err := s.sysConnect()
	if err != nil {
		return err
	}
	defer nc.Close()
	var jsz struct {
		Data  *server.JSInfo   `json:"data"`
		Error *server.ApiError `json:"error"`
	}
	local, err := s.ns.Jsz(nil)
	if err != nil || local.Meta == nil {
		return fmt.Errorf("store: cluster status: jetstream: %v", err)
	}
	if local.Meta.Leader != "" {
		err = sysRequest(ctx, nc, "$SYS.REQ.SERVER.PING.JSZ", server.JSzOptions{LeaderOnly: true}, &jsz)
	} else {
		err = ErrNoMetaLeader
	}
	meta := (*server.MetaClusterInfo)(nil)
	if err == nil && jsz.Data != nil && jsz.Data.Meta != nil {
		meta = jsz.Data.Meta
	} else {
		// No meta leader answered: this node's own view, which knows who
		// the peers are and which of them are offline.
		st.Warnings = append(st.Warnings, "no JetStream meta leader answered: the nodes are as "+st.Node+
			" sees them (current and lag are only known to a leader); without a meta leader no stream can be created,"+
			" deleted or resharded")
		meta = local.Meta
		meta.Leader = ""
	}
	st.MetaLeader = meta.Leader
	byName := map[string]*NodeStatus{}
	add := func(n NodeStatus) {
		if _, ok := byName[n.Name]; !ok {
			st.Nodes = append(st.Nodes, n)
			byName[n.Name] = &st.Nodes[len(st.Nodes)-1]
		}
	}
	// The answering server is left out of its own replica list.
	self := st.Node
	if meta.Leader != "" && jsz.Data != nil && jsz.Data.Meta != nil {
		self = meta.Leader
	}
	add(NodeStatus{Name: self, Current: true, MetaLeader: self == meta.Leader})
	for _, p := range meta.Replicas {
		add(NodeStatus{Name: p.Name, Current: p.Current, Offline: p.Offline, LastSeen: p.Active, Lag: p.Lag,
			MetaLeader: p.Name == meta.Leader})
	}
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].Name < st.Nodes[j].Name })
	addrs, err := s.nodeAddresses(ctx, nc)
	if err != nil {
		st.Warnings = append(st.Warnings, "node addresses: "+err.Error())
	}
	for i := range st.Nodes {
		st.Nodes[i].Address = addrs[st.Nodes[i].Name]
	}
	return nil
}

// nodeAddresses asks every server for its route address.
func (s *Store) nodeAddresses(ctx context.Context, nc *nats.Conn) (map[string]string, error) {
	out := map[string]string{}
	replies, err := sysGather(ctx, nc, "$SYS.REQ.SERVER.PING.VARZ", struct{}{})
	for _, r := range replies {
		var v struct {
			Data *server.Varz `json:"data"`
		}
		if json.Unmarshal(r, &v) == nil && v.Data != nil && v.Data.Cluster.Port != 0 {
			out[v.Data.Name] = net.JoinHostPort(v.Data.Cluster.Host, strconv.Itoa(v.Data.Cluster.Port))
		}
	}
	return out, err
}

// logStatuses lists every JetStream stream with its replicas, as each
// stream's leader reports them ($JS.API.STREAM.LIST asks them all).
// Streams whose leader did not answer are listed without one.
func (s *Store) logStatuses(ctx context.Context) ([]LogStatus, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return nil, err
	}
	var out []LogStatus
	for offset := 0; ; {
		var resp server.JSApiStreamListResponse
		if err := jsRequest(ctx, c.nc, "$JS.API.STREAM.LIST", server.JSApiStreamListRequest{ApiPagedRequest: server.ApiPagedRequest{Offset: offset}}, &resp); err != nil {
			return nil, fmt.Errorf("store: list logs: %w", err)
		}
		for _, si := range resp.Streams {
			out = append(out, logStatus(si))
		}
		for _, name := range resp.Missing {
			out = append(out, LogStatus{Name: name, UnderReplicated: true,
				Error: "its leader did not answer: no quorum of its replicas, or a leader election is under way"})
		}
		for name, why := range resp.Offline {
			out = append(out, LogStatus{Name: name, UnderReplicated: true, Error: "offline: " + why})
		}
		offset += len(resp.Streams) + len(resp.Missing) + len(resp.Offline)
		if len(resp.Streams)+len(resp.Missing)+len(resp.Offline) == 0 || offset >= resp.Total {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// logStatus turns a stream's info into a LogStatus.
func logStatus(si *server.StreamInfo) LogStatus {
	ls := LogStatus{Name: si.Config.Name, Replicas: max(si.Config.Replicas, 1)}
	ci := si.Cluster
	if ci == nil {
		// A server alone: it is the leader of its one replica.
		ls.Current = 1
		return ls
	}
	ls.Leader = ci.Leader
	if ci.Leader != "" {
		ls.Peers = append(ls.Peers, ReplicaStatus{Node: ci.Leader, Leader: true, Current: true})
		ls.Current = 1
	}
	for _, p := range ci.Replicas {
		ls.Peers = append(ls.Peers, ReplicaStatus{Node: p.Name, Current: p.Current && !p.Offline, Offline: p.Offline,
			LastSeen: p.Active, Lag: p.Lag})
		if p.Current && !p.Offline {
			ls.Current++
		}
	}
	ls.UnderReplicated = ls.Current < ls.Replicas
	return ls
}

// nodesOfLogs lists the nodes holding replicas of the logs, for when
// the meta group cannot be asked.
func nodesOfLogs(logs []LogStatus) []NodeStatus {
	seen := map[string]*NodeStatus{}
	for _, l := range logs {
		for _, p := range l.Peers {
			n, ok := seen[p.Node]
			if !ok {
				n = &NodeStatus{Name: p.Node, Current: true}
				seen[p.Node] = n
			}
			n.Current = n.Current && p.Current
			n.Offline = n.Offline || p.Offline
		}
	}
	out := make([]NodeStatus, 0, len(seen))
	for _, n := range seen {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// RemoveNode removes a node that is gone for good from the cluster's
// JetStream meta group ($JS.API.SERVER.REMOVE). The meta leader then
// moves the node's replicas to other nodes where it can; where none is
// left (three nodes, three replicas) the logs keep their other replicas
// until a new node joins, and JetStream then places the missing ones on
// it. A node that is online is refused: it would stop its JetStream
// and take no more part in the cluster; stop it first.
func (s *Store) RemoveNode(ctx context.Context, name string) error {
	st, err := s.ClusterStatus(ctx)
	if err != nil {
		return err
	}
	if st.MetaLeader == "" {
		return ErrNoMetaLeader
	}
	var node *NodeStatus
	for i := range st.Nodes {
		if st.Nodes[i].Name == name {
			node = &st.Nodes[i]
		}
	}
	switch {
	case node == nil:
		return fmt.Errorf("%w: %q (the nodes are %s)", ErrUnknownNode, name, nodeNames(st.Nodes))
	case !node.Offline:
		return fmt.Errorf("%w: %q is up; remove only a node that is gone for good, once it is stopped "+
			"(JetStream marks it offline a few seconds later)", ErrNodeOnline, name)
	}
	nc, err := s.sysConnect()
	if err != nil {
		return err
	}
	defer nc.Close()
	var resp server.JSApiMetaServerRemoveResponse
	if err := jsRequest(ctx, nc, server.JSApiRemoveServer, server.JSApiMetaServerRemoveRequest{Server: name}, &resp); err != nil {
		if errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) {
			return fmt.Errorf("%w: %w", ErrNoMetaLeader, err)
		}
		return fmt.Errorf("store: remove node %s: %w", name, err)
	}
	return nil
}

// nodeNames lists node names for a message.
func nodeNames(nodes []NodeStatus) string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return strings.Join(names, ", ")
}

// StepDown asks the leader of a log (a JetStream stream name), or with
// log "" the meta leader, to hand its leadership to another current
// replica: before restarting a node, so that the election happens while
// every replica is up. It returns the new leader.
func (s *Store) StepDown(ctx context.Context, log string) (string, error) {
	if !s.clustered {
		return "", ErrNotClustered
	}
	before, err := s.leaderOf(ctx, log)
	if err != nil {
		return "", err
	}
	if log == "" {
		nc, err := s.sysConnect()
		if err != nil {
			return "", err
		}
		defer nc.Close()
		var resp server.JSApiLeaderStepDownResponse
		if err := jsRequest(ctx, nc, server.JSApiLeaderStepDown, server.JSApiLeaderStepdownRequest{}, &resp); err != nil {
			return "", fmt.Errorf("store: meta leader stepdown: %w", err)
		}
	} else {
		c, err := s.conn(ctx)
		if err != nil {
			return "", err
		}
		var resp server.JSApiStreamLeaderStepDownResponse
		if err := jsRequest(ctx, c.nc, fmt.Sprintf(server.JSApiStreamLeaderStepDownT, log), struct{}{}, &resp); err != nil {
			return "", fmt.Errorf("store: stepdown of %s: %w", log, err)
		}
	}
	// Wait, bounded, for the new leader to be known. Until it is, a
	// question to the meta leader goes unanswered: ask often, briefly.
	deadline := time.Now().Add(electionWait)
	for {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		after, err := s.leaderOf(actx, log)
		cancel()
		if err == nil && after != "" && after != before {
			return after, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("store: %s stepped down, and no new leader was elected within %s", leaderName(log), electionWait)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// leaderOf names the leader of a log, or with log "" the meta leader.
func (s *Store) leaderOf(ctx context.Context, log string) (string, error) {
	if log == "" {
		nc, err := s.sysConnect()
		if err != nil {
			return "", err
		}
		defer nc.Close()
		var jsz struct {
			Data *server.JSInfo `json:"data"`
		}
		if err := sysRequest(ctx, nc, "$SYS.REQ.SERVER.PING.JSZ", server.JSzOptions{LeaderOnly: true}, &jsz); err != nil {
			return "", fmt.Errorf("%w: %w", ErrNoMetaLeader, err)
		}
		if jsz.Data == nil || jsz.Data.Meta == nil {
			return "", ErrNoMetaLeader
		}
		return jsz.Data.Meta.Leader, nil
	}
	c, err := s.conn(ctx)
	if err != nil {
		return "", err
	}
	var resp server.JSApiStreamInfoResponse
	if err := jsRequest(ctx, c.nc, fmt.Sprintf(server.JSApiStreamInfoT, log), struct{}{}, &resp); err != nil {
		return "", fmt.Errorf("store: log %s: %w", log, err)
	}
	if resp.StreamInfo == nil || resp.Cluster == nil {
		return "", nil
	}
	return resp.Cluster.Leader, nil
}

// jsRequest makes a JetStream API request and decodes its answer,
// turning an API error into a Go error (ErrNotFound for a missing
// stream).
func jsRequest(ctx context.Context, nc *nats.Conn, subject string, req, resp any) error {
	msg, err := request(ctx, nc, subject, req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (no answer within %s)", nats.ErrTimeout, opsTimeout)
		}
		return err
	}
	var ar struct {
		Error *server.ApiError `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &ar); err != nil {
		return fmt.Errorf("bad answer to %s: %w", subject, err)
	}
	if ar.Error != nil {
		if ar.Error.ErrCode == uint16(server.JSStreamNotFoundErr) {
			return fmt.Errorf("%w: %s", ErrNotFound, ar.Error.Description)
		}
		if ar.Error.ErrCode == uint16(server.JSClusterServerNotMemberErr) {
			return fmt.Errorf("%w: %s", ErrUnknownNode, ar.Error.Description)
		}
		return fmt.Errorf("jetstream: %s (code %d, error %d)", ar.Error.Description, ar.Error.Code, ar.Error.ErrCode)
	}
	return json.Unmarshal(msg.Data, resp)
}

// sysRequest makes a $SYS request answered by one server.
func sysRequest(ctx context.Context, nc *nats.Conn, subject string, req, resp any) error {
	msg, err := request(ctx, nc, subject, req)
	if err != nil {
		return err
	}
	return json.Unmarshal(msg.Data, resp)
}

// request sends req as JSON and waits up to opsTimeout for the answer.
func request(ctx context.Context, nc *nats.Conn, subject string, req any) (*nats.Msg, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, opsTimeout)
	defer cancel()
	return nc.RequestWithContext(rctx, subject, b)
}

// sysGather makes a $SYS request every server answers and collects the
// answers that come within gatherWait of the first.
func sysGather(ctx context.Context, nc *nats.Conn, subject string, req any) ([][]byte, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest(subject, inbox, b); err != nil {
		return nil, err
	}
	var out [][]byte
	deadline := time.Now().Add(opsTimeout)
	for {
		wctx, cancel := context.WithDeadline(ctx, deadline)
		msg, err := sub.NextMsgWithContext(wctx)
		cancel()
		if err != nil {
			if len(out) > 0 {
				return out, nil
			}
			return nil, err
		}
		if len(out) == 0 {
			deadline = time.Now().Add(gatherWait)
		}
		out = append(out, msg.Data)
	}
}
