//go:build gc && !purego

package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestCenterSumSquaresAVX2MatchesSumSquares: the avx2 kernel's sum is the
// avx2 SumSquares of the centred values bit for bit, so GroupNorm gives the
// same numbers as before the fused kernel existed.
func TestCenterSumSquaresAVX2MatchesSumSquares(t *testing.T) {
	if !supported(&avx2) {
		t.Skip("no AVX2 here")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 300; n++ {
		x := make([]float32, n)
		for i := range x {
			x[i] = 4*r.Float32() - 1
		}
		mean := r.Float32()
		dst := make([]float32, n)
		got := centerSumSquaresAVX2Go(dst, x, mean)
		c := make([]float32, n)
		center(c, x, mean)
		if want := sumSquaresAVX2Go(c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("n=%d: fused kernel %v, centre then SumSquares %v", n, got, want)
		}
	}
}
