package simd

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/cdp-project/cdp/simd/simdtest"
)

// requiredSets names the kernel sets that must have been tested in a full
// run: per-architecture test files add a set when cpuid says that the CPU can
// run it, so a set that silently drops out of the table fails the run.
var requiredSets []string

var ran struct {
	sync.Mutex
	sets map[string]bool
}

func markRan(name string) {
	ran.Lock()
	defer ran.Unlock()
	if ran.sets == nil {
		ran.sets = map[string]bool{}
	}
	ran.sets[name] = true
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		for _, name := range requiredSets {
			if !ran.sets[name] {
				fmt.Fprintf(os.Stderr, "FAIL: the CPU supports kernel set %q but its tests did not run (supported: %v)\n", name, Supported())
				code = 1
			}
		}
	}
	os.Exit(code)
}

// forEachSet runs f once for every kernel set this CPU supports, with the set
// selected by Use.
func forEachSet(t *testing.T, f func(t *testing.T, name string)) {
	t.Helper()
	for _, name := range Supported() {
		t.Run("impl="+name, func(t *testing.T) {
			if err := Use(name); err != nil {
				t.Fatal(err)
			}
			defer Use("auto")
			markRan(name)
			f(t, name)
		})
	}
}

// unfusedSets lists the sets whose element-wise kernels round every product
// and sum separately, like the generic loops compiled without FMA fusion:
// they must match the explicitly rounded reference bit for bit.
var unfusedSets = map[string]bool{"avx2": true, "wasm-simd128": true}

func testLengths() []int {
	var ns []int
	for n := 0; n <= 100; n++ {
		ns = append(ns, n)
	}
	return append(ns, 127, 128, 129, 255, 256, 257, 1000, 4099)
}

const maxOff = 8

func TestGenericAlwaysSupported(t *testing.T) {
	s := Supported()
	if len(s) == 0 || s[len(s)-1] != "generic" {
		t.Fatalf("Supported() = %v, want generic last", s)
	}
	if err := Use("no-such-set"); err == nil {
		t.Fatal("Use accepted an unknown set")
	}
	if err := Use("auto"); err != nil || Impl() != s[0] {
		t.Fatalf("Use(auto) = %v, Impl() = %q, want %q", err, Impl(), s[0])
	}
}

// special sprinkles NaN and infinities into x at random positions when r
// says so; it returns x.
func special(r *rand.Rand, x []float32, p float64) []float32 {
	vals := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for i := range x {
		if r.Float64() < p {
			x[i] = vals[r.IntN(len(vals))]
		}
	}
	return x
}

func checkBits(t *testing.T, what string, n, off int, g *simdtest.Guarded, want []float32) {
	t.Helper()
	if i, ok := simdtest.SameBits(g.S(), want); !ok {
		t.Fatalf("%s n=%d off=%d: element %d = %v, want %v", what, n, off, i, g.S()[i], want[i])
	}
	if err := g.Check(); err != nil {
		t.Fatalf("%s n=%d off=%d: %v", what, n, off, err)
	}
}

func checkClose(t *testing.T, what string, n, off int, g *simdtest.Guarded, want []float64, terms int, sumAbs []float64) {
	t.Helper()
	for i, v := range g.S() {
		if !simdtest.Close(v, want[i], terms, sumAbs[i]) {
			t.Fatalf("%s n=%d off=%d: element %d: %s", what, n, off, i, simdtest.Describe(v, want[i], terms, sumAbs[i]))
		}
	}
	if err := g.Check(); err != nil {
		t.Fatalf("%s n=%d off=%d: %v", what, n, off, err)
	}
}

func guardedCopy(x []float32, off int) *simdtest.Guarded {
	g := simdtest.NewGuarded(len(x), off)
	copy(g.S(), x)
	return g
}

func TestElementwise(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, n := range testLengths() {
			for off := 0; off < maxOff; off++ {
				elementwiseCase(t, r, name, n, off, 0)
				if off == 0 || off == 3 {
					elementwiseCase(t, r, name, n, off, 0.1)
				}
			}
		}
	})
}

