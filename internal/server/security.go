package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/atomicfile"
	"github.com/tributary-data/tributary/internal/sigv4"
)

// TLSConfig says whether and how the Kinesis and Connect ports speak
// TLS. The zero value is plaintext.
type TLSConfig struct {
	// CertFile and KeyFile are a PEM certificate (chain) and its key.
	CertFile, KeyFile string
	// SelfSigned serves a self-signed certificate, for local use by
	// clients that insist on HTTPS (the KPL does). It is kept in the data
	// directory (see selfSignedDir) and reused, so a client that trusts or
	// pins it keeps working across restarts.
	SelfSigned bool
}

// enabled reports whether TLS was asked for at all.
func (c TLSConfig) enabled() bool { return c.CertFile != "" || c.KeyFile != "" || c.SelfSigned }

// check rejects contradictory flags before anything is opened.
func (c TLSConfig) check() error {
	switch {
	case c.SelfSigned && (c.CertFile != "" || c.KeyFile != ""):
		return errors.New("tls: -tls-self-signed excludes -tls-cert and -tls-key")
	case !c.SelfSigned && (c.CertFile != "") != (c.KeyFile != ""):
		return errors.New("tls: -tls-cert and -tls-key must be given together")
	}
	return nil
}

// load returns the servers' tls.Config, or nil for plaintext. dir is the
// data directory, where a self-signed certificate is kept ("" in memory:
// a new one every start); addrs are the listen addresses, whose hosts a
// self-signed certificate also covers.
func (c TLSConfig) load(dir string, addrs []string, lg *slog.Logger) (*tls.Config, error) {
	if !c.enabled() {
		return nil, nil
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	var cert tls.Certificate
	if c.SelfSigned {
		var err error
		if cert, err = selfSignedCert(dir, certHosts(addrs), time.Now(), lg); err != nil {
			return nil, fmt.Errorf("tls: self-signed certificate: %w", err)
		}
	} else {
		var err error
		if cert, err = tls.LoadX509KeyPair(c.CertFile, c.KeyFile); err != nil {
			return nil, fmt.Errorf("tls: load %s and %s: %w", c.CertFile, c.KeyFile, err)
		}
	}
	// NextProtos is filled in by http.Server.ServeTLS from its Protocols,
	// which offer h2 and http/1.1.
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// selfSignedDir is where, under the data directory, the self-signed
// certificate and its key are kept.
const selfSignedDir = "tls"

// renewBefore is how long before expiry a kept certificate is replaced.
const renewBefore = 30 * 24 * time.Hour

// selfSignedCert returns the certificate kept in dir/tls if it is still
// good for hosts, or else a new one, which it keeps there. With dir ""
// the certificate lives only in memory.
func selfSignedCert(dir string, hosts []string, now time.Time, lg *slog.Logger) (tls.Certificate, error) {
	if dir == "" {
		cert, err := selfSigned(hosts, now)
		if err == nil {
			logCert(lg, "generated self-signed TLS certificate (in memory)", cert, "")
		}
		return cert, err
	}
	certPath := filepath.Join(dir, selfSignedDir, "cert.pem")
	keyPath := filepath.Join(dir, selfSignedDir, "key.pem")
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	why := "none kept yet"
	if err == nil {
		if why = unusable(cert.Leaf, hosts, now); why == "" {
			logCert(lg, "using the kept self-signed TLS certificate", cert, certPath)
			return cert, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		why = err.Error()
	}
	if cert, err = selfSigned(hosts, now); err != nil {
		return tls.Certificate{}, err
	}
	if err := keep(cert, certPath, keyPath); err != nil {
		return tls.Certificate{}, err
	}
	logCert(lg, "generated self-signed TLS certificate", cert, certPath, "reason", why)
	return cert, nil
}

// unusable says why a kept certificate must be replaced, or "" if it
// may be served.
func unusable(leaf *x509.Certificate, hosts []string, now time.Time) string {
	switch {
	case leaf == nil:
		return "no certificate"
	case now.Before(leaf.NotBefore):
		return "not valid yet"
	case now.Add(renewBefore).After(leaf.NotAfter):
		return "expires " + leaf.NotAfter.Format(time.RFC3339)
	case leaf.IsCA:
		return "a CA certificate"
	}
	for _, h := range hosts {
		if err := leaf.VerifyHostname(h); err != nil {
			return "does not cover " + h
		}
	}
	return ""
}

// keep writes the certificate and key as PEM, each atomically by rename,
// the key readable only by its owner.
func keep(cert tls.Certificate, certPath, keyPath string) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(certPath), 0o700); err != nil {
		return err
	}
	if err := atomicfile.Write(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return atomicfile.Write(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644)
}

func logCert(lg *slog.Logger, msg string, cert tls.Certificate, path string, args ...any) {
	sum := sha256.Sum256(cert.Certificate[0])
	args = append(args, "hosts", strings.Join(append(append([]string{}, cert.Leaf.DNSNames...), ipStrings(cert.Leaf.IPAddresses)...), ","),
		"sha256", fingerprint(sum[:]), "not_after", cert.Leaf.NotAfter.Format(time.RFC3339))
	if path != "" {
		args = append(args, "file", path)
	}
	lg.Info(msg, args...)
}

// certHosts are the names a self-signed certificate covers: localhost,
// the loopback addresses, this host's name, and the listen hosts.
func certHosts(addrs []string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	for _, a := range addrs {
		if host, _, err := net.SplitHostPort(a); err == nil && host != "" {
			if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
				hosts = append(hosts, host)
			}
		}
	}
	// Compact drops only adjacent repeats ("127.0.0.1:4567" repeats
	// 127.0.0.1 far from the first): sort first.
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

// selfSigned makes an ECDSA P-256 leaf certificate for hosts: not a CA,
// good only for serving TLS, valid for a year. Clients trust it by adding
// it as a root (Go, curl --cacert), pinning the fingerprint start-up logs,
// or skipping verification.
func selfSigned(hosts []string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "tributary self-signed", Organization: []string{"Tributary"}},
		NotBefore:             now.Add(-time.Hour), // tolerate clients with a slow clock
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// fingerprint formats a digest as openssl does: upper-case hex pairs
// joined by colons, so it can be compared with `openssl x509 -fingerprint`.
func fingerprint(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func ipStrings(ips []net.IP) []string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return s
}

// loadVerifier reads the credentials file; the Verifier it returns makes
// the Kinesis service require signed requests.
func loadVerifier(path string) (*sigv4.Verifier, error) {
	creds, err := sigv4.LoadCredentials(path)
	if err != nil {
		return nil, err
	}
	v, err := sigv4.New(creds, sigv4.Options{})
	if err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	return v, nil
}

// serveHTTP runs hs on ln, over TLS when hs has a TLS config.
func serveHTTP(hs *http.Server, ln net.Listener) error {
	if hs.TLSConfig != nil {
		return hs.ServeTLS(ln, "", "")
	}
	return hs.Serve(ln)
}
