package optim

import (
	"fmt"
	"math"
)

// Adam is torch.optim.Adam (L2 weight decay added to the gradient) or, with
// Decoupled set, torch.optim.AdamW (decoupled decay w -= lr*weightDecay*w
// before the step). At step t (counted from 1):
//
//	g    = dw + weightDecay*w        (Adam, only where decay applies)
//	w    = w * (1 - lr*weightDecay)  (AdamW, only where decay applies)
//	m    = beta1*m + (1-beta1)*g
//	v    = beta2*v + (1-beta2)*g*g
//	bc1  = 1 - beta1^t, bc2 = 1 - beta2^t   (float64)
//	w    = w - (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps)
type Adam struct {
	LR          float64
	Beta1       float64
	Beta2       float64
	Eps         float64
	WeightDecay float64
	// Decoupled selects AdamW's decoupled weight decay.
	Decoupled bool
	// Groups marks ranges without weight decay; nil means decay everywhere.
	Groups []Group

	m, v []float32 // first and second moments, (n)
	step int64
}

// NewAdam returns Adam (L2 weight decay) for n parameters.
func NewAdam(n int, lr, beta1, beta2, eps, weightDecay float64, groups []Group) *Adam {
	return newAdam(n, lr, beta1, beta2, eps, weightDecay, false, groups)
}

// NewAdamW returns AdamW (decoupled weight decay) for n parameters.
func NewAdamW(n int, lr, beta1, beta2, eps, weightDecay float64, groups []Group) *Adam {
	return newAdam(n, lr, beta1, beta2, eps, weightDecay, true, groups)
}

func newAdam(n int, lr, beta1, beta2, eps, weightDecay float64, decoupled bool, groups []Group) *Adam {
	if beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1 {
		panic(fmt.Sprintf("optim: Adam betas must lie in [0, 1), got %g, %g", beta1, beta2))
	}
	segments(n, groups)
	return &Adam{LR: lr, Beta1: beta1, Beta2: beta2, Eps: eps, WeightDecay: weightDecay,
		Decoupled: decoupled, Groups: groups, m: make([]float32, n), v: make([]float32, n)}
}

func (o *Adam) kind() string {
	if o.Decoupled {
		return "adamw"
	}
	return "adam"
}

// SetLR sets the learning rate.
func (o *Adam) SetLR(lr float64) { o.LR = lr }

// SetMomentum sets beta1.
func (o *Adam) SetMomentum(m float64) { o.Beta1 = m }

// Steps returns the number of updates applied so far.
func (o *Adam) Steps() int64 { return o.step }

// Step applies one update to w from dw.
func (o *Adam) Step(w, dw []float32) {
	checkLen(o.kind(), len(o.m), w, dw)
	o.step++
	t := float64(o.step)
	bc1 := 1 - math.Pow(o.Beta1, t)
	bc2 := 1 - math.Pow(o.Beta2, t)
	stepSize := o.LR / bc1
	bc2Sqrt := math.Sqrt(bc2)
	for _, s := range segments(len(w), o.Groups) {
		wd := 0.0
		if s.decay {
			wd = o.WeightDecay
		}
		ws, dws := w[s.lo:s.hi], dw[s.lo:s.hi]
		if o.Decoupled {
			if wd != 0 {
				scaleUpdate(ws, 1-o.LR*wd)
			}
			wd = 0
		}
		adamUpdate(ws, dws, o.m[s.lo:s.hi], o.v[s.lo:s.hi], o.Beta1, o.Beta2, o.Eps, wd, stepSize, bc2Sqrt)
	}
}

// scaleUpdate multiplies w by the float32 rounding of f.
func scaleUpdate(w []float32, f float64) {
	f32 := float32(f)
	for i := range w {
		w[i] *= f32
	}
}

// adamUpdate is the element loop of Adam with the scalars already computed.
// Products are rounded to float32 before each addition, as in torch's scalar
// kernels (exp_avg.mul_(beta1).add_(grad, alpha=1-beta1),
// exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2),
// denom = (exp_avg_sq.sqrt() / bc2Sqrt).add_(eps),
// param.addcdiv_(exp_avg, denom, value=-stepSize)).
func adamUpdate(w, dw, m, v []float32, beta1, beta2, eps, weightDecay, stepSize, bc2Sqrt float64) {
	b1, omb1 := float32(beta1), float32(1-beta1)
	b2, omb2 := float32(beta2), float32(1-beta2)
	e := float32(eps)
	lambda := float32(weightDecay)
	negStep := float32(-stepSize)
	bc := float32(bc2Sqrt)
	dw, m, v = dw[:len(w)], m[:len(w)], v[:len(w)]
	for i := range w {
		g := dw[i]
		if weightDecay != 0 {
			g = fma32(lambda, w[i], g)
		}
		mi := fma32(omb1, g, float32(b1*m[i]))
		vi := fma32(float32(omb2*g), g, float32(b2*v[i]))
		m[i], v[i] = mi, vi
		denom := float32(float32(math.Sqrt(float64(vi)))/bc) + e
		w[i] += float32(float32(negStep*mi) / denom)
	}
}

// State returns a copy of the step count and the moments "m" and "v".
func (o *Adam) State() State {
	return State{Kind: o.kind(), Step: o.step, Buffers: copyBuffers(map[string][]float32{"m": o.m, "v": o.v})}
}

// SetState restores a state returned by State.
func (o *Adam) SetState(s State) error {
	if err := restore(s, o.kind(), map[string][]float32{"m": o.m, "v": o.v}); err != nil {
		return err
	}
	o.step = s.Step
	return nil
}
