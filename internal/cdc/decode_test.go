package cdc

import (
	"reflect"
	"testing"
	"time"
)

func TestFixFraction(t *testing.T) {
	cases := []struct {
		in   string
		fsp  int
		want string
	}{
		{"12:00:00", 0, "12:00:00"},
		{"12:00:00", 3, "12:00:00.000"},
		{"-838:59:59", 2, "-838:59:59.00"},
		{"-00:00:01.5", 3, "-00:00:01.500"},
		{"12:00:00.123456", 6, "12:00:00.123456"},
		{"12:00:00.123456", 3, "12:00:00.123"},
		{"12:00:00.123456", 0, "12:00:00"},
		{"2024-01-01 00:00:00", 1, "2024-01-01 00:00:00.0"},
		{"2024-01-01 00:00:00.000000", 4, "2024-01-01 00:00:00.0000"},
	}
	for _, c := range cases {
		if got := fixFraction(c.in, c.fsp); got != c.want {
			t.Errorf("fixFraction(%q, %d) = %q, want %q", c.in, c.fsp, got, c.want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	cases := []struct {
		in   string
		want any
	}{
		{"2038-01-19 03:14:07", time.Date(2038, 1, 19, 3, 14, 7, 0, time.UTC)},
		{"2024-02-29 23:59:59.5", time.Date(2024, 2, 29, 23, 59, 59, 500000000, time.UTC)},
		{"2024-02-29 23:59:59.000001", time.Date(2024, 2, 29, 23, 59, 59, 1000, time.UTC)},
		{"0000-00-00 00:00:00", time.Unix(0, 0).UTC()},
		{"0000-00-00 00:00:00.000", time.Unix(0, 0).UTC()},
		{"garbage", "garbage"},
	}
	for _, c := range cases {
		if got := parseTimestamp(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseTimestamp(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestEnumValues(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"enum('a','b')", []string{"a", "b"}},
		{"set('x','y''s','z')", []string{"x", "y's", "z"}},
		{"enum('','a,b',' c ')", []string{"", "a,b", " c "}},
		{"enum('é','😀')", []string{"é", "😀"}},
		{"set('x y','it''s','c,d')", []string{"x y", "it's", "c,d"}},
		{"enum('')", []string{""}},
		{"int(11)", nil},
	}
	for _, c := range cases {
		if got := EnumValues(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("EnumValues(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEnumSetValues(t *testing.T) {
	p := colPlan{values: []string{"a", "b", "c"}}
	enums := map[int64]string{0: "", 1: "a", 3: "c", 4: ""}
	for i, want := range enums {
		if got := p.enumValue(i); got != want {
			t.Errorf("enumValue(%d) = %q, want %q", i, got, want)
		}
	}
	sets := map[uint64]string{0: "", 1: "a", 5: "a,c", 7: "a,b,c"}
	for m, want := range sets {
		if got := p.setValue(m); got != want {
			t.Errorf("setValue(%b) = %q, want %q", m, got, want)
		}
	}
}

func TestBinlogIntegers(t *testing.T) {
	cases := []struct {
		plan colPlan
		in   any
		want any
	}{
		{colPlan{kind: vSigned, size: 1}, int8(-1), int64(-1)},
		{colPlan{kind: vUnsigned, size: 1}, int8(-1), int64(255)},
		{colPlan{kind: vUnsigned, size: 2}, int16(-1), int64(65535)},
		{colPlan{kind: vUnsigned, size: 3}, int32(-1), int64(16777215)},
		{colPlan{kind: vSigned, size: 3}, int32(-8388608), int64(-8388608)},
		{colPlan{kind: vUnsigned, size: 4}, int32(-1), int64(4294967295)},
		{colPlan{kind: vUnsigned, size: 8}, int64(-1), uint64(18446744073709551615)},
		{colPlan{kind: vBit}, int64(-1), uint64(18446744073709551615)},
		{colPlan{kind: vYear}, 2024, int64(2024)},
		{colPlan{kind: vDecimal}, "-0.50", Decimal("-0.50")},
		{colPlan{kind: vBinary, pad: 3}, "a", []byte{'a', 0, 0}},
		{colPlan{kind: vInet, pad: 16}, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}, "::ffff:1.2.3.4"},
		{colPlan{kind: vInet, pad: 4}, []byte{10}, "10.0.0.0"},
		{colPlan{kind: vJSON}, []byte{}, "null"},
		{colPlan{kind: vJSON}, `{"b":[1,2.5,1e+300],"a":"<é>"}`, `{"a":"<é>","b":[1,2.5,1e+300]}`},
		{colPlan{kind: vJSON}, `{"a": 18446744073709551615, "b": 1.0}`, `{"a":18446744073709551615,"b":1}`},
		{colPlan{kind: vSigned}, nil, nil},
	}
	for _, c := range cases {
		if got := c.plan.fromBinlog(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("kind %d fromBinlog(%#v) = %#v, want %#v", c.plan.kind, c.in, got, c.want)
		}
	}
}

// TestJSONNormalized: MySQL's JSON from a query and from the binary log
// render alike.
func TestJSONNormalized(t *testing.T) {
	server := `{"b": [1, 2.5, 1e300], "a": "x"}` // as MySQL prints it
	logged := `{"a":"x","b":[1,2.5,1e+300]}`     // as go-mysql marshals it
	if a, b := normalizeJSON(server), normalizeJSON(logged); a != b {
		t.Fatalf("%q and %q differ", a, b)
	}
}

func TestCharsetDecoders(t *testing.T) {
	cases := []struct {
		charset string
		in      []byte
		want    string
	}{
		{"utf8mb4", []byte("é😀"), "é😀"},
		{"latin1", []byte{'c', 'a', 'f', 0xe9, ' ', 0x80}, "café €"},
		{"utf16", []byte{0x00, 0xfc}, "ü"},
		{"gbk", []byte{0xd6, 0xd0}, "中"},
		{"ascii", []byte("plain"), "plain"},
	}
	for _, c := range cases {
		d, ok := decoderFor(c.charset)
		if !ok {
			t.Fatalf("no decoder for %s", c.charset)
		}
		if got := d.text(c.in); got != c.want {
			t.Errorf("%s: %q, want %q", c.charset, got, c.want)
		}
	}
	if _, ok := decoderFor("swe7"); ok {
		t.Error("swe7 should have no decoder")
	}
}
