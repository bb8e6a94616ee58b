package sim

import (
	"math"
	"math/rand/v2"
	"testing"
)

const zTol = 5 // confidence half-width in standard errors: stable, but can fail

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// heteroMu returns a mean with strong and weak coordinates.
func heteroMu(d int) []float64 {
	mu := make([]float64, d)
	for i := range mu {
		mu[i] = 0.4
		if i%3 == 0 {
			mu[i] = 0.05
		}
		if i%2 == 1 {
			mu[i] = -mu[i]
		}
	}
	return mu
}

// TestAccuracyClosedForm checks the clean, linf and l2 closed forms against
// the fraction of fresh test points that are (robustly) correct.
func TestAccuracyClosedForm(t *testing.T) {
	rng := newRNG(1)
	const d, n = 20, 40000
	b := Binary{Mu: heteroMu(d), Sigma: 1.3}
	w := make([]float64, d)
	for i := range w {
		w[i] = b.Mu[i] + 0.3*rng.NormFloat64()
	}
	x, y := b.Sample(rng, n)
	for _, tc := range []struct {
		threat Threat
		eps    float64
	}{{Clean, 0}, {Linf, 0.1}, {Linf, 0.25}, {L2, 0.5}, {L2, 1.5}} {
		vals := make([]float64, n)
		pen := map[Threat]float64{Clean: 0, Linf: Norm1(w), L2: Norm2(w)}[tc.threat]
		for i := range n {
			if y[i]*Dot(w, x[i*d:(i+1)*d])-tc.eps*pen > 0 {
				vals[i] = 1
			}
		}
		got := NewEstimate(vals)
		want := b.Accuracy(w, tc.threat, tc.eps)
		if !got.Contains(want, zTol) {
			t.Errorf("%v eps=%g: closed form %.4f, Monte Carlo %.4f +- %.4f", tc.threat, tc.eps, want, got.Mean, got.StdErr)
		}
	}
}

// TestLinearKMatchesBinary checks the K-class robust check (K = 2,
// means -mu, +mu) against the binary closed form.
func TestLinearKMatchesBinary(t *testing.T) {
	rng := newRNG(2)
	b := Binary{Mu: heteroMu(10), Sigma: 1}
	neg := make([]float64, 10)
	for i, m := range b.Mu {
		neg[i] = -m
	}
	km := KClass{Mu: [][]float64{neg, b.Mu}, Sigma: []float64{1, 1}}
	w := append([]float64(nil), b.Mu...)
	w[0] += 0.3
	c := LinearK{W: [][]float64{negate(w), w}, B: []float64{0, 0}}
	for _, th := range []Threat{Clean, Linf, L2} {
		got := km.AccuracyMC(c, th, 0.1, rng, 40000)
		want := b.Accuracy(w, th, 0.1)
		if !got.Contains(want, zTol) {
			t.Errorf("%v: binary closed form %.4f, K-class Monte Carlo %.4f +- %.4f", th, want, got.Mean, got.StdErr)
		}
	}
}

func negate(v []float64) []float64 {
	o := make([]float64, len(v))
	for i, x := range v {
		o[i] = -x
	}
	return o
}

// TestOptimalLinf checks that no perturbed direction beats T_eps(mu), and
// that the value is attained.
func TestOptimalLinf(t *testing.T) {
	rng := newRNG(3)
	b := Binary{Mu: heteroMu(12), Sigma: 0.8}
	for _, eps := range []float64{0, 0.03, 0.1, 0.3} {
		w, best := b.OptimalLinf(eps)
		if got := b.Accuracy(w, Linf, eps); math.Abs(got-best) > 1e-12 {
			t.Errorf("eps=%g: T_eps(mu) reaches %.6f, claimed %.6f", eps, got, best)
		}
		for range 2000 {
			v := append([]float64(nil), w...)
			for i := range v {
				v[i] += 0.2 * rng.NormFloat64()
			}
			if a := b.Accuracy(v, Linf, eps); a > best+1e-12 {
				t.Fatalf("eps=%g: direction beats the optimum: %.6f > %.6f", eps, a, best)
			}
		}
	}
	// Above max |mu_i| the best is a coin flip.
	if _, a := b.OptimalLinf(1); a != 0.5 {
		t.Errorf("eps above every |mu_i|: optimum %g, want 0.5", a)
	}
}

