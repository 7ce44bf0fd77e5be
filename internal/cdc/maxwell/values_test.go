package maxwell

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
)

// wkbPoint is MySQL's internal form of POINT(x y): SRID, then WKB.
func wkbPoint(x, y float64) []byte {
	b := make([]byte, 4+1+4+16)
	b[4] = 1
	binary.LittleEndian.PutUint32(b[5:], 1)
	binary.LittleEndian.PutUint64(b[9:], math.Float64bits(x))
	binary.LittleEndian.PutUint64(b[17:], math.Float64bits(y))
	return b
}

func wkbLine(pts ...[2]float64) []byte {
	b := make([]byte, 4+1+4+4)
	b[4] = 1
	binary.LittleEndian.PutUint32(b[5:], 2)
	binary.LittleEndian.PutUint32(b[9:], uint32(len(pts)))
	for _, p := range pts {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p[0]))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p[1]))
	}
	return b
}

func wkbMultiPoint(pts ...[2]float64) []byte {
	b := make([]byte, 4+1+4+4)
	b[4] = 1
	binary.LittleEndian.PutUint32(b[5:], 4)
	binary.LittleEndian.PutUint32(b[9:], uint32(len(pts)))
	for _, p := range pts {
		b = append(b, wkbPoint(p[0], p[1])[4:]...)
	}
	return b
}

func wkbPolygonBE() []byte {
	// Big-endian polygon with one ring.
	b := []byte{0, 0, 0, 0, 0}
	b = binary.BigEndian.AppendUint32(b, 3)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = binary.BigEndian.AppendUint32(b, 4)
	for _, p := range [][2]float64{{0, 0}, {1.5, 0}, {1.5, 1}, {0, 0}} {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(p[0]))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(p[1]))
	}
	return b
}

