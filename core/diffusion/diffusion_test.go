package diffusion

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestLinearSchedule(t *testing.T) {
	s := Linear(1000, 1e-4, 0.02)
	if s.Beta[1] != 1e-4 || math.Abs(s.Beta[1000]-0.02) > 1e-15 {
		t.Fatalf("beta_1 = %v, beta_T = %v", s.Beta[1], s.Beta[1000])
	}
	// Independent path: log alphaBar_T = sum log(1 - beta_t), beta_t linear.
	var logA float64
	for i := 0; i < 1000; i++ {
		logA += math.Log1p(-(1e-4 + (0.02-1e-4)*float64(i)/999))
	}
	if got, want := s.AlphaBar[1000], math.Exp(logA); math.Abs(got-want) > 1e-12*want {
		t.Fatalf("alphaBar_T = %.15g, want %.15g", got, want)
	}
	// The value quoted for the DDPM linear schedule, about 4.04e-5.
	if a := s.AlphaBar[1000]; a < 4.0e-5 || a > 4.1e-5 {
		t.Fatalf("alphaBar_T = %g, want about 4.04e-5", a)
	}
	if s.AlphaBar[0] != 1 || s.Alpha[0] != 1 || s.Beta[0] != 0 {
		t.Fatalf("index 0 is not the clean data")
	}
	for t1 := 1; t1 <= 1000; t1++ {
		if s.Alpha[t1] != 1-s.Beta[t1] || !(s.AlphaBar[t1] < s.AlphaBar[t1-1]) {
			t.Fatalf("t=%d: alpha or alphaBar inconsistent", t1)
		}
	}
	if d, _ := ScheduleByName("linear", 1000); d.AlphaBar[1000] != s.AlphaBar[1000] {
		t.Fatalf("ScheduleByName(linear, 1000) differs from Linear(1000, 1e-4, 0.02)")
	}
}

func TestCosineSchedule(t *testing.T) {
	const T, s0 = 1000, 0.008
	s := Cosine(T, s0, 0.999)
	f := func(u float64) float64 { return math.Pow(math.Cos((u+s0)/(1+s0)*math.Pi/2), 2) }
	// Without clipping, alphaBar_t = f(t/T)/f(0) exactly.
	for _, t1 := range []int{1, 10, 100, 500, 900, 990} {
		want := f(float64(t1)/T) / f(0)
		if got := s.AlphaBar[t1]; math.Abs(got-want) > 1e-10*want {
			t.Fatalf("alphaBar_%d = %.15g, want %.15g", t1, got, want)
		}
	}
	// f(1) = 0, so beta_T is clipped at 0.999.
	if s.Beta[T] != 0.999 {
		t.Fatalf("beta_T = %v, want 0.999", s.Beta[T])
	}
	if want := 0.001 * s.AlphaBar[T-1]; math.Abs(s.AlphaBar[T]-want) > 1e-12*want {
		t.Fatalf("alphaBar_T = %g, want %g", s.AlphaBar[T], want)
	}
	// beta_1 is tiny: 1 - f(1/T)/f(0).
	if want := 1 - f(1.0/T)/f(0); math.Abs(s.Beta[1]-want) > 1e-12 {
		t.Fatalf("beta_1 = %g, want %g", s.Beta[1], want)
	}
}

func TestTimesteps(t *testing.T) {
	ts := Timesteps(1000, 250, Even)
	if len(ts) != 250 || ts[0] != 1000 || ts[249] != 1 || ts[248] != 5 {
		t.Fatalf("Even 250/1000: len %d, first %d, last two %v", len(ts), ts[0], ts[247:])
	}
	// numpy.linspace(0, 999, 250, dtype=int) starts 0 4 8 12 16, holds
	// 481 485 ... 509 at indices 120..127 and ends 990 994 999 (0-based).
	ls := Timesteps(1000, 250, Linspace)
	up := make([]int, len(ls))
	for i, v := range ls {
		up[len(ls)-1-i] = v - 1
	}
	for i, want := range map[int]int{0: 0, 1: 4, 2: 8, 3: 12, 4: 16, 120: 481, 125: 501, 127: 509, 247: 990, 248: 994, 249: 999} {
		if up[i] != want {
			t.Fatalf("Linspace 250/1000: 0-based step %d = %d, numpy gives %d", i, up[i], want)
		}
	}
	if ts[124] == ls[124] && ts[125] == ls[125] && ts[122] == ls[122] {
		t.Fatalf("Even and Linspace agree where numpy truncates: %v %v", ts[120:128], ls[120:128])
	}
	u := Timesteps(1000, 100, Uniform)
	if len(u) != 100 || u[0] != 991 || u[99] != 1 || u[98] != 11 {
		t.Fatalf("Uniform 100/1000: %v ... %v", u[:2], u[98:])
	}
	q := Timesteps(1000, 50, Quadratic)
	if q[len(q)-1] != 1 || q[0] != 1+int(0.8*1000) {
		t.Fatalf("Quadratic 50/1000: first %d last %d", q[0], q[len(q)-1])
	}
	for _, tt := range [][]int{ts, ls, u, q, Timesteps(10, 10, Even), Timesteps(1000, 999, Quadratic)} {
		if err := checkTimesteps(tt, 1000); err != nil {
			t.Fatal(err)
		}
	}
	all := Timesteps(10, 10, Even)
	for k, v := range all {
		if v != 10-k {
			t.Fatalf("Even 10/10 = %v", all)
		}
	}
}

