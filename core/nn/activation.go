package nn

import "github.com/cdp-project/cdp/simd"

// SiLU is y = x sigmoid(x) element-wise, any shape. The exponentials run
// through the simd exp kernel (vectorised where the CPU allows), and the
// sigmoid is kept for Backward.
type SiLU struct {
	s, y, dx []float32 // sigmoid(x), output, input gradient
	x        []float32
}

// siluChunk is the number of elements one goroutine handles at a time (a
// multiple of 8, so that the bits do not depend on it).
const siluChunk = 4096

// siluInto sets y = SiLU(x) and s = sigmoid(x), in parallel chunks.
func siluInto(y, s, x []float32) {
	parallelFor((len(x)+siluChunk-1)/siluChunk, siluChunk*8, func(lo, hi int) {
		lo, hi = lo*siluChunk, min(hi*siluChunk, len(x))
		simd.SiLU(y[lo:hi], s[lo:hi], x[lo:hi])
	})
}

// siluGradInto sets dx = dy (s + x s (1 - s)), in parallel chunks.
func siluGradInto(dx, dy, x, s []float32) {
	parallelFor((len(x)+siluChunk-1)/siluChunk, siluChunk*4, func(lo, hi int) {
		lo, hi = lo*siluChunk, min(hi*siluChunk, len(x))
		simd.SiLUGrad(dx[lo:hi], dy[lo:hi], x[lo:hi], s[lo:hi])
	})
}

// Forward returns SiLU(x); x is kept for Backward.
func (a *SiLU) Forward(x []float32) []float32 {
	a.x = x
	y := Grow(&a.y, len(x))
	siluInto(y, Grow(&a.s, len(x)), x)
	return y
}

// Backward returns dx = dy (s + x s (1 - s)) with s = sigmoid(x).
func (a *SiLU) Backward(dy []float32) []float32 {
	x, s := a.x, a.s
	if len(dy) != len(x) {
		panic("nn.SiLU: dy and x differ in length")
	}
	dx := Grow(&a.dx, len(x))
	siluGradInto(dx, dy, x, s)
	return dx
}

// ReLU is y = max(x, 0) element-wise, any shape.
type ReLU struct {
	y, dx []float32
}

// Forward returns ReLU(x); the output is kept for Backward.
func (a *ReLU) Forward(x []float32) []float32 {
	y := Grow(&a.y, len(x))
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
	dx := Grow(&a.dx, len(dy))
	for i, v := range a.y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
	return dx
}
