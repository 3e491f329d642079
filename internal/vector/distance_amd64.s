//go:build !noasm

#include "textflag.h"

// Distance kernels for amd64: AVX-512F (16 x float32 in a ZMM register) and
// AVX2+FMA (8 x float32 in a YMM register).
//
// Every kernel keeps four independent vector accumulators so that the
// FMA/ADD latency (4 cycles) is hidden behind the two loads per cycle the
// core can issue. The single-pair kernels and the batch kernels share the
// per-vector code (the *_VEC macros), so DotBatch(q, data)[i] is bit-for-bit
// equal to Dot(q, data[i*dim:(i+1)*dim]) for the same implementation.
//
// Register use (both widths):
//   SI  pointer into the first operand (a / the query)
//   DI  pointer into the second operand (b / the data), advances monotonically
//   CX  elements left in the current vector
//   0-3 accumulators, 4-7 temporaries, 8 constant (abs / exponent mask),
//   9   AVX2 tail mask; K1 AVX-512 tail mask
// Batch kernels additionally use:
//   R8 query base, R9 dim, R10 out pointer, R11 vectors left, R12 tail bytes.

// ---------------------------------------------------------------------------
// Per-16-float operations. M variants take a memory offset and read
// off(SI) and off(DI); R variants take two loaded registers x (from SI) and y
// (from DI). acc += f(x, y).

#define DOT512_M(off, t, acc) \
	VMOVUPS     off(SI), t; \
	VFMADD231PS off(DI), t, acc

#define DOT512_R(x, y, acc) \
	VFMADD231PS y, x, acc

#define L2512_M(off, t, acc) \
	VMOVUPS     off(SI), t; \
	VSUBPS      off(DI), t, t; \
	VFMADD231PS t, t, acc

#define L2512_R(x, y, acc) \
	VSUBPS      y, x, x; \
	VFMADD231PS x, x, acc

// VANDPS on ZMM needs AVX512DQ; VPANDD is AVX512F and does the same here.
#define L1512_M(off, t, acc) \
	VMOVUPS off(SI), t; \
	VSUBPS  off(DI), t, t; \
	VPANDD  Z8, t, t; \
	VADDPS  t, acc, acc

#define L1512_R(x, y, acc) \
	VSUBPS y, x, x; \
	VPANDD Z8, x, x; \
	VADDPS x, acc, acc

// Same for 8 floats in YMM registers (AVX2 + FMA).
#define DOT256_M(off, t, acc) \
	VMOVUPS     off(SI), t; \
	VFMADD231PS off(DI), t, acc

#define DOT256_R(x, y, acc) \
	VFMADD231PS y, x, acc

#define L2256_M(off, t, acc) \
	VMOVUPS     off(SI), t; \
	VSUBPS      off(DI), t, t; \
	VFMADD231PS t, t, acc

#define L2256_R(x, y, acc) \
	VSUBPS      y, x, x; \
	VFMADD231PS x, x, acc

#define L1256_M(off, t, acc) \
	VMOVUPS off(SI), t; \
	VSUBPS  off(DI), t, t; \
	VANDPS  Y8, t, t; \
	VADDPS  t, acc, acc

#define L1256_R(x, y, acc) \
	VSUBPS y, x, x; \
	VANDPS Y8, x, x; \
	VADDPS x, acc, acc

// ---------------------------------------------------------------------------
// Setup of the constant register used by L1 (0x7fffffff: clears the sign bit).

#define ABSMASK512 \
	MOVL         $0x7fffffff, AX; \
	VPBROADCASTD AX, Z8

#define ABSMASK256 \
	MOVL         $0x7fffffff, AX; \
	VMOVD        AX, X8; \
	VPBROADCASTD X8, Y8

