package server

import (
	"net/http"

	"github.com/tributary-data/tributary/internal/sigv4"
)

// metricsRealm is the protection space /metrics names in its challenge.
const metricsRealm = "Tributary metrics"

// requireMetricsAuth guards /metrics when -credentials is set. Prometheus
// can send HTTP Basic credentials (basic_auth in a scrape config) but not
// SigV4, so either is accepted: Basic with an access key id as user and
// its secret as password, or a request SigV4-signed by one of the keys,
// as any AWS tool can make.
func requireMetricsAuth(v *sigv4.Verifier, next http.Handler) http.Handler {
	return requireKeyAuth(v, metricsRealm, "/metrics", next)
}

// requireKeyAuth lets through requests with HTTP Basic credentials (an
// access key id and its secret) or a SigV4 signature by one of the keys;
// others get a 401 that names path and realm.
func requireKeyAuth(v *sigv4.Verifier, realm, path string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, password, ok := r.BasicAuth(); ok {
			if _, ok := v.CheckSecret(user, password); ok {
				next.ServeHTTP(w, r)
				return
			}
		} else if r.Header.Get("Authorization") != "" || r.URL.Query().Has("X-Amz-Signature") {
			if _, err := v.Verify(r, nil); err == nil {
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`", charset="UTF-8"`)
		http.Error(w, "401 Unauthorized: "+path+" needs HTTP Basic credentials (an access key id and its secret from -credentials) or a SigV4 signature", http.StatusUnauthorized)
	})
}

// connectAuthenticator lets the Connect REST API accept the -credentials
// keys as HTTP Basic credentials, as Kafka Connect's
// BasicAuthSecurityRestExtension accepts its JAAS users. Nil (an open
// API) without credentials.
func connectAuthenticator(v *sigv4.Verifier) func(user, password string) bool {
	if v == nil {
		return nil
	}
	return func(user, password string) bool {
		_, ok := v.CheckSecret(user, password)
		return ok
	}
}
