package unet

import (
	"math/rand/v2"

	"github.com/cdp-project/cdp/core/nn"
)

// ForwardFLOPs is the cost of one image's forward pass in floating-point
// operations (2 per multiply-add of the convolutions, linear layers and
// attention products; normalisations and activations are not counted).
func ForwardFLOPs(cfg Config) float64 {
	u, err := New(cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return 0
	}
	return u.FLOPs()
}

// FLOPs is the forward cost of one image; see ForwardFLOPs.
func (u *UNet) FLOPs() float64 {
	conv := func(c *nn.Conv2d, outSize int) float64 {
		return 2 * float64(c.In*c.K*c.K*c.Out*outSize*outSize)
	}
	attn := func(a *nn.AttentionBlock, size int) float64 {
		c, t := float64(a.Attn.C), float64(size*size)
		return conv(a.Attn.Qkv, size) + conv(a.Attn.Proj, size) + 4*c*t*t
	}
	block := func(b *resBlock, size int) float64 {
		f := conv(b.conv1, size) + conv(b.conv2, size) + 2*float64(b.emb.In*b.emb.Out)
		if b.skip != nil {
			f += conv(b.skip, size)
		}
		if b.attn != nil {
			f += attn(b.attn, size)
		}
		return f
	}
	size := u.Cfg.Size
	f := conv(u.convIn, size) + 2*float64(u.time0.In*u.time0.Out+u.time2.In*u.time2.Out)
	for _, st := range u.downs {
		if st.block != nil {
			f += block(st.block, size)
		} else {
			size = st.h
			f += conv(st.down, size)
		}
	}
	f += block(u.mid0, size) + attn(u.midAttn, size) + block(u.mid1, size)
	for _, st := range u.ups {
		f += block(st.block, size)
		if st.upConv != nil {
			size *= 2
			f += conv(st.upConv, size)
		}
	}
	return f + conv(u.outConv, size)
}
