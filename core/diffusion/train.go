package diffusion

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cdp-project/cdp/simd"
)

// QSample draws from the forward process q(x_t | x_0):
// xt = sqrt(alphaBar_t) x0 + sqrt(1 - alphaBar_t) eps, row by row.
// x0, eps and xt are (N, D); t holds one timestep in 1..T per row. xt may
// alias x0.
func (s *Schedule) QSample(xt, x0, eps []float32, t []int) {
	n := len(t)
	if len(x0) != len(xt) || len(eps) != len(xt) || (n == 0 && len(xt) != 0) || (n > 0 && len(xt)%n != 0) {
		panic(fmt.Sprintf("diffusion.QSample: xt %d, x0 %d, eps %d values for %d timesteps", len(xt), len(x0), len(eps), n))
	}
	if n == 0 {
		return
	}
	d := len(xt) / n
	for i, ti := range t {
		if ti < 1 || ti > s.T {
			panic(fmt.Sprintf("diffusion.QSample: timestep %d outside 1..%d", ti, s.T))
		}
		a := s.AlphaBar[ti]
		r := i * d
		simd.ReverseStep(xt[r:r+d], x0[r:r+d], eps[r:r+d], eps[r:r+d], float32(math.Sqrt(a)), float32(math.Sqrt(1-a)), 0)
	}
}

// SampleTimesteps fills t with timesteps drawn uniformly from 1..T.
func (s *Schedule) SampleTimesteps(t []int, rng *rand.Rand) {
	for i := range t {
		t[i] = 1 + rng.IntN(s.T)
	}
}

// EpsLoss returns the training loss of the eps-prediction objective, the mean
// squared error over all N*D values, L = (1/(N D)) sum (epsPred - eps)^2
// (PyTorch's mse_loss, mean reduction), accumulated in float64. If dEpsPred
// is not nil it receives dL/d epsPred = 2 (epsPred - eps)/(N D).
func EpsLoss(epsPred, eps, dEpsPred []float32) float64 {
	if len(epsPred) != len(eps) || (dEpsPred != nil && len(dEpsPred) != len(eps)) {
		panic(fmt.Sprintf("diffusion.EpsLoss: epsPred %d, eps %d, dEpsPred %d values", len(epsPred), len(eps), len(dEpsPred)))
	}
	if len(eps) == 0 {
		return 0
	}
	var sum float64
	scale := 2 / float32(len(eps))
	for i, p := range epsPred {
		r := p - eps[i]
		sum += float64(r) * float64(r)
		if dEpsPred != nil {
			dEpsPred[i] = scale * r
		}
	}
	return sum / float64(len(eps))
}

// DropLabels replaces each label of y by NullLabel with probability p (the
// label dropout of classifier-free guidance training), in place.
func DropLabels(y []int, p float64, rng *rand.Rand) {
	for i := range y {
		if rng.Float64() < p {
			y[i] = NullLabel
		}
	}
}
