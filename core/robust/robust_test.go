package robust

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/cdp-project/cdp/core/nn"
)

// randomInputs draws n points in [0, 1]^d, a quarter of the coordinates
// exactly on the box's faces.
func randomInputs(n, d int, rng *rand.Rand) []float32 {
	x := make([]float32, n*d)
	for i := range x {
		switch rng.IntN(8) {
		case 0:
			x[i] = 0
		case 1:
			x[i] = 1
		default:
			x[i] = rng.Float32()
		}
	}
	return x
}

// inBall reports whether every row of xa lies in the eps-ball around x
// (float32 differences, as an attacker would be checked) and in [0, 1].
func inBall(xa, x []float32, d int, p Norm, eps float32) (bool, float64) {
	dist := distance(xa, x, d, p)
	return dist <= float64(eps) && inBox(xa), dist
}

func allAttacks(p Norm, eps float32, shape [3]int) []Attack {
	a := []Attack{
		FGSM{Norm: p, Eps: eps},
		PGD{Norm: p, Eps: eps, Steps: 5, Restarts: 2, Loss: CE},
		PGD{Norm: p, Eps: eps, Steps: 5, Loss: Margin, Alpha: 3 * eps},
		APGD{Norm: p, Eps: eps, Steps: 10, Loss: CE},
		APGD{Norm: p, Eps: eps, Steps: 10, Loss: DLR},
		APGDT{Norm: p, Eps: eps, Steps: 10, Targets: 3},
	}
	if p == Linf {
		a = append(a, &Square{Eps: eps, Queries: 60, Shape: shape})
	}
	return a
}

// TestAttacksStayInBall is the property test: over random MLPs and random
// inputs, every attack's output lies in the eps-ball and in [0, 1], and
// never has a larger margin than x itself when it reports x unchanged.
func TestAttacksStayInBall(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 6 {
		c, h, w := 1+rng.IntN(2), 2+rng.IntN(3), 2+rng.IntN(3)
		d := c * h * w
		k := 2 + rng.IntN(5)
		m := newMLP(d, 8+rng.IntN(8), k, rng)
		n := 5
		x := randomInputs(n, d, rng)
		y := make([]int, n)
		for i := range y {
			y[i] = rng.IntN(k)
		}
		for _, p := range []Norm{Linf, L2} {
			eps := float32(0.05 + 0.5*rng.Float64())
			if p == L2 {
				eps *= 3
			}
			for _, atk := range allAttacks(p, eps, [3]int{c, h, w}) {
				xa := atk.Perturb(m, x, y, rng)
				if ok, dist := inBall(xa, x, d, p, eps); !ok {
					t.Errorf("trial %d: %s (%v, eps %g) left the ball or box: distance %g", trial, atk.Name(), p, eps, dist)
				}
			}
			for _, xa := range [][]float32{
				PGDExample(m, x, y, p, eps, eps/4, 5, rng),
				TRADESExample(m, x, n, p, eps, eps/4, 5, rng),
			} {
				if ok, dist := inBall(xa, x, d, p, eps); !ok {
					t.Errorf("trial %d: training example (%v, eps %g) left the ball or box: distance %g", trial, p, eps, dist)
				}
			}
		}
	}
}

