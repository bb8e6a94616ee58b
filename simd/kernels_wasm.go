//go:build gc && js && !purego

package simd

import "fmt"

// The WebAssembly SIMD kernel sets. Go emits no wasm SIMD, so these kernels
// are written in WebAssembly text (simd/wat/kernels.wat), assembled by
// scripts/wasm-kernels.sh into www/kernels-simd128.wasm and
// www/kernels-relaxed.wasm, and instantiated by the loader www/kernels.js on
// the Go instance's own memory. Go calls them through //go:wasmimport: each
// call passes the address of the first element of live slices and a length,
// and the kernel checks nothing, so the wrappers below check every operand
// against the length the kernel will walk (a short slice panics here, before
// any kernel runs) and never call a kernel with an empty slice.
//
// The loader reports which build it loaded through the import level: 2 for
// the relaxed-SIMD build (f32x4.relaxed_madd, fused where the engine has
// FMA), 1 for plain SIMD128, 0 when the engine has no SIMD or no build was
// found; then the stubs it supplies are never called, both sets are
// unsupported and the generic kernels run (Impl() says "generic").
//
// Rounding: the SIMD128 build rounds every product and sum separately in the
// order of the generic loops, so scale, add, mul, axpy, reverseStep and
// reverseStepGuided equal the generic kernels bit for bit, and the sgemm
// micro-kernel (4x8, sums kept in registers and added to C once) equals the
// generic 4x4 one element by element. The relaxed build may fuse the
// multiply-adds of axpy, the reverse steps, dot, sumSquares and sgemm, and is
// held to the shared tolerance. dot and sumSquares keep 8 partial sums in
// both builds. max is exact (a NaN for NaN input). expSubSum evaluates exp
// with a polynomial (see $exp4 in kernels.wat) within a few ulp of the generic
// float64 math.Exp, with the same rounding in both builds.
var (
	wasmRelaxed = kernelSet{
		name:              "wasm-relaxed",
		available:         func() bool { return wasmKernelLevel == 2 },
		dot:               dotWasm,
		axpy:              axpyWasm,
		scale:             scaleWasm,
		add:               addWasm,
		mul:               mulWasm,
		reverseStep:       reverseStepWasm,
		reverseStepGuided: reverseStepGuidedWasm,
		sumSquares:        sumSquaresWasm,
		max:               maxWasm,
		expSubSum:         expSubSumWasm,
		gemm:              gemmKernel{mr: 4, nr: 8, micro: microWasm4x8, block: gemmBlockWasm, packPanelA: packPanelAWasm, packPanelB: packPanelBWasm},
	}
	wasmSIMD128 = kernelSet{
		name:              "wasm-simd128",
		available:         func() bool { return wasmKernelLevel == 1 },
		dot:               dotWasm,
		axpy:              axpyWasm,
		scale:             scaleWasm,
		add:               addWasm,
		mul:               mulWasm,
		reverseStep:       reverseStepWasm,
		reverseStepGuided: reverseStepGuidedWasm,
		sumSquares:        sumSquaresWasm,
		max:               maxWasm,
		expSubSum:         expSubSumWasm,
		gemm:              gemmKernel{mr: 4, nr: 8, micro: microWasm4x8, block: gemmBlockWasm, packPanelA: packPanelAWasm, packPanelB: packPanelBWasm},
	}
)

// wasmKernelLevel is the build the loader supplied, asked once at start-up.
var wasmKernelLevel = wasmLevel()

//go:wasmimport cdpkernels level
func wasmLevel() int32

//go:wasmimport cdpkernels dot
//go:noescape
func wasmDot(x, y *float32, n int32) float32

//go:wasmimport cdpkernels sum_squares
//go:noescape
func wasmSumSquares(x *float32, n int32) float32

//go:wasmimport cdpkernels max
//go:noescape
func wasmMax(x *float32, n int32) float32

//go:wasmimport cdpkernels axpy
//go:noescape
func wasmAxpy(alpha float32, x, y *float32, n int32)

//go:wasmimport cdpkernels scale
//go:noescape
func wasmScale(alpha float32, x *float32, n int32)

//go:wasmimport cdpkernels add
//go:noescape
func wasmAdd(dst, x, y *float32, n int32)

