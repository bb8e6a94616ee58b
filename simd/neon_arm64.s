//go:build gc && !purego

#include "textflag.h"

// Advanced SIMD (NEON) kernels of the "neon" set; neon_arm64.go holds their
// Go declarations and wrappers, generic.go the reference loops.
//
// Go's arm64 assembler has no mnemonics for the vector forms of FADD, FADDP,
// FMUL or for FMLA by element, so those are written as WORDs; the comment on
// each WORD is the instruction in ARM syntax (encodings checked with llvm-mc).
// All V registers are scratch in Go's arm64 ABI.
//
// Element-wise kernels run 16 floats a step (four Q registers), then 4, then
// one at a time, so any length works, 0 included. Loads and stores of a step
// all read before they write, so dst may alias x or y element for element.
// add, mul and scale round exactly like the generic loops. axpy and the
// reverse steps use fused multiply-adds in the order that Go's compiler
// picks for the standalone generic kernels on arm64 (see neon_arm64.go); the
// tests hold them to the shared FMA tolerance.

// func dotNEONAsm(x, y []float32) float32
TEXT ·dotNEONAsm(SB), NOSPLIT, $0-52
	MOVD x_base+0(FP), R0
	MOVD x_len+8(FP), R2
	MOVD y_base+24(FP), R1
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	LSR  $4, R2, R3
	CBZ  R3, dot4

dot16:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R1), [V16.S4, V17.S4, V18.S4, V19.S4]
	VFMLA  V4.S4, V16.S4, V0.S4
	VFMLA  V5.S4, V17.S4, V1.S4
	VFMLA  V6.S4, V18.S4, V2.S4
	VFMLA  V7.S4, V19.S4, V3.S4
	SUBS   $1, R3, R3
	BNE    dot16

dot4:
	AND  $15, R2, R2
	LSR  $2, R2, R3
	CBZ  R3, dotreduce

dot4loop:
	VLD1.P 16(R0), [V4.S4]
	VLD1.P 16(R1), [V16.S4]
	VFMLA  V4.S4, V16.S4, V0.S4
	SUBS   $1, R3, R3
	BNE    dot4loop

dotreduce:
	WORD $0x4E21D400 // fadd v0.4s, v0.4s, v1.4s
	WORD $0x4E23D442 // fadd v2.4s, v2.4s, v3.4s
	WORD $0x4E22D400 // fadd v0.4s, v0.4s, v2.4s
	WORD $0x6E20D400 // faddp v0.4s, v0.4s, v0.4s
	WORD $0x7E30D800 // faddp s0, v0.2s
	ANDS $3, R2, R2
	BEQ  dotdone

dot1:
	FMOVS.P 4(R0), F1
	FMOVS.P 4(R1), F2
	FMADDS  F1, F0, F2, F0 // F0 += F2 * F1
	SUBS    $1, R2, R2
	BNE     dot1

dotdone:
	FMOVS F0, ret+48(FP)
	RET

// func sumSquaresNEONAsm(x []float32) float32
TEXT ·sumSquaresNEONAsm(SB), NOSPLIT, $0-28
	MOVD x_base+0(FP), R0
	MOVD x_len+8(FP), R2
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	LSR  $4, R2, R3
	CBZ  R3, ss4

ss16:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	VFMLA  V4.S4, V4.S4, V0.S4
	VFMLA  V5.S4, V5.S4, V1.S4
	VFMLA  V6.S4, V6.S4, V2.S4
	VFMLA  V7.S4, V7.S4, V3.S4
	SUBS   $1, R3, R3
	BNE    ss16

ss4:
	AND  $15, R2, R2
	LSR  $2, R2, R3
	CBZ  R3, ssreduce

ss4loop:
	VLD1.P 16(R0), [V4.S4]
	VFMLA  V4.S4, V4.S4, V0.S4
	SUBS   $1, R3, R3
	BNE    ss4loop

ssreduce:
	WORD $0x4E21D400 // fadd v0.4s, v0.4s, v1.4s
	WORD $0x4E23D442 // fadd v2.4s, v2.4s, v3.4s
	WORD $0x4E22D400 // fadd v0.4s, v0.4s, v2.4s
	WORD $0x6E20D400 // faddp v0.4s, v0.4s, v0.4s
	WORD $0x7E30D800 // faddp s0, v0.2s
	ANDS $3, R2, R2
	BEQ  ssdone

ss1:
	FMOVS.P 4(R0), F1
	FMADDS  F1, F0, F1, F0 // F0 += F1 * F1
	SUBS    $1, R2, R2
	BNE     ss1

ssdone:
	FMOVS F0, ret+24(FP)
	RET

