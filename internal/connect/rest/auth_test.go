package rest

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestRESTBasicAuth(t *testing.T) {
	accept := func(user, password string) bool { return user == "AKID" && password == "s3cret:with:colons" }
	srv := newServer(t, Config{Herder: newFake(), Authenticate: accept})
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	const denied = `{"error_code":401,"message":"User cannot access the resource."}`
	for _, tc := range []struct {
		name, method, path, auth, body string
		status                         int
	}{
		{"root without credentials", "GET", "/", "", "", 401},
		{"health without credentials", "GET", "/health", "", "", 401},
		{"list without credentials", "GET", "/connectors", "", "", 401},
		{"create without credentials", "POST", "/connectors", "", `{"name":"x","config":{}}`, 401},
		{"loggers read without credentials", "GET", "/admin/loggers", "", "", 401},
		{"loggers change without credentials", "PUT", "/admin/loggers/root", "", `{"level":"DEBUG"}`, 401},
		{"unknown path without credentials", "GET", "/nope", "", "", 401},
		{"wrong password", "GET", "/connectors", basic("AKID:wrong"), "", 401},
		{"unknown user", "GET", "/connectors", basic("OTHER:s3cret:with:colons"), "", 401},
		{"no colon", "GET", "/connectors", basic("AKID"), "", 401},
		{"not base64", "GET", "/connectors", "Basic !!!", "", 401},
		{"bearer scheme", "GET", "/connectors", "Bearer AKID:s3cret", "", 401},
		{"right credentials", "GET", "/connectors", basic("AKID:s3cret:with:colons"), "", 200},
		{"scheme is case-insensitive", "GET", "/connectors", "basic " + base64.StdEncoding.EncodeToString([]byte("AKID:s3cret:with:colons")), "", 200},
		{"loggers change with credentials", "PUT", "/admin/loggers/root", basic("AKID:s3cret:with:colons"), `{"level":"DEBUG"}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.status, b)
			}
			if tc.status != 401 {
				return
			}
			if string(b) != denied {
				t.Errorf("body = %s, want %s", b, denied)
			}
			if got, want := resp.Header.Get("WWW-Authenticate"), `Basic realm="Tributary Connect", charset="UTF-8"`; got != want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}
