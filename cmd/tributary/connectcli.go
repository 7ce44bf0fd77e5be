package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/properties"
)

const connectUsage = `Usage: tributary connect <command> [flags] [arguments]

Manage connectors through a Kafka Connect-compatible REST API.

Commands:
  list                          connectors with their type, state, running/total tasks and worker
  create [FILE] [-name NAME] [-c key=value]... [-initial-state RUNNING|PAUSED|STOPPED]
                                create a connector from a .properties file, a .json file
                                ({"name", "config"} or a flat map) and/or -c settings
  status NAME                   the connector's and its tasks' states, with failure traces
  pause NAME                    pause the connector and its tasks
  resume NAME                   resume a paused or stopped connector
  restart NAME [-include-tasks] [-only-failed] [-task N]
                                restart the connector (and its tasks), or one task
  stop NAME                     stop the connector; its tasks shut down
  delete NAME                   delete the connector
  config NAME                   the connector's configuration as sorted key=value lines
  offsets NAME                  the connector's committed offsets
  plugins [-all]                installed connector plugins (-all: converters, transforms, ... too)

Every command takes -url, the REST API's base URL (default $TRIBUTARY_CONNECT_URL,
else http://localhost:8083), and -user ACCESS_KEY_ID:SECRET, the HTTP Basic credentials
of a server started with -credentials (default $TRIBUTARY_CONNECT_USER; user info in
-url works too). For a server with TLS, use an https:// URL with -cacert FILE
(PEM certificates to trust, e.g. the server's data-dir/tls/cert.pem for -tls-self-signed;
default $TRIBUTARY_CONNECT_CACERT) or -insecure (no verification).
`

// defaultConnectURL is where the CLI looks for the REST API when -url is
// not given: $TRIBUTARY_CONNECT_URL, else Kafka Connect's usual port.
func defaultConnectURL() string {
	if v := os.Getenv("TRIBUTARY_CONNECT_URL"); v != "" {
		return v
	}
	return "http://localhost:8083"
}

// connectClient runs "tributary connect <sub> args...". Failures the
// server reports come back as errors reading "error: <message> (HTTP
// <code>)"; a wrong invocation is a usageError.
func connectClient(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	switch sub {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, connectUsage)
		return nil
	case "":
		fmt.Fprint(stderr, connectUsage)
		return usageError{errors.New("connect: missing command")}
	}
	var o connectOpts
	cmd, ok := o.commands()[sub]
	if !ok {
		fmt.Fprint(stderr, connectUsage)
		return usageError{fmt.Errorf("connect: unknown command %q", sub)}
	}
	c, pos, err := o.parse(sub, args, stderr)
	if err != nil {
		return err
	}
	if sub == "create" {
		if len(pos) > 1 {
			return usageError{fmt.Errorf("connect create: expected at most one file, got %d arguments", len(pos))}
		}
		file := ""
		if len(pos) == 1 {
			file = pos[0]
		}
		return connectCreate(ctx, c, file, &o.create, stdout)
	}
	name, err := cmd.name(sub, pos)
	if err != nil {
		return err
	}
	if sub == "restart" && o.task >= 0 && (o.includeTasks || o.onlyFailed) {
		return usageError{errors.New("connect restart: -task restarts one task; it does not combine with -include-tasks or -only-failed")}
	}
	return cmd.run(ctx, c, name, stdout)
}

// connectOpts are the flags of the connect commands; each command
// registers those it takes.
type connectOpts struct {
	includeTasks, onlyFailed, all bool
	task                          int
	create                        createFlags
}

// connectCommand is one `tributary connect` command.
type connectCommand struct {
	nargs int // connector names expected: 0 or 1
	run   func(ctx context.Context, c *connectAPI, name string, stdout io.Writer) error
}

// name is the command's connector name from its positional arguments.
func (cmd connectCommand) name(sub string, pos []string) (string, error) {
	if len(pos) != cmd.nargs {
		if cmd.nargs == 1 {
			return "", usageError{fmt.Errorf("connect %s: expected one connector name, got %d arguments", sub, len(pos))}
		}
		return "", usageError{fmt.Errorf("connect %s: unexpected argument %q", sub, pos[0])}
	}
	if cmd.nargs == 1 {
		return pos[0], nil
	}
	return "", nil
}

