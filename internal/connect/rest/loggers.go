package rest

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// The log4j levels slog has no name for. Components that log at them
// compare with these, so that PUT /admin/loggers/x {"level":"TRACE"}
// means what a Kafka operator expects.
const (
	// LevelTrace is log4j's TRACE, below slog's DEBUG.
	LevelTrace = slog.LevelDebug - 4
	// LevelFatal is log4j's FATAL, above slog's ERROR.
	LevelFatal = slog.LevelError + 4
	// LevelOff silences a logger: no record is at or above it.
	LevelOff = slog.Level(math.MaxInt32)
	// LevelAll lets every record through.
	LevelAll = slog.Level(math.MinInt32)
)

// log4jLevels are the names Kafka accepts, lowest first.
var log4jLevels = [...]struct {
	name  string
	level slog.Level
}{
	{"ALL", LevelAll},
	{"TRACE", LevelTrace},
	{"DEBUG", slog.LevelDebug},
	{"INFO", slog.LevelInfo},
	{"WARN", slog.LevelWarn},
	{"ERROR", slog.LevelError},
	{"FATAL", LevelFatal},
	{"OFF", LevelOff},
}

// ParseLevel reads a log4j level name, in any case, as PUT
// /admin/loggers/{name} accepts it.
func ParseLevel(s string) (slog.Level, bool) {
	s = strings.ToUpper(s)
	for _, l := range log4jLevels {
		if l.name == s {
			return l.level, true
		}
	}
	return 0, false
}

// LevelName is the log4j name of a level, as /admin/loggers reports it: a
// level between two names takes the lower one, so slog's INFO+2 is INFO.
func LevelName(level slog.Level) string {
	name := log4jLevels[0].name
	for _, l := range log4jLevels {
		if level >= l.level {
			name = l.name
		}
	}
	return name
}

// rootLogger is log4j's name for the root logger, which Kafka matches in
// any case.
const rootLogger = "root"

// LoggerLevel is Kafka's LoggerLevel entity: a logger's level and when
// the REST API last changed it (milliseconds since the epoch; null if
// never).
type LoggerLevel struct {
	Level        string `json:"level"`
	LastModified *int64 `json:"last_modified"`
}

// Loggers is the registry of logger levels behind /admin/loggers,
// modelled on Kafka's Loggers over log4j: loggers are named hierarchically
// with dots, one without a level of its own takes its nearest ancestor's,
// and the root's level is a *slog.LevelVar, so that setting it changes
// what the server's slog handlers let through.
//
// A logger exists once a component registers it or a level is set on it;
// setting a level on a name applies it to that logger and every existing
// descendant, and setting it on "root" applies it to all of them.
type Loggers struct {
	root *slog.LevelVar
	now  func() time.Time

	mu     sync.Mutex
	known  map[string]*logger // named loggers; never "root"
	rootAt *int64             // when the root's level was last set
}

// logger is one named logger.
type logger struct {
	level    *slog.Level // nil: inherit
	modified *int64
}

// NewLoggers makes a registry whose root level is root; a nil root gets a
// fresh LevelVar at INFO.
func NewLoggers(root *slog.LevelVar) *Loggers {
	if root == nil {
		root = new(slog.LevelVar)
	}
	return &Loggers{root: root, now: time.Now, known: map[string]*logger{}}
}

func isRoot(name string) bool { return strings.EqualFold(name, rootLogger) }

// Register records that a component logs under name, so that GET
// /admin/loggers/{name} finds it and setting an ancestor's level
// reports it. Registering the root or an existing logger does nothing.
func (l *Loggers) Register(name string) {
	if isRoot(name) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.known[name] == nil {
		l.known[name] = &logger{}
	}
}

