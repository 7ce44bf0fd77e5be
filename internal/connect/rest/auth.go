package rest

import (
	"net/http"
)

// Realm is the protection space the Connect REST API names in its
// WWW-Authenticate challenge.
const Realm = "Tributary Connect"

// unauthorizedMessage is the text Kafka's JaasBasicAuthFilter answers
// every failed authentication with, whatever went wrong, so that a caller
// cannot tell an unknown user from a wrong password.
const unauthorizedMessage = "User cannot access the resource."

// Authenticator checks HTTP Basic credentials. It must compare secrets in
// constant time.
type Authenticator func(user, password string) bool

// authenticate is what Kafka's BasicAuthSecurityRestExtension does for
// every request: without valid Basic credentials the request is refused
// with 401 before it is routed. Kafka answers with a bare text entity;
// here the body is Kafka's error JSON with the same message, so that
// clients parse every failure alike, and the challenge header tells
// browsers and curl --anyauth which scheme to use.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) bool {
	if h.cfg.Authenticate == nil {
		return true
	}
	user, password, ok := r.BasicAuth()
	if ok && h.cfg.Authenticate(user, password) {
		return true
	}
	// Debug, as Kafka logs it, so that mistyped credentials do not fill
	// the log; never the password.
	h.log.Debug("request failed authentication", "method", r.Method, "path", r.URL.Path, "user", user, "basic", ok)
	w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`", charset="UTF-8"`)
	writeError(w, http.StatusUnauthorized, unauthorizedMessage)
	return false
}