func (o *connectOpts) commands() map[string]connectCommand {
	return map[string]connectCommand{
		"list":    {0, connectList},
		"create":  {0, nil}, // takes a file, handled by connectClient
		"status":  {1, connectStatus},
		"pause":   {1, connectAction("PUT", "pause", "Pause requested for connector %s\n")},
		"resume":  {1, connectAction("PUT", "resume", "Resume requested for connector %s\n")},
		"stop":    {1, connectAction("PUT", "stop", "Stopped connector %s\n")},
		"delete":  {1, connectAction("DELETE", "", "Deleted connector %s\n")},
		"config":  {1, connectConfig},
		"offsets": {1, connectOffsets},
		"plugins": {0, func(ctx context.Context, c *connectAPI, _ string, stdout io.Writer) error {
			return connectPlugins(ctx, c, o.all, stdout)
		}},
		"restart": {1, func(ctx context.Context, c *connectAPI, name string, stdout io.Writer) error {
			return connectRestart(ctx, c, name, o.task, o.includeTasks, o.onlyFailed, stdout)
		}},
	}
}

// parse reads command sub's flags and returns the API client they
// configure and the positional arguments.
func (o *connectOpts) parse(sub string, args []string, stderr io.Writer) (*connectAPI, []string, error) {
	fs := flag.NewFlagSet("connect "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", defaultConnectURL(), "base `URL` of the Connect REST API (env TRIBUTARY_CONNECT_URL)")
	user := fs.String("user", os.Getenv("TRIBUTARY_CONNECT_USER"), "HTTP Basic `KEY:SECRET` for a server started with -credentials: an access key id and its secret (env TRIBUTARY_CONNECT_USER)")
	var tlsOpts connectTLS
	tlsOpts.register(fs)
	switch sub {
	case "restart":
		fs.BoolVar(&o.includeTasks, "include-tasks", false, "restart the connector's tasks too")
		fs.BoolVar(&o.onlyFailed, "only-failed", false, "restart only the instances that have failed")
		fs.IntVar(&o.task, "task", -1, "restart only this task `id`")
	case "plugins":
		fs.BoolVar(&o.all, "all", false, "list every plugin, not only connectors")
	case "create":
		o.create.register(fs)
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, usageError{fmt.Errorf("connect %s: %w", sub, err)}
	}
	c, err := newConnectAPI(*base)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("connect %s: -url: %w", sub, err)}
	}
	if err := c.setUser(*user); err != nil {
		return nil, nil, usageError{fmt.Errorf("connect %s: -user: %w", sub, err)}
	}
	if c.hc.Transport, err = tlsOpts.transport(); err != nil {
		return nil, nil, usageError{fmt.Errorf("connect %s: %w", sub, err)}
	}
	return c, pos, nil
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("restart NAME -include-tasks"), which flag.Parse alone does
// not allow.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// After "--" everything is positional.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// connectAPI is a small client for the Connect REST API.
type connectAPI struct {
	base string
	hc   *http.Client
	// user and password are HTTP Basic credentials; sent when user is
	// not empty.
	user, password string
}

// setUser takes curl's -u form, KEY:SECRET. The secret may contain
// colons; the key may not, as in HTTP Basic itself. Credentials are only
// sent when asked for, never taken from AWS_* variables, so that a real
// AWS secret is not handed to a Connect server in clear text by accident.
func (c *connectAPI) setUser(userpass string) error {
	if userpass == "" {
		return nil
	}
	user, password, ok := strings.Cut(userpass, ":")
	if !ok || user == "" {
		return errors.New("want ACCESS_KEY_ID:SECRET")
	}
	c.user, c.password = user, password
	return nil
}

func newConnectAPI(base string) (*connectAPI, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http:// or https:// URL", base)
	}
	// Longer than Kafka's 90 s request timeout, so that the server's
	// own timeout error is what the user sees.
	return &connectAPI{base: strings.TrimRight(base, "/"), hc: &http.Client{Timeout: 2 * time.Minute}}, nil
}

// connectorPath is the path of a connector's resource, its name escaped.
func connectorPath(name string, sub ...string) string {
	p := "/connectors/" + url.PathEscape(name)
	for _, s := range sub {
		p += "/" + s
	}
	return p
}

