package datagen

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// Kind is the Go type an expression evaluates to. It is known when the
// configuration is parsed, not when a value is produced, so that a
// topic's Connect schema does not change from one record to the next
// (a null must not turn an INT64 field into a STRING one).
type Kind int

// The kinds of generated values.
const (
	KindString Kind = iota // string
	KindInt                // int64
	KindFloat              // float64
	KindBool               // bool
)

func (k Kind) String() string {
	switch k {
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindBool:
		return "bool"
	}
	return "string"
}

// Template is a parsed "with" value: literal text mixed with Java-Faker
// expressions, e.g. "user-#{Name.username}". Every expression in it has
// been resolved to a provider method and its arguments converted, so
// evaluating a Template cannot fail: all errors surface when the
// configuration is validated, never while a connector is running.
type Template struct {
	src  string
	segs []segment
}

// segment is literal text (call == nil) or one resolved expression.
type segment struct {
	lit  string
	call *call
}

// call is one resolved #{Provider.method 'arg',...}.
type call struct {
	directive string // as written, for messages
	m         *method
	args      []any // converted to the method's argument kinds
}

// evalCtx is what a provider method may use: the generator's seeded
// faker (never gofakeit's global one, so that two generators never share
// random state) and the generator's clock (dates are relative to it, so
// tests can pin them).
type evalCtx struct {
	f   *gofakeit.Faker
	now time.Time
}

// ParseTemplate parses and resolves s. The grammar follows Java-Faker's
// Faker.expression: "#{" directive [ " " args ] "}", where the directive
// is Provider.method (or a bare Faker method such as bothify), and args
// are single-quoted strings separated by commas, e.g.
// #{number.number_between '1','5'}. Provider and method names are
// matched as Java-Faker matches them: case-insensitively, ignoring
// underscores (Name.full_name is Name.fullName).
//
// Unlike Java-Faker, which leaves text it cannot parse or resolve in the
// output verbatim, every "#{" must start a valid, known expression: a
// literal "#{Foo.bar}" in generated data is always a configuration
// mistake, and the MSK generator's users learn of it only by reading
// the data.
func ParseTemplate(s string) (*Template, error) {
	t := &Template{src: s}
	rest := s
	for {
		i := strings.Index(rest, "#{")
		if i < 0 {
			if rest != "" {
				t.segs = append(t.segs, segment{lit: rest})
			}
			return t, nil
		}
		if i > 0 {
			t.segs = append(t.segs, segment{lit: rest[:i]})
		}
		c, n, err := parseCall(rest[i:])
		if err != nil {
			return nil, err
		}
		t.segs = append(t.segs, segment{call: c})
		rest = rest[i+n:]
	}
}

// parseCall parses the expression at the start of s (which begins with
// "#{") and returns it resolved, with the number of bytes it spans.
func parseCall(s string) (*call, int, error) {
	i := 2
	start := i
	for i < len(s) && isDirectiveByte(s[i]) {
		i++
	}
	directive := s[start:i]
	if directive == "" {
		return nil, 0, fmt.Errorf("expression %s: expected Provider.method after #{", excerpt(s))
	}
	var raw []string
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return nil, 0, fmt.Errorf("expression %s: missing closing }", excerpt(s))
		}
		switch s[i] {
		case '}':
			c, err := resolve(directive, raw)
			if err != nil {
				return nil, 0, fmt.Errorf("expression #{%s}: %w", s[2:i], err)
			}
			return c, i + 1, nil
		case ',':
			if len(raw) == 0 {
				return nil, 0, fmt.Errorf("expression %s: unexpected ',' before the first argument", excerpt(s))
			}
			i++
			for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
				i++
			}
			if i >= len(s) || s[i] != '\'' {
				return nil, 0, fmt.Errorf("expression %s: expected a quoted argument after ','", excerpt(s))
			}
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, 0, fmt.Errorf("expression %s: unterminated quoted argument", excerpt(s))
			}
			raw = append(raw, s[i+1:i+1+end])
			i += end + 2
		default:
			return nil, 0, fmt.Errorf("expression %s: unexpected %q (arguments are single-quoted, e.g. #{number.number_between '1','5'})", excerpt(s), s[i])
		}
	}
}

