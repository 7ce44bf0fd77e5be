package server

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/store"
)

// writeSecret writes a secret file readable by its owner only.
func writeSecret(t *testing.T, secret string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// parseServe parses serve flags into the server's configuration.
func parseServe(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return f.Config(io.Discard)
}

// TestClusterFlagsConfigure: the cluster flags become the store's
// Cluster, External and Replicas; with none of them the store is
// configured exactly as before.
func TestClusterFlagsConfigure(t *testing.T) {
	secret := writeSecret(t, "0123456789abcdef0123\n")
	password := writeSecret(t, "pw\n")
	for _, tc := range []struct {
		name string
		args []string
		want store.Config
	}{
		{"alone", nil, store.Config{Dir: "./data", Durability: store.Interval}},
		{"alone, one replica", []string{"-replicas", "1"}, store.Config{Dir: "./data", Durability: store.Interval, Replicas: 1}},
		{"cluster node", []string{"-node-name", "a", "-cluster-listen", "10.0.0.1:7422", "-peers", "10.0.0.2:7422, 10.0.0.3:7422",
			"-cluster-secret-file", secret, "-data-dir", "/d", "-durability", "sync"},
			store.Config{Dir: "/d", Durability: store.Sync, Cluster: &store.Cluster{NodeName: "a", Name: "tributary",
				Listen: "10.0.0.1:7422", Peers: []string{"10.0.0.2:7422", "10.0.0.3:7422"}, User: "tributary", Password: "0123456789abcdef0123", ReadyTimeout: forever}}},
		{"cluster node with TLS, advertised, R5", []string{"-node-name", "n_1", "-cluster-name", "prod", "-cluster-listen", ":7422",
			"-cluster-advertise", "host1:7422", "-peers", "host2:7422", "-replicas", "5",
			"-cluster-tls-cert", "c.pem", "-cluster-tls-key", "k.pem", "-cluster-tls-ca", "ca.pem"},
			store.Config{Dir: "./data", Durability: store.Interval, Replicas: 5, Cluster: &store.Cluster{NodeName: "n_1", Name: "prod",
				Listen: ":7422", Advertise: "host1:7422", Peers: []string{"host2:7422"},
				TLS: &store.TLSFiles{CertFile: "c.pem", KeyFile: "k.pem", CAFile: "ca.pem"}, ReadyTimeout: forever}}},
		{"external NATS", []string{"-nats-url", "nats://a:4222,nats://b:4222", "-nats-user", "app", "-nats-password-file", password,
			"-nats-tls-ca", "ca.pem", "-replicas", "3"},
			store.Config{Durability: store.Interval, Replicas: 3, External: &store.External{URL: "nats://a:4222,nats://b:4222",
				User: "app", Password: "pw", CAFile: "ca.pem", ReadyTimeout: forever}}},
		{"external NATS, credentials file", []string{"-nats-url", "nats://a:4222", "-nats-creds", "app.creds", "-cluster-wait", "90s"},
			store.Config{Durability: store.Interval, External: &store.External{URL: "nats://a:4222", CredsFile: "app.creds", ReadyTimeout: 90 * time.Second}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseServe(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.Store
			got.SyncInterval = 0
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("store config\n got %+v %+v %+v\nwant %+v %+v %+v", got, got.Cluster, got.External, tc.want, tc.want.Cluster, tc.want.External)
			}
		})
	}
}
