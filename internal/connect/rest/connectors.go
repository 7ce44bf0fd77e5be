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
func (h *Handler) listConnectors(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.ctx(r)
	defer cancel()
	names, err := h.herder.Connectors(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	expand, ok := r.URL.Query()["expand"]
	if !ok {
		writeJSON(w, http.StatusOK, fixStrings(names))
		return
	}
	out := make(map[string]map[string]any, len(names))
connectors:
	for _, name := range names {
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
			if isNotFound(err) {
				continue connectors
			}
			if err != nil {
				h.fail(w, r, err)
				return
			}
			views[e] = v
		}
		out[name] = views
	}
	writeJSON(w, http.StatusOK, out)
}

// createConnector is POST /connectors. The name is trimmed and copied
// into the configuration; the reply is 201 with the connector's URL.
func (h *Handler) createConnector(w http.ResponseWriter, r *http.Request) {
	raw, err := readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	req, err := decodeCreateRequest(raw)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	name := strings.TrimSpace(req.name)
	if err := checkName(name, req.config); err != nil {
		h.fail(w, r, err)
		return
	}
	if name == "" {
		h.fail(w, r, badRequest("%s", emptyNameMessage))
		return
	}
	initial := req.initial
	if initial == "" {
		initial = connect.TargetStarted
	}
	ctx, cancel := h.ctx(r)
	defer cancel()
	info, err := h.herder.CreateConnector(ctx, name, req.config, initial)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", location(r, name))
	writeJSON(w, http.StatusCreated, fixInfo(info))
}

