package optim

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func randVec(rng *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(scale * rng.NormFloat64())
	}
	return x
}

// TestResumeBitExact runs each optimiser 20 steps straight, and 10 steps,
// then State, a fresh optimiser, SetState and 10 more steps: the weights
// must agree bit for bit.
func TestResumeBitExact(t *testing.T) {
	const n, steps, cut = 53, 20, 10
	groups := []Group{{Offset: 10, Len: 7, NoDecay: true}, {Offset: 40, Len: 13, NoDecay: true}}
	makers := map[string]func() Optimizer{
		"sgd":      func() Optimizer { return NewSGD(n, 0.1, 0.9, 1e-3, true, groups) },
		"adam":     func() Optimizer { return NewAdam(n, 1e-2, 0.9, 0.999, 1e-8, 1e-2, groups) },
		"adamw":    func() Optimizer { return NewAdamW(n, 1e-2, 0.9, 0.999, 1e-8, 0.05, groups) },
		"sgdPlain": func() Optimizer { return NewSGD(n, 0.1, 0, 0, false, nil) },
	}
	for name, mk := range makers {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			w0 := randVec(rng, n, 1)
			dws := make([][]float32, steps)
			for k := range dws {
				dws[k] = randVec(rng, n, 0.3)
			}
			sched := NewOneCycle(0.1, steps)
			run := func(o Optimizer, w []float32, from, to int) {
				for k := from; k < to; k++ {
					o.SetLR(sched.LR(k))
					o.SetMomentum(sched.Momentum(k))
					o.Step(w, dws[k])
				}
			}
			straight := slices.Clone(w0)
			run(mk(), straight, 0, steps)

			resumed := slices.Clone(w0)
			first := mk()
			run(first, resumed, 0, cut)
			st := first.State()
			if st.Step != cut {
				t.Fatalf("state step %d, want %d", st.Step, cut)
			}
			// The state is a copy: running the first optimiser on must not
			// change it.
			run(first, slices.Clone(resumed), cut, steps)
			second := mk()
			if err := second.SetState(st); err != nil {
				t.Fatal(err)
			}
			run(second, resumed, cut, steps)
			for i := range straight {
				if math.Float32bits(straight[i]) != math.Float32bits(resumed[i]) {
					t.Fatalf("param %d: straight %v, resumed %v", i, straight[i], resumed[i])
				}
			}
			if slices.Equal(straight, w0) {
				t.Fatal("weights did not move")
			}
		})
	}
}

func TestEMAResume(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	w0 := randVec(rng, 17, 1)
	ws := make([][]float32, 12)
	for k := range ws {
		ws[k] = randVec(rng, 17, 1)
	}
	a := NewEMA(w0, 0.99, true)
	for _, w := range ws {
		a.Update(w)
	}
	b := NewEMA(w0, 0.99, true)
	for _, w := range ws[:5] {
		b.Update(w)
	}
	c := NewEMA(make([]float32, 17), 0.99, true)
	if err := c.SetState(b.State()); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws[5:] {
		c.Update(w)
	}
	if !slices.Equal(a.W, c.W) || a.Steps() != c.Steps() {
		t.Fatalf("resumed EMA differs: %v vs %v", a.W[:3], c.W[:3])
	}
}

func TestEMADecay(t *testing.T) {
	e := NewEMA([]float32{1}, 0.999, true)
	for k, want := range map[int64]float64{0: 0.1, 1: 2.0 / 11, 10: 11.0 / 20, 100000: 0.999} {
		if got := e.DecayAt(k); math.Abs(got-want) > 1e-15 {
			t.Errorf("DecayAt(%d) = %g, want %g", k, got, want)
		}
	}
	e = NewEMA([]float32{1, 2}, 0.75, false)
	e.Update([]float32{5, 2})
	// 0.75*1 + 0.25*5 = 2, 0.75*2 + 0.25*2 = 2: exact in float32.
	if e.W[0] != 2 || e.W[1] != 2 {
		t.Fatalf("EMA = %v, want [2 2]", e.W)
	}
}

