package connect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/tributary-data/tributary/internal/connect/properties"
)

// Kafka's class names for the config providers Tributary has; a worker
// names them in config.providers.<alias>.class.
const (
	FileConfigProviderClass   = "org.apache.kafka.common.config.provider.FileConfigProvider"
	EnvVarConfigProviderClass = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
)

// placeholderRE is Kafka's ConfigTransformer pattern, ${provider:[path:]key},
// except that no part may contain "}": Kafka's (.*?) lets a path run on
// into the next placeholder of "${env:HOST}:${env:PORT}".
var placeholderRE = regexp.MustCompile(`\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}`)

// configProvider is one configured provider: Kafka's ConfigProvider.get
// for the keys asked for. A key it does not have is an error here (Kafka
// would leave the placeholder in place, handing a connector the text
// "${env:DB_PASSWORD}" as a password).
type configProvider interface {
	get(path string, keys []string) (map[string]string, error)
}

// ConfigProviders resolves the placeholders of connector configurations
// with the providers a worker configures, as Kafka's WorkerConfigTransformer
// does:
//
//	config.providers=file,env
//	config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
//	config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
//
// so that a connector configuration says password=${env:DB_PASSWORD} or
// ${file:/etc/tributary/db.properties:password} and the secret is read when
// the connector or task starts. The stored configuration, and so
// everything the REST API returns, keeps the placeholder. A nil or empty
// *ConfigProviders resolves nothing, as a Kafka worker without
// config.providers does.
type ConfigProviders struct {
	byAlias map[string]configProvider
	// unrestricted are the aliases configured without their allow-list
	// parameter (allowed.paths, allowlist.pattern): through them anyone
	// who may create a connector reads any file or variable the worker can.
	unrestricted []string
}

// Unrestricted lists the providers configured without an allow-list, in
// the order config.providers names them, so the worker can warn of them.
func (p *ConfigProviders) Unrestricted() []string { return p.unrestricted }

// NewConfigProviders builds the providers a worker's properties configure.
func NewConfigProviders(worker map[string]string) (*ConfigProviders, error) {
	p := &ConfigProviders{byAlias: map[string]configProvider{}}
	for _, alias := range splitList(worker["config.providers"]) {
		prefix := "config.providers." + alias
		class := strings.TrimSpace(worker[prefix+".class"])
		params := withPrefix(worker, prefix+".param.")
		var (
			cp   configProvider
			err  error
			open bool
		)
		switch class {
		case "":
			return nil, fmt.Errorf("%s.class: missing; config.providers lists %s", prefix, alias)
		case FileConfigProviderClass:
			cp, err = newFileProvider(params)
			open = strings.TrimSpace(params["allowed.paths"]) == ""
		case EnvVarConfigProviderClass:
			cp, err = newEnvProvider(params, os.Environ())
			_, restricted := params["allowlist.pattern"]
			open = !restricted
		default:
			return nil, fmt.Errorf("%s.class: unknown config provider %s; Tributary has %s and %s", prefix, class, FileConfigProviderClass, EnvVarConfigProviderClass)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", prefix, err)
		}
		p.byAlias[alias] = cp
		if open {
			p.unrestricted = append(p.unrestricted, alias)
		}
	}
	return p, nil
}

// placeholder is one ${provider:[path:]key}, at v[start:end] of the
// value it was found in.
type placeholder struct {
	start, end                int
	text, provider, path, key string
}

// placeholders lists the placeholders in v that name a configured
// provider, in order. Others, such as TimestampRouter's ${topic}, are
// text.
func (p *ConfigProviders) placeholders(v string) []placeholder {
	if p == nil || len(p.byAlias) == 0 {
		return nil
	}
	var out []placeholder
	// m holds the bounds of the match, then of each group: provider,
	// "path:", path and key.
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(v, -1) {
		provider := v[m[2]:m[3]]
		if _, ok := p.byAlias[provider]; !ok {
			continue
		}
		ph := placeholder{start: m[0], end: m[1], text: v[m[0]:m[1]], provider: provider, key: v[m[8]:m[9]]}
		if m[6] >= 0 {
			ph.path = v[m[6]:m[7]]
		}
		out = append(out, ph)
	}
	return out
}

