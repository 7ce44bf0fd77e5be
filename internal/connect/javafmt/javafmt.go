// Package javafmt renders values the way the JVM does. Kafka Connect's
// converters and transforms are Java, and their output (StringConverter's
// text, Cast to string, JSON numbers) shows Java's formatting; matching it
// keeps Tributary's records identical to a Kafka Connect worker's.
package javafmt

import (
	"math"
	"strconv"
	"strings"
)

// Float formats f as Java's Double.toString (bits 64) or
// Float.toString (bits 32) do since JDK 19: the shortest digits that
// identify the value, at least two of them, in plain notation for
// magnitudes in [1e-3, 1e7) and in computerized scientific notation
// ("1.0E7", "1.0E-4") otherwise.
func Float(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	s := strconv.FormatFloat(f, 'e', -1, bits)
	mant, expStr, _ := strings.Cut(s, "e")
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	digits := strings.Replace(mant, ".", "", 1)
	if len(digits) == 1 {
		// Java always shows two digits and, given the choice, picks
		// the two-digit decimal closest to the value (4.9E-324, not
		// 5.0E-324). Only subnormals make that differ from "d0".
		s = strconv.FormatFloat(f, 'e', 1, bits)
		mant, expStr, _ = strings.Cut(s, "e")
		mant = strings.TrimPrefix(mant, "-")
		digits = strings.Replace(mant, ".", "", 1)
	}
	exp, _ := strconv.Atoi(expStr)
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		digits = "0"
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		if exp < 0 {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -exp-1))
			b.WriteString(digits)
		} else {
			intLen := exp + 1
			if len(digits) <= intLen {
				b.WriteString(digits)
				b.WriteString(strings.Repeat("0", intLen-len(digits)))
				b.WriteString(".0")
			} else {
				b.WriteString(digits[:intLen])
				b.WriteByte('.')
				b.WriteString(digits[intLen:])
			}
		}
		return b.String()
	}
	b.WriteByte(digits[0])
	b.WriteByte('.')
	if len(digits) > 1 {
		b.WriteString(digits[1:])
	} else {
		b.WriteByte('0')
	}
	b.WriteByte('E')
	b.WriteString(strconv.Itoa(exp))
	return b.String()
}
