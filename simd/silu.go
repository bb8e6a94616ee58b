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