// func axpyNEONAsm(alpha float32, x, y []float32)
TEXT ·axpyNEONAsm(SB), NOSPLIT, $0-56
	FMOVS alpha+0(FP), F0
	MOVD  x_base+8(FP), R0
	MOVD  x_len+16(FP), R2
	MOVD  y_base+32(FP), R1
	VDUP  V0.S[0], V0.S4
	LSR   $4, R2, R3
	CBZ   R3, axpy4

axpy16:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1   (R1), [V16.S4, V17.S4, V18.S4, V19.S4]
	VFMLA  V0.S4, V4.S4, V16.S4
	VFMLA  V0.S4, V5.S4, V17.S4
	VFMLA  V0.S4, V6.S4, V18.S4
	VFMLA  V0.S4, V7.S4, V19.S4
	VST1.P [V16.S4, V17.S4, V18.S4, V19.S4], 64(R1)
	SUBS   $1, R3, R3
	BNE    axpy16

axpy4:
	AND $15, R2, R2
	LSR $2, R2, R3
	CBZ R3, axpytail

axpy4loop:
	VLD1.P 16(R0), [V4.S4]
	VLD1   (R1), [V16.S4]
	VFMLA  V0.S4, V4.S4, V16.S4
	VST1.P [V16.S4], 16(R1)
	SUBS   $1, R3, R3
	BNE    axpy4loop

axpytail:
	ANDS $3, R2, R2
	BEQ  axpydone

axpy1:
	FMOVS.P 4(R0), F1
	FMOVS   (R1), F2
	FMADDS  F0, F2, F1, F2 // F2 += F1 * alpha
	FMOVS.P F2, 4(R1)
	SUBS    $1, R2, R2
	BNE     axpy1

axpydone:
	RET

// func scaleNEONAsm(alpha float32, x []float32)
TEXT ·scaleNEONAsm(SB), NOSPLIT, $0-32
	FMOVS alpha+0(FP), F0
	MOVD  x_base+8(FP), R0
	MOVD  x_len+16(FP), R2
	VDUP  V0.S[0], V0.S4
	LSR   $4, R2, R3
	CBZ   R3, scale4

scale16:
	VLD1   (R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	WORD   $0x6E20DC84 // fmul v4.4s, v4.4s, v0.4s
	WORD   $0x6E20DCA5 // fmul v5.4s, v5.4s, v0.4s
	WORD   $0x6E20DCC6 // fmul v6.4s, v6.4s, v0.4s
	WORD   $0x6E20DCE7 // fmul v7.4s, v7.4s, v0.4s
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	SUBS   $1, R3, R3
	BNE    scale16

scale4:
	AND $15, R2, R2
	LSR $2, R2, R3
	CBZ R3, scaletail

scale4loop:
	VLD1   (R0), [V4.S4]
	WORD   $0x6E20DC84 // fmul v4.4s, v4.4s, v0.4s
	VST1.P [V4.S4], 16(R0)
	SUBS   $1, R3, R3
	BNE    scale4loop

scaletail:
	ANDS $3, R2, R2
	BEQ  scaledone

scale1:
	FMOVS   (R0), F1
	FMULS   F0, F1, F1
	FMOVS.P F1, 4(R0)
	SUBS    $1, R2, R2
	BNE     scale1

scaledone:
	RET

// func addNEONAsm(dst, x, y []float32)
TEXT ·addNEONAsm(SB), NOSPLIT, $0-72
	MOVD dst_base+0(FP), R0
	MOVD dst_len+8(FP), R3
	MOVD x_base+24(FP), R1
	MOVD y_base+48(FP), R2
	LSR  $4, R3, R4
	CBZ  R4, add4

add16:
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R2), [V16.S4, V17.S4, V18.S4, V19.S4]
	WORD   $0x4E30D484 // fadd v4.4s, v4.4s, v16.4s
	WORD   $0x4E31D4A5 // fadd v5.4s, v5.4s, v17.4s
	WORD   $0x4E32D4C6 // fadd v6.4s, v6.4s, v18.4s
	WORD   $0x4E33D4E7 // fadd v7.4s, v7.4s, v19.4s
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	SUBS   $1, R4, R4
	BNE    add16

add4:
	AND $15, R3, R3
	LSR $2, R3, R4
	CBZ R4, addtail

add4loop:
	VLD1.P 16(R1), [V4.S4]
	VLD1.P 16(R2), [V16.S4]
	WORD   $0x4E30D484 // fadd v4.4s, v4.4s, v16.4s
	VST1.P [V4.S4], 16(R0)
	SUBS   $1, R4, R4
	BNE    add4loop

addtail:
	ANDS $3, R3, R3
	BEQ  adddone

add1:
	FMOVS.P 4(R1), F1
	FMOVS.P 4(R2), F2
	FADDS   F2, F1, F1
	FMOVS.P F1, 4(R0)
	SUBS    $1, R3, R3
	BNE     add1