// TestEvaluateEpsZero: at eps = 0 no attack can move a point, so the robust
// accuracy equals the clean accuracy; for eps > 0 it never exceeds it, the
// cumulative figures never increase, and the result is the per-point worst
// case.
func TestEvaluateEpsZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for trial := range 4 {
		const d = 9
		k := 3 + trial
		m := newMLP(d, 10, k, rng)
		n := 40
		x := randomInputs(n, d, rng)
		y := Predict(m.Logits(x, n), n, k) // most points correct ...
		for i := 0; i < n; i += 4 {
			y[i] = rng.IntN(k) // ... some not
		}
		for _, p := range []Norm{Linf, L2} {
			for _, eps := range []float32{0, 0.1, 0.5} {
				attacks := allAttacks(p, eps, [3]int{1, 3, 3})
				r := Evaluate(m, x, y, Config{Norm: p, Eps: eps, Seed: uint64(trial), BatchSize: 16, Attacks: attacks})
				cleanAcc, _ := Accuracy(m, x, y, 0)
				if r.CleanAcc != cleanAcc {
					t.Errorf("clean acc %g, Accuracy %g", r.CleanAcc, cleanAcc)
				}
				if eps == 0 && r.RobustAcc != r.CleanAcc {
					t.Errorf("trial %d %v: eps 0 robust acc %g != clean acc %g", trial, p, r.RobustAcc, r.CleanAcc)
				}
				if r.RobustAcc > r.CleanAcc {
					t.Errorf("trial %d %v eps %g: robust %g > clean %g", trial, p, eps, r.RobustAcc, r.CleanAcc)
				}
				prev := r.CleanAcc
				for _, a := range r.Attacks {
					if a.RobustAcc > prev {
						t.Errorf("%s: cumulative robust acc rose from %g to %g", a.Name, prev, a.RobustAcc)
					}
					prev = a.RobustAcc
				}
				if prev != r.RobustAcc {
					t.Errorf("last attack %g, overall %g", prev, r.RobustAcc)
				}
				// The record agrees with a fresh evaluation of XAdv.
				accAdv, okAdv := Accuracy(m, r.XAdv, y, 0)
				if accAdv != r.RobustAcc || !reflect.DeepEqual(okAdv, r.Robust) {
					t.Errorf("XAdv accuracy %g, reported %g", accAdv, r.RobustAcc)
				}
				if ok, dist := inBall(r.XAdv, x, d, p, eps); !ok || r.MaxPerturb > float64(eps) {
					t.Errorf("XAdv distance %g (reported %g) > eps %g", dist, r.MaxPerturb, eps)
				}
			}
		}
	}
}

// TestPGDLinearOptimum: for a binary linear model the margin
// m(x) = z_1 - z_0 = v.x + c is separable, so its minimum over the l_inf
// ball and the box is attained at x_j - eps sign(v_j) clipped to [0, 1];
// over the l_2 ball (kept off the box faces) at x - eps v/||v||.
func TestPGDLinearOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const d, n = 20, 30
	l := &linear{d: d, k: 2, w: make([]float32, 2*d), b: []float32{0.1, -0.2}}
	for i := range l.w {
		l.w[i] = float32(rng.NormFloat64())
	}
	v := make([]float64, d)
	vn := 0.0
	for j := range v {
		v[j] = float64(l.w[d+j]) - float64(l.w[j])
		vn += v[j] * v[j]
	}
	vn = math.Sqrt(vn)
	c := float64(l.b[1]) - float64(l.b[0])
	marg := func(x []float32) float64 {
		s := c
		for j := range v {
			s += v[j] * float64(x[j])
		}
		return s
	}
	y := make([]int, n)
	for i := range y {
		y[i] = 1
	}
	for _, p := range []Norm{Linf, L2} {
		var x []float32
		var eps float32
		if p == Linf {
			x, eps = randomInputs(n, d, rng), 0.15 // faces bind
		} else {
			x, eps = make([]float32, n*d), 0.25
			for i := range x {
				x[i] = 0.3 + 0.4*rng.Float32() // interior: |step_j| <= eps < 0.3
			}
		}
		for _, loss := range []Loss{CE, Margin} {
			atk := PGD{Norm: p, Eps: eps, Steps: 20, Loss: loss}
			if p == L2 {
				// The projection onto the sphere shrinks the component
				// orthogonal to v by about 1/(1 + Alpha/eps) a step.
				atk.Steps, atk.Alpha = 60, eps/2
			}
			xa := atk.Perturb(l, x, y, rng)
			for i := range n {
				xi := x[i*d : (i+1)*d]
				var opt float64
				if p == Linf {
					xs := make([]float32, d)
					for j := range xs {
						s := float64(xi[j]) - float64(eps)*math.Copysign(1, v[j])
						xs[j] = float32(min(max(s, 0), 1))
					}
					opt = marg(xs)
				} else {
					opt = marg(xi) - float64(eps)*vn
				}
				got := marg(xa[i*d : (i+1)*d])
				if got < opt-1e-4 || got > opt+1e-4*(1+math.Abs(opt)) {
					t.Errorf("%v %v point %d: PGD margin %.6f, optimum %.6f (clean %.6f)", p, loss, i, got, opt, marg(xi))
				}
			}
		}
	}
}