// ---------------------------------------------------------------------------
// Software prefetch for the batch kernels' main loops. A batch scan streams
// through data that is usually not in cache (a flat scan over a segment);
// the hardware prefetchers alone leave the single-core scan 5-15% short of
// the achievable read bandwidth, most for small dims where the per-vector
// work between two loads of new lines is largest. Each 256-byte (AVX-512) or
// 128-byte (AVX2) iteration therefore touches every cache line PFDIST bytes
// ahead. 3072 bytes measured best on the development machine (Xeon, model
// 207; tried 1024-4096). Prefetching past the end of data is harmless:
// PREFETCH never faults. For experiments the distance can be changed, or
// prefetching disabled, with
//   go test -asmflags='github.com/strata-db/strata/internal/vector=-D PFDIST=2048'
//   go test -asmflags='github.com/strata-db/strata/internal/vector=-D NOPREFETCH'
#ifndef PFDIST
#define PFDIST 3072
#endif

#define NOPF

#ifdef NOPREFETCH
#define PFBATCH512
#define PFBATCH256
#else
#define PFBATCH512 \
	PREFETCHT0 PFDIST(DI); \
	PREFETCHT0 PFDIST+64(DI); \
	PREFETCHT0 PFDIST+128(DI); \
	PREFETCHT0 PFDIST+192(DI)
#define PFBATCH256 \
	PREFETCHT0 PFDIST(DI); \
	PREFETCHT0 PFDIST+64(DI)
#endif

// ---------------------------------------------------------------------------
// AVX-512 body for one vector pair of CX elements at SI and DI.
// Processes CX &^ 15 elements (leaving CX = CX & 15 and SI/DI advanced past
// them), accumulating into Z0-Z3 (which the caller zeroes). Uses labels
// z64, z32, z16, zend: at most once per TEXT block. PF is a statement run
// once per 64-element iteration of the main loop (prefetch or nothing).

#define ZERO512 \
	VXORPS Z0, Z0, Z0; \
	VXORPS Z1, Z1, Z1; \
	VXORPS Z2, Z2, Z2; \
	VXORPS Z3, Z3, Z3

#define BLOCKS512(OPM, PF) \
	CMPQ CX, $64; \
	JB   z32; \
z64: \
	PF; \
	OPM(0, Z4, Z0); \
	OPM(64, Z5, Z1); \
	OPM(128, Z6, Z2); \
	OPM(192, Z7, Z3); \
	ADDQ $256, SI; \
	ADDQ $256, DI; \
	SUBQ $64, CX; \
	CMPQ CX, $64; \
	JAE  z64; \
z32: \
	CMPQ CX, $32; \
	JB   z16; \
	OPM(0, Z4, Z0); \
	OPM(64, Z5, Z1); \
	ADDQ $128, SI; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
z16: \
	CMPQ CX, $16; \
	JB   zend; \
	OPM(0, Z6, Z2); \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $16, CX; \
zend:

// The tail of 0-15 elements: zero-masked loads under K1 (masked-off lanes
// are not accessed, so reading past the end cannot fault) and one more op.
#define TAIL512(OPR) \
	VMOVUPS.Z (SI), K1, Z4; \
	VMOVUPS.Z (DI), K1, Z5; \
	OPR(Z4, Z5, Z3)

// K1 = (1 << CX) - 1. Clobbers AX.
#define MASK512 \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVW AX, K1

// Z0 = Z0+Z1+Z2+Z3, then horizontal sum into the low lane of X0.
#define REDUCE512 \
	VADDPS        Z1, Z0, Z0; \
	VADDPS        Z3, Z2, Z2; \
	VADDPS        Z2, Z0, Z0; \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS        Y1, Y0, Y0; \
	VEXTRACTF128  $1, Y0, X1; \
	VADDPS        X1, X0, X0; \
	VMOVHLPS      X0, X0, X1; \
	VADDPS        X1, X0, X0; \
	VMOVSHDUP     X0, X1; \
	VADDSS        X1, X0, X0

