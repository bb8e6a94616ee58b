package sim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cdp-project/cdp/core/diffusion"
)

// Mixture is a Gaussian mixture with one isotropic component per class:
// p(x) = sum_k Weight[k] N(x; Mu[k], Sigma[k]^2 I_d). It is also the exact
// eps-model of its own noised versions (a diffusion.EpsModel): under
// q(x_t | x_0) = N(sqrt(aBar) x_0, (1 - aBar) I) the marginal of x_t is the
// mixture with means sqrt(aBar) Mu[k] and variances aBar Sigma[k]^2 + 1 - aBar,
// and the optimal noise prediction is eps(x_t) = -sqrt(1 - aBar) grad log p_t(x_t)
// (Tweedie). Given a label y >= 0, the score is that of component y alone
// (class-conditional); y < 0 uses the whole mixture.
type Mixture struct {
	Mu     [][]float64 // (K, d)
	Sigma  []float64   // (K)
	Weight []float64   // (K) mixing weights, summing to 1
}

// NewMixture returns an equally weighted mixture; it panics on ragged means
// or a Sigma of the wrong length.
func NewMixture(mu [][]float64, sigma []float64) *Mixture {
	if len(mu) == 0 || len(mu) != len(sigma) {
		panic(fmt.Sprintf("sim: mixture with %d means and %d sigmas", len(mu), len(sigma)))
	}
	w := make([]float64, len(mu))
	for k := range mu {
		if len(mu[k]) != len(mu[0]) {
			panic(fmt.Sprintf("sim: mixture mean %d has length %d, mean 0 %d", k, len(mu[k]), len(mu[0])))
		}
		w[k] = 1 / float64(len(mu))
	}
	return &Mixture{Mu: mu, Sigma: sigma, Weight: w}
}

// Dim returns d.
func (m *Mixture) Dim() int { return len(m.Mu[0]) }

// Noised returns the marginal of x_t: means sqrt(aBar) Mu[k], standard
// deviations sqrt(aBar Sigma[k]^2 + 1 - aBar).
func (m *Mixture) Noised(aBar float64) *Mixture {
	out := &Mixture{Mu: make([][]float64, len(m.Mu)), Sigma: make([]float64, len(m.Mu)), Weight: m.Weight}
	sa := math.Sqrt(aBar)
	for k, mu := range m.Mu {
		out.Mu[k] = make([]float64, len(mu))
		for i, v := range mu {
			out.Mu[k][i] = sa * v
		}
		out.Sigma[k] = math.Sqrt(aBar*m.Sigma[k]*m.Sigma[k] + 1 - aBar)
	}
	return out
}

// Score writes grad_x log p(x) (or log p(x | y) for y >= 0) into score.
// Responsibilities are computed with a max-shift, so far-out points are safe.
func (m *Mixture) Score(score, x []float64, y int) {
	d := m.Dim()
	if len(x) != d || len(score) != d {
		panic(fmt.Sprintf("sim: mixture score of x (%d), score (%d) for d = %d", len(x), len(score), d))
	}
	if y >= len(m.Mu) {
		panic(fmt.Sprintf("sim: label %d for a mixture of %d components", y, len(m.Mu)))
	}
	if y >= 0 {
		v := m.Sigma[y] * m.Sigma[y]
		for i := range x {
			score[i] = -(x[i] - m.Mu[y][i]) / v
		}
		return
	}
	logr := make([]float64, len(m.Mu))
	maxl := math.Inf(-1)
	for k, mu := range m.Mu {
		v := m.Sigma[k] * m.Sigma[k]
		var r2 float64
		for i := range x {
			t := x[i] - mu[i]
			r2 += t * t
		}
		logr[k] = math.Log(m.Weight[k]) - float64(d)/2*math.Log(v) - r2/(2*v)
		maxl = math.Max(maxl, logr[k])
	}
	var z float64
	for k := range logr {
		logr[k] = math.Exp(logr[k] - maxl)
		z += logr[k]
	}
	clear(score)
	for k, mu := range m.Mu {
		r := logr[k] / z
		v := m.Sigma[k] * m.Sigma[k]
		for i := range x {
			score[i] -= r * (x[i] - mu[i]) / v
		}
	}
}

// Eps implements diffusion.EpsModel: eps = -sqrt(1 - aBar) grad log p_t(x_t),
// with p_t the noised mixture at s.AlphaBar, for a batch x (N, d).
func (m *Mixture) Eps(eps, x []float32, y []int, s diffusion.Step) error {
	d := m.Dim()
	n := len(y)
	if len(x) != n*d || len(eps) != n*d {
		panic(fmt.Sprintf("sim: mixture Eps with x (%d), eps (%d) for N = %d, d = %d", len(x), len(eps), n, d))
	}
	pt := m.Noised(s.AlphaBar)
	c := -math.Sqrt(1 - s.AlphaBar)
	xi := make([]float64, d)
	sc := make([]float64, d)
	for r := range n {
		for i := range xi {
			xi[i] = float64(x[r*d+i])
		}
		pt.Score(sc, xi, y[r])
		for i, v := range sc {
			eps[r*d+i] = float32(c * v)
		}
	}
	return nil
}

// Sample draws n points of the mixture with their component labels: x (n, d).
func (m *Mixture) Sample(rng *rand.Rand, n int) (x []float64, y []int) {
	d := m.Dim()
	x = make([]float64, n*d)
	y = make([]int, n)
	for r := range n {
		u := rng.Float64()
		k := 0
		for k < len(m.Weight)-1 && u >= m.Weight[k] {
			u -= m.Weight[k]
			k++
		}
		y[r] = k
		gaussianInto(x[r*d:(r+1)*d], m.Mu[k], m.Sigma[k], rng)
	}
	return x, y
}

var _ diffusion.EpsModel = (*Mixture)(nil)