// getConnector is GET /connectors/{connector}.
func (h *Handler) getConnector(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.ctx(r)
	defer cancel()
	info, err := h.herder.ConnectorInfo(ctx, r.PathValue("connector"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, fixInfo(info))
}

// deleteConnector is DELETE /connectors/{connector}: 204.
func (h *Handler) deleteConnector(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.ctx(r)
	defer cancel()
	if err := h.herder.DeleteConnector(ctx, r.PathValue("connector")); err != nil {
		h.fail(w, r, err)
		return
	}
	writeEmpty(w, http.StatusNoContent)
}

// getConnectorConfig is GET /connectors/{connector}/config.
func (h *Handler) getConnectorConfig(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.ctx(r)
	defer cancel()
	cfg, err := h.herder.ConnectorConfig(ctx, r.PathValue("connector"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if cfg == nil {
		cfg = map[string]string{}
	}
	writeJSON(w, http.StatusOK, cfg)
}

// putConnectorConfig is PUT /connectors/{connector}/config: create or
// replace; 201 with the connector's URL when it created one, else 200.
func (h *Handler) putConnectorConfig(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("connector")
	raw, err := readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cfg, err := decodeConfig(raw)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := checkName(name, cfg); err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, cancel := h.ctx(r)
	defer cancel()
	info, created, err := h.herder.PutConnectorConfig(ctx, name, cfg)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	code := http.StatusOK
	if created {
		w.Header().Set("Location", location(r, name))
		code = http.StatusCreated
	}
	writeJSON(w, code, fixInfo(info))
}

// patchConnectorConfig is PATCH /connectors/{connector}/config: merge the
// body into the configuration, a null removing its key.
func (h *Handler) patchConnectorConfig(w http.ResponseWriter, r *http.Request) {
	raw, err := readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	patch, err := decodeStringMap(raw)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, cancel := h.ctx(r)
	defer cancel()
	info, err := h.herder.PatchConnectorConfig(ctx, r.PathValue("connector"), patch)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, fixInfo(info))
}

// getConnectorStatus is GET /connectors/{connector}/status.
func (h *Handler) getConnectorStatus(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.ctx(r)
	defer cancel()
	st, err := h.herder.ConnectorStatus(ctx, r.PathValue("connector"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, fixStatus(st))
}

// restartConnector is POST /connectors/{connector}/restart. Without
// includeTasks or onlyFailed it restarts the connector alone and answers
// 204, as Kafka did before KIP-745; otherwise 202 with the status, the
// instances being restarted shown RESTARTING.
func (h *Handler) restartConnector(w http.ResponseWriter, r *http.Request) {
	includeTasks, onlyFailed := queryBool(r, "includeTasks"), queryBool(r, "onlyFailed")
	ctx, cancel := h.ctx(r)
	defer cancel()
	st, err := h.herder.RestartConnector(ctx, r.PathValue("connector"), includeTasks, onlyFailed)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !includeTasks && !onlyFailed {
		writeEmpty(w, http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusAccepted, fixStatus(st))
}

// pauseConnector is PUT /connectors/{connector}/pause: 202, no body.
func (h *Handler) pauseConnector(w http.ResponseWriter, r *http.Request) {
	h.simple(w, r, h.herder.PauseConnector, http.StatusAccepted)
}

// resumeConnector is PUT /connectors/{connector}/resume: 202, no body.
func (h *Handler) resumeConnector(w http.ResponseWriter, r *http.Request) {
	h.simple(w, r, h.herder.ResumeConnector, http.StatusAccepted)
}

// stopConnector is PUT /connectors/{connector}/stop: 204.
func (h *Handler) stopConnector(w http.ResponseWriter, r *http.Request) {
	h.simple(w, r, h.herder.StopConnector, http.StatusNoContent)
}

// resetTopics is PUT /connectors/{connector}/topics/reset: 202, no body.
func (h *Handler) resetTopics(w http.ResponseWriter, r *http.Request) {
	h.simple(w, r, h.herder.ResetTopics, http.StatusAccepted)
}

// simple runs a herder action on the path's connector and answers code
// with no body.
func (h *Handler) simple(w http.ResponseWriter, r *http.Request, action func(ctx context.Context, name string) error, code int) {
	ctx, cancel := h.ctx(r)
	defer cancel()
	if err := action(ctx, r.PathValue("connector")); err != nil {
		h.fail(w, r, err)
		return
	}
	writeEmpty(w, code)
}

// getTasks is GET /connectors/{connector}/tasks.
func (h *Handler) getTasks(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.ctx(r)
	defer cancel()
	tasks, err := h.herder.Tasks(ctx, r.PathValue("connector"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]connect.TaskInfo, len(tasks))
	for i, t := range tasks {
		if t.Config == nil {
			t.Config = map[string]string{}
		}
		out[i] = t
	}
	writeJSON(w, http.StatusOK, out)
}

// getTaskStatus is GET /connectors/{connector}/tasks/{task}/status.
func (h *Handler) getTaskStatus(w http.ResponseWriter, r *http.Request) {
	task, err := taskID(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, cancel := h.ctx(r)
	defer cancel()
	st, err := h.herder.TaskStatus(ctx, r.PathValue("connector"), task)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// restartTask is POST /connectors/{connector}/tasks/{task}/restart: 204.
func (h *Handler) restartTask(w http.ResponseWriter, r *http.Request) {
	task, err := taskID(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, cancel := h.ctx(r)
	defer cancel()
	if err := h.herder.RestartTask(ctx, r.PathValue("connector"), task); err != nil {
		h.fail(w, r, err)
		return
	}
	writeEmpty(w, http.StatusNoContent)
}

// getTopics is GET /connectors/{connector}/topics: Kafka's
// {"<connector>": {"topics": [...]}}; for Tributary the topics are the
// streams the connector has used.
func (h *Handler) getTopics(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("connector")
	ctx, cancel := h.ctx(r)
	defer cancel()
	topics, err := h.herder.Topics(ctx, name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	type activeTopics struct {
		Topics []string `json:"topics"`
	}
	writeJSON(w, http.StatusOK, map[string]activeTopics{name: {fixStrings(topics)}})
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
func (h *Handler) getOffsets(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.ctx(r)
	defer cancel()
	offsets, err := h.herder.Offsets(ctx, r.PathValue("connector"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if offsets == nil {
		offsets = []connect.PartitionOffset{}
	}
	writeJSON(w, http.StatusOK, offsetsBody{offsets})
}

// alterOffsets is PATCH /connectors/{connector}/offsets (KIP-875).
func (h *Handler) alterOffsets(w http.ResponseWriter, r *http.Request) {
	raw, err := readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	offsets, err := decodeOffsets(raw)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(offsets) == 0 {
		h.fail(w, r, badRequest("%s", noOffsetsMessage))
		return
	}
	ctx, cancel := h.ctx(r)
	defer cancel()
	if err := h.herder.AlterOffsets(ctx, r.PathValue("connector"), offsets); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, messageBody{alteredMessage})
}

// resetOffsets is DELETE /connectors/{connector}/offsets (KIP-875).
func (h *Handler) resetOffsets(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.ctx(r)
	defer cancel()
	if err := h.herder.ResetOffsets(ctx, r.PathValue("connector")); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, messageBody{resetMessage})
}