func TestConvert(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05.999999", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	nyc, err := time.LoadLocation("America/New_York")
	if err != nil {
		nyc = time.FixedZone("EDT", -4*3600)
	}
	def := DefaultOutputConfig()
	zeroNull := DefaultOutputConfig()
	zeroNull.NullZeroDates = true
	cases := []struct {
		name string
		col  cdc.Column
		v    any
		out  *OutputConfig
		raw  string
		text string // Java's toString, when it differs from raw
	}{
		{"null", cdc.Column{DataType: "int"}, nil, nil, "null", ""},
		{"int", cdc.Column{DataType: "int"}, int64(-5), nil, "-5", ""},
		{"tinyint", cdc.Column{DataType: "tinyint"}, int64(1), nil, "1", ""},
		{"mediumint unsigned", cdc.Column{DataType: "mediumint", Unsigned: true}, int64(16777215), nil, "16777215", ""},
		{"bigint", cdc.Column{DataType: "bigint"}, int64(math.MinInt64), nil, "-9223372036854775808", ""},
		{"bigint unsigned max", cdc.Column{DataType: "bigint", Unsigned: true}, uint64(math.MaxUint64), nil, "18446744073709551615", ""},
		{"float", cdc.Column{DataType: "float"}, float32(1.1), nil, "1.1", ""},
		{"float as float64", cdc.Column{DataType: "float"}, float64(float32(2.5)), nil, "2.5", ""},
		{"float large", cdc.Column{DataType: "float"}, float32(1e10), nil, "1.0E10", ""},
		{"double", cdc.Column{DataType: "double"}, 4.2341, nil, "4.2341", ""},
		{"double whole", cdc.Column{DataType: "double"}, 100.0, nil, "100.0", ""},
		{"double small", cdc.Column{DataType: "double"}, 0.00001, nil, "1.0E-5", ""},
		{"double at 10^-3", cdc.Column{DataType: "double"}, 0.001, nil, "0.001", ""},
		{"double at 10^7", cdc.Column{DataType: "double"}, 12345678.9, nil, "1.23456789E7", ""},
		{"double below 10^7", cdc.Column{DataType: "double"}, 9999999.0, nil, "9999999.0", ""},
		{"double negative zero", cdc.Column{DataType: "double"}, math.Copysign(0, -1), nil, "-0.0", ""},
		{"double NaN", cdc.Column{DataType: "double"}, math.NaN(), nil, `"NaN"`, ""},
		{"decimal", cdc.Column{DataType: "decimal", Length: 6, Scale: 2}, cdc.Decimal("50.00"), nil, "50.00", ""},
		{"decimal negative", cdc.Column{DataType: "decimal"}, cdc.Decimal("-12.50"), nil, "-12.50", ""},
		{"decimal exact digits", cdc.Column{DataType: "decimal", Length: 38, Scale: 10}, cdc.Decimal("1234567890123456789012345678.0123456789"), nil, "1234567890123456789012345678.0123456789", ""},
		{"decimal 10^-6", cdc.Column{DataType: "decimal"}, cdc.Decimal("0.000001"), nil, "0.000001", ""},
		{"decimal below 10^-6", cdc.Column{DataType: "decimal"}, cdc.Decimal("0.00000010"), nil, "1.0E-7", ""},
		{"decimal zero small scale", cdc.Column{DataType: "decimal"}, cdc.Decimal("0.00"), nil, "0.00", ""},
		{"decimal zero large scale", cdc.Column{DataType: "decimal"}, cdc.Decimal("0.00000000"), nil, "0E-8", ""},
		{"decimal negative small", cdc.Column{DataType: "decimal"}, cdc.Decimal("-0.0000000123"), nil, "-1.23E-8", ""},
		{"decimal integer", cdc.Column{DataType: "decimal"}, cdc.Decimal("123"), nil, "123", ""},
		{"date", cdc.Column{DataType: "date"}, "2021-08-16", nil, `"2021-08-16"`, "2021-08-16"},
		{"zero date", cdc.Column{DataType: "date"}, "0000-00-00", nil, `"0000-00-00"`, "0000-00-00"},
		{"zero date as null", cdc.Column{DataType: "date"}, "0000-00-00", &zeroNull, "null", ""},
		{"datetime", cdc.Column{DataType: "datetime"}, "2021-08-16 10:11:12", nil, `"2021-08-16 10:11:12"`, "2021-08-16 10:11:12"},
		{"datetime(3) padded", cdc.Column{DataType: "datetime", Length: 3}, "2021-08-16 10:11:12.5", nil, `"2021-08-16 10:11:12.500"`, "2021-08-16 10:11:12.500"},
		{"datetime(6)", cdc.Column{DataType: "datetime", Length: 6}, "2021-08-16 10:11:12.523000", nil, `"2021-08-16 10:11:12.523000"`, "2021-08-16 10:11:12.523000"},
		{"datetime(0) drops fraction", cdc.Column{DataType: "datetime"}, "2021-08-16 10:11:12.9", nil, `"2021-08-16 10:11:12"`, "2021-08-16 10:11:12"},
		{"zero datetime(2)", cdc.Column{DataType: "datetime", Length: 2}, "0000-00-00 00:00:00", nil, `"0000-00-00 00:00:00.00"`, "0000-00-00 00:00:00.00"},
		{"zero datetime as null", cdc.Column{DataType: "datetime"}, "0000-00-00 00:00:00", &zeroNull, "null", ""},
		{"timestamp(6)", cdc.Column{DataType: "timestamp", Length: 6}, utc("2016-10-21 05:33:37.523"), nil, `"2016-10-21 05:33:37.523000"`, "2016-10-21 05:33:37.523000"},
		{"timestamp in UTC", cdc.Column{DataType: "timestamp"}, time.Date(2021, 8, 16, 6, 11, 12, 0, nyc), nil, `"2021-08-16 10:11:12"`, "2021-08-16 10:11:12"},
		{"zero timestamp", cdc.Column{DataType: "timestamp"}, time.Unix(0, 0).UTC(), nil, `"0000-00-00 00:00:00"`, "0000-00-00 00:00:00"},
		{"time", cdc.Column{DataType: "time"}, "10:11:12", nil, `"10:11:12"`, "10:11:12"},
		{"time(1)", cdc.Column{DataType: "time", Length: 1}, "10:11:12.5", nil, `"10:11:12.5"`, "10:11:12.5"},
		{"time over a day wraps", cdc.Column{DataType: "time"}, "25:00:00", nil, `"01:00:00"`, "01:00:00"},
		{"negative time wraps", cdc.Column{DataType: "time"}, "-01:00:00", nil, `"23:00:00"`, "23:00:00"},
		{"year", cdc.Column{DataType: "year"}, int64(2021), nil, "2021", ""},
		{"bit(1)", cdc.Column{DataType: "bit", Length: 1}, uint64(1), nil, "1", ""},
		{"bit(64)", cdc.Column{DataType: "bit", Length: 64}, uint64(math.MaxUint64), nil, "18446744073709551615", ""},
		{"bit bytes", cdc.Column{DataType: "bit", Length: 16}, []byte{1, 2}, nil, "258", ""},
		{"json", cdc.Column{DataType: "json"}, `{"a": 1, "b": [1.50, "x y"]}`, nil, `{"a":1,"b":[1.50,"x y"]}`, ""},
		{"json scalar", cdc.Column{DataType: "json"}, `"str"`, nil, `"str"`, ""},
		{"json empty", cdc.Column{DataType: "json"}, "", nil, "null", ""},
		{"enum", cdc.Column{DataType: "enum", Values: []string{"a", "b"}}, "b", nil, `"b"`, "b"},
		{"enum invalid", cdc.Column{DataType: "enum", Values: []string{"a", "b"}}, "", nil, "null", ""},
		{"enum index", cdc.Column{DataType: "enum", Values: []string{"a", "b"}}, int64(2), nil, `"b"`, "b"},
		{"set", cdc.Column{DataType: "set", Values: []string{"a_val", "b_val", "c_val"}}, "b_val,c_val", nil, `["b_val","c_val"]`, "[b_val, c_val]"},
		{"set empty", cdc.Column{DataType: "set"}, "", nil, "[]", ""},
		{"set bits", cdc.Column{DataType: "set", Values: []string{"a", "b", "c"}}, uint64(5), nil, `["a","c"]`, "[a, c]"},
		{"varchar", cdc.Column{DataType: "varchar", Charset: "utf8mb4"}, "I am a creature of light.", nil, `"I am a creature of light."`, "I am a creature of light."},
		{"varchar escapes", cdc.Column{DataType: "varchar"}, "q\"b\\s\n\t\x01</é\u2028", nil, `"q\"b\\s\n\t\u0001</é` + "\u2028" + `"`, "q\"b\\s\n\t\x01</é\u2028"},
		{"varchar invalid utf8", cdc.Column{DataType: "varchar"}, "a\xffb", nil, `"a` + "\uFFFD" + `b"`, "a\xffb"},
		{"text bytes", cdc.Column{DataType: "text", Charset: "utf8mb4"}, []byte("héllo"), nil, `"héllo"`, "héllo"},
		{"binary charset varchar", cdc.Column{DataType: "varchar", Charset: "binary"}, []byte{0xff, 0}, nil, `"/wA="`, "/wA="},
		{"blob", cdc.Column{DataType: "blob"}, []byte{0, 1, 2}, nil, `"AAEC"`, "AAEC"},
		{"varbinary", cdc.Column{DataType: "varbinary"}, []byte("hi"), nil, `"aGk="`, "aGk="},
		{"point", cdc.Column{DataType: "point"}, wkbPoint(1, 2.5), nil, `"POINT (1 2.5)"`, "POINT (1 2.5)"},
		{"linestring", cdc.Column{DataType: "geometry"}, wkbLine([2]float64{1, 2}, [2]float64{3, 4}), nil, `"LINESTRING (1 2, 3 4)"`, "LINESTRING (1 2, 3 4)"},
		{"multipoint", cdc.Column{DataType: "multipoint"}, wkbMultiPoint([2]float64{1, 2}, [2]float64{3, 4}), nil, `"MULTIPOINT ((1 2), (3 4))"`, "MULTIPOINT ((1 2), (3 4))"},
		{"polygon big-endian", cdc.Column{DataType: "polygon"}, wkbPolygonBE(), nil, `"POLYGON ((0 0, 1.5 0, 1.5 1, 0 0))"`, "POLYGON ((0 0, 1.5 0, 1.5 1, 0 0))"},
		{"unknown type", cdc.Column{DataType: "uuid"}, "123e4567-e89b-12d3-a456-426614174000", nil, `"123e4567-e89b-12d3-a456-426614174000"`, "123e4567-e89b-12d3-a456-426614174000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := c.out
			if out == nil {
				out = &def
			}
			v := convert(&c.col, c.v, out)
			if v.raw != c.raw {
				t.Errorf("raw = %s, want %s", v.raw, c.raw)
			}
			want := c.text
			if want == "" {
				want = c.raw
			}
			if v.text != want {
				t.Errorf("text = %q, want %q", v.text, want)
			}
		})
	}
}