adddone:
	RET

// func mulNEONAsm(dst, x, y []float32)
TEXT ·mulNEONAsm(SB), NOSPLIT, $0-72
	MOVD dst_base+0(FP), R0
	MOVD dst_len+8(FP), R3
	MOVD x_base+24(FP), R1
	MOVD y_base+48(FP), R2
	LSR  $4, R3, R4
	CBZ  R4, mul4

mul16:
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R2), [V16.S4, V17.S4, V18.S4, V19.S4]
	WORD   $0x6E30DC84 // fmul v4.4s, v4.4s, v16.4s
	WORD   $0x6E31DCA5 // fmul v5.4s, v5.4s, v17.4s
	WORD   $0x6E32DCC6 // fmul v6.4s, v6.4s, v18.4s
	WORD   $0x6E33DCE7 // fmul v7.4s, v7.4s, v19.4s
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	SUBS   $1, R4, R4
	BNE    mul16

mul4:
	AND $15, R3, R3
	LSR $2, R3, R4
	CBZ R4, multail

mul4loop:
	VLD1.P 16(R1), [V4.S4]
	VLD1.P 16(R2), [V16.S4]
	WORD   $0x6E30DC84 // fmul v4.4s, v4.4s, v16.4s
	VST1.P [V4.S4], 16(R0)
	SUBS   $1, R4, R4
	BNE    mul4loop

multail:
	ANDS $3, R3, R3
	BEQ  muldone

mul1:
	FMOVS.P 4(R1), F1
	FMOVS.P 4(R2), F2
	FMULS   F2, F1, F1
	FMOVS.P F1, 4(R0)
	SUBS    $1, R3, R3
	BNE     mul1

muldone:
	RET

// func reverseStepNEONAsm(out, x, eps, z []float32, a, b, c float32)
//
// out = fma(c, z, fma(b, eps, a*x)): the generic loop a*x + b*eps + c*z with
// its sums fused as Go compiles reverseStepGeneric on arm64.
TEXT ·reverseStepNEONAsm(SB), NOSPLIT, $0-108
	MOVD  out_base+0(FP), R0
	MOVD  out_len+8(FP), R5
	MOVD  x_base+24(FP), R1
	MOVD  eps_base+48(FP), R2
	MOVD  z_base+72(FP), R3
	FMOVS a+96(FP), F0
	FMOVS b+100(FP), F1
	FMOVS c+104(FP), F2
	VDUP  V0.S[0], V0.S4
	VDUP  V1.S[0], V1.S4
	VDUP  V2.S[0], V2.S4
	LSR   $4, R5, R6
	CBZ   R6, rs4

rs16:
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R2), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1.P 64(R3), [V20.S4, V21.S4, V22.S4, V23.S4]
	WORD   $0x6E20DC84 // fmul v4.4s, v4.4s, v0.4s
	WORD   $0x6E20DCA5 // fmul v5.4s, v5.4s, v0.4s
	WORD   $0x6E20DCC6 // fmul v6.4s, v6.4s, v0.4s
	WORD   $0x6E20DCE7 // fmul v7.4s, v7.4s, v0.4s
	VFMLA  V1.S4, V16.S4, V4.S4
	VFMLA  V1.S4, V17.S4, V5.S4
	VFMLA  V1.S4, V18.S4, V6.S4
	VFMLA  V1.S4, V19.S4, V7.S4
	VFMLA  V2.S4, V20.S4, V4.S4
	VFMLA  V2.S4, V21.S4, V5.S4
	VFMLA  V2.S4, V22.S4, V6.S4
	VFMLA  V2.S4, V23.S4, V7.S4
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	SUBS   $1, R6, R6
	BNE    rs16

rs4:
	AND $15, R5, R5
	LSR $2, R5, R6
	CBZ R6, rstail

rs4loop:
	VLD1.P 16(R1), [V4.S4]
	VLD1.P 16(R2), [V16.S4]
	VLD1.P 16(R3), [V20.S4]
	WORD   $0x6E20DC84 // fmul v4.4s, v4.4s, v0.4s
	VFMLA  V1.S4, V16.S4, V4.S4
	VFMLA  V2.S4, V20.S4, V4.S4
	VST1.P [V4.S4], 16(R0)
	SUBS   $1, R6, R6
	BNE    rs4loop

rstail:
	ANDS $3, R5, R5
	BEQ  rsdone

rs1:
	FMOVS.P 4(R1), F4
	FMOVS.P 4(R2), F5
	FMOVS.P 4(R3), F6
	FMULS   F0, F4, F4
	FMADDS  F1, F4, F5, F4 // F4 += eps * b
	FMADDS  F2, F4, F6, F4 // F4 += z * c
	FMOVS.P F4, 4(R0)
	SUBS    $1, R5, R5
	BNE     rs1

