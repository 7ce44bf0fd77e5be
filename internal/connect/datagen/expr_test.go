package datagen

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

func testCtx(seed uint64) *evalCtx {
	return &evalCtx{
		f:   gofakeit.NewFaker(rand.NewPCG(seed, seed), false),
		now: time.Date(2024, 3, 5, 12, 0, 0, 0, time.UTC),
	}
}

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		in       string
		segs     int // number of segments
		calls    int
		kind     Kind
		wantArgs []any // args of the first call
		match    string
	}{
		{in: "plain text", segs: 1, calls: 0, kind: KindString, match: `^plain text$`},
		{in: "", segs: 0, calls: 0, kind: KindString, match: `^$`},
		{in: "#{Internet.uuid}", segs: 1, calls: 1, kind: KindString, match: `^[0-9a-f-]{36}$`},
		{in: "user-#{Name.username}", segs: 2, calls: 1, kind: KindString, match: `^user-[a-z]+\.[a-z]+$`},
		{in: "#{Name.first_name} #{Name.last_name}!", segs: 4, calls: 2, kind: KindString, match: `^\S+ \S+!$`},
		{in: "#{number.number_between '1','5'}", segs: 1, calls: 1, kind: KindInt, wantArgs: []any{int64(1), int64(5)}},
		{in: "#{number.number_between '1', '5'}", segs: 1, calls: 1, kind: KindInt, wantArgs: []any{int64(1), int64(5)}},
		{in: "#{number.number_between'1''5'}", segs: 1, calls: 1, kind: KindInt, wantArgs: []any{int64(1), int64(5)}},
		{in: "n=#{number.number_between '1','5'}", segs: 2, calls: 1, kind: KindString, match: `^n=[1-4]$`},
		{in: "#{NUMBER.NumberBetween '-3','3'}", segs: 1, calls: 1, kind: KindInt, wantArgs: []any{int64(-3), int64(3)}},
		{in: "#{date.past '10','SECONDS'}", segs: 1, calls: 1, kind: KindString, wantArgs: []any{int64(10), time.Second}},
		{in: "#{regexify '[a-z]{4}'}", segs: 1, calls: 1, kind: KindString, match: `^[a-z]{4}$`},
		{in: "#{bothify '??-##'}", segs: 1, calls: 1, kind: KindString, match: `^[a-z]{2}-[0-9]{2}$`},
		{in: "#{Lorem.characters '15'}", segs: 1, calls: 1, kind: KindString, match: `^[a-z0-9]{15}$`},
		{in: "#{Bool.bool}", segs: 1, calls: 1, kind: KindBool},
		{in: "a#b{c}#", segs: 1, calls: 0, kind: KindString, match: `^a#b\{c\}#$`},
		{in: "#{letterify 'x}y'}", segs: 1, calls: 1, kind: KindString, match: `^x\}y$`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			tpl, err := ParseTemplate(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			for _, s := range tpl.segs {
				if s.call != nil {
					calls++
				}
			}
			if len(tpl.segs) != tc.segs || calls != tc.calls {
				t.Fatalf("segments %d calls %d, want %d %d", len(tpl.segs), calls, tc.segs, tc.calls)
			}
			if tpl.Kind() != tc.kind {
				t.Fatalf("kind %v, want %v", tpl.Kind(), tc.kind)
			}
			if tc.wantArgs != nil {
				got := tpl.segs[0].call.args
				if len(got) != len(tc.wantArgs) {
					t.Fatalf("args %v, want %v", got, tc.wantArgs)
				}
				for i := range got {
					if got[i] != tc.wantArgs[i] {
						t.Fatalf("args %v, want %v", got, tc.wantArgs)
					}
				}
			}
			if tpl.String() != tc.in {
				t.Fatalf("String %q", tpl.String())
			}
			if tc.match != "" {
				v := tpl.eval(testCtx(1))
				if !regexp.MustCompile(tc.match).MatchString(v.(string)) {
					t.Fatalf("%q does not match %s", v, tc.match)
				}
			}
		})
	}
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"#{Foo.bar}", `unknown Java-Faker provider "Foo"`},
		{"#{Name.nope}", `unknown method "nope" of Java-Faker provider "Name"`},
		{"#{nope}", `unknown Java-Faker expression "nope"`},
		{"#{Name.first.name}", "not of the form Provider.method"},
		{"#{.x}", "not of the form"},
		{"#{}", "expected Provider.method"},
		{"#{Internet.uuid", "missing closing }"},
		{"x #{number.number_between '1','5'", "missing closing }"},
		{"#{number.number_between '1,'5'}", "unexpected"},
		{"#{number.number_between '1}", "unterminated quoted argument"},
		{"#{number.number_between '1'}", "takes 2 argument(s), got 1"},
		{"#{Internet.uuid '1'}", "takes 0 argument(s), got 1"},
		{"#{number.number_between 'a','5'}", `argument 1 "a": not an integer`},
		{"#{date.past '10','FORTNIGHTS'}", "TimeUnit"},
		{"#{date.past '0','SECONDS'}", "atMost must be positive"},
		{"#{date.past '1','NANOSECONDS'}", "at least 2 milliseconds"},
		{"#{date.past '5','9','SECONDS'}", "minimum must be"},
		{"#{Lorem.characters '-1'}", "must be between"},
		{"#{Lorem.characters '99999999999'}", "must be between"},
		{"#{regexify '[a-'}", "bad regular expression"},
		{"#{number.number_between , '1'}", "unexpected ','"},
		{"#{number.number_between '1',}", "expected a quoted argument"},
		{"#{Name.first_name x}", "unexpected"},
		{"#{number.random_number '99','true'}", "must be between 1 and 18"},
		{"#{Code.isbn10 'maybe'}", "not true or false"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseTemplate(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// FuzzParseTemplate: no input makes parsing or evaluation panic, and
// whatever parses evaluates to its declared kind.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{
		"#{Internet.uuid}", "user-#{Name.username}", "#{number.number_between '1','5'}",
		"#{date.past '10','SECONDS'}", "#{regexify '(a|b){2,5}'}", "#{", "#{a.b 'x',", "''}#{}",
		"#{Lorem.characters '3','5'}", "#{date.future '2','1','DAYS'}", "#{number.random_double '2','1','10'}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tpl, err := ParseTemplate(s)
		if err != nil {
			return
		}
		v := tpl.eval(testCtx(7))
		ok := false
		switch tpl.Kind() {
		case KindString:
			_, ok = v.(string)
		case KindInt:
			_, ok = v.(int64)
		case KindFloat:
			_, ok = v.(float64)
		case KindBool:
			_, ok = v.(bool)
		}
		if !ok {
			t.Fatalf("%q evaluated to %T, declared %v", s, v, tpl.Kind())
		}
	})
}

func TestJavaString(t *testing.T) {
	for v, want := range map[any]string{nil: "null", "s": "s", int64(-4): "-4", 2.5: "2.5", 3.0: "3.0", true: "true"} {
		if got := javaString(v); got != want {
			t.Errorf("javaString(%v) = %q, want %q", v, got, want)
		}
	}
}
