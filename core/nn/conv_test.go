package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/cdp-project/cdp/simd"
)

// convRef returns y = conv(x) + b and dW = dy col^T, db = sum dy, dx =
// col2im(W^T dy) of a convolution, computed directly in float64 from the
// definition (torch.nn.Conv2d, dilation 1).
func convRef(x, wt, bias, dy []float32, n, cin, cout, h, w, k, s, pad int) (y, dw, db, dx []float64) {
	ho, wo := (h+2*pad-k)/s+1, (w+2*pad-k)/s+1
	y = make([]float64, n*cout*ho*wo)
	dw = make([]float64, len(wt))
	db = make([]float64, cout)
	dx = make([]float64, len(x))
	for img := 0; img < n; img++ {
		for co := 0; co < cout; co++ {
			for oy := 0; oy < ho; oy++ {
				for ox := 0; ox < wo; ox++ {
					o := ((img*cout+co)*ho+oy)*wo + ox
					acc := float64(bias[co])
					g := float64(dy[o])
					db[co] += g
					for ci := 0; ci < cin; ci++ {
						for ky := 0; ky < k; ky++ {
							iy := oy*s - pad + ky
							if iy < 0 || iy >= h {
								continue
							}
							for kx := 0; kx < k; kx++ {
								ix := ox*s - pad + kx
								if ix < 0 || ix >= w {
									continue
								}
								xi := ((img*cin+ci)*h+iy)*w + ix
								wi := ((co*cin+ci)*k+ky)*k + kx
								acc += float64(wt[wi]) * float64(x[xi])
								dw[wi] += g * float64(x[xi])
								dx[xi] += g * float64(wt[wi])
							}
						}
					}
					y[o] = acc
				}
			}
		}
	}
	return y, dw, db, dx
}

// maxRelErr is max |got - want| over max |want|.
func maxRelErr(got []float32, want []float64) float64 {
	var scale, worst float64
	for i, v := range want {
		scale = math.Max(scale, math.Abs(v))
		worst = math.Max(worst, math.Abs(float64(got[i])-v))
	}
	if scale == 0 {
		return worst
	}
	return worst / scale
}

// TestConv2dAgainstDefinition checks forward, weight, bias and input
// gradients of every code path (stride 1 and strided, 1x1, narrow layers,
// channel counts that leave partial panels, several images per chunk of the
// weight gradient) against the definition, with gradients accumulated over
// two backward passes.
func TestConv2dAgainstDefinition(t *testing.T) {
	type cfg struct{ n, cin, cout, k, s, pad, h, w int }
	cfgs := []cfg{
		{3, 5, 9, 3, 1, 1, 7, 6},
		{2, 16, 16, 3, 1, 1, 8, 8},
		{2, 13, 22, 3, 2, 1, 9, 8},
		{2, 13, 22, 3, 2, 1, 8, 6}, // stride 2 on even sizes: the phase path
		{1, 4, 8, 3, 2, 1, 2, 2},   // the phase path, one output pixel
		{3, 7, 10, 1, 1, 0, 5, 4},
		{2, 4, 12, 5, 1, 2, 6, 7},
		{2, 3, 8, 4, 3, 2, 8, 7},
		{2, 6, 3, 3, 1, 1, 5, 5}, // narrow
		{2, 1, 8, 3, 1, 1, 6, 6}, // one input channel
		{2, 32, 20, 3, 1, 0, 6, 6},
		{2, 3, 8, 1, 1, 1, 4, 5},    // Pad > K-1: stride-1 input gradient by col2im
		{2, 24, 40, 3, 1, 1, 6, 16}, // Winograd (where the kernel set has it), partial panel
		{1, 16, 17, 3, 1, 1, 2, 8},  // Winograd, one tile row, short row panel
		{2, 16, 16, 3, 1, 0, 4, 10}, // Winograd with padding 0 (forward, weight gradient)
	}
	defer func(c int) { convWChunk = c }(convWChunk)
	for _, chunk := range []int{0, 1, 2} {
		convWChunk = chunk
		for _, c := range cfgs {
			rng := newRNG(uint64(c.cin*31 + c.cout))
			p := NewParams()
			conv := NewConv2d(p, "conv", c.cin, c.cout, c.k, c.s, c.pad, true, rng)
			x := randn(rng, c.n*c.cin*c.h*c.w, 1)
			y, _, _ := conv.Forward(x, c.n, c.h, c.w)
			dy := randn(rng, len(y), 1)
			wy, wdw, wdb, wdx := convRef(x, p.Data(conv.Weight), p.Data(conv.Bias), dy, c.n, c.cin, c.cout, c.h, c.w, c.k, c.s, c.pad)
			label := fmt.Sprintf("%+v chunk=%d", c, chunk)
			if e := maxRelErr(y, wy); e > 1e-5 {
				t.Errorf("%s: forward off by %.3g", label, e)
			}
			p.ZeroGrad()
			conv.Backward(dy)
			dx := conv.Backward(dy)
			for i := range wdw {
				wdw[i] *= 2
			}
			for i := range wdb {
				wdb[i] *= 2
			}
			if e := maxRelErr(dx, wdx); e > 1e-5 {
				t.Errorf("%s: dx off by %.3g", label, e)
			}
			if e := maxRelErr(p.Grad(conv.Weight), wdw); e > 1e-5 {
				t.Errorf("%s: dW off by %.3g", label, e)
			}
			if e := maxRelErr(p.Grad(conv.Bias), wdb); e > 1e-5 {
				t.Errorf("%s: db off by %.3g", label, e)
			}
		}
	}
}

