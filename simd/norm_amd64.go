//go:build gc && !purego

package simd

// The avx2 set's group-norm kernels (kernelSet.centerSumSquares and
// normalizeAffine). centerSumSquares sums in the order of the avx2
// SumSquares, so its results are those of centring and then calling
// SumSquares, bit for bit; normalizeAffine rounds like the generic loop.

func centerSumSquaresAVX2Go(dst, x []float32, mean float32) float32 {
	dst = dst[:len(x)]
	n := len(x) &^ 7
	var sum float32
	if n > 0 {
		sum = centerSumSquaresAVX2(dst[:n], x[:n], mean)
	}
	for i := n; i < len(x); i++ {
		d := x[i] - mean
		dst[i] = d
		sum += d * d
	}
	return sum
}

func normalizeAffineAVX2Go(xhat, y []float32, rstd, gamma, beta float32) {
	y = y[:len(xhat)]
	n := len(xhat) &^ 7
	if n > 0 {
		normalizeAffineAVX2(xhat[:n], y[:n], rstd, gamma, beta)
	}
	for i := n; i < len(xhat); i++ {
		t := xhat[i] * rstd
		xhat[i] = t
		y[i] = float32(t*gamma) + beta
	}
}

func sumDotAVX2Go(x, y []float32) (float32, float32) {
	y = y[:len(x)]
	n := len(x) &^ 7
	var sx, sxy float32
	if n > 0 {
		sx, sxy = sumDotAVX2(x[:n], y[:n])
	}
	for i := n; i < len(x); i++ {
		sx += x[i]
		sxy += float32(x[i] * y[i])
	}
	return sx, sxy
}

func groupNormGradAVX2Go(dx, dy, xhat []float32, rstd, gamma, mdy, mdyx float32) float32 {
	dy, xhat = dy[:len(dx)], xhat[:len(dx)]
	n := len(dx) &^ 7
	var sum float32
	if n > 0 {
		sum = groupNormGradAVX2(dx[:n], dy[:n], xhat[:n], rstd, gamma, mdy, mdyx)
	}
	return sum + groupNormGradGeneric(dx[n:], dy[n:], xhat[n:], rstd, gamma, mdy, mdyx)
}
