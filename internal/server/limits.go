package server

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/tributary-data/tributary/internal/connlimit"
)

// Defaults for HTTPConfig, as `tributary serve` documents them.
const (
	// DefaultIdleTimeout is longer than the idle timeouts of the AWS SDKs'
	// connection pools (90 s in Go's and Java's), so that a client, not
	// the server, is normally the one to drop a pooled connection, and a
	// request never races the server's close.
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultReadHeaderTimeout = 30 * time.Second
	// DefaultReadBodyTimeout leaves a client on a slow link a minute to
	// send the largest body either API takes (a few MiB).
	DefaultReadBodyTimeout = time.Minute
	DefaultMaxConnections  = 10000
)

// HTTPConfig bounds the connections of each API port (the Kinesis API and
// the Connect REST API count separately). There is deliberately no write
// timeout, and the read timeout covers request bodies only
// (ReadBodyTimeout): SubscribeToShard holds its response open for minutes.
type HTTPConfig struct {
	// IdleTimeout closes a keep-alive connection (HTTP/1.1, or HTTP/2
	// with no stream open) that has waited this long for a request.
	IdleTimeout time.Duration
	// ReadHeaderTimeout closes a connection whose request headers have
	// not all arrived this long after the connection opened or the
	// request began.
	ReadHeaderTimeout time.Duration
	// ReadBodyTimeout answers a request whose body has not all arrived
	// this long after its headers with the API's timeout error, and
	// closes the connection (HTTP/1.1) or the stream (HTTP/2). It covers
	// the body only, not the response (limitBodyTime).
	ReadBodyTimeout time.Duration
	// MaxConnections is how many connections a port holds at once; more
	// are closed as soon as they are accepted (connlimit.Listener).
	MaxConnections int
}

// withDefaults fills in zero fields with the defaults.
func (c HTTPConfig) withDefaults() HTTPConfig {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.ReadBodyTimeout <= 0 {
		c.ReadBodyTimeout = DefaultReadBodyTimeout
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	return c
}

// NewHTTPServer is an http.Server for one API port with c's timeouts.
func (c HTTPConfig) NewHTTPServer(h http.Handler, lg *slog.Logger) *http.Server {
	c = c.withDefaults()
	return &http.Server{
		Handler:           limitBodyTime(h, c.ReadBodyTimeout),
		IdleTimeout:       c.IdleTimeout,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(lg.Handler(), slog.LevelWarn),
	}
}

// Limit caps the connections ln holds; api names the port in the
// warning logged when connections are refused.
func (c HTTPConfig) Limit(ln net.Listener, api string, lg *slog.Logger) net.Listener {
	return connlimit.New(ln, c.withDefaults().MaxConnections, api, lg)
}

// RegisterFlags adds -idle-timeout, -read-header-timeout,
// -read-body-timeout and -max-connections to fs, filling in c with their
// defaults first. Each must be positive: a zero would otherwise read as
// "no limit".
func (c *HTTPConfig) RegisterFlags(fs *flag.FlagSet) {
	*c = c.withDefaults()
	durationFlag(fs, &c.IdleTimeout, "idle-timeout",
		"close a keep-alive connection to either API after this `duration` without a request")
	durationFlag(fs, &c.ReadHeaderTimeout, "read-header-timeout",
		"close a connection to either API whose request headers take longer than this `duration` to arrive")
	durationFlag(fs, &c.ReadBodyTimeout, "read-body-timeout",
		"answer a request to either API whose body takes longer than this `duration` after its headers to arrive with a timeout error (HTTP 408), and close its connection")
	fs.Func("max-connections", fmt.Sprintf("most connections (`n`) each API port holds at once; further connections are closed as soon as they are accepted (default %d)", c.MaxConnections),
		func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("%q is not a whole number of at least 1", v)
			}
			c.MaxConnections = n
			return nil
		})
}

func durationFlag(fs *flag.FlagSet, p *time.Duration, name, usage string) {
	fs.Func(name, fmt.Sprintf("%s (default %s)", usage, *p), func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration such as 30s or 2m", v)
		}
		*p = d
		return nil
	})
}
