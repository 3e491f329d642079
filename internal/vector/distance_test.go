package vector

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

// impl bundles the kernels of one implementation so tests can call every
// implementation directly, whatever init chose.
type impl struct {
	name                       string
	dot, l2, l1                func(a, b []float32) float32
	dotBatch, l2Batch, l1Batch func(q, data, out []float32)
	isFinite                   func(v []float32) int
}

var genericImpl = impl{
	name: "generic", dot: dotGeneric, l2: l2Generic, l1: l1Generic,
	dotBatch: dotBatchGeneric, l2Batch: l2BatchGeneric, l1Batch: l1BatchGeneric,
	isFinite: isFiniteGeneric,
}

// impls returns the implementations this CPU can run, generic first.
func impls() []impl {
	out := []impl{genericImpl}
	if haveAVX2 {
		out = append(out, impl{
			name: "avx2", dot: dotAVX2, l2: l2AVX2, l1: l1AVX2,
			dotBatch: dotBatchAVX2, l2Batch: l2BatchAVX2, l1Batch: l1BatchAVX2,
			isFinite: func(v []float32) int { return isFiniteFrom(v, isFiniteAVX2(v)) },
		})
	}
	if haveAVX512 {
		out = append(out, impl{
			name: "avx512", dot: dotAVX512, l2: l2AVX512, l1: l1AVX512,
			dotBatch: dotBatchAVX512, l2Batch: l2BatchAVX512, l1Batch: l1BatchAVX512,
			isFinite: func(v []float32) int { return isFiniteFrom(v, isFiniteAVX512(v)) },
		})
	}
	return out
}

// currentImpl returns the implementation the dispatch currently uses.
func currentImpl(t testing.TB) impl {
	for _, m := range impls() {
		if m.name == Impl() {
			return m
		}
	}
	t.Fatalf("Impl() = %q is not an available implementation", Impl())
	return impl{}
}

// publicImpl is the package API under whatever implementation is selected.
var publicImpl = impl{
	name: "public", dot: Dot, l2: L2Squared, l1: L1,
	dotBatch: DotBatch, l2Batch: L2SquaredBatch, l1Batch: L1Batch,
	isFinite: IsFinite,
}

// withImpl runs f with the dispatch forced to name, then restores it.
func withImpl(t testing.TB, name string, f func()) {
	t.Helper()
	defer selectImpl(os.Getenv("STRATA_VECTOR_IMPL"))
	selectImpl(name)
	if Impl() != name {
		t.Fatalf("selectImpl(%q): Impl() = %q", name, Impl())
	}
	f()
}

// kernel describes one distance function for the table-driven tests.
type kernel struct {
	name  string
	pair  func(impl) func(a, b []float32) float32
	batch func(impl) func(q, data, out []float32)
	term  func(x, y float32) float64 // |term| for the error bound
}

var kernels = []kernel{
	{"dot", func(m impl) func(a, b []float32) float32 { return m.dot },
		func(m impl) func(q, d, o []float32) { return m.dotBatch },
		func(x, y float32) float64 { return math.Abs(float64(x) * float64(y)) }},
	{"l2", func(m impl) func(a, b []float32) float32 { return m.l2 },
		func(m impl) func(q, d, o []float32) { return m.l2Batch },
		func(x, y float32) float64 { d := float64(x - y); return d * d }},
	{"l1", func(m impl) func(a, b []float32) float32 { return m.l1 },
		func(m impl) func(q, d, o []float32) { return m.l1Batch },
		func(x, y float32) float64 { return math.Abs(float64(x - y)) }},
}

// tolerance bounds |got-ref| for two float32 summations of the same n terms
// in different orders (with or without FMA): each is within about
// (n+1)·2⁻²⁴·Σ|term| of the exact sum. The absolute part covers products
// that underflow into subnormals.
func tolerance(k kernel, a, b []float32) float64 {
	var abs float64
	for i := range a {
		abs += k.term(a[i], b[i])
	}
	n := float64(len(a))
	return 2*(n+8)*0x1p-24*abs + (n+1)*0x1p-146
}

func checkClose(t *testing.T, what string, got, ref float32, tol float64) {
	t.Helper()
	if d := math.Abs(float64(got) - float64(ref)); !(d <= tol) {
		t.Errorf("%s = %v, reference %v (|diff| %g > tolerance %g)", what, got, ref, d, tol)
	}
}

