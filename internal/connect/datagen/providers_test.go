package datagen

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sampleArgs are arguments valid for every overload of a given arity
// and argument kinds.
func sampleArgs(kinds []argKind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		switch k {
		case argInt:
			out[i] = "3"
			if len(kinds) >= 2 && i == 1 && kinds[0] == argInt {
				out[i] = "8"
			}
		case argFloat:
			out[i] = "2.5"
		case argBool:
			out[i] = "true"
		case argUnit:
			out[i] = "SECONDS"
		default:
			out[i] = "ab#?"
		}
	}
	if len(kinds) == 3 && kinds[2] == argUnit { // past/future(atMost, minimum, unit)
		out[0], out[1] = "8", "3"
	}
	return out
}

// TestEveryProvider evaluates every overload of every method many times:
// it resolves by its own name, takes its sample arguments, and returns a
// value of its declared kind (strings non-empty where Java-Faker's are).
func TestEveryProvider(t *testing.T) {
	c := testCtx(3)
	n := 0
	check := func(directive string, m method) {
		args := sampleArgs(m.args)
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = "'" + a + "'"
		}
		expr := "#{" + directive
		if len(args) > 0 {
			expr += " " + strings.Join(quoted, ",")
		}
		expr += "}"
		tpl, err := ParseTemplate(expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			return
		}
		if tpl.Kind() != m.kind {
			t.Errorf("%s: kind %v, want %v", expr, tpl.Kind(), m.kind)
		}
		for i := 0; i < 50; i++ {
			v := tpl.eval(c)
			ok := false
			switch m.kind {
			case KindString:
				var s string
				s, ok = v.(string)
				ok = ok && (s != "" || strings.Contains(expr, "'0'"))
			case KindInt:
				_, ok = v.(int64)
			case KindFloat:
				_, ok = v.(float64)
			case KindBool:
				_, ok = v.(bool)
			}
			if !ok {
				t.Fatalf("%s = %#v, want a non-empty %v", expr, v, m.kind)
			}
		}
		n++
	}
	for p, ms := range providers {
		for name, ol := range ms {
			for _, m := range ol {
				check(p+"."+name, m)
			}
		}
	}
	for name, ol := range rootMethods {
		for _, m := range ol {
			check(name, m)
		}
	}
	if n < 150 {
		t.Errorf("only %d overloads", n)
	}
	if got := len(Expressions()); got != n {
		t.Errorf("Expressions lists %d, checked %d", got, n)
	}
}

func evalN(t *testing.T, expr string, n int, fn func(v any)) {
	t.Helper()
	tpl, err := ParseTemplate(expr)
	if err != nil {
		t.Fatal(err)
	}
	c := testCtx(11)
	for i := 0; i < n; i++ {
		fn(tpl.eval(c))
	}
}

func TestProviderFormats(t *testing.T) {
	formats := map[string]string{
		"#{Internet.uuid}":              `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`,
		"#{Code.isbn10}":                `^[0-9]{9}[0-9X]$`,
		"#{Code.isbn10 'true'}":         `^[0-9]-[0-9]{4}-[0-9]{4}-[0-9X]$`,
		"#{Code.isbn13}":                `^97[89][0-9]{10}$`,
		"#{Code.ean13}":                 `^[0-9]{13}$`,
		"#{Code.imei}":                  `^[0-9]{15}$`,
		"#{Internet.emailAddress}":      `^[a-z]+\.[a-z]+@(gmail|yahoo|hotmail)\.com$`,
		"#{Internet.email_address 'x'}": `^x@`,
		"#{Internet.url}":               `^www\.[a-z]+\.[a-z]+$`,
		"#{Internet.ipV4Address}":       `^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$`,
		"#{Internet.macAddress}":        `^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$`,
		"#{Name.username}":              `^[a-z]+\.[a-z]+$`,
		"#{Name.full_name}":             `^\S+ \S+$`,
		"#{Address.countryCode}":        `^[A-Z]{2}$`,
		"#{Address.zipCode}":            `^[0-9]{5}$`,
		"#{Commerce.price}":             `^\d+\.\d\d$`,
		"#{Commerce.price '5','6'}":     `^5\.\d\d$`,
		"#{Lorem.characters '15'}":      `^[a-z0-9]{15}$`,
		"#{Lorem.words}":                `^\[\w+, \w+, \w+\]$`,
		"#{Lorem.sentence}":             `^[A-Z]\w*( \w+)+\.$`,
		"#{Lorem.fixedString '12'}":     `^.{12}$`,
		"#{number.digits '6'}":          `^[0-9]{6}$`,
		"#{Color.hex}":                  `^#[0-9a-f]{6}$`,
		"#{Crypto.sha256}":              `^[0-9a-f]{64}$`,
		"#{Finance.creditCard}":         `^\d{4}(-\d{4}){3}$`,
		"#{Finance.iban}":               `^DE\d{20}$`,
		"#{IdNumber.ssnValid}":          `^\d{3}-\d{2}-\d{4}$`,
		"#{Demographic.sex}":            `^[A-Z]`,
		"#{date.birthday}":              `^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}$`,
	}
	for expr, re := range formats {
		rx := regexp.MustCompile(re)
		evalN(t, expr, 200, func(v any) {
			if s, _ := v.(string); !rx.MatchString(s) {
				t.Fatalf("%s = %q, want %s", expr, v, re)
			}
		})
	}
}

