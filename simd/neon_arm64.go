//go:build gc && !purego

package simd

import (
	"fmt"
	"math"

	"github.com/klauspost/cpuid/v2"
)

// neon is the kernel set written in arm64 Advanced SIMD (NEON) assembly,
// neon_arm64.s. Every arm64 CPU has ASIMD; requires names it all the same so
// that cpuid stays the one place that decides.
//
// Rounding: Go's compiler may fuse x*y + z into FMADD on arm64, and does so
// in the generic kernels: compiled on their own (as the kernel table calls
// them), axpyGeneric is fma(alpha, x, y) and reverseStepGeneric is
// fma(c, z, fma(b, eps, a*x)). Which product gets fused is the compiler's
// choice, though, and it chose differently when reverseStepGeneric was
// inlined into a test (fma(a, x, b*eps)). The NEON kernels use the fused
// order above; scale, add and mul have no multiply-add and are exact, while
// axpy, reverseStep and reverseStepGuided are held to the shared FMA
// tolerance (today they also equal the standalone generic kernels bit for
// bit on arm64). dot and sumSquares keep 16 partial sums in four registers
// and the sgemm micro-kernel keeps its tile in registers, so they differ
// from the generic loops by the usual reduction bound. max is exact (for
// NaN it returns a NaN, not necessarily the first one of x). expSubSum
// evaluates exp with a polynomial (see neon_arm64.s), within a few ulp of
// the generic float64 math.Exp; subnormal results are rounded correctly.
var neon = kernelSet{
	name:              "neon",
	requires:          []cpuid.FeatureID{cpuid.ASIMD},
	dot:               dotNEON,
	axpy:              axpyNEON,
	scale:             scaleNEONAsm,
	add:               addNEON,
	mul:               mulNEON,
	reverseStep:       reverseStepNEON,
	reverseStepGuided: reverseStepGuidedNEON,
	sumSquares:        sumSquaresNEONAsm,
	max:               maxNEONAsm,
	expSubSum:         expSubSumNEON,
	gemm:              gemmKernel{mr: 8, nr: 12, micro: microNEON8x12},
}

// The Go wrappers below re-slice every input to the length the assembly
// will walk, so that a short slice panics here instead of being read past
// its end; the assembly itself checks nothing.

func dotNEON(x, y []float32) float32 {
	y = y[:len(x)]
	return dotNEONAsm(x, y)
}

func axpyNEON(alpha float32, x, y []float32) {
	y = y[:len(x)]
	axpyNEONAsm(alpha, x, y)
}

func addNEON(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	addNEONAsm(dst, x, y)
}

func mulNEON(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	mulNEONAsm(dst, x, y)
}

func reverseStepNEON(out, x, eps, z []float32, a, b, c float32) {
	x, eps, z = x[:len(out)], eps[:len(out)], z[:len(out)]
	reverseStepNEONAsm(out, x, eps, z, a, b, c)
}

func reverseStepGuidedNEON(out, x, eps, z, g []float32, a, b, c, d float32) {
	x, eps, z, g = x[:len(out)], eps[:len(out)], z[:len(out)], g[:len(out)]
	reverseStepGuidedNEONAsm(out, x, eps, z, g, a, b, c, d)
}

func expSubSumNEON(x []float32, shift float32) float32 {
	n := len(x) &^ 3
	sum := expSubSumNEONAsm(x[:n], shift)
	for i := n; i < len(x); i++ {
		e := float32(math.Exp(float64(x[i] - shift)))
		x[i] = e
		sum += e
	}
	return sum
}

// microNEON8x12 is the NEON sgemm micro-kernel, mr = 8, nr = 12; see
// gemmKernel for the loop it computes. The 8 x 12 tile lives in 24
// registers; each step p loads the 8 values of A and the 12 values of B and
// issues 24 FMLA by element.
func microNEON8x12(kc int, a, b, c []float32, ldc int) {
	if kc <= 0 {
		return
	}
	if len(a) < 8*kc || len(b) < 12*kc || ldc < 12 || len(c) < 7*ldc+12 {
		panic(fmt.Sprintf("simd: neon micro-kernel: kc=%d ldc=%d but len(a)=%d len(b)=%d len(c)=%d", kc, ldc, len(a), len(b), len(c)))
	}
	microNEON8x12Asm(kc, a, b, c, ldc)
}

// dotNEONAsm returns sum_i x[i]*y[i]; len(y) >= len(x).
//
//go:noescape
func dotNEONAsm(x, y []float32) float32

// sumSquaresNEONAsm returns sum_i x[i]*x[i].
//
//go:noescape
func sumSquaresNEONAsm(x []float32) float32

// axpyNEONAsm sets y[i] = fma(alpha, x[i], y[i]) for i < len(x).
//
//go:noescape
func axpyNEONAsm(alpha float32, x, y []float32)

// scaleNEONAsm sets x[i] *= alpha.
//
//go:noescape
func scaleNEONAsm(alpha float32, x []float32)

// addNEONAsm sets dst[i] = x[i] + y[i] for i < len(dst).
//
//go:noescape
func addNEONAsm(dst, x, y []float32)

// mulNEONAsm sets dst[i] = x[i] * y[i] for i < len(dst).
//
//go:noescape
func mulNEONAsm(dst, x, y []float32)

// reverseStepNEONAsm sets out[i] = fma(c, z[i], fma(b, eps[i], a*x[i])).
//
//go:noescape
func reverseStepNEONAsm(out, x, eps, z []float32, a, b, c float32)

// reverseStepGuidedNEONAsm sets
// out[i] = fma(d, g[i], fma(c, z[i], fma(b, eps[i], a*x[i]))).
//
//go:noescape
func reverseStepGuidedNEONAsm(out, x, eps, z, g []float32, a, b, c, d float32)

// microNEON8x12Asm adds the packed 8 x kc panel a times the packed kc x 12
// panel b to the 8 x 12 tile of c with row stride ldc; kc >= 1.
//
//go:noescape
func microNEON8x12Asm(kc int, a, b, c []float32, ldc int)

// maxNEONAsm returns the largest element of x (-Inf if empty, NaN if x holds
// a NaN).
//
//go:noescape
func maxNEONAsm(x []float32) float32

// expSubSumNEONAsm replaces each x[i] by exp(x[i]-shift) and returns their
// sum; len(x) must be a multiple of 4.
//
//go:noescape
func expSubSumNEONAsm(x []float32, shift float32) float32
