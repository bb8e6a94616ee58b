package robust

import (
	"math"
	"math/rand/v2"
)

// Attack perturbs correctly classified points within a threat model.
type Attack interface {
	// Name returns the attack's name in reports ("apgd-ce", "square", ...).
	Name() string
	// Perturb returns adversarial examples (N, D) for x (N, D) in [0, 1]
	// with labels y (N): for each point the worst case the attack found,
	// a misclassified point where it found one, else the point of smallest
	// margin z_y - max_{j != y} z_j. Every row stays in the eps-ball
	// around its row of x and in [0, 1].
	Perturb(f Classifier, x []float32, y []int, rng *rand.Rand) []float32
}

// tracker keeps the per-point worst case over many candidate points: a
// misclassified point beats a correctly classified one, and among equals the
// smaller margin z_y - max_{j != y} z_j wins.
type tracker struct {
	d, k   int
	x      []float32 // (N, D) best points
	margin []float32 // (N)
	fooled []bool    // (N)
}

func newTracker(x0 []float32, n, d, k int) *tracker {
	t := &tracker{d: d, k: k, x: append([]float32(nil), x0...), margin: make([]float32, n), fooled: make([]bool, n)}
	for i := range t.margin {
		t.margin[i] = float32(math.Inf(1))
	}
	return t
}

// update offers the rows of x (M, D) with logits z (M, K) and labels y (M)
// for the tracker rows idx (M); idx nil means the identity.
func (t *tracker) update(x, z []float32, y []int, idx []int) {
	d, k := t.d, t.k
	for r := range y {
		i := r
		if idx != nil {
			i = idx[r]
		}
		zr := z[r*k : (r+1)*k]
		m, _ := margin(zr, y[r])
		fooled := argmax(zr) != y[r]
		if (fooled && !t.fooled[i]) || (fooled == t.fooled[i] && m < t.margin[i]) {
			t.fooled[i], t.margin[i] = fooled, m
			copy(t.x[i*d:(i+1)*d], x[r*d:(r+1)*d])
		}
	}
}

// robustIdx returns the indices of the points not yet fooled.
func (t *tracker) robustIdx() []int {
	var idx []int
	for i, f := range t.fooled {
		if !f {
			idx = append(idx, i)
		}
	}
	return idx
}

// gradient evaluates f at x (N, D), tracks the result, and returns the
// per-point loss values and the input gradient (copied) of their sum.
func gradient(f Classifier, x []float32, n, k int, loss Loss, a lossArgs, t *tracker) ([]float64, []float32) {
	z := f.Logits(x, n)
	checkLogits("gradient", z, n, k)
	if t != nil {
		t.update(x, z, a.y, nil)
	}
	value := make([]float64, n)
	dz := make([]float32, n*k)
	lossGrad(loss, z, n, k, a, value, dz)
	g := f.InputGrad(dz)
	if len(g) != len(x) {
		panic("robust: InputGrad returned a gradient of the wrong length")
	}
	return value, append([]float32(nil), g...)
}

// observe evaluates f at x (N, D) and tracks the result.
func observe(f Classifier, x []float32, y []int, t *tracker) {
	z := f.Logits(x, len(y))
	checkLogits("observe", z, len(y), t.k)
	t.update(x, z, y, nil)
}

func checkAttackArgs(who string, f Classifier, x []float32, y []int) (n, d, k int) {
	n = len(y)
	d = dim(x, n, who)
	k = f.NumClasses()
	checkLabels(who, y, k)
	return n, d, k
}

func checkEps(who string, eps float32) {
	if !(eps >= 0) || math.IsInf(float64(eps), 0) {
		panic("robust." + who + ": eps must be finite and >= 0")
	}
}