// Level is the effective level of the named logger: its own if set, else
// its nearest ancestor's, else the root's. Components call it to decide
// whether to log; the name need not be registered.
func (l *Loggers) Level(name string) slog.Level {
	if isRoot(name) {
		return l.root.Level()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.effective(name)
}

// effective is Level with l.mu held.
func (l *Loggers) effective(name string) slog.Level {
	for n := name; ; {
		if lg := l.known[n]; lg != nil && lg.level != nil {
			return *lg.level
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			return l.root.Level()
		}
		n = n[:i]
	}
}

// Get reports one logger's level (its effective one when it has none of
// its own), and false when no such logger exists.
func (l *Loggers) Get(name string) (LoggerLevel, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if isRoot(name) {
		return LoggerLevel{LevelName(l.root.Level()), l.rootAt}, true
	}
	lg := l.known[name]
	if lg == nil {
		return LoggerLevel{}, false
	}
	return LoggerLevel{LevelName(l.effective(name)), lg.modified}, true
}

// All reports the root and every logger with a level of its own, as GET
// /admin/loggers lists them.
func (l *Loggers) All() map[string]LoggerLevel {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]LoggerLevel{rootLogger: {LevelName(l.root.Level()), l.rootAt}}
	for name, lg := range l.known {
		if lg.level != nil {
			out[name] = LoggerLevel{LevelName(*lg.level), lg.modified}
		}
	}
	return out
}

// SetLevel sets the level of name and its existing descendants ("root":
// of every logger), creating name if needed, and returns the names of the
// loggers affected, sorted. A logger already at the level keeps its
// last-modified time.
func (l *Loggers) SetLevel(name string, level slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now().UnixMilli()
	var affected []string
	if isRoot(name) {
		for n := range l.known {
			affected = append(affected, n)
		}
	} else {
		if l.known[name] == nil {
			l.known[name] = &logger{}
		}
		for n := range l.known {
			if n == name || strings.HasPrefix(n, name+".") {
				affected = append(affected, n)
			}
		}
	}
	// Compare with the levels before any change: setting a parent
	// must not make its children look already set.
	before := make(map[string]slog.Level, len(affected))
	for _, n := range affected {
		before[n] = l.effective(n)
	}
	for _, n := range affected {
		if before[n] == level {
			continue
		}
		lv := level
		l.known[n].level = &lv
		l.known[n].modified = &now
	}
	if isRoot(name) {
		if l.root.Level() != level {
			l.root.Set(level)
			l.rootAt = &now
		}
		affected = append(affected, rootLogger)
	}
	sort.Strings(affected)
	return affected
}

// listLoggers is GET /admin/loggers.
func (h *Handler) listLoggers(context.Context, *http.Request) (reply, error) {
	return okJSON(h.loggers.All()), nil
}

// getLogger is GET /admin/loggers/{logger}.
func (h *Handler) getLogger(_ context.Context, r *http.Request) (reply, error) {
	name := r.PathValue("logger")
	lvl, ok := h.loggers.Get(name)
	if !ok {
		return reply{}, &restError{http.StatusNotFound, "Logger " + name + " not found."}
	}
	return okJSON(lvl), nil
}

// setLogger is PUT /admin/loggers/{logger} {"level": "DEBUG"}. With
// scope=cluster Kafka applies the level on every worker and answers 204;
// here the level is applied to this worker, the only one the registry
// reaches. Any other scope is taken as "worker", as Kafka does.
func (h *Handler) setLogger(_ context.Context, r *http.Request, body map[string]*string) (reply, error) {
	name := r.PathValue("logger")
	s := body["level"]
	if s == nil {
		return reply{}, badRequest("Desired 'level' parameter was not specified in request.")
	}
	level, ok := ParseLevel(*s)
	if !ok {
		// Kafka reports an unknown level as not found.
		return reply{}, &restError{http.StatusNotFound, "invalid log level '" + *s + "'."}
	}
	scope := r.URL.Query().Get("scope")
	affected := h.loggers.SetLevel(name, level)
	h.log.Info("logger level set", "logger", name, "level", LevelName(level), "scope", scope)
	if strings.EqualFold(scope, "cluster") {
		return reply{code: http.StatusNoContent}, nil
	}
	return okJSON(affected), nil
}
