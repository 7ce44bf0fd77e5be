package kinesis

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/tributary-data/tributary/internal/sigv4"
)

// Verifier authenticates a request from its headers and already-read
// body. *sigv4.Verifier implements it; an interface keeps the service
// testable without real signatures.
type Verifier interface {
	Verify(r *http.Request, body []byte) (sigv4.Identity, error)
}

// verifiedCaller is callerOf when credentials are configured: the signer's
// key decides the account and its credential scope the region. Failures
// become AWS's authentication errors, which are all 400s.
func (s *Service) verifiedCaller(r *http.Request, body []byte) (caller, *Error) {
	id, err := s.cfg.Verifier.Verify(r, body)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return caller{}, newError(se.Code, http.StatusBadRequest, "%s", se.Message)
		}
		return caller{}, errInternal(fmt.Errorf("verify signature: %w", err))
	}
	return caller{account: id.Account, region: id.Region}, nil
}