// TestAPGDStrongerThanPGD compares, with the same budget (10 gradient
// steps, one start, 3 seeds), APGD-CE with PGD-CE at the usual step sizes on
// a trained MLP: APGD's robust accuracy must not exceed PGD's, nor its mean
// margin z_y - max_{j != y} z_j at its points (within 1%).
func TestAPGDStrongerThanPGD(t *testing.T) {
	m, x, y := trainedMLP(t)
	n, k := len(y), m.k
	clean, _ := Accuracy(m, x, y, 0)
	if clean < 0.85 {
		t.Fatalf("the trained MLP reaches only %.3f clean accuracy", clean)
	}
	const steps = 10
	strength := func(a Attack) (acc, meanMargin float64) {
		for seed := range 3 {
			xa := a.Perturb(m, x, y, rand.New(rand.NewPCG(17, uint64(seed))))
			r, _ := Accuracy(m, xa, y, 0)
			acc += r / 3
			z := m.Logits(xa, n)
			for i := range n {
				v, _ := margin(z[i*k:(i+1)*k], y[i])
				meanMargin += float64(v) / float64(3*n)
			}
		}
		return acc, meanMargin
	}
	for _, p := range []Norm{Linf, L2} {
		eps := float32(0.05)
		if p == L2 {
			eps = 0.2
		}
		apgd, apgdM := strength(APGD{Norm: p, Eps: eps, Steps: steps, Loss: CE})
		if apgd > clean-0.1 {
			t.Errorf("%v: APGD-CE barely hurt the model: clean %.3f, robust %.3f", p, clean, apgd)
		}
		for _, alpha := range []float32{eps / 10, eps / 4, eps / 2} {
			pgd, pgdM := strength(PGD{Norm: p, Eps: eps, Steps: steps, Alpha: alpha, Loss: CE})
			t.Logf("%v eps %g, n %d, clean %.3f: PGD-%d (alpha %.4f) acc %.4f margin %.4f; APGD-CE-%d acc %.4f margin %.4f",
				p, eps, n, clean, steps, alpha, pgd, pgdM, steps, apgd, apgdM)
			// APGD-CE maximises the CE, not the margin: 1% slack on the margin.
			if apgd > pgd || apgdM > pgdM+0.01*math.Abs(pgdM) {
				t.Errorf("%v: APGD-CE (acc %.4f, margin %.4f) weaker than PGD (acc %.4f, margin %.4f) at alpha %g",
					p, apgd, apgdM, pgd, pgdM, alpha)
			}
		}
	}
}

// TestSquareLowersAccuracy: the gradient-free Square attack hurts an
// undefended model, counts its queries, and stops on fooled points.
func TestSquareLowersAccuracy(t *testing.T) {
	m, x, y := trainedMLP(t)
	n := len(y)
	clean, ok := Accuracy(m, x, y, 0)
	sq := &Square{Eps: 0.15, Queries: 300, Shape: [3]int{1, 4, 4}}
	xa := sq.Perturb(m, x, y, rand.New(rand.NewPCG(19, 20)))
	robust, okAdv := Accuracy(m, xa, y, 0)
	t.Logf("clean %.3f, square (300 queries) %.3f", clean, robust)
	if robust > clean-0.2 {
		t.Errorf("Square lowered the accuracy only from %.3f to %.3f", clean, robust)
	}
	q := sq.QueriesUsed()
	fooledEarly := 0
	for i := range n {
		if q[i] < 1 || q[i] > 300 {
			t.Errorf("point %d used %d queries", i, q[i])
		}
		if q[i] < 300 && okAdv[i] {
			t.Errorf("point %d stopped after %d queries though still robust", i, q[i])
		}
		if !okAdv[i] && ok[i] && q[i] < 300 {
			fooledEarly++
		}
	}
	if fooledEarly == 0 {
		t.Errorf("no point stopped early")
	}
}

func TestSquareSchedule(t *testing.T) {
	// 5000 queries: the 10,000-step schedule runs twice as fast.
	for _, c := range []struct {
		it int
		p  float64
	}{{0, 0.8}, {5, 0.8}, {6, 0.4}, {25, 0.4}, {26, 0.2}, {100, 0.2}, {101, 0.1}, {4000, 0.8 / 256}, {4001, 0.8 / 512}, {2500, 0.8 / 128}, {3000, 0.8 / 128}, {3001, 0.8 / 256}} {
		if got := pSelection(c.it, 5000, 0.8); math.Abs(got-c.p) > 1e-12 {
			t.Errorf("p(%d) = %g, want %g", c.it, got, c.p)
		}
	}
}

