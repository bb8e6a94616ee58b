package simd

import (
	"fmt"
	"math"
	"sync/atomic"
)

func checkLen(kernel string, want int, got ...int) {
	for _, g := range got {
		if g != want {
			panic(fmt.Sprintf("simd.%s: length mismatch: %d and %d", kernel, want, g))
		}
	}
}

// Dot returns sum_i x[i]*y[i]. len(x) must equal len(y).
func Dot(x, y []float32) float32 {
	checkLen("Dot", len(x), len(y))
	return current.Load().dot(x, y)
}

// Axpy adds alpha*x to y: y[i] += alpha*x[i].
func Axpy(alpha float32, x, y []float32) {
	checkLen("Axpy", len(x), len(y))
	current.Load().axpy(alpha, x, y)
}

// Scale multiplies x by alpha in place.
func Scale(alpha float32, x []float32) { current.Load().scale(alpha, x) }

// Add sets dst[i] = x[i] + y[i]. dst may alias x or y.
func Add(dst, x, y []float32) {
	checkLen("Add", len(dst), len(x), len(y))
	current.Load().add(dst, x, y)
}

// Mul sets dst[i] = x[i] * y[i]. dst may alias x or y.
func Mul(dst, x, y []float32) {
	checkLen("Mul", len(dst), len(x), len(y))
	current.Load().mul(dst, x, y)
}

// ReverseStep is the fused update of a reverse-diffusion step:
// out[i] = a*x[i] + b*eps[i] + c*z[i]. out may alias x.
func ReverseStep(out, x, eps, z []float32, a, b, c float32) {
	checkLen("ReverseStep", len(out), len(x), len(eps), len(z))
	current.Load().reverseStep(out, x, eps, z, a, b, c)
}

// ReverseStepGuided adds a guidance term to ReverseStep:
// out[i] = a*x[i] + b*eps[i] + c*z[i] + d*g[i]. out may alias x.
func ReverseStepGuided(out, x, eps, z, g []float32, a, b, c, d float32) {
	checkLen("ReverseStepGuided", len(out), len(x), len(eps), len(z), len(g))
	current.Load().reverseStepGuided(out, x, eps, z, g, a, b, c, d)
}

// SumSquares returns sum_i x[i]^2.
func SumSquares(x []float32) float32 { return current.Load().sumSquares(x) }

// Max returns the largest element of x (NaN if x holds a NaN, -Inf if empty).
func Max(x []float32) float32 { return current.Load().max(x) }

func checkMatrix(kernel, name string, buf []float32, rows, cols int) {
	if rows < 0 || cols < 0 || len(buf) != rows*cols {
		panic(fmt.Sprintf("simd.%s: %s has length %d, want %d x %d", kernel, name, len(buf), rows, cols))
	}
}

// NormalizeRows scales each row of the rows x cols matrix x to unit L2 norm,
// x_i / max(||x_i||, 1e-12), the convention of torch.nn.functional.normalize.
func NormalizeRows(x []float32, rows, cols int) {
	checkMatrix("NormalizeRows", "x", x, rows, cols)
	k := current.Load()
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols]
		norm := math.Sqrt(float64(k.sumSquares(row)))
		k.scale(float32(1/math.Max(norm, 1e-12)), row)
	}
}

// Similarity computes the pairwise similarity matrix S = A B^T / tau of the
// n x d matrix A and the m x d matrix B into the n x m matrix s:
// s[i*m+j] = dot(a_i, b_j) / tau. Rows are usually L2-normalised first.
func Similarity(s, a, b []float32, n, m, d int, tau float32) {
	checkMatrix("Similarity", "a", a, n, d)
	checkMatrix("Similarity", "b", b, m, d)
	checkMatrix("Similarity", "s", s, n, m)
	if !(tau > 0) {
		panic(fmt.Sprintf("simd.Similarity: tau must be positive, got %v", tau))
	}
	if n == 0 || m == 0 {
		return
	}
	sgemm(current.Load().gemmPlain, Threads(), false, true, n, m, d, 1/tau, a, max(d, 1), b, max(d, 1), 0, s, m)
}