func TestSetStateErrors(t *testing.T) {
	o := NewAdam(4, 1e-3, 0.9, 0.999, 1e-8, 0, nil)
	good := o.State()
	cases := map[string]struct {
		s    State
		want string
	}{
		"kind":    {State{Kind: "sgd", Buffers: good.Buffers}, `state is for "sgd", not "adam"`},
		"missing": {State{Kind: "adam", Buffers: map[string][]float32{"m": make([]float32, 4)}}, `lacks buffer "v"`},
		"length":  {State{Kind: "adam", Buffers: map[string][]float32{"m": make([]float32, 4), "v": make([]float32, 3)}}, `"v" has 3 values, want 4`},
		"extra": {State{Kind: "adam", Buffers: map[string][]float32{"m": make([]float32, 4), "v": make([]float32, 4),
			"x": nil}}, `unknown buffer "x"`},
		"negative": {State{Kind: "adam", Step: -1, Buffers: good.Buffers}, "negative step"},
	}
	for name, c := range cases {
		err := o.SetState(c.s)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "optim: ") {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
	if got := good.Names(); !slices.Equal(got, []string{"m", "v"}) {
		t.Errorf("Names() = %v", got)
	}
}

// TestWeightDecayGroups checks by hand that decay reaches only the elements
// outside NoDecay groups: with zero gradients, plain SGD multiplies decayed
// weights by 1-lr*wd (torch: w + (-lr)*(wd*w)) and AdamW by (1-lr*wd).
func TestWeightDecayGroups(t *testing.T) {
	groups := []Group{{Offset: 1, Len: 2, NoDecay: true}, {Offset: 4, Len: 1}}
	const lr, wd = 0.5, 0.25
	for _, o := range []Optimizer{NewSGD(5, lr, 0, wd, false, groups), NewAdamW(5, lr, 0.9, 0.999, 1e-8, wd, groups)} {
		w := []float32{1, 2, 4, 8, 16}
		o.Step(w, make([]float32, 5))
		want := []float32{1 * 0.875, 2, 4, 8 * 0.875, 16 * 0.875}
		if !slices.Equal(w, want) {
			t.Errorf("%s: w = %v, want %v", o.State().Kind, w, want)
		}
	}
}

// TestAdamFirstStep: after one step the bias-corrected moments are g and
// g*g, so each weight moves by -lr*g/(|g|+eps).
func TestAdamFirstStep(t *testing.T) {
	const lr, eps = 0.01, 1e-3
	g := []float32{1, -0.5, 0.002, 0}
	w := make([]float32, 4)
	NewAdam(4, lr, 0.9, 0.999, eps, 0, nil).Step(w, g)
	for i := range g {
		gi := float64(g[i])
		want := -lr * gi / (math.Abs(gi) + eps)
		if math.Abs(float64(w[i])-want) > 1e-6*math.Max(math.Abs(want), 1e-3) {
			t.Errorf("w[%d] = %g, want %g", i, w[i], want)
		}
	}
}

// TestSGDMomentumByHand follows two steps of heavy-ball and Nesterov
// momentum in exact binary fractions.
func TestSGDMomentumByHand(t *testing.T) {
	// lr 0.5, momentum 0.5, g1 = 1, g2 = 2.
	// heavy ball: buf1 = 1, w1 = -0.5; buf2 = 0.5+2 = 2.5, w2 = -0.5-1.25 = -1.75
	// Nesterov: buf1 = 1, step 1+0.5 = 1.5, w1 = -0.75; buf2 = 2.5, step 2+1.25 = 3.25, w2 = -0.75-1.625 = -2.375
	for _, c := range []struct {
		nesterov bool
		want     float32
	}{{false, -1.75}, {true, -2.375}} {
		o := NewSGD(1, 0.5, 0.5, 0, c.nesterov, nil)
		w := []float32{0}
		o.Step(w, []float32{1})
		o.Step(w, []float32{2})
		if w[0] != c.want {
			t.Errorf("nesterov=%v: w = %v, want %v", c.nesterov, w[0], c.want)
		}
	}
}

func TestPanics(t *testing.T) {
	cases := map[string]func(){
		"overlap":   func() { NewSGD(10, 1, 0, 0, false, []Group{{0, 5, true}, {4, 2, true}}) },
		"outside":   func() { NewAdam(10, 1, 0.9, 0.9, 0, 0, []Group{{8, 5, true}}) },
		"nesterov":  func() { NewSGD(10, 1, 0, 0, true, nil) },
		"length":    func() { NewSGD(3, 1, 0, 0, false, nil).Step(make([]float32, 3), make([]float32, 2)) },
		"beta":      func() { NewAdamW(3, 1, 1, 0.9, 0, 0, nil) },
		"emaLength": func() { NewEMA(make([]float32, 3), 0.9, false).Update(make([]float32, 4)) },
		"cosine":    func() { Cosine{Base: 1, Warmup: 10, Total: 10}.LR(3) },
	}
	for name, f := range cases {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", name)
				} else if s, ok := r.(string); !ok || !strings.HasPrefix(s, "optim: ") {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			f()
		}()
	}
}