func randVec(r *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (2*r.Float32() - 1) * scale
	}
	return v
}

func testLengths() []int {
	var ns []int
	for n := 0; n <= 70; n++ {
		ns = append(ns, n)
	}
	return append(ns, 100, 128, 384, 768, 1536)
}

func TestHandComputed(t *testing.T) {
	iota := func(n int, f func(i int) float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = f(i)
		}
		return v
	}
	cases := []struct {
		name        string
		a, b        []float32
		dot, l2, l1 float32
	}{
		{"empty", []float32{}, []float32{}, 0, 0, 0},
		{"nil", nil, nil, 0, 0, 0},
		{"one", []float32{3}, []float32{-2}, -6, 25, 5},
		{"three", []float32{1, 2, 3}, []float32{4, 5, 6}, 32, 27, 9},
		{"signs", []float32{-1.5, 2}, []float32{0.5, -2}, -4.75, 20, 6},
		{"zero", make([]float32, 33), make([]float32, 33), 0, 0, 0},
		{"ones17", iota(17, func(int) float32 { return 1 }), iota(17, func(int) float32 { return 2 }), 34, 17, 17},
		// Σi = 4950, Σ(i-1)² = 1 + 98·99·197/6 = 318550, Σ|i-1| = 1 + 98·99/2 = 4852.
		// All partial sums are integers below 2²⁴, so every order is exact.
		{"iota100", iota(100, func(i int) float32 { return float32(i) }), iota(100, func(int) float32 { return 1 }), 4950, 318550, 4852},
		{"iota16", iota(16, func(i int) float32 { return float32(i) }), iota(16, func(i int) float32 { return float32(-i) }), -1240, 4960, 240},
	}
	for _, m := range append(impls(), publicImpl) {
		for _, c := range cases {
			if got := m.dot(c.a, c.b); got != c.dot {
				t.Errorf("%s: Dot(%s) = %v, want %v", m.name, c.name, got, c.dot)
			}
			if got := m.l2(c.a, c.b); got != c.l2 {
				t.Errorf("%s: L2Squared(%s) = %v, want %v", m.name, c.name, got, c.l2)
			}
			if got := m.l1(c.a, c.b); got != c.l1 {
				t.Errorf("%s: L1(%s) = %v, want %v", m.name, c.name, got, c.l1)
			}
		}
	}
	if got := Norm([]float32{3, 4}); got != 5 {
		t.Errorf("Norm(3,4) = %v, want 5", got)
	}
	if got := Norm(nil); got != 0 {
		t.Errorf("Norm(nil) = %v, want 0", got)
	}
}

// TestAgainstGeneric compares every implementation with the generic
// reference on random inputs of many lengths, at unaligned starting offsets.
func TestAgainstGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, m := range impls()[1:] {
		for _, k := range kernels {
			f, ref := k.pair(m), k.pair(genericImpl)
			for _, n := range testLengths() {
				for off := 0; off < 4; off++ {
					for _, scale := range []float32{1, 1e-3, 1e4} {
						a := randVec(r, n+off, scale)[off:]
						b := randVec(r, n+3, scale)[3-off%4:][:n]
						checkClose(t, fmt.Sprintf("%s %s n=%d off=%d scale=%g", m.name, k.name, n, off, scale),
							f(a, b), ref(a, b), tolerance(k, a, b))
					}
				}
			}
		}
	}
}

