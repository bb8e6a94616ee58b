package sim

import (
	"context"
	"fmt"
	"math"

	"github.com/cdp-project/cdp/core/diffusion"
	"github.com/cdp-project/cdp/core/guide"
)

// CenteredIdentity is the feature network f(x) = x - Center (no parameters):
// on a Gaussian mixture centred at Center the normalised features are the
// directions of the points, which is what a contrastive loss can separate.
// It implements guide.FeatureNet.
type CenteredIdentity struct {
	Center []float32 // (D)
}

// Features implements guide.FeatureNet: h = x - Center, (N, D).
func (f *CenteredIdentity) Features(x []float32, n int) ([]float32, int) {
	d := len(f.Center)
	if len(x) != n*d {
		panic(fmt.Sprintf("sim: CenteredIdentity features of x (%d) for (N, D) = (%d, %d)", len(x), n, d))
	}
	h := make([]float32, len(x))
	for i, v := range x {
		h[i] = v - f.Center[i%d]
	}
	return h, d
}

// InputGrad implements guide.FeatureNet: dL/dx = dL/dh.
func (f *CenteredIdentity) InputGrad(dh []float32) []float32 { return append([]float32(nil), dh...) }

// GuidedConfig describes one guided sampling run on an exact mixture model.
type GuidedConfig struct {
	Steps      int     // DDIM (eta = 0) steps over T = 1000 (linear schedule)
	Lambda     float64 // contrastive guidance scale
	Loss       guide.Loss
	ClassAware bool                                 // negatives only from other classes
	Window     guide.Window                         // guided timesteps; the zero value means all
	Seed       uint64                               // sampler seed
	Observe    func(s diffusion.Step, loss float64) // optional, the loss at each guided step
}

// SampleGuided draws len(y) class-conditional samples (labels y) from the
// exact eps-model of mix with contrastive guidance (guide.Contrastive on the
// CenteredIdentity features, one batch) and returns them as (N, d) float64.
func SampleGuided(ctx context.Context, mix *Mixture, y []int, c GuidedConfig) ([]float64, error) {
	d := mix.Dim()
	center := make([]float32, d)
	for k, mu := range mix.Mu {
		for i, v := range mu {
			center[i] += float32(mix.Weight[k] * v)
		}
	}
	w := c.Window
	if w == (guide.Window{}) {
		w = guide.Window{Lo: 1, Hi: diffusion.DefaultT}
	}
	neg := guide.NegativesAll
	if c.ClassAware {
		neg = guide.NegativesOtherClass
	}
	model := &guide.Contrastive{Model: mix, Net: &CenteredIdentity{Center: center}, Loss: c.Loss,
		Lambda: c.Lambda, Window: w, Negatives: neg, Observe: c.Observe}
	sch := diffusion.Linear(diffusion.DefaultT, 1e-4, 0.02) // the papers' linear schedule
	x32, err := diffusion.Sample(ctx, model, y, diffusion.Config{
		Schedule: sch, Sampler: diffusion.DDIM(0), Timesteps: diffusion.Timesteps(diffusion.DefaultT, c.Steps, diffusion.Even),
		Seed: c.Seed,
	})
	if err != nil {
		return nil, fmt.Errorf("sim: guided sampling: %w", err)
	}
	x := make([]float64, len(x32))
	for i, v := range x32 {
		x[i] = float64(v)
	}
	return x, nil
}

// ClassStats returns the per-class empirical means (K, d) and per-coordinate
// standard deviations (K) of a labelled sample x (N, d).
func ClassStats(x []float64, y []int, k int) (mu [][]float64, sigma []float64) {
	n := len(y)
	d := len(x) / n
	mu = make([][]float64, k)
	sigma = make([]float64, k)
	count := make([]float64, k)
	for c := range mu {
		mu[c] = make([]float64, d)
	}
	for i, c := range y {
		count[c]++
		for j := range d {
			mu[c][j] += x[i*d+j]
		}
	}
	for c := range mu {
		for j := range mu[c] {
			mu[c][j] /= math.Max(count[c], 1)
		}
	}
	for i, c := range y {
		for j := range d {
			v := x[i*d+j] - mu[c][j]
			sigma[c] += v * v
		}
	}
	for c := range sigma {
		sigma[c] = math.Sqrt(sigma[c] / math.Max((count[c]-1)*float64(d), 1))
	}
	return mu, sigma
}

// classMeanError returns the root mean square over classes of ||m_k - mu_k||.
func classMeanError(m, mu [][]float64) float64 {
	var s float64
	for k := range mu {
		for j := range mu[k] {
			v := m[k][j] - mu[k][j]
			s += v * v
		}
	}
	return math.Sqrt(s / float64(len(mu)))
}

