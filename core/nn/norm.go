package nn

import (
	"fmt"
	"math"

	"github.com/cdp-project/cdp/simd"
)

// ones is a row of ones: sum32 takes sums as dot products with it.
var ones = func() []float32 {
	o := make([]float32, 4096)
	for i := range o {
		o[i] = 1
	}
	return o
}()

// sum32 returns the sum of x, taken in float32 by the simd dot kernel over
// blocks of up to 4096 values and added up in float64.
func sum32(x []float32) float64 {
	var s float64
	for len(x) > 0 {
		k := min(len(x), len(ones))
		s += float64(simd.Dot(x[:k], ones[:k]))
		x = x[k:]
	}
	return s
}

// GroupNorm normalises (N, C, H, W) over groups of C/Groups channels and all
// pixels, then applies a per-channel affine map, as torch.nn.GroupNorm.
type GroupNorm struct {
	P         *Params
	Groups, C int
	Eps       float32
	Weight    View // gamma (C), initialised to 1
	Bias      View // beta (C), initialised to 0

	n, hw       int
	xhat, y, dx []float32 // xhat (N, C, H, W) cached for Backward
	mean, rstd  []float32 // (N, Groups)
	// x is the input of the last forward pass when that was
	// SiLUConv2d's fused one, which keeps no xhat: Backward recomputes it
	// from x, mean and rstd (the same bits). shift (N, C), when set with
	// x, is added to x first (SiLUConv2d.ForwardShift).
	x, shift []float32
	dgb      []float64 // per (n, c): sum dy*xhat, sum dy
	dxSum    []float32 // (N, C) sum over pixels of dx
}

// NewGroupNorm defines name.weight and name.bias (C) with eps = 1e-5.
func NewGroupNorm(p *Params, name string, groups, c int) *GroupNorm {
	if groups <= 0 || c%groups != 0 {
		panic(fmt.Sprintf("nn.NewGroupNorm: %d channels in %d groups", c, groups))
	}
	g := &GroupNorm{P: p, Groups: groups, C: c, Eps: 1e-5}
	g.Weight = p.Add(name+".weight", true, c)
	g.Bias = p.Add(name+".bias", true, c)
	fill(p.Data(g.Weight), 1)
	return g
}

// Forward normalises x (N, C, H, W) and returns y of the same shape.
func (g *GroupNorm) Forward(x []float32, n, h, w int) []float32 {
	g.start(x, n, h, w, false)
	y := Grow(&g.y, len(x))
	gamma, beta := g.P.Data(g.Weight), g.P.Data(g.Bias)
	hw := h * w
	cg := g.C / g.Groups
	size := cg * hw
	xhat := Grow(&g.xhat, len(x))
	parallelFor(n*g.Groups, 4*size, func(lo, hi int) {
		for it := lo; it < hi; it++ {
			xh := xhat[it*size : (it+1)*size]
			r := g.center(xh, x, it)
			c0 := (it % g.Groups) * cg
			for ci := 0; ci < cg; ci++ {
				// xhat = (x - m)*r and y = xhat*gamma + beta.
				simd.NormalizeAffine(xh[ci*hw:(ci+1)*hw], y[it*size+ci*hw:it*size+(ci+1)*hw], r, gamma[c0+ci], beta[c0+ci])
			}
		}
	})
	return y
}

// start checks x (N, C, H, W) and sizes the statistics for a forward pass;
// x is kept (for a fused pass) or not.
func (g *GroupNorm) start(x []float32, n, h, w int, keep bool) {
	hw := h * w
	if len(x) != n*g.C*hw {
		panic(fmt.Sprintf("nn.GroupNorm: x has length %d, want (N=%d, C=%d, H=%d, W=%d)", len(x), n, g.C, h, w))
	}
	g.n, g.hw = n, hw
	Grow(&g.mean, n*g.Groups)
	Grow(&g.rstd, n*g.Groups)
	g.x, g.shift = nil, nil
	if keep {
		g.x = x
	}
}

