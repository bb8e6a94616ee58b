package nn

import "github.com/cdp-project/cdp/simd"

// SiLUConv2d is Conv(SiLU(x)), the activation-then-convolution of the
// eps-model's residual blocks. For a padded stride-1 convolution the
// activation is written straight into the convolution's zero-bordered input,
// which saves the separate activation output and the copy into the padded
// buffer; results equal SiLU followed by Conv2d bit for bit.
type SiLUConv2d struct {
	Conv *Conv2d

	x, s, a, dx []float32 // input, sigmoid(x), SiLU(x) when not fused
}

// fusable says that the activation can go straight into the padded input
// of an h x w image. The activation then runs plane by plane; planes of a
// multiple of 8 values keep every value in the simd kernel's 8-wide body,
// as in one call over the whole tensor, so the bits do not change.
func (f *SiLUConv2d) fusable(h, w int) bool {
	c := f.Conv
	return c.Stride == 1 && c.Pad > 0 && !c.narrow() && h*w%8 == 0
}

// Forward returns Conv(SiLU(x)) for x (N, In, H, W); x is kept for
// Backward.
func (f *SiLUConv2d) Forward(x []float32, n, h, w int) (y []float32, ho, wo int) {
	c := f.Conv
	f.x = x
	s := Grow(&f.s, len(x))
	if !f.fusable(h, w) || len(x) != n*c.In*h*w {
		a := Grow(&f.a, len(x))
		siluInto(a, s, x)
		return c.Forward(a, n, h, w)
	}
	pad, hw := c.Pad, h*w
	hp, wp := h+2*pad, w+2*pad
	xp := Grow(&c.padded, n*c.In*hp*wp)
	parallelFor(n*c.In, 8*hw, func(lo, hi int) {
		// Each plane goes through the activation into a scratch plane
		// (one vectorised call, stays in L1), then row by row into xp.
		buf := getScratch(hw)
		defer putScratch(buf)
		a := *buf
		for pl := lo; pl < hi; pl++ {
			simd.SiLU(a, s[pl*hw:(pl+1)*hw], x[pl*hw:(pl+1)*hw])
			dst := xp[pl*hp*wp : (pl+1)*hp*wp]
			clear(dst[:pad*wp])
			clear(dst[(pad+h)*wp:])
			for y := 0; y < h; y++ {
				row := dst[(pad+y)*wp : (pad+y+1)*wp]
				for i := 0; i < pad; i++ {
					row[i] = 0
					row[pad+w+i] = 0
				}
				copy(row[pad:pad+w], a[y*w:(y+1)*w])
			}
		}
	})
	return c.forwardPadded(n, h, w)
}

// Backward takes dy (N, Out, Ho, Wo), accumulates the convolution's
// gradients and returns dx (N, In, H, W) (nil when the convolution skips its
// input gradient).
func (f *SiLUConv2d) Backward(dy []float32) []float32 {
	da := f.Conv.Backward(dy)
	if da == nil {
		return nil
	}
	x, s := f.x, f.s
	if len(da) != len(x) {
		panic("nn.SiLUConv2d: input gradient and x differ in length")
	}
	dx := Grow(&f.dx, len(x))
	siluGradInto(dx, da, x, s)
	return dx
}
