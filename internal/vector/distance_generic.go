package vector

import "math"

// Portable reference implementations. They are always compiled: they are
// the fallback on CPUs without AVX2/FMA or with -tags noasm, and the
// reference the assembly kernels are tested against. The main loops
// process 8 elements per iteration into 8 independent accumulators, which
// removes the add-latency chain a naive loop has and lets the compiler
// drop bounds checks (the 8-element subslices have constant indices).

func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		s4 += x[4] * y[4]
		s5 += x[5] * y[5]
		s6 += x[6] * y[6]
		s7 += x[7] * y[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

func l2Generic(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		d0 := x[0] - y[0]
		d1 := x[1] - y[1]
		d2 := x[2] - y[2]
		d3 := x[3] - y[3]
		d4 := x[4] - y[4]
		d5 := x[5] - y[5]
		d6 := x[6] - y[6]
		d7 := x[7] - y[7]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
		s4 += d4 * d4
		s5 += d5 * d5
		s6 += d6 * d6
		s7 += d7 * d7
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// abs32 clears the sign bit (compiles to an AND, no branch).
func abs32(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
}

func l1Generic(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		s0 += abs32(x[0] - y[0])
		s1 += abs32(x[1] - y[1])
		s2 += abs32(x[2] - y[2])
		s3 += abs32(x[3] - y[3])
		s4 += abs32(x[4] - y[4])
		s5 += abs32(x[5] - y[5])
		s6 += abs32(x[6] - y[6])
		s7 += abs32(x[7] - y[7])
	}
	for ; i < len(a); i++ {
		s0 += abs32(a[i] - b[i])
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

func dotBatchGeneric(q, data, out []float32) {
	dim := len(q)
	for i := range out {
		out[i] = dotGeneric(q, data[i*dim:(i+1)*dim])
	}
}

func l2BatchGeneric(q, data, out []float32) {
	dim := len(q)
	for i := range out {
		out[i] = l2Generic(q, data[i*dim:(i+1)*dim])
	}
}

func l1BatchGeneric(q, data, out []float32) {
	dim := len(q)
	for i := range out {
		out[i] = l1Generic(q, data[i*dim:(i+1)*dim])
	}
}

// isFiniteFrom returns the index of the first NaN or ±Inf in v[start:]
// (as an index into v), or -1. A float32 is NaN or ±Inf iff all its
// exponent bits are set.
func isFiniteFrom(v []float32, start int) int {
	for i := start; i < len(v); i++ {
		if math.Float32bits(v[i])&0x7f800000 == 0x7f800000 {
			return i
		}
	}
	return -1
}

func isFiniteGeneric(v []float32) int { return isFiniteFrom(v, 0) }
