package guide

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/core/diffusion"
)

// linearClassifier has logits = W x + b, W (K, D): a linearNet with a bias.
type linearClassifier struct {
	linearNet
	b []float64
}

func (l *linearClassifier) Logits(x []float32, n int, _ diffusion.Step) ([]float32, int) {
	z, k := l.Features(x, n)
	for i := 0; i < n; i++ {
		for c := 0; c < k; c++ {
			z[i*k+c] = float32(float64(z[i*k+c]) + l.b[c])
		}
	}
	return z, k
}

// bayes returns the Bayes classifier of the equal-variance mixture at t = 0:
// logit_k = mu_k.x/s^2 - ||mu_k||^2/(2 s^2).
func bayes(m *mixtureModel) *linearClassifier {
	k, d := len(m.mu), len(m.mu[0])
	l := &linearClassifier{linearNet: linearNet{w: make([]float64, k*d), dh: k, dx: d}, b: make([]float64, k)}
	for c, mu := range m.mu {
		for j, v := range mu {
			l.w[c*d+j] = v / (m.s * m.s)
			l.b[c] -= v * v / (2 * m.s * m.s)
		}
	}
	return l
}

// nullLabels hides the labels from the model: an unconditional model.
type nullLabels struct{ diffusion.EpsModel }

func (u nullLabels) Eps(eps, x []float32, y []int, s diffusion.Step) error {
	null := make([]int, len(y))
	for i := range null {
		null[i] = diffusion.NullLabel
	}
	return u.EpsModel.Eps(eps, x, null, s)
}

func TestClassifierGradient(t *testing.T) {
	model := &mixtureModel{mu: [][]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, s: 0.7}
	net := bayes(model)
	c := &Classifier{Model: model, Net: net, Scale: 2.5, Window: Window{1, 1000}}
	rng := rand.New(rand.NewPCG(2, 3))
	const n, d = 4, 3
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := []int{0, 2, -1, 1}
	sch := diffusion.Linear(1000, 1e-4, 0.02)
	st := diffusion.Step{T: 300, Next: 290, AlphaBar: sch.AlphaBar[300], AlphaBarNext: sch.AlphaBar[290], Index: 3, Steps: 10}
	dx := make([]float32, n*d)
	c.LogProbGrad(dx, x, y, st)
	for i := range x {
		old := x[i]
		x[i] = old + 1e-2
		hp := float64(x[i]) - float64(old)
		lp := c.LogProbGrad(nil, x, y, st)
		x[i] = old - 1e-2
		hm := float64(old) - float64(x[i])
		lm := c.LogProbGrad(nil, x, y, st)
		x[i] = old
		if fd := (lp - lm) / (hp + hm); math.Abs(fd-float64(dx[i])) > 1e-3*(1+math.Abs(fd)) {
			t.Errorf("d log p/dx[%d] = %v, finite difference %v", i, dx[i], fd)
		}
		if i/d == 2 && dx[i] != 0 {
			t.Errorf("unlabelled item has gradient %v", dx[i])
		}
	}
	eps0, eps := make([]float32, n*d), make([]float32, n*d)
	model.Eps(eps0, x, y, st)
	c.Eps(eps, x, y, st)
	for i := range eps {
		want := float64(eps0[i]) - 2.5*math.Sqrt(1-st.AlphaBar)*float64(dx[i])
		if math.Abs(float64(eps[i])-want) > 1e-5 {
			t.Fatalf("eps'[%d] = %v, want %v", i, eps[i], want)
		}
	}
	// Outside the window nothing changes.
	c.Window = Window{1, 100}
	c.Eps(eps, x, y, st)
	for i := range eps {
		if eps[i] != eps0[i] {
			t.Fatal("guided outside the window")
		}
	}
}

// TestGuidanceRaisesLogProb samples an unconditional mixture with classifier
// guidance, and the conditional model with classifier-free guidance, and
// checks that the Bayes log-probability of the requested labels rises with
// the guidance strength on the same seed.
func TestGuidanceRaisesLogProb(t *testing.T) {
	model := &mixtureModel{mu: [][]float64{{1, 0}, {0, 1}, {-1, -1}}, s: 0.6}
	net := bayes(model)
	const n = 300
	y := make([]int, n)
	for i := range y {
		y[i] = i % 3
	}
	sch := diffusion.Linear(1000, 1e-4, 0.02)
	cfg := diffusion.Config{Schedule: sch, Sampler: diffusion.DDIM(0), Timesteps: diffusion.Timesteps(1000, 50, diffusion.Even), Seed: 5, Batch: 100}
	meanLogP := func(m diffusion.EpsModel) float64 {
		x, err := diffusion.Sample(context.Background(), m, y, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := &Classifier{Net: net}
		return c.LogProbGrad(nil, x, y, diffusion.Step{}) / n
	}
	uncond := nullLabels{model}
	prev := math.Inf(-1)
	for _, s := range []float64{0, 1, 3} {
		l := meanLogP(&Classifier{Model: uncond, Net: net, Scale: s, Window: Window{1, 1000}})
		t.Logf("classifier guidance scale %g: mean log p(y|x0) = %.4f", s, l)
		if !(l > prev) {
			t.Errorf("scale %g: mean log p(y|x0) %.4f, not above %.4f", s, l, prev)
		}
		prev = l
	}
	prev = math.Inf(-1)
	for _, w := range []float64{0, 1, 3} {
		l := meanLogP(&ClassifierFree{Model: model, W: w, Window: Window{1, 1000}})
		t.Logf("classifier-free W %g: mean log p(y|x0) = %.4f", w, l)
		if !(l > prev) {
			t.Errorf("W %g: mean log p(y|x0) %.4f, not above %.4f", w, l, prev)
		}
		prev = l
	}
	// The unguided unconditional model ignores the labels: chance level.
	if l := meanLogP(uncond); l > math.Log(0.6) {
		t.Errorf("unconditional samples already match their labels: %.4f", l)
	}
}