// do sends a request with body (if not nil) as JSON, decodes a
// successful reply into out (if not nil) and returns its status. An
// error reply becomes "error: <message> (HTTP <code>)".
func (c *connectAPI) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("cannot reach the Connect REST API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("reading the reply to %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Message string `json:"message"`
		}
		msg := ""
		if json.Unmarshal(data, &e) == nil {
			msg = e.Message
		}
		if msg == "" {
			msg = strings.TrimSpace(string(data))
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		if resp.StatusCode == http.StatusUnauthorized && strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			hint := "the server requires credentials: pass -user ACCESS_KEY_ID:SECRET or set TRIBUTARY_CONNECT_USER"
			if c.user != "" || req.URL.User != nil {
				hint = "the server refused the credentials given"
			}
			return resp.StatusCode, fmt.Errorf("error: %s (HTTP %d); %s", msg, resp.StatusCode, hint)
		}
		return resp.StatusCode, fmt.Errorf("error: %s (HTTP %d)", msg, resp.StatusCode)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decoding the reply to %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// orDash shows an empty field as "-", keeping table columns aligned.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// runningTasks counts the RUNNING tasks in a status.
func runningTasks(st *connect.ConnectorStatus) int {
	n := 0
	for _, t := range st.Tasks {
		if t.State == connect.StateRunning {
			n++
		}
	}
	return n
}

