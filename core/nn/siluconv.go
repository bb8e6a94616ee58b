package nn

import (
	"fmt"

	"github.com/cdp-project/cdp/simd"
)

// SiLUConv2d is Conv(SiLU(x)), or Conv(SiLU(Norm(x))) when Norm is set: the
// normalisation-activation-convolution of the eps-model's residual blocks.
// For a padded stride-1 convolution the activation is written straight into
// the convolution's zero-bordered input, which saves the separate
// activation output and the copy into the padded buffer; with Norm the
// normalised values never go to memory either (the group is normalised and
// activated plane by plane in cache), and Backward takes the SiLU gradient
// inside the group norm's backward. Results equal GroupNorm, SiLU and
// Conv2d in turn bit for bit.
type SiLUConv2d struct {
	Norm *GroupNorm // optional: normalises x first (Norm.C must be Conv.In)
	Conv *Conv2d

	x, s, a, dx []float32  // input of SiLU, sigmoid, SiLU(x) when not fused
	xe          []float32  // x + e for ForwardShift when not fused
	borders     borderGeom // geometry whose borders Conv.padded holds zeroed
}

// borderGeom is the layout of a zero-bordered buffer: planes of h x w
// inside a border of pad.
type borderGeom struct{ planes, h, w, pad int }

// fusable says that the activation can go straight into the padded input
// of an h x w image. The activation then runs plane by plane; planes of a
// multiple of 8 values keep every value in the simd kernel's 8-wide body,
// as in one call over the whole tensor, so the bits do not change.
func (f *SiLUConv2d) fusable(h, w int) bool {
	c := f.Conv
	return c.Stride == 1 && c.Pad > 0 && !c.narrow() && h*w%8 == 0
}

// Forward returns Conv(SiLU(x)) (or Conv(SiLU(Norm(x)))) for x (N, In, H,
// W); what Backward needs is kept. With Norm, on the fused path, that is x
// itself (the normalised values are recomputed from it), so x must stay
// unchanged until Backward, as for Conv2d.
func (f *SiLUConv2d) Forward(x []float32, n, h, w int) (y []float32, ho, wo int) {
	return f.forward(x, nil, n, h, w)
}

// ForwardShift is Forward for x + e, with e (N, In) added to every pixel of
// its channel (a per-image bias such as a timestep embedding), without
// changing x: with Norm the sum is formed group by group in cache. x and e
// must stay unchanged until Backward, whose dx is the gradient of x + e
// (the gradient of e is its sum over the pixels; with Norm, Norm.DxSums
// holds it after Backward).
func (f *SiLUConv2d) ForwardShift(x, e []float32, n, h, w int) (y []float32, ho, wo int) {
	c := f.Conv
	if len(x) != n*c.In*h*w || len(e) != n*c.In {
		panic(fmt.Sprintf("nn.SiLUConv2d: x has length %d, e %d, want (N=%d, C=%d, H=%d, W=%d) and (N, C)", len(x), len(e), n, c.In, h, w))
	}
	if f.Norm == nil || !f.fusable(h, w) {
		xe := Grow(&f.xe, len(x))
		copy(xe, x)
		AddChannels(xe, e, n, c.In, h*w)
		return f.forward(xe, nil, n, h, w)
	}
	return f.forward(x, e, n, h, w)
}

