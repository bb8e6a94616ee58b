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
	for _, sh := range [][3]int{{1, 1, 1}, {3, 5, 7}, {4, 8, 1}, {13, 17, 300}, {33, 9, 257}, {70, 65, 513}} {
		m, n, kk := sh[0], sh[1], sh[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			a, b := simdtest.Rand(r, m*kk), simdtest.Rand(r, kk*n)
			c0 := simdtest.Rand(r, m*n)
			lda, ldb := kk, n
			if tr[0] {
				lda = m
			}
			if tr[1] {
				ldb = kk
			}
			got, want := slices.Clone(c0), slices.Clone(c0)
			sgemm(k.gemm, tr[0], tr[1], m, n, kk, 0.75, a, lda, b, ldb, 0.5, got, n)
			sgemm(generic.gemm, tr[0], tr[1], m, n, kk, 0.75, a, lda, b, ldb, 0.5, want, n)
			if i := sameBits(got, want); i >= 0 {
				t.Fatalf("sgemm %dx%dx%d trans=%v: c[%d] = %v, generic %v", m, n, kk, tr, i, got[i], want[i])
			}
		}
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
	// The optional kernels and the group-norm kernels.
	out = buf(n - 1)
	refuses("silu y", out, func() { k.silu8(out, make([]float32, n+3), long[:n+3]) })
	refuses("silu s", out, func() { k.silu8(make([]float32, n+3), out, long[:n+3]) })
	refuses("centerSumSquares", out, func() { centerSumSquaresWasm(out, x, 1) })
	refuses("normalizeAffine", out, func() { normalizeAffineWasm(x, out, 1, 2, 3) })
	out = buf(16*3 - 1)
	refuses("gather16 dst", out, func() { k.gather16(out, long, []int32{0, 1, 2}, 0) })
}