// connectList prints one row per connector: NAME TYPE STATE TASKS WORKER,
// TASKS being running/total.
func connectList(ctx context.Context, c *connectAPI, _ string, stdout io.Writer) error {
	var views map[string]struct {
		Status *connect.ConnectorStatus `json:"status"`
		Info   *connect.ConnectorInfo   `json:"info"`
	}
	if _, err := c.do(ctx, "GET", "/connectors?expand=status&expand=info", nil, &views); err != nil {
		return err
	}
	if len(views) == 0 {
		fmt.Fprintln(stdout, "No connectors.")
		return nil
	}
	names := make([]string, 0, len(views))
	for n := range views {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := newTable(stdout)
	fmt.Fprintln(tw, "NAME\tTYPE\tSTATE\tTASKS\tWORKER")
	for _, n := range names {
		v := views[n]
		typ, state, tasks, worker := "", "", "-", ""
		if v.Info != nil {
			typ = string(v.Info.Type)
		}
		if st := v.Status; st != nil {
			if st.Type != "" {
				typ = string(st.Type)
			}
			state, worker = string(st.Connector.State), st.Connector.WorkerID
			tasks = fmt.Sprintf("%d/%d", runningTasks(st), len(st.Tasks))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n, orDash(typ), orDash(state), tasks, orDash(worker))
	}
	return tw.Flush()
}

// connectStatus prints the connector's row, its tasks' table and then
// the traces of whatever has failed, which are too long for a table.
func connectStatus(ctx context.Context, c *connectAPI, name string, stdout io.Writer) error {
	var st connect.ConnectorStatus
	if _, err := c.do(ctx, "GET", connectorPath(name, "status"), nil, &st); err != nil {
		return err
	}
	return printStatus(&st, stdout)
}

func printStatus(st *connect.ConnectorStatus, stdout io.Writer) error {
	tw := newTable(stdout)
	fmt.Fprintln(tw, "NAME\tTYPE\tSTATE\tTASKS\tWORKER")
	fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\n", st.Name, orDash(string(st.Type)), orDash(string(st.Connector.State)),
		runningTasks(st), len(st.Tasks), orDash(st.Connector.WorkerID))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if len(st.Tasks) == 0 {
		fmt.Fprintln(stdout, "No tasks.")
	} else {
		tw = newTable(stdout)
		fmt.Fprintln(tw, "TASK\tSTATE\tWORKER")
		for _, t := range st.Tasks {
			fmt.Fprintf(tw, "%d\t%s\t%s\n", t.ID, orDash(string(t.State)), orDash(t.WorkerID))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if st.Connector.State == connect.StateFailed && st.Connector.Trace != "" {
		fmt.Fprintf(stdout, "\nConnector %s failed:\n%s\n", st.Name, strings.TrimRight(st.Connector.Trace, "\n"))
	}
	for _, t := range st.Tasks {
		if t.State == connect.StateFailed {
			trace := strings.TrimRight(t.Trace, "\n")
			if trace == "" {
				trace = "(no trace)"
			}
			fmt.Fprintf(stdout, "\nTask %d failed:\n%s\n", t.ID, trace)
		}
	}
	return nil
}

// connectAction returns a command that sends method to the connector's
// sub-resource (none: the connector itself) and prints done.
func connectAction(method, sub, done string) func(context.Context, *connectAPI, string, io.Writer) error {
	return func(ctx context.Context, c *connectAPI, name string, stdout io.Writer) error {
		path := connectorPath(name)
		if sub != "" {
			path = connectorPath(name, sub)
		}
		if _, err := c.do(ctx, method, path, nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, done, name)
		return nil
	}
}

// connectRestart restarts one task, the connector alone, or (with
// includeTasks or onlyFailed) the connector and its tasks, printing the
// status the server returns.
func connectRestart(ctx context.Context, c *connectAPI, name string, task int, includeTasks, onlyFailed bool, stdout io.Writer) error {
	if task >= 0 {
		if _, err := c.do(ctx, "POST", connectorPath(name, "tasks", strconv.Itoa(task), "restart"), nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Restarted task %d of connector %s\n", task, name)
		return nil
	}
	q := url.Values{}
	q.Set("includeTasks", strconv.FormatBool(includeTasks))
	q.Set("onlyFailed", strconv.FormatBool(onlyFailed))
	var st connect.ConnectorStatus
	code, err := c.do(ctx, "POST", connectorPath(name, "restart")+"?"+q.Encode(), nil, &st)
	if err != nil {
		return err
	}
	if code == http.StatusNoContent || st.Name == "" {
		fmt.Fprintf(stdout, "Restarted connector %s\n", name)
		return nil
	}
	fmt.Fprintf(stdout, "Restart requested for connector %s\n\n", name)
	return printStatus(&st, stdout)
}

// connectConfig prints the configuration as sorted key=value lines.
func connectConfig(ctx context.Context, c *connectAPI, name string, stdout io.Writer) error {
	var cfg map[string]string
	if _, err := c.do(ctx, "GET", connectorPath(name, "config"), nil, &cfg); err != nil {
		return err
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(stdout, "%s=%s\n", k, cfg[k])
	}
	return nil
}

// connectOffsets prints one row per partition, partition and offset as
// compact JSON.
func connectOffsets(ctx context.Context, c *connectAPI, name string, stdout io.Writer) error {
	var body struct {
		Offsets []connect.PartitionOffset `json:"offsets"`
	}
	if _, err := c.do(ctx, "GET", connectorPath(name, "offsets"), nil, &body); err != nil {
		return err
	}
	if len(body.Offsets) == 0 {
		fmt.Fprintf(stdout, "No offsets for connector %s.\n", name)
		return nil
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "PARTITION\tOFFSET")
	for _, o := range body.Offsets {
		p, err := json.Marshal(o.Partition)
		if err != nil {
			return err
		}
		off, err := json.Marshal(o.Offset)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\n", p, off)
	}
	return tw.Flush()
}

// connectPlugins prints the installed plugins: CLASS TYPE VERSION.
func connectPlugins(ctx context.Context, c *connectAPI, all bool, stdout io.Writer) error {
	var plugins []connect.PluginInfo
	path := "/connector-plugins?connectorsOnly=" + strconv.FormatBool(!all)
	if _, err := c.do(ctx, "GET", path, nil, &plugins); err != nil {
		return err
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "CLASS\tTYPE\tVERSION")
	for _, p := range plugins {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Class, orDash(p.Type), orDash(p.Version))
	}
	return tw.Flush()
}

// createFlags are the flags of "connect create".
type createFlags struct {
	name    string
	initial string
	set     [][2]string // -c settings, in order
}

func (f *createFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.name, "name", "", "connector `name` (default: the file's name setting)")
	fs.StringVar(&f.initial, "initial-state", "", "`state` to create the connector in: RUNNING, PAUSED or STOPPED")
	fs.Func("c", "a `key=value` setting; repeatable; overrides the file", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("%q is not key=value", s)
		}
		f.set = append(f.set, [2]string{strings.TrimSpace(k), v})
		return nil
	})
}

// connectorFile is what a connector file holds.
type connectorFile struct {
	name    string
	config  map[string]string
	initial string
}

