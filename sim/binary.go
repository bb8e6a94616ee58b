package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Phi is the standard normal cumulative distribution function.
func Phi(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// phiDensity is the standard normal density.
func phiDensity(x float64) float64 { return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) }

// Threat names the adversary of a robust accuracy.
type Threat int

const (
	// Clean is no adversary (eps is ignored).
	Clean Threat = iota
	// Linf is an l_inf-bounded perturbation of radius eps.
	Linf
	// L2 is an l_2-bounded perturbation of radius eps.
	L2
)

// String returns "clean", "linf" or "l2".
func (t Threat) String() string {
	switch t {
	case Clean:
		return "clean"
	case Linf:
		return "linf"
	case L2:
		return "l2"
	}
	return fmt.Sprintf("Threat(%d)", int(t))
}

// Binary is the binary isotropic Gaussian model of Schmidt et al. (2018):
// y uniform in {-1, +1} and x | y ~ N(y Mu, Sigma^2 I_d). The same type
// describes a synthetic generator x~ | y~ ~ N(y~ mu~, sigma~^2 I_d).
type Binary struct {
	Mu    []float64 // class mean mu (d)
	Sigma float64   // per-coordinate standard deviation sigma
}

// Dim returns d.
func (b Binary) Dim() int { return len(b.Mu) }

// Sample draws n labelled points: x (n, d) and y (n) in {-1, +1}.
func (b Binary) Sample(rng *rand.Rand, n int) (x, y []float64) {
	d := len(b.Mu)
	x = make([]float64, n*d)
	y = make([]float64, n)
	for i := range n {
		yi := 1.0
		if rng.Uint64()&1 == 0 {
			yi = -1
		}
		y[i] = yi
		row := x[i*d : (i+1)*d]
		for j, m := range b.Mu {
			row[j] = yi*m + b.Sigma*rng.NormFloat64()
		}
	}
	return x, y
}

// margin returns the numerator of the robust accuracy of sign(w.x),
// w.mu - eps*pen(w), and the denominator sigma*||w||_2.
func (b Binary) margin(w []float64, threat Threat, eps float64) (num, den float64) {
	if len(w) != len(b.Mu) {
		panic(fmt.Sprintf("sim: w has %d coordinates, the model %d", len(w), len(b.Mu)))
	}
	var dot, l1, l2 float64
	for i, wi := range w {
		dot += wi * b.Mu[i]
		l1 += math.Abs(wi)
		l2 += wi * wi
	}
	l2 = math.Sqrt(l2)
	switch threat {
	case Clean:
		num = dot
	case Linf:
		num = dot - eps*l1
	case L2:
		num = dot - eps*l2
	default:
		panic("sim: unknown threat " + threat.String())
	}
	return num, b.Sigma * l2
}

// Accuracy returns the exact clean or robust accuracy of the linear
// classifier sign(w.x) on the model:
//
//	clean: Phi(w.mu / (sigma ||w||_2))
//	linf:  Phi((w.mu - eps ||w||_1) / (sigma ||w||_2))
//	l2:    Phi(w.mu / (sigma ||w||_2) - eps / sigma)
//
// A point is robustly correct iff min over the ball of y w.(x+delta) > 0, and
// that minimum is y w.x - eps ||w||_* (the dual norm); y w.x ~ N(w.mu,
// sigma^2 ||w||^2). w = 0 counts as a coin flip (accuracy 1/2 when clean,
// 0 under attack would be equally defensible; we use 1/2 throughout).
func (b Binary) Accuracy(w []float64, threat Threat, eps float64) float64 {
	num, den := b.margin(w, threat, eps)
	if den == 0 {
		return 0.5
	}
	return Phi(num / den)
}

// SoftThreshold returns T_eps(mu), coordinate-wise sign(mu_i) max(|mu_i| - eps, 0).
func SoftThreshold(mu []float64, eps float64) []float64 {
	t := make([]float64, len(mu))
	for i, m := range mu {
		a := math.Abs(m) - eps
		if a > 0 {
			t[i] = math.Copysign(a, m)
		}
	}
	return t
}

// OptimalLinf returns the best l_inf-robust linear direction of the model,
// w* = T_eps(mu), and its robust accuracy Phi(||T_eps(mu)||_2 / sigma).
// Derivation: w.mu - eps||w||_1 <= sum |w_i| (|mu_i| - eps)_+ = |w|.|T_eps(mu)|
// <= ||w||_2 ||T_eps(mu)||_2 (Cauchy-Schwarz), with equality at w = T_eps(mu).
// If every |mu_i| <= eps the best is a coin flip (1/2).
func (b Binary) OptimalLinf(eps float64) (w []float64, acc float64) {
	w = SoftThreshold(b.Mu, eps)
	n := Norm2(w)
	if n == 0 {
		return w, 0.5
	}
	return w, Phi(n / b.Sigma)
}

// Norm2 returns ||v||_2.
func Norm2(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

// Norm1 returns ||v||_1.
func Norm1(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += math.Abs(x)
	}
	return s
}

// Dot returns a.b; it panics if the lengths differ.
func Dot(a, b []float64) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("sim: dot of lengths %d and %d", len(a), len(b)))
	}
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// AngleDegrees returns the angle between a and b in degrees (0 if either is zero).
func AngleDegrees(a, b []float64) float64 {
	na, nb := Norm2(a), Norm2(b)
	if na == 0 || nb == 0 {
		return 0
	}
	c := Dot(a, b) / (na * nb)
	c = math.Max(-1, math.Min(1, c))
	return math.Acos(c) * 180 / math.Pi
}
