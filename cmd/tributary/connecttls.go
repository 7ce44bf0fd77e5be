package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
)

// connectTLS are the `tributary connect` options for a REST API served
// over HTTPS, as `tributary serve` does with TLS configured.
type connectTLS struct {
	// caFile is a PEM bundle of certificates to trust, added to the
	// system's; for -tls-self-signed, the server's data-dir/tls/cert.pem.
	caFile string
	// insecure skips verification of the server's certificate.
	insecure bool
}

func (o *connectTLS) register(fs *flag.FlagSet) {
	fs.StringVar(&o.caFile, "cacert", os.Getenv("TRIBUTARY_CONNECT_CACERT"), "PEM `file` of certificates to trust for an https:// -url, besides the system's (env TRIBUTARY_CONNECT_CACERT)")
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify the server's certificate for an https:// -url")
}

// transport is the HTTP transport the options ask for; nil means the
// default one.
func (o *connectTLS) transport() (http.RoundTripper, error) {
	if o.caFile == "" && !o.insecure {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.insecure {
		conf.InsecureSkipVerify = true //nolint:gosec // asked for with -insecure
	}
	if o.caFile != "" {
		pemBytes, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, fmt.Errorf("-cacert: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, errors.New("-cacert: " + o.caFile + " holds no PEM certificate")
		}
		conf.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = conf
	return tr, nil
}