func TestISBNChecksums(t *testing.T) {
	evalN(t, "#{Code.isbn10}", 500, func(v any) {
		s := v.(string)
		sum := 0
		for i, r := range s {
			d := int(r - '0')
			if r == 'X' {
				d = 10
			}
			sum += d * (10 - i)
		}
		if sum%11 != 0 {
			t.Fatalf("bad ISBN-10 %s", s)
		}
	})
	evalN(t, "#{Code.isbn13}", 500, func(v any) {
		s := v.(string)
		sum := 0
		for i, r := range s {
			w := 1
			if i%2 == 1 {
				w = 3
			}
			sum += int(r-'0') * w
		}
		if sum%10 != 0 {
			t.Fatalf("bad ISBN-13 %s", s)
		}
	})
}

// TestNumberBetween: Java-Faker's upper bound is exclusive, min == max
// gives min, reversed bounds are swapped; every allowed value occurs.
func TestNumberBetween(t *testing.T) {
	tests := []struct {
		lo, hi   int64
		min, max int64
	}{
		{1, 5, 1, 4},
		{101, 109, 101, 108},
		{7, 7, 7, 7},
		{5, 1, 1, 4},
		{-3, 0, -3, -1},
		{0, 1, 0, 0},
	}
	for _, tc := range tests {
		seen := map[int64]bool{}
		evalN(t, fmt.Sprintf("#{number.number_between '%d','%d'}", tc.lo, tc.hi), 2000, func(v any) {
			n := v.(int64)
			if n < tc.min || n > tc.max {
				t.Fatalf("number_between(%d,%d) = %d", tc.lo, tc.hi, n)
			}
			seen[n] = true
		})
		if int64(len(seen)) != tc.max-tc.min+1 {
			t.Errorf("number_between(%d,%d) produced %v", tc.lo, tc.hi, seen)
		}
	}
	evalN(t, "#{number.randomDigit}", 500, func(v any) {
		if n := v.(int64); n < 0 || n > 9 {
			t.Fatal(n)
		}
	})
	evalN(t, "#{number.randomNumber '4','true'}", 500, func(v any) {
		if n := v.(int64); n < 1000 || n > 9999 {
			t.Fatal(n)
		}
	})
	evalN(t, "#{number.randomDouble '2','1','3'}", 500, func(v any) {
		f := v.(float64)
		if f < 1 || f > 3 || math.Abs(f*100-math.Round(f*100)) > 1e-6 {
			t.Fatal(f)
		}
	})
}

// TestDatePastFuture: dates are Java's Date.toString, strictly inside the
// window and never now (to the second, since the text has seconds).
func TestDatePastFuture(t *testing.T) {
	now := testCtx(0).now
	parse := func(v any) time.Time {
		tm, err := time.Parse(javaDateFormat, v.(string))
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		return tm
	}
	tests := []struct {
		expr   string
		lo, hi time.Time
	}{
		{"#{date.past '10','SECONDS'}", now.Add(-10 * time.Second), now},
		{"#{date.past '2','DAYS'}", now.Add(-48 * time.Hour), now},
		{"#{date.past '10','5','MINUTES'}", now.Add(-10 * time.Minute), now.Add(-5 * time.Minute)},
		{"#{date.future '3','HOURS'}", now, now.Add(3 * time.Hour)},
		{"#{date.birthday '20','30'}", time.Date(now.Year()-30, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(now.Year()-20, 12, 31, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		evalN(t, tc.expr, 500, func(v any) {
			// Date.toString truncates to the second.
			if tm := parse(v); tm.Before(tc.lo.Truncate(time.Second)) || tm.After(tc.hi) {
				t.Fatalf("%s = %v, outside [%v, %v]", tc.expr, tm, tc.lo, tc.hi)
			}
		})
	}
}
