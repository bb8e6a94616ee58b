package robust

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// APGD is Auto-PGD of Croce and Hein (2020) with the cross-entropy (APGD-CE)
// or the DLR loss (APGD-DLR). From x0 + eps t on the ball's boundary:
//
//	z_{k+1} = P(x_k + eta_k s(grad_k)),
//	x_{k+1} = P(x_k + alpha (z_{k+1} - x_k) + (1 - alpha)(x_k - x_{k-1})),
//
// s the sign (l_inf) or the normalised gradient (l_2), alpha = 0.75 (1 on the
// first step), eta_0 = 2 eps. At the checkpoints w_j = ceil(p_j Steps),
// p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06), a
// point's step size is halved and it restarts from its best point (highest
// loss) when (a) the loss increased on at most Rho (w_j - w_{j-1}) of the
// steps since the last checkpoint (as the reference code; the paper says
// fewer than), or (b) its step size was not halved at
// the last checkpoint and its best loss did not improve since. Every
// iterate is a candidate for the per-point worst case (misclassified first).
// Restarts run again from fresh random starts on the points still robust.
type APGD struct {
	Norm     Norm
	Eps      float32
	Steps    int     // 0 means 100
	Restarts int     // 0 means 1
	Loss     Loss    // CE or DLR (Margin works too)
	Rho      float64 // 0 means 0.75
}

// Name returns "apgd-<loss>" ("apgd-ce", "apgd-dlr").
func (a APGD) Name() string { return "apgd-" + a.Loss.String() }

// Perturb implements Attack.
func (a APGD) Perturb(f Classifier, x []float32, y []int, rng *rand.Rand) []float32 {
	n, d, k := checkAttackArgs("APGD", f, x, y)
	checkEps("APGD", a.Eps)
	if a.Loss == KL || a.Loss == TargetedDLR {
		panic(fmt.Sprintf("robust.APGD: loss %v needs more than labels (use APGDT for targeted DLR)", a.Loss))
	}
	if n == 0 {
		return nil
	}
	c := apgdConfig{norm: a.Norm, eps: a.Eps, steps: a.Steps, rho: a.Rho, loss: a.Loss}.defaults()
	t := newTracker(x, n, d, k)
	for range max(a.Restarts, 1) {
		idx := t.robustIdx()
		if len(idx) == 0 {
			break
		}
		c.run(f, gather(x, d, idx), lossArgs{y: gatherInts(y, idx)}, d, k, t, idx, rng)
	}
	return t.x
}

// APGDT is APGD with the targeted DLR loss (APGD-T): for each of the
// Targets classes with the largest clean logits other than y (9 as in
// AutoAttack, fewer when K - 1 < Targets), one APGD run (Restarts runs) that
// maximises -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4)/2 + 1e-12) on the points
// still robust. Success is misclassification, as in AutoAttack.
type APGDT struct {
	Norm     Norm
	Eps      float32
	Steps    int     // 0 means 100
	Restarts int     // 0 means 1
	Targets  int     // 0 means 9
	Rho      float64 // 0 means 0.75
}

// Name returns "apgd-t".
func (a APGDT) Name() string { return "apgd-t" }

// Perturb implements Attack.
func (a APGDT) Perturb(f Classifier, x []float32, y []int, rng *rand.Rand) []float32 {
	n, d, k := checkAttackArgs("APGDT", f, x, y)
	checkEps("APGDT", a.Eps)
	if n == 0 {
		return nil
	}
	c := apgdConfig{norm: a.Norm, eps: a.Eps, steps: a.Steps, rho: a.Rho, loss: TargetedDLR}.defaults()
	nt := a.Targets
	if nt <= 0 {
		nt = 9
	}
	nt = min(nt, k-1)
	z := append([]float32(nil), f.Logits(x, n)...)
	checkLogits("APGDT", z, n, k)
	order := targetClasses(z, y, k)
	t := newTracker(x, n, d, k)
	t.update(x, z, y, nil)
	for r := range nt {
		for range max(a.Restarts, 1) {
			idx := t.robustIdx()
			if len(idx) == 0 {
				return t.x
			}
			target := make([]int, len(idx))
			for q, i := range idx {
				target[q] = order[i][r]
			}
			c.run(f, gather(x, d, idx), lossArgs{y: gatherInts(y, idx), target: target}, d, k, t, idx, rng)
		}
	}
	return t.x
}

// targetClasses returns, for every point of the logits z (N, K), the
// classes other than y by decreasing logit (ties by index).
func targetClasses(z []float32, y []int, k int) [][]int {
	order := make([][]int, len(y))
	for i := range y {
		zi := z[i*k : (i+1)*k]
		o := make([]int, 0, k-1)
		for j := range k {
			if j != y[i] {
				o = append(o, j)
			}
		}
		sort.SliceStable(o, func(p, q int) bool { return zi[o[p]] > zi[o[q]] })
		order[i] = o
	}
	return order
}

