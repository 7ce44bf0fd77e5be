package transform

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// config reads one plugin's settings with Kafka ConfigDef's parsing rules
// (LIST splits on commas and trims; BOOLEAN is true/false in any case) and
// reports problems as *ConfigError naming the key.
type config struct {
	props map[string]string
}

func (c *config) lookup(key string) (string, bool) {
	v, ok := c.props[key]
	return v, ok
}

// str returns a STRING setting, or def when absent. Kafka trims STRING
// values.
func (c *config) str(key, def string) string {
	if v, ok := c.props[key]; ok {
		return strings.TrimSpace(v)
	}
	return def
}

// optStr returns a STRING setting with no default (Kafka's null).
func (c *config) optStr(key string) (string, bool) {
	v, ok := c.props[key]
	return strings.TrimSpace(v), ok
}

func (c *config) required(key string) (string, error) {
	v, ok := c.props[key]
	if !ok {
		return "", missing(key)
	}
	return strings.TrimSpace(v), nil
}

func (c *config) nonEmpty(key string) (string, error) {
	v, err := c.required(key)
	if err == nil && v == "" {
		err = invalid(key, v, "String must be non-empty")
	}
	return v, err
}

// list returns a LIST setting, empty when absent.
func (c *config) list(key string) []string { return parseList(c.props[key]) }

// nonEmptyList is a required LIST that must have an element, as Kafka's
// NonEmptyListValidator demands.
func (c *config) nonEmptyList(key string) ([]string, error) {
	v, ok := c.props[key]
	if !ok {
		return nil, missing(key)
	}
	l := parseList(v)
	if len(l) == 0 {
		return nil, invalid(key, v, "Empty list")
	}
	return l, nil
}

func (c *config) boolean(key string, def bool) (bool, error) {
	v, ok := c.props[key]
	if !ok {
		return def, nil
	}
	b, err := parseBool(v)
	if err != nil {
		return false, invalid(key, v, err.Error())
	}
	return b, nil
}

// oneOf is a STRING restricted to options (Kafka's ValidString).
func (c *config) oneOf(key, def string, options ...string) (string, error) {
	v, ok := c.props[key]
	if !ok {
		if def == "" {
			return "", missing(key)
		}
		return def, nil
	}
	v = strings.TrimSpace(v)
	for _, o := range options {
		if v == o {
			return v, nil
		}
	}
	return "", invalid(key, v, "String must be one of: "+strings.Join(options, ", "))
}

// replaceNullWithDefault reads replace.null.with.default, which several
// transforms share: whether a null struct field reads as its default.
func (c *config) replaceNullWithDefault() (bool, error) {
	return c.boolean("replace.null.with.default", true)
}

func missing(key string) error {
	return &ConfigError{Key: key, Message: "Missing required configuration \"" + key + "\" which has no default value."}
}

func invalid(key, value, msg string) error {
	return &ConfigError{Key: key, Value: value, HasValue: true, Message: msg}
}

// parseList splits a Kafka LIST value: comma-separated, whitespace around
// commas ignored, a blank value being the empty list.
func parseList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errors.New("Expected value to be either true or false")
}

// compileJavaRegex compiles a Java regular expression for whole-string
// matching (Java's Matcher.matches). Go's RE2 syntax covers the common
// Java subset; anything else is a configuration error, found now rather
// than on the first record.
func compileJavaRegex(key, pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		if _, err2 := regexp.Compile(pattern); err2 != nil {
			err = err2
		}
		return nil, invalid(key, pattern, "Invalid regex: "+err.Error())
	}
	return re, nil
}

// parseInt is Kafka's INT parsing.
func (c *config) optInt(key string) (int, bool, error) {
	v, ok := c.props[key]
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0, false, invalid(key, v, "Not a number of type INT")
	}
	return int(n), true, nil
}
