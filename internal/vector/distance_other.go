//go:build noasm || !amd64

package vector

// Without assembly only the generic implementation exists. The AVX names
// are defined so that the dispatching code compiles; they are never
// selected (haveAVX2 and haveAVX512 are constant false, so the compiler
// drops the branches).

const (
	haveAVX2   = false
	haveAVX512 = false
)

func dotAVX512(a, b []float32) float32      { return dotGeneric(a, b) }
func l2AVX512(a, b []float32) float32       { return l2Generic(a, b) }
func l1AVX512(a, b []float32) float32       { return l1Generic(a, b) }
func dotBatchAVX512(q, data, out []float32) { dotBatchGeneric(q, data, out) }
func l2BatchAVX512(q, data, out []float32)  { l2BatchGeneric(q, data, out) }
func l1BatchAVX512(q, data, out []float32)  { l1BatchGeneric(q, data, out) }
func isFiniteAVX512(v []float32) int        { return 0 }
func dotAVX2(a, b []float32) float32        { return dotGeneric(a, b) }
func l2AVX2(a, b []float32) float32         { return l2Generic(a, b) }
func l1AVX2(a, b []float32) float32         { return l1Generic(a, b) }
func dotBatchAVX2(q, data, out []float32)   { dotBatchGeneric(q, data, out) }
func l2BatchAVX2(q, data, out []float32)    { l2BatchGeneric(q, data, out) }
func l1BatchAVX2(q, data, out []float32)    { l1BatchGeneric(q, data, out) }
func isFiniteAVX2(v []float32) int          { return 0 }
