// Package server assembles a running Tributary: the embedded store, the
// services over it and the HTTP listener that serves them. The CLI, the
// benchmark and tests all start servers through it, so there is one way to
// wire the pieces together.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/plugins"
	"github.com/tributary-data/tributary/internal/connect/rest"
	"github.com/tributary-data/tributary/internal/kinesis"
	"github.com/tributary-data/tributary/internal/seal"
	"github.com/tributary-data/tributary/internal/sigv4"
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
	// Connect configures the connector runtime.
	Connect ConnectConfig
	// HTTP bounds the connections each API port holds.
	HTTP HTTPConfig
}

// ConnectConfig configures the Kafka Connect–compatible runtime that
// `tributary serve` runs beside the Kinesis API.
type ConnectConfig struct {
	// Addr is the Connect REST API's listen address (Kafka's default
	// port is 8083). Empty disables the runtime.
	Addr string
	// WorkerProps are connect-distributed worker properties: default
	// converters, offset.flush.interval.ms, topic.creation.default.partitions.
	WorkerProps map[string]string
	// Version and Commit are reported by GET / and the plugin list.
	Version, Commit string
	// LogLevel, when set, is the server's root log level, which PUT
	// /admin/loggers/root changes.
	LogLevel *slog.LevelVar
	// AllowedPaths are the directories file connectors may read and
	// write under. Nil means <data-dir>/files, or none in memory; an
	// empty list allows none.
	AllowedPaths []string
}

// Server is a started Tributary.
type Server struct {
	cfg     Config
	store   *store.Store
	kinesis *kinesis.Service
	http    *http.Server
	ln      net.Listener
	log     *slog.Logger

	registry *prometheus.Registry
	// verifier holds the -credentials keys; nil in open mode.
	verifier *sigv4.Verifier
	// tls is the certificate both APIs serve, nil for plaintext.
	tls *tls.Config

	herder      *connect.Herder
	connectHTTP *http.Server
	connectLn   net.Listener
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
	verifier, tlsConf, err := loadSecurity(cfg, lg)
	if err != nil {
		return nil, err
	}
	if verifier != nil {
		cfg.Kinesis.Verifier = verifier
	}
	warnClusterExposed(lg, cfg.Store.Cluster)
	// A node of a cluster answers on its port while it waits (forming.go).
	early, err := serveWhileForming(cfg, tlsConf, lg)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg.Store, early)
	if err != nil {
		early.stop(ctx)
		return nil, err
	}
	// A self-signed certificate is kept in the data directory, so it is
	// read (or made) only once the store holds the directory's lock.
	if cfg.TLS.SelfSigned {
		if tlsConf, err = cfg.TLS.load(st.Dir(), []string{cfg.Addr, cfg.Connect.Addr}, lg); err != nil {
			st.Close()
			return nil, err
		}
	}
	s, err := startKinesis(ctx, cfg, st, verifier, tlsConf, lg, early)
	if err != nil {
		st.Close()
		return nil, err
	}
	if cfg.Connect.Addr != "" {
		if err := s.startConnect(ctx); err != nil {
			_ = s.ln.Close()
			s.kinesis.Close()
			st.Close()
			return nil, err
		}
	}
	go func() {
		if err := serveHTTP(s.http, s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			lg.Error("http server stopped", "err", err)
		}
	}()
	lg.Info("tributary serving", "addr", s.ln.Addr().String(), "durability", cfg.Store.Durability,
		"in_memory", cfg.Store.InMemory, "data_dir", cfg.Store.Dir,
		"tls", tlsConf != nil, "sigv4", cfg.Kinesis.Verifier != nil, "version", cfg.Connect.Version)
	warnExposed(lg, "Kinesis API", s.ln.Addr(), cfg.CredentialsFile != "")
	return s, nil
}

// loadSecurity checks the TLS settings and loads the credentials and,
// unless it is self-signed (made later, in the data directory), the
// certificate.
func loadSecurity(cfg Config, lg *slog.Logger) (*sigv4.Verifier, *tls.Config, error) {
	if err := cfg.TLS.check(); err != nil {
		return nil, nil, err
	}
	var (
		verifier *sigv4.Verifier
		tlsConf  *tls.Config
		err      error
	)
	if !cfg.TLS.SelfSigned {
		if tlsConf, err = cfg.TLS.load("", nil, lg); err != nil {
			return nil, nil, err
		}
	}
	if cfg.CredentialsFile != "" {
		if verifier, err = loadVerifier(cfg.CredentialsFile); err != nil {
			return nil, nil, err
		}
	}
	return verifier, tlsConf, nil
}