rsdone:
	RET

// func reverseStepGuidedNEONAsm(out, x, eps, z, g []float32, a, b, c, d float32)
//
// out = fma(d, g, fma(c, z, fma(b, eps, a*x))), as the generic loop on arm64.
TEXT ·reverseStepGuidedNEONAsm(SB), NOSPLIT, $0-136
	MOVD  out_base+0(FP), R0
	MOVD  out_len+8(FP), R5
	MOVD  x_base+24(FP), R1
	MOVD  eps_base+48(FP), R2
	MOVD  z_base+72(FP), R3
	MOVD  g_base+96(FP), R4
	FMOVS a+120(FP), F0
	FMOVS b+124(FP), F1
	FMOVS c+128(FP), F2
	FMOVS d+132(FP), F3
	VDUP  V0.S[0], V0.S4
	VDUP  V1.S[0], V1.S4
	VDUP  V2.S[0], V2.S4
	VDUP  V3.S[0], V3.S4
	LSR   $4, R5, R6
	CBZ   R6, rsg4

rsg16:
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R2), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1.P 64(R3), [V20.S4, V21.S4, V22.S4, V23.S4]
	VLD1.P 64(R4), [V24.S4, V25.S4, V26.S4, V27.S4]
	WORD   $0x6E20DC84 // fmul v4.4s, v4.4s, v0.4s
	WORD   $0x6E20DCA5 // fmul v5.4s, v5.4s, v0.4s
	WORD   $0x6E20DCC6 // fmul v6.4s, v6.4s, v0.4s
	WORD   $0x6E20DCE7 // fmul v7.4s, v7.4s, v0.4s
	VFMLA  V1.S4, V16.S4, V4.S4
	VFMLA  V1.S4, V17.S4, V5.S4
	VFMLA  V1.S4, V18.S4, V6.S4
	VFMLA  V1.S4, V19.S4, V7.S4
	VFMLA  V2.S4, V20.S4, V4.S4
	VFMLA  V2.S4, V21.S4, V5.S4
	VFMLA  V2.S4, V22.S4, V6.S4
	VFMLA  V2.S4, V23.S4, V7.S4
	VFMLA  V3.S4, V24.S4, V4.S4
	VFMLA  V3.S4, V25.S4, V5.S4
	VFMLA  V3.S4, V26.S4, V6.S4
	VFMLA  V3.S4, V27.S4, V7.S4
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	SUBS   $1, R6, R6
	BNE    rsg16

rsg4:
	AND $15, R5, R5
	LSR $2, R5, R6
	CBZ R6, rsgtail

rsg4loop:
	VLD1.P 16(R1), [V4.S4]
	VLD1.P 16(R2), [V16.S4]
	VLD1.P 16(R3), [V20.S4]
	VLD1.P 16(R4), [V24.S4]
	WORD   $0x6E20DC84 // fmul v4.4s, v4.4s, v0.4s
	VFMLA  V1.S4, V16.S4, V4.S4
	VFMLA  V2.S4, V20.S4, V4.S4
	VFMLA  V3.S4, V24.S4, V4.S4
	VST1.P [V4.S4], 16(R0)
	SUBS   $1, R6, R6
	BNE    rsg4loop

rsgtail:
	ANDS $3, R5, R5
	BEQ  rsgdone

rsg1:
	FMOVS.P 4(R1), F4
	FMOVS.P 4(R2), F5
	FMOVS.P 4(R3), F6
	FMOVS.P 4(R4), F7
	FMULS   F0, F4, F4
	FMADDS  F1, F4, F5, F4 // F4 += eps * b
	FMADDS  F2, F4, F6, F4 // F4 += z * c
	FMADDS  F3, F4, F7, F4 // F4 += g * d
	FMOVS.P F4, 4(R0)
	SUBS    $1, R5, R5
	BNE     rsg1

rsgdone:
	RET

// func microNEON8x12Asm(kc int, a, b, c []float32, ldc int)
//
// Tile row i (0..7) accumulates in V(8+3i), V(9+3i), V(10+3i) (columns 0-3,
// 4-7, 8-11). Each step p loads a[8p:8p+8] into V0, V1 and b[12p:12p+12]
// into V2, V3, V4, then multiplies B by each A value in place (FMLA by
// element). At the end each row of C is loaded, the tile row added, and
// stored back.
TEXT ·microNEON8x12Asm(SB), NOSPLIT, $0-88
	MOVD kc+0(FP), R0
	MOVD a_base+8(FP), R1
	MOVD b_base+32(FP), R2
	MOVD c_base+56(FP), R3
	MOVD ldc+80(FP), R4
	LSL  $2, R4, R4
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	VEOR V24.B16, V24.B16, V24.B16
	VEOR V25.B16, V25.B16, V25.B16
	VEOR V26.B16, V26.B16, V26.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16

