package simd

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/simd/simdtest"
)

// TestSiLU checks SiLU against float64 and against the loop over ExpSubSum
// that it replaces (bit for bit), for lengths around the vector width and
// special values.
func TestSiLU(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(41, 42))
		for _, n := range []int{0, 1, 7, 8, 9, 16, 31, 100, 4096} {
			x := simdtest.Rand(r, n)
			for i := range x {
				x[i] *= 12
			}
			if n >= 9 {
				x[0], x[1], x[2], x[3] = 0, float32(math.Inf(1)), float32(math.Inf(-1)), -200
				x[4], x[5] = 100, float32(math.Copysign(0, -1))
			}
			y, s := make([]float32, n), make([]float32, n)
			SiLU(y, s, x)
			e := make([]float32, n)
			for i, v := range x {
				e[i] = -v
			}
			ExpSubSum(e, 0)
			for i, v := range x {
				sg := 1 / (1 + e[i])
				if s[i] != sg || y[i] != v*sg && !math.IsNaN(float64(v*sg)) {
					t.Fatalf("n=%d x[%d]=%v: SiLU gives s=%v y=%v, the ExpSubSum loop s=%v y=%v", n, i, v, s[i], y[i], sg, v*sg)
				}
				if math.IsInf(float64(v), 0) {
					continue
				}
				want := 1 / (1 + math.Exp(-float64(v)))
				if math.Abs(float64(s[i])-want) > 4e-7*math.Max(want, 1e-30)+1e-38 && math.Abs(float64(s[i])-want) > 1e-6*want {
					t.Fatalf("n=%d x[%d]=%v: sigmoid %v, want %v", n, i, v, s[i], want)
				}
			}
		}
	})
}

// TestSiLUGrad: every set gives the generic loop's bits, for lengths 0..100
// and longer, unaligned starts, guard bands around dx, NaN and infinities;
// mismatched lengths panic before any kernel runs.
func TestSiLUGrad(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(43, 44))
		for _, n := range testLengths() {
			for off := 0; off < maxOff; off += 3 {
				x := simdtest.Offset(special(r, simdtest.Rand(r, n), 0.02), off)
				dy := simdtest.Offset(special(r, simdtest.Rand(r, n), 0.02), (off+1)%maxOff)
				s := simdtest.Offset(simdtest.Rand(r, n), (off+2)%maxOff)
				want := make([]float32, n)
				for i := range want {
					want[i] = dy[i] * s[i] * (1 + x[i]*(1-s[i]))
				}
				g := simdtest.NewGuarded(n, (off+5)%maxOff)
				SiLUGrad(g.S(), dy, x, s)
				checkBits(t, "SiLUGrad", n, off, g, want)
			}
		}
		defer func() {
			if recover() == nil {
				t.Fatal("SiLUGrad with a short dy did not panic")
			}
		}()
		SiLUGrad(make([]float32, 9), make([]float32, 8), make([]float32, 9), make([]float32, 9))
	})
}