// HasPlaceholder reports whether a configuration value refers to a
// configured provider.
func (p *ConfigProviders) HasPlaceholder(v string) bool { return len(p.placeholders(v)) > 0 }

// Resolved is a configuration with its placeholders replaced.
type Resolved struct {
	Config map[string]string
	// Secrets are the values that replaced placeholders, for Redact.
	Secrets []string
}

// Resolve replaces every placeholder of a configured provider in config's
// values. Text around a placeholder stays ("jdbc:${env:HOST}/db"). An
// error names the key and the placeholder, never a resolved value.
func (p *ConfigProviders) Resolve(config map[string]string) (*Resolved, error) {
	out := &Resolved{Config: maps.Clone(config)}
	if out.Config == nil {
		out.Config = map[string]string{}
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(config)) {
		v, secrets, err := p.resolveValue(config[k])
		if err != nil {
			errs = append(errs, fmt.Errorf("configuration %s: %w", k, err))
			continue
		}
		out.Config[k] = v
		out.Secrets = append(out.Secrets, secrets...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// Longest first, so that redacting a secret that contains another
	// hides all of it.
	sort.Slice(out.Secrets, func(i, j int) bool { return len(out.Secrets[i]) > len(out.Secrets[j]) })
	return out, nil
}

// resolveValue resolves the placeholders in one value, returning it and
// the non-empty values that replaced them. The error names the first
// placeholder that failed.
func (p *ConfigProviders) resolveValue(v string) (string, []string, error) {
	phs := p.placeholders(v)
	if len(phs) == 0 {
		return v, nil, nil
	}
	var (
		b       strings.Builder
		secrets []string
		last    int
	)
	for _, ph := range phs {
		val, err := p.lookup(ph)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", ph.text, err)
		}
		b.WriteString(v[last:ph.start])
		b.WriteString(val)
		last = ph.end
		if val != "" {
			secrets = append(secrets, val)
		}
	}
	b.WriteString(v[last:])
	return b.String(), secrets, nil
}

func (p *ConfigProviders) lookup(ph placeholder) (string, error) {
	got, err := p.byAlias[ph.provider].get(ph.path, []string{ph.key})
	if err != nil {
		return "", err
	}
	v, ok := got[ph.key]
	if !ok {
		return "", fmt.Errorf("no key %q", ph.key)
	}
	return v, nil
}

// hidePasswords adds the values of def's PASSWORD settings written into
// the configuration itself (raw, without a provider's placeholder, whose
// resolved part is a secret already) to the secrets Redact hides: a
// failure trace quoting one would otherwise be shown by the status API
// and stored, in plain text, in the connector's status record, which is
// not sealed.
func (r *Resolved) hidePasswords(def ConfigDef, raw map[string]string, p *ConfigProviders) {
	for _, k := range def {
		v := r.Config[k.Name]
		if k.Type == ConfigPassword && v != "" && !p.HasPlaceholder(raw[k.Name]) && !slices.Contains(r.Secrets, v) {
			r.Secrets = append(r.Secrets, v)
		}
	}
	sort.Slice(r.Secrets, func(i, j int) bool { return len(r.Secrets[i]) > len(r.Secrets[j]) })
}

// Redact replaces the resolved secrets in text (a failure's trace, a log
// message) with a marker, so that what a connector reports never carries
// them.
func (r *Resolved) Redact(text string) string {
	if r == nil {
		return text
	}
	for _, s := range r.Secrets {
		text = strings.ReplaceAll(text, s, "[hidden]")
	}
	return text
}

// Unresolve puts back the placeholders of raw into a configuration a
// connector derived from the resolved one (its task configurations), as
// Kafka's reverseTransform does: a key whose raw value has a placeholder
// keeps the placeholder, so resolved secrets are never stored.
func (p *ConfigProviders) Unresolve(raw, derived map[string]string) map[string]string {
	out := maps.Clone(derived)
	for k := range out {
		if rv, ok := raw[k]; ok && p.HasPlaceholder(rv) {
			out[k] = rv
		}
	}
	return out
}

// fileProvider is Kafka's FileConfigProvider: the path is a properties
// file, the key one of its keys. With allowed.paths (comma-separated
// directories or files) only files under them may be read.
type fileProvider struct {
	allowed *AllowedPaths
}

func newFileProvider(params map[string]string) (*fileProvider, error) {
	fp := &fileProvider{}
	if v, ok := params["allowed.paths"]; ok && strings.TrimSpace(v) != "" {
		ap, err := newAllowedFiles(splitList(v))
		if err != nil {
			return nil, fmt.Errorf("param.allowed.paths: %w", err)
		}
		fp.allowed = ap
	}
	return fp, nil
}

// newAllowedFiles is NewAllowedPaths for allowed.paths, whose entries
// Kafka requires to be absolute and existing, and which may name files.
func newAllowedFiles(entries []string) (*AllowedPaths, error) {
	p := &AllowedPaths{}
	for _, e := range entries {
		if !strings.HasPrefix(e, "/") {
			return nil, fmt.Errorf("path %s is not valid: the path should be absolute and exist", e)
		}
		real, err := resolveExisting(e)
		if err != nil {
			return nil, fmt.Errorf("path %s: %w", e, err)
		}
		if _, err := os.Stat(real); err != nil {
			return nil, fmt.Errorf("path %s is not valid: the path should be absolute and exist", e)
		}
		p.dirs = append(p.dirs, real)
	}
	return p, nil
}

// maxPropertiesFile bounds what the file provider reads: a properties
// file of secrets is small, and /dev/zero must not fill the worker's
// memory.
const maxPropertiesFile = 8 << 20

// readProperties is properties.ParseFile for the file provider, which
// resolves placeholders with the worker's lock held: it refuses, without
// blocking, what is not a regular file (a FIFO or a device would hang or
// exhaust the worker), and files over maxPropertiesFile bytes. Its errors
// are causes without the path, and never quote the file: a parse error
// would quote a line, which may be a secret or, for a file a REST user
// names, anything on the server.
func readProperties(path string) (map[string]string, error) {
	// O_NONBLOCK: opening a FIFO for reading waits for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, errors.New("cannot stat it")
	case !fi.Mode().IsRegular():
		return nil, errors.New("not a regular file")
	case fi.Size() > maxPropertiesFile:
		return nil, fmt.Errorf("larger than %d bytes", maxPropertiesFile)
	}
	props, err := properties.Parse(io.LimitReader(f, maxPropertiesFile))
	if err != nil {
		return nil, errors.New("not a valid properties file")
	}
	return props, nil
}

