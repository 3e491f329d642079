//go:build !noasm

package vector

import "golang.org/x/sys/cpu"

// CPU support, fixed at startup. cpu.X86.HasAVX512F is only set when the OS
// also saves the ZMM/opmask state, and HasAVX2/HasFMA only when it saves YMM.
var (
	haveAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	haveAVX512 = haveAVX2 && cpu.X86.HasAVX512F
)

// Implemented in distance_amd64.s. The AVX-512 kernels use AVX-512F only.

//go:noescape
func dotAVX512(a, b []float32) float32

//go:noescape
func l2AVX512(a, b []float32) float32

//go:noescape
func l1AVX512(a, b []float32) float32

//go:noescape
func dotBatchAVX512(q, data, out []float32)

//go:noescape
func l2BatchAVX512(q, data, out []float32)

//go:noescape
func l1BatchAVX512(q, data, out []float32)

//go:noescape
func isFiniteAVX512(v []float32) int

//go:noescape
func dotAVX2(a, b []float32) float32

//go:noescape
func l2AVX2(a, b []float32) float32

//go:noescape
func l1AVX2(a, b []float32) float32

//go:noescape
func dotBatchAVX2(q, data, out []float32)

//go:noescape
func l2BatchAVX2(q, data, out []float32)

//go:noescape
func l1BatchAVX2(q, data, out []float32)

//go:noescape
func isFiniteAVX2(v []float32) int