// TestBatch checks every batch kernel against a loop of the generic pair
// kernel, and exact equality with its own implementation's pair kernel.
// out[len(out)] (a guard element past the slice) must not be written.
func TestBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	dims := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 100, 127, 128, 129, 384, 768, 1536}
	for _, m := range append(impls(), publicImpl) {
		for _, k := range kernels {
			batch, pair, ref := k.batch(m), k.pair(m), k.pair(genericImpl)
			if m.name == "public" {
				pair = k.pair(currentImpl(t)) // the kernels behind the public API
			}
			for _, dim := range dims {
				for _, n := range []int{0, 1, 2, 3, 17} {
					off := (dim + n) % 4
					q := randVec(r, dim+off, 1)[off:]
					data := randVec(r, n*dim+3, 1)[3-off%4:][: n*dim : n*dim]
					outBuf := make([]float32, n+1)
					outBuf[n] = 12345
					out := outBuf[:n:n]
					batch(q, data, out)
					if outBuf[n] != 12345 {
						t.Fatalf("%s %sBatch dim=%d n=%d wrote past out", m.name, k.name, dim, n)
					}
					for i := range out {
						v := data[i*dim : (i+1)*dim]
						checkClose(t, fmt.Sprintf("%s %sBatch dim=%d n=%d [%d]", m.name, k.name, dim, n, i),
							out[i], ref(q, v), tolerance(k, q, v))
						if pair != nil {
							if p := pair(q, v); math.Float32bits(p) != math.Float32bits(out[i]) {
								t.Errorf("%s %sBatch dim=%d n=%d [%d] = %v, pair kernel %v (want identical)",
									m.name, k.name, dim, n, i, out[i], p)
							}
						}
					}
				}
			}
		}
	}
}

// TestBatchChunks checks the public batch functions and IsFinite on inputs
// longer than one assembly call handles (chunkFloats), under every
// implementation.
func TestBatchChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, m := range impls() {
		withImpl(t, m.name, func() {
			for _, dim := range []int{1, 3, 100, chunkFloats + 5} {
				n := 2*chunkFloats/dim + 3
				q, data := randVec(r, dim, 1), randVec(r, n*dim, 1)
				for _, k := range kernels {
					out := make([]float32, n)
					k.batch(publicImpl)(q, data, out)
					for i := range out {
						if want := k.pair(m)(q, data[i*dim:(i+1)*dim]); out[i] != want {
							t.Fatalf("%s %sBatch dim=%d n=%d: out[%d] = %v, want %v", m.name, k.name, dim, n, i, out[i], want)
						}
					}
				}
				if got := IsFinite(data); got != -1 {
					t.Fatalf("%s IsFinite(finite) = %d", m.name, got)
				}
				for _, p := range []int{len(data) - 1, chunkFloats - 1, chunkFloats, chunkFloats + 1, 2*chunkFloats + 7} {
					if p >= len(data) {
						continue
					}
					old := data[p]
					data[p] = float32(math.Inf(-1))
					if got := IsFinite(data); got != p {
						t.Errorf("%s IsFinite(-Inf at %d of %d) = %d", m.name, p, len(data), got)
					}
					data[p] = old
				}
			}
		})
	}
}

// TestDispatch forces each available implementation through selectImpl
// (what STRATA_VECTOR_IMPL does) and checks the public API follows it.
func TestDispatch(t *testing.T) {
	best := impls()[len(impls())-1].name
	t.Logf("Impl() = %s (STRATA_VECTOR_IMPL=%q, best available %s)", Impl(), os.Getenv("STRATA_VECTOR_IMPL"), best)
	if env := os.Getenv("STRATA_VECTOR_IMPL"); env == "" && Impl() != best {
		t.Errorf("Impl() = %q, want best available %q", Impl(), best)
	}
	r := rand.New(rand.NewPCG(5, 6))
	a, b := randVec(r, 100, 1), randVec(r, 100, 1)
	for _, m := range impls() {
		withImpl(t, m.name, func() {
			for _, k := range kernels {
				if got, want := k.pair(publicImpl)(a, b), k.pair(m)(a, b); got != want {
					t.Errorf("impl %s: public %s = %v, kernel %v", m.name, k.name, got, want)
				}
			}
		})
	}
	// Unknown and unsupported values are ignored.
	for _, force := range []string{"", "bogus", "AVX2", "sse"} {
		selectImpl(force)
		if Impl() != best {
			t.Errorf("selectImpl(%q): Impl() = %q, want %q", force, Impl(), best)
		}
	}
	selectImpl("avx512")
	if !haveAVX512 && Impl() != best {
		t.Errorf("selectImpl(avx512) without AVX-512: Impl() = %q, want %q", Impl(), best)
	}
	selectImpl(os.Getenv("STRATA_VECTOR_IMPL"))
}

