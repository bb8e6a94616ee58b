package simd

import "fmt"

// SiLU sets s[i] = 1/(1+exp(-x[i])) (the sigmoid) and y[i] = x[i]*s[i].
// The exponential is the kernel set's ExpSubSum exponential and the rest
// IEEE float32 arithmetic, so every set that shares ExpSubSum's results
// gives the same bits as the loop over ExpSubSum that it replaces.
func SiLU(y, s, x []float32) {
	if len(y) < len(x) || len(s) < len(x) {
		panic(fmt.Sprintf("simd.SiLU: y has length %d, s %d, x %d", len(y), len(s), len(x)))
	}
	set := current.Load()
	n := 0
	if set.silu8 != nil {
		n = len(x) &^ 7
		if n > 0 {
			set.silu8(y[:n], s[:n], x[:n])
		}
	}
	if n == len(x) {
		return
	}
	xs, ss, ys := x[n:], s[n:len(x)], y[n:len(x)]
	for i, v := range xs {
		ss[i] = -v
	}
	set.expSubSum(ss, 0)
	for i, v := range xs {
		sg := 1 / (1 + ss[i])
		ss[i] = sg
		ys[i] = v * sg
	}
}

// SiLUGrad is SiLU's backward pass from the sigmoid s that SiLU kept:
//
//	for i := range dx { dx[i] = dy[i] * s[i] * (1 + x[i]*(1-s[i])) }
//
// Every set rounds each operation as this loop does (no fused multiply-add),
// so the result is the same in every set.
func SiLUGrad(dx, dy, x, s []float32) {
	if len(dy) != len(dx) || len(x) != len(dx) || len(s) != len(dx) {
		panic(fmt.Sprintf("simd.SiLUGrad: dx has length %d, dy %d, x %d, s %d", len(dx), len(dy), len(x), len(s)))
	}
	n := 0
	if k := current.Load().siluGrad8; k != nil {
		n = len(dx) &^ 7
		if n > 0 {
			k(dx[:n], dy[:n], x[:n], s[:n])
		}
	}
	siluGradGeneric(dx[n:], dy[n:], x[n:], s[n:])
}

func siluGradGeneric(dx, dy, x, s []float32) {
	dy, x, s = dy[:len(dx)], x[:len(dx)], s[:len(dx)]
	for i, sg := range s {
		dx[i] = dy[i] * sg * (1 + x[i]*(1-sg))
	}
}
