//go:build gc && js && !purego

package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cdp-project/cdp/simd/simdtest"
)

// These tests run under scripts/go_js_wasm_exec_simd, which loads the kernel
// build named by CDP_WASM_KERNELS (relaxed, simd128, none, or auto) and tells
// the program which one it loaded in CDP_WASM_KERNELS_LOADED. The shared tests
// in simd_test.go run every supported set, the wasm ones included, against the
// generic reference; the tests here check the loader's report, the
// bit-for-bit equality of the SIMD128 build, and the Go-side bounds checks.

// wasmSetFor names the kernel set that a loaded build must select.
var wasmSetFor = map[string]string{"relaxed": "wasm-relaxed", "simd128": "wasm-simd128", "none": "generic"}

func init() {
	if set := wasmSetFor[os.Getenv("CDP_WASM_KERNELS_LOADED")]; set != "" && set != "generic" {
		requiredSets = append(requiredSets, set)
	}
}

// TestWasmKernelBuild checks that the set in use is the one the loader
// loaded, and that a forced build was the one loaded.
func TestWasmKernelBuild(t *testing.T) {
	loaded := os.Getenv("CDP_WASM_KERNELS_LOADED")
	if loaded == "" {
		t.Fatalf("CDP_WASM_KERNELS_LOADED is unset: run these tests with -exec scripts/go_js_wasm_exec_simd")
	}
	if forced := os.Getenv("CDP_WASM_KERNELS"); forced != "" && forced != "auto" && forced != loaded {
		t.Fatalf("CDP_WASM_KERNELS=%s but the runner loaded %q", forced, loaded)
	}
	want, ok := wasmSetFor[loaded]
	if !ok {
		t.Fatalf("the runner loaded an unknown build %q", loaded)
	}
	if err := Use("auto"); err != nil {
		t.Fatal(err)
	}
	if Impl() != want {
		t.Fatalf("build %s loaded (level %d): Impl() = %q, want %q (supported: %v)", loaded, wasmKernelLevel, Impl(), want, Supported())
	}
	if !slices.Contains(Names(), "wasm-relaxed") || !slices.Contains(Names(), "wasm-simd128") {
		t.Fatalf("Names() = %v, want both wasm sets listed", Names())
	}
	for _, name := range []string{"wasm-relaxed", "wasm-simd128"} {
		err := Use(name)
		if name == want {
			if err != nil {
				t.Fatalf("Use(%q) = %v", name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "not available") {
			t.Fatalf("build %s loaded: Use(%q) = %v, want a not-available error", loaded, name, err)
		}
	}
	Use("auto")
	if loaded == "none" && !slices.Equal(Supported(), []string{"generic"}) {
		t.Fatalf("no SIMD build loaded: Supported() = %v, want [generic]", Supported())
	}
}

func sameBits(got, want []float32) int {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			return i
		}
	}
	return -1
}