// forward is Forward, or ForwardShift with e non-nil on the fused path.
func (f *SiLUConv2d) forward(x, e []float32, n, h, w int) (y []float32, ho, wo int) {
	c, g := f.Conv, f.Norm
	if g != nil && g.C != c.In {
		panic(fmt.Sprintf("nn.SiLUConv2d: norm has %d channels, convolution %d", g.C, c.In))
	}
	if len(x) != n*c.In*h*w {
		panic(fmt.Sprintf("nn.SiLUConv2d: x has length %d, want (N=%d, C=%d, H=%d, W=%d)", len(x), n, c.In, h, w))
	}
	if !f.fusable(h, w) {
		if g != nil {
			x = g.Forward(x, n, h, w)
		}
		f.x = x
		s := Grow(&f.s, len(x))
		a := Grow(&f.a, len(x))
		siluInto(a, s, x)
		return c.Forward(a, n, h, w)
	}
	f.x = x
	s := Grow(&f.s, len(x))
	pad, hw := c.Pad, h*w
	hp, wp := h+2*pad, w+2*pad
	xp := Grow(&c.padded, n*c.In*hp*wp)
	// The borders stay zero between calls of one geometry: only the
	// interior is written below.
	geom := borderGeom{planes: n * c.In, h: h, w: w, pad: pad}
	clearBorders := f.borders != geom
	f.borders = borderGeom{}
	// plane activates plane pl from v (its values before SiLU) into xp,
	// through a scratch plane a (one vectorised call, stays in L1).
	plane := func(pl int, v, a []float32) {
		simd.SiLU(a, s[pl*hw:(pl+1)*hw], v)
		dst := xp[pl*hp*wp : (pl+1)*hp*wp]
		if clearBorders {
			clear(dst[:pad*wp])
			clear(dst[(pad+h)*wp:])
		}
		for y := 0; y < h; y++ {
			row := dst[(pad+y)*wp : (pad+y+1)*wp]
			if clearBorders {
				for i := 0; i < pad; i++ {
					row[i] = 0
					row[pad+w+i] = 0
				}
			}
			copy(row[pad:pad+w], a[y*w:(y+1)*w])
		}
	}
	if g == nil {
		parallelFor(n*c.In, 8*hw, func(lo, hi int) {
			buf := getScratch(hw)
			defer putScratch(buf)
			for pl := lo; pl < hi; pl++ {
				plane(pl, x[pl*hw:(pl+1)*hw], *buf)
			}
		})
	} else {
		// The normalised values stay in cache: xhat is not kept (Backward
		// recomputes it from x, which must stay unchanged until then, as
		// for Conv2d).
		g.start(x, n, h, w, true)
		g.shift = e
		gamma, beta := g.P.Data(g.Weight), g.P.Data(g.Bias)
		cg := g.C / g.Groups
		parallelFor(n*g.Groups, 12*cg*hw, func(lo, hi int) {
			xbuf, ybuf, abuf := getScratch(cg*hw), getScratch(hw), getScratch(hw)
			defer putScratch(xbuf)
			defer putScratch(ybuf)
			defer putScratch(abuf)
			xh := *xbuf
			for it := lo; it < hi; it++ {
				r := g.center(xh, x, it)
				c0 := (it % g.Groups) * cg
				for ci := 0; ci < cg; ci++ {
					// xhat = (x - m)*r and y = xhat*gamma + beta, as in
					// GroupNorm.Forward, into the scratch plane.
					simd.NormalizeAffine(xh[ci*hw:(ci+1)*hw], *ybuf, r, gamma[c0+ci], beta[c0+ci])
					plane(it*cg+ci, *ybuf, *abuf)
				}
			}
		})
	}
	f.borders = geom
	return c.forwardPadded(n, h, w)
}

// Backward takes dy (N, Out, Ho, Wo), accumulates the gradients of the
// convolution (and of Norm) and returns dx (N, In, H, W) (nil when the
// convolution skips its input gradient).
func (f *SiLUConv2d) Backward(dy []float32) []float32 {
	return f.backward(dy, nil)
}

// BackwardAdd is Backward that returns dx + r instead, for r (N, In, H, W)
// the gradient of a residual branch that joins x: the sum is taken as dx is
// written. It returns nil when the convolution skips its input gradient.
func (f *SiLUConv2d) BackwardAdd(dy, r []float32) []float32 {
	if len(r) != len(f.s) {
		panic(fmt.Sprintf("nn.SiLUConv2d: r has length %d, x %d", len(r), len(f.s)))
	}
	return f.backward(dy, r)
}

func (f *SiLUConv2d) backward(dy, r []float32) []float32 {
	da := f.Conv.Backward(dy)
	if da == nil {
		return nil
	}
	s := f.s
	if len(da) != len(s) {
		panic("nn.SiLUConv2d: input gradient and x differ in length")
	}
	if f.Norm != nil {
		return f.Norm.backward(da, s, r)
	}
	dx := Grow(&f.dx, len(s))
	siluGradInto(dx, da, f.x, s)
	if r != nil {
		AddInto(dx, dx, r)
	}
	return dx
}