// TestEstimatorDistribution checks the exact law of the averaging estimator
// (alone and pooled) against estimators trained on samples.
func TestEstimatorDistribution(t *testing.T) {
	rng := newRNG(4)
	const d, reps = 6, 4000
	re := Binary{Mu: heteroMu(d), Sigma: 1}
	syn := Binary{Mu: []float64{0.5, -0.2, 0.1, 0, 0.3, 0.3}, Sigma: 2}
	for _, tc := range []struct{ n, m int }{{0, 7}, {5, 0}, {5, 20}, {30, 3}} {
		var g IsoGaussian
		if tc.n == 0 {
			g = AveragingDistribution(syn, tc.m)
		} else {
			g = PooledDistribution(re, tc.n, syn, tc.m)
		}
		ws := make([][]float64, reps)
		for r := range ws {
			xr, yr := re.Sample(rng, tc.n)
			xs, ys := syn.Sample(rng, tc.m)
			ws[r] = Averaging(append(xr, xs...), append(yr, ys...))
		}
		var sq []float64
		for j := range d {
			col := make([]float64, reps)
			for r := range ws {
				col[r] = ws[r][j]
				dv := ws[r][j] - g.Mean[j]
				sq = append(sq, dv*dv)
			}
			if e := NewEstimate(col); !e.Contains(g.Mean[j], zTol) {
				t.Errorf("n=%d m=%d coord %d: mean %.4f, Monte Carlo %.4f +- %.4f", tc.n, tc.m, j, g.Mean[j], e.Mean, e.StdErr)
			}
		}
		// Coordinates are independent, so the pooled squared deviations estimate Var.
		if e := NewEstimate(sq); !e.Contains(g.Var, zTol) {
			t.Errorf("n=%d m=%d: variance %.5f, Monte Carlo %.5f +- %.5f", tc.n, tc.m, g.Var, e.Mean, e.StdErr)
		}
	}
}

// TestFoldedMoments checks E|X|, Cov(X,|X|) and the moments of the margin
// numerator against Monte Carlo.
func TestFoldedMoments(t *testing.T) {
	rng := newRNG(5)
	const n = 200000
	for _, tc := range []struct{ m, s float64 }{{0, 1}, {0.3, 0.5}, {-1, 0.4}, {2, 3}} {
		a, c := make([]float64, n), make([]float64, n)
		for i := range n {
			x := tc.m + tc.s*rng.NormFloat64()
			a[i] = math.Abs(x)
			c[i] = (x - tc.m) * math.Abs(x)
		}
		mean, cov := foldedMoments(tc.m, tc.s)
		if e := NewEstimate(a); !e.Contains(mean, zTol) {
			t.Errorf("m=%g s=%g: E|X| %.5f, Monte Carlo %.5f +- %.5f", tc.m, tc.s, mean, e.Mean, e.StdErr)
		}
		if e := NewEstimate(c); !e.Contains(cov, zTol) {
			t.Errorf("m=%g s=%g: Cov(X,|X|) %.5f, Monte Carlo %.5f +- %.5f", tc.m, tc.s, cov, e.Mean, e.StdErr)
		}
	}
	b := Binary{Mu: heteroMu(8), Sigma: 1}
	g := IsoGaussian{Mean: []float64{0.3, -0.1, 0, 0.5, 0.2, -0.4, 0.05, 0.1}, Var: 0.09}
	for _, th := range []Threat{Clean, Linf} {
		mean, variance := b.numeratorMoments(g, th, 0.1)
		nums := make([]float64, 40000)
		sq := make([]float64, len(nums))
		for i := range nums {
			w := g.Sample(rng)
			nums[i], _ = b.margin(w, th, 0.1)
			sq[i] = (nums[i] - mean) * (nums[i] - mean)
		}
		if e := NewEstimate(nums); !e.Contains(mean, zTol) {
			t.Errorf("%v: E[numerator] %.5f, Monte Carlo %.5f +- %.5f", th, mean, e.Mean, e.StdErr)
		}
		if e := NewEstimate(sq); !e.Contains(variance, zTol) {
			t.Errorf("%v: Var[numerator] %.5f, Monte Carlo %.5f +- %.5f", th, variance, e.Mean, e.StdErr)
		}
	}
}

