package simd

import (
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/simd/simdtest"
)

func TestGatherRows(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(31, 32))
		src := simdtest.Rand(r, 500)
		for _, width := range []int{1, 4, 8, 16} {
			for _, n := range []int{0, 1, 3, 17, 64} {
				offs := make([]int32, n)
				for i := range offs {
					offs[i] = int32(r.IntN(500 - width - 10))
				}
				base := r.IntN(10)
				dst := make([]float32, n*width+3)
				dst[n*width] = 7
				GatherRows(dst, width, src, base, offs)
				for p := range offs {
					for l := 0; l < width; l++ {
						if got, want := dst[p*width+l], src[base+int(offs[p])+l]; got != want {
							t.Fatalf("width %d: dst[%d] = %v, want %v", width, p*width+l, got, want)
						}
					}
				}
				if dst[n*width] != 7 {
					t.Fatalf("width %d: wrote past the rows", width)
				}
			}
		}
		// Rows outside src panic (before or after), for every width.
		for _, width := range []int{8, 16} {
			for _, c := range []struct{ base, off int }{{-1, 0}, {0, -1}, {500 - width + 1, 0}, {0, 500}} {
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("width %d base %d off %d: no panic", width, c.base, c.off)
						}
					}()
					GatherRows(make([]float32, 3*width), width, src, c.base, []int32{0, int32(c.off), 0})
				}()
			}
		}
	})
}

// TestGatherRowPairs: every set copies both runs of every row exactly,
// writes nothing past the rows, and panics on a run outside src (at the
// ends, before or after, in either run).
func TestGatherRowPairs(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(33, 34))
		src := simdtest.Rand(r, 500)
		for _, n := range []int{0, 1, 3, 17, 64} {
			offs := make([]int32, n)
			for i := range offs {
				offs[i] = int32(r.IntN(480))
			}
			base0, base1 := r.IntN(10), r.IntN(12)
			if n > 0 {
				offs[n-1] = int32(500 - 8 - max(base0, base1)) // a run ending at len(src)
			}
			dst := make([]float32, 16*n+3)
			dst[16*n] = 7
			GatherRowPairs(dst, src, base0, base1, offs)
			for p, o := range offs {
				for l := 0; l < 8; l++ {
					if got, want := dst[16*p+l], src[base0+int(o)+l]; got != want {
						t.Fatalf("n %d: dst[%d] = %v, want %v", n, 16*p+l, got, want)
					}
					if got, want := dst[16*p+8+l], src[base1+int(o)+l]; got != want {
						t.Fatalf("n %d: dst[%d] = %v, want %v", n, 16*p+8+l, got, want)
					}
				}
			}
			if dst[16*n] != 7 {
				t.Fatalf("n %d: wrote past the rows", n)
			}
		}
		for _, c := range []struct{ base0, base1, off int }{{-1, 0, 0}, {0, -1, 0}, {0, 0, -1}, {493, 0, 0}, {0, 493, 0}, {0, 0, 500}} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("base0 %d base1 %d off %d: no panic", c.base0, c.base1, c.off)
					}
				}()
				GatherRowPairs(make([]float32, 48), src, c.base0, c.base1, []int32{0, int32(c.off), 0})
			}()
		}
	})
}
