package sim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat"
)

// IsoGaussian is the distribution N(Mean, Var I_d) of a random vector; here,
// of a weight vector w learned from random samples.
type IsoGaussian struct {
	Mean []float64 // (d)
	Var  float64   // per-coordinate variance s^2
}

// Sample draws one vector.
func (g IsoGaussian) Sample(rng *rand.Rand) []float64 {
	s := math.Sqrt(g.Var)
	w := make([]float64, len(g.Mean))
	for i, m := range g.Mean {
		w[i] = m + s*rng.NormFloat64()
	}
	return w
}

// ExpectedSquaredL2 returns E||w||_2^2 = ||Mean||^2 + d Var (exact).
func (g IsoGaussian) ExpectedSquaredL2() float64 {
	n := Norm2(g.Mean)
	return n*n + float64(len(g.Mean))*g.Var
}

// ExpectedL1 returns E||w||_1, the sum of folded-normal means (exact).
func (g IsoGaussian) ExpectedL1() float64 {
	s := math.Sqrt(g.Var)
	var e float64
	for _, m := range g.Mean {
		e += FoldedNormalMean(m, s)
	}
	return e
}

// FoldedNormalMean returns E|X| for X ~ N(m, s^2):
// s sqrt(2/pi) exp(-m^2/(2 s^2)) + m (1 - 2 Phi(-m/s)).
func FoldedNormalMean(m, s float64) float64 {
	if s == 0 {
		return math.Abs(m)
	}
	return s*math.Sqrt(2/math.Pi)*math.Exp(-m*m/(2*s*s)) + m*(1-2*Phi(-m/s))
}

// foldedMoments returns E|X| and Cov(X, |X|) for X ~ N(m, s^2).
// E[X|X|] = (m^2 + s^2)(2 Phi(m/s) - 1) + 2 m s phi(m/s).
func foldedMoments(m, s float64) (mean, cov float64) {
	mean = FoldedNormalMean(m, s)
	if s == 0 {
		return mean, 0
	}
	exabs := (m*m+s*s)*(2*Phi(m/s)-1) + 2*m*s*phiDensity(m/s)
	return mean, exabs - m*mean
}

// AveragingDistribution returns the exact distribution of the averaging
// estimator w = (1/m) sum_j y~_j x~_j on m samples of the generator syn:
// y~ x~ = mu~ + sigma~ z, so w ~ N(mu~, sigma~^2/m I).
func AveragingDistribution(syn Binary, m int) IsoGaussian {
	if m <= 0 {
		panic(fmt.Sprintf("sim: averaging over m = %d samples", m))
	}
	return IsoGaussian{Mean: append([]float64(nil), syn.Mu...), Var: syn.Sigma * syn.Sigma / float64(m)}
}

// PooledDistribution returns the exact distribution of the averaging
// estimator on n real samples of re pooled with m synthetic samples of syn:
// N((n mu + m mu~)/(n+m), (n sigma^2 + m sigma~^2)/(n+m)^2 I).
func PooledDistribution(re Binary, n int, syn Binary, m int) IsoGaussian {
	if n < 0 || m < 0 || n+m == 0 {
		panic(fmt.Sprintf("sim: pooling n = %d real and m = %d synthetic samples", n, m))
	}
	if len(re.Mu) != len(syn.Mu) {
		panic(fmt.Sprintf("sim: real model has d = %d, synthetic d = %d", len(re.Mu), len(syn.Mu)))
	}
	nf, mf := float64(n), float64(m)
	mean := make([]float64, len(re.Mu))
	for i := range mean {
		mean[i] = (nf*re.Mu[i] + mf*syn.Mu[i]) / (nf + mf)
	}
	v := (nf*re.Sigma*re.Sigma + mf*syn.Sigma*syn.Sigma) / ((nf + mf) * (nf + mf))
	return IsoGaussian{Mean: mean, Var: v}
}