// TestDeterminism: the same seed gives the same report and adversarial
// examples; another seed gives other examples.
func TestDeterminism(t *testing.T) {
	m, x, y := trainedMLP(t)
	x, y = x[:60*16], y[:60]
	cfg := Config{Norm: Linf, Eps: 0.1, Seed: 42, BatchSize: 25, Shape: [3]int{1, 4, 4},
		Attacks: []Attack{
			APGD{Norm: Linf, Eps: 0.1, Steps: 10},
			APGDT{Norm: Linf, Eps: 0.1, Steps: 10},
			&Square{Eps: 0.1, Queries: 100, Shape: [3]int{1, 4, 4}},
		}}
	run := func(seed uint64) *Report {
		c := cfg
		c.Seed = seed
		r := Evaluate(m, x, y, c)
		for i := range r.Attacks {
			r.Attacks[i].Seconds = 0
		}
		r.Seconds = 0
		return r
	}
	a, b, c := run(42), run(42), run(43)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed, different reports:\n%+v\n%+v", a, b)
	}
	if reflect.DeepEqual(a.XAdv, c.XAdv) {
		t.Errorf("seeds 42 and 43 gave identical adversarial examples")
	}
	// Every attack alone is deterministic too.
	for _, atk := range allAttacks(L2, 0.5, [3]int{1, 4, 4}) {
		u := atk.Perturb(m, x, y, rand.New(rand.NewPCG(1, 1)))
		v := atk.Perturb(m, x, y, rand.New(rand.NewPCG(1, 1)))
		if !reflect.DeepEqual(u, v) {
			t.Errorf("%s is not deterministic", atk.Name())
		}
	}
}

