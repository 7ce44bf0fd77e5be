// Package rest serves Kafka Connect's REST API over a Herder, so that the
// tools written for Kafka Connect (curl scripts, UIs, kcctl-style CLIs)
// manage Tributary's connectors unchanged.
//
// The package owns the HTTP side only: routing, request bodies, status
// codes and the shape of every reply. What a request does is the Herder's
// business; the runtime implements Herder, in standalone or distributed
// mode. Status codes, error texts and query parameters follow Apache
// Kafka's ConnectorsResource, ConnectorPluginsResource, LoggingResource,
// RootResource and ConnectExceptionMapper.
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
)

// Herder is what the REST API drives: the runtime's view of the
// connectors it manages. It is defined here, beside its only caller, so
// that the runtime implements it without the HTTP layer leaking into it.
//
// Errors that are, or wrap, a *connect.Error are reported with their Code
// as the HTTP status; any other error is a 500. The herder supplies
// Kafka's texts for its own failures (404 "Connector x not found", 409 for
// an existing connector or a rebalance, 400 for an invalid configuration,
// ...). Numbers inside offsets handed to AlterOffsets are int64 when they
// are integers and float64 otherwise.
type Herder interface {
	WorkerID() string
	// Health reports "healthy", "starting" or "unhealthy" and a message.
	Health(ctx context.Context) (status, message string)
	Connectors(ctx context.Context) ([]string, error)
	ConnectorInfo(ctx context.Context, name string) (*connect.ConnectorInfo, error)
	ConnectorConfig(ctx context.Context, name string) (map[string]string, error)
	CreateConnector(ctx context.Context, name string, config map[string]string, initial connect.TargetState) (*connect.ConnectorInfo, error)
	PutConnectorConfig(ctx context.Context, name string, config map[string]string) (info *connect.ConnectorInfo, created bool, err error)
	PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (*connect.ConnectorInfo, error)
	ConnectorStatus(ctx context.Context, name string) (*connect.ConnectorStatus, error)
	Tasks(ctx context.Context, name string) ([]connect.TaskInfo, error)
	TaskStatus(ctx context.Context, name string, task int) (*connect.TaskState, error)
	RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*connect.ConnectorStatus, error)
	RestartTask(ctx context.Context, name string, task int) error
	PauseConnector(ctx context.Context, name string) error
	ResumeConnector(ctx context.Context, name string) error
	StopConnector(ctx context.Context, name string) error
	DeleteConnector(ctx context.Context, name string) error
	Topics(ctx context.Context, name string) ([]string, error)
	ResetTopics(ctx context.Context, name string) error
	Offsets(ctx context.Context, name string) ([]connect.PartitionOffset, error)
	AlterOffsets(ctx context.Context, name string, offsets []connect.PartitionOffset) error
	ResetOffsets(ctx context.Context, name string) error
	Plugins(connectorsOnly bool) []connect.PluginInfo
	PluginConfig(class string) ([]connect.ConfigKeyInfo, error)
	Validate(ctx context.Context, class string, config map[string]string) (*connect.ConfigInfos, error)
}

// Kafka's default time limits: a REST request (RestServer's
// DEFAULT_REST_REQUEST_TIMEOUT_MS) and a health check
// (DEFAULT_HEALTH_CHECK_TIMEOUT_MS).
const (
	DefaultRequestTimeout     = 90 * time.Second
	DefaultHealthCheckTimeout = 10 * time.Second
)

// maxBody bounds a request body, so that one client cannot make the
// worker buffer an unbounded amount of memory, and so that a connector's
// configuration always fits the store's 16 MiB messages. It is Kafka's
// own effective limit: a config is one record on the config topic, and
// Kafka's brokers refuse records over about 1 MB (message.max.bytes).
// Larger bodies get 413 with Kafka's error JSON.
const maxBody = 1 << 20