// TestSiLUConv2dMatchesSeparateLayers checks that the fused activation and
// convolution gives the bits of SiLU followed by Conv2d: outputs, input
// gradients and parameter gradients, fused (padded stride 1) and not.
func TestSiLUConv2dMatchesSeparateLayers(t *testing.T) { inEverySet(t, testSiLUConv2d) }

// inEverySet runs test once with every kernel set this machine supports.
func inEverySet(t *testing.T, test func(*testing.T)) {
	defer simd.Use(simd.Impl())
	for _, set := range simd.Supported() {
		if err := simd.Use(set); err != nil {
			t.Fatal(err)
		}
		t.Run("simd="+set, test)
	}
}

func testSiLUConv2d(t *testing.T) {
	type cfg struct{ n, cin, cout, k, s, pad, h, w int }
	for _, c := range []cfg{
		{3, 5, 9, 3, 1, 1, 8, 6},
		{2, 16, 16, 3, 1, 1, 8, 8},
		{2, 4, 12, 5, 1, 2, 4, 6},
		{2, 5, 9, 3, 1, 1, 7, 6},  // planes of 42 values: not fused
		{2, 6, 3, 3, 1, 1, 4, 4},  // narrow: not fused
		{2, 8, 10, 3, 2, 1, 8, 8}, // strided: not fused
	} {
		rng := newRNG(uint64(c.cin*7 + c.cout))
		p1, p2 := NewParams(), NewParams()
		conv1 := NewConv2d(p1, "conv", c.cin, c.cout, c.k, c.s, c.pad, true, rng)
		conv2 := NewConv2d(p2, "conv", c.cin, c.cout, c.k, c.s, c.pad, true, rng)
		copy(p2.W, p1.W)
		var act SiLU
		fused := &SiLUConv2d{Conv: conv2}
		x := randn(rng, c.n*c.cin*c.h*c.w, 2)
		label := fmt.Sprintf("%+v fused=%v", c, fused.fusable(c.h, c.w))
		for pass := 0; pass < 2; pass++ {
			y1, _, _ := conv1.Forward(act.Forward(x), c.n, c.h, c.w)
			y2, _, _ := fused.Forward(x, c.n, c.h, c.w)
			dy := randn(rng, len(y1), 1)
			dx1 := act.Backward(conv1.Backward(dy))
			dx2 := fused.Backward(dy)
			for name, pair := range map[string][2][]float32{"y": {y1, y2}, "dx": {dx1, dx2}, "grads": {p1.G, p2.G}} {
				a, b := pair[0], pair[1]
				if len(a) != len(b) {
					t.Fatalf("%s: %s has length %d, want %d", label, name, len(b), len(a))
				}
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
						t.Fatalf("%s pass %d: %s[%d] = %g, separate layers give %g", label, pass, name, i, b[i], a[i])
					}
				}
			}
		}
	}
}

// TestNormSiLUConv2dMatchesSeparateLayers checks SiLUConv2d with Norm
// against GroupNorm, SiLU and Conv2d in turn: outputs (also of ForwardShift
// against AddChannels first), input gradients (also through BackwardAdd),
// parameter gradients and DxSums bit for bit,
// fused and not, over changes of geometry (the padded buffer keeps its
// zero borders between calls of one geometry only).
func TestNormSiLUConv2dMatchesSeparateLayers(t *testing.T) { inEverySet(t, testNormSiLUConv2d) }

