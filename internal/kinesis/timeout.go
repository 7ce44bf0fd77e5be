package kinesis

import (
	"errors"
	"net/http"
	"os"
)

// bodyReadError is the answer to a request whose body could not be read.
// A body that did not arrive within the server's read body timeout (the
// read fails with os.ErrDeadlineExceeded) gets the 408
// RequestTimeoutException AWS's JSON services send for a request that
// took too long to arrive; every AWS SDK retries that code
// (aws-sdk-go-v2's retry.Standard, botocore, smithy's transient errors).
// Any other failure is a body that cannot be deserialized.
func bodyReadError(err error) *Error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return newError("RequestTimeoutException", http.StatusRequestTimeout,
			"The request body was not received within the timeout period.")
	}
	return &Error{Type: "SerializationException", Status: http.StatusBadRequest}
}
