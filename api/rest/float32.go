package rest

import (
	"math"
	"strconv"
)

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber32 reads the JSON number at b[i] and returns it rounded to the
// nearest float32 (exactly what strconv.ParseFloat(s, 32) returns), and
// the offset just past it; ok is false if there is no valid JSON number
// there or it overflows float32.
//
// The common case takes one pass over the digits: the decimal mantissa (up
// to 19 significant digits) times or divided by an exact power of ten
// (|exponent| <= 22) is computed in float64, whose error is at most a few
// float64 units in the last place, then rounded to float32. That second
// rounding is exact unless the float64 lies within that error of a point
// halfway between two float32s; then, and for everything else (more
// digits, large exponents, subnormal or huge results), strconv decides.
func parseNumber32(b []byte, i int) (f float32, end int, ok bool) {
	start := i
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	var (
		mant   uint64
		digits int // significant digits in mant
		exp10  int
		slow   bool
	)
	addDigit := func(d byte) {
		if mant == 0 && d == '0' {
			return // leading zeros are not significant
		}
		if digits == 19 {
			slow = true
			return
		}
		mant = mant*10 + uint64(d-'0')
		digits++
	}
	// Integer part: 0 | [1-9][0-9]*
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if digits == 19 {
				exp10++ // a dropped integer digit still scales the value
				slow = true
			} else {
				addDigit(b[i])
			}
			i++
		}
	default:
		return 0, i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if !slow {
				addDigit(b[i])
				if !slow {
					exp10--
				}
			}
			i++
		}
		if i == j {
			return 0, i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		j := i
		e := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if e < 10000 {
				e = e*10 + int(b[i]-'0')
			}
			i++
		}
		if i == j {
			return 0, i, false
		}
		if eneg {
			e = -e
		}
		exp10 += e
	}
	if !slow {
		if mant == 0 {
			if neg {
				return float32(math.Copysign(0, -1)), i, true
			}
			return 0, i, true
		}
		if exp10 >= -22 && exp10 <= 22 {
			x := float64(mant)
			if exp10 >= 0 {
				x *= pow10[exp10]
			} else {
				x /= pow10[-exp10]
			}
			// float32's normal range, away from overflow.
			if x >= 0x1p-126 && x < 0x1p127 {
				// The 29 bits float32 drops from float64's mantissa: a
				// value within errULPs of 1<<28 (a float32 halfway point)
				// could round either way.
				const errULPs = 8
				low := int64(math.Float64bits(x) & (1<<29 - 1))
				if d := low - 1<<28; d > errULPs || d < -errULPs {
					f = float32(x)
					if neg {
						f = -f
					}
					return f, i, true
				}
			}
		}
	}
	// The number fits the compiler's stack buffer in all but extreme cases,
	// and the string does not escape ParseFloat: no allocation.
	g, err := strconv.ParseFloat(string(b[start:i]), 32)
	if err != nil {
		return 0, i, false
	}
	return float32(g), i, true
}