gemmloop:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	VLD1.P 48(R2), [V2.S4, V3.S4, V4.S4]
	WORD $0x4F801048 // fmla v8.4s, v2.4s, v0.s[0]
	WORD $0x4F801069 // fmla v9.4s, v3.4s, v0.s[0]
	WORD $0x4F80108A // fmla v10.4s, v4.4s, v0.s[0]
	WORD $0x4FA0104B // fmla v11.4s, v2.4s, v0.s[1]
	WORD $0x4FA0106C // fmla v12.4s, v3.4s, v0.s[1]
	WORD $0x4FA0108D // fmla v13.4s, v4.4s, v0.s[1]
	WORD $0x4F80184E // fmla v14.4s, v2.4s, v0.s[2]
	WORD $0x4F80186F // fmla v15.4s, v3.4s, v0.s[2]
	WORD $0x4F801890 // fmla v16.4s, v4.4s, v0.s[2]
	WORD $0x4FA01851 // fmla v17.4s, v2.4s, v0.s[3]
	WORD $0x4FA01872 // fmla v18.4s, v3.4s, v0.s[3]
	WORD $0x4FA01893 // fmla v19.4s, v4.4s, v0.s[3]
	WORD $0x4F811054 // fmla v20.4s, v2.4s, v1.s[0]
	WORD $0x4F811075 // fmla v21.4s, v3.4s, v1.s[0]
	WORD $0x4F811096 // fmla v22.4s, v4.4s, v1.s[0]
	WORD $0x4FA11057 // fmla v23.4s, v2.4s, v1.s[1]
	WORD $0x4FA11078 // fmla v24.4s, v3.4s, v1.s[1]
	WORD $0x4FA11099 // fmla v25.4s, v4.4s, v1.s[1]
	WORD $0x4F81185A // fmla v26.4s, v2.4s, v1.s[2]
	WORD $0x4F81187B // fmla v27.4s, v3.4s, v1.s[2]
	WORD $0x4F81189C // fmla v28.4s, v4.4s, v1.s[2]
	WORD $0x4FA1185D // fmla v29.4s, v2.4s, v1.s[3]
	WORD $0x4FA1187E // fmla v30.4s, v3.4s, v1.s[3]
	WORD $0x4FA1189F // fmla v31.4s, v4.4s, v1.s[3]
	SUBS $1, R0, R0
	BNE  gemmloop

	VLD1 (R3), [V0.S4, V1.S4, V2.S4]
	WORD $0x4E28D400 // fadd v0.4s, v0.4s, v8.4s
	WORD $0x4E29D421 // fadd v1.4s, v1.4s, v9.4s
	WORD $0x4E2AD442 // fadd v2.4s, v2.4s, v10.4s
	VST1 [V0.S4, V1.S4, V2.S4], (R3)
	ADD R4, R3, R3
	VLD1 (R3), [V0.S4, V1.S4, V2.S4]
	WORD $0x4E2BD400 // fadd v0.4s, v0.4s, v11.4s
	WORD $0x4E2CD421 // fadd v1.4s, v1.4s, v12.4s
	WORD $0x4E2DD442 // fadd v2.4s, v2.4s, v13.4s
	VST1 [V0.S4, V1.S4, V2.S4], (R3)
	ADD R4, R3, R3
	VLD1 (R3), [V0.S4, V1.S4, V2.S4]
	WORD $0x4E2ED400 // fadd v0.4s, v0.4s, v14.4s
	WORD $0x4E2FD421 // fadd v1.4s, v1.4s, v15.4s
	WORD $0x4E30D442 // fadd v2.4s, v2.4s, v16.4s
	VST1 [V0.S4, V1.S4, V2.S4], (R3)
	ADD R4, R3, R3
	VLD1 (R3), [V0.S4, V1.S4, V2.S4]
	WORD $0x4E31D400 // fadd v0.4s, v0.4s, v17.4s
	WORD $0x4E32D421 // fadd v1.4s, v1.4s, v18.4s
	WORD $0x4E33D442 // fadd v2.4s, v2.4s, v19.4s
	VST1 [V0.S4, V1.S4, V2.S4], (R3)
	ADD R4, R3, R3
	VLD1 (R3), [V0.S4, V1.S4, V2.S4]
	WORD $0x4E34D400 // fadd v0.4s, v0.4s, v20.4s
	WORD $0x4E35D421 // fadd v1.4s, v1.4s, v21.4s
	WORD $0x4E36D442 // fadd v2.4s, v2.4s, v22.4s
	VST1 [V0.S4, V1.S4, V2.S4], (R3)
	ADD R4, R3, R3
	VLD1 (R3), [V0.S4, V1.S4, V2.S4]
	WORD $0x4E37D400 // fadd v0.4s, v0.4s, v23.4s
	WORD $0x4E38D421 // fadd v1.4s, v1.4s, v24.4s
	WORD $0x4E39D442 // fadd v2.4s, v2.4s, v25.4s
	VST1 [V0.S4, V1.S4, V2.S4], (R3)
	ADD R4, R3, R3
	VLD1 (R3), [V0.S4, V1.S4, V2.S4]
	WORD $0x4E3AD400 // fadd v0.4s, v0.4s, v26.4s
	WORD $0x4E3BD421 // fadd v1.4s, v1.4s, v27.4s
	WORD $0x4E3CD442 // fadd v2.4s, v2.4s, v28.4s
	VST1 [V0.S4, V1.S4, V2.S4], (R3)
	ADD R4, R3, R3
	VLD1 (R3), [V0.S4, V1.S4, V2.S4]
	WORD $0x4E3DD400 // fadd v0.4s, v0.4s, v29.4s
	WORD $0x4E3ED421 // fadd v1.4s, v1.4s, v30.4s
	WORD $0x4E3FD442 // fadd v2.4s, v2.4s, v31.4s
	VST1 [V0.S4, V1.S4, V2.S4], (R3)
	RET

