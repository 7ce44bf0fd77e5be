package store

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A store can run on more than one machine in two ways. Its embedded
// NATS server can join the embedded servers of other nodes in one
// JetStream cluster (Config.Cluster), or the store can use a NATS
// cluster that someone else runs, with no server of its own
// (Config.External). Either way, replication is JetStream's: every log
// and the metadata bucket are streams with Config's replica count, and a
// write is acknowledged once a quorum of their replicas has it.

// Cluster joins the embedded server to a JetStream cluster of peers.
type Cluster struct {
	// NodeName names this node's server; unique in the cluster and the
	// same across restarts (JetStream knows its peers by it).
	NodeName string
	// Name is the cluster's name, the same on every node; "" means
	// DefaultClusterName.
	Name string
	// Listen is the host:port the node accepts its peers' routes on.
	// Port 0 picks a free port (ClusterAddr reports it).
	Listen string
	// Advertise is the host:port peers are told to reach this node at,
	// when it differs from Listen (behind NAT, or Listen is 0.0.0.0).
	Advertise string
	// Peers are the other nodes' cluster addresses (host:port). They
	// need not all be up: the node connects to each as it comes, and
	// learns of nodes missing from the list from those it reaches.
	Peers []string
	// User and Password are the shared secret: a peer's routes are
	// accepted only with them, and this node presents them to its peers.
	User, Password string
	// TLS, when set, encrypts routes. Peers' certificates are always
	// verified against CAFile (nats-server requires mutual TLS on
	// routes), and their host names or IPs against the peer addresses.
	TLS *TLSFiles
	// ReadyTimeout bounds Open's wait for the cluster to elect a
	// JetStream leader and make the metadata bucket available; zero means
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Waiting, when set, hears while Open waits what it is waiting for
	// (to report it, as /health does, before the store is open).
	Waiting func(why string)
}

// TLSFiles names PEM files for a TLS identity and the CA that signs peers.
type TLSFiles struct {
	CertFile, KeyFile, CAFile string
}

// External is an existing NATS cluster (or server) with JetStream, used
// instead of an embedded server.
type External struct {
	// URL lists the servers, comma-separated (nats://host:4222,...).
	URL string
	// CredsFile is a NATS credentials file (JWT and NKey seed).
	CredsFile string
	// User and Password, or Token, authenticate when no CredsFile is set.
	User, Password, Token string
	// CAFile verifies the servers' certificates; CertFile and KeyFile
	// are a client certificate for servers that ask for one.
	CAFile, CertFile, KeyFile string
	// ReadyTimeout bounds Open's wait for JetStream and the metadata
	// bucket; zero means DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Waiting is Cluster.Waiting's counterpart.
	Waiting func(why string)
}

// DefaultClusterName is the cluster name when Cluster.Name is empty.
const DefaultClusterName = "tributary"

// DefaultReadyTimeout bounds Open's wait for a cluster to be usable.
const DefaultReadyTimeout = 60 * time.Second

// ClusteredReplicas is the replica count of every log and of the
// metadata bucket in a cluster when Config.Replicas is zero.
const ClusteredReplicas = 3

// validate checks what can be checked before starting anything.
func (c *Cluster) validate() error {
	if c.NodeName == "" {
		return errors.New("store: cluster: a node name is required (unique in the cluster, stable across restarts)")
	}
	if _, _, err := splitHostPort(c.Listen); err != nil {
		return fmt.Errorf("store: cluster listen address: %w", err)
	}
	if len(c.Peers) == 0 {
		return errors.New("store: cluster: at least one peer is required (JetStream clustering needs routes)")
	}
	for _, p := range c.Peers {
		if _, _, err := splitHostPort(p); err != nil {
			return fmt.Errorf("store: cluster peer: %w", err)
		}
	}
	if (c.User == "") != (c.Password == "") {
		return errors.New("store: cluster: the shared secret needs both a user and a password")
	}
	if c.TLS != nil && (c.TLS.CertFile == "" || c.TLS.KeyFile == "" || c.TLS.CAFile == "") {
		return errors.New("store: cluster TLS needs a certificate, its key and the CA that signs the peers' certificates")
	}
	return nil
}