// TestExpectedAccuracyApprox checks the high-dimensional approximations
// against Monte Carlo over w where they are meant to hold (d = 400): within
// 0.01 for the refined one, 0.03 for the plug-in.
func TestExpectedAccuracyApprox(t *testing.T) {
	rng := newRNG(6)
	const d = 400
	mu := make([]float64, d)
	for i := range mu {
		mu[i] = 0.15
		if i%4 == 0 {
			mu[i] = 0.02
		}
	}
	b := Binary{Mu: mu, Sigma: 1}
	for _, m := range []int{5, 50} {
		for _, st := range []float64{0.5, 2} {
			g := AveragingDistribution(Binary{Mu: mu, Sigma: st}, m)
			for _, tc := range []struct {
				th  Threat
				eps float64
			}{{Clean, 0}, {Linf, 0.05}, {L2, 0.5}} {
				mc := b.ExpectedAccuracyMC(g, tc.th, tc.eps, rng, 400)
				ref := b.ExpectedAccuracyRefined(g, tc.th, tc.eps)
				plug := b.ExpectedAccuracyPlugIn(g, tc.th, tc.eps)
				if math.Abs(ref-mc.Mean) > 0.01+zTol*mc.StdErr {
					t.Errorf("m=%d sigma~=%g %v: refined %.4f, Monte Carlo %.4f +- %.4f", m, st, tc.th, ref, mc.Mean, mc.StdErr)
				}
				if math.Abs(plug-mc.Mean) > 0.03+zTol*mc.StdErr {
					t.Errorf("m=%d sigma~=%g %v: plug-in %.4f, Monte Carlo %.4f +- %.4f", m, st, tc.th, plug, mc.Mean, mc.StdErr)
				}
			}
		}
	}
}

// TestMonotone checks the claimed trends on a grid: expected robust accuracy
// (refined approximation, and Monte Carlo at well separated points) rises as
// sigma~ falls, as m grows, and with the pooled real count n.
func TestMonotone(t *testing.T) {
	for _, d := range []int{10, 100} {
		for _, mu0 := range []float64{0.15, 0.4} {
			b := Binary{Mu: constVec(d, mu0), Sigma: 1}
			for _, eps := range []float64{0, 0.05, 0.1} {
				for _, th := range []Threat{Clean, Linf, L2} {
					prev := -1.0
					for _, st := range []float64{4, 2, 1, 0.5, 0.25} { // decreasing sigma~
						a := b.ExpectedAccuracyRefined(AveragingDistribution(Binary{Mu: b.Mu, Sigma: st}, 20), th, eps)
						if a < prev-1e-12 {
							t.Errorf("d=%d mu=%g eps=%g %v: accuracy falls as sigma~ falls to %g: %.5f < %.5f", d, mu0, eps, th, st, a, prev)
						}
						prev = a
					}
					prev = -1
					for _, m := range []int{1, 3, 10, 30, 100, 1000} {
						a := b.ExpectedAccuracyRefined(AveragingDistribution(Binary{Mu: b.Mu, Sigma: 1.5}, m), th, eps)
						if a < prev-1e-12 {
							t.Errorf("d=%d mu=%g eps=%g %v: accuracy falls as m grows to %d: %.5f < %.5f", d, mu0, eps, th, m, a, prev)
						}
						prev = a
					}
				}
			}
		}
	}
	rng := newRNG(7)
	b := Binary{Mu: constVec(50, 0.3), Sigma: 1}
	var prev Estimate
	for i, st := range []float64{3, 1.5, 0.75} {
		e := b.ExpectedAccuracyMC(AveragingDistribution(Binary{Mu: b.Mu, Sigma: st}, 10), Linf, 0.1, rng, 300)
		if i > 0 && e.Mean < prev.Mean {
			t.Errorf("Monte Carlo robust accuracy falls as sigma~ falls to %g: %.4f < %.4f", st, e.Mean, prev.Mean)
		}
		prev = e
	}
}

// TestDistinguish checks total variation (equal spreads) against Monte
// Carlo of the likelihood-ratio event, and the ordering of the bounds.
func TestDistinguish(t *testing.T) {
	rng := newRNG(8)
	mu1, mu2 := []float64{0.5, 0.2, -0.3}, []float64{-0.1, 0.4, 0.2}
	const s, n = 0.7, 100000
	dd := Distinguish(mu1, mu2, s, s)
	// TV = P1(A) - P2(A), A = {x closer to mu1}.
	vals := make([]float64, 2*n)
	for i := range vals {
		src, sgn := mu1, 1.0
		if i >= n {
			src, sgn = mu2, -1
		}
		var d1, d2 float64
		for j := range src {
			x := src[j] + s*rng.NormFloat64()
			d1 += (x - mu1[j]) * (x - mu1[j])
			d2 += (x - mu2[j]) * (x - mu2[j])
		}
		if d1 < d2 {
			vals[i] = 2 * sgn // mean over both halves gives P1(A) - P2(A)
		}
	}
	if e := NewEstimate(vals); !e.Contains(dd.TVLower, zTol) {
		t.Errorf("TV %.4f, Monte Carlo %.4f +- %.4f", dd.TVLower, e.Mean, e.StdErr)
	}
	// Bhattacharyya bounds bracket the exact TV in the equal case.
	bc := math.Exp(-dd.Bhattacharyya)
	if !(1-bc <= dd.TVLower+1e-12 && dd.TVUpper <= math.Sqrt(1-bc*bc)+1e-12) {
		t.Errorf("TV %.4f outside Bhattacharyya bounds [%.4f, %.4f]", dd.TVLower, 1-bc, math.Sqrt(1-bc*bc))
	}
	un := Distinguish(mu1, mu2, 0.5, 1.0)
	if !(un.TVLower >= 0 && un.TVLower <= un.TVUpper && un.TVUpper <= 1) {
		t.Errorf("unequal spreads: bad TV bounds %+v", un)
	}
	// Binary: separation 2||mu||/sigma.
	b := Binary{Mu: mu1, Sigma: 2}
	if got, want := b.Distinguish().Separation, 2*Norm2(mu1)/2; math.Abs(got-want) > 1e-12 {
		t.Errorf("binary separation %g, want %g", got, want)
	}
}

