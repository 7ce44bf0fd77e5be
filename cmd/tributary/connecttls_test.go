package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConnectTLSTransport(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		opts         connectTLS
		wantDefault  bool
		wantInsecure bool
		wantErr      string
	}{
		{"plain", connectTLS{}, true, false, ""},
		{"insecure", connectTLS{insecure: true}, false, true, ""},
		{"missing bundle", connectTLS{caFile: filepath.Join(dir, "missing.pem")}, false, false, "-cacert: open"},
		{"bundle without certificates", connectTLS{caFile: notPEM}, false, false, "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := tc.opts.transport()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (rt == nil) != tc.wantDefault {
				t.Fatalf("transport = %v, want default: %v", rt, tc.wantDefault)
			}
			if rt != nil && rt.(*http.Transport).TLSClientConfig.InsecureSkipVerify != tc.wantInsecure {
				t.Fatalf("InsecureSkipVerify = %v", !tc.wantInsecure)
			}
		})
	}
}
