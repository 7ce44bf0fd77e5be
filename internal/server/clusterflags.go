package server

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/store"
)

// clusterFlags are the serve flags that run a node of a cluster: its
// embedded server joined to its peers' (store.Cluster), or no embedded
// server and an existing NATS instead (store.External). Secrets come from
// files, never from the command line: a process's arguments are visible
// to every user of the machine (ps, /proc/PID/cmdline) and stay in shell
// histories.
type clusterFlags struct {
	nodeName, name, listen, advertise, peers string
	replicas                                 int
	wait                                     time.Duration
	secretFile, tlsCert, tlsKey, tlsCA       string

	natsURL, natsCreds, natsUser, natsPasswordFile, natsTokenFile string
	natsCA, natsCert, natsKey                                     string
}

// embeddedClusterFlags are the flags of a node whose embedded server
// joins a cluster; externalFlags those of a node on an existing NATS.
var (
	embeddedClusterFlags = []string{"node-name", "cluster-name", "cluster-listen", "cluster-advertise", "peers",
		"cluster-secret-file", "cluster-tls-cert", "cluster-tls-key", "cluster-tls-ca"}
	externalFlags = []string{"nats-url", "nats-creds", "nats-user", "nats-password-file", "nats-token-file",
		"nats-tls-ca", "nats-tls-cert", "nats-tls-key"}
	// embeddedStoreFlags tune the embedded server's files, which an
	// external NATS keeps by its own configuration.
	embeddedStoreFlags = map[string]string{
		"data-dir":        "the data is on the NATS servers (their store_dir)",
		"in-memory":       "where the NATS servers keep streams is their configuration",
		"durability":      "when the NATS servers fsync is their sync_interval",
		"sync-interval":   "when the NATS servers fsync is their sync_interval",
		"max-store-bytes": "limit the store with the account's JetStream limits on the NATS servers",
		"tls-self-signed": "the generated certificate is kept in the data directory, and there is none; give -tls-cert and -tls-key",
	}
)

// secretHelp says why secrets are read from files.
const secretHelp = "; a file, not a flag value, because every user of the machine can read a process's arguments"

func (c *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.nodeName, "node-name", "", "this node's `name` in a cluster: unique among the nodes and the same across restarts (letters, digits, '-' and '_'); with -cluster-listen and -peers it joins the embedded server to the others'")
	fs.StringVar(&c.name, "cluster-name", store.DefaultClusterName, "the cluster's `name`, the same on every node")
	fs.StringVar(&c.listen, "cluster-listen", "", "`host:port` this node accepts the other nodes' cluster connections on, e.g. 10.0.0.1:7422")
	fs.StringVar(&c.advertise, "cluster-advertise", "", "`host:port` the other nodes are told to reach this node at, when not -cluster-listen (behind NAT, or listening on 0.0.0.0)")
	fs.StringVar(&c.peers, "peers", "", "comma-separated `host:port` cluster addresses of the other nodes (this node's own may be listed too, so every node can be given one list)")
	fs.DurationVar(&c.wait, "cluster-wait", 0, "how long a starting node waits for its cluster to be usable (a majority of the nodes up and reachable; /health says what is missing meanwhile) before it gives up and exits; 0 waits until stopped")
	fs.IntVar(&c.replicas, "replicas", 0, "`copies` of every shard's log and of the metadata, 1 to 5; a write is acknowledged once a majority has it (default 3 in a cluster, 1 alone)")
	fs.StringVar(&c.secretFile, "cluster-secret-file", "", "`file` holding the cluster's shared secret (16 characters or more, the same on every node): other nodes' connections are accepted only with it"+secretHelp)
	fs.StringVar(&c.tlsCert, "cluster-tls-cert", "", "PEM certificate `file` for cluster connections (with -cluster-tls-key and -cluster-tls-ca: TLS between nodes, each verifying the other)")
	fs.StringVar(&c.tlsKey, "cluster-tls-key", "", "PEM private key `file` of -cluster-tls-cert")
	fs.StringVar(&c.tlsCA, "cluster-tls-ca", "", "PEM `file` of the CA that signs every node's cluster certificate")
	fs.StringVar(&c.natsURL, "nats-url", "", "use the JetStream of existing NATS servers at these comma-separated `URLs` (nats://host:4222,...) instead of an embedded server; the data and its durability are then theirs")
	fs.StringVar(&c.natsCreds, "nats-creds", "", "NATS credentials `file` (JWT and NKey seed) for -nats-url")
	fs.StringVar(&c.natsUser, "nats-user", "", "NATS `user` for -nats-url, with -nats-password-file")
	fs.StringVar(&c.natsPasswordFile, "nats-password-file", "", "`file` holding -nats-user's password"+secretHelp)
	fs.StringVar(&c.natsTokenFile, "nats-token-file", "", "`file` holding a NATS token for -nats-url"+secretHelp)
	fs.StringVar(&c.natsCA, "nats-tls-ca", "", "PEM `file` of the CA that signs the -nats-url servers' certificates")
	fs.StringVar(&c.natsCert, "nats-tls-cert", "", "PEM client certificate `file` for -nats-url servers that ask for one (with -nats-tls-key)")
	fs.StringVar(&c.natsKey, "nats-tls-key", "", "PEM private key `file` of -nats-tls-cert")
}