// func(a, b []float32) float32
#define PAIR512(OPM, OPR) \
	MOVQ   a_base+0(FP), SI; \
	MOVQ   b_base+24(FP), DI; \
	MOVQ   a_len+8(FP), CX; \
	ZERO512; \
	BLOCKS512(OPM, NOPF); \
	TESTQ  CX, CX; \
	JZ     reduce; \
	MASK512; \
	TAIL512(OPR); \
reduce: \
	REDUCE512; \
	VMOVSS X0, ret+48(FP); \
	VZEROUPPER; \
	RET

// func(q, data, out []float32)
#define BATCH512(OPM, OPR) \
	MOVQ   q_base+0(FP), R8; \
	MOVQ   q_len+8(FP), R9; \
	MOVQ   data_base+24(FP), DI; \
	MOVQ   out_base+48(FP), R10; \
	MOVQ   out_len+56(FP), R11; \
	TESTQ  R11, R11; \
	JZ     done; \
	MOVQ   R9, CX; \
	ANDQ   $15, CX; \
	LEAQ   (CX*4), R12; \
	MASK512; \
vec: \
	MOVQ   R8, SI; \
	MOVQ   R9, CX; \
	ZERO512; \
	BLOCKS512(OPM, PFBATCH512); \
	TESTQ  R12, R12; \
	JZ     reduce; \
	TAIL512(OPR); \
	ADDQ   R12, DI; \
reduce: \
	REDUCE512; \
	VMOVSS X0, (R10); \
	ADDQ   $4, R10; \
	DECQ   R11; \
	JNZ    vec; \
	VZEROUPPER; \
done: \
	RET

// ---------------------------------------------------------------------------
// AVX2 equivalents: 8 floats per register, 32 per main-loop iteration.

#define ZERO256 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3

#define BLOCKS256(OPM, PF) \
	CMPQ CX, $32; \
	JB   y16; \
y32: \
	PF; \
	OPM(0, Y4, Y0); \
	OPM(32, Y5, Y1); \
	OPM(64, Y6, Y2); \
	OPM(96, Y7, Y3); \
	ADDQ $128, SI; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
	CMPQ CX, $32; \
	JAE  y32; \
y16: \
	CMPQ CX, $16; \
	JB   y8; \
	OPM(0, Y4, Y0); \
	OPM(32, Y5, Y1); \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $16, CX; \
y8: \
	CMPQ CX, $8; \
	JB   yend; \
	OPM(0, Y6, Y2); \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
yend:

// VMASKMOVPS does not access (or fault on) masked-off elements.
#define TAIL256(OPR) \
	VMASKMOVPS (SI), Y9, Y4; \
	VMASKMOVPS (DI), Y9, Y5; \
	OPR(Y4, Y5, Y3)

// Y9 = mask with the low CX (0..7) lanes set. Clobbers AX, CX.
#define MASK256 \
	LEAQ    tailmask256<>+32(SB), AX; \
	SHLQ    $2, CX; \
	SUBQ    CX, AX; \
	VMOVDQU (AX), Y9

#define REDUCE256 \
	VADDPS       Y1, Y0, Y0; \
	VADDPS       Y3, Y2, Y2; \
	VADDPS       Y2, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVHLPS     X0, X0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVSHDUP    X0, X1; \
	VADDSS       X1, X0, X0

#define PAIR256(OPM, OPR) \
	MOVQ   a_base+0(FP), SI; \
	MOVQ   b_base+24(FP), DI; \
	MOVQ   a_len+8(FP), CX; \
	ZERO256; \
	BLOCKS256(OPM, NOPF); \
	TESTQ  CX, CX; \
	JZ     reduce; \
	MASK256; \
	TAIL256(OPR); \
reduce: \
	REDUCE256; \
	VMOVSS X0, ret+48(FP); \
	VZEROUPPER; \
	RET

