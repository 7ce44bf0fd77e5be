package datagen

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"math"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/brianvoe/gofakeit/v7"
)

// This file is the table of Java-Faker (1.0.2, the version the MSK Data
// Generator bundles) providers and methods that expressions may name,
// each backed by gofakeit or, where gofakeit has nothing that matches
// Java-Faker's output format, a few lines of our own. Names are keyed
// normalized (lower case, no underscores) because Java-Faker resolves
// them that way. The tables are built once and never written to.

type argKind int

const (
	argString argKind = iota
	argInt
	argFloat
	argBool
	argUnit // java.util.concurrent.TimeUnit, as a time.Duration
)

// method is one overload of a provider method.
type method struct {
	args  []argKind
	kind  Kind
	check func(args []any) error // argument checks beyond their kinds
	fn    func(c *evalCtx, args []any) any
}

// str wraps a gofakeit method that takes no arguments.
func str(fn func(*gofakeit.Faker) string) []method {
	return []method{{kind: KindString, fn: func(c *evalCtx, _ []any) any { return fn(c.f) }}}
}

// strc wraps a function of the whole context that takes no arguments.
func strc(fn func(c *evalCtx) string) []method {
	return []method{{kind: KindString, fn: func(c *evalCtx, _ []any) any { return fn(c) }}}
}

// pick chooses one of a fixed list, for Java-Faker lists gofakeit lacks.
func pick(list ...string) []method {
	return strc(func(c *evalCtx) string { return list[c.f.IntN(len(list))] })
}

func lower(fn func(*gofakeit.Faker) string) []method {
	return str(func(f *gofakeit.Faker) string { return strings.ToLower(fn(f)) })
}

// overloads concatenates the overloads of one method name.
func overloads(ms ...[]method) []method {
	var all []method
	for _, m := range ms {
		all = append(all, m...)
	}
	return all
}

// count checks that the integer arguments at the given positions lie in
// [lo, hi], so that no argument can make a method allocate without
// bound or divide by zero.
func count(lo, hi int64, positions ...int) func([]any) error {
	return func(args []any) error {
		for _, p := range positions {
			if v := args[p].(int64); v < lo || v > hi {
				return fmt.Errorf("argument %d must be between %d and %d, got %d", p+1, lo, hi, v)
			}
		}
		return nil
	}
}

// randRange returns a uniform integer in [lo, hi).
func randRange(c *evalCtx, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + int64(c.f.Uint64()%uint64(hi-lo))
}

func digits(c *evalCtx, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + c.f.IntN(10))
	}
	return string(b)
}

func alnum(c *evalCtx, n int, upper bool) string {
	const lowerSet = "abcdefghijklmnopqrstuvwxyz0123456789"
	const upperSet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	set := lowerSet
	if upper {
		set = upperSet
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = set[c.f.IntN(len(set))]
	}
	return string(b)
}

func capitalize(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}

// javaDateFormat is java.util.Date.toString()'s "EEE MMM dd HH:mm:ss zzz
// yyyy": Java-Faker's dates are Dates, and Faker.expression renders them
// with toString, so that is the text the MSK generator writes.
const javaDateFormat = "Mon Jan 02 15:04:05 MST 2006"

func javaDate(t time.Time) string { return t.UTC().Format(javaDateFormat) }

// pastFuture implements DateAndTime.past/future(atMost, [minimum,] unit):
// a time at least minimum and less than atMost units away from now, and
// (as in Java-Faker) never now itself.
func pastFuture(sign int64, withMin bool) []method {
	args := []argKind{argInt, argUnit}
	if withMin {
		args = []argKind{argInt, argInt, argUnit}
	}
	return []method{{
		args: args,
		kind: KindString,
		check: func(a []any) error {
			unit := a[len(a)-1].(time.Duration)
			atMost := a[0].(int64)
			if atMost <= 0 || atMost > math.MaxInt32 || time.Duration(atMost)*unit/time.Millisecond < 2 || time.Duration(atMost)*unit/unit != time.Duration(atMost) {
				return fmt.Errorf("atMost must be positive and span at least 2 milliseconds and at most about 292 years, got %d", atMost)
			}
			if withMin {
				if minimum := a[1].(int64); minimum < 0 || minimum >= atMost {
					return fmt.Errorf("minimum must be at least 0 and less than atMost (%d), got %d", atMost, minimum)
				}
			}
			return nil
		},
		fn: func(c *evalCtx, a []any) any {
			unit := a[len(a)-1].(time.Duration)
			upper := int64(time.Duration(a[0].(int64)) * unit / time.Millisecond)
			lo := int64(1)
			if withMin {
				lo = int64(time.Duration(a[1].(int64)) * unit / time.Millisecond)
				if lo < 1 {
					lo = 1
				}
			}
			ms := randRange(c, lo, upper)
			return javaDate(c.now.Add(time.Duration(sign*ms) * time.Millisecond))
		},
	}}
}

