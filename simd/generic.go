package simd

import "math"

// dotGeneric is the reference dot product:
//
//	for i := range x { sum += x[i] * y[i] }
func dotGeneric(x, y []float32) float32 {
	var sum float32
	for i := range x {
		sum += x[i] * y[i]
	}
	return sum
}

// axpyGeneric is the reference axpy:
//
//	for i := range x { y[i] += alpha * x[i] }
func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i := range x {
		y[i] += alpha * x[i]
	}
}

// scaleGeneric is the reference in-place scaling:
//
//	for i := range x { x[i] *= alpha }
func scaleGeneric(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// addGeneric is the reference element-wise sum:
//
//	for i := range dst { dst[i] = x[i] + y[i] }
func addGeneric(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] + y[i]
	}
}

// mulGeneric is the reference element-wise product:
//
//	for i := range dst { dst[i] = x[i] * y[i] }
func mulGeneric(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] * y[i]
	}
}

// reverseStepGeneric is the reference fused reverse-diffusion update:
//
//	for i := range out { out[i] = a*x[i] + b*eps[i] + c*z[i] }
func reverseStepGeneric(out, x, eps, z []float32, a, b, c float32) {
	x, eps, z = x[:len(out)], eps[:len(out)], z[:len(out)]
	for i := range out {
		out[i] = a*x[i] + b*eps[i] + c*z[i]
	}
}

// reverseStepGuidedGeneric is the reference guided reverse-diffusion update:
//
//	for i := range out { out[i] = a*x[i] + b*eps[i] + c*z[i] + d*g[i] }
func reverseStepGuidedGeneric(out, x, eps, z, g []float32, a, b, c, d float32) {
	x, eps, z, g = x[:len(out)], eps[:len(out)], z[:len(out)], g[:len(out)]
	for i := range out {
		out[i] = a*x[i] + b*eps[i] + c*z[i] + d*g[i]
	}
}

// sumSquaresGeneric is the reference sum of squares:
//
//	for i := range x { sum += x[i] * x[i] }
func sumSquaresGeneric(x []float32) float32 {
	var sum float32
	for i := range x {
		sum += x[i] * x[i]
	}
	return sum
}

// maxGeneric is the reference maximum (NaN propagates; -Inf for empty x):
//
//	m := -Inf; for i := range x { if x[i] > m || x[i] != x[i] { m = x[i] } }
func maxGeneric(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m || v != v {
			m = v
			if v != v {
				return v
			}
		}
	}
	return m
}

// expSubSumGeneric is the reference for the body of a row softmax: it
// replaces each x[i] by exp(x[i]-shift) and returns their sum:
//
//	for i := range x { x[i] = exp(x[i] - shift); sum += x[i] }
func expSubSumGeneric(x []float32, shift float32) float32 {
	var sum float32
	for i := range x {
		e := float32(math.Exp(float64(x[i] - shift)))
		x[i] = e
		sum += e
	}
	return sum
}
