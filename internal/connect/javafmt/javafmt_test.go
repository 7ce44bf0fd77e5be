package javafmt

import (
	"math"
	"testing"
)

// Variables, so that 0.1 + 0.2 is computed in float64 at run time.
var pointOne, pointTwo = 0.1, 0.2

func TestJavaFloat(t *testing.T) {
	doubles := []struct {
		f    float64
		want string
	}{
		{1.0, "1.0"}, {0.1, "0.1"}, {100.0, "100.0"}, {-1.5, "-1.5"},
		{1234567.0, "1234567.0"}, {1e7, "1.0E7"}, {12345678.9, "1.23456789E7"},
		{0.001, "0.001"}, {0.0001, "1.0E-4"}, {1e-5, "1.0E-5"}, {123456.789, "123456.789"},
		{pointOne + pointTwo, "0.30000000000000004"}, {1.0 / 3, "0.3333333333333333"},
		{math.MaxFloat64, "1.7976931348623157E308"}, {math.SmallestNonzeroFloat64, "4.9E-324"},
		{9223372036854775807, "9.223372036854776E18"}, {0, "0.0"}, {math.Copysign(0, -1), "-0.0"},
		{math.NaN(), "NaN"}, {math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"},
	}
	for _, tc := range doubles {
		if got := Float(tc.f, 64); got != tc.want {
			t.Errorf("Double.toString(%g) = %s, want %s", tc.f, got, tc.want)
		}
	}
	floats := []struct {
		f    float32
		want string
	}{
		{12.34, "12.34"}, {0.1, "0.1"}, {math.MaxFloat32, "3.4028235E38"},
		{math.SmallestNonzeroFloat32, "1.4E-45"}, {1e10, "1.0E10"}, {16777216, "1.6777216E7"}, {3, "3.0"},
	}
	for _, tc := range floats {
		if got := Float(float64(tc.f), 32); got != tc.want {
			t.Errorf("Float.toString(%g) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

func TestFloatCastCases(t *testing.T) {
	cases := []struct {
		f    float64
		bits int
		want string
	}{
		{1, 64, "1.0"}, {0.5, 64, "0.5"}, {123456.789, 64, "123456.789"}, {1e7, 64, "1.0E7"},
		{1.5e-4, 64, "1.5E-4"}, {-2.5e10, 64, "-2.5E10"}, {0.001, 64, "0.001"}, {float64(float32(0.1)), 32, "0.1"},
		{math.Inf(1), 64, "Infinity"}, {math.NaN(), 64, "NaN"}, {0, 64, "0.0"},
	}
	for _, c := range cases {
		if got := Float(c.f, c.bits); got != c.want {
			t.Errorf("Float(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}
