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
// micro-kernel (2x16, sums kept in registers and added to C once) equals the
// generic 4x4 one element by element. The relaxed build may fuse the
// multiply-adds of axpy, the reverse steps, dot, sumSquares and sgemm, and is
// held to the shared tolerance. dot and sumSquares keep 8 partial sums in
// both builds. max is exact (a NaN for NaN input). expSubSum evaluates exp
// with a polynomial (see $exp4 in kernels.wat) within a few ulp of the generic
// float64 math.Exp, with the same rounding in both builds; silu8 uses that
// exponential and gives what simd.SiLU's loop over expSubSum gives, bit for
// bit. gather16 and the sgemm packing kernels copy. The group-norm kernels
// (norm.go) centre exactly, sum squares like sumSquares, and the relaxed
// build may fuse the affine map's multiply-add.
//
// The sgemm tile is 2 x 16: 8 sums in registers, one broadcast of A per 4
// multiply-adds, and no spills in V8's code for the loop (4x8 does the same
// work with two more address computations a step; larger tiles or unrolled
// loops spill, since V8 schedules every load of the loop body first). With
// nr = 16 a column panel of a convolution is 16 output pixels, the width of
// gather16.
//
// On the SIMD128 build plain Sgemm has a kernel of its own
// (kernelSet.gemmPlain = gemmWasm4x8), a 4 x 8 tile (gemm_4x8 in
// kernels.wat) whose loop does two steps of k per pass behind a branch that
// keeps V8 from spilling. In node 20 the kernel alone ran at 0.81 of the
// same run's multiply-add peak against 0.66 for 2 x 16, and Sgemm at
// 256^3 and 512^3 1.01-1.10x and 1.11-1.20x as fast (BenchmarkWasmSgemmSideBySide).
// The relaxed build keeps 2 x 16 for Sgemm: with fused multiply-adds its
// loop is no longer the bottleneck, and 4 x 8 ran at 0.89-0.99x. gemmWasm4x8
// packs its own panels (4 rows of A, 8 columns of B) in wasm and has its own
// block kernel. It rounds exactly as 2 x 16 does: each sum starts from +0,
// is accumulated over k in order and added to C once, so the SIMD128 build
// still equals the generic kernel bit for bit.
var (
	wasmRelaxed = wasmSet("wasm-relaxed", 2)
	wasmSIMD128 = wasmSet("wasm-simd128", 1)
)

// gemmWasm2x16 is the sgemm kernel of the wasm sets, gemmWasm4x8 that of
// plain Sgemm on the SIMD128 build (see above).
var (
	gemmWasm2x16 = wasmTile2x16.kernel()
	gemmWasm4x8  = wasmTile4x8.kernel()
)

// wasmSet is the kernel set of the build that the loader reports as level:
// both builds export the same kernels, so the sets differ in name, in which
// level makes them available, and in the kernel of plain Sgemm (gemmPlain,
// 4 x 8 on the SIMD128 build; the relaxed build leaves it to gemm).
func wasmSet(name string, level int32) kernelSet {
	s := kernelSet{
		name:              name,
		available:         func() bool { return wasmKernelLevel == level },
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
		gemm:              gemmWasm2x16,
		silu8:             siluWasm,
		gather16:          gatherRows16Wasm,
		centerSumSquares:  centerSumSquaresWasm,
		normalizeAffine:   normalizeAffineWasm,
	}
	if level == 1 {
		s.gemmPlain = gemmWasm4x8
	}
	return s
}

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

//go:wasmimport cdpkernels gemm_2x16
//go:noescape
func wasmGemm2x16(kc int32, a, b, c *float32, ldc, store int32)

//go:wasmimport cdpkernels gemm_block_2x16
//go:noescape
func wasmGemmBlock2x16(kc int32, a, b, c *float32, ldc, m, n, store int32)

//go:wasmimport cdpkernels pack_a_2
//go:noescape
func wasmPackA2(dst, a *float32, lda, kc int32, alpha float32)

//go:wasmimport cdpkernels pack_a_2t
//go:noescape
func wasmPackA2T(dst, a *float32, lda, kc int32, alpha float32)

//go:wasmimport cdpkernels pack_b_16
//go:noescape
func wasmPackB16(dst, b *float32, ldb, kc int32)

//go:wasmimport cdpkernels pack_b_16t
//go:noescape
func wasmPackB16T(dst, b *float32, ldb, kc int32)

//go:wasmimport cdpkernels gemm_4x8
//go:noescape
func wasmGemm4x8(kc int32, a, b, c *float32, ldc, store int32)

//go:wasmimport cdpkernels gemm_block_4x8
//go:noescape
func wasmGemmBlock4x8(kc int32, a, b, c *float32, ldc, m, n, store int32)

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

//go:wasmimport cdpkernels gather16
//go:noescape
func wasmGather16(dst, src *float32, offs *int32, n, base int32)

//go:wasmimport cdpkernels offs_range
//go:noescape
func wasmOffsRange(offs *int32, n int32) int64

