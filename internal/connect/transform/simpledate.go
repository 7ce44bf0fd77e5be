package transform

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dateFormat is a java.text.SimpleDateFormat pattern, interpreted
// directly rather than translated to a Go layout: Go layouts cannot
// express Java's quoting, its padding widths or its lenient parsing.
// Formatting is always in UTC (Kafka sets the formats' zone to UTC);
// parsing honours a zone in the text (z, Z, X) and otherwise reads UTC.
//
// Supported letters: G y Y M L d D E u a H k K h m s S w W F z Z X, with
// Java's widths (MMM short month, MMMM full month, S milliseconds padded
// to the letter count, ...), and 'quoted text' with ” for a quote. Y
// (week year) is treated as y. Text is English (Locale.ROOT/US).
type dateFormat struct {
	pattern string
	tokens  []dateToken
}

type dateToken struct {
	letter  byte // 0 for literal text
	count   int
	literal string
}

const dateLetters = "GyYMLdDEuaHkKhmsSwWFzZX"

func compileDateFormat(pattern string) (*dateFormat, error) {
	f := &dateFormat{pattern: pattern}
	addLit := func(s string) {
		if n := len(f.tokens); n > 0 && f.tokens[n-1].letter == 0 {
			f.tokens[n-1].literal += s
			return
		}
		f.tokens = append(f.tokens, dateToken{literal: s})
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				addLit("'")
				i += 2
				continue
			}
			var sb strings.Builder
			i++
			closed := false
			for i < len(pattern) {
				if pattern[i] == '\'' {
					if i+1 < len(pattern) && pattern[i+1] == '\'' {
						sb.WriteByte('\'')
						i += 2
						continue
					}
					closed = true
					i++
					break
				}
				sb.WriteByte(pattern[i])
				i++
			}
			if !closed {
				return nil, errors.New("Unterminated quote")
			}
			addLit(sb.String())
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			if !strings.ContainsRune(dateLetters, rune(c)) {
				return nil, fmt.Errorf("Illegal pattern character '%c'", c)
			}
			j := i
			for j < len(pattern) && pattern[j] == c {
				j++
			}
			if c == 'X' && j-i > 3 {
				return nil, fmt.Errorf("invalid ISO 8601 format: length=%d", j-i)
			}
			f.tokens = append(f.tokens, dateToken{letter: c, count: j - i})
			i = j
		default:
			addLit(string(c))
			i++
		}
	}
	return f, nil
}

// longMonths and longDays are functions, not package variables, so no
// caller can change them.
func longMonths() []string {
	return []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
}

func longDays() []string {
	return []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
}

