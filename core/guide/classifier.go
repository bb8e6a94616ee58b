package guide

import (
	"fmt"
	"math"

	"github.com/cdp-project/cdp/core/diffusion"
	"github.com/cdp-project/cdp/simd"
)

// ClassifierNet is a classifier p_phi(y | x_t) with the backward pass to its
// input. The step is passed on for noise-aware classifiers; others ignore it.
type ClassifierNet interface {
	// Logits returns the logits, (N, K), of x, (N, D), and K, keeping what
	// InputGrad needs.
	Logits(x []float32, n int, s diffusion.Step) (logits []float32, k int)
	// InputGrad returns dL/dx, (N, D), given dL/dlogits, (N, K), for the
	// input of the last Logits call.
	InputGrad(dlogits []float32) []float32
}

// Classifier is classifier guidance in score form as an EpsModel wrapper:
// inside the window, eps' = eps - Scale sqrt(1 - aBar_t) grad_x log p(y | x_t),
// the gradient of sum_i log p(y_i | x_i) (items with a negative label are
// not guided).
type Classifier struct {
	Model  diffusion.EpsModel
	Net    ClassifierNet
	Scale  float64
	Window Window
}

// Dim implements diffusion.EpsModel.
func (c *Classifier) Dim() int { return c.Model.Dim() }

// LogProbGrad returns sum_i log p(y_i | x_i) over the labelled items and, if
// dx is not nil, writes its gradient with respect to x, (N, D), into dx.
func (c *Classifier) LogProbGrad(dx, x []float32, y []int, s diffusion.Step) float64 {
	n := len(y)
	logits, k := c.Net.Logits(x, n, s)
	if len(logits) != n*k {
		panic(fmt.Sprintf("guide.Classifier: %d logits for (N, K) = (%d, %d)", len(logits), n, k))
	}
	dl := make([]float32, n*k)
	var total float64
	for i, yi := range y {
		if yi < 0 {
			continue
		}
		if yi >= k {
			panic(fmt.Sprintf("guide.Classifier: label %d of item %d, classifier has %d classes", yi, i, k))
		}
		row := logits[i*k : (i+1)*k]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - m)
		}
		lse := m + math.Log(sum)
		total += float64(row[yi]) - lse
		for j, v := range row { // d log softmax_y / d logit_j = [j = y] - p_j
			g := -math.Exp(float64(v) - lse)
			if j == yi {
				g++
			}
			dl[i*k+j] = float32(g)
		}
	}
	if dx != nil {
		g := c.Net.InputGrad(dl)
		if len(g) != len(dx) {
			panic(fmt.Sprintf("guide.Classifier: input gradient has %d values, x has %d", len(g), len(dx)))
		}
		copy(dx, g)
	}
	return total
}

// Eps implements diffusion.EpsModel.
func (c *Classifier) Eps(eps, x []float32, y []int, s diffusion.Step) error {
	if err := c.Model.Eps(eps, x, y, s); err != nil {
		return err
	}
	if c.Scale == 0 || !c.Window.In(s.T) {
		return nil
	}
	dx := make([]float32, len(x))
	c.LogProbGrad(dx, x, y, s)
	simd.Axpy(float32(-c.Scale*math.Sqrt(1-s.AlphaBar)), dx, eps)
	return nil
}

// ClassifierFree is classifier-free guidance as an EpsModel wrapper:
// eps' = (1 + W) eps(x, y) - W eps(x, null) inside the window (W = 0: the
// conditional model alone). The model must have been trained with label
// dropout (diffusion.DropLabels).
type ClassifierFree struct {
	Model  diffusion.EpsModel
	W      float64
	Window Window
}

// Dim implements diffusion.EpsModel.
func (c *ClassifierFree) Dim() int { return c.Model.Dim() }

// Eps implements diffusion.EpsModel.
func (c *ClassifierFree) Eps(eps, x []float32, y []int, s diffusion.Step) error {
	if err := c.Model.Eps(eps, x, y, s); err != nil {
		return err
	}
	if c.W == 0 || !c.Window.In(s.T) {
		return nil
	}
	null := make([]int, len(y))
	for i := range null {
		null[i] = diffusion.NullLabel
	}
	u := make([]float32, len(eps))
	if err := c.Model.Eps(u, x, null, s); err != nil {
		return err
	}
	d := c.Model.Dim()
	for i, yi := range y {
		if yi < 0 { // already unconditional
			continue
		}
		r := i * d
		// eps' = (1+W) eps - W u
		simd.ReverseStep(eps[r:r+d], eps[r:r+d], u[r:r+d], u[r:r+d], float32(1+c.W), float32(-c.W), 0)
	}
	return nil
}
