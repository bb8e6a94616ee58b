package guide

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/core/diffusion"
)

// linearNet is the feature network h = W x, W (Dh, Dx).
type linearNet struct {
	w      []float64
	dh, dx int
	n      int
}

func (l *linearNet) Features(x []float32, n int) ([]float32, int) {
	l.n = n
	h := make([]float32, n*l.dh)
	for i := 0; i < n; i++ {
		for a := 0; a < l.dh; a++ {
			var s float64
			for b := 0; b < l.dx; b++ {
				s += l.w[a*l.dx+b] * float64(x[i*l.dx+b])
			}
			h[i*l.dh+a] = float32(s)
		}
	}
	return h, l.dh
}

func (l *linearNet) InputGrad(dh []float32) []float32 {
	dx := make([]float32, l.n*l.dx)
	for i := 0; i < l.n; i++ {
		for b := 0; b < l.dx; b++ {
			var s float64
			for a := 0; a < l.dh; a++ {
				s += l.w[a*l.dx+b] * float64(dh[i*l.dh+a])
			}
			dx[i*l.dx+b] = float32(s)
		}
	}
	return dx
}

func newLinearNet(rng *rand.Rand, dh, dx int) *linearNet {
	l := &linearNet{dh: dh, dx: dx, w: make([]float64, dh*dx)}
	for i := range l.w {
		l.w[i] = rng.NormFloat64()
	}
	return l
}

// mixtureModel is the exact class-conditional eps-model of the Gaussian
// mixture with class means mu[k] and variance s^2: given y = k the noised
// data is N(sqrt(aBar) mu_k, (aBar s^2 + 1 - aBar) I).
type mixtureModel struct {
	mu [][]float64
	s  float64
}

func (m *mixtureModel) Dim() int { return len(m.mu[0]) }

func (m *mixtureModel) Eps(eps, x []float32, y []int, st diffusion.Step) error {
	a, d := st.AlphaBar, m.Dim()
	v := a*m.s*m.s + 1 - a
	r := make([]float64, len(m.mu))
	for i, k := range y {
		if k < 0 { // unconditional: the equal-weight mixture, weights r_k
			var lmax = math.Inf(-1)
			for c, mu := range m.mu {
				var q float64
				for j := 0; j < d; j++ {
					e := float64(x[i*d+j]) - math.Sqrt(a)*mu[j]
					q += e * e
				}
				r[c] = -q / (2 * v)
				lmax = math.Max(lmax, r[c])
			}
			var sum float64
			for c := range r {
				r[c] = math.Exp(r[c] - lmax)
				sum += r[c]
			}
			for j := 0; j < d; j++ {
				var mean float64
				for c, mu := range m.mu {
					mean += r[c] / sum * mu[j]
				}
				eps[i*d+j] = float32((float64(x[i*d+j]) - math.Sqrt(a)*mean) * math.Sqrt(1-a) / v)
			}
			continue
		}
		for j := 0; j < d; j++ {
			eps[i*d+j] = float32((float64(x[i*d+j]) - math.Sqrt(a)*m.mu[k][j]) * math.Sqrt(1-a) / v)
		}
	}
	return nil
}