// birthday is DateAndTime.birthday([minAge, maxAge]): a day between 1
// January maxAge years ago and 31 December minAge years ago.
func birthday(c *evalCtx, minAge, maxAge int64) string {
	y := c.now.UTC().Year()
	from := time.Date(y-int(maxAge), 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(y-int(minAge), 12, 31, 0, 0, 0, 0, time.UTC)
	ms := randRange(c, 0, to.Sub(from).Milliseconds()+1)
	return javaDate(from.Add(time.Duration(ms) * time.Millisecond))
}

func isbn10(c *evalCtx, sep bool) string {
	d := digits(c, 9)
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * (10 - i)
	}
	check := (11 - sum%11) % 11
	cs := strconv.Itoa(check)
	if check == 10 {
		cs = "X"
	}
	if sep {
		return d[:1] + "-" + d[1:5] + "-" + d[5:] + "-" + cs
	}
	return d + cs
}

func isbn13(c *evalCtx, sep bool) string {
	d := "978" + digits(c, 9)
	cs := strconv.Itoa(eanCheck(d))
	if sep {
		return d[:3] + "-" + d[3:4] + "-" + d[4:8] + "-" + d[8:] + "-" + cs
	}
	return d + cs
}

// eanCheck is the EAN/GTIN check digit of the digits before it.
func eanCheck(d string) int {
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		w := 3
		if (len(d)-1-i)%2 == 1 {
			w = 1
		}
		sum += int(d[i]-'0') * w
	}
	return (10 - sum%10) % 10
}

// luhn completes digits with a Luhn check digit (IMEI, card numbers).
func luhn(d string) string {
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if (len(d)-1-i)%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return d + strconv.Itoa((10-sum%10)%10)
}

// iban builds a German-format IBAN with a correct ISO 7064 check.
func iban(c *evalCtx) string {
	bban := digits(c, 18)
	rearranged := bban + "131400" // "DE" as digits, then "00"
	rem := 0
	for _, ch := range rearranged {
		rem = (rem*10 + int(ch-'0')) % 97
	}
	return fmt.Sprintf("DE%02d%s", 98-rem, bban)
}

func dashed4(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func cardNumber(c *evalCtx) string {
	prefix := []string{"4", "51", "52", "55", "6011"}[c.f.IntN(5)]
	return dashed4(luhn(prefix + digits(c, 15-len(prefix))))
}

func hashOf(c *evalCtx, h func([]byte) []byte) string {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(c.f.IntN(256))
	}
	return hex.EncodeToString(h(b))
}

// username is Java-Faker's Name.username: first.last, lower case.
func username(c *evalCtx) string {
	clean := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "'", "")) }
	return clean(c.f.FirstName()) + "." + clean(c.f.LastName())
}

var domainSuffixes = []string{"com", "biz", "info", "name", "net", "org", "io", "co"}

func domainWord(c *evalCtx) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, c.f.LastName()))
}

func domainName(c *evalCtx) string {
	return domainWord(c) + "." + domainSuffixes[c.f.IntN(len(domainSuffixes))]
}

func loremWords(c *evalCtx, n int) []string {
	w := make([]string, n)
	for i := range w {
		w[i] = c.f.LoremIpsumWord()
	}
	return w
}

func sentence(c *evalCtx, words int64) string {
	return c.f.LoremIpsumSentence(int(words))
}

func paragraph(c *evalCtx, sentences int64) string {
	s := make([]string, sentences)
	for i := range s {
		s[i] = sentence(c, 3+int64(c.f.IntN(7)))
	}
	return strings.Join(s, " ")
}

func characters(c *evalCtx, n int64, upper bool) string {
	if !upper {
		return alnum(c, int(n), false)
	}
	const set = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = set[c.f.IntN(len(set))]
	}
	return string(b)
}

// javaList renders a List<String> as Java's toString does: "[a, b, c]".
func javaList(s []string) string { return "[" + strings.Join(s, ", ") + "]" }

func password(c *evalCtx, lo, hi int64) string {
	return alnum(c, int(randRange(c, lo, hi)), false)
}