func TestBigDecimalString(t *testing.T) {
	for in, want := range map[string]string{
		"1": "1", "-1": "-1", "1.0": "1.0", "0.1": "0.1", "00012.50": "12.50", "+3.5": "3.5",
		"0.0000001": "1E-7", "123.0000000": "123.0000000", "-0.000": "0.000", "0.0000012345": "0.0000012345",
		"0.00000012345": "1.2345E-7",
	} {
		if got := bigDecimalString(in); got != want {
			t.Errorf("bigDecimalString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJavaFloat(t *testing.T) {
	for _, c := range []struct {
		f    float64
		bits int
		want string
	}{
		{1, 64, "1.0"}, {0.1, 64, "0.1"}, {1e7, 64, "1.0E7"}, {1.5e300, 64, "1.5E300"}, {-2.5e-4, 64, "-2.5E-4"},
		{float64(float32(0.1)), 32, "0.1"}, {float64(float32(3.4028235e38)), 32, "3.4028235E38"}, {math.Inf(1), 64, `"Infinity"`},
	} {
		if got := javaFloat(c.f, c.bits); got != c.want {
			t.Errorf("javaFloat(%v, %d) = %q, want %q", c.f, c.bits, got, c.want)
		}
	}
}

func TestGeometryErrors(t *testing.T) {
	for _, b := range [][]byte{nil, {0, 0, 0, 0}, {0, 0, 0, 0, 1, 9, 0, 0, 0}, wkbPoint(1, 2)[:12]} {
		if _, err := geometryWKT(b); err == nil {
			t.Errorf("geometryWKT(%x) succeeded", b)
		}
	}
	col := cdc.Column{DataType: "geometry"}
	def := DefaultOutputConfig()
	if v := convert(&col, []byte{1, 2}, &def); v.raw != `"AQI="` {
		t.Errorf("undecodable geometry = %s, want base64", v.raw)
	}
}

func TestCamelCase(t *testing.T) {
	for in, want := range map[string]string{
		"server_id": "serverId", "primary_key_columns": "primaryKeyColumns", "xid": "xid", "_uuid": "uuid",
		"a_": "a", "___": "___", "col_1": "col1", "already_Upper": "alreadyUpper",
	} {
		if got := camelCase(in); got != want {
			t.Errorf("camelCase(%q) = %q, want %q", in, got, want)
		}
	}
}
