package kinesis

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Error is a failure that clients see as an AWS error: its Type becomes
// the __type of the JSON body and its Status the HTTP status. Clients
// branch on both and sometimes on the message text, so they follow AWS's
// wording exactly.
type Error struct {
	Type    string
	Message string
	Status  int
	// cause is what went wrong inside, for the log; clients never see it.
	cause error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Type + ": " + e.cause.Error()
	}
	return e.Type + ": " + e.Message
}

func newError(typ string, status int, format string, args ...any) *Error {
	return &Error{Type: typ, Status: status, Message: fmt.Sprintf(format, args...)}
}

// The error types the Kinesis API returns, with AWS's HTTP statuses.
func errInvalidArgument(format string, args ...any) *Error {
	return newError("InvalidArgumentException", http.StatusBadRequest, format, args...)
}

func errResourceNotFound(format string, args ...any) *Error {
	return newError("ResourceNotFoundException", http.StatusBadRequest, format, args...)
}

func errResourceInUse(format string, args ...any) *Error {
	return newError("ResourceInUseException", http.StatusBadRequest, format, args...)
}

func errLimitExceeded(format string, args ...any) *Error {
	return newError("LimitExceededException", http.StatusBadRequest, format, args...)
}

func errExpiredIterator(format string, args ...any) *Error {
	return newError("ExpiredIteratorException", http.StatusBadRequest, format, args...)
}

func errExpiredNextToken(format string, args ...any) *Error {
	return newError("ExpiredNextTokenException", http.StatusBadRequest, format, args...)
}

func errSerialization(msg string) *Error {
	return &Error{Type: "SerializationException", Status: http.StatusBadRequest, Message: msg}
}

// errInternal is a failure of the server itself. Like AWS it tells the
// client nothing more than InternalFailure; the cause goes to the log.
func errInternal(err error) *Error {
	return &Error{Type: "InternalFailure", Status: http.StatusInternalServerError, cause: err}
}

// errUnavailable is AWS's common ServiceUnavailable (503), which the SDKs
// retry: the store cannot answer for now (a cluster electing a leader,
// or without a majority). The cause goes to the log.
func errUnavailable(err error) *Error {
	return &Error{Type: "ServiceUnavailable", Status: http.StatusServiceUnavailable,
		Message: "The request has failed due to a temporary failure of the server.", cause: err}
}

// streamNotFound is the ResourceNotFoundException every stream action
// returns for a stream that does not exist in the caller's account.
func streamNotFound(name, account string) *Error {
	return errResourceNotFound("Stream %s under account %s not found.", name, account)
}

// validation collects constraint violations the way AWS's request
// validation does, and reports them all in one ValidationException.
type validation struct{ msgs []string }

func (v *validation) add(value, field, constraint string) {
	v.msgs = append(v.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", value, field, constraint))
}

// quote renders a value the way AWS echoes it in validation messages.
func quote(s string) string { return "'" + s + "'" }

func (v *validation) notNull(field string, present bool) bool {
	if !present {
		v.add("null", field, "not be null")
	}
	return present
}

// length checks the length n of a member (a string, list or map) that
// AWS echoes as rendered.
func (v *validation) length(field, rendered string, n, min, max int) {
	if n < min {
		v.add(rendered, field, fmt.Sprintf("have length greater than or equal to %d", min))
	}
	if n > max {
		v.add(rendered, field, fmt.Sprintf("have length less than or equal to %d", max))
	}
}

func (v *validation) lenRange(field, s string, min, max int) {
	n := utf8.RuneCountInString(s)
	if n < min || n > max {
		v.length(field, quote(s), n, min, max)
	}
}

func (v *validation) pattern(field, s, pat string, ok bool) {
	if !ok {
		v.add(quote(s), field, "satisfy regular expression pattern: "+pat)
	}
}

func (v *validation) intRange(field string, n int64, min, max int64) {
	if n < min {
		v.add(quote(fmt.Sprint(n)), field, fmt.Sprintf("have value greater than or equal to %d", min))
	}
	if n > max {
		v.add(quote(fmt.Sprint(n)), field, fmt.Sprintf("have value less than or equal to %d", max))
	}
}

func (v *validation) enum(field, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.add(quote(s), field, "satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// maxValidationErrors is how many violations AWS lists in one message.
const maxValidationErrors = 10

// err returns the ValidationException, or nil when nothing failed.
func (v *validation) err() *Error {
	if len(v.msgs) == 0 {
		return nil
	}
	if len(v.msgs) > maxValidationErrors {
		v.msgs = v.msgs[:maxValidationErrors]
	}
	noun := "error"
	if len(v.msgs) > 1 {
		noun = "errors"
	}
	return newError("ValidationException", http.StatusBadRequest, "%d validation %s detected: %s",
		len(v.msgs), noun, strings.Join(v.msgs, "; "))
}

// logStoreError logs a failure at error level; failures of a store that
// refuses writes for now (a full disk) are one line per ten seconds per
// msg, with the count of those suppressed, since they come with every
// write until space is freed.
func (s *Service) logStoreError(msg string, err error, args ...any) {
	cause := err
	for ke, ok := cause.(*Error); ok && ke.cause != nil; ke, ok = cause.(*Error) {
		cause = ke.cause
	}
	s.eng.LogStoreError(msg, cause, args...)
}
