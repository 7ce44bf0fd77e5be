package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/sigv4"
)

// TLSConfig says whether and how the Kinesis port speaks TLS. The zero
// value is plaintext.
type TLSConfig struct {
	// CertFile and KeyFile are a PEM certificate (chain) and its key.
	CertFile, KeyFile string
	// SelfSigned generates a throwaway certificate at start-up, for local
	// use by clients that insist on HTTPS (the KPL does).
	SelfSigned bool
}

// enabled reports whether TLS was asked for at all.
func (c TLSConfig) enabled() bool { return c.CertFile != "" || c.KeyFile != "" || c.SelfSigned }

// load returns the server's tls.Config, or nil for plaintext. addr is the
// listen address, whose host a self-signed certificate also covers.
func (c TLSConfig) load(addr string, lg *slog.Logger) (*tls.Config, error) {
	if !c.enabled() {
		return nil, nil
	}
	var cert tls.Certificate
	switch {
	case c.SelfSigned && (c.CertFile != "" || c.KeyFile != ""):
		return nil, errors.New("tls: -tls-self-signed excludes -tls-cert and -tls-key")
	case c.SelfSigned:
		var err error
		if cert, err = selfSigned(addr, time.Now()); err != nil {
			return nil, fmt.Errorf("tls: generate self-signed certificate: %w", err)
		}
		sum := sha256.Sum256(cert.Certificate[0])
		lg.Info("generated self-signed TLS certificate", "hosts", strings.Join(cert.Leaf.DNSNames, ",")+","+ipList(cert.Leaf.IPAddresses),
			"sha256", fingerprint(sum[:]), "not_after", cert.Leaf.NotAfter.Format(time.RFC3339))
	case c.CertFile == "" || c.KeyFile == "":
		return nil, errors.New("tls: -tls-cert and -tls-key must be given together")
	default:
		var err error
		if cert, err = tls.LoadX509KeyPair(c.CertFile, c.KeyFile); err != nil {
			return nil, fmt.Errorf("tls: load %s and %s: %w", c.CertFile, c.KeyFile, err)
		}
	}
	// NextProtos is filled in by http.Server.ServeTLS from its Protocols,
	// which offer h2 and http/1.1.
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// selfSigned makes an ECDSA P-256 certificate for localhost, 127.0.0.1,
// ::1 and the listen host. It lives only in memory: clients have to skip
// verification or pin the fingerprint that start-up logs.
func selfSigned(addr string, now time.Time) (tls.Certificate, error) {
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
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // so it can be added to a trust store as its own root
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if host, _, err := net.SplitHostPort(addr); err == nil && host != "" {
		if ip := net.ParseIP(host); ip != nil {
			if !ip.IsUnspecified() && !ip.IsLoopback() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if host != "localhost" {
			tmpl.DNSNames = append(tmpl.DNSNames, host)
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

func ipList(ips []net.IP) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ",")
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