func TestQSampleAndLoss(t *testing.T) {
	s := Linear(1000, 1e-4, 0.02)
	x0 := []float32{1, 2, 3, -1, -2, -3}
	eps := []float32{0.5, -0.5, 1, 2, 0, -1}
	xt := make([]float32, 6)
	s.QSample(xt, x0, eps, []int{1, 700})
	for i := range xt {
		a := s.AlphaBar[[]int{1, 700}[i/3]]
		want := math.Sqrt(a)*float64(x0[i]) + math.Sqrt(1-a)*float64(eps[i])
		if math.Abs(float64(xt[i])-want) > 1e-6 {
			t.Fatalf("xt[%d] = %v, want %v", i, xt[i], want)
		}
	}
	pred := []float32{0, 0, 1, 1, 1, 1}
	d := make([]float32, 6)
	l := EpsLoss(pred, eps, d)
	var want float64
	for i := range pred {
		r := float64(pred[i] - eps[i])
		want += r * r / 6
	}
	if math.Abs(l-want) > 1e-12 {
		t.Fatalf("loss %v, want %v", l, want)
	}
	// Central differences of the loss in float64-exact steps.
	for i := range pred {
		h := float32(1.0 / 64)
		p := append([]float32(nil), pred...)
		p[i] += h
		lp := EpsLoss(p, eps, nil)
		p[i] -= 2 * h
		lm := EpsLoss(p, eps, nil)
		if fd := (lp - lm) / (2 * float64(h)); math.Abs(fd-float64(d[i])) > 1e-6 {
			t.Fatalf("dEpsPred[%d] = %v, finite difference %v", i, d[i], fd)
		}
	}
}

// gaussModel is the exact eps-model of data ~ N(mu, s^2 I): the noised
// marginal is N(sqrt(aBar) mu, (aBar s^2 + 1 - aBar) I), so
// eps*(x, t) = (x - sqrt(aBar) mu) sqrt(1 - aBar)/(aBar s^2 + 1 - aBar).
type gaussModel struct {
	mu []float64
	s  float64
	// calls records the timesteps seen.
	calls []int
}

func (g *gaussModel) Dim() int { return len(g.mu) }

func (g *gaussModel) Eps(eps, x []float32, y []int, st Step) error {
	a := st.AlphaBar
	v := a*g.s*g.s + 1 - a
	d := len(g.mu)
	for i := range y {
		for j := 0; j < d; j++ {
			eps[i*d+j] = float32((float64(x[i*d+j]) - math.Sqrt(a)*g.mu[j]) * math.Sqrt(1-a) / v)
		}
	}
	g.calls = append(g.calls, st.T)
	return nil
}

// exactMoments runs the sampler's linear-Gaussian recursion in float64 for
// the Gaussian model (per coordinate: x_s = A x + B + C z) and returns the
// exact mean and variance of its output, written from METHOD.md directly.
func exactMoments(sch *Schedule, ts []int, ddpm bool, eta, mu, s float64) (mean, variance float64) {
	mean, variance = 0, 1
	for k, t := range ts {
		aT, aS := sch.AlphaBar[t], 1.0
		if k+1 < len(ts) {
			aS = sch.AlphaBar[ts[k+1]]
		}
		v := aT*s*s + 1 - aT
		// eps = e1 x + e0
		e1 := math.Sqrt(1-aT) / v
		e0 := -math.Sqrt(aT) * mu * math.Sqrt(1-aT) / v
		// x0hat = h1 x + h0
		h1 := (1 - math.Sqrt(1-aT)*e1) / math.Sqrt(aT)
		h0 := -math.Sqrt(1-aT) * e0 / math.Sqrt(aT)
		var A, B, C float64
		if ddpm {
			beta := 1 - aT/aS
			alpha := 1 - beta
			pm0 := math.Sqrt(aS) * beta / (1 - aT)
			pm1 := math.Sqrt(alpha) * (1 - aS) / (1 - aT)
			A, B = pm0*h1+pm1, pm0*h0
			C = math.Sqrt(beta * (1 - aS) / (1 - aT))
		} else {
			c1 := eta * math.Sqrt((1-aT/aS)*(1-aS)/(1-aT))
			c2 := math.Sqrt(1 - aS - c1*c1)
			A, B, C = math.Sqrt(aS)*h1+c2*e1, math.Sqrt(aS)*h0+c2*e0, c1
		}
		mean, variance = A*mean+B, A*A*variance+C*C
	}
	return mean, variance
}

