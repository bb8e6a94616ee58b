package optim

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate of optimiser step `step` (counted from 0).
type Schedule interface {
	LR(step int) float64
}

// MomentumSchedule gives the momentum (SGD) or beta1 (Adam) of step `step`.
type MomentumSchedule interface {
	Momentum(step int) float64
}

// warm returns the linear warm-up factor (step+1)/warmup, capped at 1.
// torch.optim.lr_scheduler.LinearLR(start_factor=1/warmup,
// total_iters=warmup-1) gives the same factors.
func warm(step, warmup int) float64 {
	if step >= warmup {
		return 1
	}
	if step < 0 {
		step = 0
	}
	return float64(step+1) / float64(warmup)
}

// Constant is a constant learning rate Base after a linear warm-up of Warmup
// steps: Base*(step+1)/Warmup for step < Warmup. Warmup 0 means none.
type Constant struct {
	Base   float64
	Warmup int
}

// LR returns the learning rate of step.
func (c Constant) LR(step int) float64 { return c.Base * warm(step, c.Warmup) }

// Cosine warms up linearly over Warmup steps to Base (as Constant does), then
// anneals along half a cosine from Base to Floor at step Total and stays at
// Floor after it:
//
//	t  = (step-Warmup)/(Total-Warmup)
//	lr = Floor + (Base-Floor)*(1+cos(pi*t))/2
type Cosine struct {
	Base, Floor   float64
	Warmup, Total int
}

// LR returns the learning rate of step.
func (c Cosine) LR(step int) float64 {
	if c.Total <= c.Warmup {
		panic(fmt.Sprintf("optim: cosine schedule needs Total > Warmup, got Total %d, Warmup %d", c.Total, c.Warmup))
	}
	if step < c.Warmup {
		return c.Base * warm(step, c.Warmup)
	}
	t := float64(step-c.Warmup) / float64(c.Total-c.Warmup)
	if t > 1 {
		t = 1
	}
	return c.Floor + (c.Base-c.Floor)*(1+math.Cos(math.Pi*t))/2
}

// OneCycle is the one-cycle policy of torch.optim.lr_scheduler.OneCycleLR
// with cosine annealing and two phases: the learning rate rises from
// MaxLR/DivFactor to MaxLR over the first PctStart of Total steps, then falls
// to MaxLR/DivFactor/FinalDivFactor at step Total-1, while the momentum falls
// from MaxMomentum to BaseMomentum and rises back.
type OneCycle struct {
	MaxLR                     float64
	Total                     int
	PctStart                  float64
	DivFactor                 float64
	FinalDivFactor            float64
	BaseMomentum, MaxMomentum float64
}

// NewOneCycle returns OneCycle with torch's defaults: PctStart 0.3,
// DivFactor 25, FinalDivFactor 1e4, momentum between 0.85 and 0.95.
func NewOneCycle(maxLR float64, total int) OneCycle {
	return OneCycle{MaxLR: maxLR, Total: total, PctStart: 0.3, DivFactor: 25, FinalDivFactor: 1e4,
		BaseMomentum: 0.85, MaxMomentum: 0.95}
}

// anneal is torch's _annealing_cos: from start at pct 0 to end at pct 1.
func anneal(start, end, pct float64) float64 {
	return end + (start-end)/2*(math.Cos(math.Pi*pct)+1)
}

// phase returns the phase (0 or 1) of step and the fraction of it that has
// passed. Steps past Total are treated as Total, the last that torch accepts.
func (o OneCycle) phase(step int) (int, float64) {
	if o.Total < 2 {
		panic(fmt.Sprintf("optim: one-cycle schedule needs Total >= 2, got %d", o.Total))
	}
	if step < 0 {
		step = 0
	}
	if step > o.Total {
		step = o.Total
	}
	s := float64(step)
	end0 := o.PctStart*float64(o.Total) - 1
	if s <= end0 {
		return 0, s / end0
	}
	end1 := float64(o.Total - 1)
	return 1, (s - end0) / (end1 - end0)
}

// LR returns the learning rate of step.
func (o OneCycle) LR(step int) float64 {
	initial := o.MaxLR / o.DivFactor
	p, pct := o.phase(step)
	if p == 0 {
		return anneal(initial, o.MaxLR, pct)
	}
	return anneal(o.MaxLR, initial/o.FinalDivFactor, pct)
}

// Momentum returns the momentum (SGD) or beta1 (Adam) of step.
func (o OneCycle) Momentum(step int) float64 {
	p, pct := o.phase(step)
	if p == 0 {
		return anneal(o.MaxMomentum, o.BaseMomentum, pct)
	}
	return anneal(o.BaseMomentum, o.MaxMomentum, pct)
}
