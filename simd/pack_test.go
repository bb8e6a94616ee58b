package simd

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPackKernels compares each set's assembly packing kernels (pack6 for
// 6-row A panels, packB16 for 16-column B panels) with the Go packing loops
// they replace, bit for bit, over panel counts, kc (including kc not a
// multiple of 8 for pack6's tail) and leading dimensions wider than the
// block; a guard band after the packed data must stay untouched.
func TestPackKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const guard = 16
	for _, s := range sets {
		if !supported(s) || (s.gemm.pack6 == nil && s.gemm.packB16 == nil) {
			continue
		}
		for _, kc := range []int{1, 7, 8, 9, 16, 63, 256} {
			for _, extra := range []int{0, 3, 17} {
				if k := s.gemm.packB16; k != nil {
					for _, panels := range []int{1, 2, 5} {
						ldb := 16*panels + extra
						b := make([]float32, kc*ldb)
						for i := range b {
							b[i] = r.Float32()*2 - 1
						}
						want := make([]float32, 16*panels*kc+guard)
						packB(want, false, b, ldb, 0, 0, kc, 16*panels, 16, nil)
						got := make([]float32, len(want))
						for i := range got[16*panels*kc:] {
							got[16*panels*kc+i] = -7
						}
						k(got[:16*panels*kc], b[:(kc-1)*ldb+16*panels], ldb, kc, panels)
						name := fmt.Sprintf("%s packB16 kc=%d panels=%d ldb=%d", s.name, kc, panels, ldb)
						comparePacked(t, name, got, want, 16*panels*kc)
					}
				}
				if k := s.gemm.pack6; k != nil && kc >= 8 {
					lda := kc + extra
					a := make([]float32, 6*lda)
					for i := range a {
						a[i] = r.Float32()*2 - 1
					}
					const alpha = 0.75
					want := make([]float32, 6*kc+guard)
					packA(want, false, a, lda, 0, 0, 6, kc, 6, alpha, nil, nil)
					got := make([]float32, len(want))
					kc8 := kc &^ 7
					// pack6 may write 2 floats past 6*kc8 (see gemmKernel):
					// the guard starts after them.
					for i := 6*kc8 + 2; i < len(got); i++ {
						got[i] = -7
					}
					k(got, a, lda, kc8, alpha)
					// The driver packs the columns past kc8 in Go.
					copy(got[6*kc8:6*kc], want[6*kc8:6*kc])
					for i := 6 * kc; i < 6*kc8+2; i++ {
						got[i] = -7 // the allowed slack
					}
					name := fmt.Sprintf("%s pack6 kc=%d lda=%d", s.name, kc, lda)
					comparePacked(t, name, got, want, 6*kc)
				}
			}
		}
	}
}

// comparePacked checks got[:n] against want[:n] bit for bit and that the
// guard band past n still holds its -7 fill.
func comparePacked(t *testing.T, name string, got, want []float32, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if got[i] != want[i] {
			t.Fatalf("%s: element %d = %v, want %v", name, i, got[i], want[i])
		}
	}
	for i := n; i < len(got); i++ {
		if got[i] != -7 {
			t.Fatalf("%s: guard element %d was overwritten with %v", name, i, got[i])
		}
	}
}