// TestWasmSIMD128Exact: the SIMD128 build rounds like the generic loops, so
// its element-wise kernels and its sgemm equal the generic ones bit for bit
// (the shared tests hold it only to the FMA tolerance).
func TestWasmSIMD128Exact(t *testing.T) {
	if !supported(&wasmSIMD128) {
		t.Skipf("the SIMD128 build is not loaded (%q is): nothing to compare", os.Getenv("CDP_WASM_KERNELS_LOADED"))
	}
	r := rand.New(rand.NewPCG(11, 12))
	k := &wasmSIMD128
	for _, n := range testLengths() {
		for off := 0; off < 4; off++ {
			x := simdtest.Offset(special(r, simdtest.Rand(r, n), 0.02), off)
			y := simdtest.Offset(special(r, simdtest.Rand(r, n), 0.02), (off+1)%4)
			z := simdtest.Offset(simdtest.Rand(r, n), (off+2)%4)
			e := simdtest.Offset(simdtest.Rand(r, n), (off+3)%4)
			a, b, c, d := 2*r.Float32()-1, 2*r.Float32()-1, 2*r.Float32()-1, 2*r.Float32()-1
			got, want := make([]float32, n), make([]float32, n)
			check := func(what string) {
				t.Helper()
				if i := sameBits(got, want); i >= 0 {
					t.Fatalf("%s n=%d off=%d: [%d] = %v, generic %v", what, n, off, i, got[i], want[i])
				}
			}
			copy(got, y)
			copy(want, y)
			k.axpy(a, x, got)
			axpyGeneric(a, x, want)
			check("axpy")
			k.reverseStep(got, x, e, z, a, b, c)
			reverseStepGeneric(want, x, e, z, a, b, c)
			check("reverseStep")
			k.reverseStepGuided(got, x, e, z, y, a, b, c, d)
			reverseStepGuidedGeneric(want, x, e, z, y, a, b, c, d)
			check("reverseStepGuided")
			k.mul(got, x, y)
			mulGeneric(want, x, y)
			check("mul")
			k.add(got, got, y)
			addGeneric(want, want, y)
			check("add")
			k.scale(a, got)
			scaleGeneric(a, want)
			check("scale")
		}
	}
	// Both sgemm kernels of the set: the convolution tile (gemm, 2 x 16)
	// and the one of plain Sgemm (gemmPlain, 4 x 8), on odd shapes, 1xK
	// and Mx1, every transpose, and alpha/beta variants (beta = 0 ignores
	// the NaN that C holds).
	ab := [][2]float32{{0.75, 0.5}, {1, 0}, {-2.5, 1}, {1, -1.25}}
	for _, g := range []struct {
		name string
		g    gemmKernel
	}{{"gemm", k.gemm}, {"gemmPlain", k.gemmPlain}} {
		for si, sh := range [][3]int{{1, 1, 1}, {3, 5, 7}, {4, 8, 1}, {1, 37, 19}, {29, 1, 19}, {1, 1, 300}, {13, 17, 300}, {33, 9, 257}, {8, 24, 64}, {70, 65, 513}} {
			m, n, kk := sh[0], sh[1], sh[2]
			for ti, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				alpha, beta := ab[(si+ti)%len(ab)][0], ab[(si+ti)%len(ab)][1]
				a, b := simdtest.Rand(r, m*kk), simdtest.Rand(r, kk*n)
				c0 := simdtest.Rand(r, m*n)
				if beta == 0 {
					c0[0] = float32(math.NaN())
				}
				lda, ldb := kk, n
				if tr[0] {
					lda = m
				}
				if tr[1] {
					ldb = kk
				}
				got, want := slices.Clone(c0), slices.Clone(c0)
				sgemm(g.g, Threads(), tr[0], tr[1], m, n, kk, alpha, a, lda, b, ldb, beta, got, n)
				sgemm(generic.gemm, Threads(), tr[0], tr[1], m, n, kk, alpha, a, lda, b, ldb, beta, want, n)
				if i := sameBits(got, want); i >= 0 {
					t.Fatalf("sgemm (%s) %dx%dx%d trans=%v alpha=%v beta=%v: c[%d] = %v, generic %v", g.name, m, n, kk, tr, alpha, beta, i, got[i], want[i])
				}
			}
		}
	}
	// Sgemm itself runs gemmPlain, the 4 x 8 kernel.
	if k.gemmPlain.mr != 4 || k.gemmPlain.nr != 8 {
		t.Fatalf("the SIMD128 set's Sgemm kernel is %d x %d, want 4 x 8", k.gemmPlain.mr, k.gemmPlain.nr)
	}
	if err := Use(k.name); err != nil {
		t.Fatal(err)
	}
	defer Use("auto")
	const m, n, kk = 37, 45, 61
	a, b := simdtest.Rand(r, m*kk), simdtest.Rand(r, kk*n)
	got, want := make([]float32, m*n), make([]float32, m*n)
	Sgemm(false, true, m, n, kk, 1.5, a, kk, b, kk, 0, got, n)
	sgemm(generic.gemm, Threads(), false, true, m, n, kk, 1.5, a, kk, b, kk, 0, want, n)
	if i := sameBits(got, want); i >= 0 {
		t.Fatalf("Sgemm %dx%dx%d: c[%d] = %v, generic %v", m, n, kk, i, got[i], want[i])
	}
}

