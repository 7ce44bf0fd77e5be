package ops

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-data/tributary/internal/testserver"
)

// TestSelfSignedKeptAcrossRestarts starts a server with -tls-self-signed
// on a data directory twice: both APIs serve the same certificate both
// times, it is a serverAuth leaf and not a CA, and trusting the file in
// the data directory is enough to reach the Connect API over HTTPS, from
// Go and from `tributary connect`.
func TestSelfSignedKeptAcrossRestarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	flags := []string{"-data-dir", dir, "-tls-self-signed"}

	p := testserver.Start(t, flags...)
	if !strings.HasPrefix(p.ConnectURL, "https://") {
		t.Fatalf("ConnectURL %s is not https", p.ConnectURL)
	}
	certFile := filepath.Join(dir, "tls", "cert.pem")
	kept := readCert(t, certFile)
	if kept.IsCA || kept.KeyUsage&x509.KeyUsageCertSign != 0 || kept.KeyUsage&x509.KeyUsageDigitalSignature == 0 ||
		len(kept.ExtKeyUsage) != 1 || kept.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Fatalf("kept certificate: IsCA %v, key usage %b, ext key usage %v; want a serverAuth leaf", kept.IsCA, kept.KeyUsage, kept.ExtKeyUsage)
	}
	first := fingerprints(t, p)
	if first[0] != first[1] || first[0] != sha256.Sum256(kept.Raw) {
		t.Fatal("the Kinesis and Connect ports do not both serve the kept certificate")
	}
	p.Stop()

	p = testserver.Start(t, flags...)
	if again := fingerprints(t, p); again != first {
		t.Fatal("the certificate changed across a restart")
	}

	// A client that trusts only the kept certificate reaches the Connect API.
	pool := x509.NewCertPool()
	pool.AddCert(kept)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		resp, err := hc.Get("https://" + host + ":" + portOf(strings.TrimPrefix(p.ConnectURL, "https://")) + "/")
		if err != nil {
			t.Fatalf("GET / on the Connect API as %s, trusting the kept certificate: %v", host, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET / on the Connect API: %s", resp.Status)
		}
	}

	// The AWS CLI (OpenSSL underneath) takes the kept certificate as its
	// CA bundle.
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the AWS CLI is needed (Debian package awscli; scripts/test.sh installs it)")
	}
	if res := runBinary(t, aws, "--endpoint-url", "https://localhost:"+portOf(p.Addr), "--ca-bundle", certFile,
		"kinesis", "list-streams"); res.Code != 0 || !strings.Contains(res.Stdout, "StreamNames") {
		t.Errorf("aws --ca-bundle %s kinesis list-streams: exit %d\n%s%s", certFile, res.Code, res.Stdout, res.Stderr)
	}

	// The connect CLI: verified with -cacert, refused without it, and
	// -insecure when asked.
	for _, tc := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"-cacert", certFile}, 0, "No connectors."},
		{nil, 1, "certificate"},
		{[]string{"-insecure"}, 0, "No connectors."},
	} {
		res := run(t, append([]string{"connect", "list", "-url", p.ConnectURL}, tc.args...)...)
		if res.Code != tc.wantCode || !strings.Contains(res.Stdout+res.Stderr, tc.want) {
			t.Errorf("connect list %v: exit %d, output %q %q; want exit %d and %q", tc.args, res.Code, res.Stdout, res.Stderr, tc.wantCode, tc.want)
		}
	}
}

// fingerprints returns the SHA-256 of the certificates the Kinesis and
// the Connect ports present.
func fingerprints(t *testing.T, p *testserver.Proc) [2][32]byte {
	t.Helper()
	var out [2][32]byte
	for i, u := range []string{p.Endpoint + "/health", p.ConnectURL + "/"} {
		resp, err := testserver.InsecureHTTPClient().Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		resp.Body.Close()
		if resp.TLS == nil || len(resp.TLS.PeerCertificates) != 1 {
			t.Fatalf("GET %s: not a single self-signed certificate over TLS", u)
		}
		out[i] = sha256.Sum256(resp.TLS.PeerCertificates[0].Raw)
	}
	return out
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s holds no PEM", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