// BenchmarkWasmMicro times the sgemm micro-kernel alone on one packed pair of
// panels (kc = 256): the ceiling of the packed driver with this kernel.
func BenchmarkWasmMicro(b *testing.B) {
	for _, s := range []*kernelSet{&wasmRelaxed, &wasmSIMD128, &generic} {
		if !supported(s) {
			continue
		}
		b.Run("impl="+s.name, func(b *testing.B) {
			const kc = 256
			r := rand.New(rand.NewPCG(1, 2))
			g := s.gemm
			ap, bp, c := simdtest.Rand(r, g.mr*kc), simdtest.Rand(r, g.nr*kc), make([]float32, g.mr*g.nr)
			for b.Loop() {
				g.micro(kc, ap, bp, c, g.nr)
			}
			b.ReportMetric(2*float64(g.mr*g.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
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

// TestWasmGemmBlock: the block kernel equals the micro-kernel run tile by
// tile, bit for bit, writes nothing outside its block, and refuses short
// operands in Go.
func TestWasmGemmBlock(t *testing.T) {
	k := loadedWasmSet(t)
	r := rand.New(rand.NewPCG(15, 16))
	for _, sh := range [][4]int{{1, 2, 16, 16}, {7, 4, 16, 17}, {256, 144, 64, 70}, {3, 12, 32, 47}, {33, 8, 16, 16}, {5, 2, 48, 48}} {
		kc, m, n, ldc := sh[0], sh[1], sh[2], sh[3]
		a, b := simdtest.Rand(r, m*kc), simdtest.Rand(r, n*kc)
		c := simdtest.Rand(r, m*ldc+5)
		got, want := slices.Clone(c), slices.Clone(c)
		gemmBlockWasm(kc, a, b, got, ldc, m, n)
		tileByTile(k.gemm, kc, a, b, want, ldc, m, n)
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("block kc=%d %dx%d ldc=%d: c[%d] = %v, tile by tile %v", kc, m, n, ldc, i, got[i], want[i])
		}
		// The storing variants equal clearing the block and adding, bit
		// for bit; tile by tile and as one block.
		want = slices.Clone(c)
		for i := 0; i < m; i++ {
			clear(want[i*ldc : i*ldc+n])
		}
		tileByTile(k.gemm, kc, a, b, want, ldc, m, n)
		got = slices.Clone(c)
		gemmBlockStoreWasm(kc, a, b, got, ldc, m, n)
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("storing block kc=%d %dx%d ldc=%d: c[%d] = %v, want %v", kc, m, n, ldc, i, got[i], want[i])
		}
		got = slices.Clone(c)
		store := k.gemm
		store.micro = microStoreWasm2x16
		tileByTile(store, kc, a, b, got, ldc, m, n)
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("storing micro-kernel kc=%d %dx%d ldc=%d: c[%d] = %v, want %v", kc, m, n, ldc, i, got[i], want[i])
		}
		for i := range c {
			if row, col := i/ldc, i%ldc; (row >= m || col >= n) && got[i] != c[i] {
				t.Fatalf("block kc=%d %dx%d ldc=%d wrote c[%d] outside the block", kc, m, n, ldc, i)
			}
		}
	}
	for _, bad := range []func(){
		func() {
			gemmBlockWasm(4, make([]float32, 4*4-1), make([]float32, 16*4), make([]float32, 4*16), 16, 4, 16)
		},
		func() {
			gemmBlockWasm(4, make([]float32, 4*4), make([]float32, 16*4-1), make([]float32, 4*16), 16, 4, 16)
		},
		func() {
			gemmBlockWasm(4, make([]float32, 4*4), make([]float32, 16*4), make([]float32, 4*16-1), 16, 4, 16)
		},
		func() {
			gemmBlockWasm(4, make([]float32, 4*4), make([]float32, 16*4), make([]float32, 4*16), 15, 4, 16)
		},
		func() {
			gemmBlockWasm(4, make([]float32, 3*4), make([]float32, 16*4), make([]float32, 4*16), 16, 3, 16)
		},
		func() { gemmBlockWasm(4, make([]float32, 4*4), make([]float32, 8*4), make([]float32, 4*16), 16, 4, 8) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("gemmBlockWasm accepted a wrong size")
				}
			}()
			bad()
		}()
	}
}

// BenchmarkWasmGemmBlock compares, in one run, the driver's inner loop over a
// packed 144 x 256 block of A and 256 x 512 block of B (one micro-kernel call
// per 4x8 tile) with one call of the block kernel over the same data.
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
			gemmBlockWasm(kc, ap, bp, c, n, m, n)
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// TestWasmPack: the pack kernels equal their reference loops (those of packA
// and packB in sgemm.go for a full panel) bit for bit, with and without
// transposes, for every kc tail, and refuse short operands in Go.
func TestWasmPack(t *testing.T) {
	loadedWasmSet(t)
	r := rand.New(rand.NewPCG(17, 18))
	for _, kc := range []int{1, 2, 3, 4, 5, 7, 8, 9, 31, 256} {
		for _, trans := range []bool{false, true} {
			for _, extra := range []int{0, 3} {
				// A: 2 rows of op(A) = a 2 x kc block (or kc x 2 if trans).
				lda := kc + extra
				if trans {
					lda = 2 + extra
				}
				rows := 2
				if trans {
					rows = kc
				}
				a := simdtest.Rand(r, rows*lda)
				alpha := 2*r.Float32() - 1
				got, want := make([]float32, 2*kc+1), make([]float32, 2*kc+1)
				packPanelAWasm(got, a, lda, kc, trans, alpha)
				for p := 0; p < kc; p++ {
					for i := 0; i < 2; i++ {
						if trans {
							want[2*p+i] = alpha * a[p*lda+i]
						} else {
							want[2*p+i] = alpha * a[i*lda+p]
						}
					}
				}
				if i := sameBits(got, want); i >= 0 {
					t.Fatalf("packA kc=%d trans=%v lda=%d: [%d] = %v, want %v", kc, trans, lda, i, got[i], want[i])
				}
				// B: 16 columns of op(B) = a kc x 16 block (or 16 x kc if trans).
				ldb := 16 + extra
				rows = kc
				if trans {
					ldb, rows = kc+extra, 16
				}
				b := simdtest.Rand(r, rows*ldb)
				got, want = make([]float32, 16*kc+1), make([]float32, 16*kc+1)
				packPanelBWasm(got, b, ldb, kc, trans)
				for p := 0; p < kc; p++ {
					for j := 0; j < 16; j++ {
						if trans {
							want[16*p+j] = b[j*ldb+p]
						} else {
							want[16*p+j] = b[p*ldb+j]
						}
					}
				}
				if i := sameBits(got, want); i >= 0 {
					t.Fatalf("packB kc=%d trans=%v ldb=%d: [%d] = %v, want %v", kc, trans, ldb, i, got[i], want[i])
				}
			}
		}
	}
	const kc = 9
	for _, bad := range []func(){
		func() { packPanelAWasm(make([]float32, 2*kc-1), make([]float32, 2*kc), kc, kc, false, 1) },
		func() { packPanelAWasm(make([]float32, 2*kc), make([]float32, 2*kc-1), kc, kc, false, 1) },
		func() { packPanelAWasm(make([]float32, 2*kc), make([]float32, 2*kc-1), 2, kc, true, 1) },
		func() { packPanelAWasm(make([]float32, 2*kc), make([]float32, 2*kc), kc-1, kc, false, 1) },
		func() { packPanelAWasm(make([]float32, 2*kc), make([]float32, 2*kc), 1, kc, true, 1) },
		func() { packPanelBWasm(make([]float32, 16*kc-1), make([]float32, 16*kc), 16, kc, false) },
		func() { packPanelBWasm(make([]float32, 16*kc), make([]float32, 16*kc-1), 16, kc, false) },
		func() { packPanelBWasm(make([]float32, 16*kc), make([]float32, 16*kc-1), kc, kc, true) },
		func() { packPanelBWasm(make([]float32, 16*kc), make([]float32, 16*kc), 15, kc, false) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("a pack kernel accepted a wrong size")
				}
			}()
			bad()
		}()
	}
}

// BenchmarkWasmSgemmDriver compares, in one run, the packed driver with the
// wasm set's block and panel-packing hooks (driver=hooks), the same driver
// calling the micro-kernel tile by tile and packing in Go (driver=tiles), and
// the generic kernel (driver=generic).
func BenchmarkWasmSgemmDriver(b *testing.B) {
	k := loadedWasmSet(b)
	tiles := k.gemm
	tiles.block, tiles.packPanelA, tiles.packPanelB = nil, nil, nil
	for _, n := range []int{256, 512} {
		r := rand.New(rand.NewPCG(1, 2))
		x, y, c := simdtest.Rand(r, n*n), simdtest.Rand(r, n*n), make([]float32, n*n)
		for _, v := range []struct {
			name string
			g    gemmKernel
		}{{"hooks", k.gemm}, {"tiles", tiles}, {"generic", generic.gemm}} {
			b.Run(fmt.Sprintf("shape=%dx%dx%d/driver=%s/impl=%s", n, n, n, v.name, k.name), func(b *testing.B) {
				for b.Loop() {
					sgemm(v.g, false, false, n, n, n, 1, x, n, y, n, 0, c, n)
				}
				b.ReportMetric(2*float64(n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
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