func elementwiseCase(t *testing.T, r *rand.Rand, name string, n, off int, pSpecial float64) {
	t.Helper()
	x := simdtest.Offset(special(r, simdtest.Rand(r, n), pSpecial), off)
	y := simdtest.Offset(special(r, simdtest.Rand(r, n), pSpecial), (off+3)%maxOff)
	z := simdtest.Offset(special(r, simdtest.Rand(r, n), pSpecial), (off+5)%maxOff)
	e := simdtest.Offset(special(r, simdtest.Rand(r, n), pSpecial), (off+1)%maxOff)
	a, b, c, d := 2*r.Float32()-1, 2*r.Float32()-1, 2*r.Float32()-1, 2*r.Float32()-1
	want := make([]float32, n)

	g := simdtest.NewGuarded(n, off)
	Add(g.S(), x, y)
	addGeneric(want, x, y)
	checkBits(t, "Add", n, off, g, want)

	g = simdtest.NewGuarded(n, off)
	Mul(g.S(), x, y)
	mulGeneric(want, x, y)
	checkBits(t, "Mul", n, off, g, want)

	g = guardedCopy(x, off)
	Scale(a, g.S())
	copy(want, x)
	scaleGeneric(a, want)
	checkBits(t, "Scale", n, off, g, want)

	// In place: dst aliases x.
	g = guardedCopy(x, off)
	Add(g.S(), g.S(), y)
	addGeneric(want, x, y)
	checkBits(t, "Add in place", n, off, g, want)

	// Kernels with a multiply-add: bit for bit against the explicitly
	// rounded loop for unfused sets, within the bound otherwise.
	exact := unfusedSets[name]
	want64 := make([]float64, n)
	abs := make([]float64, n)

	g = guardedCopy(y, off)
	Axpy(a, x, g.S())
	for i := range want {
		want[i] = y[i] + float32(a*x[i])
		want64[i] = float64(y[i]) + float64(a)*float64(x[i])
		abs[i] = math.Abs(float64(y[i])) + math.Abs(float64(a)*float64(x[i]))
	}
	if exact {
		checkBits(t, "Axpy", n, off, g, want)
	} else {
		checkClose(t, "Axpy", n, off, g, want64, 2, abs)
	}

	g = simdtest.NewGuarded(n, off)
	ReverseStep(g.S(), x, e, z, a, b, c)
	for i := range want {
		want[i] = float32(float32(a*x[i])+float32(b*e[i])) + float32(c*z[i])
		want64[i] = float64(a)*float64(x[i]) + float64(b)*float64(e[i]) + float64(c)*float64(z[i])
		abs[i] = math.Abs(float64(a)*float64(x[i])) + math.Abs(float64(b)*float64(e[i])) + math.Abs(float64(c)*float64(z[i]))
	}
	if exact {
		checkBits(t, "ReverseStep", n, off, g, want)
	} else {
		checkClose(t, "ReverseStep", n, off, g, want64, 3, abs)
	}

	// out aliases x, as in the sampler.
	g = guardedCopy(x, off)
	ReverseStep(g.S(), g.S(), e, z, a, b, c)
	if exact {
		checkBits(t, "ReverseStep in place", n, off, g, want)
	} else {
		checkClose(t, "ReverseStep in place", n, off, g, want64, 3, abs)
	}

	g = simdtest.NewGuarded(n, off)
	ReverseStepGuided(g.S(), x, e, z, y, a, b, c, d)
	for i := range want {
		want[i] = float32(float32(float32(a*x[i])+float32(b*e[i]))+float32(c*z[i])) + float32(d*y[i])
		want64[i] = float64(a)*float64(x[i]) + float64(b)*float64(e[i]) + float64(c)*float64(z[i]) + float64(d)*float64(y[i])
		abs[i] = math.Abs(float64(a)*float64(x[i])) + math.Abs(float64(b)*float64(e[i])) + math.Abs(float64(c)*float64(z[i])) + math.Abs(float64(d)*float64(y[i]))
	}
	if exact {
		checkBits(t, "ReverseStepGuided", n, off, g, want)
	} else {
		checkClose(t, "ReverseStepGuided", n, off, g, want64, 4, abs)
	}
}

// exactDot returns sum x[i]*y[i] in float64 and sum |x[i]*y[i]|; NaN and
// infinities follow IEEE rules.
func exactDot(x, y []float32) (sum, sumAbs float64) {
	for i := range x {
		p := float64(x[i]) * float64(y[i])
		sum += p
		sumAbs += math.Abs(p)
	}
	return sum, sumAbs
}