// TestWasmBoundsInGo: the kernels check nothing, so a wrong length must be
// refused in Go before any kernel runs. Each call below would write past the
// end of its output (or read past an input) if it reached the kernel; it must
// panic instead, and leave the output and its guard band untouched. The set's
// own kernels are called directly, past the checks of the exported API. With
// no build loaded (CDP_WASM_KERNELS=none) the loader's stubs throw when
// called, so there the test also shows that no call reached JavaScript.
func TestWasmBoundsInGo(t *testing.T) {
	k := &wasmSIMD128
	if supported(&wasmRelaxed) {
		k = &wasmRelaxed
	}
	const n = 37
	r := rand.New(rand.NewPCG(13, 14))
	x, long := simdtest.Rand(r, n), simdtest.Rand(r, n+5)
	refuses := func(what string, out []float32, f func()) {
		t.Helper()
		// out is the first part of a larger buffer: the rest is its guard.
		full := out[:cap(out)]
		before := slices.Clone(full)
		panicked := func() (p bool) {
			defer func() { p = recover() != nil }()
			f()
			return false
		}()
		if !panicked {
			t.Fatalf("%s: a wrong length was not refused", what)
		}
		if i := sameBits(full, before); i >= 0 {
			t.Fatalf("%s: refused, but [%d] changed from %v to %v: a kernel ran", what, i, before[i], full[i])
		}
	}
	buf := func(m int) []float32 { return simdtest.Rand(r, m+16)[: m : m+16] }
	out := buf(n - 1)
	refuses("axpy", out, func() { k.axpy(2, x, out) })
	out = buf(n)
	refuses("add", out, func() { k.add(out, x[:n-1], x) })
	refuses("mul", out, func() { k.mul(out, x, x[:n-2]) })
	refuses("reverseStep", out, func() { k.reverseStep(out, x, x, x[:3], 1, 2, 3) })
	refuses("reverseStepGuided", out, func() { k.reverseStepGuided(out, x, x, x, x[:n-1], 1, 2, 3, 4) })
	refuses("dot", out, func() { k.dot(long, x) })
	// The exported API refuses too, with its own message.
	refuses("Axpy", out, func() { Axpy(2, long, out) })
	refuses("ReverseStep", out, func() { ReverseStep(out, long, long, long, 1, 2, 3) })
	// The micro-kernel: a C tile of 2 rows x 16 columns with stride 20 needs
	// 20+16 floats; one short must be refused, as must short panels.
	kc := 5
	ap, bp := simdtest.Rand(r, 2*kc), simdtest.Rand(r, 16*kc)
	c := buf(20 + 15)
	refuses("gemm tile", c, func() { k.gemm.micro(kc, ap, bp, c, 20) })
	c = buf(20 + 16)
	refuses("gemm A panel", c, func() { k.gemm.micro(kc, ap[:2*kc-1], bp, c, 20) })
	refuses("gemm B panel", c, func() { k.gemm.micro(kc, ap, bp[:16*kc-1], c, 20) })
	refuses("gemm ldc", c, func() { k.gemm.micro(kc, ap, bp, c, 15) })
	// The same for the 4 x 8 kernel of plain Sgemm: 3*20+8 floats.
	ap, bp = simdtest.Rand(r, 4*kc), simdtest.Rand(r, 8*kc)
	c = buf(3*20 + 7)
	refuses("gemm 4x8 tile", c, func() { gemmWasm4x8.micro(kc, ap, bp, c, 20) })
	refuses("gemm 4x8 block", c, func() { gemmWasm4x8.block(kc, ap, bp, c, 20, 4, 8) })
	c = buf(3*20 + 8)
	refuses("gemm 4x8 A panel", c, func() { gemmWasm4x8.micro(kc, ap[:4*kc-1], bp, c, 20) })
	refuses("gemm 4x8 B panel", c, func() { gemmWasm4x8.micro(kc, ap, bp[:8*kc-1], c, 20) })
	refuses("gemm 4x8 ldc", c, func() { gemmWasm4x8.micro(kc, ap, bp, c, 7) })
	// The optional kernels and the group-norm kernels.
	out = buf(n - 1)
	refuses("silu y", out, func() { k.silu8(out, make([]float32, n+3), long[:n+3]) })
	refuses("silu s", out, func() { k.silu8(make([]float32, n+3), out, long[:n+3]) })
	refuses("centerSumSquares", out, func() { centerSumSquaresWasm(out, x, 1) })
	refuses("normalizeAffine", out, func() { normalizeAffineWasm(x, out, 1, 2, 3) })
	out = buf(16*3 - 1)
	refuses("gather16 dst", out, func() { k.gather16(out, long, []int32{0, 1, 2}, 0) })
}

