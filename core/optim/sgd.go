package optim

import "fmt"

// SGD is stochastic gradient descent with momentum, optional Nesterov
// momentum and L2 weight decay, as torch.optim.SGD with dampening 0:
//
//	g   = dw + weightDecay*w        (only where decay applies)
//	buf = momentum*buf + g          (buf = g at the first step)
//	g   = g + momentum*buf          (Nesterov) or g = buf
//	w   = w - lr*g
type SGD struct {
	LR          float64
	Momentum    float64
	WeightDecay float64
	Nesterov    bool
	// Groups marks ranges without weight decay; nil means decay everywhere.
	Groups []Group

	buf  []float32 // momentum buffer, (n)
	step int64
}

// NewSGD returns SGD for n parameters. Nesterov needs a positive momentum.
func NewSGD(n int, lr, momentum, weightDecay float64, nesterov bool, groups []Group) *SGD {
	if nesterov && momentum <= 0 {
		panic(fmt.Sprintf("optim: Nesterov momentum needs momentum > 0, got %g", momentum))
	}
	segments(n, groups) // validate early
	return &SGD{LR: lr, Momentum: momentum, WeightDecay: weightDecay, Nesterov: nesterov, Groups: groups, buf: make([]float32, n)}
}

// SetLR sets the learning rate.
func (o *SGD) SetLR(lr float64) { o.LR = lr }

// SetMomentum sets the momentum.
func (o *SGD) SetMomentum(m float64) { o.Momentum = m }

// Steps returns the number of updates applied so far.
func (o *SGD) Steps() int64 { return o.step }

// Step applies one update to w from dw.
func (o *SGD) Step(w, dw []float32) {
	checkLen("SGD", len(o.buf), w, dw)
	if o.Nesterov && o.Momentum <= 0 {
		panic(fmt.Sprintf("optim: Nesterov momentum needs momentum > 0, got %g", o.Momentum))
	}
	for _, s := range segments(len(w), o.Groups) {
		wd := 0.0
		if s.decay {
			wd = o.WeightDecay
		}
		sgdUpdate(w[s.lo:s.hi], dw[s.lo:s.hi], o.buf[s.lo:s.hi], o.LR, o.Momentum, wd, o.Nesterov)
	}
	o.step++
}

// sgdUpdate is the element loop of SGD. Every product is rounded to float32
// before it is added (the explicit conversions forbid fused multiply-adds), as
// torch's scalar kernels do.
func sgdUpdate(w, dw, buf []float32, lr, momentum, weightDecay float64, nesterov bool) {
	negLR := float32(-lr)
	mu := float32(momentum)
	lambda := float32(weightDecay)
	buf = buf[:len(w)]
	dw = dw[:len(w)]
	for i := range w {
		g := dw[i]
		if weightDecay != 0 {
			g = fma32(lambda, w[i], g)
		}
		if momentum != 0 {
			b := float32(mu*buf[i]) + g
			buf[i] = b
			if nesterov {
				g = fma32(mu, b, g)
			} else {
				g = b
			}
		}
		w[i] = fma32(negLR, g, w[i])
	}
}

// State returns a copy of the step count and the momentum buffer.
func (o *SGD) State() State {
	return State{Kind: "sgd", Step: o.step, Buffers: copyBuffers(map[string][]float32{"momentum": o.buf})}
}

// SetState restores a state returned by State.
func (o *SGD) SetState(s State) error {
	if err := restore(s, "sgd", map[string][]float32{"momentum": o.buf}); err != nil {
		return err
	}
	o.step = s.Step
	return nil
}
