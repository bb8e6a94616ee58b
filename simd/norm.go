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
