package robust

import (
	"math"
	"math/rand/v2"
	"testing"
)

// fdCheck compares an analytic gradient with central differences taken in
// float32 (the step actually taken is measured, not assumed).
func fdCheck(t *testing.T, name string, z []float32, grad []float32, value func([]float32) float64) {
	t.Helper()
	const h = 1e-3
	for j := range z {
		zp := append([]float32(nil), z...)
		zm := append([]float32(nil), z...)
		zp[j] += h
		zm[j] -= h
		fd := (value(zp) - value(zm)) / (float64(zp[j]) - float64(zm[j]))
		if math.Abs(fd-float64(grad[j])) > 1e-3*(1+math.Abs(fd)) {
			t.Errorf("%s: d/dz[%d] = %g, finite difference %g", name, j, grad[j], fd)
		}
	}
}

func TestLossGradFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{2, 3, 4, 5, 10} {
		n := 4
		z := make([]float32, n*k)
		for i := range z {
			z[i] = float32(3 * rng.NormFloat64())
		}
		y := make([]int, n)
		target := make([]int, n)
		for i := range y {
			y[i] = rng.IntN(k)
			target[i] = (y[i] + 1 + rng.IntN(k-1)) % k
		}
		p := softmaxRows(z[:], n, k)
		for i := range z {
			z[i] += float32(0.5 * rng.NormFloat64()) // p is not softmax(z)
		}
		a := lossArgs{y: y, target: target, p: p}
		for _, loss := range []Loss{CE, Margin, DLR, TargetedDLR, KL} {
			value := make([]float64, n)
			dz := make([]float32, n*k)
			lossGrad(loss, z, n, k, a, value, dz)
			sum := func(z []float32) float64 {
				v := make([]float64, n)
				lossGrad(loss, z, n, k, a, v, make([]float32, n*k))
				s := 0.0
				for _, u := range v {
					s += u
				}
				return s
			}
			fdCheck(t, loss.String(), z, dz, sum)
		}
	}
}

func TestLossValues(t *testing.T) {
	// Hand-computed values on one point, K = 5, y = 1, target 3.
	z := []float32{2, 1, 0.5, -1, 3}
	a := lossArgs{y: []int{1}, target: []int{3}, p: []float32{0.2, 0.2, 0.2, 0.2, 0.2}}
	v := make([]float64, 1)
	dz := make([]float32, 5)
	lse := math.Log(math.Exp(2) + math.Exp(1) + math.Exp(0.5) + math.Exp(-1) + math.Exp(3))
	want := map[Loss]float64{
		CE:     lse - 1,
		Margin: 3 - 1,
		// sorted: 3, 2, 1, 0.5, -1: pi1 = 3, pi3 = 1, pi4 = 0.5.
		DLR:         -(1 - 3) / (3 - 1 + 1e-12),
		TargetedDLR: -(1 - (-1)) / (3 - 0.5*(1+0.5) + 1e-12),
		KL:          math.Log(0.2) - (2+1+0.5-1+3)/5*1 + lse,
	}
	for loss, w := range want {
		lossGrad(loss, z, 1, 5, a, v, dz)
		if math.Abs(v[0]-w) > 1e-6 {
			t.Errorf("%v = %.9g, want %.9g", loss, v[0], w)
		}
	}
}

func TestCheckpoints(t *testing.T) {
	// p = 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99, 1.05 by hand.
	want := []int{22, 41, 57, 70, 80, 87, 93, 99}
	got := Checkpoints(100)
	if len(got) != len(want) {
		t.Fatalf("Checkpoints(100) = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Checkpoints(100) = %v, want %v", got, want)
		}
	}
	// The reference's integer form: window k = 22, shrinking by 3 down to 6.
	w, k := 0, 22
	var ref []int
	for w+k <= 100 {
		w += k
		ref = append(ref, w)
		k = max(k-3, 6)
	}
	for i := range ref {
		if ref[i] != got[i] {
			t.Fatalf("Checkpoints(100) = %v, integer schedule %v", got, ref)
		}
	}
	for _, s := range []int{1, 5, 10, 20, 1000} {
		c := Checkpoints(s)
		for i := range c {
			if c[i] < 1 || c[i] > s || (i > 0 && c[i] <= c[i-1]) {
				t.Errorf("Checkpoints(%d) = %v", s, c)
			}
		}
	}
}
