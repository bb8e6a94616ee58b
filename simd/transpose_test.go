package simd

import (
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/simd/simdtest"
)

// TestTranspose: every set writes exactly the transpose, for all shapes up
// to 19 x 19 and a few larger ones (whole 8x8 blocks and tails on both
// sides), with padded strides, unaligned starts, and every other element of
// dst (the gaps between rows and the guard bands) left as it was.
func TestTranspose(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(61, 62))
		var shapes [][2]int
		for rows := 0; rows < 20; rows++ {
			for cols := 0; cols < 20; cols++ {
				shapes = append(shapes, [2]int{rows, cols})
			}
		}
		shapes = append(shapes, [2]int{32, 1024}, [2]int{64, 32}, [2]int{96, 8}, [2]int{1, 64}, [2]int{41, 27})
		for _, sh := range shapes {
			rows, cols := sh[0], sh[1]
			for _, extra := range []int{0, 3} {
				lds, ldd := cols+extra, rows+2*extra
				off := r.IntN(maxOff)
				ns := max(0, (rows-1)*lds+cols)
				src := simdtest.Offset(special(r, simdtest.Rand(r, ns), 0.01), off)
				nd := max(0, (cols-1)*ldd+rows)
				if rows == 0 || cols == 0 {
					nd = 0
				}
				g := simdtest.NewGuarded(nd, (off+3)%maxOff)
				d := g.S()
				want := make([]float32, nd)
				for i := range d {
					v := float32(-1000 - i)
					d[i], want[i] = v, v
				}
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						want[j*ldd+i] = src[i*lds+j]
					}
				}
				Transpose(d, ldd, src, lds, rows, cols)
				if i, ok := simdtest.SameBits(d, want); !ok {
					t.Fatalf("%dx%d lds %d ldd %d off %d: dst[%d] = %v, want %v", rows, cols, lds, ldd, off, i, d[i], want[i])
				}
				if err := g.Check(); err != nil {
					t.Fatalf("%dx%d lds %d ldd %d: %v", rows, cols, lds, ldd, err)
				}
			}
		}
	})
}

func TestTransposeBadOperands(t *testing.T) {
	for i, f := range []func(){
		func() { Transpose(make([]float32, 64), 8, make([]float32, 63), 8, 8, 8) },
		func() { Transpose(make([]float32, 63), 8, make([]float32, 64), 8, 8, 8) },
		func() { Transpose(make([]float32, 64), 8, make([]float32, 64), 7, 8, 8) },
		func() { Transpose(make([]float32, 64), 7, make([]float32, 64), 8, 8, 8) },
		func() { Transpose(nil, 1, nil, 1, -1, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("case %d: bad operands were accepted", i)
				}
			}()
			f()
		}()
	}
}