// center takes the statistics of group it (image it/Groups, group
// it%Groups) of x, sets xh (the group's C/Groups planes) to x - mean,
// stores mean[it] and rstd[it] and returns rstd. Two passes as in float64,
// but vectorised: the sums run in float32 per channel (simd kernels, at
// most a few thousand terms) and add up in float64.
func (g *GroupNorm) center(xh, x []float32, it int) float32 {
	hw := g.hw
	cg := g.C / g.Groups
	size := cg * hw
	seg := g.input(xh, x, it)
	var s float64
	for ci := 0; ci < cg; ci++ {
		s += sum32(seg[ci*hw : (ci+1)*hw])
	}
	m := float32(s / float64(size))
	var ss float64
	for ci := 0; ci < cg; ci++ {
		// xhat = x - m for now; the sum of its squares per channel.
		ss += float64(simd.CenterSumSquares(xh[ci*hw:(ci+1)*hw], seg[ci*hw:(ci+1)*hw], m))
	}
	r := float32(1 / math.Sqrt(ss/float64(size)+float64(g.Eps)))
	g.mean[it], g.rstd[it] = m, r
	return r
}

// input returns the values that group it normalises: its planes of x, or
// with a shift x + shift[image, channel], written into xh (the group's
// planes), as AddChannels would have written them.
func (g *GroupNorm) input(xh, x []float32, it int) []float32 {
	hw := g.hw
	cg := g.C / g.Groups
	size := cg * hw
	seg := x[it*size : (it+1)*size]
	if g.shift == nil {
		return seg
	}
	xh = xh[:size]
	copy(xh, seg)
	for ci := 0; ci < cg; ci++ {
		addScalar(xh[ci*hw:(ci+1)*hw], g.shift[it*cg+ci])
	}
	return xh
}

// Backward takes dy (N, C, H, W), accumulates dgamma and dbeta and returns dx.
// It also keeps the sum over the pixels of dx per image and channel
// (DxSums).
func (g *GroupNorm) Backward(dy []float32) []float32 {
	return g.backward(dy, nil, nil)
}

// backward is Backward for dy, or, with s non-nil, for SiLU's output: dy is
// then the gradient of SiLU(y) for the y of the last Forward and s its
// sigmoid (N, C, H, W), and the SiLU gradient is taken group by group, in
// cache, with y recomputed from xhat. With r non-nil, r (N, C, H, W) is
// added to dx as each plane is written (DxSums leave it out).
func (g *GroupNorm) backward(dy, s, r []float32) []float32 {
	n, hw := g.n, g.hw
	if len(dy) != n*g.C*hw || (s != nil && len(s) != len(dy)) || (r != nil && len(r) != len(dy)) {
		panic(fmt.Sprintf("nn.GroupNorm: dy has length %d, s %d, r %d, want (N=%d, C=%d, HW=%d)", len(dy), len(s), len(r), n, g.C, hw))
	}
	dx := Grow(&g.dx, len(dy))
	dxSum := Grow(&g.dxSum, n*g.C)
	gamma, beta := g.P.Data(g.Weight), g.P.Data(g.Bias)
	cg := g.C / g.Groups
	size := cg * hw
	dgb := grow(&g.dgb, 2*n*g.C)
	parallelFor(n*g.Groups, 6*size, func(lo, hi int) {
		var dbuf, ybuf, xbuf *[]float32
		if s != nil {
			dbuf, ybuf = getScratch(size), getScratch(hw)
			defer putScratch(dbuf)
			defer putScratch(ybuf)
		}
		if g.x != nil {
			xbuf = getScratch(size)
			defer putScratch(xbuf)
		}
		for it := lo; it < hi; it++ {
			c0 := (it % g.Groups) * cg
			xhat := g.xhat
			if g.x != nil {
				// xhat = (x - mean)*rstd, in cache, as the forward pass
				// computed it.
				xhat = (*xbuf)[:size]
				seg := g.input(xhat, g.x, it)
				for ci := 0; ci < cg; ci++ {
					xh := xhat[ci*hw : (ci+1)*hw]
					simd.CenterSumSquares(xh, seg[ci*hw:(ci+1)*hw], g.mean[it])
					simd.Scale(g.rstd[it], xh)
				}
			} else {
				xhat = xhat[it*size : (it+1)*size]
			}
			// d: the gradient of y for this group (dy, or through SiLU).
			d := dy[it*size : (it+1)*size]
			if s != nil {
				d = *dbuf
				y := *ybuf
				for ci := 0; ci < cg; ci++ {
					o := it*size + ci*hw
					// y = xhat*1*gamma + beta: the bits of Forward's y
					// (xhat*1 is exact). The kernel rewrites its first
					// argument, so it gets a copy of xhat in cache: xhat
					// itself stays clean (no write-back to memory).
					dc := d[ci*hw : (ci+1)*hw]
					copy(dc, xhat[ci*hw:(ci+1)*hw])
					simd.NormalizeAffine(dc, y, 1, gamma[c0+ci], beta[c0+ci])
					simd.SiLUGrad(dc, dy[o:o+hw], y, s[o:o+hw])
				}
			}
			// dxhat = dy*gamma; dx = rstd*(dxhat - mean(dxhat) - xhat*mean(dxhat*xhat)).
			var sd, sdx float64
			for ci := 0; ci < cg; ci++ {
				ga := gamma[c0+ci]
				ds := d[ci*hw : (ci+1)*hw]
				xh := xhat[ci*hw : (ci+1)*hw]
				// One pass: sum dy and sum dy*xhat over the plane.
				fa, fb := simd.SumDot(ds, xh)
				a, b := float64(fa), float64(fb)
				cd, cdx := a*float64(ga), b*float64(ga)
				sd += cd
				sdx += cdx
				nc := it/g.Groups*g.C + c0 + ci
				dgb[2*nc], dgb[2*nc+1] = b, a
			}
			md := float32(sd / float64(size))
			mdx := float32(sdx / float64(size))
			rs := g.rstd[it]
			for ci := 0; ci < cg; ci++ {
				ga := gamma[c0+ci]
				ds := d[ci*hw : (ci+1)*hw]
				o := it*size + ci*hw
				xh := xhat[ci*hw : (ci+1)*hw]
				dxs := dx[o : o+hw]
				nc := it/g.Groups*g.C + c0 + ci
				dxSum[nc] = simd.GroupNormGrad(dxs, ds, xh, rs, ga, md, mdx)
				if r != nil {
					simd.Add(dxs, dxs, r[o:o+hw])
				}
			}
		}
	})
	if !g.P.NoGrad {
		dgamma, dbeta := g.P.Grad(g.Weight), g.P.Grad(g.Bias)
		for c := 0; c < g.C; c++ {
			var a, b float64
			for i := 0; i < n; i++ {
				a += dgb[2*(i*g.C+c)]
				b += dgb[2*(i*g.C+c)+1]
			}
			dgamma[c] += float32(a)
			dbeta[c] += float32(b)
		}
	}
	return dx
}

