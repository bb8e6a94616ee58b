package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cdp-project/cdp/simd"
)

// SelfAttention is single-head self-attention over the T = H*W pixels of
// (N, C, H, W): [q; k; v] = Qkv(x) (a 1x1 convolution to 3C channels),
// P = softmax over keys of q^T k / sqrt(C) (T, T), h = v P^T (C, T),
// y = Proj(h) (a 1x1 convolution). AttentionBlock adds the group norm and
// the residual connection of the eps-model.
type SelfAttention struct {
	C    int
	Qkv  *Conv2d // C -> 3C, 1x1
	Proj *Conv2d // C -> C, 1x1

	n, h, w int
	qkv     []float32 // (N, 3C, T) output of Qkv, owned by Qkv
	attn    []float32 // P (N, T, T)
	hid     []float32 // h (N, C, T)
	dS      []float32 // (N, T, T) scratch
	dqkv    []float32 // (N, 3C, T)
}

// NewSelfAttention defines name.qkv.{weight,bias} (3C, C, 1, 1) and
// name.proj.{weight,bias} (C, C, 1, 1), initialised like PyTorch's Conv2d.
func NewSelfAttention(p *Params, name string, c int, rng *rand.Rand) *SelfAttention {
	return &SelfAttention{
		C:    c,
		Qkv:  NewConv2d(p, name+".qkv", c, 3*c, 1, 1, 0, true, rng),
		Proj: NewConv2d(p, name+".proj", c, c, 1, 1, 0, true, rng),
	}
}

// Forward maps x (N, C, H, W) to y (N, C, H, W).
func (a *SelfAttention) Forward(x []float32, n, h, w int) []float32 {
	c, t := a.C, h*w
	if len(x) != n*c*t {
		panic(fmt.Sprintf("nn.SelfAttention: x has length %d, want (N=%d, C=%d, H=%d, W=%d)", len(x), n, c, h, w))
	}
	a.n, a.h, a.w = n, h, w
	qkv, _, _ := a.Qkv.Forward(x, n, h, w)
	a.qkv = qkv
	attn := Grow(&a.attn, n*t*t)
	hid := Grow(&a.hid, n*c*t)
	scale := float32(1 / math.Sqrt(float64(c)))
	parallelFor(n, 2*c*t*t, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			q := qkv[i*3*c*t : (i*3+1)*c*t]
			k := qkv[(i*3+1)*c*t : (i*3+2)*c*t]
			v := qkv[(i*3+2)*c*t : (i*3+3)*c*t]
			p := attn[i*t*t : (i+1)*t*t]
			// S = scale q^T k: S[i, j] = scale sum_c q[c, i] k[c, j].
			simd.Sgemm(true, false, t, t, c, scale, q, t, k, t, 0, p, t)
			simd.SoftmaxRows(p, t, t)
			// h = v P^T: h[c, i] = sum_j v[c, j] P[i, j].
			simd.Sgemm(false, true, c, t, t, 1, v, t, p, t, 0, hid[i*c*t:(i+1)*c*t], t)
		}
	})
	y, _, _ := a.Proj.Forward(hid, n, h, w)
	return y
}

// Backward takes dy (N, C, H, W), accumulates the gradients of Qkv and Proj
// and returns dx (N, C, H, W).
func (a *SelfAttention) Backward(dy []float32) []float32 {
	n, c, t := a.n, a.C, a.h*a.w
	dh := a.Proj.Backward(dy)
	dqkv := Grow(&a.dqkv, n*3*c*t)
	dS := Grow(&a.dS, n*t*t)
	scale := float32(1 / math.Sqrt(float64(c)))
	qkv := a.qkv
	parallelFor(n, 4*c*t*t, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			q := qkv[i*3*c*t : (i*3+1)*c*t]
			k := qkv[(i*3+1)*c*t : (i*3+2)*c*t]
			v := qkv[(i*3+2)*c*t : (i*3+3)*c*t]
			dq := dqkv[i*3*c*t : (i*3+1)*c*t]
			dk := dqkv[(i*3+1)*c*t : (i*3+2)*c*t]
			dv := dqkv[(i*3+2)*c*t : (i*3+3)*c*t]
			p := a.attn[i*t*t : (i+1)*t*t]
			ds := dS[i*t*t : (i+1)*t*t]
			dhi := dh[i*c*t : (i+1)*c*t]
			// dv = dh P (C, T).
			simd.Sgemm(false, false, c, t, t, 1, dhi, t, p, t, 0, dv, t)
			// dP = dh^T v (T, T), then dS = P (dP - rowsum(P dP)).
			simd.Sgemm(true, false, t, t, c, 1, dhi, t, v, t, 0, ds, t)
			for r := 0; r < t; r++ {
				pr, dr := p[r*t:(r+1)*t], ds[r*t:(r+1)*t]
				dot := simd.Dot(pr, dr)
				for j := range dr {
					dr[j] = pr[j] * (dr[j] - dot)
				}
			}
			// dq = scale k dS^T, dk = scale q dS (C, T).
			simd.Sgemm(false, true, c, t, t, scale, k, t, ds, t, 0, dq, t)
			simd.Sgemm(false, false, c, t, t, scale, q, t, ds, t, 0, dk, t)
		}
	})
	return a.Qkv.Backward(dqkv)
}

// AttentionBlock is the eps-model's attention: y = x + SelfAttention(GN(x)).
type AttentionBlock struct {
	Norm *GroupNorm
	Attn *SelfAttention

	y, dx []float32
}

// NewAttentionBlock defines name.norm (group norm with the given groups),
// name.qkv and name.proj.
func NewAttentionBlock(p *Params, name string, c, groups int, rng *rand.Rand) *AttentionBlock {
	return &AttentionBlock{
		Norm: NewGroupNorm(p, name+".norm", groups, c),
		Attn: NewSelfAttention(p, name, c, rng),
	}
}

// Forward maps x (N, C, H, W) to y (N, C, H, W).
func (b *AttentionBlock) Forward(x []float32, n, h, w int) []float32 {
	hn := b.Norm.Forward(x, n, h, w)
	a := b.Attn.Forward(hn, n, h, w)
	b.y = AddInto(b.y, x, a)
	return b.y
}

// Backward takes dy and returns dx = dy + GN'(Attn'(dy)).
func (b *AttentionBlock) Backward(dy []float32) []float32 {
	da := b.Attn.Backward(dy)
	dn := b.Norm.Backward(da)
	b.dx = AddInto(b.dx, dy, dn)
	return b.dx
}
