//go:build gc && !purego

package simd

import (
	"fmt"
	"math"

	"github.com/klauspost/cpuid/v2"
)

//go:generate sh -c "cd _gen && go run . -out ../kernels_amd64.s -stubs ../stubs_amd64.go -pkg simd"

// avx2 is the AVX2+FMA kernel set. The assembly (kernels_amd64.s, generated
// by _gen) handles whole vectors of 8; the wrappers below finish the tails.
// Element-wise kernels round like the generic loops (no fused multiply-add);
// dot, sums and the sgemm micro-kernel use FMA and reorder the sums.
var avx2 = kernelSet{
	name:              "avx2",
	requires:          []cpuid.FeatureID{cpuid.AVX2, cpuid.FMA3},
	dot:               dotAVX2Go,
	axpy:              axpyAVX2Go,
	scale:             scaleAVX2Go,
	add:               addAVX2Go,
	mul:               mulAVX2Go,
	reverseStep:       reverseStepAVX2Go,
	reverseStepGuided: reverseStepGuidedAVX2Go,
	sumSquares:        sumSquaresAVX2Go,
	max:               maxAVX2Go,
	expSubSum:         expSubSumAVX2Go,
	gemm: gemmKernel{mr: 6, nr: 16, micro: gemm6x16AVX2, microStore: gemm6x16StoreAVX2, pack6: packA6AVX2Go, packB16: packB16AVX2,
		edge:       [8]func(kc int, a, b, c []float32, ldc int){1: gemm1x16AVX2, 2: gemm2x16AVX2, 3: gemm3x16AVX2, 4: gemm4x16AVX2, 5: gemm5x16AVX2},
		edgeStore:  [8]func(kc int, a, b, c []float32, ldc int){1: gemm1x16StoreAVX2, 2: gemm2x16StoreAVX2, 3: gemm3x16StoreAVX2, 4: gemm4x16StoreAVX2, 5: gemm5x16StoreAVX2},
		block:      gemmBlock6x16AVX2,
		blockStore: gemmBlock6x16StoreAVX2,
	},
	silu8:     siluAVX2,
	siluGrad8: siluGradAVX2,
	gather16:  gatherRows16AVX2,
	gather2x8: gatherRowPairs8AVX2,

	centerSumSquares: centerSumSquaresAVX2Go,
	normalizeAffine:  normalizeAffineAVX2Go,

	transpose8:    transpose8AVX2,
	sumDot:        sumDotAVX2Go,
	groupNormGrad: groupNormGradAVX2Go,

	winoIn:  winoInAVX2Go,
	winoOut: winoOutAVX2Go,
	winoDy:  winoDyAVX2Go,
}

func dotAVX2Go(x, y []float32) float32 {
	y = y[:len(x)]
	n := len(x) &^ 7
	var sum float32
	if n > 0 {
		sum = dotAVX2(x[:n], y[:n])
	}
	for i := n; i < len(x); i++ {
		sum += x[i] * y[i]
	}
	return sum
}

func sumSquaresAVX2Go(x []float32) float32 { return dotAVX2Go(x, x) }

func axpyAVX2Go(alpha float32, x, y []float32) {
	y = y[:len(x)]
	n := len(x) &^ 7
	if n > 0 {
		axpyAVX2(alpha, x[:n], y[:n])
	}
	for i := n; i < len(x); i++ {
		y[i] += float32(alpha * x[i])
	}
}

func scaleAVX2Go(alpha float32, x []float32) {
	n := len(x) &^ 7
	if n > 0 {
		scaleAVX2(alpha, x[:n])
	}
	for i := n; i < len(x); i++ {
		x[i] *= alpha
	}
}

func addAVX2Go(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	n := len(dst) &^ 7
	if n > 0 {
		addAVX2(dst[:n], x[:n], y[:n])
	}
	for i := n; i < len(dst); i++ {
		dst[i] = x[i] + y[i]
	}
}

func mulAVX2Go(dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	n := len(dst) &^ 7
	if n > 0 {
		mulAVX2(dst[:n], x[:n], y[:n])
	}
	for i := n; i < len(dst); i++ {
		dst[i] = x[i] * y[i]
	}
}

func reverseStepAVX2Go(out, x, eps, z []float32, a, b, c float32) {
	x, eps, z = x[:len(out)], eps[:len(out)], z[:len(out)]
	n := len(out) &^ 7
	if n > 0 {
		reverseStepAVX2(out[:n], x[:n], eps[:n], z[:n], a, b, c)
	}
	for i := n; i < len(out); i++ {
		out[i] = float32(float32(a*x[i])+float32(b*eps[i])) + float32(c*z[i])
	}
}