// BenchmarkWasmMicro times the sgemm micro-kernels alone on one packed pair
// of panels (kc = 256): the ceiling of the packed driver with each kernel
// (kernel=gemm: the set's convolution tile, kernel=4x8: gemmWasm4x8).
func BenchmarkWasmMicro(b *testing.B) {
	for _, s := range []*kernelSet{&wasmRelaxed, &wasmSIMD128, &generic} {
		if !supported(s) {
			continue
		}
		for _, v := range []struct {
			name string
			g    gemmKernel
		}{{"gemm", s.gemm}, {"4x8", gemmWasm4x8}} {
			if v.name == "4x8" && s == &generic {
				continue
			}
			b.Run(fmt.Sprintf("kernel=%s/tile=%dx%d/impl=%s", v.name, v.g.mr, v.g.nr, s.name), func(b *testing.B) {
				const kc = 256
				r := rand.New(rand.NewPCG(1, 2))
				g := v.g
				ap, bp, c := simdtest.Rand(r, g.mr*kc), simdtest.Rand(r, g.nr*kc), make([]float32, g.mr*g.nr)
				for b.Loop() {
					g.micro(kc, ap, bp, c, g.nr)
				}
				b.ReportMetric(2*float64(g.mr*g.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkWasmCall times one call into the kernels with no work: a kernel
// (dot of length 0, through the forwarding module of www/kernels.js) and the
// level import (a JavaScript function), the fixed cost of every call.
func BenchmarkWasmCall(b *testing.B) {
	b.Run("call=kernel", func(b *testing.B) {
		loadedWasmSet(b)
		x := make([]float32, 1)
		var s float32
		for b.Loop() {
			s += wasmDot(&x[0], &x[0], 0)
		}
		_ = s
	})
	b.Run("call=js", func(b *testing.B) {
		var s int32
		for b.Loop() {
			s += wasmLevel()
		}
		_ = s
	})
}

// UseWasmGemmPlain switches the wasm sets' Sgemm kernel between gemmPlain
// (on, the default; 4 x 8 on the SIMD128 build) and the convolution kernel
// gemm (off, 2 x 16: Sgemm's kernel before gemmPlain existed), so that
// BenchmarkWasmUNetForward times both in one run. It returns the function that restores the kernels. For tests and
// benchmarks only (the sets are shared by the whole program).
func UseWasmGemmPlain(on bool) (restore func()) {
	saved := [2]gemmKernel{wasmSIMD128.gemmPlain, wasmRelaxed.gemmPlain}
	if !on {
		wasmSIMD128.gemmPlain, wasmRelaxed.gemmPlain = wasmSIMD128.gemm, wasmRelaxed.gemm
	}
	return func() { wasmSIMD128.gemmPlain, wasmRelaxed.gemmPlain = saved[0], saved[1] }
}

func loadedWasmSet(t testing.TB) *kernelSet {
	for _, s := range []*kernelSet{&wasmRelaxed, &wasmSIMD128} {
		if supported(s) {
			return s
		}
	}
	t.Skipf("no wasm kernel build loaded (%q): the wasm kernels cannot run", os.Getenv("CDP_WASM_KERNELS_LOADED"))
	return nil
}

// tileByTile is the driver's inner loop over full tiles with the set's
// micro-kernel: column panels outer, row panels inner.
func tileByTile(g gemmKernel, kc int, a, b, c []float32, ldc, m, n int) {
	for jr := 0; jr < n; jr += g.nr {
		bp := b[jr*kc : jr*kc+g.nr*kc]
		for ir := 0; ir < m; ir += g.mr {
			g.micro(kc, a[ir*kc:ir*kc+g.mr*kc], bp, c[ir*ldc+jr:], ldc)
		}
	}
}

// wasmGemms lists the two sgemm kernels of the wasm sets: 2 x 16 (gemm, the
// convolution path) and 4 x 8 (gemmWasm4x8, plain Sgemm on the SIMD128
// build).
func wasmGemms(k *kernelSet) []struct {
	name string
	g    gemmKernel
} {
	return []struct {
		name string
		g    gemmKernel
	}{{"2x16", k.gemm}, {"4x8", gemmWasm4x8}}
}

// TestWasmGemmBlock: each block kernel equals its micro-kernel run tile by
// tile, bit for bit, writes nothing outside its block, and refuses short
// operands in Go.
func TestWasmGemmBlock(t *testing.T) {
	k := loadedWasmSet(t)
	r := rand.New(rand.NewPCG(15, 16))
	for _, w := range wasmGemms(k) {
		mr, nr := w.g.mr, w.g.nr
		if w.g.block == nil || w.g.blockStore == nil || w.g.microStore == nil || w.g.packPanelA == nil || w.g.packPanelB == nil {
			t.Fatalf("%s: the wasm kernel lacks its block, storing or packing hooks", w.name)
		}
		// (kc, row panels, column panels, extra columns of ldc)
		for _, sh := range [][4]int{{1, 1, 1, 0}, {7, 2, 1, 1}, {256, 144 / mr, 64 / nr, 6}, {3, 6, 2, 15}, {33, 4, 1, 0}, {5, 1, 3, 0}, {2, 3, 5, 3}} {
			kc, m, n := sh[0], sh[1]*mr, sh[2]*nr
			ldc := n + sh[3]
			a, b := simdtest.Rand(r, m*kc), simdtest.Rand(r, n*kc)
			c := simdtest.Rand(r, m*ldc+5)
			got, want := slices.Clone(c), slices.Clone(c)
			w.g.block(kc, a, b, got, ldc, m, n)
			tileByTile(w.g, kc, a, b, want, ldc, m, n)
			if i := sameBits(got, want); i >= 0 {
				t.Fatalf("%s block kc=%d %dx%d ldc=%d: c[%d] = %v, tile by tile %v", w.name, kc, m, n, ldc, i, got[i], want[i])
			}
			// The storing variants equal clearing the block and adding, bit
			// for bit; tile by tile and as one block.
			want = slices.Clone(c)
			for i := 0; i < m; i++ {
				clear(want[i*ldc : i*ldc+n])
			}
			tileByTile(w.g, kc, a, b, want, ldc, m, n)
			got = slices.Clone(c)
			w.g.blockStore(kc, a, b, got, ldc, m, n)
			if i := sameBits(got, want); i >= 0 {
				t.Fatalf("%s storing block kc=%d %dx%d ldc=%d: c[%d] = %v, want %v", w.name, kc, m, n, ldc, i, got[i], want[i])
			}
			got = slices.Clone(c)
			store := w.g
			store.micro = w.g.microStore
			tileByTile(store, kc, a, b, got, ldc, m, n)
			if i := sameBits(got, want); i >= 0 {
				t.Fatalf("%s storing micro-kernel kc=%d %dx%d ldc=%d: c[%d] = %v, want %v", w.name, kc, m, n, ldc, i, got[i], want[i])
			}
			for i := range c {
				if row, col := i/ldc, i%ldc; (row >= m || col >= n) && got[i] != c[i] {
					t.Fatalf("%s block kc=%d %dx%d ldc=%d wrote c[%d] outside the block", w.name, kc, m, n, ldc, i)
				}
			}
		}
		// Short operands, a short stride, and blocks that are not whole
		// tiles are refused.
		const kc = 4
		m, n := 2*mr, 2*nr
		for _, bad := range []func(){
			func() { w.g.block(kc, make([]float32, m*kc-1), make([]float32, n*kc), make([]float32, m*n), n, m, n) },
			func() { w.g.block(kc, make([]float32, m*kc), make([]float32, n*kc-1), make([]float32, m*n), n, m, n) },
			func() { w.g.block(kc, make([]float32, m*kc), make([]float32, n*kc), make([]float32, m*n-1), n, m, n) },
			func() { w.g.block(kc, make([]float32, m*kc), make([]float32, n*kc), make([]float32, m*n), n-1, m, n) },
			func() { w.g.block(kc, make([]float32, m*kc), make([]float32, n*kc), make([]float32, m*n), n, m-1, n) },
			func() { w.g.block(kc, make([]float32, m*kc), make([]float32, n*kc), make([]float32, m*n), n, m, n-4) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Fatalf("%s: the block kernel accepted a wrong size", w.name)
					}
				}()
				bad()
			}()
		}
	}
}

// BenchmarkWasmGemmBlock compares, in one run, the driver's inner loop over a
// packed 144 x 256 block of A and 256 x 512 block of B (one micro-kernel call
// per 2x16 tile) with one call of the block kernel over the same data.
func BenchmarkWasmGemmBlock(b *testing.B) {
	k := loadedWasmSet(b)
	const kc, m, n = 256, 144, 512
	r := rand.New(rand.NewPCG(1, 2))
	ap, bp, c := simdtest.Rand(r, m*kc), simdtest.Rand(r, n*kc), make([]float32, m*n)
	flops := 2 * float64(m) * float64(n) * float64(kc)
	b.Run("loop=tiles/impl="+k.name, func(b *testing.B) {
		for b.Loop() {
			tileByTile(k.gemm, kc, ap, bp, c, n, m, n)
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("loop=block/impl="+k.name, func(b *testing.B) {
		for b.Loop() {
			k.gemm.block(kc, ap, bp, c, n, m, n)
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// TestWasmPack: the pack kernels of both sgemm kernels (2 x 16 and 4 x 8)
// equal their reference loops (those of packA and packB in sgemm.go for a
// full panel) bit for bit, with and without transposes, for every kc tail,
// and refuse short operands in Go.
func TestWasmPack(t *testing.T) {
	k := loadedWasmSet(t)
	r := rand.New(rand.NewPCG(17, 18))
	for _, w := range wasmGemms(k) {
		mr, nr := w.g.mr, w.g.nr
		packA, packB := w.g.packPanelA, w.g.packPanelB
		for _, kc := range []int{1, 2, 3, 4, 5, 7, 8, 9, 31, 256} {
			for _, trans := range []bool{false, true} {
				for _, extra := range []int{0, 3} {
					// A: mr rows of op(A) = an mr x kc block (or kc x mr if trans).
					lda, rows := kc+extra, mr
					if trans {
						lda, rows = mr+extra, kc
					}
					a := simdtest.Rand(r, rows*lda)
					alpha := 2*r.Float32() - 1
					got, want := make([]float32, mr*kc+1), make([]float32, mr*kc+1)
					packA(got, a, lda, kc, trans, alpha)
					for p := 0; p < kc; p++ {
						for i := 0; i < mr; i++ {
							if trans {
								want[mr*p+i] = alpha * a[p*lda+i]
							} else {
								want[mr*p+i] = alpha * a[i*lda+p]
							}
						}
					}
					if i := sameBits(got, want); i >= 0 {
						t.Fatalf("%s packA kc=%d trans=%v lda=%d: [%d] = %v, want %v", w.name, kc, trans, lda, i, got[i], want[i])
					}
					// B: nr columns of op(B) = a kc x nr block (or nr x kc if trans).
					ldb, rows := nr+extra, kc
					if trans {
						ldb, rows = kc+extra, nr
					}
					b := simdtest.Rand(r, rows*ldb)
					got, want = make([]float32, nr*kc+1), make([]float32, nr*kc+1)
					packB(got, b, ldb, kc, trans)
					for p := 0; p < kc; p++ {
						for j := 0; j < nr; j++ {
							if trans {
								want[nr*p+j] = b[j*ldb+p]
							} else {
								want[nr*p+j] = b[p*ldb+j]
							}
						}
					}
					if i := sameBits(got, want); i >= 0 {
						t.Fatalf("%s packB kc=%d trans=%v ldb=%d: [%d] = %v, want %v", w.name, kc, trans, ldb, i, got[i], want[i])
					}
				}
			}
		}
		const kc = 9
		for _, bad := range []func(){
			func() { packA(make([]float32, mr*kc-1), make([]float32, mr*kc), kc, kc, false, 1) },
			func() { packA(make([]float32, mr*kc), make([]float32, mr*kc-1), kc, kc, false, 1) },
			func() { packA(make([]float32, mr*kc), make([]float32, mr*kc-1), mr, kc, true, 1) },
			func() { packA(make([]float32, mr*kc), make([]float32, mr*kc), kc-1, kc, false, 1) },
			func() { packA(make([]float32, mr*kc), make([]float32, mr*kc), mr-1, kc, true, 1) },
			func() { packB(make([]float32, nr*kc-1), make([]float32, nr*kc), nr, kc, false) },
			func() { packB(make([]float32, nr*kc), make([]float32, nr*kc-1), nr, kc, false) },
			func() { packB(make([]float32, nr*kc), make([]float32, nr*kc-1), kc, kc, true) },
			func() { packB(make([]float32, nr*kc), make([]float32, nr*kc), nr-1, kc, false) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Fatalf("%s: a pack kernel accepted a wrong size", w.name)
					}
				}()
				bad()
			}()
		}
	}
}

// BenchmarkWasmSgemmDriver compares, in one run, the packed driver with the
// 4 x 8 kernel (driver=plain4x8: gemmWasm4x8, with its block and
// panel-packing hooks; Sgemm's kernel on the SIMD128 build), with the
// convolution kernel (driver=hooks2x16: gemm, 2 x 16, with its hooks;
// Sgemm's kernel on the relaxed build, and on both before), the same
// 2 x 16 kernel called tile by tile with packing in Go (driver=tiles2x16),
// and the generic kernel (driver=generic, the scalar Go path), on the square
// products of the target and on the small ones of a unet-small
// forward pass (attention 64 x 64 x 64 with A or B transposed, and a linear
// layer on a batch of 16).
func BenchmarkWasmSgemmDriver(b *testing.B) {
	k := loadedWasmSet(b)
	tiles := k.gemm
	tiles.block, tiles.packPanelA, tiles.packPanelB = nil, nil, nil
	variants := []struct {
		name string
		g    gemmKernel
	}{{"plain4x8", gemmWasm4x8}, {"hooks2x16", k.gemm}, {"tiles2x16", tiles}, {"generic", generic.gemm}}
	// V8 compiles the Go driver with its optimising tier only after it has
	// run a while, which would slow down whichever variant runs first: run
	// them all, with every transpose, before timing any.
	r := rand.New(rand.NewPCG(3, 4))
	x, y, c := simdtest.Rand(r, 48*48), simdtest.Rand(r, 48*48), make([]float32, 48*48)
	for i := 0; i < 1000; i++ {
		for _, v := range variants {
			sgemm(v.g, Threads(), i%2 == 1, i%4 >= 2, 48, 48, 48, 1, x, 48, y, 48, 0, c, 48)
		}
	}
	for _, sh := range []struct {
		m, n, k        int
		transA, transB bool
	}{{256, 256, 256, false, false}, {512, 512, 512, false, false}, {64, 64, 64, true, false}, {64, 64, 64, false, true}, {16, 64, 128, false, true}} {
		r := rand.New(rand.NewPCG(1, 2))
		x, y, c := simdtest.Rand(r, sh.m*sh.k), simdtest.Rand(r, sh.k*sh.n), make([]float32, sh.m*sh.n)
		lda, ldb := sh.k, sh.n
		if sh.transA {
			lda = sh.m
		}
		if sh.transB {
			ldb = sh.k
		}
		op := map[[2]bool]string{{false, false}: "", {true, false}: "-At", {false, true}: "-Bt"}[[2]bool{sh.transA, sh.transB}]
		for _, v := range variants {
			b.Run(fmt.Sprintf("shape=%dx%dx%d%s/driver=%s/impl=%s", sh.m, sh.n, sh.k, op, v.name, k.name), func(b *testing.B) {
				for b.Loop() {
					sgemm(v.g, Threads(), sh.transA, sh.transB, sh.m, sh.n, sh.k, 1, x, lda, y, ldb, 0, c, sh.n)
				}
				b.ReportMetric(2*float64(sh.m*sh.n*sh.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestWasmSiLU: the silu kernel equals, bit for bit, the loop over the
// set's own exp_sub_sum that simd.SiLU runs without it, at every alignment
// of x, s and y (lengths multiples of 8, as SiLU hands them over).
func TestWasmSiLU(t *testing.T) {
	k := loadedWasmSet(t)
	r := rand.New(rand.NewPCG(19, 20))
	for _, n := range []int{8, 16, 24, 64, 1000} {
		for off := 0; off < 4; off++ {
			x := simdtest.Offset(simdtest.Rand(r, n), off)
			for i := range x {
				x[i] *= 20
			}
			x[0], x[n-1] = float32(math.Inf(-1)), 95
			gy, gs := simdtest.NewGuarded(n, (off+1)%4), simdtest.NewGuarded(n, (off+2)%4)
			k.silu8(gy.S(), gs.S(), x)
			e := make([]float32, n)
			for i, v := range x {
				e[i] = -v
			}
			k.expSubSum(e, 0)
			for i, v := range x {
				sg := 1 / (1 + e[i])
				if math.Float32bits(gs.S()[i]) != math.Float32bits(sg) || math.Float32bits(gy.S()[i]) != math.Float32bits(v*sg) {
					t.Fatalf("n=%d off=%d x[%d]=%v: s=%v y=%v, want %v %v", n, off, i, v, gs.S()[i], gy.S()[i], sg, v*sg)
				}
			}
			if err := gy.Check(); err != nil {
				t.Fatalf("silu y n=%d off=%d: %v", n, off, err)
			}
			if err := gs.Check(); err != nil {
				t.Fatalf("silu s n=%d off=%d: %v", n, off, err)
			}
		}
	}
}

// TestWasmGather16: rows at random offsets and bases, the last row ending
// at the end of src; a row outside src is reported before anything is
// copied.
func TestWasmGather16(t *testing.T) {
	k := loadedWasmSet(t)
	r := rand.New(rand.NewPCG(21, 22))
	src := simdtest.Rand(r, 300)
	for _, n := range []int{1, 2, 9, 64} {
		for off := 0; off < 4; off++ {
			base := r.IntN(20)
			offs := make([]int32, n)
			for i := range offs {
				offs[i] = int32(r.IntN(300 - 16 - base + 1))
			}
			offs[n-1] = int32(300 - 16 - base)
			g := simdtest.NewGuarded(16*n, off)
			if p := k.gather16(g.S(), src, offs, base); p != n {
				t.Fatalf("n=%d: gather16 reports row %d outside src", n, p)
			}
			want := make([]float32, 16*n)
			for p, o := range offs {
				copy(want[16*p:16*p+16], src[base+int(o):])
			}
			checkBits(t, "gather16", n, off, g, want)
		}
	}
	for _, c := range []struct{ base, bad int }{{-1, 0}, {0, -1}, {300 - 15, 0}, {0, 285}} {
		offs := []int32{0, 3, 0}
		offs[1] = int32(c.bad)
		if c.bad == 0 {
			offs[1] = 3
		}
		dst := make([]float32, 48)
		want := 1
		if c.base != 0 {
			want = 0
		}
		if p := k.gather16(dst, src, offs, c.base); p != want {
			t.Fatalf("base %d offs %v: gather16 returned %d, want %d", c.base, offs, p, want)
		}
		for i, v := range dst {
			if v != 0 {
				t.Fatalf("base %d offs %v: dst[%d] written before the bad row was found", c.base, offs, i)
			}
		}
	}
}

// TestWasmExpTail: exp_sub_sum runs its vector loop ($exp_loop) on the
// first n&^3 values and $exp4 on the rest; both must compute the same
// function bit for bit, so equal inputs give equal outputs wherever they
// fall.
func TestWasmExpTail(t *testing.T) {
	k := loadedWasmSet(t)
	r := rand.New(rand.NewPCG(23, 24))
	for i := 0; i < 2000; i++ {
		v := float32(r.NormFloat64() * 30)
		switch i {
		case 0:
			v = float32(math.Inf(1))
		case 1:
			v = float32(math.Inf(-1))
		case 2:
			v = -103.5
		case 3:
			v = 88.7
		}
		x := []float32{v, v, v, v, v, v, v}
		k.expSubSum(x, 0.25)
		for j := range x {
			if math.Float32bits(x[j]) != math.Float32bits(x[0]) {
				t.Fatalf("exp(%v - 0.25): vector loop gives %v, tail gives %v (element %d)", v, x[0], x[j], j)
			}
		}
	}
}

// BenchmarkWasmLayerKernels times the kernels of the element-wise layers
// of a U-Net on 4096 values (one chunk of nn.SiLU), with the loaded wasm set
// and the generic one side by side: SiLU, the exponential of softmax
// (ExpSubSum, with a copy to restore its input), the two group-norm passes,
// and GatherRows of 256 rows of 16 (a convolution panel).
func BenchmarkWasmLayerKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 4096
	x, y, s := simdtest.Rand(r, n), make([]float32, n), make([]float32, n)
	for _, impl := range Supported() {
		Use(impl)
		b.Run("op=silu/impl="+impl, func(b *testing.B) {
			for b.Loop() {
				SiLU(y, s, x)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
		})
		b.Run("op=expsubsum/impl="+impl, func(b *testing.B) {
			for b.Loop() {
				copy(y, x)
				ExpSubSum(y, 1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
		})
		b.Run("op=norm/impl="+impl, func(b *testing.B) {
			for b.Loop() {
				CenterSumSquares(y, x, 0.5)
				NormalizeAffine(y, s, 1.5, 0.5, 0.25)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
		})
		b.Run("op=gather/impl="+impl, func(b *testing.B) {
			offs := make([]int32, 256)
			for i := range offs {
				offs[i] = int32(r.IntN(n - 16))
			}
			for b.Loop() {
				GatherRows(y, 16, x, 0, offs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/256, "ns/row")
		})
	}
	Use("auto")
}

// TestWasmOffsRange: the offset range that gather16's bounds check relies
// on equals the Go minimum and maximum, for every length and tail, negative
// offsets and the int32 extremes included.
func TestWasmOffsRange(t *testing.T) {
	loadedWasmSet(t)
	r := rand.New(rand.NewPCG(25, 26))
	for n := 1; n <= 41; n++ {
		for rep := 0; rep < 20; rep++ {
			offs := make([]int32, n+1)[1:] // start off 16-byte alignment
			for i := range offs {
				offs[i] = int32(r.IntN(2000)) - 1000
			}
			if rep == 1 {
				offs[r.IntN(n)] = math.MinInt32
				offs[r.IntN(n)] = math.MaxInt32
			}
			res := wasmOffsRange(&offs[0], int32(n))
			if got, want := int32(res), slices.Min(offs); got != want {
				t.Fatalf("n=%d %v: min %d, want %d", n, offs, got, want)
			}
			if got, want := int32(res>>32), slices.Max(offs); got != want {
				t.Fatalf("n=%d %v: max %d, want %d", n, offs, got, want)
			}
		}
	}
}

// BenchmarkWasmSgemmSideBySide times Sgemm's kernel (sgemm: the set's
// gemmPlain, 4 x 8 on the SIMD128 build, 2 x 16 on the relaxed one), the
// two wasm kernels by name (4x8: gemmWasm4x8; conv: the set's gemm, 2 x 16,
// Sgemm's kernel on both builds before gemmPlain) and the generic kernel
// (generic: the scalar Go path) on the square products,
// interleaved: each iteration runs every variant once, and the metrics are
// medians over the iterations, so that a machine shared with other work
// (whose load changes from one second to the next) slows all three alike and
// the ratios hold. Run it with a fixed count, e.g. -benchtime 15x.
func BenchmarkWasmSgemmSideBySide(b *testing.B) {
	k := loadedWasmSet(b)
	variants := []struct {
		name string
		g    gemmKernel
	}{{"sgemm", k.gemmPlain}, {"4x8", gemmWasm4x8}, {"conv", k.gemm}, {"generic", generic.gemm}}
	for _, n := range []int{256, 512} {
		b.Run(fmt.Sprintf("shape=%dx%dx%d/impl=%s", n, n, n, k.name), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			x, y, c := simdtest.Rand(r, n*n), simdtest.Rand(r, n*n), make([]float32, n*n)
			run := func(g gemmKernel) { sgemm(g, Threads(), false, false, n, n, n, 1, x, n, y, n, 0, c, n) }
			for range 3 { // warm up V8's optimising tier (see BenchmarkWasmSgemmDriver)
				for _, v := range variants {
					run(v.g)
				}
			}
			secs := make([][]float64, len(variants))
			for b.Loop() {
				for i, v := range variants {
					t0 := time.Now()
					run(v.g)
					secs[i] = append(secs[i], time.Since(t0).Seconds())
				}
			}
			flops := 2 * float64(n) * float64(n) * float64(n)
			med := make([]float64, len(variants))
			for i, v := range variants {
				slices.Sort(secs[i])
				med[i] = secs[i][len(secs[i])/2]
				b.ReportMetric(flops/med[i]/1e9, v.name+"-GFLOP/s")
			}
			b.ReportMetric(med[3]/med[0], "sgemm/generic")
			b.ReportMetric(med[2]/med[1], "4x8/conv")
		})
	}
}