func TestSamplersLandOnGaussian(t *testing.T) {
	mu := []float64{0.3, -0.7, 1.2, 0}
	const s, n = 0.5, 4000
	sch := Linear(1000, 1e-4, 0.02)
	cases := []struct {
		name    string
		sampler Sampler
		ts      []int
		ddpm    bool
		eta     float64
		// varTol bounds the relative variance error of the discretised
		// sampler itself (computed exactly in float64), which shrinks like 1/S
		// and exceeds the Monte-Carlo error at these step counts.
		varTol float64
		// meanTol bounds the mean error of the sampler; DDIM's quadratic
		// spacing starts at t = 801, where alphaBar is not negligible.
		meanTol float64
	}{
		{"DDIM/eta=0/S=200", DDIM(0), Timesteps(1000, 200, Uniform), false, 0, 0.04, 0.01},
		{"DDIM/eta=0/S=1000", DDIM(0), Timesteps(1000, 1000, Even), false, 0, 0.01, 0.01},
		{"DDIM/eta=0/S=100/quad", DDIM(0), Timesteps(1000, 100, Quadratic), false, 0, 0.04, 0.03},
		{"DDIM/eta=1/S=200", DDIM(1), Timesteps(1000, 200, Even), false, 1, 0.08, 0.01},
		{"DDPM/S=250", DDPM, Timesteps(1000, 250, Even), true, 0, 0.07, 0.01},
		{"DDPM/S=1000", DDPM, Timesteps(1000, 1000, Even), true, 0, 0.02, 0.01},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &gaussModel{mu: mu, s: s}
			y := make([]int, n)
			x, err := Sample(context.Background(), m, y, Config{Schedule: sch, Sampler: c.sampler, Timesteps: c.ts, Batch: 1000, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			d := len(mu)
			var pooledVar float64
			for j := 0; j < d; j++ {
				em, ev := exactMoments(sch, c.ts, c.ddpm, c.eta, mu[j], s)
				// The discretised sampler itself must be close to the data. (The
				// mean of DDIM with eta = 0 keeps the small error of starting
				// from N(0, I) instead of N(sqrt(aBar_T) mu, ...).)
				if math.Abs(em-mu[j]) > c.meanTol || math.Abs(ev/(s*s)-1) > c.varTol {
					t.Errorf("dim %d: exact sampler moments (%.4f, %.4f), data (%.4f, %.4f)", j, em, ev, mu[j], s*s)
				}
				var sum, sq float64
				for i := 0; i < n; i++ {
					v := float64(x[i*d+j])
					sum += v
					sq += v * v
				}
				mean := sum / n
				vr := sq/n - mean*mean
				pooledVar += vr / float64(d)
				// 4.5 standard errors.
				if se := math.Sqrt(ev / n); math.Abs(mean-em) > 4.5*se || math.Abs(mean-mu[j]) > 4.5*se+c.meanTol {
					t.Errorf("dim %d: sample mean %.4f, sampler %.4f, data %.4f (se %.4f)", j, mean, em, mu[j], se)
				}
				if se := ev * math.Sqrt(2.0/n); math.Abs(vr-ev) > 4.5*se {
					t.Errorf("dim %d: sample variance %.4f, sampler %.4f (se %.4f)", j, vr, ev, se)
				}
			}
			if se := s * s * math.Sqrt(2.0/(n*float64(d))); math.Abs(pooledVar-s*s) > 4.5*se+c.varTol*s*s {
				t.Errorf("pooled variance %.4f, data %.4f", pooledVar, s*s)
			}
		})
	}
}