func isDirectiveByte(b byte) bool {
	return b == '_' || b == '.' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// excerpt quotes the start of an expression for an error message.
func excerpt(s string) string {
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return strconv.Quote(s)
}

// normalize is Java-Faker's name matching: case-insensitive, without
// underscores.
func normalize(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// resolve finds the method a directive names, choosing among its
// overloads by argument count and then by which accepts the arguments,
// as Java-Faker's reflective lookup does.
func resolve(directive string, raw []string) (*call, error) {
	provider, name, dotted := strings.Cut(directive, ".")
	var methods map[string][]method
	if !dotted {
		provider, name = "", directive
		methods = rootMethods
	} else {
		if strings.Contains(name, ".") || provider == "" || name == "" {
			return nil, fmt.Errorf("%q is not of the form Provider.method", directive)
		}
		var ok bool
		if methods, ok = providers[normalize(provider)]; !ok {
			return nil, fmt.Errorf("unknown Java-Faker provider %q", provider)
		}
	}
	overloads, ok := methods[normalize(name)]
	if !ok {
		if provider == "" {
			return nil, fmt.Errorf("unknown Java-Faker expression %q (expected Provider.method, or one of bothify, letterify, numerify, regexify)", directive)
		}
		return nil, fmt.Errorf("unknown method %q of Java-Faker provider %q", name, provider)
	}
	var arities []string
	var firstErr error
	for i := range overloads {
		m := &overloads[i]
		arities = append(arities, strconv.Itoa(len(m.args)))
		if len(m.args) != len(raw) {
			continue
		}
		args, err := convertArgs(m, raw)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		return &call{directive: directive, m: m, args: args}, nil
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, fmt.Errorf("%s takes %s argument(s), got %d", directive, strings.Join(arities, " or "), len(raw))
}

// convertArgs converts the quoted arguments to the method's argument
// kinds and runs its own checks (ranges, regular expressions).
func convertArgs(m *method, raw []string) ([]any, error) {
	args := make([]any, len(raw))
	for i, r := range raw {
		v, err := convertArg(m.args[i], strings.TrimSpace(r))
		if err != nil {
			return nil, fmt.Errorf("argument %d %q: %w", i+1, r, err)
		}
		args[i] = v
	}
	if m.check != nil {
		if err := m.check(args); err != nil {
			return nil, err
		}
	}
	return args, nil
}

func convertArg(k argKind, s string) (any, error) {
	switch k {
	case argInt:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("not an integer")
		}
		return v, nil
	case argFloat:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("not a number")
		}
		return v, nil
	case argBool:
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("not true or false")
	case argUnit:
		if d, ok := timeUnits[strings.ToUpper(s)]; ok {
			return d, nil
		}
		return nil, fmt.Errorf("not a java.util.concurrent.TimeUnit (DAYS, HOURS, MINUTES, SECONDS, MILLISECONDS, MICROSECONDS, NANOSECONDS)")
	}
	return s, nil
}

// timeUnits are java.util.concurrent.TimeUnit's constants, the unit
// argument of date.past and date.future.
var timeUnits = map[string]time.Duration{
	"NANOSECONDS":  time.Nanosecond,
	"MICROSECONDS": time.Microsecond,
	"MILLISECONDS": time.Millisecond,
	"SECONDS":      time.Second,
	"MINUTES":      time.Minute,
	"HOURS":        time.Hour,
	"DAYS":         24 * time.Hour,
}

// Kind is the type the template evaluates to: the method's own type
// when the template is exactly one expression, a string otherwise
// (literal text, or several expressions, are concatenated).
func (t *Template) Kind() Kind {
	if len(t.segs) == 1 && t.segs[0].call != nil {
		return t.segs[0].call.m.kind
	}
	return KindString
}

// String returns the template as written.
func (t *Template) String() string { return t.src }

func (t *Template) eval(c *evalCtx) any {
	if len(t.segs) == 1 && t.segs[0].call != nil {
		return t.segs[0].call.eval(c)
	}
	var b strings.Builder
	for _, s := range t.segs {
		if s.call == nil {
			b.WriteString(s.lit)
		} else {
			b.WriteString(javaString(s.call.eval(c)))
		}
	}
	return b.String()
}

func (c *call) eval(ec *evalCtx) any { return c.m.fn(ec, c.args) }

// javaString renders a value as Java's String.valueOf does, which is
// what Java-Faker's expression() returns and so what the MSK generator
// emits for every field.
func javaString(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.ContainsAny(s, ".eEIN") {
			s += ".0"
		}
		return s
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}
