package connect

import (
	"net/http"
	"sort"
	"strings"

	"github.com/tributary-data/tributary/internal/connect/converter"
	"github.com/tributary-data/tributary/internal/connect/transform"
)

// Registry maps connector class names to plugins. It is built once at
// start-up from the packages that provide connectors, as Kafka's plugin
// path scan is, and read-only afterwards.
type Registry struct {
	connectors map[string]func() Connector
	version    string
}

// NewRegistry returns a registry of the given connector classes, keyed by
// fully qualified class name. version is reported for every plugin.
func NewRegistry(version string, classes map[string]func() Connector) *Registry {
	return &Registry{connectors: classes, version: version}
}

// resolve finds a connector class by the names Kafka accepts: the fully
// qualified class name, its simple name, or the simple name without the
// "Connector" suffix.
func (r *Registry) resolve(class string) (string, func() Connector, bool) {
	class = strings.TrimSpace(class)
	if f, ok := r.connectors[class]; ok {
		return class, f, true
	}
	for full, f := range r.connectors {
		simple := full[strings.LastIndexByte(full, '.')+1:]
		if class == simple || class+"Connector" == simple {
			return full, f, true
		}
	}
	return "", nil, false
}

// newConnector instantiates a connector class, or explains which classes
// exist.
func (r *Registry) newConnector(class string) (string, Connector, error) {
	full, f, ok := r.resolve(class)
	if !ok {
		var names []string
		for n := range r.connectors {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", nil, errorf(http.StatusBadRequest,
			"Failed to find any class that implements Connector and which name matches %s, available connectors are: %s",
			class, strings.Join(names, ", "))
	}
	return full, f(), nil
}

// typeOf is a connector class's type, TypeUnknown when it is not known.
func (r *Registry) typeOf(class string) ConnectorType {
	_, f, ok := r.resolve(class)
	if !ok {
		return TypeUnknown
	}
	return connectorType(f())
}

func connectorType(c Connector) ConnectorType {
	switch c.(type) {
	case SourceConnector:
		return TypeSource
	case SinkConnector:
		return TypeSink
	}
	return TypeUnknown
}

// Plugins lists the plugins for GET /connector-plugins: the connectors,
// and unless connectorsOnly the converters, transforms and predicates.
func (r *Registry) Plugins(connectorsOnly bool) []PluginInfo {
	var out []PluginInfo
	for class, f := range r.connectors {
		out = append(out, PluginInfo{Class: class, Type: string(connectorType(f())), Version: r.version})
	}
	if !connectorsOnly {
		for _, c := range []string{converter.JSONConverterClass, converter.StringConverterClass, converter.ByteArrayConverterClass} {
			out = append(out, PluginInfo{Class: c, Type: "converter", Version: r.version})
		}
		for _, c := range transform.TransformClasses() {
			out = append(out, PluginInfo{Class: c, Type: "transformation", Version: r.version})
		}
		for _, c := range transform.PredicateClasses() {
			out = append(out, PluginInfo{Class: c, Type: "predicate", Version: r.version})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Class < out[j].Class
	})
	return out
}

// PluginConfig returns the settings of a connector class: its own and
// the ones every connector of its type has.
func (r *Registry) PluginConfig(class string) ([]ConfigKeyInfo, error) {
	_, f, ok := r.resolve(class)
	if !ok {
		return nil, errorf(http.StatusNotFound, "Unknown plugin %s.", class)
	}
	c := f()
	def := append(commonDef(connectorType(c)), c.Config()...)
	out := make([]ConfigKeyInfo, len(def))
	for i, k := range def {
		out[i] = k.info()
	}
	return out, nil
}

// info renders a setting's definition in REST form.
func (k ConfigKey) info() ConfigKeyInfo {
	ki := ConfigKeyInfo{
		Name:          k.Name,
		Type:          string(k.Type),
		Required:      k.Required,
		Importance:    string(k.Importance),
		Documentation: k.Documentation,
		Order:         k.Order,
		Width:         string(k.Width),
		DisplayName:   k.DisplayName,
		Dependents:    append([]string{}, k.Dependents...),
	}
	if ki.Width == "" {
		ki.Width = string(WidthNone)
	}
	if ki.Importance == "" {
		ki.Importance = string(Low)
	}
	if ki.DisplayName == "" {
		ki.DisplayName = k.Name
	}
	if !k.Required {
		d := k.Default
		if k.Type == ConfigPassword && d != "" {
			d = hiddenPassword
		}
		ki.DefaultValue = &d
	}
	if k.Group != "" {
		g := k.Group
		ki.Group = &g
	}
	return ki
}
