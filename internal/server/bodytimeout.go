package server

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// A client that sends a request's headers and then trickles its body, or
// never sends it, would hold a goroutine and a connection for good:
// ReadHeaderTimeout ends with the headers, and http.Server.ReadTimeout is
// not used, because it covers the whole request from its first byte and
// is documented as no more than a connection deadline, and a response
// may stream for minutes (SubscribeToShard). So each request gets a read
// deadline for its body only: set once the headers are in, through
// http.ResponseController, which sets it on the connection for HTTP/1.1
// (plain or TLS) and on the stream for HTTP/2, and lifted here once the
// body has been read to its end, rather than relying on net/http to drop
// it when its background read starts, which it does today but does not
// promise. A body that misses it makes the handler's read fail with an
// error wrapping os.ErrDeadlineExceeded, which the APIs answer with their
// protocol's timeout error (Kinesis: 408 RequestTimeoutException;
// Connect: 408 in Kafka's error JSON) before the connection (HTTP/1.1)
// or the stream (HTTP/2) is closed.

// limitBodyTime bounds the time h's requests take to deliver their bodies
// to d.
func limitBodyTime(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			// A ResponseWriter without deadlines (none of net/http's);
			// the connection's own timeouts still apply.
			h.ServeHTTP(w, r)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, length: r.ContentLength}
		h.ServeHTTP(w, r)
	})
}

// deadlineBody clears the read deadline once the body has been read to
// its end, so that what follows (a long response, HTTP/1.1's background
// read that notices a client going away) runs without one.
type deadlineBody struct {
	io.ReadCloser
	rc *http.ResponseController
	// length is the declared Content-Length, -1 when unknown: a reader
	// that stops after exactly that many bytes never sees io.EOF.
	length int64
	read   int64
	clear  sync.Once
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if err == io.EOF || (b.length >= 0 && b.read >= b.length) {
		b.clear.Do(func() { _ = b.rc.SetReadDeadline(time.Time{}) })
	}
	return n, err
}