// Config is what a Handler needs: the herder it drives and the facts GET
// / reports. It is a struct so that the worker can grow options without
// breaking callers.
type Config struct {
	// Version and Commit are the server's build, as GET / reports them.
	Version string
	Commit  string
	// ClusterID is reported as kafka_cluster_id by GET /: the identity
	// of the Tributary cluster whose streams the connectors use.
	ClusterID string
	// Herder carries out the requests. Required.
	Herder Herder
	// Logger receives failures the API reports as 500s. Nil discards.
	Logger *slog.Logger
	// Loggers is the level registry behind /admin/loggers. Share it with
	// the components that consult it (Loggers.Level) and build it with
	// NewLoggers around the server's *slog.LevelVar, so that setting the
	// root level changes what the server logs. Nil makes a private one.
	Loggers *Loggers
	// RequestTimeout bounds each herder call; 0 means
	// DefaultRequestTimeout. A call that runs out reports 500 "Request
	// timed out", as Kafka does.
	RequestTimeout time.Duration
	// HealthCheckTimeout bounds Herder.Health; 0 means
	// DefaultHealthCheckTimeout.
	HealthCheckTimeout time.Duration
	// Authenticate, when set, makes every request (GET / and /health
	// included, as with Kafka's BasicAuthSecurityRestExtension) carry
	// HTTP Basic credentials it accepts; others get 401. Nil leaves the
	// API open.
	Authenticate Authenticator
}

// Handler is the REST API as an http.Handler, ready to mount on a server
// listening on Kafka Connect's port (8083 by convention).
type Handler struct {
	cfg     Config
	herder  Herder
	log     *slog.Logger
	loggers *Loggers
	mux     *http.ServeMux
}

// New builds the Handler for cfg. It fails only when cfg has no Herder,
// which is a programming error the caller should hear about at start-up
// rather than on the first request.
func New(cfg Config) (*Handler, error) {
	if cfg.Herder == nil {
		return nil, errors.New("rest: Config.Herder is nil")
	}
	h := &Handler{cfg: cfg, herder: cfg.Herder, log: cfg.Logger, loggers: cfg.Loggers}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.loggers == nil {
		h.loggers = NewLoggers(nil)
	}
	if h.cfg.RequestTimeout <= 0 {
		h.cfg.RequestTimeout = DefaultRequestTimeout
	}
	if h.cfg.HealthCheckTimeout <= 0 {
		h.cfg.HealthCheckTimeout = DefaultHealthCheckTimeout
	}
	h.mux = http.NewServeMux()
	h.routes()
	return h, nil
}