// apply sets cfg's store for the cluster flags among set (the flags the
// command line gave), or reports the combination that makes no sense.
func (c *clusterFlags) apply(cfg *Config, set map[string]bool, lg *slog.Logger) error {
	if c.replicas != 0 || set["replicas"] {
		if c.replicas < 1 || c.replicas > 5 {
			return fmt.Errorf("-replicas %d: want 1 to 5 (JetStream keeps at most 5 copies)", c.replicas)
		}
		cfg.Store.Replicas = c.replicas
	}
	embedded, external := anySet(set, embeddedClusterFlags), anySet(set, externalFlags)
	switch {
	case embedded != "" && external != "":
		return fmt.Errorf("-%s is for a node whose embedded server joins a cluster, -%s for a node on NATS servers of yours: give one or the other", embedded, external)
	case external != "":
		return c.applyExternal(cfg, set, lg)
	case embedded != "":
		return c.applyCluster(cfg, set, lg)
	case cfg.Store.Replicas > 1:
		return fmt.Errorf("-replicas %d needs a cluster: -node-name, -cluster-listen and -peers (or -nats-url)", cfg.Store.Replicas)
	case set["cluster-wait"]:
		return errors.New("-cluster-wait is for a node of a cluster (-node-name, -cluster-listen and -peers) or on -nats-url")
	}
	return nil
}

// forever stands for no bound on the wait for a cluster.
const forever = 100 * 365 * 24 * time.Hour

// readyTimeout is the store's bound on its wait for the cluster.
func (c *clusterFlags) readyTimeout() time.Duration {
	if c.wait <= 0 {
		return forever
	}
	return c.wait
}

// anySet returns the first of names that set holds, "" for none.
func anySet(set map[string]bool, names []string) string {
	for _, n := range names {
		if set[n] {
			return n
		}
	}
	return ""
}

// nodeNameRE is what a node name may be: it names a NATS server and
// appears in metadata keys.
var nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// minSecret is the shortest cluster secret accepted.
const minSecret = 16

// applyCluster sets cfg.Store.Cluster from the flags.
func (c *clusterFlags) applyCluster(cfg *Config, set map[string]bool, lg *slog.Logger) error {
	switch {
	case c.nodeName == "":
		return fmt.Errorf("-%s is for a cluster node, which needs -node-name: its name, unique in the cluster and the same across restarts",
			anySet(set, embeddedClusterFlags))
	case !nodeNameRE.MatchString(c.nodeName):
		return fmt.Errorf("-node-name %q: use 1 to 64 letters, digits, '-' or '_'", c.nodeName)
	case c.listen == "":
		return errors.New("a cluster node needs -cluster-listen: the host:port it accepts the other nodes on, e.g. 10.0.0.1:7422")
	case c.peers == "":
		return errors.New("a cluster node needs -peers: the other nodes' cluster addresses, host:port,... (JetStream clustering needs routes)")
	case c.name == "" || strings.ContainsAny(c.name, " \t\r\n"):
		return fmt.Errorf("-cluster-name %q: want a name without spaces", c.name)
	case set["in-memory"]:
		return errors.New("-in-memory cannot be clustered: a restarted node would rejoin with no copy of its data under the same name; give each node its own -data-dir")
	}
	cl := &store.Cluster{NodeName: c.nodeName, Name: c.name, Listen: c.listen, Advertise: c.advertise,
		ReadyTimeout: c.readyTimeout()}
	if err := checkHostPort("-cluster-listen", c.listen); err != nil {
		return err
	}
	if c.advertise != "" {
		if err := checkHostPort("-cluster-advertise", c.advertise); err != nil {
			return err
		}
	}
	for _, p := range strings.Split(c.peers, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if err := checkHostPort("-peers", p); err != nil {
			return err
		}
		cl.Peers = append(cl.Peers, p)
	}
	if c.secretFile != "" {
		secret, err := readSecret("-cluster-secret-file", c.secretFile, lg)
		if err != nil {
			return err
		}
		if len(secret) < minSecret {
			return fmt.Errorf("-cluster-secret-file %s holds %d characters; use %d or more, random (e.g. openssl rand -hex 32 > %s)",
				c.secretFile, len(secret), minSecret, c.secretFile)
		}
		cl.User, cl.Password = "tributary", secret
	}
	if c.tlsCert != "" || c.tlsKey != "" || c.tlsCA != "" {
		if c.tlsCert == "" || c.tlsKey == "" || c.tlsCA == "" {
			return errors.New("cluster TLS needs all of -cluster-tls-cert, -cluster-tls-key and -cluster-tls-ca (each node verifies the others' certificates)")
		}
		cl.TLS = &store.TLSFiles{CertFile: c.tlsCert, KeyFile: c.tlsKey, CAFile: c.tlsCA}
	}
	cfg.Store.Cluster = cl
	return nil
}