#define BATCH256(OPM, OPR) \
	MOVQ   q_base+0(FP), R8; \
	MOVQ   q_len+8(FP), R9; \
	MOVQ   data_base+24(FP), DI; \
	MOVQ   out_base+48(FP), R10; \
	MOVQ   out_len+56(FP), R11; \
	TESTQ  R11, R11; \
	JZ     done; \
	MOVQ   R9, CX; \
	ANDQ   $7, CX; \
	LEAQ   (CX*4), R12; \
	MASK256; \
vec: \
	MOVQ   R8, SI; \
	MOVQ   R9, CX; \
	ZERO256; \
	BLOCKS256(OPM, PFBATCH256); \
	TESTQ  R12, R12; \
	JZ     reduce; \
	TAIL256(OPR); \
	ADDQ   R12, DI; \
reduce: \
	REDUCE256; \
	VMOVSS X0, (R10); \
	ADDQ   $4, R10; \
	DECQ   R11; \
	JNZ    vec; \
	VZEROUPPER; \
done: \
	RET

// 8 x -1 followed by 8 x 0: 32 - 4*n bytes in, the next 8 words are a mask
// of the low n lanes.
DATA tailmask256<>+0(SB)/8, $0xffffffffffffffff
DATA tailmask256<>+8(SB)/8, $0xffffffffffffffff
DATA tailmask256<>+16(SB)/8, $0xffffffffffffffff
DATA tailmask256<>+24(SB)/8, $0xffffffffffffffff
DATA tailmask256<>+32(SB)/8, $0
DATA tailmask256<>+40(SB)/8, $0
DATA tailmask256<>+48(SB)/8, $0
DATA tailmask256<>+56(SB)/8, $0
GLOBL tailmask256<>(SB), RODATA|NOPTR, $64

// ---------------------------------------------------------------------------
// AVX-512 kernels.

// func dotAVX512(a, b []float32) float32
TEXT ·dotAVX512(SB), NOSPLIT, $0-52
	PAIR512(DOT512_M, DOT512_R)

// func l2AVX512(a, b []float32) float32
TEXT ·l2AVX512(SB), NOSPLIT, $0-52
	PAIR512(L2512_M, L2512_R)

// func l1AVX512(a, b []float32) float32
TEXT ·l1AVX512(SB), NOSPLIT, $0-52
	ABSMASK512
	PAIR512(L1512_M, L1512_R)

// func dotBatchAVX512(q, data, out []float32)
TEXT ·dotBatchAVX512(SB), NOSPLIT, $0-72
	BATCH512(DOT512_M, DOT512_R)

// func l2BatchAVX512(q, data, out []float32)
TEXT ·l2BatchAVX512(SB), NOSPLIT, $0-72
	BATCH512(L2512_M, L2512_R)

// func l1BatchAVX512(q, data, out []float32)
TEXT ·l1BatchAVX512(SB), NOSPLIT, $0-72
	ABSMASK512
	BATCH512(L1512_M, L1512_R)

// ---------------------------------------------------------------------------
// AVX2 + FMA kernels.

// func dotAVX2(a, b []float32) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	PAIR256(DOT256_M, DOT256_R)

// func l2AVX2(a, b []float32) float32
TEXT ·l2AVX2(SB), NOSPLIT, $0-52
	PAIR256(L2256_M, L2256_R)

// func l1AVX2(a, b []float32) float32
TEXT ·l1AVX2(SB), NOSPLIT, $0-52
	ABSMASK256
	PAIR256(L1256_M, L1256_R)

// func dotBatchAVX2(q, data, out []float32)
TEXT ·dotBatchAVX2(SB), NOSPLIT, $0-72
	BATCH256(DOT256_M, DOT256_R)

// func l2BatchAVX2(q, data, out []float32)
TEXT ·l2BatchAVX2(SB), NOSPLIT, $0-72
	BATCH256(L2256_M, L2256_R)