// readConnectorFile reads a .properties file, or a .json file holding
// either Kafka's create request ({"name", "config", "initial_state"}) or
// a flat configuration. Other names are read as JSON when they start
// with '{' and as properties otherwise.
func readConnectorFile(path string) (*connectorFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	isJSON := false
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		isJSON = true
	case ".properties":
	default:
		isJSON = bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
	}
	if !isJSON {
		cfg, err := properties.Parse(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &connectorFile{name: cfg["name"], config: cfg}, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := &connectorFile{}
	if rawCfg, ok := obj["config"]; ok {
		for k := range obj {
			if k != "name" && k != "config" && k != "initial_state" {
				return nil, fmt.Errorf("%s: unexpected field %q beside \"config\"", path, k)
			}
		}
		var cfgObj map[string]json.RawMessage
		if err := json.Unmarshal(rawCfg, &cfgObj); err != nil {
			return nil, fmt.Errorf("%s: \"config\": %w", path, err)
		}
		if out.config, err = jsonStrings(cfgObj); err != nil {
			return nil, fmt.Errorf("%s: \"config\": %w", path, err)
		}
		if raw, ok := obj["name"]; ok {
			if err := json.Unmarshal(raw, &out.name); err != nil {
				return nil, fmt.Errorf("%s: \"name\": %w", path, err)
			}
		}
		if raw, ok := obj["initial_state"]; ok {
			if err := json.Unmarshal(raw, &out.initial); err != nil {
				return nil, fmt.Errorf("%s: \"initial_state\": %w", path, err)
			}
		}
	} else {
		if out.config, err = jsonStrings(obj); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if out.name == "" {
		out.name = out.config["name"]
	}
	return out, nil
}

// jsonStrings turns a JSON object's values into configuration strings:
// strings as they are, numbers and booleans as their text, as Kafka
// accepts them.
func jsonStrings(obj map[string]json.RawMessage) (map[string]string, error) {
	out := make(map[string]string, len(obj))
	for k, raw := range obj {
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) > 0 && raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, err
			}
			out[k] = s
		case len(raw) > 0 && (raw[0] == '{' || raw[0] == '['):
			return nil, fmt.Errorf("value of %q is not a string, number or boolean", k)
		case string(raw) == "null":
		default:
			out[k] = string(raw)
		}
	}
	return out, nil
}

// connectCreate creates a connector from a file and/or -c settings and
// prints what the server made of it.
func connectCreate(ctx context.Context, c *connectAPI, file string, f *createFlags, stdout io.Writer) error {
	cf := &connectorFile{config: map[string]string{}}
	if file != "" {
		var err error
		if cf, err = readConnectorFile(file); err != nil {
			return err
		}
	}
	for _, kv := range f.set {
		cf.config[kv[0]] = kv[1]
	}
	name := f.name
	if name == "" {
		name = cf.name
	}
	if name == "" {
		name = cf.config["name"]
	}
	if strings.TrimSpace(name) == "" {
		return usageError{errors.New(`connect create: no connector name: give -name, a "name" in the file, or -c name=...`)}
	}
	if len(cf.config) == 0 {
		return usageError{errors.New("connect create: no configuration: give a file or -c key=value settings")}
	}
	cf.config["name"] = name
	initial := f.initial
	if initial == "" {
		initial = cf.initial
	}
	req := struct {
		Name    string            `json:"name"`
		Config  map[string]string `json:"config"`
		Initial string            `json:"initial_state,omitempty"`
	}{name, cf.config, strings.ToUpper(initial)}
	if req.Initial != "" && req.Initial != "RUNNING" && req.Initial != "PAUSED" && req.Initial != "STOPPED" {
		return usageError{fmt.Errorf("connect create: initial state %q is not RUNNING, PAUSED or STOPPED", initial)}
	}
	var info connect.ConnectorInfo
	if _, err := c.do(ctx, "POST", "/connectors", req, &info); err != nil {
		return err
	}
	tasks := "tasks"
	if len(info.Tasks) == 1 {
		tasks = "task"
	}
	fmt.Fprintf(stdout, "Created connector %s (%s, %d %s)\n", info.Name, orDash(string(info.Type)), len(info.Tasks), tasks)
	return nil
}