// TestRobustLogisticGradient checks the subgradient against central
// differences at a point with no zero coordinate, and that training lowers
// the robust loss.
func TestRobustLogisticGradient(t *testing.T) {
	rng := newRNG(9)
	b := Binary{Mu: heteroMu(7), Sigma: 1}
	x, y := b.Sample(rng, 50)
	w := []float64{0.3, -0.2, 0.5, 0.1, -0.4, 0.25, 0.15}
	dw := make([]float64, len(w))
	scratch := make([]float64, len(w))
	const eps, ridge, h = 0.1, 0.01, 1e-6
	robustLogisticLoss(dw, w, x, y, eps, ridge)
	for j := range w {
		wp := append([]float64(nil), w...)
		wm := append([]float64(nil), w...)
		wp[j] += h
		wm[j] -= h
		num := (robustLogisticLoss(scratch, wp, x, y, eps, ridge) - robustLogisticLoss(scratch, wm, x, y, eps, ridge)) / (2 * h)
		if math.Abs(num-dw[j]) > 1e-6 {
			t.Errorf("dw[%d] = %.8f, central difference %.8f", j, dw[j], num)
		}
	}
	w0 := Averaging(x, y)
	w1 := RobustLogistic(x, y, eps, DefaultLogistic)
	l0 := robustLogisticLoss(scratch, w0, x, y, eps, DefaultLogistic.Ridge)
	l1 := robustLogisticLoss(scratch, w1, x, y, eps, DefaultLogistic.Ridge)
	if !(l1 < l0) {
		t.Errorf("training did not lower the robust loss: %.5f -> %.5f", l0, l1)
	}
}

// TestMixtureScore checks the mixture score against central differences of
// the log density, and the noised mixture's moments.
func TestMixtureScore(t *testing.T) {
	m := NewMixture([][]float64{{1, 0, -1}, {-2, 1, 0.5}, {0, 0, 3}}, []float64{0.5, 1, 0.8})
	m.Weight = []float64{0.2, 0.5, 0.3}
	logp := func(mx *Mixture, x []float64, y int) float64 {
		var p float64
		for k := range mx.Mu {
			if y >= 0 && k != y {
				continue
			}
			v := mx.Sigma[k] * mx.Sigma[k]
			var r2 float64
			for i := range x {
				r2 += (x[i] - mx.Mu[k][i]) * (x[i] - mx.Mu[k][i])
			}
			w := mx.Weight[k]
			if y >= 0 {
				w = 1
			}
			p += w * math.Exp(-r2/(2*v)) / math.Pow(2*math.Pi*v, 1.5)
		}
		return math.Log(p)
	}
	x := []float64{0.2, 0.4, 0.9}
	sc := make([]float64, 3)
	for _, a := range []float64{1, 0.7, 0.1} {
		pt := m.Noised(a)
		for _, y := range []int{-1, 0, 2} {
			pt.Score(sc, x, y)
			for i := range x {
				xp := append([]float64(nil), x...)
				xm := append([]float64(nil), x...)
				xp[i] += 1e-5
				xm[i] -= 1e-5
				num := (logp(pt, xp, y) - logp(pt, xm, y)) / 2e-5
				if math.Abs(num-sc[i]) > 1e-5*(1+math.Abs(num)) {
					t.Errorf("aBar=%g y=%d: score[%d] %.7f, central difference %.7f", a, y, i, sc[i], num)
				}
			}
		}
	}
	if got, want := m.Noised(0.36).Sigma[0], math.Sqrt(0.36*0.25+0.64); math.Abs(got-want) > 1e-12 {
		t.Errorf("noised sigma %g, want %g", got, want)
	}
}
