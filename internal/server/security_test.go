package server

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTLSConfigLoad(t *testing.T) {
	lg := slog.New(slog.DiscardHandler)
	if c, err := (TLSConfig{}).load(":4567", lg); c != nil || err != nil {
		t.Fatalf("zero TLSConfig = %v, %v; want plaintext", c, err)
	}

	// Write a generated certificate and key as PEM files and load them.
	cert, err := selfSigned("127.0.0.1:0", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	keyDER, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, certFile, "CERTIFICATE", cert.Certificate[0])
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	c, err := (TLSConfig{CertFile: certFile, KeyFile: keyFile}).load(":0", lg)
	if err != nil || len(c.Certificates) != 1 {
		t.Fatalf("load cert files = %v, %v", c, err)
	}

	for _, bad := range []struct {
		cfg  TLSConfig
		want string
	}{
		{TLSConfig{CertFile: certFile}, "must be given together"},
		{TLSConfig{KeyFile: keyFile}, "must be given together"},
		{TLSConfig{CertFile: certFile, KeyFile: keyFile, SelfSigned: true}, "excludes"},
		{TLSConfig{CertFile: keyFile, KeyFile: certFile}, "load"},
		{TLSConfig{CertFile: certFile + ".missing", KeyFile: keyFile}, "load"},
	} {
		if _, err := bad.cfg.load(":0", lg); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: err = %v, want %q", bad.cfg, err, bad.want)
		}
	}
}

func TestSelfSignedHosts(t *testing.T) {
	for addr, extra := range map[string]string{":4567": "", "0.0.0.0:1": "", "10.1.2.3:1": "10.1.2.3", "kinesis.local:1": "kinesis.local"} {
		cert, err := selfSigned(addr, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"localhost", "127.0.0.1", "::1", extra} {
			if h == "" {
				continue
			}
			if err := cert.Leaf.VerifyHostname(h); err != nil {
				t.Errorf("%s: %v", addr, err)
			}
		}
		if len(cert.Leaf.IPAddresses) > 3 || (extra == "" && len(cert.Leaf.DNSNames) != 1) {
			t.Errorf("%s: unexpected names %v %v", addr, cert.Leaf.DNSNames, cert.Leaf.IPAddresses)
		}
		if _, ok := cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
			t.Errorf("key is %T, want ECDSA", cert.PrivateKey)
		}
	}
	if got := fingerprint([]byte{0x0a, 0xff, 0x10}); got != "0A:FF:10" {
		t.Errorf("fingerprint = %s", got)
	}
}

func TestLoadVerifier(t *testing.T) {
	p := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(p, []byte("AKID secret 111122223333\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadVerifier(p); err != nil {
		t.Fatal(err)
	}
	if _, err := loadVerifier(p + ".missing"); err == nil {
		t.Fatal("missing credentials file accepted")
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