func TestReductions(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, n := range testLengths() {
			for off := 0; off < maxOff; off++ {
				for _, p := range []float64{0, 0.02} {
					x := simdtest.Offset(special(r, simdtest.Rand(r, n), p), off)
					y := simdtest.Offset(special(r, simdtest.Rand(r, n), p), (off*5)%maxOff)
					want, abs := exactDot(x, y)
					if got := Dot(x, y); !simdtest.Close(got, want, n, abs) {
						t.Fatalf("Dot n=%d off=%d p=%v: %s", n, off, p, simdtest.Describe(got, want, n, abs))
					}
					want, abs = exactDot(x, x)
					if got := SumSquares(x); !simdtest.Close(got, want, n, abs) {
						t.Fatalf("SumSquares n=%d off=%d p=%v: %s", n, off, p, simdtest.Describe(got, want, n, abs))
					}
					got, ref := Max(x), maxGeneric(x)
					if got != ref && !(got != got && ref != ref) {
						t.Fatalf("Max n=%d off=%d p=%v: got %v, want %v", n, off, p, got, ref)
					}
				}
			}
		}
		// Max of all-negative values, -Inf and a lone NaN at every position.
		for n := 1; n <= 70; n++ {
			x := make([]float32, n)
			simdtest.Fill(r, x, -1000, -1)
			if got, want := Max(x), maxGeneric(x); got != want {
				t.Fatalf("Max of negatives n=%d: got %v, want %v", n, got, want)
			}
			for i := range x {
				x[i] = float32(math.Inf(-1))
			}
			if got := Max(x); !math.IsInf(float64(got), -1) {
				t.Fatalf("Max of -Inf n=%d: got %v", n, got)
			}
			for p := 0; p < n; p++ {
				simdtest.Fill(r, x, -5, 5)
				x[p] = float32(math.NaN())
				if got := Max(x); got == got {
					t.Fatalf("Max with NaN at %d of %d: got %v", p, n, got)
				}
				want, abs := exactDot(x, x)
				if got := SumSquares(x); !simdtest.Close(got, want, n, abs) {
					t.Fatalf("SumSquares with NaN at %d of %d: got %v", p, n, got)
				}
			}
		}
		if got := Max(nil); !math.IsInf(float64(got), -1) {
			t.Fatalf("Max(nil) = %v, want -Inf", got)
		}
	})
}

// expRef is float64 exp of the float32 difference, as the kernels compute it.
func expRef(v, shift float32) float64 { return math.Exp(float64(v - shift)) }

// expClose accepts a few ulp of relative error; results in or below the
// subnormal range may be flushed to zero.
func expClose(got float32, want float64) bool {
	switch {
	case math.IsNaN(want):
		return got != got
	case want > math.MaxFloat32*(1-8*simdtest.Eps32):
		return got > math.MaxFloat32*(1-8*simdtest.Eps32)
	case want < 0x1p-126:
		return got >= 0 && float64(got) <= 0x1p-126 && (want > 0x1p-150 || got == 0)
	}
	return math.Abs(float64(got)-want) <= 4*simdtest.Eps32*want
}

func TestExpSubSum(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(5, 6))
		check := func(x []float32, shift float32, what string, off int) {
			t.Helper()
			n := len(x)
			orig := append([]float32(nil), x...)
			g := guardedCopy(x, off)
			got := ExpSubSum(g.S(), shift)
			var want, flushed float64
			for i, v := range orig {
				w := expRef(v, shift)
				want += w
				if !expClose(g.S()[i], w) {
					t.Fatalf("ExpSubSum %s n=%d off=%d: exp(%v-%v) = %v, want %v", what, n, off, v, shift, g.S()[i], w)
				}
				if w < 0x1p-126 {
					flushed += 0x1p-126
				}
			}
			if want > math.MaxFloat32*(1-8*simdtest.Eps32) {
				if !(got > math.MaxFloat32*(1-8*simdtest.Eps32)) {
					t.Fatalf("ExpSubSum %s n=%d off=%d: sum %v, want about %v (overflow)", what, n, off, got, want)
				}
			} else if !simdtest.Close(got, want, n+4, want+flushed) && !(math.Abs(float64(got)-want) <= flushed) {
				t.Fatalf("ExpSubSum %s n=%d off=%d: sum %s", what, n, off, simdtest.Describe(got, want, n+4, want))
			}
			if err := g.Check(); err != nil {
				t.Fatalf("ExpSubSum %s n=%d off=%d: %v", what, n, off, err)
			}
		}
		for _, n := range testLengths() {
			for off := 0; off < 4; off++ {
				x := make([]float32, n)
				simdtest.Fill(r, x, -20, 5)
				check(x, 3*r.Float32(), "softmax range", off)
			}
			x := make([]float32, n)
			simdtest.Fill(r, x, -110, 70)
			check(x, 0, "wide range", n%maxOff)
		}
		// Special values at every position of short vectors.
		specials := []float32{float32(math.Inf(-1)), inf, nan, -1000, -105, -103.5, -90, -87.5, 88.5, 89, 1000, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30}
		for _, s := range specials {
			for n := 1; n <= 20; n++ {
				x := make([]float32, n)
				simdtest.Fill(r, x, -3, 3)
				x[r.IntN(n)] = s
				check(x, 0, fmt.Sprintf("special %v", s), n%maxOff)
			}
		}
		// Every float32 exponent.
		for e := -149; e <= 127; e++ {
			x := []float32{float32(math.Ldexp(1, e)), -float32(math.Ldexp(1, e)), float32(math.Ldexp(1.7, e)), -float32(math.Ldexp(1.3, e))}
			check(x, 0, "exponent sweep", e&3)
		}
		x := []float32{float32(math.Inf(-1)), float32(math.Inf(-1))}
		if got := ExpSubSum(x, 0); got != 0 || x[0] != 0 {
			t.Fatalf("ExpSubSum(-Inf) = %v, %v; want 0", got, x)
		}
	})
}

