package connect

import (
	"context"
	"fmt"
	"maps"
)

// validateConfig validates a configuration as the registry does, then
// with what only this worker knows: whether its config provider
// placeholders resolve, and whether the files it names are allowed here.
// Messages quote values as written (placeholders, not secrets).
func (h *Herder) validateConfig(ctx context.Context, props map[string]string) (*ConfigInfos, error) {
	deferred := func(k string) bool { return h.providers.HasPlaceholder(props[k]) }
	infos, err := h.cfg.Registry.validate(ctx, props, deferred)
	if err != nil {
		return nil, err
	}
	resolved := maps.Clone(props)
	for k, raw := range props {
		if !deferred(k) {
			continue
		}
		v, _, err := h.providers.resolveValue(raw)
		if err != nil {
			infos.addError(k, fmt.Sprintf("Invalid value %s for configuration %s: %v", raw, k, err))
			delete(resolved, k)
			continue
		}
		resolved[k] = v
	}
	if msg := h.tasksOverLimit(resolved[cfgTasksMax]); msg != "" {
		infos.addError(cfgTasksMax, msg)
	}
	if key, msg := tooLargeToStore(props); msg != "" {
		infos.addError(key, msg)
	}
	if h.cfg.AllowedPaths != nil {
		for _, k := range h.cfg.Registry.fileSettings(props[cfgClass]) {
			v, ok := resolved[k]
			if !ok && props[k] != "" {
				continue // its placeholder failed, reported above
			}
			if err := h.cfg.AllowedPaths.Check(v); err != nil {
				infos.addError(k, fmt.Sprintf("Invalid value %s for configuration %s: %v", props[k], k, err))
			}
		}
	}
	return infos, nil
}

// prepare resolves a connector's or task's configuration and checks its
// files, just before it starts: files are checked again here, resolved,
// because a placeholder or a symlink may point elsewhere now than at
// validation.
func (h *Herder) prepare(conn Connector, raw map[string]string) (*Resolved, error) {
	res, err := h.providers.Resolve(raw)
	if err != nil {
		return nil, err
	}
	res.hidePasswords(conn.Config(), raw, h.providers)
	if fs, ok := conn.(FileSettings); ok && h.cfg.AllowedPaths != nil {
		for _, k := range fs.FileSettings() {
			if err := h.cfg.AllowedPaths.Check(res.Config[k]); err != nil {
				return nil, fmt.Errorf("configuration %s=%s: %w", k, raw[k], err)
			}
		}
	}
	return res, nil
}

// addError attaches a message to key's entry, adding one for a key the
// reply does not list yet.
func (c *ConfigInfos) addError(key, msg string) {
	for i := range c.Configs {
		if c.Configs[i].Value.Name == key {
			c.Configs[i].Value.Errors = append(c.Configs[i].Value.Errors, msg)
			c.ErrorCount++
			return
		}
	}
	k := ConfigKey{Name: key, Type: ConfigString, Importance: Low}
	c.Configs = append(c.Configs, ConfigInfo{Definition: k.info(), Value: ConfigValueInfo{Name: key,
		Errors: []string{msg}, RecommendedValues: []string{}, Visible: true}})
	c.ErrorCount++
}

// fileSettings lists the keys of a connector class that name files.
func (r *Registry) fileSettings(class string) []string {
	_, f, ok := r.resolve(class)
	if !ok {
		return nil
	}
	if fs, ok := f().(FileSettings); ok {
		return fs.FileSettings()
	}
	return nil
}
