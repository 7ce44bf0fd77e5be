package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeClusterFlagErrors: combinations of the cluster flags that
// make no sense are refused before anything starts, with a message that
// names the flags and exit status 2.
func TestServeClusterFlagErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("tooshort\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	node := []string{"-node-name", "a", "-cluster-listen", "127.0.0.1:7422", "-peers", "127.0.0.1:7423"}
	with := func(extra ...string) []string { return append(append([]string{}, node...), extra...) }
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"peers without a node name", []string{"-peers", "127.0.0.1:7423"}, "-peers is for a cluster node, which needs -node-name"},
		{"secret without a cluster", []string{"-cluster-secret-file", short}, "-cluster-secret-file is for a cluster node, which needs -node-name"},
		{"no listen address", []string{"-node-name", "a", "-peers", "127.0.0.1:7423"}, "needs -cluster-listen"},
		{"no peers", []string{"-node-name", "a", "-cluster-listen", "127.0.0.1:7422"}, "needs -peers"},
		{"bad node name", []string{"-node-name", "a.b", "-cluster-listen", "127.0.0.1:7422", "-peers", "127.0.0.1:7423"}, `-node-name "a.b"`},
		{"bad peer", with("-peers", "127.0.0.1"), `-peers "127.0.0.1": want host:port`},
		{"bad port", with("-cluster-listen", "127.0.0.1:x"), "port must be a number"},
		{"in memory", with("-in-memory"), "-in-memory cannot be clustered"},
		{"short secret", with("-cluster-secret-file", short), "use 16 or more"},
		{"missing secret file", with("-cluster-secret-file", filepath.Join(dir, "none")), "no such file"},
		{"half of TLS", with("-cluster-tls-cert", "c.pem"), "needs all of -cluster-tls-cert, -cluster-tls-key and -cluster-tls-ca"},
		{"replicas alone", []string{"-replicas", "3"}, "-replicas 3 needs a cluster"},
		{"wait without a cluster", []string{"-cluster-wait", "1m"}, "-cluster-wait is for a node of a cluster"},
		{"too many replicas", with("-replicas", "7"), "want 1 to 5"},
		{"zero replicas", with("-replicas", "0"), "want 1 to 5"},
		{"cluster and external", with("-nats-url", "nats://127.0.0.1:4222"), "give one or the other"},
		{"external with a data dir", []string{"-nats-url", "nats://127.0.0.1:4222", "-data-dir", dir}, "-data-dir does not apply with -nats-url"},
		{"external in memory", []string{"-nats-url", "nats://127.0.0.1:4222", "-in-memory"}, "-in-memory does not apply"},
		{"external with sync", []string{"-nats-url", "nats://127.0.0.1:4222", "-durability", "sync"}, "sync_interval"},
		{"external with a store limit", []string{"-nats-url", "nats://127.0.0.1:4222", "-max-store-bytes", "100"}, "JetStream limits"},
		{"external self-signed", []string{"-nats-url", "nats://127.0.0.1:4222", "-tls-self-signed"}, "-tls-self-signed does not apply"},
		{"NATS user without a URL", []string{"-nats-user", "app"}, "-nats-user needs -nats-url"},
		{"NATS user without a password", []string{"-nats-url", "nats://127.0.0.1:4222", "-nats-user", "app"}, "go together"},
		{"two NATS credentials", []string{"-nats-url", "nats://127.0.0.1:4222", "-nats-creds", "a.creds", "-nats-token-file", short}, "give one of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(t.Context(), append([]string{"serve", "-listen", "127.0.0.1:0", "-connect-listen", ""}, tc.args...), io.Discard, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("serve %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, stderr.String(), tc.want)
			}
		})
	}
}