// mixtureMeans returns K means of norm r: on a circle in the first two
// coordinates when d < K, else along the first K axes.
func mixtureMeans(k, d int, r float64) [][]float64 {
	mu := make([][]float64, k)
	for c := range mu {
		mu[c] = make([]float64, d)
		if d < k {
			a := 2 * math.Pi * float64(c) / float64(k)
			mu[c][0], mu[c][1] = r*math.Cos(a), r*math.Sin(a)
		} else {
			mu[c][c] = r
		}
	}
	return mu
}

func guidedParams(k, d, r, sigma, lambdaMax float64) []Param {
	return []Param{
		{Name: "K", Description: "classes (mixture components)", Default: k, Min: 2, Max: 20, Integer: true},
		{Name: "d", Description: "dimension (means on a circle if d < K, else along the axes)", Default: d, Min: 2, Max: 1000, Integer: true},
		{Name: "r", Description: "norm of every class mean", Default: r, Min: 0, Max: 100},
		{Name: "sigma", Description: "per-coordinate standard deviation of every component", Default: sigma, Min: 1e-3, Max: 100},
		{Name: "n", Description: "samples per run (one batch, labels round-robin; a multiple of K)", Default: 120, Min: 4, Max: 4096, Integer: true},
		{Name: "steps", Description: "DDIM steps (eta = 0) over T = 1000", Default: 100, Min: 2, Max: 1000, Integer: true},
		{Name: "lambdaMax", Description: "largest guidance scale lambda", Default: lambdaMax, Min: 0, Max: 1e7},
		{Name: "lambdas", Description: "values of lambda (linear from 0)", Default: 6, Min: 2, Max: 100, Integer: true},
		{Name: "loss", Description: "contrastive loss: 0 InfoNCE (tau 0.1), 1 hard-negative mining (t 10, the authors' default)", Default: 1, Min: 0, Max: 1, Integer: true},
		{Name: "classAware", Description: "negatives only from other classes (1) or every other item (0)", Default: 1, Min: 0, Max: 1, Integer: true},
		{Name: "tLo", Description: "first guided timestep (window lo, 1..1000)", Default: 1, Min: 1, Max: 1000, Integer: true},
		{Name: "tHi", Description: "last guided timestep (window hi, 1..1000)", Default: 150, Min: 1, Max: 1000, Integer: true},
		{Name: "eps", Description: "l_inf radius of the robust accuracy", Default: 0.1, Min: 0, Max: 10},
		{Name: "reps", Description: "sampling runs per lambda", Default: 8, Min: 2, Max: 1000, Integer: true},
		{Name: "test", Description: "real test points per trained classifier", Default: 2000, Min: 10, Max: 1e6, Integer: true},
	}
}

func init() {
	desc := "contrastive guidance (guide.Contrastive on centred identity features) on the exact eps-model of a Gaussian mixture, DDIM: " +
		"lambda against the minimum pairwise separation of the generated classes, their spread, and the l_inf robust accuracy (on the real mixture) " +
		"of the nearest-mean classifier trained on them"
	outputs := []string{"separation: generated (Monte Carlo), n real samples (Monte Carlo)", "spread and class-mean error: within-class std s and rms ||m_k - mu_k|| of generated (Monte Carlo) and n real samples (Monte Carlo)",
		"accuracy: trained on generated (Monte Carlo), trained on n real samples (Monte Carlo)",
		"loss: generated (Monte Carlo), the contrastive loss at the last guided step"}
	register(&Experiment{Name: "guided2d", Description: desc + "; default: 3 classes in 2-D", Params: guidedParams(3, 2, 1.5, 0.6, 40000), Outputs: outputs, run: runGuided})
	register(&Experiment{Name: "guidedhd", Description: desc + "; default: 4 classes in 16-D", Params: guidedParams(4, 16, 2, 1, 200000), Outputs: outputs, run: runGuided})
}