func pad(n, width int) string {
	s := strconv.Itoa(abs(n))
	for len(s) < width {
		s = "0" + s
	}
	if n < 0 {
		s = "-" + s
	}
	return s
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// format renders t (in UTC) by the pattern.
func (f *dateFormat) format(t time.Time) string {
	t = t.UTC()
	var b strings.Builder
	for _, tok := range f.tokens {
		switch {
		case tok.letter == 0:
			b.WriteString(tok.literal)
		case formatDateField(&b, t, tok):
		default:
			formatTimeField(&b, t, tok)
		}
	}
	return b.String()
}

// formatDateField writes a field of the date (era, year, month, day,
// weekday, week); false when tok is none of them.
func formatDateField(b *strings.Builder, t time.Time, tok dateToken) bool {
	n := tok.count
	switch tok.letter {
	case 'G':
		if t.Year() > 0 {
			b.WriteString("AD")
		} else {
			b.WriteString("BC")
		}
	case 'y', 'Y':
		if n == 2 {
			b.WriteString(pad(t.Year()%100, 2))
		} else {
			b.WriteString(pad(t.Year(), n))
		}
	case 'M', 'L':
		switch {
		case n >= 4:
			b.WriteString(longMonths()[t.Month()-1])
		case n == 3:
			b.WriteString(longMonths()[t.Month()-1][:3])
		default:
			b.WriteString(pad(int(t.Month()), n))
		}
	case 'd':
		b.WriteString(pad(t.Day(), n))
	case 'D':
		b.WriteString(pad(t.YearDay(), n))
	case 'E':
		if n >= 4 {
			b.WriteString(longDays()[t.Weekday()])
		} else {
			b.WriteString(longDays()[t.Weekday()][:3])
		}
	case 'u':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		b.WriteString(pad(wd, n))
	case 'w':
		b.WriteString(pad(weekOfYear(t), n))
	case 'W':
		first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		b.WriteString(pad((t.Day()-1+int(first.Weekday()))/7+1, n))
	case 'F':
		b.WriteString(pad((t.Day()-1)/7+1, n))
	default:
		return false
	}
	return true
}

// formatTimeField writes a field of the time of day or the zone (always
// UTC); other letters write nothing.
func formatTimeField(b *strings.Builder, t time.Time, tok dateToken) {
	n := tok.count
	switch tok.letter {
	case 'a':
		if t.Hour() < 12 {
			b.WriteString("AM")
		} else {
			b.WriteString("PM")
		}
	case 'H':
		b.WriteString(pad(t.Hour(), n))
	case 'k':
		h := t.Hour()
		if h == 0 {
			h = 24
		}
		b.WriteString(pad(h, n))
	case 'K':
		b.WriteString(pad(t.Hour()%12, n))
	case 'h':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		b.WriteString(pad(h, n))
	case 'm':
		b.WriteString(pad(t.Minute(), n))
	case 's':
		b.WriteString(pad(t.Second(), n))
	case 'S':
		// Java's S is the millisecond count, not a fraction.
		b.WriteString(pad(t.Nanosecond()/1e6, n))
	case 'z':
		if n >= 4 {
			b.WriteString("Coordinated Universal Time")
		} else {
			b.WriteString("UTC")
		}
	case 'Z':
		b.WriteString("+0000")
	case 'X':
		b.WriteString("Z")
	}
}

// weekOfYear is Java's week of year for the US convention: weeks start
// on Sunday and week 1 is the one containing January 1st.
func weekOfYear(t time.Time) int {
	wd := int(t.Weekday())
	nextJan1 := time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
	if days := int(nextJan1.Sub(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)).Hours() / 24); wd+days <= 6 {
		return 1
	}
	jan1 := time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	return (t.YearDay()-1+int(jan1.Weekday()))/7 + 1
}

func isNumericToken(t dateToken) bool {
	switch t.letter {
	case 'y', 'Y', 'd', 'D', 'u', 'H', 'k', 'K', 'h', 'm', 's', 'S', 'w', 'W', 'F':
		return true
	case 'M', 'L':
		return t.count <= 2
	}
	return false
}

// parse reads a time as Java's lenient SimpleDateFormat.parse(String):
// out-of-range fields roll over, numbers not followed directly by another
// number may have any width, and text after the pattern is ignored.
func (f *dateFormat) parse(s string) (time.Time, error) {
	d := parsedDate{year: 1970, month: 1, day: 1, loc: time.UTC}
	pos := 0
	for i, tok := range f.tokens {
		var ok bool
		switch {
		case tok.letter == 0:
			ok = strings.HasPrefix(s[pos:], tok.literal)
			pos += len(tok.literal)
		case isNumericToken(tok):
			width := 0
			if i+1 < len(f.tokens) && isNumericToken(f.tokens[i+1]) {
				width = tok.count
			}
			pos, ok = d.number(s, pos, width, tok)
		default:
			var l int
			l, ok = d.text(s[pos:], tok)
			pos += l
		}
		if !ok {
			return time.Time{}, errors.New("unparseable date")
		}
	}
	return d.time(), nil
}

// parsedDate is the fields a parse has read so far.
type parsedDate struct {
	year, month, day, yday  int
	hour, minute, sec, ms   int
	pm, hasAmPm, hour12, bc bool
	loc                     *time.Location
}

// number reads a numeric field at s[pos:]: at most width digits (any
// number when width is 0, and then a sign too). It returns where reading
// goes on, and false when there is no number.
func (d *parsedDate) number(s string, pos, width int, tok dateToken) (int, bool) {
	start := pos
	neg := false
	if pos < len(s) && (s[pos] == '-' || s[pos] == '+') && width == 0 {
		neg = s[pos] == '-'
		pos++
	}
	digits := pos
	for pos < len(s) && s[pos] >= '0' && s[pos] <= '9' && (width == 0 || pos-digits < width) {
		pos++
	}
	if pos == digits {
		return pos, false
	}
	n, err := strconv.Atoi(s[digits:pos])
	if err != nil {
		return pos, false
	}
	if neg {
		n = -n
	}
	switch tok.letter {
	case 'y', 'Y':
		d.year = n
		if tok.count <= 2 && pos-start == 2 {
			d.year = twoDigitYear(n)
		}
	case 'M', 'L':
		d.month = n
	case 'd':
		d.day = n
	case 'D':
		d.yday = n
	case 'H':
		d.hour = n
	case 'k':
		d.hour = n % 24
	case 'K':
		d.hour, d.hour12 = n, true
	case 'h':
		d.hour, d.hour12 = n%12, true
	case 'm':
		d.minute = n
	case 's':
		d.sec = n
	case 'S':
		d.ms = n
	}
	return pos, true
}