func TestPublicMatchesGenericUnderEachImpl(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, m := range impls() {
		withImpl(t, m.name, func() {
			for _, n := range []int{0, 5, 16, 100, 768} {
				a, b := randVec(r, n, 2), randVec(r, n, 2)
				for _, k := range kernels {
					checkClose(t, fmt.Sprintf("%s public %s n=%d", m.name, k.name, n),
						k.pair(publicImpl)(a, b), k.pair(genericImpl)(a, b), tolerance(k, a, b))
				}
				if got, want := Norm(a), float32(math.Sqrt(float64(dotGeneric(a, a)))); math.Abs(float64(got-want)) > 1e-5*(1+float64(want)) {
					t.Errorf("%s Norm n=%d = %v, want %v", m.name, n, got, want)
				}
			}
		})
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

func TestLengthMismatchPanics(t *testing.T) {
	a, b := make([]float32, 3), make([]float32, 4)
	mustPanic(t, "Dot", func() { Dot(a, b) })
	mustPanic(t, "L2Squared", func() { L2Squared(a, b) })
	mustPanic(t, "L1", func() { L1(b, a) })
	q, data := make([]float32, 4), make([]float32, 10)
	mustPanic(t, "DotBatch", func() { DotBatch(q, data, make([]float32, 2)) })
	mustPanic(t, "L2SquaredBatch", func() { L2SquaredBatch(q, data, make([]float32, 3)) })
	mustPanic(t, "L1Batch", func() { L1Batch(q, data[:8], make([]float32, 3)) })
	mustPanic(t, "DotBatch dim=0", func() { DotBatch(nil, data, make([]float32, 3)) })
	// dim 0 with no data is fine: every score is 0.
	out := []float32{7, 7}
	DotBatch(nil, nil, out)
	if out[0] != 0 || out[1] != 0 {
		t.Errorf("DotBatch with dim 0 = %v, want zeros", out)
	}
}

func TestNormalize(t *testing.T) {
	for _, m := range impls() {
		withImpl(t, m.name, func() {
			for _, n := range []int{0, 1, 7, 33, 128} {
				z := make([]float32, n)
				if Normalize(z) {
					t.Errorf("%s: Normalize(zero[%d]) = true", m.name, n)
				}
				if slices.ContainsFunc(z, func(x float32) bool { return x != 0 }) {
					t.Errorf("%s: Normalize(zero[%d]) changed v", m.name, n)
				}
			}
			v := []float32{3, 0, -4}
			if !Normalize(v) || !slices.Equal(v, []float32{0.6, 0, -0.8}) {
				t.Errorf("%s: Normalize(3,0,-4) -> %v, want [0.6 0 -0.8]", m.name, v)
			}
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				v := []float32{1, 2, 3, 4, 5}
				v[3] = bad
				w := slices.Clone(v)
				if Normalize(v) {
					t.Errorf("%s: Normalize with %v = true", m.name, bad)
				}
				for i := range v {
					if math.Float32bits(v[i]) != math.Float32bits(w[i]) {
						t.Errorf("%s: Normalize with %v changed v: %v", m.name, bad, v)
						break
					}
				}
			}
			// Components whose squares underflow or overflow float32.
			r := rand.New(rand.NewPCG(9, 10))
			for _, scale := range []float32{1, 1e-30, 1e-42, 1e25, math.MaxFloat32} {
				v := randVec(r, 100, scale)
				if !Normalize(v) {
					t.Errorf("%s: Normalize(scale %g) = false", m.name, scale)
					continue
				}
				var s float64
				for _, x := range v {
					s += float64(x) * float64(x)
				}
				if math.Abs(math.Sqrt(s)-1) > 1e-5 {
					t.Errorf("%s: Normalize(scale %g): norm after = %v", m.name, scale, math.Sqrt(s))
				}
			}
		})
	}
}

func TestIsFinite(t *testing.T) {
	bads := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xffffffff)}
	goods := []float32{0, float32(math.Copysign(0, -1)), math.MaxFloat32, -math.MaxFloat32,
		math.SmallestNonzeroFloat32, 1, -1e-40}
	lengths := testLengths()[:72]
	lengths = append(lengths, 100, 127, 128, 129, 255, 256, 257, 1000)
	r := rand.New(rand.NewPCG(11, 12))
	for _, m := range append(impls(), publicImpl) {
		for _, n := range lengths {
			buf := randVec(r, n+1, 1e30)
			v := buf[1:] // unaligned
			for i := range v {
				if i%5 == 0 {
					v[i] = goods[i%len(goods)]
				}
			}
			if got := m.isFinite(v); got != -1 {
				t.Fatalf("%s: IsFinite(finite[%d]) = %d, want -1", m.name, n, got)
			}
			for p := range n {
				for j, bad := range bads {
					old := v[p]
					v[p] = bad
					if got := m.isFinite(v); got != p {
						t.Fatalf("%s: IsFinite(n=%d, %v at %d) = %d", m.name, n, bad, p, got)
					}
					// A second bad value later does not hide the first.
					if q := p + 1 + j*7; q < n {
						old2 := v[q]
						v[q] = bads[(j+1)%len(bads)]
						if got := m.isFinite(v); got != p {
							t.Fatalf("%s: IsFinite(n=%d, bad at %d and %d) = %d", m.name, n, p, q, got)
						}
						v[q] = old2
					}
					v[p] = old
				}
			}
		}
	}
}

func TestNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	a, b := randVec(r, 100, 1), randVec(r, 100, 1)
	data, out := randVec(r, 500, 1), make([]float32, 5)
	var sink float32
	var isink int
	var bsink bool
	fs := map[string]func(){
		"Dot":            func() { sink += Dot(a, b) },
		"L2Squared":      func() { sink += L2Squared(a, b) },
		"L1":             func() { sink += L1(a, b) },
		"Norm":           func() { sink += Norm(a) },
		"Normalize":      func() { bsink = Normalize(a) },
		"IsFinite":       func() { isink += IsFinite(a) },
		"DotBatch":       func() { DotBatch(a, data, out) },
		"L2SquaredBatch": func() { L2SquaredBatch(a, data, out) },
		"L1Batch":        func() { L1Batch(a, data, out) },
		"Impl":           func() { _ = Impl() },
	}
	for _, m := range impls() {
		withImpl(t, m.name, func() {
			for name, f := range fs {
				if n := testing.AllocsPerRun(100, f); n != 0 {
					t.Errorf("%s: %s allocates %v times per call", m.name, name, n)
				}
			}
		})
	}
	_, _, _ = sink, isink, bsink
}

// decodePair turns fuzz input into two equal-length float32 slices. It
// reports false for inputs with NaN/Inf. Magnitudes above 1e15 are folded
// down (by clearing the top exponent bit) so that sums of up to a few
// thousand squares stay finite.
func decodePair(data []byte) (a, b []float32, ok bool) {
	n := min(len(data)/8, 2048)
	v := make([]float32, 2*n)
	for i := range v {
		bits := binary.LittleEndian.Uint32(data[4*i:])
		x := math.Float32frombits(bits)
		if bits&0x7f800000 == 0x7f800000 {
			return nil, nil, false
		}
		if math.Abs(float64(x)) > 1e15 {
			x = math.Float32frombits(bits &^ 0x40000000)
		}
		v[i] = x
	}
	return v[:n], v[n:], true
}

func fuzzKernel(f *testing.F, k kernel) {
	f.Add([]byte{})
	f.Add([]byte("\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40"))
	r := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{1, 7, 16, 17, 100} {
		var seed []byte
		for _, x := range randVec(r, 2*n, float32(n*n)) {
			seed = binary.LittleEndian.AppendUint32(seed, math.Float32bits(x))
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b, ok := decodePair(data)
		if !ok {
			t.Skip("non-finite input")
		}
		ref := k.pair(genericImpl)(a, b)
		tol := tolerance(k, a, b)
		for _, m := range impls()[1:] {
			got := k.pair(m)(a, b)
			checkClose(t, fmt.Sprintf("%s %s n=%d", m.name, k.name, len(a)), got, ref, tol)
			out := []float32{0}
			k.batch(m)(a, b, out)
			if math.Float32bits(out[0]) != math.Float32bits(got) {
				t.Errorf("%s %sBatch = %v, pair %v", m.name, k.name, out[0], got)
			}
		}
	})
}

func FuzzDot(f *testing.F)       { fuzzKernel(f, kernels[0]) }
func FuzzL2Squared(f *testing.F) { fuzzKernel(f, kernels[1]) }
func FuzzL1(f *testing.F)        { fuzzKernel(f, kernels[2]) }
