package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// KClass is a K-class isotropic Gaussian model: y uniform in {0..K-1} and
// x | y = k ~ N(Mu[k], Sigma[k]^2 I_d).
type KClass struct {
	Mu    [][]float64 // (K, d) class means
	Sigma []float64   // (K) per-class standard deviations
}

// K returns the number of classes.
func (m KClass) K() int { return len(m.Mu) }

// Dim returns d.
func (m KClass) Dim() int { return len(m.Mu[0]) }

// Sample draws n points with uniform labels: x (n, d), y (n).
func (m KClass) Sample(rng *rand.Rand, n int) (x []float64, y []int) {
	d, k := m.Dim(), m.K()
	x = make([]float64, n*d)
	y = make([]int, n)
	for i := range n {
		c := rng.IntN(k)
		y[i] = c
		gaussianInto(x[i*d:(i+1)*d], m.Mu[c], m.Sigma[c], rng)
	}
	return x, y
}

// gaussianInto sets row[j] = mu[j] + sigma*z_j with z_j standard normal
// draws from rng, in order j = 0, 1, ...
func gaussianInto(row, mu []float64, sigma float64, rng *rand.Rand) {
	for j, v := range mu {
		row[j] = v + sigma*rng.NormFloat64()
	}
}

// SamplePerClass draws nPer points of every class, in class order: x (K*nPer, d).
func (m KClass) SamplePerClass(rng *rand.Rand, nPer int) (x []float64, y []int) {
	d, k := m.Dim(), m.K()
	x = make([]float64, k*nPer*d)
	y = make([]int, k*nPer)
	for c := range k {
		for i := range nPer {
			r := c*nPer + i
			y[r] = c
			gaussianInto(x[r*d:(r+1)*d], m.Mu[c], m.Sigma[c], rng)
		}
	}
	return x, y
}

// MinPairwise returns the smallest Separation between two classes, the
// pair's distinguishability (see Distinguish).
func (m KClass) MinPairwise() Distinguishability {
	best := Distinguishability{Separation: math.Inf(1)}
	for a := range m.K() {
		for b := a + 1; b < m.K(); b++ {
			if dd := Distinguish(m.Mu[a], m.Mu[b], m.Sigma[a], m.Sigma[b]); dd.Separation < best.Separation {
				best = dd
			}
		}
	}
	return best
}

// LinearK is the multi-class linear classifier argmax_k W[k].x + B[k].
type LinearK struct {
	W [][]float64 // (K, d)
	B []float64   // (K)
}

// NearestMean returns the nearest-class-mean classifier of a labelled
// sample (the K-class averaging estimator): W[k] = mean of class k,
// B[k] = -||W[k]||^2 / 2. A class without samples gets W = 0, B = -Inf.
func NearestMean(x []float64, y []int, k int) LinearK {
	n := len(y)
	if n == 0 || len(x)%n != 0 {
		panic(fmt.Sprintf("sim: nearest mean of x of length %d with %d labels", len(x), n))
	}
	d := len(x) / n
	c := LinearK{W: make([][]float64, k), B: make([]float64, k)}
	count := make([]int, k)
	for i := range c.W {
		c.W[i] = make([]float64, d)
	}
	for i, yi := range y {
		count[yi]++
		for j, v := range x[i*d : (i+1)*d] {
			c.W[yi][j] += v
		}
	}
	for i := range c.W {
		if count[i] == 0 {
			c.B[i] = math.Inf(-1)
			continue
		}
		for j := range c.W[i] {
			c.W[i][j] /= float64(count[i])
		}
		nn := Norm2(c.W[i])
		c.B[i] = -nn * nn / 2
	}
	return c
}

// RobustCorrect reports whether the point x with label y is classified
// correctly under every perturbation of the threat's norm up to eps. For a
// linear classifier this is exact: the adversary must make one rival j win,
// and the smallest margin it can reach against j is
// (W[y]-W[j]).x + B[y]-B[j] - eps ||W[y]-W[j]||_* (dual norm).
func (c LinearK) RobustCorrect(x []float64, y int, threat Threat, eps float64) bool {
	for j := range c.W {
		if j == y {
			continue
		}
		var m, l1, l2 float64
		for i, v := range x {
			dw := c.W[y][i] - c.W[j][i]
			m += dw * v
			l1 += math.Abs(dw)
			l2 += dw * dw
		}
		m += c.B[y] - c.B[j]
		switch threat {
		case Linf:
			m -= eps * l1
		case L2:
			m -= eps * math.Sqrt(l2)
		}
		if !(m > 0) {
			return false
		}
	}
	return true
}

// AccuracyMC estimates the clean or robust accuracy of c on the model from
// n fresh test points (each point's robustness is exact).
func (m KClass) AccuracyMC(c LinearK, threat Threat, eps float64, rng *rand.Rand, n int) Estimate {
	x, y := m.Sample(rng, n)
	d := m.Dim()
	vals := make([]float64, n)
	for i := range n {
		if c.RobustCorrect(x[i*d:(i+1)*d], y[i], threat, eps) {
			vals[i] = 1
		}
	}
	return NewEstimate(vals)
}
