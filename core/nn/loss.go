package nn

import (
	"fmt"
	"math"
)

// logSoftmaxRow writes log softmax(z) into out, in float64.
func logSoftmaxRow(out []float64, z []float32) {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - m)
	}
	lse := m + math.Log(s)
	for j, v := range z {
		out[j] = float64(v) - lse
	}
}

// CrossEntropy is the mean over the batch of the softmax cross-entropy of
// logits (N, K) against labels (N), with label smoothing epsilon (the target
// is (1-epsilon) one-hot + epsilon/K), as
// torch.nn.functional.cross_entropy(logits, labels, label_smoothing=epsilon).
// It writes dL/dlogits into dlogits (grown as needed; pass nil to allocate)
// and returns the loss and dlogits.
func CrossEntropy(dlogits, logits []float32, labels []int, k int, epsilon float64) (float64, []float32) {
	n := len(labels)
	if len(logits) != n*k {
		panic(fmt.Sprintf("nn.CrossEntropy: logits have length %d, want (N=%d, K=%d)", len(logits), n, k))
	}
	dlogits = Grow(&dlogits, n*k)
	ls := make([]float64, k)
	var loss float64
	for i, y := range labels {
		if y < 0 || y >= k {
			panic(fmt.Sprintf("nn.CrossEntropy: label %d out of range [0, %d)", y, k))
		}
		logSoftmaxRow(ls, logits[i*k:(i+1)*k])
		var sum float64
		for _, v := range ls {
			sum += v
		}
		loss -= (1-epsilon)*ls[y] + epsilon/float64(k)*sum
		d := dlogits[i*k : (i+1)*k]
		for j, v := range ls {
			t := epsilon / float64(k)
			if j == y {
				t += 1 - epsilon
			}
			d[j] = float32((math.Exp(v) - t) / float64(n))
		}
	}
	return loss / float64(n), dlogits
}

// KLDivergence is the TRADES robustness term
// (1/N) sum_i KL(softmax(p_i) || softmax(q_i)) for logits p (natural) and q
// (adversarial), both (N, K): torch's
// KLDivLoss(reduction="batchmean")(log_softmax(q), softmax(p)). It writes
// dL/dp into dp and dL/dq into dq (grown as needed; nil allocates) and
// returns the loss and both gradients.
func KLDivergence(dp, dq, p, q []float32, n, k int) (float64, []float32, []float32) {
	if len(p) != n*k || len(q) != n*k {
		panic(fmt.Sprintf("nn.KLDivergence: p has length %d, q %d, want (N=%d, K=%d)", len(p), len(q), n, k))
	}
	dp, dq = Grow(&dp, n*k), Grow(&dq, n*k)
	lp, lq := make([]float64, k), make([]float64, k)
	var loss float64
	for i := 0; i < n; i++ {
		logSoftmaxRow(lp, p[i*k:(i+1)*k])
		logSoftmaxRow(lq, q[i*k:(i+1)*k])
		var row float64
		for j := range lp {
			row += math.Exp(lp[j]) * (lp[j] - lq[j])
		}
		loss += row
		for j := range lp {
			pj, qj := math.Exp(lp[j]), math.Exp(lq[j])
			dp[i*k+j] = float32(pj * (lp[j] - lq[j] - row) / float64(n))
			dq[i*k+j] = float32((qj - pj) / float64(n))
		}
	}
	return loss / float64(n), dp, dq
}

// MSE is the mean of (y - target)^2 over all elements, as
// torch.nn.functional.mse_loss; it writes dL/dy into dy (grown as needed; nil
// allocates) and returns the loss and dy.
func MSE(dy, y, target []float32) (float64, []float32) {
	if len(y) != len(target) {
		panic(fmt.Sprintf("nn.MSE: y has length %d, target %d", len(y), len(target)))
	}
	dy = Grow(&dy, len(y))
	var s float64
	scale := 2 / float32(len(y))
	for i, v := range y {
		d := v - target[i]
		s += float64(d) * float64(d)
		dy[i] = scale * d
	}
	return s / float64(len(y)), dy
}