func (f *fileProvider) get(path string, keys []string) (map[string]string, error) {
	if path == "" {
		return nil, errors.New("the file provider needs a path: ${file:/path/to/file.properties:key}")
	}
	if f.allowed != nil {
		if err := f.allowed.Check(path); err != nil {
			return nil, fmt.Errorf("%s is not allowed by config.providers.<alias>.param.allowed.paths", path)
		}
	}
	props, err := readProperties(path)
	if err != nil {
		// Kafka's text; the cause (missing, unreadable, ...) after it.
		return nil, fmt.Errorf("could not read properties from file %s: %w", path, err)
	}
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := props[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

// envProvider is Kafka's EnvVarConfigProvider: the key is an environment
// variable of the worker's process; allowlist.pattern (a regular
// expression the whole name must match) limits which.
type envProvider struct {
	vars map[string]string
}

func newEnvProvider(params map[string]string, environ []string) (*envProvider, error) {
	allow := regexp.MustCompile(`^(?:.*)$`)
	if pat, ok := params["allowlist.pattern"]; ok {
		re, err := regexp.Compile(`^(?:` + pat + `)$`)
		if err != nil {
			return nil, fmt.Errorf("param.allowlist.pattern: %w", err)
		}
		allow = re
	}
	ep := &envProvider{vars: map[string]string{}}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && allow.MatchString(k) {
			ep.vars[k] = v
		}
	}
	return ep, nil
}

func (e *envProvider) get(path string, keys []string) (map[string]string, error) {
	if path != "" {
		// Kafka's text.
		return nil, fmt.Errorf("path is not supported for EnvVarConfigProvider, invalid value '%s'", path)
	}
	out := map[string]string{}
	for _, k := range keys {
		v, ok := e.vars[k]
		if !ok {
			return nil, fmt.Errorf("environment variable %s is not set (or not allowed by allowlist.pattern)", k)
		}
		out[k] = v
	}
	return out, nil
}