// DxSums returns, for the last Backward (its own, or that of a SiLUConv2d
// that it feeds), the sum over the pixels of dx for every image and
// channel, (N, C), taken while dx is written (equal to summing each plane
// of dx afterwards up to float32 rounding: the order of the sum depends on
// the kernel set). A residual gradient added by SiLUConv2d.BackwardAdd is left out.
// It is owned by the layer.
func (g *GroupNorm) DxSums() []float32 { return g.dxSum[:g.n*g.C] }

// BatchNorm normalises (N, C, H, W) per channel over N, H and W, as
// torch.nn.BatchNorm2d (use H = W = 1 for BatchNorm1d on (N, C)). In training
// mode it uses the batch statistics and updates the running statistics with
// momentum (running = (1-momentum) running + momentum batch, with the
// unbiased variance); in evaluation mode it uses the running statistics.
type BatchNorm struct {
	P           *Params
	C           int
	Eps         float32
	Momentum    float32 // 0.1 like PyTorch
	Train       bool
	Weight      View // gamma (C), 1
	Bias        View // beta (C), 0
	RunningMean View // buffer (C), 0
	RunningVar  View // buffer (C), 1

	n, hw       int
	train       bool // mode of the last Forward
	xhat, y, dx []float32
	rstd        []float32 // (C)
}

// NewBatchNorm defines name.weight, name.bias and the buffers
// name.running_mean, name.running_var, with eps 1e-5 and momentum 0.1, in
// training mode.
func NewBatchNorm(p *Params, name string, c int) *BatchNorm {
	b := &BatchNorm{P: p, C: c, Eps: 1e-5, Momentum: 0.1, Train: true}
	b.Weight = p.Add(name+".weight", true, c)
	b.Bias = p.Add(name+".bias", true, c)
	b.RunningMean = p.AddBuffer(name+".running_mean", c)
	b.RunningVar = p.AddBuffer(name+".running_var", c)
	fill(p.Data(b.Weight), 1)
	fill(p.Data(b.RunningVar), 1)
	return b
}