// func maxNEONAsm(x []float32) float32
//
// FMAX returns NaN when either operand is NaN, so a NaN anywhere gives NaN;
// an empty x gives the starting value -Inf.
TEXT ·maxNEONAsm(SB), NOSPLIT, $0-28
	MOVD x_base+0(FP), R0
	MOVD x_len+8(FP), R2
	MOVW $0xFF800000, R3 // -Inf
	VDUP R3, V0.S4
	VMOV V0.B16, V1.B16
	VMOV V0.B16, V2.B16
	VMOV V0.B16, V3.B16
	LSR  $4, R2, R3
	CBZ  R3, max4

max16:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	WORD $0x4E24F400 // fmax v0.4s, v0.4s, v4.4s
	WORD $0x4E25F421 // fmax v1.4s, v1.4s, v5.4s
	WORD $0x4E26F442 // fmax v2.4s, v2.4s, v6.4s
	WORD $0x4E27F463 // fmax v3.4s, v3.4s, v7.4s
	SUBS   $1, R3, R3
	BNE    max16

max4:
	AND $15, R2, R2
	LSR $2, R2, R3
	CBZ R3, maxreduce

max4loop:
	VLD1.P 16(R0), [V4.S4]
	WORD $0x4E24F400 // fmax v0.4s, v0.4s, v4.4s
	SUBS   $1, R3, R3
	BNE    max4loop

maxreduce:
	WORD $0x4E21F400 // fmax v0.4s, v0.4s, v1.4s
	WORD $0x4E23F442 // fmax v2.4s, v2.4s, v3.4s
	WORD $0x4E22F400 // fmax v0.4s, v0.4s, v2.4s
	WORD $0x6E30F800 // fmaxv s0, v0.4s
	ANDS $3, R2, R2
	BEQ  maxdone

max1:
	FMOVS.P 4(R0), F1
	FMAXS   F1, F0, F0
	SUBS    $1, R2, R2
	BNE     max1

maxdone:
	FMOVS F0, ret+24(FP)
	RET

// func expSubSumNEONAsm(x []float32, shift float32) float32
//
// len(x) must be a multiple of 4 (the Go wrapper does the tail). For each
// t = x[i] - shift, clamped to [-104, 89] (beyond which exp is 0 or +Inf in
// float32; NaN passes through): n = round(t*log2(e)), r = t - n*ln2 in two
// parts (Cody and Waite), exp(r) = 1 + r + r^2*P(r) with the degree-5
// minimax polynomial of Cephes' expf, and exp(t) = exp(r) * 2^n1 * 2^n2 with
// n1 = n>>1, n2 = n-n1, so that each power of two is a normal float and only
// the last multiply rounds (giving +Inf or a correctly rounded subnormal at
// the ends of the range).
TEXT ·expSubSumNEONAsm(SB), NOSPLIT, $0-36
	MOVD  x_base+0(FP), R0
	MOVD  x_len+8(FP), R2
	FMOVS shift+24(FP), F16
	VDUP  V16.S[0], V16.S4
	MOVW   $0x3FB8AA3B, R3 // log2(e) = 1.4426950408889634
	VDUP   R3, V17.S4
	MOVW   $0xBF318000, R3 // -ln2 high part = -0.693359375
	VDUP   R3, V18.S4
	MOVW   $0x395E8083, R3 // -ln2 low part = 0.00021219444
	VDUP   R3, V19.S4
	MOVW   $0x39506967, R3 // c6 = 0.000198756915
	VDUP   R3, V20.S4
	MOVW   $0x3AB743CE, R3 // c5 = 0.0013981999507
	VDUP   R3, V21.S4
	MOVW   $0x3C088908, R3 // c4 = 0.0083334519073
	VDUP   R3, V22.S4
	MOVW   $0x3D2AA9C1, R3 // c3 = 0.041665795894
	VDUP   R3, V23.S4
	MOVW   $0x3E2AAAAA, R3 // c2 = 0.16666665459
	VDUP   R3, V24.S4
	MOVW   $0x3F000000, R3 // c1 = 0.50000001201
	VDUP   R3, V25.S4
	MOVW   $0x3F800000, R3 // 1 = 1.0
	VDUP   R3, V26.S4
	MOVW   $0xC2D00000, R3 // lower clamp = -104.0
	VDUP   R3, V27.S4
	MOVW   $0x42B20000, R3 // upper clamp = 89.0
	VDUP   R3, V28.S4
	MOVW   $127, R3
	VDUP   R3, V29.S4 // exponent bias
	VEOR   V30.B16, V30.B16, V30.B16
	VEOR   V31.B16, V31.B16, V31.B16
	LSR    $3, R2, R3
	CBZ    R3, exp4

