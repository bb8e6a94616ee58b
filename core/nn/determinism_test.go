package nn

import (
	"math"
	"runtime"
	"testing"

	"github.com/cdp-project/cdp/simd"
)

// runDeterminism runs conv2d (3x3 and strided), group norm, SiLU, a
// residual block (SiLUConv2d with its norm, a 1x1 skip joined by
// BackwardAdd) and the attention block forward and backward and returns
// every output, input gradient and parameter gradient.
func runDeterminism() [][]float32 {
	rng := newRNG(300)
	p := NewParams()
	c1 := NewConv2d(p, "c1", 16, 32, 3, 1, 1, true, rng)
	res := &SiLUConv2d{Norm: NewGroupNorm(p, "res.gn", 8, 32), Conv: NewConv2d(p, "res.conv", 32, 24, 3, 1, 1, true, rng)}
	skip := NewConv2d(p, "res.skip", 32, 24, 1, 1, 0, true, rng)
	gn := NewGroupNorm(p, "gn", 8, 24)
	var act SiLU
	c2 := NewConv2d(p, "c2", 24, 32, 3, 2, 1, true, rng)
	at := NewAttentionBlock(p, "attn", 32, 8, rng)
	n, h, w := 6, 16, 16
	x := randn(rng, n*16*h*w, 1)
	var out [][]float32
	keep := func(v []float32) { out = append(out, append([]float32(nil), v...)) }
	y1, _, _ := c1.Forward(x, n, h, w)
	keep(y1)
	r1, _, _ := res.Forward(y1, n, h, w)
	r2, _, _ := skip.Forward(y1, n, h, w)
	r := AddInto(nil, r1, r2)
	keep(r)
	a := act.Forward(gn.Forward(r, n, h, w))
	y2, ho, wo := c2.Forward(a, n, h, w)
	keep(y2)
	y3 := at.Forward(y2, n, ho, wo)
	keep(y3)
	dy := randn(rng, len(y3), 1)
	d := at.Backward(dy)
	keep(d)
	d2 := make([]float32, n*24*h*w)
	c2.BackwardAdd(d, d2) // strided: dx then added
	d = d2
	keep(d)
	d = gn.Backward(act.Backward(d))
	keep(d)
	dr := res.Backward(d)
	skip.BackwardAdd(d, dr)
	keep(dr)
	d = c1.Backward(dr)
	keep(d)
	keep(p.G)
	return out
}

func TestDeterministicAcrossThreads(t *testing.T) {
	defer simd.SetThreads(simd.Threads())
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer func(old int) { convChunkCols = old }(convChunkCols)
	convChunkCols = 1024 // several images per im2col matrix at 16x16
	runtime.GOMAXPROCS(4)
	var ref [][]float32
	for _, threads := range []int{1, 2, 3} {
		simd.SetThreads(threads)
		got := runDeterminism()
		if ref == nil {
			ref = got
			continue
		}
		for i := range ref {
			for j := range ref[i] {
				if math.Float32bits(got[i][j]) != math.Float32bits(ref[i][j]) {
					t.Fatalf("threads=%d: result %d differs at %d: %g vs %g with 1 thread", threads, i, j, got[i][j], ref[i][j])
				}
			}
		}
	}
}
