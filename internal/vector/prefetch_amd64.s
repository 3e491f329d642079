//go:build !noasm

#include "textflag.h"

// func prefetchRows(base unsafe.Pointer, stride uintptr, ids []uint32, lines int)
//
// For each id in ids, PREFETCHT0 the `lines` (>= 1) consecutive cache lines
// starting at base + id*stride. Prefetches never fault, so an address
// outside the caller's slice only wastes a hint.
TEXT ·prefetchRows(SB), NOSPLIT, $0-48
	MOVQ base+0(FP), SI
	MOVQ stride+8(FP), DX
	MOVQ ids_base+16(FP), DI
	MOVQ ids_len+24(FP), CX
	MOVQ lines+40(FP), R8
	TESTQ CX, CX
	JZ   done
	TESTQ R8, R8
	JLE  done

row:
	MOVL  (DI), AX
	IMULQ DX, AX
	ADDQ  SI, AX
	MOVQ  R8, R9

line:
	PREFETCHT0 (AX)
	ADDQ       $64, AX
	DECQ       R9
	JNZ        line
	ADDQ       $4, DI
	DECQ       CX
	JNZ        row

done:
	RET