func TestPerImageReproducible(t *testing.T) {
	sch := Linear(1000, 1e-4, 0.02)
	for _, sm := range []struct {
		name string
		s    Sampler
	}{{"DDPM", DDPM}, {"DDIM/eta=0.5", DDIM(0.5)}} {
		y := make([]int, 10)
		c := Config{Schedule: sch, Sampler: sm.s, Timesteps: Timesteps(1000, 50, Even), Seed: 42}
		m := &gaussModel{mu: []float64{1, -1, 0.5}, s: 0.3}
		one, err := Sample(context.Background(), m, y, c)
		if err != nil {
			t.Fatal(err)
		}
		c.Batch = 3
		three, err := Sample(context.Background(), m, y, c)
		if err != nil {
			t.Fatal(err)
		}
		// A shard holding images 4..9 only.
		c.Batch, c.Offset = 4, 4
		shard, err := Sample(context.Background(), m, y[4:], c)
		if err != nil {
			t.Fatal(err)
		}
		for i := range one {
			if math.Float32bits(one[i]) != math.Float32bits(three[i]) {
				t.Fatalf("%s: value %d: batch 10 gives %v, batches of 3 give %v", sm.name, i, one[i], three[i])
			}
			if i >= 12 && math.Float32bits(one[i]) != math.Float32bits(shard[i-12]) {
				t.Fatalf("%s: value %d differs in the shard", sm.name, i)
			}
		}
		// Another seed changes the images.
		c.Batch, c.Offset, c.Seed = 0, 0, 43
		other, _ := Sample(context.Background(), m, y, c)
		if other[0] == one[0] && other[1] == one[1] {
			t.Fatalf("%s: seed does not change the result", sm.name)
		}
	}
}

func TestCallbackSeesEveryStep(t *testing.T) {
	sch := Cosine(100, 0.008, 0.999)
	ts := Timesteps(100, 17, Even)
	m := &gaussModel{mu: []float64{0, 1}, s: 1}
	var seen []Step
	cb := func(info StepInfo) error {
		if len(info.X) != 6 || len(info.X0hat) != 6 || len(info.Eps) != 6 {
			t.Fatalf("callback slices have lengths %d %d %d", len(info.X), len(info.X0hat), len(info.Eps))
		}
		seen = append(seen, info.Step)
		return nil
	}
	if _, err := Sample(context.Background(), m, []int{0, 1, 2}, Config{Schedule: sch, Sampler: DDPM, Timesteps: ts, Callback: cb}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(ts) {
		t.Fatalf("callback saw %d steps, want %d", len(seen), len(ts))
	}
	for k, st := range seen {
		next := 0
		if k+1 < len(ts) {
			next = ts[k+1]
		}
		if st.Index != k || st.T != ts[k] || st.Next != next || st.Steps != len(ts) ||
			st.AlphaBar != sch.AlphaBar[ts[k]] || st.AlphaBarNext != sch.AlphaBar[next] ||
			st.First() != (k == 0) || st.Last() != (k == len(ts)-1) {
			t.Fatalf("step %d: %+v", k, st)
		}
	}
	// On the last step x is x0hat (no noise).
	var last StepInfo
	var lastX, lastX0 []float32
	cb2 := func(info StepInfo) error {
		last = info
		lastX = append(lastX[:0], info.X...)
		lastX0 = append(lastX0[:0], info.X0hat...)
		return nil
	}
	if _, err := Sample(context.Background(), m, []int{0, 1, 2}, Config{Schedule: sch, Sampler: DDPM, Timesteps: ts, Callback: cb2}); err != nil {
		t.Fatal(err)
	}
	if !last.Last() {
		t.Fatal("last callback is not the last step")
	}
	for i := range lastX {
		if math.Abs(float64(lastX[i]-lastX0[i])) > 1e-5 {
			t.Fatalf("last step: x %v, x0hat %v", lastX[i], lastX0[i])
		}
	}
	// A callback error stops sampling at that step.
	stop := errors.New("stop here")
	calls := 0
	_, err := Sample(context.Background(), m, []int{0}, Config{Schedule: sch, Sampler: DDIM(0), Timesteps: ts,
		Callback: func(StepInfo) error { calls++; return map[bool]error{true: stop}[calls == 3] }})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("callback error: %v after %d calls", err, calls)
	}
	// A cancelled context stops before the next step.
	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	_, err = Sample(ctx, m, []int{0}, Config{Schedule: sch, Sampler: DDIM(0), Timesteps: ts,
		Callback: func(StepInfo) error {
			calls++
			if calls == 2 {
				cancel()
			}
			return nil
		}})
	if !errors.Is(err, context.Canceled) || calls != 2 {
		t.Fatalf("cancel: %v after %d calls", err, calls)
	}
}