//go:wasmimport cdpkernels silu
//go:noescape
func wasmSiLU(y, s, x *float32, n int32)

//go:wasmimport cdpkernels center_sum_squares
//go:noescape
func wasmCenterSumSquares(dst, x *float32, n int32, mean float32) float32

//go:wasmimport cdpkernels normalize_affine
//go:noescape
func wasmNormalizeAffine(xhat, y *float32, n int32, rstd, gamma, beta float32)

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

// wasmTile is one register tile of the wasm sgemm kernels: gemm_<mr>x<nr>,
// gemm_block_<mr>x<nr> and the packing kernels pack_a_<mr>(t) and
// pack_b_<nr>(t) in kernels.wat, with the bounds checks that Go makes before
// calling them. Its kernel method is the gemmKernel.
type wasmTile struct {
	mr, nr int
	gemm   func(kc int32, a, b, c *float32, ldc, store int32)
	block  func(kc int32, a, b, c *float32, ldc, m, n, store int32)
	// packA, packAT, packB and packBT pack one full panel of op(A) or op(B)
	// (plain or transposed).
	packA, packAT func(dst, a *float32, lda, kc int32, alpha float32)
	packB, packBT func(dst, b *float32, ldb, kc int32)
}

var (
	wasmTile2x16 = wasmTile{mr: 2, nr: 16, gemm: wasmGemm2x16, block: wasmGemmBlock2x16,
		packA: wasmPackA2, packAT: wasmPackA2T, packB: wasmPackB16, packBT: wasmPackB16T}
	wasmTile4x8 = wasmTile{mr: 4, nr: 8, gemm: wasmGemm4x8, block: wasmGemmBlock4x8,
		packA: wasmPackA4, packAT: wasmPackA4T, packB: wasmPackB8, packBT: wasmPackB8T}
)

// kernel returns the tile's gemmKernel: micro (store = 0) and microStore
// (store = 1, the tile overwritten with the product, bit for bit what
// clearing it and adding gives), block and blockStore (every tile of an m x
// n block of C in one call, with the loops of the packed driver: column
// panels outer, row panels inner; a holds m/mr packed A panels of mr*kc
// floats, b holds n/nr packed B panels of nr*kc), and the panel packers.
func (t *wasmTile) kernel() gemmKernel {
	return gemmKernel{
		mr: t.mr, nr: t.nr,
		micro:      func(kc int, a, b, c []float32, ldc int) { t.micro(kc, a, b, c, ldc, 0) },
		microStore: func(kc int, a, b, c []float32, ldc int) { t.micro(kc, a, b, c, ldc, 1) },
		block:      func(kc int, a, b, c []float32, ldc, m, n int) { t.runBlock(kc, a, b, c, ldc, m, n, 0) },
		blockStore: func(kc int, a, b, c []float32, ldc, m, n int) { t.runBlock(kc, a, b, c, ldc, m, n, 1) },
		packPanelA: t.packPanelA,
		packPanelB: t.packPanelB,
	}
}

// micro adds (store = 0) or stores (store = 1) the product of the packed
// panels a (mr x kc) and b (kc x nr) to the tile c[i*ldc+j], i < mr, j < nr.
func (t *wasmTile) micro(kc int, a, b, c []float32, ldc int, store int32) {
	mr, nr := t.mr, t.nr
	if kc <= 0 {
		if store != 0 {
			// An empty product: the tile becomes 0.
			for i := 0; i < mr; i++ {
				clear(c[i*ldc : i*ldc+nr])
			}
		}
		return
	}
	// One test for the common case: the driver calls this once per tile.
	if ldc < nr || len(a) < mr*kc || len(b) < nr*kc || len(c) < (mr-1)*ldc+nr {
		if ldc < nr {
			panic(fmt.Sprintf("simd: wasm gemm kernel: ldc = %d < nr = %d", ldc, nr))
		}
		need("gemm A panel", mr*kc, a)
		need("gemm B panel", nr*kc, b)
		need("gemm C tile", (mr-1)*ldc+nr, c)
	}
	t.gemm(kernelLen(kc), &a[0], &b[0], &c[0], kernelLen(ldc), store)
}