// Forward normalises x (N, C, H, W) and returns y of the same shape.
func (b *BatchNorm) Forward(x []float32, n, h, w int) []float32 {
	hw := h * w
	if len(x) != n*b.C*hw {
		panic(fmt.Sprintf("nn.BatchNorm: x has length %d, want (N=%d, C=%d, H=%d, W=%d)", len(x), n, b.C, h, w))
	}
	if b.Train && n*hw < 2 {
		panic(fmt.Sprintf("nn.BatchNorm: training needs more than one value per channel, got N=%d H=%d W=%d", n, h, w))
	}
	b.n, b.hw, b.train = n, hw, b.Train
	y := Grow(&b.y, len(x))
	xhat := Grow(&b.xhat, len(x))
	rstd := Grow(&b.rstd, b.C)
	gamma, beta := b.P.Data(b.Weight), b.P.Data(b.Bias)
	rm, rv := b.P.Data(b.RunningMean), b.P.Data(b.RunningVar)
	cnt := float64(n * hw)
	parallelFor(b.C, 4*n*hw, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			var mean, variance float64
			if b.Train {
				var s float64
				for i := 0; i < n; i++ {
					for _, v := range x[(i*b.C+c)*hw : (i*b.C+c+1)*hw] {
						s += float64(v)
					}
				}
				mean = s / cnt
				var ss float64
				for i := 0; i < n; i++ {
					for _, v := range x[(i*b.C+c)*hw : (i*b.C+c+1)*hw] {
						d := float64(v) - mean
						ss += d * d
					}
				}
				variance = ss / cnt
				mo := float64(b.Momentum)
				rm[c] = float32((1-mo)*float64(rm[c]) + mo*mean)
				rv[c] = float32((1-mo)*float64(rv[c]) + mo*ss/(cnt-1))
			} else {
				mean, variance = float64(rm[c]), float64(rv[c])
			}
			r := float32(1 / math.Sqrt(variance+float64(b.Eps)))
			rstd[c] = r
			m, ga, be := float32(mean), gamma[c], beta[c]
			for i := 0; i < n; i++ {
				o := (i*b.C + c) * hw
				for j, v := range x[o : o+hw] {
					t := (v - m) * r
					xhat[o+j] = t
					y[o+j] = t*ga + be
				}
			}
		}
	})
	return y
}

// Backward takes dy (N, C, H, W), accumulates dgamma and dbeta and returns dx.
// After an evaluation-mode Forward the statistics are constants.
func (b *BatchNorm) Backward(dy []float32) []float32 {
	n, hw := b.n, b.hw
	if len(dy) != n*b.C*hw {
		panic(fmt.Sprintf("nn.BatchNorm: dy has length %d, want (N=%d, C=%d, HW=%d)", len(dy), n, b.C, hw))
	}
	dx := Grow(&b.dx, len(dy))
	gamma := b.P.Data(b.Weight)
	var dgamma, dbeta []float32
	if !b.P.NoGrad {
		dgamma, dbeta = b.P.Grad(b.Weight), b.P.Grad(b.Bias)
	}
	cnt := float64(n * hw)
	parallelFor(b.C, 6*n*hw, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			var sd, sdx float64
			for i := 0; i < n; i++ {
				o := (i*b.C + c) * hw
				for j, d := range dy[o : o+hw] {
					sd += float64(d)
					sdx += float64(d * b.xhat[o+j])
				}
			}
			if dgamma != nil {
				dgamma[c] += float32(sdx)
				dbeta[c] += float32(sd)
			}
			ga, r := gamma[c], b.rstd[c]
			if !b.train {
				k := ga * r
				for i := 0; i < n; i++ {
					o := (i*b.C + c) * hw
					for j, d := range dy[o : o+hw] {
						dx[o+j] = d * k
					}
				}
				continue
			}
			md, mdx := float32(sd/cnt), float32(sdx/cnt)
			k := ga * r
			for i := 0; i < n; i++ {
				o := (i*b.C + c) * hw
				for j, d := range dy[o : o+hw] {
					dx[o+j] = k * (d - md - b.xhat[o+j]*mdx)
				}
			}
		}
	})
	return dx
}