//go:wasmimport cdpkernels mul
//go:noescape
func wasmMul(dst, x, y *float32, n int32)

//go:wasmimport cdpkernels reverse_step
//go:noescape
func wasmReverseStep(out, x, eps, z *float32, n int32, a, b, c float32)

//go:wasmimport cdpkernels reverse_step_guided
//go:noescape
func wasmReverseStepGuided(out, x, eps, z, g *float32, n int32, a, b, c, d float32)

//go:wasmimport cdpkernels exp_sub_sum
//go:noescape
func wasmExpSubSum(x *float32, n int32, shift float32) float32

//go:wasmimport cdpkernels gemm_4x8
//go:noescape
func wasmGemm4x8(kc int32, a, b, c *float32, ldc int32)

//go:wasmimport cdpkernels gemm_block_4x8
//go:noescape
func wasmGemmBlock4x8(kc int32, a, b, c *float32, ldc, m, n int32)

//go:wasmimport cdpkernels pack_a_4
//go:noescape
func wasmPackA4(dst, a *float32, lda, kc int32, alpha float32)

//go:wasmimport cdpkernels pack_a_4t
//go:noescape
func wasmPackA4T(dst, a *float32, lda, kc int32, alpha float32)

//go:wasmimport cdpkernels pack_b_8
//go:noescape
func wasmPackB8(dst, b *float32, ldb, kc int32)

//go:wasmimport cdpkernels pack_b_8t
//go:noescape
func wasmPackB8T(dst, b *float32, ldb, kc int32)

// maxKernelLen bounds the lengths handed to a kernel (int32 on the wasm side);
// a wasm32 memory holds fewer float32s than this.
const maxKernelLen = 1<<31 - 1

// need panics unless every operand holds at least n floats. (Re-slicing,
// y = y[:n], would not do: it succeeds up to the capacity, past the length.)
func need(kernel string, n int, xs ...[]float32) {
	for _, x := range xs {
		if len(x) < n {
			panic(fmt.Sprintf("simd: wasm %s kernel: operand of length %d, need %d", kernel, len(x), n))
		}
	}
}

func kernelLen(n int) int32 {
	if n > maxKernelLen {
		panic("simd: slice too long for a wasm kernel")
	}
	return int32(n)
}

func dotWasm(x, y []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	need("dot", len(x), y)
	return wasmDot(&x[0], &y[0], kernelLen(len(x)))
}

func sumSquaresWasm(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return wasmSumSquares(&x[0], kernelLen(len(x)))
}

func maxWasm(x []float32) float32 {
	if len(x) == 0 {
		return maxGeneric(x)
	}
	return wasmMax(&x[0], kernelLen(len(x)))
}

func axpyWasm(alpha float32, x, y []float32) {
	if len(x) == 0 {
		return
	}
	need("axpy", len(x), y)
	wasmAxpy(alpha, &x[0], &y[0], kernelLen(len(x)))
}

func scaleWasm(alpha float32, x []float32) {
	if len(x) == 0 {
		return
	}
	wasmScale(alpha, &x[0], kernelLen(len(x)))
}

func addWasm(dst, x, y []float32) {
	if len(dst) == 0 {
		return
	}
	need("add", len(dst), x, y)
	wasmAdd(&dst[0], &x[0], &y[0], kernelLen(len(dst)))
}

func mulWasm(dst, x, y []float32) {
	if len(dst) == 0 {
		return
	}
	need("mul", len(dst), x, y)
	wasmMul(&dst[0], &x[0], &y[0], kernelLen(len(dst)))
}

func reverseStepWasm(out, x, eps, z []float32, a, b, c float32) {
	if len(out) == 0 {
		return
	}
	need("reverse step", len(out), x, eps, z)
	wasmReverseStep(&out[0], &x[0], &eps[0], &z[0], kernelLen(len(out)), a, b, c)
}

func reverseStepGuidedWasm(out, x, eps, z, g []float32, a, b, c, d float32) {
	if len(out) == 0 {
		return
	}
	need("guided reverse step", len(out), x, eps, z, g)
	wasmReverseStepGuided(&out[0], &x[0], &eps[0], &z[0], &g[0], kernelLen(len(out)), a, b, c, d)
}

