package robust

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// scripted is a binary classifier whose logits ignore x: call c returns
// (s_c, 0) for every point, so with y = 1 the cross-entropy
// log(1 + exp(s_c)) follows the script. Its input gradient is all ones.
type scripted struct {
	script func(call int) float32
	calls  int
	n, d   int
}

func (s *scripted) NumClasses() int { return 2 }

func (s *scripted) Logits(x []float32, n int) []float32 {
	s.n, s.d = n, len(x)/n
	v := s.script(s.calls)
	s.calls++
	z := make([]float32, 2*n)
	for i := range n {
		z[2*i] = v
	}
	return z
}

func (s *scripted) InputGrad(dz []float32) []float32 {
	g := make([]float32, s.n*s.d)
	for i := range g {
		g[i] = 1
	}
	return g
}

// TestAPGDStepSize drives the checkpoint rule with scripted losses
// (100 steps: checkpoints 22, 41, 57, 70, 80, 87, 93, 99).
func TestAPGDStepSize(t *testing.T) {
	const eps = 0.1
	cases := []struct {
		name   string
		script func(call int) float32
		halved []bool // per checkpoint
	}{
		// Constant loss: never more than rho of the steps increase: halve
		// at every checkpoint (condition a).
		{"constant", func(int) float32 { return 0 }, []bool{true, true, true, true, true, true, true, true}},
		// Increasing loss: neither condition holds.
		{"increasing", func(c int) float32 { return float32(c) / 100 }, []bool{false, false, false, false, false, false, false, false}},
		// A spike at the start, then a slow rise that never reaches it: the
		// loss rises at almost every step (a fails), the best loss never
		// improves, so (b) fires at every checkpoint that follows one
		// without halving.
		{"stalled", func(c int) float32 {
			if c == 0 {
				return 100
			}
			return float32(c) / 1000
		}, []bool{false, true, false, true, false, true, false, true}},
	}
	for _, tc := range cases {
		f := &scripted{script: tc.script}
		x := []float32{0.5, 0.5, 0.5, 0.5}
		var got []bool
		eta := float32(2 * eps)
		c := apgdConfig{norm: Linf, eps: eps, steps: 100, loss: CE, trace: func(_ int, e []float32) {
			got = append(got, e[0] < eta)
			eta = e[0]
		}}.defaults()
		tr := newTracker(x, 1, 4, 2)
		c.run(f, x, lossArgs{y: []int{1}}, 4, 2, tr, []int{0}, rand.New(rand.NewPCG(1, 2)))
		if len(got) != len(tc.halved) {
			t.Fatalf("%s: %d checkpoints, want %d", tc.name, len(got), len(tc.halved))
		}
		for j := range got {
			if got[j] != tc.halved[j] {
				t.Errorf("%s: halved %v, want %v", tc.name, got, tc.halved)
				break
			}
		}
		if f.calls != 101 {
			t.Errorf("%s: %d forward passes for 100 steps, want 101", tc.name, f.calls)
		}
	}
}

// TestAPGDTTargets: the targets are the other classes by decreasing clean
// logit, and APGD-T with enough targets fools a linear model whose only
// reachable wrong class is the third one in that order.
func TestAPGDTTargets(t *testing.T) {
	got := targetClasses([]float32{0.5, 3, -1, 2, 2, 0, 1, 9}, []int{1, 3}, 4)
	want := [][]int{{3, 0, 2}, {0, 2, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targetClasses = %v, want %v", got, want)
	}
	// At x = 0.5: z = (0, -0.25, -1.05, -2.5, -3); class 2 wins only
	// for x > 0.605, classes 1, 3, 4 never within eps = 0.2.
	l := &linear{d: 1, k: 5, w: []float32{0, -1, 10, -5, -5}, b: []float32{0, 0.25, -6.05, 0, -0.5}}
	x := []float32{0.5}
	y := []int{0}
	if o := targetClasses(l.Logits(x, 1), y, 5)[0]; o[1] != 2 {
		t.Fatalf("target order %v", o)
	}
	xa := APGDT{Norm: Linf, Eps: 0.2, Steps: 20, Targets: 4}.Perturb(l, x, y, rand.New(rand.NewPCG(1, 1)))
	if p := Predict(l.Logits(xa, 1), 1, 5)[0]; p != 2 {
		t.Errorf("prediction %d at %v, want 2", p, xa)
	}
}
