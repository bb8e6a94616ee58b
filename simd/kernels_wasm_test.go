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
	// The micro-kernel: a C tile of 4 rows x 8 columns with stride 10 needs
	// 3*10+8 floats; one short must be refused, as must short panels.
	kc := 5
	ap, bp := simdtest.Rand(r, 4*kc), simdtest.Rand(r, 8*kc)
	c := buf(3*10 + 7)
	refuses("gemm tile", c, func() { k.gemm.micro(kc, ap, bp, c, 10) })
	c = buf(3*10 + 8)
	refuses("gemm A panel", c, func() { k.gemm.micro(kc, ap[:4*kc-1], bp, c, 10) })
	refuses("gemm B panel", c, func() { k.gemm.micro(kc, ap, bp[:8*kc-1], c, 10) })
	refuses("gemm ldc", c, func() { k.gemm.micro(kc, ap, bp, c, 7) })
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

// BenchmarkWasmCall times one call into the kernels with no work (the level
// import), the fixed cost of every kernel call.
func BenchmarkWasmCall(b *testing.B) {
	var s int32
	for b.Loop() {
		s += wasmLevel()
	}
	_ = s
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
	for _, sh := range [][4]int{{1, 4, 8, 8}, {7, 4, 8, 9}, {256, 144, 64, 70}, {3, 12, 24, 31}, {33, 8, 16, 16}} {
		kc, m, n, ldc := sh[0], sh[1], sh[2], sh[3]
		a, b := simdtest.Rand(r, m*kc), simdtest.Rand(r, n*kc)
		c := simdtest.Rand(r, m*ldc+5)
		got, want := slices.Clone(c), slices.Clone(c)
		gemmBlockWasm(kc, a, b, got, ldc, m, n)
		tileByTile(k.gemm, kc, a, b, want, ldc, m, n)
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("block kc=%d %dx%d ldc=%d: c[%d] = %v, tile by tile %v", kc, m, n, ldc, i, got[i], want[i])
		}
		for i := range c {
			if row, col := i/ldc, i%ldc; (row >= m || col >= n) && got[i] != c[i] {
				t.Fatalf("block kc=%d %dx%d ldc=%d wrote c[%d] outside the block", kc, m, n, ldc, i)
			}
		}
	}
	for _, bad := range []func(){
		func() { gemmBlockWasm(4, make([]float32, 8*4-1), make([]float32, 8*4), make([]float32, 8*8), 8, 8, 8) },
		func() { gemmBlockWasm(4, make([]float32, 8*4), make([]float32, 8*4-1), make([]float32, 8*8), 8, 8, 8) },
		func() { gemmBlockWasm(4, make([]float32, 8*4), make([]float32, 8*4), make([]float32, 8*8-1), 8, 8, 8) },
		func() { gemmBlockWasm(4, make([]float32, 8*4), make([]float32, 8*4), make([]float32, 8*8), 7, 8, 8) },
		func() { gemmBlockWasm(4, make([]float32, 6*4), make([]float32, 8*4), make([]float32, 8*8), 8, 6, 8) },
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
				// A: 4 rows of op(A) = a 4 x kc block (or kc x 4 if trans).
				lda := kc + extra
				if trans {
					lda = 4 + extra
				}
				rows := 4
				if trans {
					rows = kc
				}
				a := simdtest.Rand(r, rows*lda)
				alpha := 2*r.Float32() - 1
				got, want := make([]float32, 4*kc+1), make([]float32, 4*kc+1)
				packPanelAWasm(got, a, lda, kc, trans, alpha)
				for p := 0; p < kc; p++ {
					for i := 0; i < 4; i++ {
						if trans {
							want[4*p+i] = alpha * a[p*lda+i]
						} else {
							want[4*p+i] = alpha * a[i*lda+p]
						}
					}
				}
				if i := sameBits(got, want); i >= 0 {
					t.Fatalf("packA kc=%d trans=%v lda=%d: [%d] = %v, want %v", kc, trans, lda, i, got[i], want[i])
				}
				// B: 8 columns of op(B) = a kc x 8 block (or 8 x kc if trans).
				ldb := 8 + extra
				rows = kc
				if trans {
					ldb, rows = kc+extra, 8
				}
				b := simdtest.Rand(r, rows*ldb)
				got, want = make([]float32, 8*kc+1), make([]float32, 8*kc+1)
				packPanelBWasm(got, b, ldb, kc, trans)
				for p := 0; p < kc; p++ {
					for j := 0; j < 8; j++ {
						if trans {
							want[8*p+j] = b[j*ldb+p]
						} else {
							want[8*p+j] = b[p*ldb+j]
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
		func() { packPanelAWasm(make([]float32, 4*kc-1), make([]float32, 4*kc), kc, kc, false, 1) },
		func() { packPanelAWasm(make([]float32, 4*kc), make([]float32, 4*kc-1), kc, kc, false, 1) },
		func() { packPanelAWasm(make([]float32, 4*kc), make([]float32, 4*kc-1), 4, kc, true, 1) },
		func() { packPanelAWasm(make([]float32, 4*kc), make([]float32, 4*kc), kc-1, kc, false, 1) },
		func() { packPanelBWasm(make([]float32, 8*kc-1), make([]float32, 8*kc), 8, kc, false) },
		func() { packPanelBWasm(make([]float32, 8*kc), make([]float32, 8*kc-1), 8, kc, false) },
		func() { packPanelBWasm(make([]float32, 8*kc), make([]float32, 8*kc-1), kc, kc, true) },
		func() { packPanelBWasm(make([]float32, 8*kc), make([]float32, 8*kc), 7, kc, false) },
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
