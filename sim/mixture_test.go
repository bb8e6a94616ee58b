package sim

import (
	"context"
	"math"
	"testing"

	"github.com/cdp-project/cdp/core/diffusion"
)

// TestDDIMReproducesMixture runs deterministic DDIM with many steps on the
// exact eps-model and checks that the samples have the mixture's moments:
// class-conditional (y given) per-class means and variances, and
// unconditional (y = -1) the mixture weights (by nearest component) and
// overall mean, each within 5 standard errors plus a small allowance for
// the discretisation (0.01).
func TestDDIMReproducesMixture(t *testing.T) {
	mix := NewMixture([][]float64{{2, 0}, {-1, 1.5}, {0, -2}}, []float64{0.3, 0.6, 0.45})
	mix.Weight = []float64{0.5, 0.3, 0.2}
	const n = 9000
	sch := diffusion.Linear(1000, 1e-4, 0.02)
	cfg := diffusion.Config{Schedule: sch, Sampler: diffusion.DDIM(0), Timesteps: diffusion.Timesteps(1000, 250, diffusion.Even), Seed: 11}
	const slack = 0.01
	// Class-conditional.
	y := make([]int, n)
	for i := range y {
		y[i] = i % 3
	}
	x32, err := diffusion.Sample(context.Background(), mix, y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		var sq []float64 // squared deviations of both coordinates: their mean estimates sigma_k^2
		for j := range 2 {
			var vals []float64
			for i := k; i < n; i += 3 {
				v := float64(x32[i*2+j])
				vals = append(vals, v)
				sq = append(sq, (v-mix.Mu[k][j])*(v-mix.Mu[k][j]))
			}
			e := NewEstimate(vals)
			if math.Abs(e.Mean-mix.Mu[k][j]) > zTol*e.StdErr+slack {
				t.Errorf("class %d coord %d: mean %.4f +- %.4f, mixture %.4f", k, j, e.Mean, e.StdErr, mix.Mu[k][j])
			}
		}
		v := NewEstimate(sq)
		want := mix.Sigma[k] * mix.Sigma[k]
		if math.Abs(v.Mean-want) > zTol*v.StdErr+slack {
			t.Errorf("class %d: variance %.4f +- %.4f, mixture %.4f", k, v.Mean, v.StdErr, want)
		}
		t.Logf("class %d: variance %.4f +- %.4f, mixture %.4f", k, v.Mean, v.StdErr, want)
	}
	// Unconditional.
	for i := range y {
		y[i] = -1
	}
	x32, err = diffusion.Sample(context.Background(), mix, y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([][]float64, 3)
	var mean [2][]float64
	for i := range n {
		p := []float64{float64(x32[2*i]), float64(x32[2*i+1])}
		best, bd := 0, math.Inf(1)
		for k, mu := range mix.Mu {
			if d := (p[0]-mu[0])*(p[0]-mu[0]) + (p[1]-mu[1])*(p[1]-mu[1]); d < bd {
				best, bd = k, d
			}
		}
		for k := range counts {
			v := 0.0
			if k == best {
				v = 1
			}
			counts[k] = append(counts[k], v)
		}
		mean[0], mean[1] = append(mean[0], p[0]), append(mean[1], p[1])
	}
	for k := range counts {
		// The components barely overlap, so nearest-mean assignment recovers the weights.
		if e := NewEstimate(counts[k]); math.Abs(e.Mean-mix.Weight[k]) > zTol*e.StdErr+slack {
			t.Errorf("component %d: fraction %.4f +- %.4f, weight %.4f", k, e.Mean, e.StdErr, mix.Weight[k])
		}
	}
	for j := range 2 {
		var want float64
		for k := range 3 {
			want += mix.Weight[k] * mix.Mu[k][j]
		}
		if e := NewEstimate(mean[j]); math.Abs(e.Mean-want) > zTol*e.StdErr+slack {
			t.Errorf("coord %d: mixture mean %.4f, samples %.4f +- %.4f", j, want, e.Mean, e.StdErr)
		}
	}
}

// TestGuidanceSeparates checks the direction of the guided experiment's
// main effect on a small run: the authors' hard-negative-mining loss with a
// large lambda raises the separation of the generated classes and lowers
// the contrastive loss, against lambda = 0 on the same seeds.
func TestGuidanceSeparates(t *testing.T) {
	e, err := Lookup("guided2d")
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Run(map[string]float64{"lambdas": 2, "reps": 2, "test": 50}, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	sep := r.Panels[0].Series[0].Y
	loss := r.Panels[3].Series[0].Y
	if !(sep[1] > sep[0]) {
		t.Errorf("separation did not rise with guidance: %v", sep)
	}
	if !(loss[1] < loss[0]) {
		t.Errorf("contrastive loss did not fall with guidance: %v", loss)
	}
}