// func l1BatchAVX2(q, data, out []float32)
TEXT ·l1BatchAVX2(SB), NOSPLIT, $0-72
	ABSMASK256
	BATCH256(L1256_M, L1256_R)

// ---------------------------------------------------------------------------
// Finite checks. A float32 is NaN or ±Inf iff its exponent bits are all ones:
// (bits & 0x7f800000) == 0x7f800000. The kernels return an index i such that
// v[:i] is known to be finite and, if any element is not, the first such
// element is within the next 64 elements; the Go caller scans on from i.

// func isFiniteAVX512(v []float32) int
TEXT ·isFiniteAVX512(SB), NOSPLIT, $0-32
	MOVQ         v_base+0(FP), SI
	MOVQ         v_len+8(FP), CX
	XORQ         DX, DX
	MOVL         $0x7f800000, AX
	VPBROADCASTD AX, Z8

f64:
	CMPQ     CX, $64
	JB       f16
	VPANDD   (SI), Z8, Z4
	VPANDD   64(SI), Z8, Z5
	VPANDD   128(SI), Z8, Z6
	VPANDD   192(SI), Z8, Z7
	VPCMPEQD Z8, Z4, K1
	VPCMPEQD Z8, Z5, K2
	VPCMPEQD Z8, Z6, K3
	VPCMPEQD Z8, Z7, K4
	KORW     K2, K1, K1
	KORW     K4, K3, K3
	KORTESTW K3, K1
	JNZ      found
	ADDQ     $256, SI
	ADDQ     $64, DX
	SUBQ     $64, CX
	JMP      f64

f16:
	CMPQ     CX, $16
	JB       ftail
	VPANDD   (SI), Z8, Z4
	VPCMPEQD Z8, Z4, K1
	KORTESTW K1, K1
	JNZ      found
	ADDQ     $64, SI
	ADDQ     $16, DX
	SUBQ     $16, CX
	JMP      f16

ftail:
	TESTQ     CX, CX
	JZ        found
	MASK512
	VMOVUPS.Z (SI), K1, Z4
	VPANDD    Z8, Z4, Z4
	VPCMPEQD  Z8, Z4, K2
	KORTESTW  K2, K2
	JNZ       found
	ADDQ      CX, DX

found:
	VZEROUPPER
	MOVQ DX, ret+24(FP)
	RET

// func isFiniteAVX2(v []float32) int
TEXT ·isFiniteAVX2(SB), NOSPLIT, $0-32
	MOVQ         v_base+0(FP), SI
	MOVQ         v_len+8(FP), CX
	XORQ         DX, DX
	MOVL         $0x7f800000, AX
	VMOVD        AX, X8
	VPBROADCASTD X8, Y8

g32:
	CMPQ     CX, $32
	JB       g8
	VPAND    (SI), Y8, Y4
	VPAND    32(SI), Y8, Y5
	VPAND    64(SI), Y8, Y6
	VPAND    96(SI), Y8, Y7
	VPCMPEQD Y8, Y4, Y4
	VPCMPEQD Y8, Y5, Y5
	VPCMPEQD Y8, Y6, Y6
	VPCMPEQD Y8, Y7, Y7
	VPOR     Y5, Y4, Y4
	VPOR     Y7, Y6, Y6
	VPOR     Y6, Y4, Y4
	VPTEST   Y4, Y4
	JNZ      gdone
	ADDQ     $128, SI
	ADDQ     $32, DX
	SUBQ     $32, CX
	JMP      g32

g8:
	CMPQ     CX, $8
	JB       gdone
	VPAND    (SI), Y8, Y4
	VPCMPEQD Y8, Y4, Y4
	VPTEST   Y4, Y4
	JNZ      gdone
	ADDQ     $32, SI
	ADDQ     $8, DX
	SUBQ     $8, CX
	JMP      g8

gdone:
	VZEROUPPER
	MOVQ DX, ret+24(FP)
	RET
