package rest

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// checkNumber32 compares parseNumber32 with strconv.ParseFloat(s, 32), the
// reference, bit for bit, on one JSON number.
func checkNumber32(t *testing.T, s string) {
	t.Helper()
	got, end, ok := parseNumber32([]byte(s), 0)
	want, err := strconv.ParseFloat(s, 32)
	if j, valid := scanNumber([]byte(s), 0); !valid || j != len(s) {
		if ok && end == len(s) {
			t.Fatalf("%q: accepted, but it is not one JSON number", s)
		}
		return
	}
	if (err == nil) != ok || end != len(s) {
		t.Fatalf("%q: ok %v end %d, strconv err %v", s, ok, end, err)
	}
	if ok && math.Float32bits(got) != math.Float32bits(float32(want)) {
		t.Fatalf("%q: got %v (%#x), strconv %v (%#x)", s, got, math.Float32bits(got), float32(want), math.Float32bits(float32(want)))
	}
}

// TestNumber32Halfway: decimal renderings of float32 halfway points and
// their neighbours, where a double rounding would go wrong, at every
// digit count and exponent the fast path handles.
func TestNumber32Halfway(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for range 20_000 {
		f := math.Float32frombits(r.Uint32() & 0x7f7fffff) // finite, positive
		if f < 1e-30 {
			continue
		}
		next := math.Nextafter32(f, float32(math.Inf(1)))
		mid := (float64(f) + float64(next)) / 2 // exact in float64
		for _, x := range []float64{mid, math.Nextafter(mid, 0), math.Nextafter(mid, math.Inf(1)), float64(f)} {
			for _, prec := range []int{-1, 8, 9, 12, 15, 16, 17, 18, 19, 20} {
				checkNumber32(t, strconv.FormatFloat(x, 'e', prec, 64))
				checkNumber32(t, strconv.FormatFloat(x, 'f', -1, 64))
				checkNumber32(t, "-"+strconv.FormatFloat(x, 'g', prec, 64))
			}
		}
	}
}

// FuzzNumber32 checks any text that starts like a number.
func FuzzNumber32(f *testing.F) {
	for _, s := range []string{"0", "-0", "1", "0.1", "1e5", "1E-5", "-12.5e+3", "3.4028235e38", "3.4028236e38", "1e39",
		"1.17549435e-38", "1e-45", "1e-46", "0.000000000000000000000000000000000000000000001401298464324817",
		"123456789012345678901234567890", "0.12345678901234567890123", "9007199254740993", "16777217", "16777219",
		"0.30000000000000004", "1.0000000000000000000000000001", "00", "1.", ".1", "-", "1e", "0e99999", "1e-99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkNumber32(t, s) })
}
