package robust

import (
	"fmt"
	"math/rand/v2"
)

// FGSM is the fast gradient sign method of Goodfellow et al. (2015): one
// step of size eps along the steepest-ascent direction of the cross-entropy
// (sign of the gradient for l_inf, the normalised gradient for l_2, where it
// is called FGM), then clipped to [0, 1].
type FGSM struct {
	Norm Norm
	Eps  float32
}

// Name returns "fgsm".
func (a FGSM) Name() string { return "fgsm" }

// Perturb implements Attack. It keeps x itself where the step does not
// lower the margin.
func (a FGSM) Perturb(f Classifier, x []float32, y []int, rng *rand.Rand) []float32 {
	n, d, k := checkAttackArgs("FGSM", f, x, y)
	checkEps("FGSM", a.Eps)
	if n == 0 {
		return nil
	}
	t := newTracker(x, n, d, k)
	_, g := gradient(f, x, n, k, CE, lossArgs{y: y}, t)
	xa := append([]float32(nil), x...)
	eta := make([]float32, n)
	for i := range eta {
		eta[i] = a.Eps
	}
	ascend(xa, g, d, a.Norm, eta)
	project(xa, x, d, a.Norm, a.Eps)
	observe(f, xa, y, t)
	return t.x
}

// PGD is projected gradient ascent on a loss (Madry et al. 2018): from a
// start drawn uniformly from the eps-ball (or x itself with ZeroStart),
// Steps steps x <- P(x + Alpha d), d the sign of the gradient (l_inf) or the
// normalised gradient (l_2), P the projection onto the ball and [0, 1].
// Restarts repeat it from fresh starts; every iterate of every restart is a
// candidate and the per-point worst case is kept. Start, when set, replaces
// the first restart's start (to reproduce a run elsewhere, e.g. in PyTorch).
type PGD struct {
	Norm      Norm
	Eps       float32
	Alpha     float32 // step size; 0 means 2.5 Eps / Steps
	Steps     int     // 0 means 10
	Restarts  int     // 0 means 1
	Loss      Loss    // CE or Margin (any Loss but KL and TargetedDLR works)
	ZeroStart bool    // start at x instead of a random point of the ball
	// Start (N, D), if not nil, is the first restart's starting point,
	// projected onto the eps-ball and [0, 1]; it overrides ZeroStart for
	// that restart and draws nothing from rng. Later restarts draw as usual.
	Start []float32
}

// Name returns "pgd-<loss>" ("pgd-ce", "pgd-margin").
func (a PGD) Name() string { return "pgd-" + a.Loss.String() }

func (a PGD) defaults() PGD {
	if a.Steps <= 0 {
		a.Steps = 10
	}
	if a.Alpha <= 0 {
		a.Alpha = 2.5 * a.Eps / float32(a.Steps)
	}
	if a.Restarts <= 0 {
		a.Restarts = 1
	}
	return a
}

// Perturb implements Attack.
func (a PGD) Perturb(f Classifier, x []float32, y []int, rng *rand.Rand) []float32 {
	n, d, k := checkAttackArgs("PGD", f, x, y)
	checkEps("PGD", a.Eps)
	if a.Loss == KL || a.Loss == TargetedDLR {
		panic(fmt.Sprintf("robust.PGD: loss %v needs more than labels", a.Loss))
	}
	if n == 0 {
		return nil
	}
	a = a.defaults()
	t := newTracker(x, n, d, k)
	eta := make([]float32, n)
	for i := range eta {
		eta[i] = a.Alpha
	}
	if a.Start != nil && len(a.Start) != len(x) {
		panic(fmt.Sprintf("robust.PGD: Start has length %d, want (N=%d, D=%d)", len(a.Start), n, d))
	}
	for r := range a.Restarts {
		xa := append([]float32(nil), x...)
		switch {
		case r == 0 && a.Start != nil:
			copy(xa, a.Start)
			project(xa, x, d, a.Norm, a.Eps)
		case !a.ZeroStart:
			uniformBall(xa, x, d, a.Norm, a.Eps, rng)
		}
		for range a.Steps {
			_, g := gradient(f, xa, n, k, a.Loss, lossArgs{y: y}, t)
			ascend(xa, g, d, a.Norm, eta)
			project(xa, x, d, a.Norm, a.Eps)
		}
		observe(f, xa, y, t)
	}
	return t.x
}
