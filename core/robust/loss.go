package robust

import (
	"fmt"
	"math"
	"sort"
)

// Loss is the objective an attack maximises, per point, as a function of the
// logits z (K) and the label y.
type Loss int

const (
	// CE is the cross-entropy -log softmax(z)_y.
	CE Loss = iota
	// Margin is the Carlini-Wagner margin max_{j != y} z_j - z_y.
	Margin
	// DLR is the difference of logits ratio of Croce and Hein (2020),
	// -(z_y - max_{j != y} z_j) / (z_pi1 - z_pi3 + 1e-12), pi sorting z in
	// decreasing order. With K < 3 the denominator is 1.
	DLR
	// TargetedDLR is -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4)/2 + 1e-12) for a
	// target class t. With K < 4 the denominator is 1 (a targeted margin).
	TargetedDLR
	// KL is KL(p || softmax(z)) for a reference distribution p (TRADES).
	KL
)

// String returns the short name of the loss.
func (l Loss) String() string {
	switch l {
	case CE:
		return "ce"
	case Margin:
		return "margin"
	case DLR:
		return "dlr"
	case TargetedDLR:
		return "dlr-targeted"
	case KL:
		return "kl"
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// lossArgs carries what a loss needs besides the logits.
type lossArgs struct {
	y      []int     // labels (N)
	target []int     // target classes (N), TargetedDLR only
	p      []float32 // reference probabilities (N, K), KL only
}

// lossGrad evaluates loss for logits z (N, K): the per-point values into
// value (N) and the gradient of their sum with respect to z into dz (N, K).
func lossGrad(loss Loss, z []float32, n, k int, a lossArgs, value []float64, dz []float32) {
	checkLogits("lossGrad", z, n, k)
	if len(value) != n || len(dz) != n*k {
		panic(fmt.Sprintf("robust.lossGrad: value %d, dz %d for (N=%d, K=%d)", len(value), len(dz), n, k))
	}
	idx := make([]int, k)
	for i := range n {
		zi := z[i*k : (i+1)*k]
		di := dz[i*k : (i+1)*k]
		clear(di)
		switch loss {
		case CE:
			value[i] = softmaxCE(zi, a.y[i], di)
		case Margin:
			m, j := margin(zi, a.y[i])
			value[i] = -float64(m)
			if j != a.y[i] {
				di[j] += 1
				di[a.y[i]] -= 1
			}
		case DLR:
			value[i] = dlr(zi, a.y[i], -1, idx, di)
		case TargetedDLR:
			value[i] = dlr(zi, a.y[i], a.target[i], idx, di)
		case KL:
			value[i] = klGrad(a.p[i*k:(i+1)*k], zi, di)
		default:
			panic(fmt.Sprintf("robust.lossGrad: unknown loss %v", loss))
		}
	}
}

// softmaxCE returns -log softmax(z)_y and writes softmax(z) - onehot(y) to dz.
func softmaxCE(z []float32, y int, dz []float32) float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, float64(v))
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(float64(v) - mx)
	}
	for j, v := range z {
		dz[j] = float32(math.Exp(float64(v)-mx) / s)
	}
	dz[y] -= 1
	return mx + math.Log(s) - float64(z[y])
}

// dlr evaluates the untargeted (t < 0) or targeted DLR loss of one point and
// adds its gradient to dz. idx is scratch of length K.
func dlr(z []float32, y, t int, idx []int, dz []float32) float64 {
	k := len(z)
	for j := range idx {
		idx[j] = j
	}
	sort.SliceStable(idx, func(a, b int) bool { return z[idx[a]] > z[idx[b]] })
	var num float64 // z_y - z_other
	other := t
	if t < 0 {
		var m float32
		m, other = margin(z, y)
		num = float64(m)
	} else {
		num = float64(z[y]) - float64(z[t])
	}
	den := 1.0
	switch {
	case t < 0 && k >= 3:
		den = float64(z[idx[0]]) - float64(z[idx[2]]) + 1e-12
	case t >= 0 && k >= 4:
		den = float64(z[idx[0]]) - 0.5*(float64(z[idx[2]])+float64(z[idx[3]])) + 1e-12
	}
	// L = -num/den: dL/dnum = -1/den, dL/dden = num/den^2.
	dz[y] -= float32(1 / den)
	if other != y {
		dz[other] += float32(1 / den)
	}
	dden := num / (den * den)
	switch {
	case t < 0 && k >= 3:
		dz[idx[0]] += float32(dden)
		dz[idx[2]] -= float32(dden)
	case t >= 0 && k >= 4:
		dz[idx[0]] += float32(dden)
		dz[idx[2]] -= float32(0.5 * dden)
		dz[idx[3]] -= float32(0.5 * dden)
	}
	return -num / den
}

// klGrad returns KL(p || q) with q = softmax(z) and writes q - p to dz.
func klGrad(p, z []float32, dz []float32) float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, float64(v))
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(float64(v) - mx)
	}
	lse := mx + math.Log(s)
	kl := 0.0
	for j, v := range z {
		logq := float64(v) - lse
		dz[j] = float32(math.Exp(logq)) - p[j]
		if p[j] > 0 {
			kl += float64(p[j]) * (math.Log(float64(p[j])) - logq)
		}
	}
	return kl
}

// softmaxRows writes softmax of each row of z (N, K) into a new buffer.
func softmaxRows(z []float32, n, k int) []float32 {
	p := make([]float32, n*k)
	for i := range n {
		zi := z[i*k : (i+1)*k]
		mx := math.Inf(-1)
		for _, v := range zi {
			mx = math.Max(mx, float64(v))
		}
		s := 0.0
		for _, v := range zi {
			s += math.Exp(float64(v) - mx)
		}
		for j, v := range zi {
			p[i*k+j] = float32(math.Exp(float64(v)-mx) / s)
		}
	}
	return p
}