func TestSchedulesByHand(t *testing.T) {
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.17g, want %.17g", name, got, want)
		}
	}
	c := Constant{Base: 0.1, Warmup: 4}
	near("constant(0)", c.LR(0), 0.025)
	near("constant(3)", c.LR(3), 0.1)
	near("constant(100)", c.LR(100), 0.1)
	near("constant no warm-up", Constant{Base: 0.3}.LR(0), 0.3)

	cs := Cosine{Base: 1, Floor: 0.2, Warmup: 10, Total: 110}
	near("cosine(4)", cs.LR(4), 0.5)
	near("cosine(10)", cs.LR(10), 1)
	near("cosine(60)", cs.LR(60), 0.6)
	near("cosine(110)", cs.LR(110), 0.2)
	near("cosine(500)", cs.LR(500), 0.2)

	oc := NewOneCycle(1, 101) // phase 0 ends at 0.3*101-1 = 29.3
	near("onecycle(0)", oc.LR(0), 1.0/25)
	near("onecycle momentum(0)", oc.Momentum(0), 0.95)
	near("onecycle(100)", oc.LR(100), 1.0/25/1e4)
	near("onecycle momentum(100)", oc.Momentum(100), 0.95)
	if oc.LR(29) >= 1 || oc.LR(29) < oc.LR(28) || oc.LR(30) >= 1 || oc.LR(30) < oc.LR(31) {
		t.Errorf("onecycle peak: %g %g %g %g", oc.LR(28), oc.LR(29), oc.LR(30), oc.LR(31))
	}
}

func TestClipGradNorm(t *testing.T) {
	dw := []float32{3, 4}
	if n := ClipGradNorm(dw, 1); n != 5 {
		t.Fatalf("norm %g, want 5", n)
	}
	if math.Abs(float64(dw[0])-0.6) > 1e-6 || math.Abs(float64(dw[1])-0.8) > 1e-6 {
		t.Fatalf("clipped %v, want [0.6 0.8]", dw)
	}
	dw = []float32{3, 4}
	if n := ClipGradNorm(dw, 10); n != 5 || dw[0] != 3 || dw[1] != 4 {
		t.Fatalf("norm %g, %v: should be untouched", n, dw)
	}
	dw = []float32{float32(math.Inf(1)), 4}
	if n := ClipGradNorm(dw, 1); !math.IsInf(n, 1) || dw[1] != 4 {
		t.Fatalf("norm %g, %v: infinite norm should leave dw alone", n, dw)
	}
}
