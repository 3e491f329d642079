// Package vector implements the float32 distance kernels used by Strata's
// indexes and exact (flat) search: dot product, squared Euclidean distance,
// Manhattan (L1) distance, norms, and batch versions that score one query
// against many vectors stored back to back.
//
// # Contract
//
// The pairwise functions require len(a) == len(b); the batch functions
// require len(data) == len(out)*len(q). They panic otherwise. No function
// allocates. Inputs are not validated for NaN or ±Inf: use [IsFinite] at the
// boundary where vectors enter the system. Kernels never read or write
// outside the slices they are given (tails are handled with masked loads or
// scalar code).
//
// # Precision
//
// Results are float32 sums computed in float32. The assembly kernels sum in
// a different order than the Go reference implementations (several vector
// accumulators and a horizontal reduction, fused multiply-add), so results
// of different implementations differ by rounding only: for n-element
// inputs the difference is bounded by about 2·n·2⁻²⁴·Σ|termᵢ| and in
// practice is far smaller (1e-6 relative for well-conditioned sums). Within
// one implementation results are deterministic, and a batch kernel returns
// exactly what the pairwise kernel returns for the same pair.
//
// # Dispatch
//
// On amd64 the package chooses, once in init, the best implementation the
// CPU and OS support (golang.org/x/sys/cpu): "avx512" (AVX-512F, 16 floats
// per register), "avx2" (AVX2 and FMA, 8 floats per register) or "generic"
// (portable Go, unrolled with several accumulators). The public functions
// test package-level booleans, a perfectly predicted branch, and call the
// chosen kernel directly. [Impl] reports the choice.
//
// The batch functions hand the assembly at most 64Ki floats (256 KiB) per
// call: assembly cannot be preempted, and one call over a large segment
// would otherwise delay the scheduler and garbage-collector pauses for
// tens of milliseconds.
//
// The environment variable STRATA_VECTOR_IMPL=generic|avx2|avx512 forces a
// lower implementation, for benchmarks and tests; a value the CPU cannot
// run, or an unknown value, is ignored. Building with the tag noasm (or for
// another architecture) compiles only the generic implementation.
package vector