// text reads a text field (month or day name, AM/PM, era, zone) at the
// start of rest; it returns its length, and false when none matches.
func (d *parsedDate) text(rest string, tok dateToken) (int, bool) {
	var n, l int
	switch tok.letter {
	case 'M', 'L':
		n, l = matchName(rest, longMonths())
		d.month = n + 1
	case 'E':
		n, l = matchName(rest, longDays())
	case 'a':
		n, l = matchName(rest, []string{"AM", "PM"})
		d.pm, d.hasAmPm = n == 1, true
	case 'G':
		n, l = matchName(rest, []string{"BC", "AD"})
		d.bc = n == 0
	case 'z', 'Z', 'X':
		z, zl, ok := parseZone(rest)
		if !ok {
			return 0, false
		}
		d.loc = z
		return zl, true
	}
	return l, n >= 0
}

// time is the instant the fields name, in UTC, rolling over
// out-of-range fields as Java's lenient calendar does.
func (d *parsedDate) time() time.Time {
	hour, year := d.hour, d.year
	if d.hasAmPm && d.pm && d.hour12 {
		hour += 12
	}
	if d.bc {
		year = 1 - year
	}
	var t time.Time
	if d.yday > 0 && d.month == 1 && d.day == 1 {
		t = time.Date(year, 1, d.yday, hour, d.minute, d.sec, d.ms*1e6, d.loc)
	} else {
		t = time.Date(year, time.Month(d.month), d.day, hour, d.minute, d.sec, d.ms*1e6, d.loc)
	}
	return t.UTC()
}

// twoDigitYear places a two-digit year within 80 years before and 20
// years after now, as SimpleDateFormat's default century does.
func twoDigitYear(n int) int {
	start := time.Now().UTC().Year() - 80
	y := start/100*100 + n
	if y < start {
		y += 100
	}
	return y
}

// matchName matches the longest of names, or its three-letter short
// form, at the start of s, ignoring case. It returns the index and the
// length matched, or -1.
func matchName(s string, names []string) (int, int) {
	best, bestLen := -1, 0
	for i, n := range names {
		for _, cand := range []string{n, n[:min(3, len(n))]} {
			if len(cand) > bestLen && len(s) >= len(cand) && strings.EqualFold(s[:len(cand)], cand) {
				best, bestLen = i, len(cand)
			}
		}
	}
	return best, bestLen
}

// parseZone reads Z, UTC, GMT, GMT±h[h][:mm], ±hh, ±hhmm or ±hh:mm.
func parseZone(s string) (*time.Location, int, bool) {
	pos := 0
	switch {
	case strings.HasPrefix(s, "Z"):
		return time.UTC, 1, true
	case strings.HasPrefix(s, "UTC"), strings.HasPrefix(s, "GMT"):
		pos = 3
		if pos >= len(s) || (s[pos] != '+' && s[pos] != '-') {
			return time.UTC, pos, true
		}
	}
	if pos >= len(s) || (s[pos] != '+' && s[pos] != '-') {
		return nil, 0, false
	}
	sign := 1
	if s[pos] == '-' {
		sign = -1
	}
	pos++
	d := pos
	for pos < len(s) && pos-d < 4 && s[pos] >= '0' && s[pos] <= '9' {
		pos++
	}
	var h, m int
	switch pos - d {
	case 1, 2:
		h, _ = strconv.Atoi(s[d:pos])
		if pos+2 < len(s) && s[pos] == ':' && isDigit(s[pos+1]) && isDigit(s[pos+2]) {
			m, _ = strconv.Atoi(s[pos+1 : pos+3])
			pos += 3
		}
	case 4:
		h, _ = strconv.Atoi(s[d : d+2])
		m, _ = strconv.Atoi(s[d+2 : d+4])
	default:
		return nil, 0, false
	}
	if h > 23 || m > 59 {
		return nil, 0, false
	}
	return time.FixedZone("", sign*(h*3600+m*60)), pos, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