// numeratorMoments returns the exact mean and variance of the margin
// numerator N = w.mu - eps*||w||_1 (linf), w.mu (clean) for w ~ g. For l2 the
// penalty eps*||w||_2 is replaced by eps*sqrt(E||w||^2) (approximate).
func (b Binary) numeratorMoments(g IsoGaussian, threat Threat, eps float64) (mean, variance float64) {
	if len(g.Mean) != len(b.Mu) {
		panic(fmt.Sprintf("sim: w has d = %d, the model %d", len(g.Mean), len(b.Mu)))
	}
	s := math.Sqrt(g.Var)
	for i, m := range g.Mean {
		mu := b.Mu[i]
		mean += m * mu
		variance += mu * mu * g.Var
		if threat == Linf {
			ea, cov := foldedMoments(m, s)
			mean -= eps * ea
			varAbs := m*m + g.Var - ea*ea
			variance += eps*eps*varAbs - 2*eps*mu*cov
		}
	}
	if threat == L2 {
		mean -= eps * math.Sqrt(g.ExpectedSquaredL2())
	}
	return mean, math.Max(variance, 0)
}

// ExpectedAccuracyPlugIn is the high-dimensional plug-in approximation of
// E_w[Accuracy(w)] for w ~ g: replace w.mu, ||w||_1 and ||w||_2 by
// E[w.mu] = Mean.mu, E||w||_1 (folded normal) and sqrt(||Mean||^2 + d Var).
// Approximate: it ignores the fluctuations of the margin, which vanish
// relative to its mean as d grows (for ||mu|| of order sqrt(d)).
func (b Binary) ExpectedAccuracyPlugIn(g IsoGaussian, threat Threat, eps float64) float64 {
	num, _ := b.numeratorMoments(g, threat, eps)
	den := b.Sigma * math.Sqrt(g.ExpectedSquaredL2())
	if den == 0 {
		return 0.5
	}
	return Phi(num / den)
}

// ExpectedAccuracyRefined keeps the fluctuation of the margin numerator:
// N = w.mu - eps pen(w) is a sum of d independent terms (exactly normal when
// clean), so with the denominator held at D = sigma sqrt(E||w||^2),
// E Phi(N/D) = Phi(E[N] / sqrt(D^2 + Var N)) (exact for normal N). Approximate
// only in treating ||w||_2 as constant and N as normal under linf.
func (b Binary) ExpectedAccuracyRefined(g IsoGaussian, threat Threat, eps float64) float64 {
	num, v := b.numeratorMoments(g, threat, eps)
	den2 := b.Sigma * b.Sigma * g.ExpectedSquaredL2()
	if den2+v == 0 {
		return 0.5
	}
	return Phi(num / math.Sqrt(den2+v))
}

// ExpectedAccuracyMC estimates E_w[Accuracy(w)] for w ~ g by Monte Carlo
// over draws of w, with the test-point expectation done exactly by Accuracy
// (Rao-Blackwellised). Unbiased; the Estimate carries its standard error.
func (b Binary) ExpectedAccuracyMC(g IsoGaussian, threat Threat, eps float64, rng *rand.Rand, draws int) Estimate {
	vals := make([]float64, draws)
	for k := range vals {
		vals[k] = b.Accuracy(g.Sample(rng), threat, eps)
	}
	return NewEstimate(vals)
}

// Estimate is a Monte Carlo mean with its standard error.
type Estimate struct {
	Mean   float64 `json:"mean"`
	StdErr float64 `json:"stderr"`
	N      int     `json:"n"`
}

// NewEstimate returns the sample mean of vals and its standard error
// (sample standard deviation / sqrt(n)).
func NewEstimate(vals []float64) Estimate {
	if len(vals) == 0 {
		return Estimate{Mean: math.NaN(), StdErr: math.NaN()}
	}
	if len(vals) == 1 {
		return Estimate{Mean: vals[0], StdErr: math.Inf(1), N: 1}
	}
	m, sd := stat.MeanStdDev(vals, nil)
	return Estimate{Mean: m, StdErr: sd / math.Sqrt(float64(len(vals))), N: len(vals)}
}

// CI returns the interval Mean -/+ z StdErr.
func (e Estimate) CI(z float64) (lo, hi float64) {
	return e.Mean - z*e.StdErr, e.Mean + z*e.StdErr
}

// Contains reports whether v lies within z standard errors of the mean.
func (e Estimate) Contains(v, z float64) bool {
	lo, hi := e.CI(z)
	return v >= lo && v <= hi
}