// splitHostPort parses host:port with a numeric port.
func splitHostPort(addr string) (string, int, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q: %w", addr, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: bad port", addr)
	}
	return host, port, nil
}

// apply sets the embedded server's options for clustering. It returns
// the options of the client connection to the server.
//
// nats-server (2.15) starts accepting routes only once its client
// listener is up: with DontListen it never does, and its Shutdown then
// waits forever for the routing goroutine. So a clustered node listens
// for clients too, on a loopback port of the system's choosing, and
// only a client with a password made for this process (its own
// in-process connection) is let in.
func (c *Cluster) apply(opts *server.Options) ([]nats.Option, error) {
	host, port, _ := splitHostPort(c.Listen)
	pw := make([]byte, 24)
	if _, err := rand.Read(pw); err != nil {
		return nil, fmt.Errorf("store: client password: %w", err)
	}
	opts.DontListen = false
	opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
	opts.Username, opts.Password = "tributary", hex.EncodeToString(pw)
	opts.ServerName = c.NodeName
	opts.Cluster = server.ClusterOpts{
		Name:      c.Name,
		Host:      host,
		Port:      port,
		Advertise: c.Advertise,
		Username:  c.User,
		Password:  c.Password,
	}
	if opts.Cluster.Name == "" {
		opts.Cluster.Name = DefaultClusterName
	}
	if port == 0 {
		// nats-server treats port 0 as "no cluster"; -1 picks a free one.
		opts.Cluster.Port = server.RANDOM_PORT
	}
	for _, p := range c.Peers {
		u := &url.URL{Scheme: "nats", Host: p}
		if c.User != "" {
			u.User = url.UserPassword(c.User, c.Password)
		}
		opts.Routes = append(opts.Routes, u)
	}
	if c.TLS != nil {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{
			CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile, CaFile: c.TLS.CAFile, Verify: true,
		})
		if err != nil {
			return nil, fmt.Errorf("store: cluster TLS: %w", err)
		}
		// As nats-server does for routes: both ends verify each other.
		tc.ClientAuth = tls.RequireAndVerifyClientCert
		tc.RootCAs = tc.ClientCAs
		opts.Cluster.TLSConfig = tc
		opts.Cluster.TLSTimeout = 5
	}
	return []nats.Option{nats.UserInfo(opts.Username, opts.Password)}, nil
}

func (c *Cluster) readyTimeout() time.Duration {
	if c.ReadyTimeout > 0 {
		return c.ReadyTimeout
	}
	return DefaultReadyTimeout
}

// ClusterAddr is the address this node accepts its peers' routes on, ""
// when it is not clustered or has no embedded server.
func (s *Store) ClusterAddr() string {
	if s.ns == nil || s.opts == nil || s.opts.Cluster.Port == 0 {
		return ""
	}
	if a := s.ns.ClusterAddr(); a != nil {
		return a.String()
	}
	return ""
}

// Replicas is the replica count of every log and of the metadata bucket.
func (s *Store) Replicas() int { return s.replicas }