// startKinesis loads the streams and binds the Kinesis API's listener,
// returning the server around them, not yet serving. On an error it
// closes what it opened, but not the store.
func startKinesis(ctx context.Context, cfg Config, st *store.Store, verifier *sigv4.Verifier, tlsConf *tls.Config, lg *slog.Logger,
	early *forming) (*Server, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerStoreFull(reg, st)
	registerCluster(reg, st)
	cfg.Kinesis.Registerer = reg
	newCtx, cancel := context.WithTimeout(ctx, startupStepTimeout)
	ks, err := kinesis.New(newCtx, st, cfg.Kinesis)
	cancel()
	if err != nil {
		early.stop(ctx)
		return nil, startupErr("loading the streams", fmt.Errorf("kinesis service: %w", err))
	}
	var ln net.Listener
	if early != nil {
		ln = early.handOver(ctx)
	} else if ln, err = listen("Kinesis API", cfg.Addr, "-listen", ""); err != nil {
		ks.Close()
		return nil, err
	}
	ln = cfg.HTTP.Limit(ln, "Kinesis API", lg)
	s := &Server{cfg: cfg, store: st, kinesis: ks, ln: ln, log: lg, registry: reg, tls: tlsConf, verifier: verifier}
	s.http = kinesisHTTP(cfg, s.kinesisMux(), tlsConf, lg)
	return s, nil
}

// kinesisMux routes the Kinesis port: the API, /metrics and /health.
func (s *Server) kinesisMux() *http.ServeMux {
	requests := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tributary_http_request_duration_seconds",
		Help:    "Latency of Kinesis API requests by action and status.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
	}, []string{"action", "code"})
	s.registry.MustRegister(requests)
	mux := http.NewServeMux()
	var metrics http.Handler = promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
	if s.verifier != nil {
		metrics = requireMetricsAuth(s.verifier, metrics)
	}
	mux.Handle("GET /metrics", metrics)
	mux.Handle("GET /health", http.HandlerFunc(s.serveHealth))
	mux.Handle("/", instrument(s.kinesis, requests))
	return mux
}

// kinesisHTTP is the Kinesis port's HTTP server: HTTP/1.1 and h2c, or
// over TLS HTTP/2 negotiated by ALPN instead of prior knowledge.
func kinesisHTTP(cfg Config, mux http.Handler, tlsConf *tls.Config, lg *slog.Logger) *http.Server {
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	hs := cfg.HTTP.NewHTTPServer(mux, lg)
	hs.Protocols = protocols
	if tlsConf != nil {
		protocols.SetUnencryptedHTTP2(false)
		protocols.SetHTTP2(true)
		hs.TLSConfig = tlsConf
	}
	return hs
}

// startupStepTimeout bounds each blocking step of start-up, so that a
// store that cannot answer (damaged files) fails start-up with a message
// instead of hanging it.
const startupStepTimeout = 2 * time.Minute

// startupErr names the start-up step a timeout stopped.
func startupErr(step string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("start-up: %s did not finish within %s (is the data directory damaged? see docs/reliability.md): %w",
			step, startupStepTimeout, err)
	}
	return err
}