// runBlock is micro over every tile of the m x n block of C at c (row
// stride ldc; m a multiple of mr, n of nr) in one call into the kernels.
func (t *wasmTile) runBlock(kc int, a, b, c []float32, ldc, m, n int, store int32) {
	if kc <= 0 || m <= 0 || n <= 0 {
		if kc <= 0 && store != 0 && m > 0 && n > 0 {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	if m%t.mr != 0 || n%t.nr != 0 || ldc < n {
		panic(fmt.Sprintf("simd: wasm gemm block kernel: %d x %d block with stride %d (want multiples of %d x %d, stride >= columns)", m, n, ldc, t.mr, t.nr))
	}
	need("gemm A block", m*kc, a)
	need("gemm B block", n*kc, b)
	need("gemm C block", (m-1)*ldc+n, c)
	t.block(kernelLen(kc), &a[0], &b[0], &c[0], kernelLen(ldc), kernelLen(m), kernelLen(n), store)
}

// packPanelA packs one full mr-row panel of alpha*op(A) as packA in sgemm.go
// does: dst[mr*p+i] = alpha*op(A)[i][p], p < kc, where op(A)[i][p] is
// a[i*lda+p], or a[p*lda+i] if trans (gemmKernel.packPanelA).
func (t *wasmTile) packPanelA(dst, a []float32, lda, kc int, trans bool, alpha float32) {
	mr := t.mr
	if kc <= 0 {
		return
	}
	need("gemm A panel", mr*kc, dst)
	if trans {
		if lda < mr {
			panic(fmt.Sprintf("simd: wasm pack kernel: lda = %d < %d", lda, mr))
		}
		need("A", (kc-1)*lda+mr, a)
		t.packAT(&dst[0], &a[0], kernelLen(lda), kernelLen(kc), alpha)
		return
	}
	if lda < kc {
		panic(fmt.Sprintf("simd: wasm pack kernel: lda = %d < kc = %d", lda, kc))
	}
	need("A", (mr-1)*lda+kc, a)
	t.packA(&dst[0], &a[0], kernelLen(lda), kernelLen(kc), alpha)
}

// packPanelB packs one full nr-column panel of op(B) as packB in sgemm.go
// does: dst[nr*p+j] = op(B)[p][j], p < kc, where op(B)[p][j] is b[p*ldb+j],
// or b[j*ldb+p] if trans (gemmKernel.packPanelB).
func (t *wasmTile) packPanelB(dst, b []float32, ldb, kc int, trans bool) {
	nr := t.nr
	if kc <= 0 {
		return
	}
	need("gemm B panel", nr*kc, dst)
	if trans {
		if ldb < kc {
			panic(fmt.Sprintf("simd: wasm pack kernel: ldb = %d < kc = %d", ldb, kc))
		}
		need("B", (nr-1)*ldb+kc, b)
		t.packBT(&dst[0], &b[0], kernelLen(ldb), kernelLen(kc))
		return
	}
	if ldb < nr {
		panic(fmt.Sprintf("simd: wasm pack kernel: ldb = %d < %d", ldb, nr))
	}
	need("B", (kc-1)*ldb+nr, b)
	t.packB(&dst[0], &b[0], kernelLen(ldb), kernelLen(kc))
}

// gatherRows16Wasm is GatherRows for width 16 (kernelSet.gather16):
// dst[16p+l] = src[base+offs[p]+l]. Every row is checked against src here,
// before the kernel copies any; it returns the first row outside src (and
// copies nothing) or len(offs).
func gatherRows16Wasm(dst, src []float32, offs []int32, base int) int {
	if len(offs) == 0 {
		return 0
	}
	need("gather dst", 16*len(offs), dst)
	// Row p starts at src[base+offs[p]]: all rows lie in src when the
	// smallest and the largest offset do (offs_range finds them, faster than
	// a Go loop); otherwise the Go loop finds the first bad row. The kernel
	// adds base and the offsets in 32-bit arithmetic, which wraps to the same
	// address for every row that passes this check.
	hi := len(src) - 16
	r := wasmOffsRange(&offs[0], kernelLen(len(offs)))
	if lo, up := base+int(int32(r)), base+int(int32(r>>32)); lo < 0 || up > hi {
		for p, o := range offs {
			if i := base + int(o); i < 0 || i > hi {
				return p
			}
		}
		panic("simd: wasm offs_range kernel: a row is outside src but none was found")
	}
	wasmGather16(&dst[0], &src[0], &offs[0], kernelLen(len(offs)), int32(base))
	return len(offs)
}

// siluWasm is SiLU on the first len(x) values (kernelSet.silu8: len(x) a
// multiple of 8): s[i] = 1/(1+exp(-x[i])), y[i] = x[i]*s[i], with the
// exponential of expSubSumWasm.
func siluWasm(y, s, x []float32) {
	if len(x) == 0 {
		return
	}
	if len(x)%4 != 0 {
		panic(fmt.Sprintf("simd: wasm silu kernel: length %d is not a multiple of 4", len(x)))
	}
	need("silu", len(x), y, s)
	wasmSiLU(&y[0], &s[0], &x[0], kernelLen(len(x)))
}

func centerSumSquaresWasm(dst, x []float32, mean float32) float32 {
	if len(x) == 0 {
		return 0
	}
	need("center sum squares", len(x), dst)
	return wasmCenterSumSquares(&dst[0], &x[0], kernelLen(len(x)), mean)
}

func normalizeAffineWasm(xhat, y []float32, rstd, gamma, beta float32) {
	if len(xhat) == 0 {
		return
	}
	need("normalize affine", len(xhat), y)
	wasmNormalizeAffine(&xhat[0], &y[0], kernelLen(len(xhat)), rstd, gamma, beta)
}