func expSubSumWasm(x []float32, shift float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return wasmExpSubSum(&x[0], kernelLen(len(x)), shift)
}

// microWasm4x8 is the micro-kernel of the wasm sets (mr = 4, nr = 8); see
// gemmKernel. The tile of C is c[i*ldc+j], i < 4, j < 8.
func microWasm4x8(kc int, a, b, c []float32, ldc int) {
	if kc <= 0 {
		return
	}
	if ldc < 8 {
		panic(fmt.Sprintf("simd: wasm gemm kernel: ldc = %d < nr = 8", ldc))
	}
	need("gemm A panel", 4*kc, a)
	need("gemm B panel", 8*kc, b)
	need("gemm C tile", 3*ldc+8, c)
	wasmGemm4x8(kernelLen(kc), &a[0], &b[0], &c[0], kernelLen(ldc))
}

// gemmBlockWasm runs the micro-kernel over every tile of the m x n block of C
// at c (row stride ldc; m a multiple of 4, n of 8) in one call, with the
// loops of the packed driver (column panels outer, row panels inner): a holds
// m/4 packed A panels of 4*kc floats, b holds n/8 packed B panels of 8*kc
// floats. It computes exactly what microWasm4x8 tile by tile does, with one
// call into the kernels instead of one per tile (gemmKernel.block).
func gemmBlockWasm(kc int, a, b, c []float32, ldc, m, n int) {
	if kc <= 0 || m <= 0 || n <= 0 {
		return
	}
	if m%4 != 0 || n%8 != 0 || ldc < n {
		panic(fmt.Sprintf("simd: wasm gemm block kernel: %d x %d block with stride %d (want multiples of 4 x 8, stride >= columns)", m, n, ldc))
	}
	need("gemm A block", m*kc, a)
	need("gemm B block", n*kc, b)
	need("gemm C block", (m-1)*ldc+n, c)
	wasmGemmBlock4x8(kernelLen(kc), &a[0], &b[0], &c[0], kernelLen(ldc), kernelLen(m), kernelLen(n))
}

// packPanelAWasm packs one full 4-row panel of alpha*op(A) as packA in
// sgemm.go does: dst[4p+i] = alpha*op(A)[i][p], p < kc, where op(A)[i][p] is
// a[i*lda+p], or a[p*lda+i] if trans (gemmKernel.packPanelA).
func packPanelAWasm(dst, a []float32, lda, kc int, trans bool, alpha float32) {
	if kc <= 0 {
		return
	}
	need("gemm A panel", 4*kc, dst)
	if trans {
		if lda < 4 {
			panic(fmt.Sprintf("simd: wasm pack kernel: lda = %d < 4", lda))
		}
		need("A", (kc-1)*lda+4, a)
		wasmPackA4T(&dst[0], &a[0], kernelLen(lda), kernelLen(kc), alpha)
		return
	}
	if lda < kc {
		panic(fmt.Sprintf("simd: wasm pack kernel: lda = %d < kc = %d", lda, kc))
	}
	need("A", 3*lda+kc, a)
	wasmPackA4(&dst[0], &a[0], kernelLen(lda), kernelLen(kc), alpha)
}

// packPanelBWasm packs one full 8-column panel of op(B) as packB in sgemm.go
// does: dst[8p+j] = op(B)[p][j], p < kc, where op(B)[p][j] is b[p*ldb+j], or
// b[j*ldb+p] if trans (gemmKernel.packPanelB).
func packPanelBWasm(dst, b []float32, ldb, kc int, trans bool) {
	if kc <= 0 {
		return
	}
	need("gemm B panel", 8*kc, dst)
	if trans {
		if ldb < kc {
			panic(fmt.Sprintf("simd: wasm pack kernel: ldb = %d < kc = %d", ldb, kc))
		}
		need("B", 7*ldb+kc, b)
		wasmPackB8T(&dst[0], &b[0], kernelLen(ldb), kernelLen(kc))
		return
	}
	if ldb < 8 {
		panic(fmt.Sprintf("simd: wasm pack kernel: ldb = %d < 8", ldb))
	}
	need("B", (kc-1)*ldb+8, b)
	wasmPackB8(&dst[0], &b[0], kernelLen(ldb), kernelLen(kc))
}