func TestNormalizeRows(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(7, 8))
		for _, shape := range [][2]int{{0, 5}, {3, 0}, {1, 1}, {4, 7}, {5, 33}, {17, 128}, {3, 1000}} {
			rows, cols := shape[0], shape[1]
			x := simdtest.Rand(r, rows*cols)
			if rows > 2 {
				clear(x[cols : 2*cols]) // a zero row stays zero
			}
			orig := append([]float32(nil), x...)
			NormalizeRows(x, rows, cols)
			for i := 0; i < rows; i++ {
				var ss float64
				for _, v := range orig[i*cols : (i+1)*cols] {
					ss += float64(v) * float64(v)
				}
				norm := math.Max(math.Sqrt(ss), 1e-12)
				for j := 0; j < cols; j++ {
					want := float64(orig[i*cols+j]) / norm
					if got := x[i*cols+j]; !simdtest.Close(got, want, cols+2, math.Abs(want)) {
						t.Fatalf("NormalizeRows %dx%d [%d,%d]: %s", rows, cols, i, j, simdtest.Describe(got, want, cols+2, math.Abs(want)))
					}
				}
			}
		}
	})
}

func TestSimilarity(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, shape := range [][3]int{{1, 1, 1}, {2, 3, 5}, {7, 13, 17}, {33, 31, 128}, {64, 64, 128}, {100, 9, 300}} {
			n, m, d := shape[0], shape[1], shape[2]
			a, b := simdtest.Rand(r, n*d), simdtest.Rand(r, m*d)
			tau := float32(0.1 + r.Float64())
			s := make([]float32, n*m)
			for i := range s {
				s[i] = float32(math.NaN()) // overwritten
			}
			Similarity(s, a, b, n, m, d, tau)
			for i := 0; i < n; i++ {
				for j := 0; j < m; j++ {
					want, abs := exactDot(a[i*d:(i+1)*d], b[j*d:(j+1)*d])
					want /= float64(tau)
					abs /= float64(tau)
					if got := s[i*m+j]; !simdtest.Close(got, want, d+2, abs) {
						t.Fatalf("Similarity %v [%d,%d]: %s", shape, i, j, simdtest.Describe(got, want, d+2, abs))
					}
				}
			}
		}
	})
}

