package server

import (
	"bytes"
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
	if c, err := (TLSConfig{}).load("", nil, lg); c != nil || err != nil {
		t.Fatalf("zero TLSConfig = %v, %v; want plaintext", c, err)
	}

	// Write a generated certificate and key as PEM files and load them.
	cert, err := selfSigned([]string{"127.0.0.1"}, time.Now())
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
	c, err := (TLSConfig{CertFile: certFile, KeyFile: keyFile}).load("", nil, lg)
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
		if _, err := bad.cfg.load("", nil, lg); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: err = %v, want %q", bad.cfg, err, bad.want)
		}
	}
}

func TestSelfSignedHosts(t *testing.T) {
	for addr, extra := range map[string]string{":4567": "", "0.0.0.0:1": "", "10.1.2.3:1": "10.1.2.3", "kinesis.local:1": "kinesis.local"} {
		cert, err := selfSigned(certHosts([]string{addr, "127.0.0.1:8083"}), time.Now())
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
		if host, err := os.Hostname(); err == nil {
			if err := cert.Leaf.VerifyHostname(host); err != nil {
				t.Errorf("%s: this host's name: %v", addr, err)
			}
		}
		if _, ok := cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
			t.Errorf("key is %T, want ECDSA", cert.PrivateKey)
		}
		// A leaf for serving TLS, not a CA that could sign others.
		l := cert.Leaf
		if l.IsCA || !l.BasicConstraintsValid || l.KeyUsage != x509.KeyUsageDigitalSignature ||
			len(l.ExtKeyUsage) != 1 || l.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
			t.Errorf("%s: IsCA %v, key usage %v, ext key usage %v; want a serverAuth leaf", addr, l.IsCA, l.KeyUsage, l.ExtKeyUsage)
		}
	}
	if got := fingerprint([]byte{0x0a, 0xff, 0x10}); got != "0A:FF:10" {
		t.Errorf("fingerprint = %s", got)
	}
}

// TestSelfSignedKept checks when the certificate kept in the data
// directory is reused and when it is replaced.
func TestSelfSignedKept(t *testing.T) {
	lg := slog.New(slog.DiscardHandler)
	now := time.Now()
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	for _, tc := range []struct {
		name string
		// prepare changes the kept files after the first start.
		prepare   func(t *testing.T, dir string)
		at        time.Time
		hosts     []string
		wantReuse bool
	}{
		{"restart", nil, now, hosts, true},
		{"restart a month later", nil, now.AddDate(0, 1, 0), hosts, true},
		{"near expiry", nil, now.AddDate(1, 0, -10), hosts, false},
		{"expired", nil, now.AddDate(2, 0, 0), hosts, false},
		{"new listen host", nil, now, append(hosts, "kinesis.internal"), false},
		{"key missing", func(t *testing.T, dir string) { rm(t, filepath.Join(dir, "tls", "key.pem")) }, now, hosts, false},
		{"certificate corrupt", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "tls", "cert.pem"), []byte("junk"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, now, hosts, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			first, err := selfSignedCert(dir, hosts, now, lg)
			if err != nil {
				t.Fatal(err)
			}
			if st, err := os.Stat(filepath.Join(dir, "tls", "key.pem")); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("kept key: %v, %v; want mode 0600", st, err)
			}
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			second, err := selfSignedCert(dir, tc.hosts, tc.at, lg)
			if err != nil {
				t.Fatal(err)
			}
			if reused := bytes.Equal(first.Certificate[0], second.Certificate[0]); reused != tc.wantReuse {
				t.Fatalf("reused = %v, want %v", reused, tc.wantReuse)
			}
			// Whatever was served is what is kept now.
			third, err := selfSignedCert(dir, tc.hosts, tc.at, lg)
			if err != nil || !bytes.Equal(second.Certificate[0], third.Certificate[0]) {
				t.Fatalf("the certificate served was not kept (%v)", err)
			}
		})
	}
	// In memory nothing is kept: every start has a new certificate.
	a, _ := selfSignedCert("", hosts, now, lg)
	b, _ := selfSignedCert("", hosts, now, lg)
	if bytes.Equal(a.Certificate[0], b.Certificate[0]) {
		t.Fatal("in-memory certificates repeat")
	}
}

func rm(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
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

// TestCertHostsUnique checks that a listen host already among the
// defaults is named once.
func TestCertHostsUnique(t *testing.T) {
	hosts := certHosts([]string{"127.0.0.1:4567", "localhost:8083", "[::1]:1", ":2"})
	seen := map[string]bool{}
	for _, h := range hosts {
		if seen[h] {
			t.Errorf("%q named twice in %v", h, hosts)
		}
		seen[h] = true
	}
	for _, want := range []string{"localhost", "127.0.0.1", "::1"} {
		if !seen[want] {
			t.Errorf("%v lacks %q", hosts, want)
		}
	}
}