func testNormSiLUConv2d(t *testing.T) {
	type geom struct{ n, h, w int }
	type cfg struct {
		groups, cin, cout, k, s, pad int
		geoms                        []geom
	}
	for _, c := range []cfg{
		{5, 5, 9, 3, 1, 1, []geom{{3, 8, 6}, {2, 4, 4}, {3, 8, 6}, {4, 8, 6}}},
		{4, 16, 16, 3, 1, 1, []geom{{2, 8, 8}, {2, 8, 8}, {1, 4, 8}}},
		{2, 4, 12, 5, 1, 2, []geom{{2, 4, 6}, {2, 6, 4}}},
		{5, 5, 9, 3, 1, 1, []geom{{2, 8, 6}, {2, 7, 6}}}, // then planes of 42 values: not fused
		{3, 6, 3, 3, 1, 1, []geom{{2, 4, 4}}},            // narrow: not fused
		{4, 8, 10, 3, 2, 1, []geom{{2, 8, 8}}},           // strided: not fused
	} {
		rng := newRNG(uint64(c.cin*7 + c.cout))
		p1, p2 := NewParams(), NewParams()
		gn1 := NewGroupNorm(p1, "gn", c.groups, c.cin)
		conv1 := NewConv2d(p1, "conv", c.cin, c.cout, c.k, c.s, c.pad, true, rng)
		gn2 := NewGroupNorm(p2, "gn", c.groups, c.cin)
		conv2 := NewConv2d(p2, "conv", c.cin, c.cout, c.k, c.s, c.pad, true, rng)
		uniform(p1.Data(gn1.Weight), 1.5, rng)
		uniform(p1.Data(gn1.Bias), 1, rng)
		copy(p2.W, p1.W)
		var act SiLU
		fused := &SiLUConv2d{Norm: gn2, Conv: conv2}
		for pass, ge := range c.geoms {
			n, h, w := ge.n, ge.h, ge.w
			label := fmt.Sprintf("%+v pass %d %+v fused=%v", c, pass, ge, fused.fusable(h, w))
			x := randn(rng, n*c.cin*h*w, 2)
			x0 := append([]float32(nil), x...)
			var y1, y2 []float32
			if pass%2 == 0 {
				y1, _, _ = conv1.Forward(act.Forward(gn1.Forward(x, n, h, w)), n, h, w)
				y2, _, _ = fused.Forward(x, n, h, w)
			} else {
				// ForwardShift: x + e by AddChannels, then the layers.
				e := randn(rng, n*c.cin, 1)
				xe := append([]float32(nil), x...)
				AddChannels(xe, e, n, c.cin, h*w)
				y1, _, _ = conv1.Forward(act.Forward(gn1.Forward(xe, n, h, w)), n, h, w)
				y2, _, _ = fused.ForwardShift(x, e, n, h, w)
			}
			for i := range x {
				if math.Float32bits(x[i]) != math.Float32bits(x0[i]) {
					t.Fatalf("%s: x[%d] changed", label, i)
				}
			}
			dy := randn(rng, len(y1), 1)
			r := randn(rng, len(x), 1)
			p1.ZeroGrad()
			p2.ZeroGrad()
			dx1 := append([]float32(nil), gn1.Backward(act.Backward(conv1.Backward(dy)))...)
			sums1 := append([]float32(nil), gn1.DxSums()...)
			var dx2 []float32
			if pass%3 != 1 {
				dx2 = fused.Backward(dy)
			} else {
				// dx + r, taken as dx is written.
				dx2 = fused.BackwardAdd(dy, r)
				AddInto(dx1, dx1, r)
			}
			for name, pair := range map[string][2][]float32{"y": {y1, y2}, "dx": {dx1, dx2}, "grads": {p1.G, p2.G}, "DxSums": {sums1, gn2.DxSums()}} {
				a, b := pair[0], pair[1]
				if len(a) != len(b) {
					t.Fatalf("%s: %s has length %d, want %d", label, name, len(b), len(a))
				}
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
						t.Fatalf("%s: %s[%d] = %g, separate layers give %g", label, name, i, b[i], a[i])
					}
				}
			}
		}
	}
}