func TestSoftmaxRows(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, shape := range [][2]int{{0, 3}, {2, 0}, {1, 1}, {3, 7}, {8, 33}, {5, 512}} {
			rows, cols := shape[0], shape[1]
			x := make([]float32, rows*cols)
			simdtest.Fill(r, x, -30, 30)
			if rows >= 3 && cols >= 2 {
				x[0] = float32(math.Inf(-1))     // row 0: one -Inf entry -> 0
				x[cols+1] = float32(math.Inf(1)) // row 1: +Inf -> NaN row
				x[2*cols] = float32(math.NaN())  // row 2: NaN -> NaN row
			}
			orig := append([]float32(nil), x...)
			SoftmaxRows(x, rows, cols)
			for i := 0; i < rows; i++ {
				row := orig[i*cols : (i+1)*cols]
				m := math.Inf(-1)
				bad := false
				for _, v := range row {
					m = math.Max(m, float64(v))
					bad = bad || math.IsNaN(float64(v)) || math.IsInf(float64(v), 1)
				}
				var sum float64
				for _, v := range row {
					sum += math.Exp(float64(v - float32(m))) // the kernels round v-m to float32
				}
				for j, v := range row {
					got := x[i*cols+j]
					if bad {
						if got == got {
							t.Fatalf("SoftmaxRows %v [%d,%d] = %v, want NaN", shape, i, j, got)
						}
						continue
					}
					want := math.Exp(float64(v-float32(m))) / sum
					if !simdtest.Close(got, want, cols+8, want) && !(want < 0x1p-120 && float64(got) < 0x1p-120) {
						t.Fatalf("SoftmaxRows %v [%d,%d]: %s", shape, i, j, simdtest.Describe(got, want, cols+8, want))
					}
				}
			}
		}
	})
}

// sgemmCase is one Sgemm call checked against a float64 reference, with
// guard bands around C and sentinels in the gaps of its stride.
type sgemmCase struct {
	transA, transB bool
	m, n, k        int
	lda, ldb, ldc  int
	alpha, beta    float32
}

func (c sgemmCase) String() string {
	return fmt.Sprintf("transA=%v transB=%v m=%d n=%d k=%d lda=%d ldb=%d ldc=%d alpha=%v beta=%v",
		c.transA, c.transB, c.m, c.n, c.k, c.lda, c.ldb, c.ldc, c.alpha, c.beta)
}

func randSgemmCase(r *rand.Rand, transA, transB bool, m, n, k int) sgemmCase {
	c := sgemmCase{transA: transA, transB: transB, m: m, n: n, k: k}
	pad := func() int {
		if r.IntN(2) == 0 {
			return 0
		}
		return 1 + r.IntN(9)
	}
	ac, bc := k, n
	if c.transA {
		ac = m
	}
	if c.transB {
		bc = k
	}
	c.lda, c.ldb, c.ldc = max(ac, 1)+pad(), max(bc, 1)+pad(), max(n, 1)+pad()
	alphas := []float32{1, -0.5, 2.25, 0}
	betas := []float32{0, 1, 0.5, -2}
	c.alpha, c.beta = alphas[r.IntN(len(alphas))], betas[r.IntN(len(betas))]
	return c
}

func runSgemmCase(t *testing.T, r *rand.Rand, c sgemmCase) {
	t.Helper()
	ar, br := c.m, c.k
	if c.transA {
		ar = c.k
	}
	if c.transB {
		br = c.n
	}
	a := simdtest.Offset(simdtest.Rand(r, ar*c.lda), r.IntN(maxOff))
	b := simdtest.Offset(simdtest.Rand(r, br*c.ldb), r.IntN(maxOff))
	g := simdtest.NewGuarded(c.m*c.ldc, r.IntN(maxOff))
	cs := g.S()
	for i := 0; i < c.m; i++ {
		simdtest.Fill(r, cs[i*c.ldc:i*c.ldc+c.n], -1, 1)
		if c.beta == 0 && r.IntN(3) == 0 {
			cs[i*c.ldc] = float32(math.NaN()) // ignored with beta = 0
		}
	}
	c0 := append([]float32(nil), cs...)
	Sgemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, c.lda, b, c.ldb, c.beta, cs[:len(cs):len(cs)], c.ldc)
	at := func(i, p int) float64 {
		if c.transA {
			return float64(a[p*c.lda+i])
		}
		return float64(a[i*c.lda+p])
	}
	bt := func(p, j int) float64 {
		if c.transB {
			return float64(b[j*c.ldb+p])
		}
		return float64(b[p*c.ldb+j])
	}
	for i := 0; i < c.m; i++ {
		for j := 0; j < c.ldc; j++ {
			got := cs[i*c.ldc+j]
			if j >= c.n {
				if math.Float32bits(got) != math.Float32bits(c0[i*c.ldc+j]) {
					t.Fatalf("Sgemm %v: C[%d,%d] beyond n changed", c, i, j)
				}
				continue
			}
			var sum, abs float64
			for p := 0; p < c.k; p++ {
				v := at(i, p) * bt(p, j)
				sum += v
				abs += math.Abs(v)
			}
			alpha := float64(c.alpha)
			want, wabs := alpha*sum, math.Abs(alpha)*abs
			if c.beta != 0 {
				bc := float64(c.beta) * float64(c0[i*c.ldc+j])
				want += bc
				wabs += math.Abs(bc)
			}
			if !simdtest.Close(got, want, c.k+2, wabs) {
				t.Fatalf("Sgemm %v: C[%d,%d]: %s", c, i, j, simdtest.Describe(got, want, c.k+2, wabs))
			}
		}
	}
	if err := g.Check(); err != nil {
		t.Fatalf("Sgemm %v: %v", c, err)
	}
}