// TestStandardReport runs the standard sequence on a small budget and
// checks the JSON record.
func TestStandardReport(t *testing.T) {
	m, x, y := trainedMLP(t)
	x, y = x[:50*16], y[:50]
	attacks, skipped := StandardAttacks(Linf, 0.1, [3]int{1, 4, 4})
	if len(attacks) != 3 || attacks[0].Name() != "apgd-ce" || attacks[1].Name() != "apgd-t" || attacks[2].Name() != "square" {
		t.Fatalf("standard attacks %v", attacks)
	}
	// Shrink the budgets for the test.
	attacks[0] = APGD{Norm: Linf, Eps: 0.1, Steps: 20}
	attacks[1] = APGDT{Norm: Linf, Eps: 0.1, Steps: 20}
	attacks[2].(*Square).Queries = 200
	r := Evaluate(m, x, y, Config{Norm: Linf, Eps: 0.1, Seed: 5, Attacks: attacks})
	r.Skipped = skipped
	r.Dataset = "clusters"
	buf, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"dataset":"clusters"`, `"threat_model":"Linf"`, `"eps":0.1`, `"clean_acc"`, `"robust_acc"`, `"n_examples":50`, `"seed":5`, `"name":"apgd-t"`, `"mean_queries"`, "fab-t"} {
		if !strings.Contains(string(buf), key) {
			t.Errorf("JSON lacks %s: %s", key, buf)
		}
	}
	t.Logf("%s", buf)
	if len(r.Warnings) != 0 {
		t.Errorf("warnings on a plain MLP: %v", r.Warnings)
	}
}

// noisy adds fresh noise to the logits at every call (a randomised defence).
type noisy struct {
	*mlp
	rng *rand.Rand
}

func (m noisy) Logits(x []float32, n int) []float32 {
	z := append([]float32(nil), m.mlp.Logits(x, n)...)
	for i := range z {
		z[i] += float32(0.01 * m.rng.NormFloat64())
	}
	return z
}

// masked hides its gradient: InputGrad returns zeros.
type masked struct{ *mlp }

func (m masked) InputGrad(dz []float32) []float32 { return make([]float32, m.n*m.d) }

// probs returns softmax probabilities instead of logits.
type probs struct{ *mlp }

func (m probs) Logits(x []float32, n int) []float32 { return softmaxRows(m.mlp.Logits(x, n), n, m.k) }

func TestWarnings(t *testing.T) {
	m, x, y := trainedMLP(t)
	x, y = x[:40*16], y[:40]
	attacks := func() []Attack {
		return []Attack{
			APGD{Norm: Linf, Eps: 0.15, Steps: 10},
			APGDT{Norm: Linf, Eps: 0.15, Steps: 10, Targets: 9},
			&Square{Eps: 0.15, Queries: 200, Shape: [3]int{1, 4, 4}},
		}
	}
	cases := []struct {
		f    Classifier
		want []string
	}{
		{noisy{m, rand.New(rand.NewPCG(1, 1))}, []string{"two forward passes"}},
		{masked{m}, []string{"zero input gradient of the ce", "zero input gradient of the dlr", "Square attack lowered", "apgd-t asks for 9"}},
		{probs{m}, []string{"look like probabilities"}},
	}
	for _, c := range cases {
		r := Evaluate(c.f, x, y, Config{Norm: Linf, Eps: 0.15, Seed: 1, Attacks: attacks()})
		all := strings.Join(r.Warnings, "\n")
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%T: no warning %q in %q", c.f, w, all)
			}
		}
	}
}

// TestTrainingExamples: the PGD-AT example raises the cross-entropy and the
// TRADES example raises the KL divergence from the clean prediction.
func TestTrainingExamples(t *testing.T) {
	m, x, y := trainedMLP(t)
	n := len(y)
	k := m.k
	rng := rand.New(rand.NewPCG(21, 22))
	ce := func(x []float32) float64 { l, _ := nn.CrossEntropy(nil, m.Logits(x, n), y, k, 0); return l }
	xa := PGDExample(m, x, y, Linf, 0.1, 0.025, 10, rng)
	if ce(xa) < ce(x)+0.1 {
		t.Errorf("PGD-AT example: CE %g, clean %g", ce(xa), ce(x))
	}
	p := softmaxRows(m.Logits(x, n), n, k)
	kl := func(x []float32) float64 {
		v := make([]float64, n)
		lossGrad(KL, m.Logits(x, n), n, k, lossArgs{p: p, y: y}, v, make([]float32, n*k))
		s := 0.0
		for _, u := range v {
			s += u
		}
		return s / float64(n)
	}
	xt := TRADESExample(m, x, n, Linf, 0.1, 0.025, 10, rng)
	if kl(xt) < 0.05 {
		t.Errorf("TRADES example: mean KL %g", kl(xt))
	}
}

// TestEvaluateIndividual: with Individual every attack runs on all
// clean-correct points; the overall figure is the per-point worst case, so
// it is at most every attack's own figure, and equals the cumulative run's
// when the attacks are deterministic given their inputs (FGSM).
func TestEvaluateIndividual(t *testing.T) {
	m, x, y := trainedMLP(t)
	x, y = x[:80*16], y[:80]
	attacks := []Attack{
		FGSM{Norm: Linf, Eps: 0.08},
		PGD{Norm: Linf, Eps: 0.08, Steps: 10, Loss: Margin},
		APGD{Norm: Linf, Eps: 0.08, Steps: 10},
	}
	r := Evaluate(m, x, y, Config{Norm: Linf, Eps: 0.08, Seed: 3, Attacks: attacks, Individual: true})
	for _, a := range r.Attacks {
		if a.RobustAcc < r.RobustAcc || a.RobustAcc > r.CleanAcc {
			t.Errorf("%s: own robust acc %g, overall %g, clean %g", a.Name, a.RobustAcc, r.RobustAcc, r.CleanAcc)
		}
		if a.Ran != int(math.Round(r.CleanAcc*80)) {
			t.Errorf("%s ran on %d points, %d clean-correct", a.Name, a.Ran, int(math.Round(r.CleanAcc*80)))
		}
	}
	fgsm := Evaluate(m, x, y, Config{Norm: Linf, Eps: 0.08, Attacks: attacks[:1]})
	if fgsm.RobustAcc != r.Attacks[0].RobustAcc {
		t.Errorf("FGSM alone %g, in the individual run %g", fgsm.RobustAcc, r.Attacks[0].RobustAcc)
	}
}