// applyExternal sets cfg.Store.External from the flags.
func (c *clusterFlags) applyExternal(cfg *Config, set map[string]bool, lg *slog.Logger) error {
	if c.natsURL == "" {
		return fmt.Errorf("-%s needs -nats-url", anySet(set, externalFlags))
	}
	for _, name := range []string{"data-dir", "in-memory", "durability", "sync-interval", "max-store-bytes", "tls-self-signed"} {
		if set[name] {
			return fmt.Errorf("-%s does not apply with -nats-url: %s", name, embeddedStoreFlags[name])
		}
	}
	ext := &store.External{URL: c.natsURL, CredsFile: c.natsCreds, User: c.natsUser,
		CAFile: c.natsCA, CertFile: c.natsCert, KeyFile: c.natsKey, ReadyTimeout: c.readyTimeout()}
	auths := 0
	for _, v := range []string{c.natsCreds, c.natsUser, c.natsTokenFile} {
		if v != "" {
			auths++
		}
	}
	switch {
	case auths > 1:
		return errors.New("give one of -nats-creds, -nats-user (with -nats-password-file) or -nats-token-file")
	case (c.natsUser == "") != (c.natsPasswordFile == ""):
		return errors.New("-nats-user and -nats-password-file go together")
	case (c.natsCert == "") != (c.natsKey == ""):
		return errors.New("-nats-tls-cert and -nats-tls-key go together")
	}
	var err error
	if c.natsPasswordFile != "" {
		if ext.Password, err = readSecret("-nats-password-file", c.natsPasswordFile, lg); err != nil {
			return err
		}
	}
	if c.natsTokenFile != "" {
		if ext.Token, err = readSecret("-nats-token-file", c.natsTokenFile, lg); err != nil {
			return err
		}
	}
	cfg.Store.External = ext
	cfg.Store.Dir = "" // the data is on the NATS servers
	return nil
}

// checkHostPort checks a host:port flag value: a numeric port, and a
// host that may be empty (every interface).
func checkHostPort(flagName, v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%s %q: want host:port", flagName, v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%s %q: the port must be a number from 0 to 65535", flagName, v)
	}
	return nil
}

// readSecret reads a secret from a file, without the line end an editor
// leaves. A file other users can read is worth a warning.
func readSecret(flagName, path string, lg *slog.Logger) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flagName, err)
	}
	secret := strings.TrimRight(string(b), "\r\n")
	if secret == "" {
		return "", fmt.Errorf("%s %s is empty", flagName, path)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		lg.Warn(flagName+" can be read by other users of this machine; chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
	}
	return secret, nil
}

// warnClusterExposed warns when a node accepts cluster connections
// beyond this machine with neither a secret nor TLS checking who joins:
// anyone who reaches the port could join the cluster and read or change
// every stream.
func warnClusterExposed(lg *slog.Logger, cl *store.Cluster) {
	if cl == nil || cl.Password != "" || cl.TLS != nil {
		return
	}
	host, _, _ := net.SplitHostPort(cl.Listen)
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() || host == "localhost" {
		return
	}
	lg.Warn("the cluster port accepts any node: set -cluster-secret-file (and -cluster-tls-*) so that only your nodes can join",
		"cluster_listen", cl.Listen)
}
