package robust

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPGDGivenStart: a Start equal to the point PGD would draw reproduces the
// random-start run exactly without drawing from rng; Start = x reproduces
// ZeroStart; a Start outside the ball is projected; a wrong length panics.
func TestPGDGivenStart(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	const n, d, k = 25, 12, 4
	m := newMLP(d, 16, k, rng)
	x := randomInputs(n, d, rng)
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(k)
	}
	for _, p := range []Norm{Linf, L2} {
		eps := float32(0.1)
		if p == L2 {
			eps = 0.5
		}
		atk := PGD{Norm: p, Eps: eps, Steps: 7, Loss: CE}
		want := atk.Perturb(m, x, y, rand.New(rand.NewPCG(7, 8)))

		start := make([]float32, len(x))
		uniformBall(start, x, d, p, eps, rand.New(rand.NewPCG(7, 8)))
		given := atk
		given.Start = start
		r := rand.New(rand.NewPCG(99, 100))
		got := given.Perturb(m, x, y, r)
		if !slices.Equal(got, want) {
			t.Errorf("%v: PGD from the given start differs from the run that drew the same start", p)
		}
		if r.Uint64() != rand.New(rand.NewPCG(99, 100)).Uint64() {
			t.Errorf("%v: PGD with a given start drew from rng", p)
		}

		zero := atk
		zero.ZeroStart = true
		given.Start = x
		if !slices.Equal(given.Perturb(m, x, y, rng), zero.Perturb(m, x, y, rng)) {
			t.Errorf("%v: Start = x differs from ZeroStart", p)
		}

		far := make([]float32, len(x))
		for i := range far {
			far[i] = 5 * float32(rng.NormFloat64())
		}
		given.Start, given.Steps = far, 1
		xa := given.Perturb(m, x, y, rng)
		if dist := distance(xa, x, d, p); dist > float64(eps) {
			t.Errorf("%v: a start outside the ball left the result at distance %g > eps %g", p, dist, eps)
		}
		for _, v := range xa {
			if v < 0 || v > 1 {
				t.Fatalf("%v: a start outside the box left %g in the result", p, v)
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a Start of the wrong length did not panic")
		}
	}()
	PGD{Norm: Linf, Eps: 0.1, Start: make([]float32, 3)}.Perturb(m, x, y, rng)
}