func TestSgemm(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(13, 14))
		dims := []int{1, 2, 3, 5, 6, 7, 8, 9, 15, 16, 17, 23, 31, 33, 48, 65}
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				// Edge shapes: vectors, 1xK, Mx1, empty k.
				for _, s := range [][3]int{{1, 1, 1}, {1, 37, 19}, {29, 1, 19}, {1, 1, 300}, {13, 11, 0}, {7, 40, 1}, {6, 16, 257}, {12, 32, 64}} {
					runSgemmCase(t, r, randSgemmCase(r, ta, tb, s[0], s[1], s[2]))
				}
				for range 40 {
					runSgemmCase(t, r, randSgemmCase(r, ta, tb, dims[r.IntN(len(dims))], dims[r.IntN(len(dims))], dims[r.IntN(len(dims))]))
				}
			}
		}
		// Larger than the cache blocks in each dimension.
		for _, s := range [][3]int{{200, 70, 530}, {3, 3100, 5}, {131, 129, 300}} {
			runSgemmCase(t, r, randSgemmCase(r, r.IntN(2) == 1, r.IntN(2) == 1, s[0], s[1], s[2]))
		}
		// beta = 0 overwrites NaN and alpha = 0 only scales.
		c := make([]float32, 6)
		for i := range c {
			c[i] = float32(math.NaN())
		}
		Sgemm(false, false, 2, 3, 4, 0, make([]float32, 8), 4, make([]float32, 12), 3, 0, c, 3)
		for i, v := range c {
			if v != 0 {
				t.Fatalf("Sgemm alpha=0 beta=0 left C[%d] = %v", i, v)
			}
		}
	})
}

func TestSgemmThreadsIdentical(t *testing.T) {
	defer SetThreads(0)
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(15, 16))
		for _, s := range [][5]int{{150, 170, 300, 0, 0}, {20, 700, 100, 0, 1}, {97, 301, 129, 1, 1}, {512, 512, 128, 0, 1}, {64, 64, 64, 1, 0}, {7, 1000, 50, 0, 0}, {5, 1000, 60, 0, 0}, {3, 2000, 50, 0, 1}, {30, 3100, 20, 0, 1}, {300, 40, 90, 1, 0}} {
			m, n, k, ta, tb := s[0], s[1], s[2], s[3] == 1, s[4] == 1
			a, b := simdtest.Rand(r, m*k), simdtest.Rand(r, k*n)
			c0 := simdtest.Rand(r, m*n)
			lda, ldb := k, n
			if ta {
				lda = m
			}
			if tb {
				ldb = k
			}
			var first []float32
			for _, th := range []int{1, 2, 3} {
				SetThreads(th)
				c := append([]float32(nil), c0...)
				Sgemm(ta, tb, m, n, k, 0.75, a, lda, b, ldb, 0.5, c, n)
				if first == nil {
					first = c
					continue
				}
				if i, ok := simdtest.SameBits(c, first); !ok {
					t.Fatalf("Sgemm %v: threads=%d differs from threads=1 at %d: %v vs %v", s, th, i, c[i], first[i])
				}
			}
		}
	})
}

// floats decodes fuzz bytes into float32 values, 4 bytes each.
func floats(data []byte) []float32 {
	x := make([]float32, len(data)/4)
	for i := range x {
		x[i] = math.Float32frombits(uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24)
	}
	return x
}

func fuzzSeedBytes(f *testing.F) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 33, 64, 65, 100} {
		b := make([]byte, 8*n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		f.Add(b)
		x := simdtest.Rand(r, 2*n)
		b = make([]byte, 0, 8*n)
		for _, v := range x {
			u := math.Float32bits(v)
			b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
		}
		f.Add(b)
	}
}

