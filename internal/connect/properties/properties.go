// Package properties reads Java .properties files, the format Kafka
// Connect's worker and connector configurations are written in, so that
// the files users already have for Kafka Connect work with Tributary's
// standalone mode and CLI unchanged.
//
// The grammar is java.util.Properties.load's: a logical line is one or
// more natural lines joined by a backslash before the line break (the
// next line's leading white space dropped); lines whose first non-blank
// character is '#' or '!' are comments; the key runs to the first
// unescaped '=', ':' or white space, and one '=' or ':' with the white
// space around it separates it from the value; escapes are \t, \n, \r,
// \f, \uXXXX, and a backslash before any other character stands for that
// character. Later keys replace earlier ones.
//
// Java reads a properties stream as ISO-8859-1. Files today are mostly
// UTF-8, so input that is valid UTF-8 is read as UTF-8 and only other
// input as ISO-8859-1; for ASCII files, the usual case, the two agree.
package properties

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Parse reads properties from r.
func Parse(r io.Reader) (map[string]string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	text := string(b)
	if !utf8.Valid(b) {
		text = latin1(b)
	}
	out := map[string]string{}
	lines := naturalLines(text)
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := trimLeft(lines[i])
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		var logical strings.Builder
		for {
			if !continues(line) {
				logical.WriteString(line)
				break
			}
			logical.WriteString(line[:len(line)-1])
			if i+1 == len(lines) {
				break // a backslash at the end of input is dropped, as in Java
			}
			i++
			line = trimLeft(lines[i])
		}
		key, value, err := split(logical.String())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
		out[key] = value
	}
	return out, nil
}

// ParseFile reads the properties file at path.
func ParseFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// latin1 decodes ISO-8859-1, whose bytes are the first 256 code points.
func latin1(b []byte) string {
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}

// naturalLines splits at "\n", "\r" and "\r\n", as Java's LineReader does.
func naturalLines(s string) []string {
	var lines []string
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
	return lines
}

// isSpace is Java's properties white space: space, tab and form feed.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

func trimLeft(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	return s
}

// continues reports whether line ends with an odd number of backslashes,
// the last escaping the line break.
func continues(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// split divides a logical line into its unescaped key and value.
func split(line string) (key, value string, err error) {
	keyEnd, valueStart := len(line), len(line)
	hasSep := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++ // the escaped character is part of the key
			continue
		}
		if c == '=' || c == ':' {
			keyEnd, valueStart, hasSep = i, i+1, true
			break
		}
		if isSpace(c) {
			keyEnd, valueStart = i, i+1
			break
		}
	}
	for valueStart < len(line) {
		c := line[valueStart]
		if !isSpace(c) {
			if hasSep || (c != '=' && c != ':') {
				break
			}
			hasSep = true
		}
		valueStart++
	}
	if key, err = unescape(line[:keyEnd]); err != nil {
		return "", "", err
	}
	if value, err = unescape(line[valueStart:]); err != nil {
		return "", "", err
	}
	return key, value, nil
}

// unescape resolves the escapes of s. \uXXXX escapes are UTF-16 code
// units, so a surrogate pair written as two escapes is one character.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	var units []uint16 // pending \u escapes
	flush := func() {
		if len(units) > 0 {
			b.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			flush()
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			break // a lone trailing backslash stands for nothing
		}
		c = s[i]
		if c == 'u' {
			if len(s)-(i+1) < 4 {
				return "", fmt.Errorf(`malformed \uxxxx encoding in %q`, s)
			}
			var u uint16
			for _, h := range []byte(s[i+1 : i+5]) {
				d, ok := hexDigit(h)
				if !ok {
					return "", fmt.Errorf(`malformed \uxxxx encoding in %q`, s)
				}
				u = u<<4 | uint16(d)
			}
			units = append(units, u)
			i += 4
			continue
		}
		flush()
		switch c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		default:
			// Any other escaped character stands for itself; it may be
			// the first byte of a multi-byte UTF-8 sequence, whose rest
			// follows unescaped.
			b.WriteByte(c)
		}
	}
	flush()
	return b.String(), nil
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
