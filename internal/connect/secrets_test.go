package connect_test

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/data"

	"github.com/tributary-data/tributary/internal/syncbuf"
)

// loginSource is a source that "logs in" with its password setting: it
// logs the password and, when told to, fails quoting it, as careless
// connectors do, and otherwise reports the password its task received.
type loginSource struct{ seen chan<- string }

func (c *loginSource) Config() connect.ConfigDef {
	return connect.ConfigDef{{Name: "password", Type: connect.ConfigPassword, Required: true}}
}

func (c *loginSource) Start(ctx context.Context, p map[string]string) error {
	connect.Logger(ctx).Info("connector logging in", "password", p["password"])
	if p["fail"] == "connector" {
		return errors.New("connector cannot log in with password " + p["password"])
	}
	return nil
}

func (c *loginSource) TaskConfigs(int) ([]map[string]string, error) { return nil, nil }
func (c *loginSource) Stop() error                                  { return nil }
func (c *loginSource) Task() connect.SourceTask                     { return &loginTask{seen: c.seen} }

// loginTaskSource hands its whole configuration to its task, as
// FileStreamSource does, so the stored task configuration would hold the
// secret if the runtime did not put the placeholder back.
type loginTaskSource struct {
	loginSource
	props map[string]string
}

func (c *loginTaskSource) Start(ctx context.Context, p map[string]string) error {
	c.props = maps.Clone(p)
	return c.loginSource.Start(ctx, p)
}

func (c *loginTaskSource) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{maps.Clone(c.props)}, nil
}

type loginTask struct{ seen chan<- string }

func (t *loginTask) Start(ctx context.Context, p map[string]string, _ connect.SourceTaskContext) error {
	connect.Logger(ctx).Info("task logging in with password " + p["password"])
	if p["fail"] == "task" {
		return errors.New("task cannot log in with password " + p["password"])
	}
	t.seen <- p["password"]
	return nil
}

func (t *loginTask) Poll(ctx context.Context) ([]*data.Record, error) {
	<-ctx.Done()
	return nil, nil
}
func (t *loginTask) Stop() error { return nil }

// TestConfigProviderSecretsStayHidden: a ${env:...} password reaches the
// task resolved, while the stored configuration, the task
// configurations, failure traces and the log keep it hidden.
func TestConfigProviderSecretsStayHidden(t *testing.T) {
	const secret = "hunter2-very-secret"
	t.Setenv("TRIB_TEST_PASSWORD", secret)
	ctx := context.Background()
	e := newEngine(t, "")
	h, seen, logs := startLoginWorker(t, e, map[string]string{
		"config.providers":           "env",
		"config.providers.env.class": connect.EnvVarConfigProviderClass,
	})
	config := func(fail string) map[string]string {
		return map[string]string{"connector.class": "test.Login", "password": "pw:${env:TRIB_TEST_PASSWORD}", "fail": fail}
	}

	if _, err := h.CreateConnector(ctx, "ok", config(""), ""); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; got != "pw:"+secret {
		t.Fatalf("the task saw password %q", got)
	}
	stored, err := h.ConnectorConfig(ctx, "ok")
	if err != nil || stored["password"] != "pw:${env:TRIB_TEST_PASSWORD}" {
		t.Fatalf("stored config = %v, %v", stored, err)
	}
	tasks, err := h.Tasks(ctx, "ok")
	if err != nil || len(tasks) != 1 || tasks[0].Config["password"] != "pw:${env:TRIB_TEST_PASSWORD}" {
		t.Fatalf("task configs = %v, %v", tasks, err)
	}

	for _, fail := range []string{"connector", "task"} {
		if _, err := h.CreateConnector(ctx, "fail-"+fail, config(fail), ""); err != nil {
			t.Fatal(err)
		}
		var trace string
		waitFor(t, fail+" failure", func() bool {
			st, err := h.ConnectorStatus(ctx, "fail-"+fail)
			if err != nil {
				t.Fatal(err)
			}
			trace = st.Connector.Trace
			if len(st.Tasks) > 0 {
				trace = st.Tasks[0].Trace
			}
			return trace != ""
		})
		if want := fail + " cannot log in with password pw:[hidden]"; !strings.Contains(trace, want) || strings.Contains(trace, secret) {
			t.Errorf("%s trace = %q, want it to contain %q", fail, trace, want)
		}
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatalf("the log holds the secret:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "cannot log in with password pw:[hidden]") {
		t.Fatalf("the failures were not logged:\n%s", logs.String())
	}
	// What the plugins themselves log goes through the runtime's logger,
	// with the secret hidden in messages and attributes alike.
	for _, want := range []string{`msg="connector logging in" connector=ok password=pw:[hidden]`,
		`msg="task logging in with password pw:[hidden]" connector=ok task=0`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, logs.String())
		}
	}
}

// TestInlinePasswordsHiddenFromStatus: a password written into the
// configuration itself, quoted by a failing connector or task, is
// hidden in the failure trace the status API shows and the worker
// stores, unsealed, in the connector's status record, and in the log.
func TestInlinePasswordsHiddenFromStatus(t *testing.T) {
	const secret = "inline-pw-5d1c"
	ctx := context.Background()
	e := newEngine(t, "")
	h, _, logs := startLoginWorker(t, e, nil)
	for _, fail := range []string{"connector", "task"} {
		name := "fail-" + fail
		if _, err := h.CreateConnector(ctx, name, map[string]string{"connector.class": "test.Login", "password": secret, "fail": fail}, ""); err != nil {
			t.Fatal(err)
		}
		var trace string
		waitFor(t, fail+" failure", func() bool {
			st, err := h.ConnectorStatus(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			trace = st.Connector.Trace
			if len(st.Tasks) > 0 {
				trace = st.Tasks[0].Trace
			}
			return trace != ""
		})
		if want := fail + " cannot log in with password [hidden]"; !strings.Contains(trace, want) {
			t.Errorf("%s trace = %q, want it to contain %q", fail, trace, want)
		}
		waitFor(t, name+"'s status record", func() bool {
			b, err := e.kv.Get(ctx, "connect.status."+hex.EncodeToString([]byte(name)))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), secret) {
				t.Fatalf("%s's status record holds the password: %s", name, b)
			}
			return strings.Contains(string(b), "[hidden]")
		})
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatalf("the log holds the password:\n%s", logs.String())
	}
}

// startLoginWorker starts a worker with worker properties props whose
// plugins are the test.Login source, logging at debug into the returned
// buffer; the channel gets each password the source is given.
func startLoginWorker(t *testing.T, e *engine, props map[string]string) (*connect.Herder, chan string, *syncbuf.Buffer) {
	t.Helper()
	seen := make(chan string, 4)
	reg := connect.NewRegistry("test", map[string]func() connect.Connector{
		"test.Login": func() connect.Connector { return &loginTaskSource{loginSource: loginSource{seen: seen}} },
	})
	logs := new(syncbuf.Buffer)
	h := connect.NewHerder(connect.WorkerConfig{WorkerID: "test:8083", Registry: reg, Streams: e.local, KV: e.kv,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Props: props})
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop(context.Background()) })
	return h, seen, logs
}
