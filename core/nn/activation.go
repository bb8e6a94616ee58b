package nn

import "math"

// sigmoid is 1/(1+exp(-x)), through math.Exp (assembly on amd64).
func sigmoid(x float32) float32 { return 1 / (1 + float32(math.Exp(float64(-x)))) }

// SiLU is y = x sigmoid(x) element-wise, any shape.
type SiLU struct {
	x, y, dx []float32
}

// Forward returns SiLU(x); x is kept for Backward.
func (a *SiLU) Forward(x []float32) []float32 {
	a.x = x
	y := grow(&a.y, len(x))
	parallelFor(len(x)/1024+1, 1024*20, func(lo, hi int) {
		for i := lo * 1024; i < min(hi*1024, len(x)); i++ {
			v := x[i]
			y[i] = v * sigmoid(v)
		}
	})
	return y
}

// Backward returns dx = dy (s + x s (1 - s)) with s = sigmoid(x).
func (a *SiLU) Backward(dy []float32) []float32 {
	x := a.x
	if len(dy) != len(x) {
		panic("nn.SiLU: dy and x differ in length")
	}
	dx := grow(&a.dx, len(x))
	parallelFor(len(x)/1024+1, 1024*20, func(lo, hi int) {
		for i := lo * 1024; i < min(hi*1024, len(x)); i++ {
			v := x[i]
			s := sigmoid(v)
			dx[i] = dy[i] * s * (1 + v*(1-s))
		}
	})
	return dx
}

// ReLU is y = max(x, 0) element-wise, any shape.
type ReLU struct {
	y, dx []float32
}

// Forward returns ReLU(x); the output is kept for Backward.
func (a *ReLU) Forward(x []float32) []float32 {
	y := grow(&a.y, len(x))
	for i, v := range x {
		y[i] = max(v, 0)
	}
	return y
}

// Backward returns dx = dy where the output was positive, else 0.
func (a *ReLU) Backward(dy []float32) []float32 {
	if len(dy) != len(a.y) {
		panic("nn.ReLU: dy and y differ in length")
	}
	dx := grow(&a.dx, len(dy))
	for i, v := range a.y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
	return dx
}