func reverseStepGuidedAVX2Go(out, x, eps, z, g []float32, a, b, c, d float32) {
	x, eps, z, g = x[:len(out)], eps[:len(out)], z[:len(out)], g[:len(out)]
	n := len(out) &^ 7
	if n > 0 {
		reverseStepGuidedAVX2(out[:n], x[:n], eps[:n], z[:n], g[:n], a, b, c, d)
	}
	for i := n; i < len(out); i++ {
		out[i] = float32(float32(float32(a*x[i])+float32(b*eps[i]))+float32(c*z[i])) + float32(d*g[i])
	}
}

func maxAVX2Go(x []float32) float32 {
	n := len(x) &^ 7
	m := float32(math.Inf(-1))
	if n > 0 {
		v, nan := maxAVX2(x[:n])
		if nan {
			return float32(math.NaN())
		}
		m = v
	}
	for _, v := range x[n:] {
		if v != v {
			return v
		}
		if v > m {
			m = v
		}
	}
	return m
}

func expSubSumAVX2Go(x []float32, shift float32) float32 {
	n := len(x) &^ 7
	var sum float32
	if n > 0 {
		sum = expSubSumAVX2(x[:n], shift)
	}
	for i := n; i < len(x); i++ {
		e := float32(math.Exp(float64(x[i] - shift)))
		x[i] = e
		sum += e
	}
	return sum
}

// packA6AVX2Go checks the bounds that packA6AVX2 relies on.
func packA6AVX2Go(dst, a []float32, lda, kc8 int, alpha float32) {
	if kc8%8 != 0 || len(dst) < 6*kc8+2 || len(a) < 5*lda+kc8 {
		panic("simd: packA6 out of range")
	}
	packA6AVX2(dst, a, lda, kc8, alpha)
}

// winoInAVX2Go checks the bounds of winoInAVX2 (every index it reads and
// writes) and calls it.
func winoInAVX2Go(v []float32, vs, vc int, x []float32, o [4]int, ld, planes, ps int) {
	winoCheck("input", v, vs, vc, x, o, ld, 10, 4, planes, ps)
	winoInAVX2(v, vs, vc, x, o[0], o[1], o[2], o[3], ld, planes, ps)
}

// winoDyAVX2Go checks the bounds of winoDyAVX2 and calls it.
func winoDyAVX2Go(v []float32, vs, vc int, dy []float32, o [4]int, ld, planes, ps int) {
	winoCheck("output gradient", v, vs, vc, dy, o, ld, 8, 2, planes, ps)
	winoDyAVX2(v, vs, vc, dy, o[0], o[1], o[2], o[3], ld, planes, ps)
}

// winoCheck panics unless a transform of planes planes (ps apart) that
// reads rows x cols values (rows ld apart) from each run o[i] of x and
// writes 16 lanes of 16 elements (vs apart) per plane (vc apart) stays in
// range.
func winoCheck(what string, v []float32, vs, vc int, x []float32, o [4]int, ld, cols, rows, planes, ps int) {
	if planes <= 0 {
		return
	}
	last := (planes-1)*ps + max(o[0], o[1], o[2], o[3]) + (rows-1)*ld + cols - 1
	if min(o[0], o[1], o[2], o[3]) < 0 || ld < cols || ps < 0 || vs < 0 || vc < 16 || last >= len(x) || 15*vs+(planes-1)*vc+16 > len(v) {
		panic(fmt.Sprintf("simd: winograd %s transform out of range: len(v)=%d vs=%d vc=%d len(x)=%d runs at %v ld=%d planes=%d ps=%d", what, len(v), vs, vc, len(x), o, ld, planes, ps))
	}
}

// winoOutAVX2Go checks the bounds of winoOutAVX2 and calls it.
func winoOutAVX2Go(y, m []float32, ms, mrow, rows int, o [4]int, runs, ld, yplane int, bias []float32, acc bool) {
	if rows <= 0 || runs <= 0 {
		return
	}
	if runs > 4 {
		panic(fmt.Sprintf("simd: winograd output transform of %d runs", runs))
	}
	flags := 0
	if acc {
		flags |= 1
	}
	if bias != nil {
		flags |= 2
	}
	lo, hi := o[0], o[0]
	for _, v := range o[1:runs] {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < 0 || ms < 0 || mrow < 0 || yplane < 0 || ld < 8 || (rows-1)*yplane+hi+ld+7 >= len(y) ||
		15*ms+(rows-1)*mrow+16 > len(m) || (bias != nil && len(bias) < rows) {
		panic(fmt.Sprintf("simd: winograd output transform out of range: len(y)=%d len(m)=%d ms=%d mrow=%d rows=%d runs at %v (%d) ld=%d yplane=%d len(bias)=%d", len(y), len(m), ms, mrow, rows, o, runs, ld, yplane, len(bias)))
	}
	winoOutAVX2(y, m, ms, mrow, rows, o[0], o[1], o[2], o[3], runs, ld, yplane, bias, flags)
}