func TestContrastiveGradient(t *testing.T) {
	const n, dx, dh = 6, 5, 3
	rng := rand.New(rand.NewPCG(5, 6))
	net := newLinearNet(rng, dh, dx)
	model := &mixtureModel{mu: [][]float64{{1, 0, 0, 1, 0}, {0, -1, 1, 0, 0}, {0, 0, 0, 0, 2}}, s: 0.3}
	y := []int{0, 1, 2, 0, 1, 2}
	sch := diffusion.Linear(1000, 1e-4, 0.02)
	randx := func() []float32 {
		x := make([]float32, n*dx)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	first := diffusion.Step{T: 120, Next: 110, AlphaBar: sch.AlphaBar[120], AlphaBarNext: sch.AlphaBar[110], Index: 0, Steps: 5}
	second := diffusion.Step{T: 110, Next: 100, AlphaBar: sch.AlphaBar[110], AlphaBarNext: sch.AlphaBar[100], Index: 1, Steps: 5}
	for _, tc := range []struct {
		name string
		loss Loss
		in   Input
		neg  Negatives
		head Head
	}{
		{"HNM/xt", DefaultHNM(), InputXt, NegativesAll, nil},
		{"HNM/x0hat/other-class", HNM{T: 0.5, TauPlus: 0.1, Beta: 1}, InputX0hat, NegativesOtherClass, nil},
		{"InfoNCE/xt/other-class", DefaultInfoNCE(), InputXt, NegativesOtherClass, nil},
		{"InfoNCE/x0hat", DefaultInfoNCE(), InputX0hat, NegativesAll, nil},
		{"HNM/xt/head", HNM{T: 0.5, TauPlus: 0.1, Beta: 1}, InputXt, NegativesAll, NewMLPHead(dh, 8, 4, rand.New(rand.NewPCG(2, 2)))},
		{"InfoNCE/x0hat/head", DefaultInfoNCE(), InputX0hat, NegativesOtherClass, NewMLPHead(dh, 8, 4, rand.New(rand.NewPCG(3, 3)))},
	} {
		c := &Contrastive{Model: model, Net: net, Head: tc.head, Loss: tc.loss, Lambda: 1, Window: Window{1, 1000}, Input: tc.in, Negatives: tc.neg}
		eps := make([]float32, n*dx)
		if err := c.Eps(eps, randx(), y, first); err != nil { // caches the positives
			t.Fatal(err)
		}
		x := randx()
		eps0 := make([]float32, n*dx)
		model.Eps(eps0, x, y, second)
		dxGot := make([]float32, n*dx)
		c.Gradient(dxGot, x, eps0, y, second)
		// Eps adds Lambda times the same gradient to the model's eps.
		c.Lambda = 3
		saved := c.prev
		if err := c.Eps(eps, x, y, second); err != nil {
			t.Fatal(err)
		}
		c.prev = saved
		var gmax float64
		for i := range eps {
			if math.Abs(float64(eps[i]-eps0[i]-3*dxGot[i])) > 1e-5*(1+math.Abs(float64(eps0[i]))) {
				t.Fatalf("%s: eps' - eps = %v, want 3 * %v", tc.name, eps[i]-eps0[i], dxGot[i])
			}
			gmax = math.Max(gmax, math.Abs(float64(dxGot[i])))
		}
		if gmax == 0 {
			t.Fatalf("%s: zero gradient", tc.name)
		}
		// Central differences of L(x) with eps held fixed.
		for i := range x {
			old := x[i]
			x[i] = old + 1e-2
			hp := float64(x[i]) - float64(old)
			lp := c.Gradient(nil, x, eps0, y, second)
			x[i] = old - 1e-2
			hm := float64(old) - float64(x[i])
			lm := c.Gradient(nil, x, eps0, y, second)
			x[i] = old
			fd := (lp - lm) / (hp + hm)
			if math.Abs(fd-float64(dxGot[i])) > 2e-2*gmax+1e-5 {
				t.Errorf("%s: dL/dx[%d] = %.6g, finite difference %.6g", tc.name, i, dxGot[i], fd)
			}
		}
	}
}

func TestContrastiveWindowAndCache(t *testing.T) {
	const n, dx = 4, 3
	rng := rand.New(rand.NewPCG(1, 1))
	model := &mixtureModel{mu: [][]float64{{1, 0, 0}, {0, 1, 0}}, s: 0.5}
	var guidedT []int
	c := &Contrastive{Model: model, Net: newLinearNet(rng, 2, dx), Loss: DefaultHNM(), Lambda: 10,
		Window: Window{Lo: 52, Hi: 150}, Observe: func(s diffusion.Step, _ float64) { guidedT = append(guidedT, s.T) }}
	sch := diffusion.Linear(1000, 1e-4, 0.02)
	ts := diffusion.Timesteps(1000, 100, diffusion.Even)
	y := []int{0, 1, 0, 1}
	// Two batches: the cache must not leak from one to the next.
	if _, err := diffusion.Sample(context.Background(), c, append(y, y...), diffusion.Config{Schedule: sch, Sampler: diffusion.DDIM(0), Timesteps: ts, Batch: n, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, tt := range ts {
		if tt >= 52 && tt <= 150 {
			want = append(want, tt)
		}
	}
	if len(guidedT) != 2*len(want) {
		t.Fatalf("guided at %v, want %v twice", guidedT, want)
	}
	for i, tt := range guidedT {
		if tt != want[i%len(want)] {
			t.Fatalf("guided at %v, want %v twice", guidedT, want)
		}
	}
	// A window that covers the first step does not guide it (no positive yet).
	guidedT = nil
	c.Window = Window{1, 1000}
	if _, err := diffusion.Sample(context.Background(), c, y, diffusion.Config{Schedule: sch, Sampler: diffusion.DDIM(0), Timesteps: ts[:5], Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if len(guidedT) != 4 || guidedT[0] != ts[1] {
		t.Fatalf("guided at %v, want %v", guidedT, ts[1:5])
	}
}

// TestGuidanceLowersLoss samples the same seed with Lambda = 0 and Lambda > 0
// on an exact Gaussian-mixture eps-model and compares the contrastive loss
// measured along the guided steps.
func TestGuidanceLowersLoss(t *testing.T) {
	const n, dx, dh = 12, 4, 3
	model := &mixtureModel{mu: [][]float64{{1, 1, 0, 0}, {-1, 0, 1, 0}, {0, -1, 0, 1}}, s: 0.4}
	y := make([]int, n)
	for i := range y {
		y[i] = i % 3
	}
	sch := diffusion.Linear(1000, 1e-4, 0.02)
	ts := diffusion.Timesteps(1000, 50, diffusion.Even)
	for _, tc := range []struct {
		name   string
		loss   Loss
		lambda float64
		in     Input
		neg    Negatives
	}{
		{"HNM", DefaultHNM(), 300, InputXt, NegativesAll},
		{"HNM/x0hat/other-class", DefaultHNM(), 30, InputX0hat, NegativesOtherClass},
		// Small steps: with Lambda 0.3 InfoNCE (tau = 0.1) overshoots and
		// the loss at the following steps rises.
		{"InfoNCE", DefaultInfoNCE(), 0.03, InputXt, NegativesAll},
		{"InfoNCE/other-class", DefaultInfoNCE(), 0.03, InputXt, NegativesOtherClass},
	} {
		run := func(lambda float64) (mean float64, out []float32) {
			var sum float64
			var count int
			c := &Contrastive{Model: model, Net: newLinearNet(rand.New(rand.NewPCG(7, 7)), dh, dx), Loss: tc.loss, Lambda: lambda,
				Window: Window{1, 1000}, Input: tc.in, Negatives: tc.neg,
				Observe: func(s diffusion.Step, l float64) {
					if s.Index > 1 { // the first guided step is identical in both runs
						sum += l
						count++
					}
				}}
			x, err := diffusion.Sample(context.Background(), c, y, diffusion.Config{Schedule: sch, Sampler: diffusion.DDPM, Timesteps: ts, Seed: 11})
			if err != nil {
				t.Fatal(err)
			}
			return sum / float64(count), x
		}
		l0, x0 := run(0)
		l1, x1 := run(tc.lambda)
		t.Logf("%s: mean loss along the trajectory %.6f unguided, %.6f with lambda %g", tc.name, l0, l1, tc.lambda)
		if !(l1 < l0) {
			t.Errorf("%s: guidance did not lower the loss: %.6f -> %.6f", tc.name, l0, l1)
		}
		var moved float64
		for i := range x0 {
			moved = math.Max(moved, math.Abs(float64(x1[i]-x0[i])))
		}
		if moved == 0 {
			t.Errorf("%s: guidance did not change the samples", tc.name)
		}
		// The final samples are further apart in feature space.
		net := newLinearNet(rand.New(rand.NewPCG(7, 7)), dh, dx)
		d0, d1 := meanPairwiseDistance(net, x0, n), meanPairwiseDistance(net, x1, n)
		t.Logf("%s: mean pairwise feature distance of the final samples %.5f unguided, %.5f guided", tc.name, d0, d1)
		if !(d1 > d0) {
			t.Errorf("%s: guidance did not raise the mean pairwise feature distance: %.5f -> %.5f", tc.name, d0, d1)
		}
	}
}

// meanPairwiseDistance is the mean L2 distance between the features of all
// pairs of the n items of x.
func meanPairwiseDistance(net FeatureNet, x []float32, n int) float64 {
	h, d := net.Features(x, n)
	var sum float64
	pairs := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			var q float64
			for k := 0; k < d; k++ {
				e := float64(h[i*d+k] - h[j*d+k])
				q += e * e
			}
			sum += math.Sqrt(q)
			pairs++
		}
	}
	return sum / float64(pairs)
}

func TestOnlineHead(t *testing.T) {
	const n, dx, dh = 8, 4, 3
	rng := rand.New(rand.NewPCG(8, 8))
	model := &mixtureModel{mu: [][]float64{{1, 0, 0, 0}, {0, 1, 0, 0}}, s: 0.3}
	head := NewMLPHead(dh, 16, 8, rand.New(rand.NewPCG(4, 4)))
	head.Online(1e-2)
	c := &Contrastive{Model: model, Net: newLinearNet(rng, dh, dx), Head: head, Loss: HNM{T: 0.5, TauPlus: 0.1, Beta: 1},
		Lambda: 2, Window: Window{1, 1000}}
	y := []int{0, 1, 0, 1, 0, 1, 0, 1}
	sch := diffusion.Linear(1000, 1e-4, 0.02)
	step := func(t, k int) diffusion.Step {
		return diffusion.Step{T: t, Next: t - 10, AlphaBar: sch.AlphaBar[t], AlphaBarNext: sch.AlphaBar[t-10], Index: k, Steps: 10}
	}
	randx := func() []float32 {
		x := make([]float32, n*dx)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	eps := make([]float32, n*dx)
	if err := c.Eps(eps, randx(), y, step(100, 0)); err != nil {
		t.Fatal(err)
	}
	saved := c.prev
	x := randx()
	eps0 := make([]float32, n*dx)
	model.Eps(eps0, x, y, step(90, 1))
	grad := make([]float32, n*dx)
	w0 := append([]float32(nil), head.P.W...)
	l0 := c.Gradient(grad, x, eps0, y, step(90, 1))
	for i := range w0 {
		if head.P.W[i] != w0[i] {
			t.Fatal("Gradient changed the online head")
		}
	}
	if err := c.Eps(eps, x, y, step(90, 1)); err != nil {
		t.Fatal(err)
	}
	// The guidance used the weights before the update ...
	for i := range eps {
		if math.Abs(float64(eps[i]-eps0[i]-2*grad[i])) > 1e-5*(1+math.Abs(float64(eps0[i]))) {
			t.Fatalf("eps' - eps = %v, want 2 * %v", eps[i]-eps0[i], grad[i])
		}
	}
	// ... then the head took one Adam step that lowers the loss on that batch.
	changed := false
	for i := range w0 {
		changed = changed || head.P.W[i] != w0[i]
	}
	if !changed {
		t.Fatal("online head did not learn")
	}
	c.prev = saved
	if l1 := c.Gradient(nil, x, eps0, y, step(90, 1)); !(l1 < l0) {
		t.Fatalf("loss %v before the head's step, %v after", l0, l1)
	}
	// A fixed head never changes.
	fixed := NewMLPHead(dh, 16, 8, rand.New(rand.NewPCG(4, 4)))
	c.Head = fixed
	w1 := append([]float32(nil), fixed.P.W...)
	c.Eps(eps, randx(), y, step(100, 0))
	c.Eps(eps, randx(), y, step(90, 1))
	for i := range w1 {
		if fixed.P.W[i] != w1[i] || w1[i] != w0[i] {
			t.Fatal("fixed head changed, or seeded heads differ")
		}
	}
}

// TestContrastiveWiring checks that the wrapper feeds the loss the
// normalised features of x_t (anchors) and of the previous step's x
// (positives), and the labels only for class-aware negatives.
func TestContrastiveWiring(t *testing.T) {
	const n, dx, dh = 6, 4, 3
	rng := rand.New(rand.NewPCG(12, 13))
	net := newLinearNet(rng, dh, dx)
	model := &mixtureModel{mu: [][]float64{{1, 0, 0, 0}, {0, 1, 0, 0}}, s: 0.5}
	y := []int{0, 1, 0, 1, 1, 0}
	sch := diffusion.Linear(1000, 1e-4, 0.02)
	first := diffusion.Step{T: 120, Next: 110, AlphaBar: sch.AlphaBar[120], AlphaBarNext: sch.AlphaBar[110], Index: 0, Steps: 5}
	second := diffusion.Step{T: 110, Next: 100, AlphaBar: sch.AlphaBar[110], AlphaBarNext: sch.AlphaBar[100], Index: 1, Steps: 5}
	x1, x2 := make([]float32, n*dx), make([]float32, n*dx)
	for i := range x1 {
		x1[i], x2[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	feat := func(x []float32) []float32 {
		h, _ := net.Features(x, n)
		z := make([]float32, n*dh)
		Normalize(z, h, n, dh)
		return z
	}
	zp, z := feat(x1), feat(x2)
	loss := DefaultInfoNCE()
	for _, neg := range []Negatives{NegativesAll, NegativesOtherClass} {
		var classes []int
		if neg == NegativesOtherClass {
			classes = y
		}
		want := loss.Loss(z, zp, n, dh, classes, nil, nil)
		var got float64
		c := &Contrastive{Model: model, Net: net, Loss: loss, Window: Window{1, 1000}, Negatives: neg,
			Observe: func(_ diffusion.Step, l float64) { got = l }}
		eps := make([]float32, n*dx)
		c.Eps(eps, x1, y, first)
		c.Eps(eps, x2, y, second)
		if math.Abs(got-want) > 1e-6 {
			t.Errorf("negatives %d: observed loss %v, want %v", neg, got, want)
		}
	}
	if a, b := loss.Loss(z, zp, n, dh, nil, nil, nil), loss.Loss(z, zp, n, dh, y, nil, nil); a == b {
		t.Fatalf("class-aware negatives do not change the loss (%v)", a)
	}
}