exp8:
	VLD1   (R0), [V0.S4, V1.S4]
	WORD $0x4EB0D400 // fsub v0.4s, v0.4s, v16.4s (t = x - shift)
	WORD $0x4E3BF400 // fmax v0.4s, v0.4s, v27.4s (NaN stays NaN)
	WORD $0x4EBCF400 // fmin v0.4s, v0.4s, v28.4s
	WORD $0x6E31DC02 // fmul v2.4s, v0.4s, v17.4s
	WORD $0x4E218842 // frintn v2.4s, v2.4s (n = round(t*log2(e)), ties to even)
	WORD $0x4EA1B846 // fcvtzs v6.4s, v2.4s
	VFMLA  V18.S4, V2.S4, V0.S4 // r = t - n*ln2 (two parts)
	VFMLA  V19.S4, V2.S4, V0.S4
	WORD $0x6E20DC05 // fmul v5.4s, v0.4s, v0.4s (r*r)
	VMOV   V21.B16, V3.B16
	VFMLA  V20.S4, V0.S4, V3.S4 // c5 + c6*r
	VMOV   V22.B16, V4.B16
	VFMLA  V3.S4, V0.S4, V4.S4 // c4 + (...)*r
	VMOV   V23.B16, V3.B16
	VFMLA  V4.S4, V0.S4, V3.S4 // c3 + (...)*r
	VMOV   V24.B16, V4.B16
	VFMLA  V3.S4, V0.S4, V4.S4 // c2 + (...)*r
	VMOV   V25.B16, V3.B16
	VFMLA  V4.S4, V0.S4, V3.S4 // c1 + (...)*r
	VFMLA  V3.S4, V5.S4, V0.S4 // r + poly*r*r
	WORD $0x4E3AD400 // fadd v0.4s, v0.4s, v26.4s (exp(r))
	WORD $0x4F3F04C7 // sshr v7.4s, v6.4s, #1 (n1 = n>>1)
	VSUB   V7.S4, V6.S4, V8.S4 // n2 = n - n1
	VADD   V29.S4, V7.S4, V7.S4
	VADD   V29.S4, V8.S4, V8.S4
	VSHL   $23, V7.S4, V7.S4 // 2^n1
	VSHL   $23, V8.S4, V8.S4 // 2^n2
	WORD $0x6E27DC00 // fmul v0.4s, v0.4s, v7.4s (exact)
	WORD $0x6E28DC00 // fmul v0.4s, v0.4s, v8.4s (rounds once, to Inf or a subnormal at the ends)
	WORD $0x4EB0D421 // fsub v1.4s, v1.4s, v16.4s (t = x - shift)
	WORD $0x4E3BF421 // fmax v1.4s, v1.4s, v27.4s (NaN stays NaN)
	WORD $0x4EBCF421 // fmin v1.4s, v1.4s, v28.4s
	WORD $0x6E31DC29 // fmul v9.4s, v1.4s, v17.4s
	WORD $0x4E218929 // frintn v9.4s, v9.4s (n = round(t*log2(e)), ties to even)
	WORD $0x4EA1B92D // fcvtzs v13.4s, v9.4s
	VFMLA  V18.S4, V9.S4, V1.S4 // r = t - n*ln2 (two parts)
	VFMLA  V19.S4, V9.S4, V1.S4
	WORD $0x6E21DC2C // fmul v12.4s, v1.4s, v1.4s (r*r)
	VMOV   V21.B16, V10.B16
	VFMLA  V20.S4, V1.S4, V10.S4 // c5 + c6*r
	VMOV   V22.B16, V11.B16
	VFMLA  V10.S4, V1.S4, V11.S4 // c4 + (...)*r
	VMOV   V23.B16, V10.B16
	VFMLA  V11.S4, V1.S4, V10.S4 // c3 + (...)*r
	VMOV   V24.B16, V11.B16
	VFMLA  V10.S4, V1.S4, V11.S4 // c2 + (...)*r
	VMOV   V25.B16, V10.B16
	VFMLA  V11.S4, V1.S4, V10.S4 // c1 + (...)*r
	VFMLA  V10.S4, V12.S4, V1.S4 // r + poly*r*r
	WORD $0x4E3AD421 // fadd v1.4s, v1.4s, v26.4s (exp(r))
	WORD $0x4F3F05AE // sshr v14.4s, v13.4s, #1 (n1 = n>>1)
	VSUB   V14.S4, V13.S4, V15.S4 // n2 = n - n1
	VADD   V29.S4, V14.S4, V14.S4
	VADD   V29.S4, V15.S4, V15.S4
	VSHL   $23, V14.S4, V14.S4 // 2^n1
	VSHL   $23, V15.S4, V15.S4 // 2^n2
	WORD $0x6E2EDC21 // fmul v1.4s, v1.4s, v14.4s (exact)
	WORD $0x6E2FDC21 // fmul v1.4s, v1.4s, v15.4s (rounds once, to Inf or a subnormal at the ends)
	VST1.P [V0.S4, V1.S4], 32(R0)
	WORD $0x4E20D7DE // fadd v30.4s, v30.4s, v0.4s
	WORD $0x4E21D7FF // fadd v31.4s, v31.4s, v1.4s
	SUBS   $1, R3, R3
	BNE    exp8

