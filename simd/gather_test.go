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
