package vector

import (
	"math"
	"os"
)

// Dispatch flags, set once by init (selectImpl) and read-only afterwards.
var (
	useAVX512 bool
	useAVX2   bool
	implName  = "generic"
)

func init() {
	selectImpl(os.Getenv("STRATA_VECTOR_IMPL"))
}

// selectImpl picks the best implementation the CPU supports, or the one
// named by force if the CPU supports it (an unsupported or unknown name is
// ignored).
func selectImpl(force string) {
	useAVX512 = haveAVX512
	useAVX2 = haveAVX2 && !useAVX512
	switch force {
	case "generic":
		useAVX512, useAVX2 = false, false
	case "avx2":
		if haveAVX2 {
			useAVX512, useAVX2 = false, true
		}
	case "avx512":
		// Already the best choice when available.
	}
	switch {
	case useAVX512:
		implName = "avx512"
	case useAVX2:
		implName = "avx2"
	default:
		implName = "generic"
	}
}

// Impl reports the implementation chosen at init: "avx512", "avx2" or
// "generic".
func Impl() string { return implName }

const (
	errLength = "vector: slice lengths differ"
	errBatch  = "vector: len(data) != len(out)*len(q)"
)

// Dot returns the dot product Σ a[i]*b[i]. It panics if len(a) != len(b).
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic(errLength)
	}
	if useAVX512 {
		return dotAVX512(a, b)
	}
	if useAVX2 {
		return dotAVX2(a, b)
	}
	return dotGeneric(a, b)
}

// L2Squared returns the squared Euclidean distance Σ (a[i]-b[i])². It panics
// if len(a) != len(b).
func L2Squared(a, b []float32) float32 {
	if len(a) != len(b) {
		panic(errLength)
	}
	if useAVX512 {
		return l2AVX512(a, b)
	}
	if useAVX2 {
		return l2AVX2(a, b)
	}
	return l2Generic(a, b)
}

// L1 returns the Manhattan distance Σ |a[i]-b[i]|. It panics if
// len(a) != len(b).
func L1(a, b []float32) float32 {
	if len(a) != len(b) {
		panic(errLength)
	}
	if useAVX512 {
		return l1AVX512(a, b)
	}
	if useAVX2 {
		return l1AVX2(a, b)
	}
	return l1Generic(a, b)
}

// Norm returns the Euclidean length sqrt(Dot(v, v)).
func Norm(v []float32) float32 {
	return float32(math.Sqrt(float64(Dot(v, v))))
}

// Normalize scales v in place to unit Euclidean length and reports true. If
// the norm is 0 or not finite (v contains NaN or ±Inf), v is left unchanged
// and Normalize reports false. Vectors whose float32 sum of squares
// underflows or overflows (tiny or huge components) are still normalized,
// through a float64 fallback.
func Normalize(v []float32) bool {
	s := Dot(v, v)
	if s >= 0x1p-100 && s <= math.MaxFloat32 {
		// The common case: a well-scaled finite norm. (NaN fails both
		// comparisons; below 2⁻¹⁰⁰ the float32 sum may have lost
		// precision to underflow.)
		inv := float32(1 / math.Sqrt(float64(s)))
		for i := range v {
			v[i] *= inv
		}
		return true
	}
	if s != s {
		return false // NaN: v contains a NaN
	}
	// The float32 sum of squares is tiny, 0 or +Inf: recompute in float64,
	// where squares of finite float32 values neither overflow nor underflow
	// (a ±Inf in v still gives +Inf, and false).
	var s64 float64
	for _, x := range v {
		s64 += float64(x) * float64(x)
	}
	if s64 == 0 || math.IsInf(s64, 0) || math.IsNaN(s64) {
		return false
	}
	inv := 1 / math.Sqrt(s64)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
	return true
}

// IsFinite returns the index of the first NaN or ±Inf element of v, or -1 if
// every element is finite.
func IsFinite(v []float32) (bad int) {
	if !useAVX512 && !useAVX2 {
		return isFiniteFrom(v, 0)
	}
	// Chunked for the reason given at chunkFloats.
	for base := 0; base < len(v); base += chunkFloats {
		part := v[base:min(base+chunkFloats, len(v))]
		var i int
		if useAVX512 {
			i = isFiniteAVX512(part)
		} else {
			i = isFiniteAVX2(part)
		}
		if i = isFiniteFrom(part, i); i >= 0 {
			return base + i
		}
	}
	return -1
}

// chunkFloats bounds the data one assembly call processes. Assembly
// functions cannot be preempted, so one call scanning a large segment
// (1 GiB takes ~70 ms) would hold off the scheduler and every GC
// stop-the-world for its whole duration. 64Ki floats (256 KiB, ~15 µs at
// memory bandwidth) keeps that short while the extra call per chunk costs
// nothing measurable.
const chunkFloats = 1 << 16

// chunked runs a batch kernel over data in pieces of about chunkFloats
// values (whole vectors, at least one per call).
func chunked(kernel func(q, data, out []float32), q, data, out []float32) {
	dim := len(q)
	step := max(1, chunkFloats/max(dim, 1))
	for len(out) > step {
		kernel(q, data[:step*dim], out[:step])
		data, out = data[step*dim:], out[step:]
	}
	kernel(q, data, out)
}

// DotBatch sets out[i] = Dot(q, data[i*dim:(i+1)*dim]) with dim = len(q), for
// every i < len(out). It panics if len(data) != len(out)*len(q).
func DotBatch(q, data, out []float32) {
	checkBatch(q, data, out)
	if useAVX512 {
		chunked(dotBatchAVX512, q, data, out)
		return
	}
	if useAVX2 {
		chunked(dotBatchAVX2, q, data, out)
		return
	}
	dotBatchGeneric(q, data, out)
}

// L2SquaredBatch sets out[i] = L2Squared(q, data[i*dim:(i+1)*dim]) with
// dim = len(q), for every i < len(out). It panics if
// len(data) != len(out)*len(q).
func L2SquaredBatch(q, data, out []float32) {
	checkBatch(q, data, out)
	if useAVX512 {
		chunked(l2BatchAVX512, q, data, out)
		return
	}
	if useAVX2 {
		chunked(l2BatchAVX2, q, data, out)
		return
	}
	l2BatchGeneric(q, data, out)
}

// L1Batch sets out[i] = L1(q, data[i*dim:(i+1)*dim]) with dim = len(q), for
// every i < len(out). It panics if len(data) != len(out)*len(q).
func L1Batch(q, data, out []float32) {
	checkBatch(q, data, out)
	if useAVX512 {
		chunked(l1BatchAVX512, q, data, out)
		return
	}
	if useAVX2 {
		chunked(l1BatchAVX2, q, data, out)
		return
	}
	l1BatchGeneric(q, data, out)
}

func checkBatch(q, data, out []float32) {
	// Division rather than multiplication: len(out)*len(q) could overflow.
	n, dim := len(out), len(q)
	if dim == 0 {
		if len(data) != 0 {
			panic(errBatch)
		}
		return
	}
	if len(data)%dim != 0 || len(data)/dim != n {
		panic(errBatch)
	}
}
