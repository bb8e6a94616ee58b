package guide

import (
	"fmt"
	"math"

	"github.com/cdp-project/cdp/core/diffusion"
	"github.com/cdp-project/cdp/simd"
)

// FeatureNet is a frozen feature network f (for Contrastive-DP the
// penultimate layer of a classifier) with the backward pass to its input.
type FeatureNet interface {
	// Features returns h = f(x), (N, Dh), for x, (N, Dx), and Dh. It keeps
	// what InputGrad needs; h is valid until the next call.
	Features(x []float32, n int) (h []float32, dh int)
	// InputGrad returns dL/dx, (N, Dx), given dL/dh, (N, Dh), for the input of
	// the last Features call.
	InputGrad(dh []float32) []float32
}

// Window restricts guidance to timesteps Lo <= t <= Hi (t = 1..T, see
// package diffusion). The authors' 0-based "50 < t < 150" is Window{52, 150}
// in these units; "t >= 400" is Window{401, T}.
type Window struct{ Lo, Hi int }

// In reports whether timestep t lies in the window.
func (w Window) In(t int) bool { return t >= w.Lo && t <= w.Hi }

// Input chooses what the feature network sees.
type Input int

const (
	// InputXt feeds x_t, as in the authors' code (f never saw noise).
	InputXt Input = iota
	// InputX0hat feeds x0hat = (x_t - sqrt(1-aBar_t) eps)/sqrt(aBar_t), formed
	// with the unguided eps; the gradient treats eps as a constant, so
	// dL/dx_t = dL/dx0hat / sqrt(aBar_t).
	InputX0hat
)

// Negatives chooses the negatives of the contrastive loss.
type Negatives int

const (
	// NegativesAll uses every other item of the batch (the authors' code).
	NegativesAll Negatives = iota
	// NegativesOtherClass uses only items with another label (class-aware).
	NegativesOtherClass
)

// Head is a projection head g between the features and the L2
// normalisation, z = g(h)/||g(h)||. Fixed heads ignore learn; an online head
// (the authors' code) takes one optimiser step per guided step.
type Head interface {
	// Forward maps h, (N, Din), to g(h), (N, Dout), keeping what Backward
	// needs, and returns Dout.
	Forward(h []float32, n int) (g []float32, d int)
	// Backward returns dL/dh, (N, Din), for dL/dg of the last Forward,
	// computed with the weights of that Forward. With learn set, an online head
	// then updates its weights from dL/dg.
	Backward(dg []float32, learn bool) []float32
}

// Contrastive is contrastive guidance (Contrastive-DP) as an EpsModel
// wrapper: inside the window and never on a trajectory's first step,
// eps' = eps + Lambda dL/dx_t, where L is Loss on the anchors
// z = g(f(x_t))/||g(f(x_t))|| and the positives z', the same chain's features
// one step earlier (f(x_{t+1}), cached from that step; the head, if any, is
// applied to them with its current weights). Only the anchor's gradient flows
// into x_t: the positive is a constant. Adding the gradient to eps moves
// x0hat against it, so the sampler descends L.
//
// Contrastive keeps the cached features between calls: use one value per
// sampling run, batches one after another (as diffusion.Sample does); it is
// not safe for concurrent use.
type Contrastive struct {
	Model     diffusion.EpsModel
	Net       FeatureNet
	Head      Head // nil: no head (z = h/||h||)
	Loss      Loss
	Lambda    float64
	Window    Window
	Input     Input
	Negatives Negatives
	// Observe, if set, receives the loss at every guided step (also when
	// Lambda is 0, which then only measures).
	Observe func(s diffusion.Step, loss float64)

	prev []float32 // cached features f(x_{t+1}) of the previous step, (N, Dh); nil when none
	dh   int
}

// Dim implements diffusion.EpsModel.
func (c *Contrastive) Dim() int { return c.Model.Dim() }

// features returns a copy of the raw features h = f(in), (N, Dh), where in is
// x_t or x0hat.
func (c *Contrastive) features(x, eps []float32, n int, s diffusion.Step) (h []float32, d int) {
	in := x
	if c.Input == InputX0hat {
		in = make([]float32, len(x))
		ra := 1 / math.Sqrt(s.AlphaBar)
		b := math.Sqrt(1-s.AlphaBar) * ra
		for i := range x {
			in[i] = float32(float64(x[i])*ra - float64(eps[i])*b)
		}
	}
	f, d := c.Net.Features(in, n)
	if len(f) != n*d {
		panic(fmt.Sprintf("guide.Contrastive: FeatureNet returned %d values for (N, Dh) = (%d, %d)", len(f), n, d))
	}
	return append([]float32(nil), f...), d
}