// SoftmaxRows replaces each row of the rows x cols matrix x by its softmax,
// computed with the row maximum subtracted: x_ij = exp(x_ij - max_i) / sum.
// A row holding +Inf or NaN becomes NaN.
func SoftmaxRows(x []float32, rows, cols int) {
	checkMatrix("SoftmaxRows", "x", x, rows, cols)
	k := current.Load()
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols]
		if cols == 0 {
			continue
		}
		m := k.max(row)
		if math.IsInf(float64(m), 0) {
			m = float32(math.NaN())
		}
		sum := k.expSubSum(row, m)
		k.scale(1/sum, row)
	}
}

// ExpSubSum replaces each x[i] by exp(x[i]-shift) and returns their sum, the
// body of a softmax or log-sum-exp.
func ExpSubSum(x []float32, shift float32) float32 { return current.Load().expSubSum(x, shift) }

// Sgemm computes C = alpha op(A) op(B) + beta C for row-major matrices, where
// op(A) is m x k (A is m x k with row stride lda, or k x m if transA) and
// op(B) is k x n (B is k x n with stride ldb, or n x k if transB); C is m x n
// with stride ldc. With beta = 0, C is overwritten (NaN in C is ignored).
// The work is split across Threads() goroutines with bit-identical results.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	sgemm(current.Load().gemmPlain, Threads(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmBatch computes batch products as Sgemm does, product t on
// a[t*strideA:], b[t*strideB:] and c[t*strideC:] (a stride of 0 shares a
// matrix among all products; the Cs must not overlap): C_t = alpha op(A_t)
// op(B_t) + beta C_t, plus bias[i] in every column of row i when bias is
// non-nil (length m; beta must then be 0). With at least as many products as threads, each worker
// computes whole products on one thread; otherwise the products run one
// after another on every thread. Either way every product has the bits of
// an Sgemm call (bias added to C before the product is accumulated into it).
func SgemmBatch(batch int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, bias []float32) {
	if batch < 0 || strideA < 0 || strideB < 0 || (batch > 1 && strideC < (m-1)*ldc+n) || (bias != nil && (len(bias) < m || beta != 0)) {
		panic(fmt.Sprintf("simd.SgemmBatch: batch=%d strides %d, %d, %d, len(bias)=%d beta=%v", batch, strideA, strideB, strideC, len(bias), beta))
	}
	if batch == 0 || m == 0 || n == 0 {
		return
	}
	// The last product bounds every other one.
	last := batch - 1
	checkGemm(transA, transB, m, n, k, a[min(last*strideA, len(a)):], lda, b[min(last*strideB, len(b)):], ldb, c[min(last*strideC, len(c)):], ldc)
	kern := current.Load().gemmPlain
	one := func(t, threads int) {
		ct := c[t*strideC:]
		bt := beta
		if bias != nil {
			for i := 0; i < m; i++ {
				fill32(ct[i*ldc:i*ldc+n], bias[i])
			}
			bt = 1
		}
		sgemm(kern, threads, transA, transB, m, n, k, alpha, a[t*strideA:], lda, b[t*strideB:], ldb, bt, ct, ldc)
	}
	threads := Threads()
	if batch < threads {
		for t := 0; t < batch; t++ {
			one(t, threads)
		}
		return
	}
	var next atomic.Int32
	Parallel(threads, func(int) {
		for t := range taken(&next, batch) {
			one(t, 1)
		}
	})
}

// checkGemm checks the operands of an Sgemm call.
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkStrided("a", a, ar, ac, lda)
	checkStrided("b", b, br, bc, ldb)
	checkStrided("c", c, m, n, ldc)
}

func checkStrided(name string, buf []float32, rows, cols, ld int) {
	if rows < 0 || cols < 0 || ld < max(cols, 1) {
		panic(fmt.Sprintf("simd.Sgemm: %s is %d x %d with stride %d", name, rows, cols, ld))
	}
	if rows > 0 && cols > 0 && len(buf) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("simd.Sgemm: %s has length %d, needs %d for %d x %d with stride %d", name, len(buf), (rows-1)*ld+cols, rows, cols, ld))
	}
}