// startConnect starts the connector runtime over the in-process engine,
// with its state in the metadata bucket, and its REST API.
func (s *Server) startConnect(ctx context.Context) error {
	cc := s.cfg.Connect
	ln, err := listen("Connect REST API", cc.Addr, "-connect-listen", `, or turn the Connect API off with -connect-listen ""`)
	if err != nil {
		return err
	}
	lg := s.log.With("component", "connect")
	allowed, err := connectAllowedPaths(s.cfg)
	if err != nil {
		_ = ln.Close()
		return err
	}
	// Connector configurations are sealed with the master key that
	// stream encryption uses.
	master, err := seal.MasterKey(ctx, s.store, s.cfg.Kinesis.MasterKey)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("connect: %w", err)
	}
	wc := connect.WorkerConfig{
		WorkerID:   workerID(ln.Addr()),
		Props:      cc.WorkerProps,
		Registry:   plugins.Registry(cc.Version),
		Streams:    s.kinesis.Local("", ""),
		KV:         connect.NewMetaKV(s.store),
		Logger:     lg,
		Registerer: s.registry,
		MasterKey:  master,
	}
	wc.AllowedPaths = allowed
	h := connect.NewHerder(wc)
	if err := h.Start(ctx); err != nil {
		_ = ln.Close()
		return fmt.Errorf("connect: %w", err)
	}
	var levels *rest.Loggers
	if cc.LogLevel != nil {
		levels = rest.NewLoggers(cc.LogLevel)
	}
	cluster, err := clusterID(ctx, s.store)
	if err != nil {
		h.Stop(ctx)
		_ = ln.Close()
		return fmt.Errorf("connect: %w", err)
	}
	api, err := rest.New(rest.Config{Version: cc.Version, Commit: cc.Commit, ClusterID: cluster,
		Herder: fullAwareHerder{h, s.store}, Logger: lg, Loggers: levels, Authenticate: connectAuthenticator(s.verifier)})
	if err != nil {
		h.Stop(ctx)
		_ = ln.Close()
		return fmt.Errorf("connect: %w", err)
	}
	s.herder, s.connectLn = h, s.cfg.HTTP.Limit(ln, "Connect REST API", lg)
	s.connectHTTP = s.cfg.HTTP.NewHTTPServer(api, lg)
	if s.tls != nil {
		s.connectHTTP.TLSConfig = s.tls.Clone()
	}
	go func() {
		if err := serveHTTP(s.connectHTTP, s.connectLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			lg.Error("connect REST server stopped", "err", err)
		}
	}()
	lg.Info("connect REST API serving", "addr", ln.Addr().String(), "tls", s.tls != nil,
		"allowed_paths", strings.Join(allowed.Dirs(), ","), "basic_auth", s.verifier != nil)
	warnExposed(lg, "Connect REST API", ln.Addr(), s.cfg.CredentialsFile != "")
	return nil
}

// clusterID is the identity of this server's data, created with it: GET
// / on the Connect API reports it as kafka_cluster_id.
func clusterID(ctx context.Context, st *store.Store) (string, error) {
	const key = "cluster.id"
	if e, err := st.Get(ctx, key); err == nil {
		return string(e.Value), nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	id := uuid.NewString()
	if _, err := st.Create(ctx, key, []byte(id)); errors.Is(err, store.ErrExists) {
		e, err := st.Get(ctx, key)
		return string(e.Value), err
	} else if err != nil {
		return "", err
	}
	return id, nil
}

// workerID is the worker's id in statuses: host:port of the REST
// listener, as Kafka reports it.
func workerID(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// ConnectAddr is the Connect REST API's address, "" when disabled.
func (s *Server) ConnectAddr() string {
	if s.connectLn == nil {
		return ""
	}
	return s.connectLn.Addr().String()
}

// Shutdown stops accepting requests, lets those in flight finish, stops
// the connectors cleanly (committing their offsets), and closes the store
// so everything acknowledged is on disk. Live SubscribeToShard calls are
// ended first (their event streams end cleanly), or the wait for the
// requests in flight would last until their five minutes are up.
func (s *Server) Shutdown(ctx context.Context) error {
	s.kinesis.EndSubscriptions()
	err := s.http.Shutdown(ctx)
	if s.connectHTTP != nil {
		_ = s.connectHTTP.Shutdown(ctx)
		s.herder.Stop(ctx)
	}
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

// listen opens an API's port. A busy port names the flag that moves it,
// since "bind: address already in use" alone does not say what to change.
func listen(api, addr, flagName, more string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s: %s is already in use by another program (perhaps another tributary); choose another address with %s%s",
			api, addr, flagName, more)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: listen %s (%s): %w", api, addr, flagName, err)
	}
	return ln, nil
}

// warnExposed warns when an API listens beyond this machine with nothing
// checking who calls it. Binding to loopback is the default; serving the
// network is the operator's explicit choice, and should come with
// -credentials.
func warnExposed(lg *slog.Logger, api string, a net.Addr, authenticated bool) {
	if authenticated {
		return
	}
	if ta, ok := a.(*net.TCPAddr); ok && ta.IP.IsLoopback() {
		return
	}
	lg.Warn(api+" listens on a non-loopback address without -credentials: anyone who can reach it can use it",
		"addr", a.String())
}