// waitReady waits until JetStream answers and the metadata bucket is
// open with a leader, as it must before anything can be read or written:
// in a cluster, until a quorum of nodes has elected a meta leader. It
// logs its progress every few seconds and gives up after timeout with
// what it last saw.
func (s *Store) waitReady(parent context.Context, timeout time.Duration) (*conn, error) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	start := time.Now()
	nextLog := start.Add(2 * time.Second)
	var lastErr error
	for {
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := s.dial(actx, true)
		if err == nil {
			err = s.bucketLed(actx, c)
			if err != nil {
				c.nc.Close()
			}
		}
		acancel()
		if err == nil {
			if time.Since(start) > time.Second {
				s.log.Info("store: jetstream cluster ready", "after", time.Since(start).Round(time.Millisecond))
			}
			return c, nil
		}
		lastErr = err
		if s.waiting != nil {
			s.waiting(fmt.Sprintf("%v (%s)", err, s.peerStatus()))
		}
		if time.Now().After(nextLog) {
			s.log.Info("store: waiting for the jetstream cluster", "waited", time.Since(start).Round(time.Second),
				"peers", s.peerStatus(), "last", err)
			nextLog = time.Now().Add(5 * time.Second)
		}
		select {
		case <-ctx.Done():
			if perr := parent.Err(); perr != nil {
				return nil, fmt.Errorf("store: waiting for the jetstream cluster: %w", perr)
			}
			return nil, s.notReady(timeout, lastErr)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// bucketLed checks that the metadata bucket's stream has a leader, which
// in a cluster it may lack for a moment after being created or after
// its leader's node went away.
func (s *Store) bucketLed(ctx context.Context, c *conn) error {
	st, err := c.js.Stream(ctx, metaStream)
	if err != nil {
		return fmt.Errorf("metadata bucket: %w", err)
	}
	if ci := st.CachedInfo().Cluster; ci != nil && ci.Leader == "" && s.replicas > 1 {
		return errors.New("metadata bucket: no leader yet")
	}
	return nil
}

// notReady explains why the cluster did not become usable in time.
func (s *Store) notReady(timeout time.Duration, last error) error {
	if s.ns == nil {
		return fmt.Errorf("store: the NATS servers at %s did not provide JetStream and the metadata bucket within %s: %w",
			s.remote, timeout, last)
	}
	return fmt.Errorf("store: the jetstream cluster did not form within %s (%s): %w; "+
		"check that a majority of the nodes are running, that each can reach the others' cluster addresses, "+
		"and that all use the same cluster name, secret and TLS authority", timeout, s.peerStatus(), last)
}

// peerStatus says which peers this node has a route to (or, with no
// embedded server, which servers it uses).
func (s *Store) peerStatus() string {
	if s.ns == nil {
		return "servers " + s.remote
	}
	rz, err := s.ns.Routez(nil)
	if err != nil {
		return "routes unknown: " + err.Error()
	}
	names := map[string]bool{}
	for _, r := range rz.Routes {
		if r.RemoteName != "" {
			names[r.RemoteName] = true
		}
	}
	var up []string
	for n := range names {
		up = append(up, n)
	}
	sort.Strings(up)
	var configured []string
	for _, u := range s.opts.Routes {
		configured = append(configured, u.Host)
	}
	return fmt.Sprintf("connected to %d node(s) [%s]; configured peers %s", len(up), strings.Join(up, ", "),
		strings.Join(configured, ", "))
}

// openBucket opens the metadata bucket, creating it if needed. Alone it
// is made exactly as it always was. With replicas, its stream is then
// given the replica count and its direct gets are turned off: direct
// gets are answered by any replica, a follower's copy may lag behind
// what was acknowledged, and a metadata read must see every
// acknowledged write (so reads go to the bucket's leader).
func (s *Store) openBucket(ctx context.Context, js jetstream.JetStream, create bool) (jetstream.KeyValue, error) {
	if !create {
		return js.KeyValue(ctx, metaBucket)
	}
	if !s.clustered {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:  metaBucket,
			History: 1,
			Storage: s.storage,
		})
	}
	_, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:   metaBucket,
		History:  1,
		Storage:  s.storage,
		Replicas: s.replicas,
	})
	if err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
		return nil, err
	}
	st, err := js.Stream(ctx, metaStream)
	if err != nil {
		return nil, err
	}
	cfg := st.CachedInfo().Config
	if cfg.AllowDirect || cfg.Replicas != s.replicas {
		cfg.AllowDirect, cfg.Replicas = false, s.replicas
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return nil, fmt.Errorf("set replicas and leader reads: %w", err)
		}
	}
	return js.KeyValue(ctx, metaBucket)
}

// Shared reports whether other processes may use the same JetStream (a
// cluster, or NATS servers run by someone else): then nothing in the
// store is this process's alone to tidy.
func (s *Store) Shared() bool { return s.clustered || s.ns == nil }
