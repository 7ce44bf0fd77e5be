package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tributary-data/tributary/internal/connect"
)

// queryBoolDefault reads a boolean query parameter with a default, as
// Jersey does for a primitive with @DefaultValue: absent or blank gives
// the default, otherwise "true" in any case is true.
func queryBoolDefault(r *http.Request, key string, def bool) bool {
	v := strings.TrimSpace(r.URL.Query().Get(key))
	if v == "" {
		return def
	}
	return strings.EqualFold(v, "true")
}

// listPlugins is GET /connector-plugins; connectorsOnly defaults to true,
// as in Kafka, so that only source and sink connectors are listed.
func (h *Handler) listPlugins(_ context.Context, r *http.Request) (reply, error) {
	plugins := h.herder.Plugins(queryBoolDefault(r, "connectorsOnly", true))
	if plugins == nil {
		plugins = []connect.PluginInfo{}
	}
	return okJSON(plugins), nil
}

// pluginConfig is GET /connector-plugins/{plugin}/config: the plugin's
// settings.
func (h *Handler) pluginConfig(_ context.Context, r *http.Request) (reply, error) {
	keys, err := h.herder.PluginConfig(r.PathValue("plugin"))
	out := make([]connect.ConfigKeyInfo, len(keys))
	for i, k := range keys {
		out[i] = fixKey(k)
	}
	return okJSON(out), err
}

func fixKey(k connect.ConfigKeyInfo) connect.ConfigKeyInfo {
	k.Dependents = fixStrings(k.Dependents)
	return k
}

// pluginAlias is Kafka's normalizedPluginName: a name ending in
// "Connector" without it, so that "FileStreamSource" and
// "org.apache.kafka.connect.file.FileStreamSourceConnector" match.
func pluginAlias(name string) string {
	const suffix = "Connector"
	if strings.HasSuffix(name, suffix) && len(name) > len(suffix) {
		return name[:len(name)-len(suffix)]
	}
	return name
}

// validate is PUT /connector-plugins/{plugin}/config/validate. A
// connector.class in the body must name the plugin in the path (in full
// or by alias); the herder does the rest.
func (h *Handler) validate(ctx context.Context, r *http.Request, cfg map[string]string) (reply, error) {
	plugin := r.PathValue("plugin")
	if included, ok := cfg["connector.class"]; ok && !strings.HasSuffix(pluginAlias(included), pluginAlias(plugin)) {
		return reply{}, badRequest("Included connector type %s does not match request type %s", included, plugin)
	}
	infos, err := h.herder.Validate(ctx, plugin, cfg)
	if err != nil {
		return reply{}, err
	}
	if infos == nil {
		return okJSON(json.RawMessage("null")), nil
	}
	c := *infos
	c.Groups = fixStrings(c.Groups)
	c.Configs = make([]connect.ConfigInfo, len(infos.Configs))
	for i, ci := range infos.Configs {
		ci.Definition = fixKey(ci.Definition)
		ci.Value.RecommendedValues = fixStrings(ci.Value.RecommendedValues)
		ci.Value.Errors = fixStrings(ci.Value.Errors)
		c.Configs[i] = ci
	}
	return okJSON(&c), nil
}