// Loggers returns the level registry behind /admin/loggers, so that a
// caller that let New make it can still hand it to components.
func (h *Handler) Loggers() *Loggers { return h.loggers }

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /{$}", h.serverInfo)
	m.HandleFunc("GET /health", h.health)

	m.HandleFunc("GET /connectors", h.handle(h.listConnectors))
	m.HandleFunc("POST /connectors", withBody(h, decodeCreateRequest, h.createConnector))
	m.HandleFunc("GET /connectors/{connector}", h.handle(h.getConnector))
	m.HandleFunc("DELETE /connectors/{connector}", h.action(h.herder.DeleteConnector, http.StatusNoContent))
	m.HandleFunc("GET /connectors/{connector}/config", h.handle(h.getConnectorConfig))
	m.HandleFunc("PUT /connectors/{connector}/config", withBody(h, decodeConfig, h.putConnectorConfig))
	m.HandleFunc("PATCH /connectors/{connector}/config", withBody(h, decodeStringMap, h.patchConnectorConfig))
	m.HandleFunc("GET /connectors/{connector}/status", h.handle(h.getConnectorStatus))
	m.HandleFunc("POST /connectors/{connector}/restart", h.handle(h.restartConnector))
	m.HandleFunc("PUT /connectors/{connector}/pause", h.action(h.herder.PauseConnector, http.StatusAccepted))
	m.HandleFunc("PUT /connectors/{connector}/resume", h.action(h.herder.ResumeConnector, http.StatusAccepted))
	m.HandleFunc("PUT /connectors/{connector}/stop", h.action(h.herder.StopConnector, http.StatusNoContent))
	m.HandleFunc("GET /connectors/{connector}/tasks", h.handle(h.getTasks))
	m.HandleFunc("GET /connectors/{connector}/tasks/{task}/status", h.handle(h.getTaskStatus))
	m.HandleFunc("POST /connectors/{connector}/tasks/{task}/restart", h.handle(h.restartTask))
	m.HandleFunc("GET /connectors/{connector}/topics", h.handle(h.getTopics))
	m.HandleFunc("PUT /connectors/{connector}/topics/reset", h.action(h.herder.ResetTopics, http.StatusAccepted))
	m.HandleFunc("GET /connectors/{connector}/offsets", h.handle(h.getOffsets))
	m.HandleFunc("PATCH /connectors/{connector}/offsets", withBody(h, decodeOffsets, h.alterOffsets))
	m.HandleFunc("DELETE /connectors/{connector}/offsets", h.handle(h.resetOffsets))

	m.HandleFunc("GET /connector-plugins", h.handle(h.listPlugins))
	m.HandleFunc("GET /connector-plugins/{plugin}/config", h.handle(h.pluginConfig))
	m.HandleFunc("PUT /connector-plugins/{plugin}/config/validate", withBody(h, decodeConfig, h.validate))

	m.HandleFunc("GET /admin/loggers", h.handle(h.listLoggers))
	m.HandleFunc("GET /admin/loggers/{logger}", h.handle(h.getLogger))
	m.HandleFunc("PUT /admin/loggers/{logger}", withBody(h, decodeStringMap, h.setLogger))
}

// reply is what an endpoint answers: a status, a body written as JSON
// (none when nil), and the Location header of a created connector.
type reply struct {
	code     int
	body     any
	location string
}

// okJSON is a 200 with body.
func okJSON(body any) reply { return reply{code: http.StatusOK, body: body} }

// endpoint is a handler without the preamble every handler shares: it
// gets the request's context, bounded by the request timeout, and
// returns its reply, or the error to answer with Kafka's error JSON
// instead (the reply is then ignored).
type endpoint func(ctx context.Context, r *http.Request) (reply, error)

// handle serves an endpoint: bounds it by the request timeout, answers
// its error as Kafka does (fail) and writes its reply otherwise.
func (h *Handler) handle(e endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := h.ctx(r)
		defer cancel()
		rep, err := e(ctx, r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if rep.location != "" {
			w.Header().Set("Location", rep.location)
		}
		if rep.body == nil {
			writeEmpty(w, rep.code)
			return
		}
		writeJSON(w, rep.code, rep.body)
	}
}

// withBody serves an endpoint that takes a request body: the body is
// read (bounded by maxBody) and decoded as Kafka's Jackson provider
// maps it, its failures answered as Kafka does, before the endpoint
// and its time limit start.
func withBody[T any](h *Handler, decode func([]byte) (T, error), e func(ctx context.Context, r *http.Request, body T) (reply, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, err := readBody(w, r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		body, err := decode(raw)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.handle(func(ctx context.Context, r *http.Request) (reply, error) { return e(ctx, r, body) })(w, r)
	}
}

// action serves a herder action on the path's connector that answers
// code with no body.
func (h *Handler) action(act func(ctx context.Context, name string) error, code int) http.HandlerFunc {
	return h.handle(func(ctx context.Context, r *http.Request) (reply, error) {
		return reply{code: code}, act(ctx, r.PathValue("connector"))
	})
}

// probeMethods are the methods tried to tell a wrong method (405) from an
// unknown path (404).
var probeMethods = [...]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// ServeHTTP routes r. Unknown paths and wrong methods get Kafka's error
// body rather than ServeMux's plain text, so that clients can parse every
// failure the same way.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authenticate(w, r) {
		return
	}
	// Jersey matches "/connectors/" as "/connectors"; so do we.
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = strings.TrimSuffix(p, "/")
		u.RawPath = strings.TrimSuffix(u.RawPath, "/")
		r2.URL = &u
		r = r2
	}
	if _, pattern := h.mux.Handler(r); pattern != "" {
		h.mux.ServeHTTP(w, r)
		return
	}
	var allow []string
	for _, m := range probeMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed")
}