// FuzzDot checks Dot and SumSquares of every supported set against the
// float64 reference (bit-pattern inputs: NaN, Inf, subnormals included).
func FuzzDot(f *testing.F) {
	fuzzSeedBytes(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		v := floats(data)
		x, y := v[:len(v)/2], v[len(v)/2:len(v)/2*2]
		defer Use("auto")
		for _, name := range Supported() {
			Use(name)
			want, abs := exactDot(x, y)
			if math.IsInf(abs, 0) || math.IsNaN(abs) || abs > math.MaxFloat32/4 {
				// Partial sums may overflow, to either infinity depending on
				// the order: only a NaN product forces the result.
				nanTerm := false
				for i := range x {
					p := float64(x[i]) * float64(y[i])
					nanTerm = nanTerm || p != p
				}
				if got := Dot(x, y); nanTerm && got == got {
					t.Fatalf("%s Dot: got %v, want NaN (a product is NaN)", name, got)
				}
				continue
			}
			if got := Dot(x, y); !simdtest.Close(got, want, len(x), abs) {
				t.Fatalf("%s Dot: %s", name, simdtest.Describe(got, want, len(x), abs))
			}
			got, ref := Max(x), maxGeneric(x)
			if got != ref && !(got != got && ref != ref) {
				t.Fatalf("%s Max: got %v, want %v", name, got, ref)
			}
		}
	})
}

// FuzzElementwise checks Add, Mul, Scale and ReverseStep bit for bit against
// the explicitly rounded loops (sets in unfusedSets) or the generic kernels.
func FuzzElementwise(f *testing.F) {
	fuzzSeedBytes(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		v := floats(data)
		n := len(v) / 2
		x, y := v[:n], v[n:2*n]
		defer Use("auto")
		for _, name := range Supported() {
			Use(name)
			got, want := make([]float32, n), make([]float32, n)
			Add(got, x, y)
			addGeneric(want, x, y)
			if i, ok := simdtest.SameBits(got, want); !ok {
				t.Fatalf("%s Add at %d: %v want %v", name, i, got[i], want[i])
			}
			Mul(got, x, y)
			mulGeneric(want, x, y)
			if i, ok := simdtest.SameBits(got, want); !ok {
				t.Fatalf("%s Mul at %d: %v want %v", name, i, got[i], want[i])
			}
			if !unfusedSets[name] {
				continue
			}
			const a, b, c = 0.9, -0.3, 0.01
			ReverseStep(got, x, y, x, a, b, c)
			for i := range want {
				want[i] = float32(float32(a*x[i])+float32(b*y[i])) + float32(c*x[i])
			}
			if i, ok := simdtest.SameBits(got, want); !ok {
				t.Fatalf("%s ReverseStep at %d: %v want %v", name, i, got[i], want[i])
			}
		}
	})
}

// FuzzExpSubSum checks the vectorised exp against float64 exp.
func FuzzExpSubSum(f *testing.F) {
	fuzzSeedBytes(f)
	f.Add([]byte{0, 0, 0x80, 0xff, 0, 0, 0x80, 0x7f, 0, 0, 0xc0, 0x7f}) // -Inf, +Inf, NaN
	f.Fuzz(func(t *testing.T, data []byte) {
		x0 := floats(data)
		defer Use("auto")
		for _, name := range Supported() {
			Use(name)
			x := append([]float32(nil), x0...)
			ExpSubSum(x, 0)
			for i, v := range x0 {
				if w := expRef(v, 0); !expClose(x[i], w) {
					t.Fatalf("%s exp(%v) = %v, want %v", name, v, x[i], w)
				}
			}
		}
	})
}

// FuzzSgemm checks random small shapes and transposes against float64.
func FuzzSgemm(f *testing.F) {
	for _, s := range [][3]uint8{{1, 1, 1}, {6, 16, 4}, {7, 17, 9}, {13, 5, 40}, {1, 33, 2}, {40, 1, 3}} {
		f.Add(s[0], s[1], s[2], uint64(s[0])*7+uint64(s[2]))
	}
	f.Fuzz(func(t *testing.T, m, n, k uint8, seed uint64) {
		r := rand.New(rand.NewPCG(seed, 19))
		defer Use("auto")
		for _, name := range Supported() {
			Use(name)
			runSgemmCase(t, r, randSgemmCase(r, seed&1 == 1, seed&2 == 2, int(m%70)+1, int(n%70)+1, int(k%90)))
		}
	})
}
