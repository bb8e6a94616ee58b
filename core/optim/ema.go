package optim

import (
	"fmt"
	"slices"
)

// EMA keeps an exponential moving average of weights:
//
//	wEMA = decay*wEMA + (1-decay)*w
//
// With Warmup set, the decay of update k (counted from 0) is
// min(Decay, (1+k)/(10+k)), so early averages follow the weights closely.
type EMA struct {
	Decay  float64
	Warmup bool
	// W is the averaged copy of the weights, (n).
	W []float32

	step int64
}

// NewEMA returns an EMA that starts from a copy of w.
func NewEMA(w []float32, decay float64, warmup bool) *EMA {
	if decay < 0 || decay > 1 {
		panic(fmt.Sprintf("optim: EMA decay must lie in [0, 1], got %g", decay))
	}
	return &EMA{Decay: decay, Warmup: warmup, W: slices.Clone(w)}
}

// DecayAt returns the decay that update k (counted from 0) uses.
func (e *EMA) DecayAt(k int64) float64 {
	d := e.Decay
	if e.Warmup {
		if r := float64(1+k) / float64(10+k); r < d {
			d = r
		}
	}
	return d
}

// Steps returns the number of updates applied so far.
func (e *EMA) Steps() int64 { return e.step }

// Update folds w into the average. The arithmetic is that of
// ema.mul_(decay).add_(w, alpha=1-decay) in torch.
func (e *EMA) Update(w []float32) {
	if len(w) != len(e.W) {
		panic(fmt.Sprintf("optim: EMA made for %d parameters, got %d", len(e.W), len(w)))
	}
	d := e.DecayAt(e.step)
	a, b := float32(d), float32(1-d)
	ew := e.W[:len(w)]
	for i := range w {
		ew[i] = fma32(b, w[i], float32(a*ew[i]))
	}
	e.step++
}

// State returns a copy of the step count and the average "ema".
func (e *EMA) State() State {
	return State{Kind: "ema", Step: e.step, Buffers: copyBuffers(map[string][]float32{"ema": e.W})}
}

// SetState restores a state returned by State.
func (e *EMA) SetState(s State) error {
	if err := restore(s, "ema", map[string][]float32{"ema": e.W}); err != nil {
		return err
	}
	e.step = s.Step
	return nil
}
