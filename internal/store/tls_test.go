package store_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/store/storetest"
)

// testCA makes a CA and a certificate it signs for 127.0.0.1, good for
// both ends of a route, and writes them as PEM files in a new directory.
func testCA(t *testing.T) *store.TLSFiles {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "node"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	f := &store.TLSFiles{CertFile: filepath.Join(dir, "node.pem"), KeyFile: filepath.Join(dir, "node-key.pem"),
		CAFile: filepath.Join(dir, "ca.pem")}
	for file, block := range map[string]*pem.Block{
		f.CAFile:   {Type: "CERTIFICATE", Bytes: caDER},
		f.CertFile: {Type: "CERTIFICATE", Bytes: der},
		f.KeyFile:  {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// TestClusterTLS: nodes with certificates from the cluster's CA form a
// cluster over TLS and replicate; a node with the secret but without
// TLS, or with a certificate from another CA, gets no route.
func TestClusterTLS(t *testing.T) {
	ctx := t.Context()
	ca := testCA(t)
	nodes := storetest.Start(t, storetest.Configs(t, 3, func(c *store.Cluster) { c.TLS = ca }))
	if err := nodes[0].Store().CreateLog(ctx, "L", 0); err != nil {
		t.Fatal(err)
	}
	seq, err := nodes[0].Store().AppendAsync("L", []byte("x")).Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := nodes[2].Store().HasMessage(ctx, "L", seq); err != nil || !ok {
		t.Fatalf("node 2 does not read the write through node 0: %v", err)
	}
	port := storetest.FreePorts(t, 1)[0]
	for _, tc := range []struct {
		name string
		tls  *store.TLSFiles
	}{
		{"no TLS", nil},
		{"another CA", testCA(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := &store.Cluster{NodeName: "newcomer", Listen: storetest.Addr(port), Peers: []string{nodes[0].Config.Cluster.Listen},
				User: "route", Password: "s3cret", TLS: tc.tls, ReadyTimeout: 3 * time.Second}
			st, err := store.Open(ctx, store.Config{Dir: t.TempDir(), Cluster: cl})
			if err == nil {
				st.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), "did not form") {
				t.Fatalf("error %q does not say the cluster did not form", err)
			}
			for _, n := range nodes {
				if routedTo(t, n.Store(), cl.NodeName) {
					t.Fatalf("node %s has a route to the newcomer", n.Name())
				}
			}
		})
	}
}