// apgdConfig holds one APGD run's settings.
type apgdConfig struct {
	norm  Norm
	eps   float32
	steps int
	rho   float64
	loss  Loss
	// trace, when set, sees the step sizes after every checkpoint (tests).
	trace func(checkpoint int, eta []float32)
}

func (c apgdConfig) defaults() apgdConfig {
	if c.steps <= 0 {
		c.steps = 100
	}
	if c.rho <= 0 {
		c.rho = 0.75
	}
	return c
}

// Checkpoints returns the APGD checkpoints w_j = ceil(p_j steps), j >= 1,
// that fall within [1, steps]: p_0 = 0, p_1 = 0.22,
// p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06).
func Checkpoints(steps int) []int {
	var w []int
	prev, p := 0.0, 0.22
	for {
		// The small offset keeps 0.41 * 100 from rounding up to 42.
		c := int(math.Ceil(p*float64(steps) - 1e-9))
		if c > steps {
			break
		}
		if c >= 1 && (len(w) == 0 || c > w[len(w)-1]) {
			w = append(w, c)
		}
		prev, p = p, p+math.Max(p-prev-0.03, 0.06)
	}
	return w
}

// run performs one APGD run on the clean points x (M, D) with the loss
// arguments a, offering every iterate to the tracker rows idx (M).
func (c apgdConfig) run(f Classifier, x []float32, a lossArgs, d, k int, t *tracker, idx []int, rng *rand.Rand) {
	m := len(a.y)
	sub := newTracker(x, m, d, k)
	xk := make([]float32, m*d)
	boundaryStart(xk, x, d, c.norm, c.eps, rng)
	loss, g := gradient(f, xk, m, k, c.loss, a, sub)

	xPrev := append([]float32(nil), xk...)
	xBest := append([]float32(nil), xk...)
	gBest := append([]float32(nil), g...)
	lossBest := append([]float64(nil), loss...)
	lossLast := append([]float64(nil), loss...)      // loss of the latest iterate
	lossBestCheck := append([]float64(nil), loss...) // best loss at the last checkpoint
	reducedLast := make([]bool, m)
	for i := range reducedLast {
		reducedLast[i] = true
	}
	increases := make([]int, m)
	eta := make([]float32, m)
	for i := range eta {
		eta[i] = 2 * c.eps
	}
	w := Checkpoints(c.steps)
	wPrev, next := 0, 0

	zk := make([]float32, m*d)
	xNew := make([]float32, m*d)
	for it := range c.steps {
		alpha := float32(0.75)
		if it == 0 {
			alpha = 1
		}
		copy(zk, xk)
		ascend(zk, g, d, c.norm, eta)
		project(zk, x, d, c.norm, c.eps)
		for j := range xNew {
			xNew[j] = xk[j] + alpha*(zk[j]-xk[j]) + (1-alpha)*(xk[j]-xPrev[j])
		}
		project(xNew, x, d, c.norm, c.eps)
		xPrev, xk, xNew = xk, xNew, xPrev

		loss, g = gradient(f, xk, m, k, c.loss, a, sub)
		for i := range m {
			if loss[i] > lossLast[i] {
				increases[i]++
			}
			lossLast[i] = loss[i]
			if loss[i] > lossBest[i] {
				lossBest[i] = loss[i]
				copy(xBest[i*d:(i+1)*d], xk[i*d:(i+1)*d])
				copy(gBest[i*d:(i+1)*d], g[i*d:(i+1)*d])
			}
		}
		if next < len(w) && it+1 == w[next] {
			span := float64(w[next] - wPrev)
			for i := range m {
				// The paper writes <, the reference code <= (they differ only
				// when Rho span is an integer, e.g. the window of 16 at 100 steps).
				oscillating := float64(increases[i]) <= c.rho*span
				stalled := !reducedLast[i] && lossBestCheck[i] >= lossBest[i]
				reduce := oscillating || stalled
				reducedLast[i] = reduce
				lossBestCheck[i] = lossBest[i]
				increases[i] = 0
				if reduce {
					eta[i] /= 2
					copy(xk[i*d:(i+1)*d], xBest[i*d:(i+1)*d])
					copy(g[i*d:(i+1)*d], gBest[i*d:(i+1)*d])
				}
			}
			if c.trace != nil {
				c.trace(w[next], eta)
			}
			wPrev = w[next]
			next++
		}
	}
	t.merge(sub, idx)
}

// merge offers the points of sub (rows idx of t) to t.
func (t *tracker) merge(sub *tracker, idx []int) {
	d := t.d
	for r, i := range idx {
		if (sub.fooled[r] && !t.fooled[i]) || (sub.fooled[r] == t.fooled[i] && sub.margin[r] < t.margin[i]) {
			t.fooled[i], t.margin[i] = sub.fooled[r], sub.margin[r]
			copy(t.x[i*d:(i+1)*d], sub.x[r*d:(r+1)*d])
		}
	}
}
