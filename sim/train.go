package sim

import (
	"fmt"
	"math"
)

// Averaging returns the averaging estimator w = (1/N) sum_i y_i x_i of a
// binary sample, x (N, d) and y (N) in {-1, +1}.
func Averaging(x, y []float64) []float64 {
	n := len(y)
	if n == 0 || len(x)%n != 0 {
		panic(fmt.Sprintf("sim: averaging x of length %d with %d labels", len(x), n))
	}
	d := len(x) / n
	w := make([]float64, d)
	for i, yi := range y {
		row := x[i*d : (i+1)*d]
		for j, v := range row {
			w[j] += yi * v
		}
	}
	for j := range w {
		w[j] /= float64(n)
	}
	return w
}

// LogisticConfig sets the optimiser of RobustLogistic.
type LogisticConfig struct {
	Steps int     // full-batch (sub)gradient steps
	LR    float64 // step size
	Ridge float64 // l_2 penalty (ridge/2)||w||^2, fixes the scale of w
}

// DefaultLogistic is the configuration the experiments use.
var DefaultLogistic = LogisticConfig{Steps: 200, LR: 0.5, Ridge: 1e-2}

// RobustLogistic trains l_inf-robust logistic regression on a binary sample,
// x (N, d), y (N) in {-1, +1}: it minimises
//
//	(1/N) sum_i log(1 + exp(-(y_i w.x_i - eps ||w||_1))) + (ridge/2) ||w||^2,
//
// whose inner maximisation over ||delta||_inf <= eps is closed form for a
// linear model (the worst-case margin is y w.x - eps ||w||_1). Full-batch
// subgradient descent (sign(0) = 0) from the averaging estimator, with step
// LR / sqrt(1 + k/10) at step k; deterministic.
func RobustLogistic(x, y []float64, eps float64, cfg LogisticConfig) []float64 {
	w := Averaging(x, y)
	dw := make([]float64, len(w))
	for k := range cfg.Steps {
		robustLogisticLoss(dw, w, x, y, eps, cfg.Ridge)
		lr := cfg.LR / math.Sqrt(1+float64(k)/10)
		for j := range w {
			w[j] -= lr * dw[j]
		}
	}
	return w
}

// robustLogisticLoss returns the robust logistic loss of w and writes its
// (sub)gradient into dw.
func robustLogisticLoss(dw, w, x, y []float64, eps, ridge float64) float64 {
	n, d := len(y), len(w)
	l1 := Norm1(w)
	var loss float64
	for j := range dw {
		dw[j] = ridge * w[j]
		loss += ridge / 2 * w[j] * w[j]
	}
	var sumP float64
	for i, yi := range y {
		row := x[i*d : (i+1)*d]
		r := yi*Dot(w, row) - eps*l1
		loss += softplus(-r) / float64(n)
		p := 1 / (1 + math.Exp(r)) // sigmoid(-r) = -dloss/dr
		sumP += p
		c := -p * yi / float64(n)
		for j, v := range row {
			dw[j] += c * v
		}
	}
	for j := range dw {
		dw[j] += eps * sumP / float64(n) * sign(w[j])
	}
	return loss
}

// softplus returns log(1 + exp(v)) without overflow.
func softplus(v float64) float64 {
	if v > 0 {
		return v + math.Log1p(math.Exp(-v))
	}
	return math.Log1p(math.Exp(v))
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
