package rest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tributary-data/tributary/internal/connect"
)

// Kafka's texts for the request errors the REST layer finds itself.
const (
	emptyNameMessage = "Connector configuration is invalid and contains the following 1 error(s):\n" +
		"Invalid value  for configuration name: String may not be empty\n" +
		"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
	noOffsetsMessage = "Partitions / offsets need to be provided for an alter offsets request"
	alteredMessage   = "The offsets for this connector have been altered successfully"
	resetMessage     = "The offsets for this connector have been reset successfully"
)

// isNotFound reports whether err is the herder's 404.
func isNotFound(err error) bool {
	var ce *connect.Error
	return errors.As(err, &ce) && ce.Code == http.StatusNotFound
}

// checkName is Kafka's checkAndPutConnectorConfigName: a name inside the
// configuration must be the connector's; a missing one is filled in.
func checkName(name string, config map[string]string) error {
	if included, ok := config["name"]; ok {
		if included != name {
			return badRequest("Connector name configuration (%s) doesn't match connector name in the URL (%s)", included, name)
		}
		return nil
	}
	config["name"] = name
	return nil
}

// location is the absolute URL of a connector, which Kafka's
// Response.created makes from the request's base URI.
func location(r *http.Request, name string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/connectors/" + url.PathEscape(name)
}

// queryBool reads a boolean query parameter as JAX-RS does
// (Boolean.valueOf): "true" in any case is true, anything else false.
func queryBool(r *http.Request, key string) bool {
	return strings.EqualFold(r.URL.Query().Get(key), "true")
}

// taskID reads the {task} path parameter. Jersey answers a value that is
// not an integer with a plain 404.
func taskID(r *http.Request) (int, error) {
	t, err := strconv.Atoi(r.PathValue("task"))
	if err != nil {
		return 0, notFoundPath
	}
	return t, nil
}

// The fix functions give nil collections from the herder the empty JSON
// values Kafka always sends, so that clients can index them without a
// null check. They copy rather than modify what the herder may share.

func fixInfo(in *connect.ConnectorInfo) *connect.ConnectorInfo {
	if in == nil {
		return nil
	}
	c := *in
	if c.Config == nil {
		c.Config = map[string]string{}
	}
	if c.Tasks == nil {
		c.Tasks = []connect.TaskID{}
	}
	return &c
}

func fixStatus(in *connect.ConnectorStatus) *connect.ConnectorStatus {
	if in == nil {
		return nil
	}
	c := *in
	if c.Tasks == nil {
		c.Tasks = []connect.TaskState{}
	}
	return &c
}

func fixStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// listConnectors is GET /connectors, with Kafka's repeated expand
// parameter: expand=status and expand=info add those views per
// connector, other values are ignored, and a connector deleted while the
// list is built is left out.
func (h *Handler) listConnectors(ctx context.Context, r *http.Request) (reply, error) {
	names, err := h.herder.Connectors(ctx)
	if err != nil {
		return reply{}, err
	}
	expand, ok := r.URL.Query()["expand"]
	if !ok {
		return okJSON(fixStrings(names)), nil
	}
	out := make(map[string]map[string]any, len(names))
	for _, name := range names {
		views, err := h.expand(ctx, name, expand)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return reply{}, err
		}
		out[name] = views
	}
	return okJSON(out), nil
}

// expand gathers the views of one connector that GET
// /connectors?expand=... asks for.
func (h *Handler) expand(ctx context.Context, name string, expand []string) (map[string]any, error) {
	views := map[string]any{}
	for _, e := range expand {
		var v any
		var err error
		switch e {
		case "status":
			var st *connect.ConnectorStatus
			st, err = h.herder.ConnectorStatus(ctx, name)
			v = fixStatus(st)
		case "info":
			var info *connect.ConnectorInfo
			info, err = h.herder.ConnectorInfo(ctx, name)
			v = fixInfo(info)
		default:
			h.log.Debug("ignoring unknown expansion type", "expand", e)
			continue
		}
		if err != nil {
			return nil, err
		}
		views[e] = v
	}
	return views, nil
}

// createConnector is POST /connectors. The name is trimmed and copied
// into the configuration; the reply is 201 with the connector's URL.
func (h *Handler) createConnector(ctx context.Context, r *http.Request, req *createRequest) (reply, error) {
	name := strings.TrimSpace(req.name)
	if err := checkName(name, req.config); err != nil {
		return reply{}, err
	}
	if name == "" {
		return reply{}, badRequest("%s", emptyNameMessage)
	}
	initial := req.initial
	if initial == "" {
		initial = connect.TargetStarted
	}
	info, err := h.herder.CreateConnector(ctx, name, req.config, initial)
	return reply{code: http.StatusCreated, body: fixInfo(info), location: location(r, name)}, err
}

// getConnector is GET /connectors/{connector}.
func (h *Handler) getConnector(ctx context.Context, r *http.Request) (reply, error) {
	info, err := h.herder.ConnectorInfo(ctx, r.PathValue("connector"))
	return okJSON(fixInfo(info)), err
}

// getConnectorConfig is GET /connectors/{connector}/config.
func (h *Handler) getConnectorConfig(ctx context.Context, r *http.Request) (reply, error) {
	cfg, err := h.herder.ConnectorConfig(ctx, r.PathValue("connector"))
	if cfg == nil {
		cfg = map[string]string{}
	}
	return okJSON(cfg), err
}

