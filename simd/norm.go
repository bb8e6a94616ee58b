package simd

import "fmt"

// The group-norm kernels: a normalisation layer (core/nn.GroupNorm) spends
// its time in two passes per channel, the centred sum of squares that gives
// the variance and the affine map that gives the output. They are optional
// fields of kernelSet: a set without them runs a Go loop for the centring
// and its own SumSquares kernel for the sum, and the generic affine loop.

// CenterSumSquares sets dst[i] = x[i] - mean and returns the sum of the
// squares of dst (dst may alias x). The sum is a float32 reduction, like
// SumSquares: its order, and with FMA its rounding, depend on the kernel set.
func CenterSumSquares(dst, x []float32, mean float32) float32 {
	if len(dst) < len(x) {
		panic(fmt.Sprintf("simd.CenterSumSquares: dst has length %d, x %d", len(dst), len(x)))
	}
	s := current.Load()
	if k := s.centerSumSquares; k != nil {
		return k(dst[:len(x)], x, mean)
	}
	center(dst[:len(x)], x, mean)
	return s.sumSquares(dst[:len(x)])
}

// NormalizeAffine scales xhat by rstd in place and writes the affine map of
// the result to y: t = xhat[i]*rstd, xhat[i] = t, y[i] = t*gamma + beta. A set
// with FMA may fuse t*gamma + beta.
func NormalizeAffine(xhat, y []float32, rstd, gamma, beta float32) {
	if len(y) < len(xhat) {
		panic(fmt.Sprintf("simd.NormalizeAffine: y has length %d, xhat %d", len(y), len(xhat)))
	}
	if k := current.Load().normalizeAffine; k != nil {
		k(xhat, y[:len(xhat)], rstd, gamma, beta)
		return
	}
	normalizeAffineGeneric(xhat, y[:len(xhat)], rstd, gamma, beta)
}

// centerSumSquaresGeneric is the reference: the centring loop, then the
// generic SumSquares of the result,
//
//	for i := range x { dst[i] = x[i] - mean }
//	return sumSquaresGeneric(dst)
func centerSumSquaresGeneric(dst, x []float32, mean float32) float32 {
	center(dst, x, mean)
	return sumSquaresGeneric(dst[:len(x)])
}

func center(dst, x []float32, mean float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = v - mean
	}
}

// normalizeAffineGeneric is the reference loop:
//
//	for i := range xhat { t := xhat[i] * rstd; xhat[i] = t; y[i] = float32(t*gamma) + beta }
func normalizeAffineGeneric(xhat, y []float32, rstd, gamma, beta float32) {
	y = y[:len(xhat)]
	for i, v := range xhat {
		t := v * rstd
		xhat[i] = t
		y[i] = float32(t*gamma) + beta
	}
}

// SumDot returns the sum of x and the dot product of x and y in one pass:
// the first pass of a normalisation layer's backward (the sums of dy and of
// dy*xhat). Both are float32 reductions whose order, and with FMA rounding,
// depend on the kernel set.
func SumDot(x, y []float32) (sx, sxy float32) {
	if len(y) < len(x) {
		panic(fmt.Sprintf("simd.SumDot: y has length %d, x %d", len(y), len(x)))
	}
	if k := current.Load().sumDot; k != nil {
		return k(x, y[:len(x)])
	}
	return sumDotGeneric(x, y[:len(x)])
}

// GroupNormGrad is the second pass of a normalisation layer's backward: it
// sets
//
//	dx[i] = rstd * ((dy[i]*gamma - mdy) - xhat[i]*mdyx)
//
// with every operation rounded on its own (no fused multiply-add, so every
// set gives the same dx), and returns the sum of dx (a float32 reduction
// whose order depends on the set).
func GroupNormGrad(dx, dy, xhat []float32, rstd, gamma, mdy, mdyx float32) float32 {
	if len(dy) < len(dx) || len(xhat) < len(dx) {
		panic(fmt.Sprintf("simd.GroupNormGrad: dx has length %d, dy %d, xhat %d", len(dx), len(dy), len(xhat)))
	}
	if k := current.Load().groupNormGrad; k != nil {
		return k(dx, dy[:len(dx)], xhat[:len(dx)], rstd, gamma, mdy, mdyx)
	}
	return groupNormGradGeneric(dx, dy[:len(dx)], xhat[:len(dx)], rstd, gamma, mdy, mdyx)
}

// sumDotGeneric is the reference loop:
//
//	for i, v := range x { sx += v; sxy += float32(v * y[i]) }
func sumDotGeneric(x, y []float32) (sx, sxy float32) {
	y = y[:len(x)]
	for i, v := range x {
		sx += v
		sxy += float32(v * y[i])
	}
	return sx, sxy
}

// groupNormGradGeneric is the reference loop:
//
//	for i, d := range dy {
//		t := rstd * (float32(float32(d*gamma)-mdy) - float32(xhat[i]*mdyx))
//		dx[i] = t
//		sum += t
//	}
func groupNormGradGeneric(dx, dy, xhat []float32, rstd, gamma, mdy, mdyx float32) float32 {
	dy, xhat = dy[:len(dx)], xhat[:len(dx)]
	var sum float32
	for i, d := range dy {
		t := rstd * (float32(float32(d*gamma)-mdy) - float32(xhat[i]*mdyx))
		dx[i] = t
		sum += t
	}
	return sum
}
