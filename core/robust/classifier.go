package robust

import (
	"fmt"
	"math"
)

// Classifier maps inputs in [0, 1] to logits. It must be in eval mode and
// deterministic: two Logits calls on the same input return the same logits.
//
// A model built from layers with hand-written backward implements it
// cheaply: Logits runs Forward (which caches activations), InputGrad runs
// Backward from dlogits and returns dx. Points must not interact (no batch
// statistics), so that the gradient of a sum of per-point losses gives every
// point its own gradient.
type Classifier interface {
	// NumClasses returns K.
	NumClasses() int
	// Logits computes the logits (N, K) of x (N, D), flattened row-major
	// (an image is (C, H, W) inside its row). The result may be a buffer
	// owned by the classifier that the next call overwrites; the caller must
	// not modify x until the InputGrad call that refers to it.
	Logits(x []float32, n int) []float32
	// InputGrad returns dx (N, D), the gradient of sum_i dlogits_i . logits_i
	// with respect to the input of the last Logits call, for dlogits (N, K).
	// The result may be owned by the classifier and overwritten by the next
	// call. It must not disturb anything that a training step relies on
	// (for core/nn models: set Params.NoGrad, or zero the gradients after).
	InputGrad(dlogits []float32) []float32
}

// Norm names the threat model: the norm of the perturbation ball.
type Norm int

const (
	// Linf is the l_inf ball: |x' - x|_i <= eps for every coordinate.
	Linf Norm = iota
	// L2 is the l_2 ball: ||x' - x||_2 <= eps.
	L2
)

// String returns the RobustBench name of the threat model ("Linf", "L2").
func (p Norm) String() string {
	switch p {
	case Linf:
		return "Linf"
	case L2:
		return "L2"
	}
	return fmt.Sprintf("Norm(%d)", int(p))
}

// Predict returns argmax_j logits_ij for logits (N, K); ties go to the
// smallest index.
func Predict(logits []float32, n, k int) []int {
	checkLogits("Predict", logits, n, k)
	pred := make([]int, n)
	for i := range n {
		pred[i] = argmax(logits[i*k : (i+1)*k])
	}
	return pred
}

// Accuracy returns the fraction of the n points of x (N, D) that f
// classifies as y, evaluated in batches of batch points (all at once when
// batch <= 0), and the per-point correctness.
func Accuracy(f Classifier, x []float32, y []int, batch int) (float64, []bool) {
	n := len(y)
	d := dim(x, n, "Accuracy")
	if batch <= 0 {
		batch = max(n, 1)
	}
	k := f.NumClasses()
	ok := make([]bool, n)
	c := 0
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		z := f.Logits(x[lo*d:hi*d], hi-lo)
		checkLogits("Accuracy", z, hi-lo, k)
		for i := lo; i < hi; i++ {
			ok[i] = argmax(z[(i-lo)*k:(i-lo+1)*k]) == y[i]
			if ok[i] {
				c++
			}
		}
	}
	if n == 0 {
		return 0, ok
	}
	return float64(c) / float64(n), ok
}

// argmax returns the index of the largest entry (first on ties; NaN never wins).
func argmax(z []float32) int {
	j := 0
	for i, v := range z {
		if v > z[j] || (math.IsNaN(float64(z[j])) && !math.IsNaN(float64(v))) {
			j = i
		}
	}
	return j
}

// margin returns z_y - max_{j != y} z_j and the maximising j.
func margin(z []float32, y int) (float32, int) {
	m := -1
	for j, v := range z {
		if j != y && (m < 0 || v > z[m]) {
			m = j
		}
	}
	if m < 0 {
		return float32(math.Inf(1)), y
	}
	return z[y] - z[m], m
}

// dim returns D for x (N, D) and panics if len(x) is not a multiple of n.
func dim(x []float32, n int, who string) int {
	if n <= 0 {
		if len(x) != 0 {
			panic(fmt.Sprintf("robust.%s: x has length %d for N=%d", who, len(x), n))
		}
		return 0
	}
	if len(x)%n != 0 || len(x) == 0 {
		panic(fmt.Sprintf("robust.%s: x has length %d, not (N=%d, D) with D > 0", who, len(x), n))
	}
	return len(x) / n
}

func checkLogits(who string, z []float32, n, k int) {
	if len(z) != n*k {
		panic(fmt.Sprintf("robust.%s: logits have length %d, want (N=%d, K=%d)", who, len(z), n, k))
	}
}

func checkLabels(who string, y []int, k int) {
	for i, v := range y {
		if v < 0 || v >= k {
			panic(fmt.Sprintf("robust.%s: label y[%d]=%d outside [0, K=%d)", who, i, v, k))
		}
	}
}

// gather copies the rows idx of x (N, D) into a new (len(idx), D) buffer.
func gather(x []float32, d int, idx []int) []float32 {
	out := make([]float32, len(idx)*d)
	for r, i := range idx {
		copy(out[r*d:(r+1)*d], x[i*d:(i+1)*d])
	}
	return out
}

func gatherInts(y []int, idx []int) []int {
	out := make([]int, len(idx))
	for r, i := range idx {
		out[r] = y[i]
	}
	return out
}
