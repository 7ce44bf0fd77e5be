// Package server assembles a running Tributary: the embedded store, the
// services over it and the HTTP listener that serves them. The CLI, the
// benchmark and tests all start servers through it, so there is one way to
// wire the pieces together.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tributary-data/tributary/internal/kinesis"
	"github.com/tributary-data/tributary/internal/store"
)

// Config is everything `tributary serve` can be told.
type Config struct {
	// Addr is the Kinesis API's listen address, host:port.
	Addr    string
	Store   store.Config
	Kinesis kinesis.Config
	Logger  *slog.Logger
	// CredentialsFile, when set, lists the access keys that may sign
	// requests (format: sigv4.ParseCredentials), and every request must
	// then be signed by one. Empty means open mode.
	CredentialsFile string
	// TLS makes the port serve HTTPS (HTTP/1.1 and HTTP/2 by ALPN).
	TLS TLSConfig
}

// Server is a started Tributary.
type Server struct {
	cfg     Config
	store   *store.Store
	kinesis *kinesis.Service
	http    *http.Server
	ln      net.Listener
	log     *slog.Logger
}

// Start opens the store, starts the services and begins listening.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	cfg.Store.Logger = lg.With("component", "store")
	cfg.Kinesis.Logger = lg.With("component", "kinesis")
	// Configuration mistakes in TLS or credentials fail before the store
	// is opened, so a typo costs no start-up time.
	tlsConf, err := cfg.TLS.load(cfg.Addr, lg)
	if err != nil {
		return nil, err
	}
	if cfg.CredentialsFile != "" {
		v, err := loadVerifier(cfg.CredentialsFile)
		if err != nil {
			return nil, err
		}
		cfg.Kinesis.Verifier = v
	}
	st, err := store.Open(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg.Kinesis.Registerer = reg
	ks, err := kinesis.New(ctx, st, cfg.Kinesis)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("kinesis service: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		ks.Close()
		st.Close()
		return nil, fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}

	requests := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tributary_http_request_duration_seconds",
		Help:    "Latency of Kinesis API requests by action and status.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
	}, []string{"action", "code"})
	reg.MustRegister(requests)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", instrument(ks, requests))

	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	hs := &http.Server{
		Handler:           mux,
		Protocols:         protocols,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(lg.Handler(), slog.LevelWarn),
	}
	if tlsConf != nil {
		// Over TLS, HTTP/2 is negotiated by ALPN instead of prior knowledge.
		protocols.SetUnencryptedHTTP2(false)
		protocols.SetHTTP2(true)
		hs.TLSConfig = tlsConf
	}
	s := &Server{cfg: cfg, store: st, kinesis: ks, http: hs, ln: ln, log: lg}
	go func() {
		if err := serveHTTP(hs, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			lg.Error("http server stopped", "err", err)
		}
	}()
	lg.Info("tributary serving", "addr", ln.Addr().String(), "durability", cfg.Store.Durability,
		"in_memory", cfg.Store.InMemory, "data_dir", cfg.Store.Dir,
		"tls", tlsConf != nil, "sigv4", cfg.Kinesis.Verifier != nil)
	return s, nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops accepting requests, lets those in flight finish, and
// closes the store so everything acknowledged is on disk.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.kinesis.Close()
	if cerr := s.store.Close(); err == nil {
		err = cerr
	}
	return err
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func instrument(h http.Handler, hist *prometheus.HistogramVec) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		hist.WithLabelValues(kinesis.ActionName(r.Header.Get("X-Amz-Target")), strconv.Itoa(rec.code)).Observe(time.Since(start).Seconds())
	})
}