func runGuided(p Values, seed uint64, prog *progress) (*Result, error) {
	k, d, n := p.Int("K"), p.Int("d"), p.Int("n")
	if p.Int("tLo") > p.Int("tHi") {
		return nil, fmt.Errorf("sim: guided: tLo (%d) must not exceed tHi (%d)", p.Int("tLo"), p.Int("tHi"))
	}
	if n < 2*k || n%k != 0 {
		return nil, fmt.Errorf("sim: guided: n (%d) must be a multiple of K (%d), at least 2K", n, k)
	}
	mu := mixtureMeans(k, d, p.Float("r"))
	sig := constVec(k, p.Float("sigma"))
	mix := NewMixture(mu, sig)
	re := KClass{Mu: mu, Sigma: sig}
	y := make([]int, n)
	for i := range y {
		y[i] = i % k
	}
	var loss guide.Loss = guide.DefaultInfoNCE()
	if p.Int("loss") == 1 {
		loss = guide.DefaultHNM()
	}
	lambdas := linspace(0, p.Float("lambdaMax"), p.Int("lambdas"))
	reps, eps, test := p.Int("reps"), p.Float("eps"), p.Int("test")
	prog.add(len(lambdas)*reps + reps)
	var sepE, sprE, accE, lossE, biasE []Estimate
	for li, lam := range lambdas {
		sep, spr, acc, lossEnd, bias := make([]float64, reps), make([]float64, reps), make([]float64, reps), make([]float64, reps), make([]float64, reps)
		for r := range reps {
			x, err := SampleGuided(context.Background(), mix, y, GuidedConfig{
				Steps: p.Int("steps"), Lambda: lam, Loss: loss, ClassAware: p.Int("classAware") == 1,
				Window: guide.Window{Lo: p.Int("tLo"), Hi: p.Int("tHi")}, Seed: seed + uint64(r)*0x9e3779b9,
				Observe: func(_ diffusion.Step, l float64) { lossEnd[r] = l },
			})
			if err != nil {
				return nil, err
			}
			gm, gs := ClassStats(x, y, k)
			sep[r] = KClass{Mu: gm, Sigma: gs}.MinPairwise().Separation
			var s float64
			for _, v := range gs {
				s += v / float64(k)
			}
			spr[r] = s
			bias[r] = classMeanError(gm, mu)
			acc[r] = re.AccuracyMC(NearestMean(x, y, k), Linf, eps, pointRNG(seed, 1000+li, r), test).Mean
			prog.step()
		}
		sepE, sprE, accE = append(sepE, NewEstimate(sep)), append(sprE, NewEstimate(spr)), append(accE, NewEstimate(acc))
		lossE, biasE = append(lossE, NewEstimate(lossEnd)), append(biasE, NewEstimate(bias))
	}
	// Reference: the same statistics of n real samples, and the classifier trained on them.
	realSep, realSpr, realAcc, realBias := make([]float64, reps), make([]float64, reps), make([]float64, reps), make([]float64, reps)
	for r := range reps {
		rng := pointRNG(seed, 2000, r)
		x, yy := re.SamplePerClass(rng, n/k)
		gm, gs := ClassStats(x, yy, k)
		realSep[r] = KClass{Mu: gm, Sigma: gs}.MinPairwise().Separation
		for _, v := range gs {
			realSpr[r] += v / float64(k)
		}
		realBias[r] = classMeanError(gm, mu)
		realAcc[r] = re.AccuracyMC(NearestMean(x, yy, k), Linf, eps, rng, test).Mean
		prog.step()
	}
	flat := func(name string, vals []float64) Series {
		e := NewEstimate(vals)
		s := mcSeries(name, lambdas, make([]Estimate, len(lambdas)))
		for i := range lambdas {
			s.Y[i] = e.Mean
		}
		s.Lo, s.Hi = constVec(len(lambdas), e.Mean), constVec(len(lambdas), e.Mean)
		if lo, hi := e.CI(1.96); !math.IsInf(lo, 0) {
			s.Lo, s.Hi = constVec(len(lambdas), lo), constVec(len(lambdas), hi)
		}
		return s
	}
	return &Result{Panels: []Panel{
		{Title: "separation", XLabel: "guidance scale lambda", YLabel: "min pairwise separation ||m_a - m_b|| / s",
			Series: []Series{mcSeries("generated (Monte Carlo)", lambdas, sepE), flat("n real samples (Monte Carlo)", realSep)}},
		{Title: "spread and class-mean error", XLabel: "guidance scale lambda", YLabel: "within-class std s; rms ||m_k - mu_k||",
			Series: []Series{mcSeries("spread s, generated (Monte Carlo)", lambdas, sprE), flat("spread s, n real samples (Monte Carlo)", realSpr),
				mcSeries("class-mean error, generated (Monte Carlo)", lambdas, biasE), flat("class-mean error, n real samples (Monte Carlo)", realBias)}},
		{Title: "accuracy", XLabel: "guidance scale lambda", YLabel: "l_inf robust accuracy on the real mixture",
			Series: []Series{mcSeries("trained on generated (Monte Carlo)", lambdas, accE), flat("trained on n real samples (Monte Carlo)", realAcc)}},
		{Title: "loss", XLabel: "guidance scale lambda", YLabel: "contrastive loss at the last guided step",
			Series: []Series{mcSeries("generated (Monte Carlo)", lambdas, lossE)}},
	}}, nil
}
