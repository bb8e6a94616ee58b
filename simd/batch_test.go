package simd

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/simd/simdtest"
)

// TestSgemmBatch: every product of SgemmBatch has the bits of an Sgemm call
// on the same slices (with the bias written into C first), for shared and
// strided operands, transposes, batches smaller and larger than the thread
// count, and every thread count; nothing outside the products is written.
func TestSgemmBatch(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		defer SetThreads(0)
		r := rand.New(rand.NewPCG(101, 102))
		for trial := 0; trial < 40; trial++ {
			batch := r.IntN(6)
			m, n, k := 1+r.IntN(20), 1+r.IntN(40), r.IntN(30)
			if trial == 0 {
				// Large enough (m n k >= 64^3) for sgemm to share one
				// product among threads.
				batch, m, n, k = 1, 70, 64, 64
			}
			transA, transB := r.IntN(2) == 0, r.IntN(2) == 0
			lda, ldb, ldc := k, n, n+r.IntN(3)
			ar, br := m, k
			if transA {
				lda, ar = m, k
			}
			if transB {
				ldb, br = k, n
			}
			lda, ldb = max(lda, 1), max(ldb, 1)
			sa := 0
			if r.IntN(2) == 0 {
				sa = ar*lda + r.IntN(5)
			}
			sb, sc := br*ldb+r.IntN(5), m*ldc+r.IntN(5)
			var bias []float32
			beta := float32(r.IntN(2))
			if r.IntN(3) == 0 {
				bias, beta = simdtest.Rand(r, m), 0
			}
			a := simdtest.Rand(r, max(1, batch)*max(sa, ar*lda)+1)
			b := simdtest.Rand(r, max(1, batch)*sb+1)
			c0 := simdtest.Rand(r, max(1, batch)*sc+1)
			want := append([]float32(nil), c0...)
			for i := 0; i < batch; i++ {
				ct := want[i*sc:]
				bt := beta
				if bias != nil {
					for row := 0; row < m; row++ {
						for j := 0; j < n; j++ {
							ct[row*ldc+j] = bias[row]
						}
					}
					bt = 1
				}
				Sgemm(transA, transB, m, n, k, 0.5, a[i*sa:], lda, b[i*sb:], ldb, bt, ct, ldc)
			}
			for _, threads := range []int{1, 2, 3} {
				SetThreads(threads)
				got := append([]float32(nil), c0...)
				SgemmBatch(batch, transA, transB, m, n, k, 0.5, a, lda, sa, b, ldb, sb, beta, got, ldc, sc, bias)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("trial %d (batch %d, %dx%dx%d, trans %v %v, bias %v, threads %d): c[%d] = %v, want %v", trial, batch, m, n, k, transA, transB, bias != nil, threads, i, got[i], want[i])
					}
				}
			}
		}
	})
}