// TestConv2dBackwardAdd checks that BackwardAdd adds Backward's dx into dst
// (stride 1, where the product accumulates, and strided) and leaves the
// parameter gradients as Backward does.
func TestConv2dBackwardAdd(t *testing.T) {
	type cfg struct{ n, cin, cout, k, s, pad, h, w int }
	for _, c := range []cfg{
		{2, 6, 10, 1, 1, 0, 8, 8},
		{2, 5, 9, 3, 1, 1, 6, 7},
		{2, 4, 12, 3, 2, 1, 8, 8},  // the stride-2 phase path
		{2, 4, 12, 3, 2, 1, 7, 8},  // stride 2, odd height: col2im
		{2, 16, 20, 3, 1, 1, 4, 8}, // Winograd accumulating into dst
	} {
		rng := newRNG(uint64(c.cin + 31*c.k))
		p := NewParams()
		conv := NewConv2d(p, "conv", c.cin, c.cout, c.k, c.s, c.pad, true, rng)
		x := randn(rng, c.n*c.cin*c.h*c.w, 1)
		y, _, _ := conv.Forward(x, c.n, c.h, c.w)
		dy := randn(rng, len(y), 1)
		dst := randn(rng, len(x), 1)
		want := append([]float32(nil), dst...)
		p.ZeroGrad()
		AddInto(want, want, conv.Backward(dy))
		g1 := append([]float32(nil), p.G...)
		p.ZeroGrad()
		conv.BackwardAdd(dy, dst)
		for i, v := range g1 {
			if math.Float32bits(v) != math.Float32bits(p.G[i]) {
				t.Fatalf("%+v: grad[%d] = %g, Backward gives %g", c, i, p.G[i], v)
			}
		}
		for i, v := range want {
			if d := math.Abs(float64(dst[i] - v)); d > 1e-5*(1+math.Abs(float64(v))) {
				t.Fatalf("%+v: dst[%d] = %g, want %g", c, i, dst[i], v)
			}
		}
	}
}

// TestConv2dWinograd: where the kernel set has the Winograd kernels, the
// stride-1 3x3 convolutions with at least 16 channels on both sides and an
// even height and a width that is a multiple of 8 take that path (forward
// and input gradient), and agree with the im2col product within float32
// rounding; other shapes keep im2col.
func TestConv2dWinograd(t *testing.T) {
	type cfg struct{ n, cin, cout, h, w int }
	for _, c := range []cfg{{2, 16, 16, 8, 8}, {3, 32, 24, 6, 16}, {1, 48, 16, 2, 24}} {
		g := convGeom{c: c.cin, h: c.h, w: c.w, ho: c.h, wo: c.w, k: 3, s: 1, pad: 1}
		gb := convGeom{c: c.cout, h: c.h, w: c.w, ho: c.h, wo: c.w, k: 3, s: 1, pad: 1}
		if want := simd.WinogradFits(c.h, c.w); useWinograd(g, c.cout, c.h+2, c.w+2) != want || useWinograd(gb, c.cin, c.h+2, c.w+2) != want {
			t.Fatalf("%+v: useWinograd disagrees with simd.WinogradFits = %v", c, want)
		}
		run := func(wino bool) (y, dx, grads []float32) {
			defer func() { convWinograd = true }()
			convWinograd = wino
			rng := newRNG(uint64(c.cin*7 + c.cout))
			p := NewParams()
			conv := NewConv2d(p, "conv", c.cin, c.cout, 3, 1, 1, true, rng)
			x := randn(rng, c.n*c.cin*c.h*c.w, 1)
			y, _, _ = conv.Forward(x, c.n, c.h, c.w)
			dy := randn(rng, len(y), 1)
			dx = conv.Backward(dy)
			return append([]float32(nil), y...), append([]float32(nil), dx...), p.G
		}
		y1, dx1, g1 := run(true)
		y2, dx2, g2 := run(false)
		for name, pair := range map[string][2][]float32{"y": {y1, y2}, "dx": {dx1, dx2}, "grads": {g1, g2}} {
			ref := make([]float64, len(pair[1]))
			for i, v := range pair[1] {
				ref[i] = float64(v)
			}
			if e := maxRelErr(pair[0], ref); e > 2e-6 {
				t.Errorf("%+v: %s differs from im2col by %.3g", c, name, e)
			}
		}
	}
	geom := func(c, h, w, ho, k, pad int) convGeom {
		return convGeom{c: c, h: h, w: w, ho: ho, wo: ho * w / h, k: k, s: 1, pad: pad}
	}
	for _, bad := range []struct {
		g      convGeom
		m      int
		hp, wp int
	}{
		{geom(16, 8, 8, 8, 3, 1), 8, 10, 10},  // too few output channels
		{geom(8, 8, 8, 8, 3, 1), 16, 10, 10},  // too few input channels
		{geom(16, 8, 6, 8, 3, 1), 16, 10, 8},  // width not a multiple of 8
		{geom(16, 8, 8, 6, 3, 0), 16, 8, 8},   // 6x6 output: width not a multiple of 8
		{geom(16, 8, 8, 8, 5, 2), 16, 12, 12}, // 5x5
	} {
		if useWinograd(bad.g, bad.m, bad.hp, bad.wp) {
			t.Errorf("useWinograd(%+v, m=%d, %dx%d) is true", bad.g, bad.m, bad.hp, bad.wp)
		}
	}
}
