package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// The binary experiments share these parameters.
func binaryParams() []Param {
	return []Param{
		{Name: "d", Description: "dimension", Default: 100, Min: 1, Max: 5000, Integer: true},
		{Name: "mu", Description: "every coordinate of the real class mean mu", Default: 0.3, Min: 0, Max: 10},
		{Name: "sigma", Description: "real per-coordinate standard deviation", Default: 1, Min: 1e-3, Max: 100},
		{Name: "eps", Description: "l_inf attack radius", Default: 0.1, Min: 0, Max: 10},
		{Name: "reps", Description: "Monte Carlo training sets per point", Default: 200, Min: 2, Max: 100000, Integer: true},
	}
}

func linspace(a, b float64, n int) []float64 {
	if n == 1 {
		return []float64{a}
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return x
}

// logspaceInt returns up to n distinct integers spread log-evenly over [a, b].
func logspaceInt(a, b, n int) []int {
	var out []int
	for i := range n {
		f := float64(a)
		if n > 1 {
			f = math.Exp(math.Log(float64(a)) + (math.Log(float64(b))-math.Log(float64(a)))*float64(i)/float64(n-1))
		}
		v := int(math.Round(f))
		if len(out) == 0 || v > out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// mcSeries builds a series with a 95% band from Monte Carlo estimates.
func mcSeries(name string, x []float64, est []Estimate) Series {
	s := Series{Name: name, X: x, Y: make([]float64, len(est)), Lo: make([]float64, len(est)), Hi: make([]float64, len(est))}
	for i, e := range est {
		s.Y[i] = e.Mean
		s.Lo[i], s.Hi[i] = e.CI(1.96)
		if math.IsInf(e.StdErr, 0) || math.IsNaN(e.StdErr) { // a single draw: no band
			s.Lo[i], s.Hi[i] = e.Mean, e.Mean
		}
	}
	return s
}

// trainMC trains an estimator on n real samples of re pooled with m synthetic
// samples of syn, reps times, and returns the exact l_inf robust accuracy on
// re of each.
func trainMC(re Binary, n int, syn Binary, m int, eps float64, train func(x, y []float64) []float64, rng *rand.Rand, reps int) Estimate {
	vals := make([]float64, reps)
	for r := range vals {
		xr, yr := re.Sample(rng, n)
		xs, ys := syn.Sample(rng, m)
		vals[r] = re.Accuracy(train(append(xr, xs...), append(yr, ys...)), Linf, eps)
	}
	return NewEstimate(vals)
}

func logisticTrainer(eps float64, steps int) func(x, y []float64) []float64 {
	cfg := DefaultLogistic
	cfg.Steps = steps
	return func(x, y []float64) []float64 { return RobustLogistic(x, y, eps, cfg) }
}

// constVec returns a vector of d copies of v.
func constVec(d int, v float64) []float64 {
	o := make([]float64, d)
	for i := range o {
		o[i] = v
	}
	return o
}

func scaled(v []float64, c float64) []float64 {
	o := make([]float64, len(v))
	for i, x := range v {
		o[i] = c * x
	}
	return o
}

func init() {
	register(&Experiment{
		Name: "spread",
		Description: "l_inf robust accuracy of a classifier trained on m synthetic samples against the synthetic spread sigma~ " +
			"(the distinguishability of the synthetic classes); real model x|y ~ N(y mu 1, sigma^2 I), synthetic mean mu~ = mu",
		Params: append(binaryParams(),
			Param{Name: "m", Description: "synthetic training samples", Default: 20, Min: 1, Max: 1e6, Integer: true},
			Param{Name: "sigmaMin", Description: "smallest synthetic spread sigma~", Default: 0.25, Min: 1e-3, Max: 100},
			Param{Name: "sigmaMax", Description: "largest synthetic spread sigma~", Default: 3, Min: 1e-3, Max: 100},
			Param{Name: "points", Description: "values of sigma~", Default: 12, Min: 2, Max: 200, Integer: true},
			Param{Name: "logistic", Description: "also train l_inf-robust logistic regression (1) or not (0)", Default: 1, Min: 0, Max: 1, Integer: true},
			Param{Name: "logisticReps", Description: "Monte Carlo training sets per point for logistic regression", Default: 40, Min: 2, Max: 100000, Integer: true},
			Param{Name: "logisticSteps", Description: "subgradient steps of logistic regression", Default: 100, Min: 1, Max: 100000, Integer: true},
		),
		Outputs: []string{
			"accuracy: averaging (Monte Carlo)", "accuracy: averaging (refined approx.)", "accuracy: averaging (plug-in approx.)",
			"accuracy: robust logistic (Monte Carlo)", "accuracy: optimal, infinite data",
			"distinguishability: averaging (Monte Carlo) against TV", "distinguishability: averaging (refined approx.) against TV",
		},
		run: runSpread,
	})
	register(&Experiment{
		Name: "samples",
		Description: "l_inf robust accuracy against the number m of synthetic samples for three spreads sigma~: " +
			"how many less distinguishable samples equal fewer distinguishable ones (the law of the averaging estimator depends on sigma~^2/m only)",
		Params: append(binaryParams(),
			Param{Name: "sigmaTilde1", Description: "first synthetic spread", Default: 0.5, Min: 1e-3, Max: 100},
			Param{Name: "sigmaTilde2", Description: "second synthetic spread", Default: 1, Min: 1e-3, Max: 100},
			Param{Name: "sigmaTilde3", Description: "third synthetic spread", Default: 2, Min: 1e-3, Max: 100},
			Param{Name: "mMin", Description: "fewest synthetic samples", Default: 1, Min: 1, Max: 1e6, Integer: true},
			Param{Name: "mMax", Description: "most synthetic samples", Default: 1000, Min: 1, Max: 1e6, Integer: true},
			Param{Name: "points", Description: "values of m (log-spaced)", Default: 10, Min: 2, Max: 100, Integer: true},
		),
		Outputs: []string{"against m: sigma~=S (Monte Carlo|refined approx.) for each S", "against m/sigma~^2: sigma~=S (Monte Carlo)"},
		run:     runSamples,
	})
	register(&Experiment{
		Name: "direction",
		Description: "synthetic mean mu~ = mu against the soft-thresholded mu~ = T_eps(mu) (rescaled to ||mu||) under l_inf, " +
			"for a mean with strong and weak coordinates; and the angle between T_eps(mu) and mu",
		Params: []Param{
			{Name: "d", Description: "dimension", Default: 100, Min: 1, Max: 5000, Integer: true},
			{Name: "muStrong", Description: "|mu_i| of the strong coordinates", Default: 0.3, Min: 0, Max: 10},
			{Name: "muWeak", Description: "|mu_i| of the weak coordinates", Default: 0.1, Min: 0, Max: 10},
			{Name: "fracWeak", Description: "fraction of weak coordinates", Default: 0.8, Min: 0, Max: 1},
			{Name: "sigma", Description: "real per-coordinate standard deviation", Default: 1, Min: 1e-3, Max: 100},
			{Name: "sigmaTilde", Description: "synthetic spread", Default: 1, Min: 1e-3, Max: 100},
			{Name: "m", Description: "synthetic training samples", Default: 1000, Min: 1, Max: 1e6, Integer: true},
			{Name: "epsMax", Description: "largest l_inf radius", Default: 0.25, Min: 0, Max: 10},
			{Name: "points", Description: "values of eps", Default: 11, Min: 2, Max: 200, Integer: true},
			{Name: "rescale", Description: "rescale T_eps(mu) to the norm of mu (1) or not (0)", Default: 1, Min: 0, Max: 1, Integer: true},
			{Name: "reps", Description: "Monte Carlo training sets per point", Default: 100, Min: 2, Max: 100000, Integer: true},
		},
		Outputs: []string{"accuracy: mu~ = mu | mu~ = T_eps(mu) (Monte Carlo|refined approx.)", "accuracy: mu~ = mu, estimator T_eps(w) (Monte Carlo)",
			"accuracy: optimal, infinite data", "angle: T_eps(mu) against mu"},
		run: runDirection,
	})
	register(&Experiment{
		Name: "mixing",
		Description: "n real samples pooled with m synthetic ones (averaging estimator) for three spreads sigma~: adding synthetic samples " +
			"with mean mu helps iff sigma~^2 < sigma^2 (2 + m/n)",
		Params: append(binaryParams(),
			Param{Name: "n", Description: "real training samples", Default: 10, Min: 0, Max: 1e6, Integer: true},
			Param{Name: "mMax", Description: "most synthetic samples", Default: 200, Min: 1, Max: 1e6, Integer: true},
			Param{Name: "points", Description: "values of m (linear, from 0)", Default: 21, Min: 2, Max: 200, Integer: true},
			Param{Name: "muScale", Description: "synthetic mean mu~ = muScale * mu", Default: 1, Min: 0, Max: 10},
			Param{Name: "sigmaTilde1", Description: "first synthetic spread", Default: 0.5, Min: 1e-3, Max: 100},
			Param{Name: "sigmaTilde2", Description: "second synthetic spread", Default: 1, Min: 1e-3, Max: 100},
			Param{Name: "sigmaTilde3", Description: "third synthetic spread", Default: 3, Min: 1e-3, Max: 100},
		),
		Outputs: []string{"accuracy: sigma~=S (Monte Carlo|refined approx.) for each S"},
		run:     runMixing,
	})
	register(&Experiment{
		Name: "kclass",
		Description: "K classes: l_inf robust accuracy (on the real model) of the nearest-mean classifier trained on m synthetic samples per class, " +
			"against the minimum pairwise separation of the synthetic classes, varied once through the spread sigma~ and once through a scale c of the means",
		Params: []Param{
			{Name: "K", Description: "classes", Default: 4, Min: 2, Max: 50, Integer: true},
			{Name: "d", Description: "dimension (at least K)", Default: 20, Min: 2, Max: 5000, Integer: true},
			{Name: "r", Description: "norm of every real class mean", Default: 3, Min: 0, Max: 100},
			{Name: "angle", Description: "angle in degrees between the means of classes 0 and 1 (the others are orthogonal)", Default: 60, Min: 1, Max: 90},
			{Name: "sigma", Description: "real per-coordinate standard deviation", Default: 1, Min: 1e-3, Max: 100},
			{Name: "eps", Description: "l_inf attack radius", Default: 0.1, Min: 0, Max: 10},
			{Name: "m", Description: "synthetic samples per class", Default: 10, Min: 1, Max: 1e5, Integer: true},
			{Name: "sigmaMin", Description: "smallest synthetic spread (spread sweep)", Default: 0.5, Min: 1e-3, Max: 100},
			{Name: "sigmaMax", Description: "largest synthetic spread (spread sweep)", Default: 4, Min: 1e-3, Max: 100},
			{Name: "scaleMin", Description: "smallest mean scale c (scale sweep, sigma~ = sigma)", Default: 0.2, Min: 1e-3, Max: 100},
			{Name: "scaleMax", Description: "largest mean scale c (scale sweep, sigma~ = sigma)", Default: 2, Min: 1e-3, Max: 100},
			{Name: "points", Description: "values per sweep", Default: 8, Min: 2, Max: 100, Integer: true},
			{Name: "reps", Description: "Monte Carlo training sets per point", Default: 40, Min: 2, Max: 100000, Integer: true},
			{Name: "test", Description: "real test points per training set", Default: 1000, Min: 10, Max: 1e6, Integer: true},
		},
		Outputs: []string{"accuracy: vary sigma~ (Monte Carlo)", "accuracy: vary scale c (Monte Carlo)"},
		run:     runKClass,
	})
}

func errRange(exp, lo, hi string, a, b float64) error {
	return fmt.Errorf("sim: %s: %s (%s) must be below %s (%s)", exp, lo, fmtNum(a), hi, fmtNum(b))
}

func runSpread(p Values, seed uint64, prog *progress) (*Result, error) {
	if p.Float("sigmaMin") >= p.Float("sigmaMax") {
		return nil, errRange("spread", "sigmaMin", "sigmaMax", p.Float("sigmaMin"), p.Float("sigmaMax"))
	}
	d, m, reps, eps := p.Int("d"), p.Int("m"), p.Int("reps"), p.Float("eps")
	re := Binary{Mu: constVec(d, p.Float("mu")), Sigma: p.Float("sigma")}
	sig := linspace(p.Float("sigmaMin"), p.Float("sigmaMax"), p.Int("points"))
	logistic := p.Int("logistic") == 1
	prog.add(len(sig))
	var mc, lg []Estimate
	ref, plug, opt, tv := make([]float64, len(sig)), make([]float64, len(sig)), make([]float64, len(sig)), make([]float64, len(sig))
	_, best := re.OptimalLinf(eps)
	for i, st := range sig {
		syn := Binary{Mu: re.Mu, Sigma: st}
		mc = append(mc, trainMC(re, 0, syn, m, eps, Averaging, pointRNG(seed, 0, i), reps))
		if logistic {
			lg = append(lg, trainMC(re, 0, syn, m, eps, logisticTrainer(eps, p.Int("logisticSteps")), pointRNG(seed, 1, i), p.Int("logisticReps")))
		}
		g := AveragingDistribution(syn, m)
		ref[i] = re.ExpectedAccuracyRefined(g, Linf, eps)
		plug[i] = re.ExpectedAccuracyPlugIn(g, Linf, eps)
		opt[i] = best
		tv[i] = syn.Distinguish().TVLower
		prog.step()
	}
	acc := Panel{Title: "accuracy", XLabel: "synthetic spread sigma~", YLabel: "l_inf robust accuracy",
		Series: []Series{mcSeries("averaging (Monte Carlo)", sig, mc), {Name: "averaging (refined approx.)", X: sig, Y: ref},
			{Name: "averaging (plug-in approx.)", X: sig, Y: plug}}}
	if logistic {
		acc.Series = append(acc.Series, mcSeries("robust logistic (Monte Carlo)", sig, lg))
	}
	acc.Series = append(acc.Series, Series{Name: "optimal, infinite data", X: sig, Y: opt})
	dist := Panel{Title: "distinguishability", XLabel: "total variation between the synthetic classes", YLabel: "l_inf robust accuracy",
		Series: []Series{mcSeries("averaging (Monte Carlo)", tv, mc), {Name: "averaging (refined approx.)", X: tv, Y: ref}}}
	return &Result{Panels: []Panel{acc, dist}}, nil
}

func runSamples(p Values, seed uint64, prog *progress) (*Result, error) {
	if p.Int("mMin") >= p.Int("mMax") {
		return nil, errRange("samples", "mMin", "mMax", p.Float("mMin"), p.Float("mMax"))
	}
	d, reps, eps := p.Int("d"), p.Int("reps"), p.Float("eps")
	re := Binary{Mu: constVec(d, p.Float("mu")), Sigma: p.Float("sigma")}
	ms := logspaceInt(p.Int("mMin"), p.Int("mMax"), p.Int("points"))
	sts := []float64{p.Float("sigmaTilde1"), p.Float("sigmaTilde2"), p.Float("sigmaTilde3")}
	prog.add(len(ms) * len(sts))
	vsM := Panel{Title: "against m", XLabel: "synthetic samples m", YLabel: "l_inf robust accuracy", LogX: true}
	vsEff := Panel{Title: "against m / sigma~^2", XLabel: "m / sigma~^2 (effective sample size)", YLabel: "l_inf robust accuracy", LogX: true}
	for k, st := range sts {
		x, eff, ref := make([]float64, len(ms)), make([]float64, len(ms)), make([]float64, len(ms))
		var mc []Estimate
		for i, m := range ms {
			syn := Binary{Mu: re.Mu, Sigma: st}
			x[i], eff[i] = float64(m), float64(m)/(st*st)
			mc = append(mc, trainMC(re, 0, syn, m, eps, Averaging, pointRNG(seed, k, i), reps))
			ref[i] = re.ExpectedAccuracyRefined(AveragingDistribution(syn, m), Linf, eps)
			prog.step()
		}
		name := "sigma~=" + fmtNum(st)
		vsM.Series = append(vsM.Series, mcSeries(name+" (Monte Carlo)", x, mc), Series{Name: name + " (refined approx.)", X: x, Y: ref})
		vsEff.Series = append(vsEff.Series, mcSeries(name+" (Monte Carlo)", eff, mc))
	}
	return &Result{Panels: []Panel{vsM, vsEff}, Notes: []string{
		"The averaging estimator on m samples of spread sigma~ is N(mu~, sigma~^2/m I): m samples at sigma~_a are worth m (sigma~_b/sigma~_a)^2 samples at sigma~_b.",
	}}, nil
}

func runDirection(p Values, seed uint64, prog *progress) (*Result, error) {
	d, m, reps := p.Int("d"), p.Int("m"), p.Int("reps")
	mu := make([]float64, d)
	nWeak := int(math.Round(p.Float("fracWeak") * float64(d)))
	for i := range mu {
		mu[i] = p.Float("muStrong")
		if i < nWeak {
			mu[i] = p.Float("muWeak")
		}
		if i%2 == 1 {
			mu[i] = -mu[i]
		}
	}
	re := Binary{Mu: mu, Sigma: p.Float("sigma")}
	st := p.Float("sigmaTilde")
	epss := linspace(0, p.Float("epsMax"), p.Int("points"))
	prog.add(len(epss))
	var mcA, mcB, mcC []Estimate
	refA, refB, opt, angle := make([]float64, len(epss)), make([]float64, len(epss)), make([]float64, len(epss)), make([]float64, len(epss))
	for i, eps := range epss {
		t := SoftThreshold(mu, eps)
		if p.Int("rescale") == 1 && Norm2(t) > 0 {
			t = scaled(t, Norm2(mu)/Norm2(t))
		}
		synA, synB := Binary{Mu: mu, Sigma: st}, Binary{Mu: t, Sigma: st}
		mcA = append(mcA, trainMC(re, 0, synA, m, eps, Averaging, pointRNG(seed, 0, i), reps))
		mcB = append(mcB, trainMC(re, 0, synB, m, eps, Averaging, pointRNG(seed, 1, i), reps))
		mcC = append(mcC, trainMC(re, 0, synA, m, eps, func(x, y []float64) []float64 { return SoftThreshold(Averaging(x, y), eps) }, pointRNG(seed, 2, i), reps))
		refA[i] = re.ExpectedAccuracyRefined(AveragingDistribution(synA, m), Linf, eps)
		refB[i] = re.ExpectedAccuracyRefined(AveragingDistribution(synB, m), Linf, eps)
		_, opt[i] = re.OptimalLinf(eps)
		angle[i] = AngleDegrees(SoftThreshold(mu, eps), mu)
		prog.step()
	}
	acc := Panel{Title: "accuracy", XLabel: "l_inf radius eps", YLabel: "l_inf robust accuracy", Series: []Series{
		mcSeries("mu~ = mu (Monte Carlo)", epss, mcA), {Name: "mu~ = mu (refined approx.)", X: epss, Y: refA},
		mcSeries("mu~ = T_eps(mu) (Monte Carlo)", epss, mcB), {Name: "mu~ = T_eps(mu) (refined approx.)", X: epss, Y: refB},
		mcSeries("mu~ = mu, estimator T_eps(w) (Monte Carlo)", epss, mcC),
		{Name: "optimal, infinite data", X: epss, Y: opt},
	}}
	ang := Panel{Title: "angle", XLabel: "l_inf radius eps", YLabel: "angle between T_eps(mu) and mu (degrees)",
		Series: []Series{{Name: "T_eps(mu) against mu", X: epss, Y: angle}}}
	return &Result{Panels: []Panel{acc, ang}}, nil
}

func runMixing(p Values, seed uint64, prog *progress) (*Result, error) {
	d, n, reps, eps := p.Int("d"), p.Int("n"), p.Int("reps"), p.Float("eps")
	re := Binary{Mu: constVec(d, p.Float("mu")), Sigma: p.Float("sigma")}
	var ms []int
	for _, v := range linspace(0, p.Float("mMax"), p.Int("points")) {
		if mv := int(math.Round(v)); len(ms) == 0 || mv > ms[len(ms)-1] {
			ms = append(ms, mv)
		}
	}
	if n == 0 {
		ms = ms[1:] // no samples at all at m = 0
	}
	sts := []float64{p.Float("sigmaTilde1"), p.Float("sigmaTilde2"), p.Float("sigmaTilde3")}
	prog.add(len(ms) * len(sts))
	pan := Panel{Title: "accuracy", XLabel: fmt.Sprintf("synthetic samples m (pooled with n = %d real)", n), YLabel: "l_inf robust accuracy"}
	for k, st := range sts {
		syn := Binary{Mu: scaled(re.Mu, p.Float("muScale")), Sigma: st}
		x, ref := make([]float64, len(ms)), make([]float64, len(ms))
		var mc []Estimate
		for i, m := range ms {
			x[i] = float64(m)
			mc = append(mc, trainMC(re, n, syn, m, eps, Averaging, pointRNG(seed, k, i), reps))
			ref[i] = re.ExpectedAccuracyRefined(PooledDistribution(re, n, syn, m), Linf, eps)
			prog.step()
		}
		name := "sigma~=" + fmtNum(st)
		pan.Series = append(pan.Series, mcSeries(name+" (Monte Carlo)", x, mc), Series{Name: name + " (refined approx.)", X: x, Y: ref})
	}
	return &Result{Panels: []Panel{pan}, Notes: []string{
		"Pooled averaging estimator: N((n mu + m mu~)/(n+m), (n sigma^2 + m sigma~^2)/(n+m)^2 I); with mu~ = mu its variance falls below sigma^2/n iff sigma~^2 < sigma^2 (2 + m/n).",
	}}, nil
}

// kMeans returns the real K-class means: norm r, class 0 along e_0, class 1
// at the given angle from it in the (e_0, e_1) plane, the others along e_k.
func kMeans(k, d int, r, angleDeg float64) [][]float64 {
	mu := make([][]float64, k)
	for c := range mu {
		mu[c] = make([]float64, d)
		mu[c][c] = r
	}
	a := angleDeg * math.Pi / 180
	mu[1][1] = r * math.Sin(a)
	mu[1][0] = r * math.Cos(a)
	return mu
}

func runKClass(p Values, seed uint64, prog *progress) (*Result, error) {
	k, d := p.Int("K"), p.Int("d")
	if d < k {
		return nil, fmt.Errorf("sim: kclass: d (%d) must be at least K (%d)", d, k)
	}
	if p.Float("sigmaMin") >= p.Float("sigmaMax") {
		return nil, errRange("kclass", "sigmaMin", "sigmaMax", p.Float("sigmaMin"), p.Float("sigmaMax"))
	}
	if p.Float("scaleMin") >= p.Float("scaleMax") {
		return nil, errRange("kclass", "scaleMin", "scaleMax", p.Float("scaleMin"), p.Float("scaleMax"))
	}
	sigma, eps, m, reps, test := p.Float("sigma"), p.Float("eps"), p.Int("m"), p.Int("reps"), p.Int("test")
	mu := kMeans(k, d, p.Float("r"), p.Float("angle"))
	re := KClass{Mu: mu, Sigma: constVec(k, sigma)}
	points := p.Int("points")
	prog.add(2 * points)
	run := func(series int, syn KClass, i int) (float64, Estimate) {
		rng := pointRNG(seed, series, i)
		vals := make([]float64, reps)
		for r := range vals {
			x, y := syn.SamplePerClass(rng, m)
			vals[r] = re.AccuracyMC(NearestMean(x, y, k), Linf, eps, rng, test).Mean
		}
		prog.step()
		return syn.MinPairwise().Separation, NewEstimate(vals)
	}
	var xs, xc []float64
	var es, ec []Estimate
	for i, st := range linspace(p.Float("sigmaMin"), p.Float("sigmaMax"), points) {
		sep, e := run(0, KClass{Mu: mu, Sigma: constVec(k, st)}, i)
		xs, es = append(xs, sep), append(es, e)
	}
	for i, c := range linspace(p.Float("scaleMin"), p.Float("scaleMax"), points) {
		smu := make([][]float64, k)
		for j := range mu {
			smu[j] = scaled(mu[j], c)
		}
		sep, e := run(1, KClass{Mu: smu, Sigma: constVec(k, sigma)}, i)
		xc, ec = append(xc, sep), append(ec, e)
	}
	pan := Panel{Title: "accuracy", XLabel: "minimum pairwise separation of the synthetic classes ||mu~_a - mu~_b|| / sigma~", YLabel: "l_inf robust accuracy",
		Series: []Series{mcSeries("vary sigma~ (Monte Carlo)", xs, es), mcSeries("vary scale c (Monte Carlo)", xc, ec)}}
	return &Result{Panels: []Panel{pan}}, nil
}