exp4:
	TBZ    $2, R2, expreduce
	VLD1   (R0), [V0.S4]
	WORD $0x4EB0D400 // fsub v0.4s, v0.4s, v16.4s (t = x - shift)
	WORD $0x4E3BF400 // fmax v0.4s, v0.4s, v27.4s (NaN stays NaN)
	WORD $0x4EBCF400 // fmin v0.4s, v0.4s, v28.4s
	WORD $0x6E31DC02 // fmul v2.4s, v0.4s, v17.4s
	WORD $0x4E218842 // frintn v2.4s, v2.4s (n = round(t*log2(e)), ties to even)
	WORD $0x4EA1B846 // fcvtzs v6.4s, v2.4s
	VFMLA  V18.S4, V2.S4, V0.S4 // r = t - n*ln2 (two parts)
	VFMLA  V19.S4, V2.S4, V0.S4
	WORD $0x6E20DC05 // fmul v5.4s, v0.4s, v0.4s (r*r)
	VMOV   V21.B16, V3.B16
	VFMLA  V20.S4, V0.S4, V3.S4 // c5 + c6*r
	VMOV   V22.B16, V4.B16
	VFMLA  V3.S4, V0.S4, V4.S4 // c4 + (...)*r
	VMOV   V23.B16, V3.B16
	VFMLA  V4.S4, V0.S4, V3.S4 // c3 + (...)*r
	VMOV   V24.B16, V4.B16
	VFMLA  V3.S4, V0.S4, V4.S4 // c2 + (...)*r
	VMOV   V25.B16, V3.B16
	VFMLA  V4.S4, V0.S4, V3.S4 // c1 + (...)*r
	VFMLA  V3.S4, V5.S4, V0.S4 // r + poly*r*r
	WORD $0x4E3AD400 // fadd v0.4s, v0.4s, v26.4s (exp(r))
	WORD $0x4F3F04C7 // sshr v7.4s, v6.4s, #1 (n1 = n>>1)
	VSUB   V7.S4, V6.S4, V8.S4 // n2 = n - n1
	VADD   V29.S4, V7.S4, V7.S4
	VADD   V29.S4, V8.S4, V8.S4
	VSHL   $23, V7.S4, V7.S4 // 2^n1
	VSHL   $23, V8.S4, V8.S4 // 2^n2
	WORD $0x6E27DC00 // fmul v0.4s, v0.4s, v7.4s (exact)
	WORD $0x6E28DC00 // fmul v0.4s, v0.4s, v8.4s (rounds once, to Inf or a subnormal at the ends)
	VST1   [V0.S4], (R0)
	WORD $0x4E20D7DE // fadd v30.4s, v30.4s, v0.4s

expreduce:
	WORD $0x4E3FD7DE // fadd v30.4s, v30.4s, v31.4s
	WORD $0x6E3ED7DE // faddp v30.4s, v30.4s, v30.4s
	WORD $0x7E30DBC0 // faddp s0, v30.2s
	FMOVS  F0, ret+32(FP)
	RET