// Gradient computes the contrastive loss of x, (N, D), at the step s against
// the cached positives and, if dx is not nil, writes dL/dx_t into it; eps is
// the unguided prediction (used for InputX0hat). It changes neither the
// cache nor an online head. It panics if no positives are cached.
func (c *Contrastive) Gradient(dx, x, eps []float32, y []int, s diffusion.Step) float64 {
	h, d := c.features(x, eps, len(y), s)
	return c.lossGrad(dx, h, d, y, s, false)
}

// lossGrad is Gradient after the forward pass of f (the last Features call).
func (c *Contrastive) lossGrad(dx, h []float32, d int, y []int, s diffusion.Step, learn bool) float64 {
	n := len(y)
	if c.prev == nil || len(c.prev) != n*c.dh || d != c.dh {
		panic(fmt.Sprintf("guide.Contrastive: no cached positives for (N, Dh) = (%d, %d)", n, d))
	}
	var classes []int
	if c.Negatives == NegativesOtherClass {
		classes = y
	}
	var dh []float32 // dL/dh of the anchors, (N, Dh)
	var loss float64
	if c.Head == nil {
		z, zp := make([]float32, n*d), make([]float32, n*d)
		Normalize(z, h, n, d)
		Normalize(zp, c.prev, n, d)
		if dx == nil {
			return c.Loss.Loss(z, zp, n, d, classes, nil, nil)
		}
		dz := make([]float32, n*d)
		loss = c.Loss.Loss(z, zp, n, d, classes, dz, nil)
		NormalizeBackward(dz, dz, h, n, d)
		dh = dz
	} else {
		// Anchors and positives through the head as one batch of 2N rows.
		both := append(append(make([]float32, 0, 2*n*d), h...), c.prev...)
		g, dg := c.Head.Forward(both, 2*n)
		if len(g) != 2*n*dg {
			panic(fmt.Sprintf("guide.Contrastive: Head returned %d values for (2N, Dg) = (%d, %d)", len(g), 2*n, dg))
		}
		g = append([]float32(nil), g...)
		z := make([]float32, 2*n*dg)
		Normalize(z, g, 2*n, dg)
		if dx == nil && !learn {
			return c.Loss.Loss(z[:n*dg], z[n*dg:], n, dg, classes, nil, nil)
		}
		dz := make([]float32, 2*n*dg)
		// The positives' gradient only trains an online head; it never
		// reaches x_t.
		loss = c.Loss.Loss(z[:n*dg], z[n*dg:], n, dg, classes, dz[:n*dg], dz[n*dg:])
		NormalizeBackward(dz, dz, g, 2*n, dg)
		dboth := c.Head.Backward(dz, learn)
		if len(dboth) != 2*n*d {
			panic(fmt.Sprintf("guide.Contrastive: Head input gradient has %d values, want (2N, Dh) = (%d, %d)", len(dboth), 2*n, d))
		}
		if dx == nil {
			return loss
		}
		dh = append([]float32(nil), dboth[:n*d]...)
	}
	gx := c.Net.InputGrad(dh)
	if len(gx) != len(dx) {
		panic(fmt.Sprintf("guide.Contrastive: FeatureNet input gradient has %d values, x has %d", len(gx), len(dx)))
	}
	scale := 1.0
	if c.Input == InputX0hat {
		scale = 1 / math.Sqrt(s.AlphaBar)
	}
	for i, v := range gx {
		dx[i] = float32(float64(v) * scale)
	}
	return loss
}

// Eps implements diffusion.EpsModel.
func (c *Contrastive) Eps(eps, x []float32, y []int, s diffusion.Step) error {
	if err := c.Model.Eps(eps, x, y, s); err != nil {
		return err
	}
	n := len(y)
	if s.First() {
		c.prev = nil
	}
	guided := !s.First() && c.Window.In(s.T) && c.prev != nil
	cacheNext := s.Next > 0 && c.Window.In(s.Next)
	if !guided && !cacheNext {
		c.prev = nil
		return nil
	}
	h, d := c.features(x, eps, n, s)
	if guided {
		var dx []float32
		if c.Lambda != 0 {
			dx = make([]float32, len(x))
		}
		loss := c.lossGrad(dx, h, d, y, s, true)
		if c.Observe != nil {
			c.Observe(s, loss)
		}
		if dx != nil {
			simd.Axpy(float32(c.Lambda), dx, eps)
		}
	}
	if cacheNext {
		c.prev, c.dh = h, d
	} else {
		c.prev = nil
	}
	return nil
}