// nanModel returns NaN for item 1 at timestep badT.
type nanModel struct {
	gaussModel
	badT int
}

func (m *nanModel) Eps(eps, x []float32, y []int, st Step) error {
	m.gaussModel.Eps(eps, x, y, st)
	if st.T == m.badT {
		eps[1*len(m.mu)] = float32(math.NaN())
	}
	return nil
}

func TestNaNDetection(t *testing.T) {
	sch := Linear(1000, 1e-4, 0.02)
	ts := Timesteps(1000, 10, Even)
	m := &nanModel{gaussModel: gaussModel{mu: []float64{0, 0}, s: 1}, badT: ts[4]}
	_, err := Sample(context.Background(), m, []int{0, 0, 0}, Config{Schedule: sch, Sampler: DDPM, Timesteps: ts, Offset: 20, Seed: 1})
	if err == nil {
		t.Fatal("NaN in eps not detected")
	}
	for _, want := range []string{"NaN", "step 4 of 10", "image 21"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %q", err, want)
		}
	}
	// An overflow in x is named too.
	huge := &scaleModel{d: 2, v: 3e38}
	_, err = Sample(context.Background(), huge, []int{0}, Config{Schedule: sch, Sampler: DDIM(0), Timesteps: ts})
	if err == nil || !strings.Contains(err.Error(), "x is") || !strings.Contains(err.Error(), "step 0") {
		t.Fatalf("overflow of x: %v", err)
	}
}

// scaleModel predicts a constant eps.
type scaleModel struct {
	d int
	v float32
}

func (m *scaleModel) Dim() int { return m.d }
func (m *scaleModel) Eps(eps, x []float32, y []int, st Step) error {
	for i := range eps {
		eps[i] = m.v
	}
	return nil
}

func TestClipX0(t *testing.T) {
	// Data far outside [-1, 1]: with clipping the output stays in [-1, 1].
	sch := Linear(1000, 1e-4, 0.02)
	m := &gaussModel{mu: []float64{3, -3}, s: 0.1}
	y := make([]int, 20)
	for _, c := range []Sampler{DDPM, DDIM(0)} {
		x, err := Sample(context.Background(), m, y, Config{Schedule: sch, Sampler: c, Timesteps: Timesteps(1000, 50, Even), Clip: true, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range x {
			if v < -1.0001 || v > 1.0001 {
				t.Fatalf("clipped sample %d = %v", i, v)
			}
		}
	}
}

func TestImageRNGIndependentStreams(t *testing.T) {
	a, b := ImageRNG(1, 0), ImageRNG(1, 1)
	same := 0
	for i := 0; i < 100; i++ {
		if a.Uint64() == b.Uint64() {
			same++
		}
	}
	if same > 0 {
		t.Fatalf("neighbouring streams share %d values", same)
	}
	r := rand.New(rand.NewPCG(1, 2))
	y := make([]int, 1000)
	DropLabels(y, 0.1, r)
	drop := 0
	for _, v := range y {
		if v == NullLabel {
			drop++
		}
	}
	if drop < 60 || drop > 140 {
		t.Fatalf("DropLabels(0.1) dropped %d of 1000", drop)
	}
}

func TestNames(t *testing.T) {
	for _, s := range []Spacing{Even, Uniform, Quadratic, Linspace} {
		if got, err := ParseSpacing(s.String()); err != nil || got != s {
			t.Fatalf("ParseSpacing(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseSpacing("cubic"); err == nil || !strings.HasPrefix(err.Error(), "diffusion: ") {
		t.Fatalf("bad spacing: %v", err)
	}
	if _, err := SamplerByName("ddim", -1); err == nil {
		t.Fatal("negative eta accepted")
	}
	if _, err := SamplerByName("euler", 0); err == nil {
		t.Fatal("unknown sampler accepted")
	}
	if _, err := ScheduleByName("sqrt", 1000); err == nil {
		t.Fatal("unknown schedule accepted")
	}
	// Sample rejects timesteps that are not strictly decreasing.
	m := &gaussModel{mu: []float64{0}, s: 1}
	s, _ := SamplerByName("ddpm", 0)
	if _, err := Sample(context.Background(), m, []int{0}, Config{Schedule: Linear(10, 1e-4, 0.02), Sampler: s, Timesteps: []int{5, 7, 1}}); err == nil {
		t.Fatal("increasing timesteps accepted")
	}
}