// putConnectorConfig is PUT /connectors/{connector}/config: create or
// replace; 201 with the connector's URL when it created one, else 200.
func (h *Handler) putConnectorConfig(ctx context.Context, r *http.Request, cfg map[string]string) (reply, error) {
	name := r.PathValue("connector")
	if err := checkName(name, cfg); err != nil {
		return reply{}, err
	}
	info, created, err := h.herder.PutConnectorConfig(ctx, name, cfg)
	rep := okJSON(fixInfo(info))
	if created {
		rep.code, rep.location = http.StatusCreated, location(r, name)
	}
	return rep, err
}

// patchConnectorConfig is PATCH /connectors/{connector}/config: merge the
// body into the configuration, a null removing its key.
func (h *Handler) patchConnectorConfig(ctx context.Context, r *http.Request, patch map[string]*string) (reply, error) {
	info, err := h.herder.PatchConnectorConfig(ctx, r.PathValue("connector"), patch)
	return okJSON(fixInfo(info)), err
}

// getConnectorStatus is GET /connectors/{connector}/status.
func (h *Handler) getConnectorStatus(ctx context.Context, r *http.Request) (reply, error) {
	st, err := h.herder.ConnectorStatus(ctx, r.PathValue("connector"))
	return okJSON(fixStatus(st)), err
}

// restartConnector is POST /connectors/{connector}/restart. Without
// includeTasks or onlyFailed it restarts the connector alone and answers
// 204, as Kafka did before KIP-745; otherwise 202 with the status, the
// instances being restarted shown RESTARTING.
func (h *Handler) restartConnector(ctx context.Context, r *http.Request) (reply, error) {
	includeTasks, onlyFailed := queryBool(r, "includeTasks"), queryBool(r, "onlyFailed")
	st, err := h.herder.RestartConnector(ctx, r.PathValue("connector"), includeTasks, onlyFailed)
	if !includeTasks && !onlyFailed {
		return reply{code: http.StatusNoContent}, err
	}
	return reply{code: http.StatusAccepted, body: fixStatus(st)}, err
}

// getTasks is GET /connectors/{connector}/tasks.
func (h *Handler) getTasks(ctx context.Context, r *http.Request) (reply, error) {
	tasks, err := h.herder.Tasks(ctx, r.PathValue("connector"))
	out := make([]connect.TaskInfo, len(tasks))
	for i, t := range tasks {
		if t.Config == nil {
			t.Config = map[string]string{}
		}
		out[i] = t
	}
	return okJSON(out), err
}

// getTaskStatus is GET /connectors/{connector}/tasks/{task}/status.
func (h *Handler) getTaskStatus(ctx context.Context, r *http.Request) (reply, error) {
	task, err := taskID(r)
	if err != nil {
		return reply{}, err
	}
	st, err := h.herder.TaskStatus(ctx, r.PathValue("connector"), task)
	return okJSON(st), err
}

// restartTask is POST /connectors/{connector}/tasks/{task}/restart: 204.
func (h *Handler) restartTask(ctx context.Context, r *http.Request) (reply, error) {
	task, err := taskID(r)
	if err != nil {
		return reply{}, err
	}
	return reply{code: http.StatusNoContent}, h.herder.RestartTask(ctx, r.PathValue("connector"), task)
}

// getTopics is GET /connectors/{connector}/topics: Kafka's
// {"<connector>": {"topics": [...]}}; for Tributary the topics are the
// streams the connector has used.
func (h *Handler) getTopics(ctx context.Context, r *http.Request) (reply, error) {
	name := r.PathValue("connector")
	topics, err := h.herder.Topics(ctx, name)
	type activeTopics struct {
		Topics []string `json:"topics"`
	}
	return okJSON(map[string]activeTopics{name: {fixStrings(topics)}}), err
}

// offsetsBody is Kafka's ConnectorOffsets.
type offsetsBody struct {
	Offsets []connect.PartitionOffset `json:"offsets"`
}

// messageBody is Kafka's Message entity.
type messageBody struct {
	Message string `json:"message"`
}

// getOffsets is GET /connectors/{connector}/offsets.
func (h *Handler) getOffsets(ctx context.Context, r *http.Request) (reply, error) {
	offsets, err := h.herder.Offsets(ctx, r.PathValue("connector"))
	if offsets == nil {
		offsets = []connect.PartitionOffset{}
	}
	return okJSON(offsetsBody{offsets}), err
}

// alterOffsets is PATCH /connectors/{connector}/offsets (KIP-875).
func (h *Handler) alterOffsets(ctx context.Context, r *http.Request, offsets []connect.PartitionOffset) (reply, error) {
	if len(offsets) == 0 {
		return reply{}, badRequest("%s", noOffsetsMessage)
	}
	err := h.herder.AlterOffsets(ctx, r.PathValue("connector"), offsets)
	return okJSON(messageBody{alteredMessage}), err
}

// resetOffsets is DELETE /connectors/{connector}/offsets (KIP-875).
func (h *Handler) resetOffsets(ctx context.Context, r *http.Request) (reply, error) {
	err := h.herder.ResetOffsets(ctx, r.PathValue("connector"))
	return okJSON(messageBody{resetMessage}), err
}