// ctx bounds a herder call by the request timeout.
func (h *Handler) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), h.cfg.RequestTimeout)
}

// errorBody is Kafka's ErrorMessage entity.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// restError is a failure of the request itself (bad body, bad path
// parameter), as opposed to one the herder reports.
type restError struct {
	code int
	msg  string
}

func (e *restError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &restError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// badEntity is how Kafka reports a body Jackson cannot map: the exception
// reaches ConnectExceptionMapper, which knows no better than 500.
func badEntity(format string, args ...any) error {
	return &restError{http.StatusInternalServerError, fmt.Sprintf(format, args...)}
}

// notFoundPath is Jersey's answer when a path parameter does not convert
// to its declared type (a task id that is not an integer).
var notFoundPath = &restError{http.StatusNotFound, "HTTP 404 Not Found"}

// fail writes err as Kafka's error body with the status it carries.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := http.StatusInternalServerError, err.Error()
	var ce *connect.Error
	var re *restError
	switch {
	case errors.As(err, &ce):
		code, msg = ce.Code, ce.Message
		if code < 400 || code > 599 {
			code = http.StatusInternalServerError
		}
	case errors.As(err, &re):
		code, msg = re.code, re.msg
	case errors.Is(err, context.DeadlineExceeded):
		msg = "Request timed out"
	}
	switch {
	case re != nil:
		// The client's mistake, even when Kafka answers it with a 500
		// (badEntity): logged only at debug, so that malformed requests
		// cannot flood the log.
		h.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	case code == http.StatusInternalServerError:
		h.log.Error("uncaught error in REST call", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, code, msg)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{ErrorCode: code, Message: msg})
}

// writeJSON writes v compactly, without the HTML escaping encoding/json
// does by default (Jackson does none, and connector configs hold
// regexes and URLs full of <, > and &).
func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		code = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(errorBody{code, "encoding the reply: " + err.Error()})
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// writeEmpty replies with a status and no body (204, and the 202s Kafka
// sends without an entity).
func writeEmpty(w http.ResponseWriter, code int) {
	if code != http.StatusNoContent {
		w.Header().Set("Content-Length", "0")
	}
	w.WriteHeader(code)
}

// serverInfo is GET /: Kafka's ServerInfo.
func (h *Handler) serverInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Version   string `json:"version"`
		Commit    string `json:"commit"`
		ClusterID string `json:"kafka_cluster_id"`
	}{h.cfg.Version, h.cfg.Commit, h.cfg.ClusterID})
}

// Kafka's WorkerStatus texts.
const (
	healthyMessage   = "Worker has completed startup and is ready to handle requests."
	startingMessage  = "Worker is still starting up."
	unhealthyMessage = "Worker was unable to handle this request and may be unable to handle other requests."
)

// health is GET /health. The herder's message is the detail Kafka appends
// to its standard text (what the worker is busy with); a message that
// already begins with the standard text is used as it is.
func (h *Handler) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.HealthCheckTimeout)
	defer cancel()
	status, detail := h.herder.Health(ctx)
	var code int
	var base string
	switch status {
	case "healthy":
		code, base, detail = http.StatusOK, healthyMessage, ""
	case "starting":
		code, base = http.StatusServiceUnavailable, startingMessage
	default:
		code, base, status = http.StatusInternalServerError, unhealthyMessage, "unhealthy"
	}
	msg := base
	switch {
	case detail == "":
	case strings.HasPrefix(detail, base):
		msg = detail
	default:
		msg = base + " " + detail
	}
	writeJSON(w, code, struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}{status, msg})
}