// bothify replaces '#' with digits and '?' with lower-case letters.
func bothify(c *evalCtx, s string, digitsToo, letters bool) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '#' && digitsToo:
			b.WriteByte(byte('0' + c.f.IntN(10)))
		case r == '?' && letters:
			b.WriteByte(byte('a' + c.f.IntN(26)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// intOf wraps an integer-valued generator.
func intOf(fn func(c *evalCtx, a []any) int64, check func([]any) error, args ...argKind) []method {
	return []method{{args: args, kind: KindInt, check: check, fn: func(c *evalCtx, a []any) any { return fn(c, a) }}}
}

// strOf wraps a string generator that takes arguments.
func strOf(fn func(c *evalCtx, a []any) string, check func([]any) error, args ...argKind) []method {
	return []method{{args: args, kind: KindString, check: check, fn: func(c *evalCtx, a []any) any { return fn(c, a) }}}
}

// numberBetween is Number.numberBetween(min, max): Java-Faker's upper
// bound is exclusive (numberBetween(1, 5) is 1 to 4), min == max gives
// min, and reversed bounds are swapped rather than rejected.
func numberBetween(c *evalCtx, a []any) int64 {
	lo, hi := a[0].(int64), a[1].(int64)
	if lo > hi {
		lo, hi = hi, lo
	}
	return randRange(c, lo, hi)
}

func randomNumber(c *evalCtx, n int64, strict bool) int64 {
	hi := int64(math.Pow10(int(n)))
	lo := int64(0)
	if strict {
		lo = hi / 10
	}
	return randRange(c, lo, hi)
}

func randomDouble(c *evalCtx, a []any) any {
	dec, lo, hi := a[0].(int64), a[1].(int64), a[2].(int64)
	if lo > hi {
		lo, hi = hi, lo
	}
	v := float64(lo) + c.f.Float64()*float64(hi-lo)
	p := math.Pow10(int(dec))
	return math.Round(v*p) / p
}

func price(c *evalCtx, lo, hi float64) string {
	if lo > hi {
		lo, hi = hi, lo
	}
	return strconv.FormatFloat(lo+c.f.Float64()*(hi-lo), 'f', 2, 64)
}

var validRegex = func(a []any) error {
	s := a[0].(string)
	if len(s) > 1000 {
		return fmt.Errorf("regular expression longer than 1000 bytes")
	}
	if _, err := syntax.Parse(s, syntax.Perl); err != nil {
		return fmt.Errorf("bad regular expression: %v", err)
	}
	return nil
}

// providers are Java-Faker's provider classes, by normalized name.
var providers = map[string]map[string][]method{
	"address": {
		"city":                str((*gofakeit.Faker).City),
		"cityname":            str((*gofakeit.Faker).City),
		"cityprefix":          pick("North", "East", "West", "South", "New", "Lake", "Port"),
		"citysuffix":          pick("town", "ton", "land", "ville", "berg", "burgh", "borough", "bury", "view", "port", "mouth", "stad", "furt", "chester", "fort", "haven", "side", "shire"),
		"state":               str((*gofakeit.Faker).State),
		"stateabbr":           str((*gofakeit.Faker).StateAbr),
		"country":             str((*gofakeit.Faker).Country),
		"countrycode":         str((*gofakeit.Faker).CountryAbr),
		"streetname":          str((*gofakeit.Faker).StreetName),
		"streetaddressnumber": str((*gofakeit.Faker).StreetNumber),
		"buildingnumber":      str((*gofakeit.Faker).StreetNumber),
		"streetsuffix":        str((*gofakeit.Faker).StreetSuffix),
		"streetprefix":        str((*gofakeit.Faker).StreetPrefix),
		"secondaryaddress": strc(func(c *evalCtx) string {
			return bothify(c, []string{"Apt. ###", "Suite ###"}[c.f.IntN(2)], true, false)
		}),
		"zipcode":        str((*gofakeit.Faker).Zip),
		"zipcodebystate": strOf(func(c *evalCtx, _ []any) string { return c.f.Zip() }, nil, argString),
		"timezone":       str((*gofakeit.Faker).TimeZoneRegion),
		"firstname":      str((*gofakeit.Faker).FirstName),
		"lastname":       str((*gofakeit.Faker).LastName),
		"latitude":       strc(func(c *evalCtx) string { return strconv.FormatFloat(c.f.Latitude(), 'f', 8, 64) }),
		"longitude":      strc(func(c *evalCtx) string { return strconv.FormatFloat(c.f.Longitude(), 'f', 8, 64) }),
		"streetaddress":  overloads(str((*gofakeit.Faker).Street), strOf(streetAddress, nil, argBool)),
		"fulladdress": strc(func(c *evalCtx) string {
			return c.f.Street() + ", " + c.f.City() + ", " + c.f.StateAbr() + " " + c.f.Zip()
		}),
		"streetaddresssuffix":  str((*gofakeit.Faker).StreetSuffix),
		"countybyzipcode":      str((*gofakeit.Faker).City),
		"cityandstate":         strc(func(c *evalCtx) string { return c.f.City() + ", " + c.f.State() }),
		"statecode":            str((*gofakeit.Faker).StateAbr),
		"countrycodealpha2":    str((*gofakeit.Faker).CountryAbr),
		"postcode":             str((*gofakeit.Faker).Zip),
		"streetnumberandname":  str((*gofakeit.Faker).Street),
		"secondaryaddressunit": strc(func(c *evalCtx) string { return bothify(c, "Apt. ###", true, false) }),
	},
	"animal": {"name": lower((*gofakeit.Faker).Animal)},
	"app": {
		"name":    str((*gofakeit.Faker).AppName),
		"version": str((*gofakeit.Faker).AppVersion),
		"author":  str((*gofakeit.Faker).AppAuthor),
	},
	"artist": {"name": str((*gofakeit.Faker).SongArtist)},
	"aviation": {
		"aircraft": str((*gofakeit.Faker).AirlineAircraftType),
		"airport":  str((*gofakeit.Faker).AirlineAirportIATA),
	},
	"beer": {
		"name":  str((*gofakeit.Faker).BeerName),
		"style": str((*gofakeit.Faker).BeerStyle),
		"hop":   str((*gofakeit.Faker).BeerHop),
		"yeast": str((*gofakeit.Faker).BeerYeast),
		"malt":  str((*gofakeit.Faker).BeerMalt),
	},
	"book": {
		"title":     str((*gofakeit.Faker).BookTitle),
		"author":    str((*gofakeit.Faker).BookAuthor),
		"genre":     str((*gofakeit.Faker).BookGenre),
		"publisher": pick("Penguin Books", "HarperCollins", "Simon & Schuster", "Macmillan", "Hachette", "Scholastic", "Random House", "Bloomsbury", "Faber and Faber", "Vintage", "Tor Books", "Orbit"),
	},
	"bool": {"bool": {{kind: KindBool, fn: func(c *evalCtx, _ []any) any { return c.f.Bool() }}}},
	"business": {
		"creditcardnumber": strc(cardNumber),
		"creditcardtype":   lower((*gofakeit.Faker).CreditCardType),
		"creditcardexpiry": strc(func(c *evalCtx) string {
			return c.now.UTC().AddDate(int(randRange(c, 1, 5)), c.f.IntN(12), 0).Format("2006-01-02")
		}),
	},
	"cat": {
		"name":  str((*gofakeit.Faker).PetName),
		"breed": str((*gofakeit.Faker).Cat),
	},
	"code": {
		"isbn10":         overloads(strc(func(c *evalCtx) string { return isbn10(c, false) }), strOf(func(c *evalCtx, a []any) string { return isbn10(c, a[0].(bool)) }, nil, argBool)),
		"isbn13":         overloads(strc(func(c *evalCtx) string { return isbn13(c, false) }), strOf(func(c *evalCtx, a []any) string { return isbn13(c, a[0].(bool)) }, nil, argBool)),
		"isbngroup":      pick("0", "1"),
		"isbnregistrant": strc(func(c *evalCtx) string { return digits(c, 4) + "-" + digits(c, 3) }),
		"isbngs1":        pick("978", "979"),
		"asin":           strc(func(c *evalCtx) string { return "B000" + alnum(c, 6, true) }),
		"imei":           strc(func(c *evalCtx) string { return luhn(digits(c, 14)) }),
		"ean8":           strc(func(c *evalCtx) string { d := digits(c, 7); return d + strconv.Itoa(eanCheck(d)) }),
		"gtin8":          strc(func(c *evalCtx) string { d := digits(c, 7); return d + strconv.Itoa(eanCheck(d)) }),
		"ean13":          strc(func(c *evalCtx) string { d := digits(c, 12); return d + strconv.Itoa(eanCheck(d)) }),
		"gtin13":         strc(func(c *evalCtx) string { d := digits(c, 12); return d + strconv.Itoa(eanCheck(d)) }),
	},
	"color": {
		"name": str((*gofakeit.Faker).SafeColor),
		"hex":  overloads(lower((*gofakeit.Faker).HexColor), strOf(func(c *evalCtx, a []any) string { return strings.ToLower(c.f.HexColor()) }, nil, argBool)),
	},
	"commerce": {
		"color":         str((*gofakeit.Faker).SafeColor),
		"department":    strc(func(c *evalCtx) string { return capitalize(c.f.ProductCategory()) }),
		"productname":   str((*gofakeit.Faker).ProductName),
		"material":      strc(func(c *evalCtx) string { return capitalize(c.f.ProductMaterial()) }),
		"price":         overloads(strc(func(c *evalCtx) string { return price(c, 1, 100) }), strOf(func(c *evalCtx, a []any) string { return price(c, a[0].(float64), a[1].(float64)) }, nil, argFloat, argFloat)),
		"promotioncode": overloads(strc(func(c *evalCtx) string { return c.f.HipsterWord() + digits(c, 6) }), strOf(func(c *evalCtx, a []any) string { return c.f.HipsterWord() + digits(c, int(a[0].(int64))) }, count(0, 100, 0), argInt)),
	},
	"company": {
		"name":       str((*gofakeit.Faker).Company),
		"suffix":     str((*gofakeit.Faker).CompanySuffix),
		"industry":   pick("Computer Software", "Banking", "Retail", "Hospitality", "Logistics and Supply Chain", "Telecommunications", "Insurance", "Automotive", "Food & Beverages", "Health Care", "Publishing", "Oil & Energy", "Real Estate", "Airlines/Aviation", "Biotechnology"),
		"profession": lower((*gofakeit.Faker).JobTitle),
		"buzzword":   str((*gofakeit.Faker).BuzzWord),
		"catchphrase": strc(func(c *evalCtx) string {
			return capitalize(c.f.BuzzWord()) + " " + c.f.HackerAdjective() + " " + c.f.HackerNoun()
		}),
		"bs":  str((*gofakeit.Faker).BS),
		"url": strc(func(c *evalCtx) string { return "www." + domainName(c) }),
	},
	"crypto": {
		"md5":  strc(func(c *evalCtx) string { return hashOf(c, func(b []byte) []byte { s := md5.Sum(b); return s[:] }) }),
		"sha1": strc(func(c *evalCtx) string { return hashOf(c, func(b []byte) []byte { s := sha1.Sum(b); return s[:] }) }),
		"sha256": strc(func(c *evalCtx) string {
			return hashOf(c, func(b []byte) []byte { s := sha256.Sum256(b); return s[:] })
		}),
		"sha512": strc(func(c *evalCtx) string {
			return hashOf(c, func(b []byte) []byte { s := sha512.Sum512(b); return s[:] })
		}),
	},
	"currency": {
		"name": str((*gofakeit.Faker).CurrencyLong),
		"code": str((*gofakeit.Faker).CurrencyShort),
	},
	"date": {
		"past":   overloads(pastFuture(-1, false), pastFuture(-1, true)),
		"future": overloads(pastFuture(1, false), pastFuture(1, true)),
		"birthday": overloads(strc(func(c *evalCtx) string { return birthday(c, 18, 65) }),
			strOf(func(c *evalCtx, a []any) string { return birthday(c, a[0].(int64), a[1].(int64)) }, func(a []any) error {
				if err := count(0, 200, 0, 1)(a); err != nil {
					return err
				}
				if a[0].(int64) > a[1].(int64) {
					return fmt.Errorf("minAge %d is greater than maxAge %d", a[0], a[1])
				}
				return nil
			}, argInt, argInt)),
	},
	"demographic": {
		"sex":                   strc(func(c *evalCtx) string { return capitalize(c.f.Gender()) }),
		"maritalstatus":         pick("Single", "Married", "Divorced", "Widowed", "Separated", "Domestic Partnership"),
		"race":                  pick("American Indian or Alaska Native", "Asian", "Black or African American", "Native Hawaiian or Other Pacific Islander", "White"),
		"educationalattainment": pick("No schooling completed", "High school graduate", "Some college", "Associate degree", "Bachelor's degree", "Master's degree", "Professional degree", "Doctorate degree"),
		"demonym":               str((*gofakeit.Faker).Country),
	},
	"dog": {
		"name":  str((*gofakeit.Faker).PetName),
		"breed": str((*gofakeit.Faker).Dog),
		"sound": pick("woof", "woof woof", "bow wow", "ruff", "owooooo", "grrrrrr"),
		"size":  pick("small", "medium", "large", "extra large"),
	},
	"educator": {
		"university": strc(func(c *evalCtx) string { return c.f.LastName() + " University" }),
		"campus":     strc(func(c *evalCtx) string { return c.f.City() + " Campus" }),
	},
	"file": {
		"extension": str((*gofakeit.Faker).FileExtension),
		"mimetype":  str((*gofakeit.Faker).FileMimeType),
		"filename": strc(func(c *evalCtx) string {
			return c.f.LoremIpsumWord() + "/" + c.f.LoremIpsumWord() + "." + c.f.FileExtension()
		}),
	},
	"finance": {
		"creditcard": strc(cardNumber),
		"bic":        strc(func(c *evalCtx) string { return strings.ToUpper(c.f.LetterN(4)) + c.f.CountryAbr() + alnum(c, 2, true) }),
		"iban":       strc(iban),
	},
	"food": {
		"fruit":      str((*gofakeit.Faker).Fruit),
		"vegetable":  str((*gofakeit.Faker).Vegetable),
		"dish":       str((*gofakeit.Faker).Dinner),
		"ingredient": str((*gofakeit.Faker).Vegetable),
	},
	"hacker": {
		"abbreviation": str((*gofakeit.Faker).HackerAbbreviation),
		"adjective":    str((*gofakeit.Faker).HackerAdjective),
		"noun":         str((*gofakeit.Faker).HackerNoun),
		"verb":         str((*gofakeit.Faker).HackerVerb),
		"ingverb":      str((*gofakeit.Faker).HackeringVerb),
	},
	"hipster": {"word": str((*gofakeit.Faker).HipsterWord)},
	"idnumber": {
		"valid":    strc(func(c *evalCtx) string { return ssn(c) }),
		"ssnvalid": strc(func(c *evalCtx) string { return ssn(c) }),
	},
	"internet": {
		"uuid":             str((*gofakeit.Faker).UUID),
		"emailaddress":     overloads(strc(func(c *evalCtx) string { return email(c, username(c)) }), strOf(func(c *evalCtx, a []any) string { return email(c, a[0].(string)) }, nil, argString)),
		"safeemailaddress": strc(func(c *evalCtx) string { return username(c) + "@example." + []string{"com", "org", "net"}[c.f.IntN(3)] }),
		"domainname":       strc(domainName),
		"domainword":       strc(domainWord),
		"domainsuffix":     pick(domainSuffixes...),
		"url":              strc(func(c *evalCtx) string { return "www." + domainName(c) }),
		"ipv4address":      str((*gofakeit.Faker).IPv4Address),
		"ipv6address":      str((*gofakeit.Faker).IPv6Address),
		"privateipv4address": strc(func(c *evalCtx) string {
			return fmt.Sprintf("10.%d.%d.%d", c.f.IntN(256), c.f.IntN(256), c.f.IntN(256))
		}),
		"publicipv4address": strc(func(c *evalCtx) string {
			return fmt.Sprintf("%d.%d.%d.%d", []int{1, 8, 23, 34, 52, 64, 81, 99, 104, 151, 185, 203}[c.f.IntN(12)], c.f.IntN(256), c.f.IntN(256), 1+c.f.IntN(254))
		}),
		"ipv4cidr":     strc(func(c *evalCtx) string { return c.f.IPv4Address() + "/" + strconv.Itoa(1+c.f.IntN(32)) }),
		"ipv6cidr":     strc(func(c *evalCtx) string { return c.f.IPv6Address() + "/" + strconv.Itoa(1+c.f.IntN(128)) }),
		"macaddress":   str((*gofakeit.Faker).MacAddress),
		"password":     overloads(strc(func(c *evalCtx) string { return password(c, 8, 16) }), strOf(func(c *evalCtx, a []any) string { return password(c, a[0].(int64), a[1].(int64)) }, minMax(0, 10000), argInt, argInt)),
		"slug":         strc(func(c *evalCtx) string { return strings.Join(loremWords(c, 2), "_") }),
		"useragentany": str((*gofakeit.Faker).UserAgent),
		"avatar": strc(func(c *evalCtx) string {
			return "https://s3.amazonaws.com/uifaces/faces/twitter/" + strings.ReplaceAll(username(c), ".", "") + "/128.jpg"
		}),
	},
	"job": {
		"title":     strc(func(c *evalCtx) string { return c.f.JobDescriptor() + " " + c.f.JobLevel() + " " + c.f.JobTitle() }),
		"field":     str((*gofakeit.Faker).JobLevel),
		"seniority": pick("Lead", "Senior", "Direct", "Corporate", "Dynamic", "Future", "Product", "National", "Regional", "District", "Central", "Global", "Customer", "Investor", "International", "Legacy", "Forward", "Internal", "Chief", "Principal"),
		"position":  str((*gofakeit.Faker).JobTitle),
		"keyskills": pick("Teamwork", "Communication", "Problem solving", "Leadership", "Organisation", "Work under pressure", "Confidence", "Self-motivated", "Networking skills", "Proactive", "Fast learner", "Technical savvy"),
	},
	"lorem": {
		"character": strc(func(c *evalCtx) string { return alnum(c, 1, false) }),
		"characters": overloads(
			strc(func(c *evalCtx) string { return characters(c, 255, false) }),
			strOf(func(c *evalCtx, a []any) string { return characters(c, a[0].(int64), false) }, count(0, 100000, 0), argInt),
			strOf(func(c *evalCtx, a []any) string { return characters(c, 255, a[0].(bool)) }, nil, argBool),
			strOf(func(c *evalCtx, a []any) string {
				return characters(c, randRange(c, a[0].(int64), a[1].(int64)), false)
			}, minMax(0, 100000), argInt, argInt),
			strOf(func(c *evalCtx, a []any) string { return characters(c, a[0].(int64), a[1].(bool)) }, count(0, 100000, 0), argInt, argBool),
		),
		"word": str((*gofakeit.Faker).LoremIpsumWord),
		"words": overloads(strc(func(c *evalCtx) string { return javaList(loremWords(c, 3)) }),
			strOf(func(c *evalCtx, a []any) string { return javaList(loremWords(c, int(a[0].(int64)))) }, count(0, 10000, 0), argInt)),
		"sentence": overloads(strc(func(c *evalCtx) string { return sentence(c, 3+int64(c.f.IntN(7))) }),
			strOf(func(c *evalCtx, a []any) string { return sentence(c, a[0].(int64)+int64(c.f.IntN(7))) }, count(1, 10000, 0), argInt),
			strOf(func(c *evalCtx, a []any) string { return sentence(c, a[0].(int64)+randRange(c, 0, a[1].(int64)+1)) }, count(0, 10000, 0, 1), argInt, argInt)),
		"sentences": strOf(func(c *evalCtx, a []any) string {
			s := make([]string, a[0].(int64))
			for i := range s {
				s[i] = sentence(c, 3+int64(c.f.IntN(7)))
			}
			return javaList(s)
		}, count(0, 1000, 0), argInt),
		"paragraph": overloads(strc(func(c *evalCtx) string { return paragraph(c, 3+int64(c.f.IntN(4))) }),
			strOf(func(c *evalCtx, a []any) string { return paragraph(c, a[0].(int64)+int64(c.f.IntN(4))) }, count(1, 1000, 0), argInt)),
		"fixedstring": strOf(func(c *evalCtx, a []any) string {
			return fixedString(c, a[0].(int64))
		}, count(0, 100000, 0), argInt),
	},
	"music": {
		"genre":      str((*gofakeit.Faker).SongGenre),
		"instrument": pick("Electric Guitar", "Acoustic Guitar", "Flute", "Trumpet", "Clarinet", "Cello", "Harp", "Xylophone", "Harmonica", "Accordion", "Organ", "Piano", "Ukelele", "Saxophone", "Drums", "Violin", "Bass Guitar"),
		"key":        pick("C", "C#", "Db", "D", "D#", "Eb", "E", "F", "F#", "Gb", "G", "G#", "Ab", "A", "A#", "Bb", "B"),
		"chord": strc(func(c *evalCtx) string {
			return []string{"C", "D", "E", "F", "G", "A", "B"}[c.f.IntN(7)] + []string{"", "maj", "6", "maj7", "m", "m7", "-7", "7", "dom7", "dim", "dim7", "m7b5"}[c.f.IntN(12)]
		}),
	},
	"name": {
		"fullname":       strc(func(c *evalCtx) string { return c.f.FirstName() + " " + c.f.LastName() }),
		"name":           strc(func(c *evalCtx) string { return c.f.FirstName() + " " + c.f.LastName() }),
		"namewithmiddle": strc(func(c *evalCtx) string { return c.f.FirstName() + " " + c.f.MiddleName() + " " + c.f.LastName() }),
		"firstname":      str((*gofakeit.Faker).FirstName),
		"lastname":       str((*gofakeit.Faker).LastName),
		"prefix":         str((*gofakeit.Faker).NamePrefix),
		"suffix":         str((*gofakeit.Faker).NameSuffix),
		"title":          strc(func(c *evalCtx) string { return c.f.JobDescriptor() + " " + c.f.JobLevel() + " " + c.f.JobTitle() }),
		"username":       strc(username),
		"bloodgroup":     pick("O-", "O+", "A-", "A+", "B-", "B+", "AB-", "AB+"),
	},
	"nation": {
		"language":    str((*gofakeit.Faker).Language),
		"nationality": str((*gofakeit.Faker).Country),
	},
	"number": {
		"numberbetween":      intOf(numberBetween, nil, argInt, argInt),
		"randomdigit":        intOf(func(c *evalCtx, _ []any) int64 { return int64(c.f.IntN(10)) }, nil),
		"randomdigitnotzero": intOf(func(c *evalCtx, _ []any) int64 { return int64(1 + c.f.IntN(9)) }, nil),
		"randomnumber": overloads(intOf(func(c *evalCtx, _ []any) int64 { return randomNumber(c, randRange(c, 1, 11), false) }, nil),
			intOf(func(c *evalCtx, a []any) int64 { return randomNumber(c, a[0].(int64), a[1].(bool)) }, count(1, 18, 0), argInt, argBool)),
		"randomdouble": {{args: []argKind{argInt, argInt, argInt}, kind: KindFloat, check: count(0, 15, 0), fn: randomDouble}},
		"digit":        strc(func(c *evalCtx) string { return digits(c, 1) }),
		"digits":       strOf(func(c *evalCtx, a []any) string { return digits(c, int(a[0].(int64))) }, count(0, 100000, 0), argInt),
	},
	"phonenumber": {
		"phonenumber":      str((*gofakeit.Faker).PhoneFormatted),
		"cellphone":        str((*gofakeit.Faker).PhoneFormatted),
		"extension":        strc(func(c *evalCtx) string { return digits(c, 4) }),
		"subscribernumber": overloads(strc(func(c *evalCtx) string { return digits(c, 4) }), strOf(func(c *evalCtx, a []any) string { return digits(c, int(a[0].(int64))) }, count(0, 1000, 0), argInt)),
	},
	"programminglanguage": {"name": str((*gofakeit.Faker).ProgrammingLanguage)},
	"space": {
		"planet": pick("Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune"),
	},
	"stock": {
		"nsdqsymbol": strc(func(c *evalCtx) string { return strings.ToUpper(c.f.LetterN(uint(3 + c.f.IntN(2)))) }),
		"nysesymbol": strc(func(c *evalCtx) string { return strings.ToUpper(c.f.LetterN(uint(2 + c.f.IntN(3)))) }),
	},
	"university": {
		"name":   strc(func(c *evalCtx) string { return c.f.LastName() + " University" }),
		"prefix": pick("The", "Northern", "North", "Western", "West", "Southern", "South", "Eastern", "East"),
		"suffix": pick("University", "Institute", "College", "Academy"),
	},
	"weather": {
		"description":           pick("Sunny", "Cloudy", "Rainy", "Partly cloudy", "Snowy", "Stormy", "Foggy", "Windy", "Clear"),
		"temperaturecelsius":    strc(func(c *evalCtx) string { return strconv.Itoa(c.f.IntN(71)-30) + "°C" }),
		"temperaturefahrenheit": strc(func(c *evalCtx) string { return strconv.Itoa(c.f.IntN(141)-22) + "°F" }),
	},
}

// rootMethods are the methods on Java-Faker's Faker itself, written
// without a provider: #{bothify '??##'}, #{regexify '[a-z]{4}'}.
var rootMethods = map[string][]method{
	"numerify":  strOf(func(c *evalCtx, a []any) string { return bothify(c, a[0].(string), true, false) }, nil, argString),
	"letterify": strOf(func(c *evalCtx, a []any) string { return bothify(c, a[0].(string), false, true) }, nil, argString),
	"bothify":   strOf(func(c *evalCtx, a []any) string { return bothify(c, a[0].(string), true, true) }, nil, argString),
	"regexify":  strOf(func(c *evalCtx, a []any) string { return c.f.Regex(a[0].(string)) }, validRegex, argString),
}

func streetAddress(c *evalCtx, a []any) string {
	s := c.f.Street()
	if a[0].(bool) {
		s += " " + bothify(c, "Apt. ###", true, false)
	}
	return s
}

func ssn(c *evalCtx) string {
	return fmt.Sprintf("%03d-%02d-%04d", 1+c.f.IntN(665), 1+c.f.IntN(99), 1+c.f.IntN(9999))
}

func email(c *evalCtx, local string) string {
	return local + "@" + []string{"gmail.com", "yahoo.com", "hotmail.com"}[c.f.IntN(3)]
}

func fixedString(c *evalCtx, n int64) string {
	var b strings.Builder
	for int64(b.Len()) < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.f.LoremIpsumWord())
	}
	return b.String()[:n]
}

// minMax checks a (min, max) pair of counts.
func minMax(lo, hi int64) func([]any) error {
	return func(a []any) error {
		if err := count(lo, hi, 0, 1)(a); err != nil {
			return err
		}
		if a[0].(int64) > a[1].(int64) {
			return fmt.Errorf("minimum %d is greater than maximum %d", a[0], a[1])
		}
		return nil
	}
}

// Expressions lists every supported expression, "Provider.method/N"
// with N the argument count, sorted: for documentation and for the
// error a REST client sees.
func Expressions() []string {
	var out []string
	for p, ms := range providers {
		for name, ol := range ms {
			for _, m := range ol {
				out = append(out, fmt.Sprintf("%s.%s/%d", p, name, len(m.args)))
			}
		}
	}
	for name, ol := range rootMethods {
		for _, m := range ol {
			out = append(out, fmt.Sprintf("%s/%d", name, len(m.args)))
		}
	}
	sort.Strings(out)
	return out
}
