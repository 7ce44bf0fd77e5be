package debezium

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The engine keeps DATE, DATETIME and TIME values in MySQL's text form
// (so that zero dates and TIME values beyond a day survive); these
// helpers read them as Debezium's binlog deserializers do.

// dateTime is a parsed DATE or DATETIME: fields as written, which may be
// zero.
type dateTime struct {
	year, month, day, hour, minute, second, nano int
}

// zero reports MySQL's zero dates ("0000-00-00", "2020-00-15"), which
// Debezium reads as null.
func (d dateTime) zero() bool { return d.year == 0 || d.month == 0 || d.day == 0 }

// time returns the value as a UTC instant, failing for impossible dates
// ("2021-02-30", allowed by ALLOW_INVALID_DATES) as Java's LocalDateTime
// does.
func (d dateTime) time() (time.Time, error) {
	t := time.Date(d.year, time.Month(d.month), d.day, d.hour, d.minute, d.second, d.nano, time.UTC)
	if t.Year() != d.year || int(t.Month()) != d.month || t.Day() != d.day ||
		d.hour > 23 || d.minute > 59 || d.second > 59 {
		return time.Time{}, fmt.Errorf("invalid date/time %04d-%02d-%02d %02d:%02d:%02d", d.year, d.month, d.day, d.hour, d.minute, d.second)
	}
	return t, nil
}

// parseDateTime reads "YYYY-MM-DD[ hh:mm:ss[.ffffff]]" (a 'T' also
// separates date and time).
func parseDateTime(s string) (dateTime, error) {
	var d dateTime
	s = strings.TrimSpace(s)
	datePart, timePart, hasTime := strings.Cut(s, " ")
	if !hasTime {
		datePart, timePart, hasTime = strings.Cut(s, "T")
	}
	ymd := strings.Split(datePart, "-")
	if len(ymd) != 3 {
		return d, fmt.Errorf("unexpected format for a date: %q", s)
	}
	var err error
	if d.year, err = atoi(ymd[0]); err == nil {
		if d.month, err = atoi(ymd[1]); err == nil {
			d.day, err = atoi(ymd[2])
		}
	}
	if err != nil {
		return d, fmt.Errorf("unexpected format for a date: %q", s)
	}
	if hasTime {
		neg, h, m, sec, nano, err := parseClock(timePart)
		if err != nil || neg {
			return d, fmt.Errorf("unexpected format for a date and time: %q", s)
		}
		d.hour, d.minute, d.second, d.nano = int(h), m, sec, nano
	}
	return d, nil
}

// parseClock reads "[-]h:mm[:ss[.ffffff]]", hours possibly beyond 24.
func parseClock(s string) (neg bool, hours int64, minutes, seconds, nanos int, err error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	main, frac, hasFrac := strings.Cut(s, ".")
	parts := strings.Split(main, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return false, 0, 0, 0, 0, fmt.Errorf("unexpected format for a time: %q", s)
	}
	if hours, err = strconv.ParseInt(parts[0], 10, 64); err != nil || hours < 0 {
		return false, 0, 0, 0, 0, fmt.Errorf("unexpected format for a time: %q", s)
	}
	if minutes, err = atoi(parts[1]); err != nil {
		return false, 0, 0, 0, 0, fmt.Errorf("unexpected format for a time: %q", s)
	}
	if len(parts) == 3 {
		if seconds, err = atoi(parts[2]); err != nil {
			return false, 0, 0, 0, 0, fmt.Errorf("unexpected format for a time: %q", s)
		}
	}
	if hasFrac {
		if len(frac) == 0 || len(frac) > 9 {
			return false, 0, 0, 0, 0, fmt.Errorf("unexpected format for a time: %q", s)
		}
		f, err := atoi(frac)
		if err != nil {
			return false, 0, 0, 0, 0, fmt.Errorf("unexpected format for a time: %q", s)
		}
		for i := len(frac); i < 9; i++ {
			f *= 10
		}
		nanos = f
	}
	return neg, hours, minutes, seconds, nanos, nil
}

// atoi parses unsigned decimal digits only.
func atoi(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty number")
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not a number: %q", s)
		}
		n = n*10 + int(c-'0')
		if n > 1<<31 {
			return 0, fmt.Errorf("number too large: %q", s)
		}
	}
	return n, nil
}

// timeNanos reads a TIME value as a signed duration in nanoseconds, as
// Debezium's Duration: "-01:30:00" is minus ninety minutes.
func timeNanos(s string) (int64, error) {
	neg, h, m, sec, nano, err := parseClock(s)
	if err != nil {
		return 0, err
	}
	if m > 59 || sec > 59 || h > 1<<20 {
		return 0, fmt.Errorf("unexpected value for a time: %q", s)
	}
	n := ((h*60+int64(m))*60+int64(sec))*int64(time.Second) + int64(nano)
	if neg {
		n = -n
	}
	return n, nil
}

// epochDays is a date's days since 1970-01-01, Debezium's Date.
func epochDays(t time.Time) int32 {
	return int32(t.Unix() / 86400)
}

// isoInstant formats an instant at UTC as Java's
// DateTimeFormatter.ISO_OFFSET_DATE_TIME does: seconds always, the
// fraction only when not zero and without trailing zeros, "Z" for UTC.
func isoInstant(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if ns := t.Nanosecond(); ns != 0 {
		frac := strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
		s += "." + frac
	}
	return s + "Z"
}

// zonedTimestamp formats a TIMESTAMP value as Debezium's ZonedTimestamp:
// with exactly width fraction digits (the column's fractional seconds
// precision) when width is 1 to 9, else as isoInstant.
func zonedTimestamp(t time.Time, width int) string {
	if width <= 0 || width > 9 {
		return isoInstant(t)
	}
	t = t.UTC()
	frac := fmt.Sprintf("%09d", t.Nanosecond())[:width]
	return t.Format("2006-01-02T15:04:05") + "." + frac + "Z"
}
