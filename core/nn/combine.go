package nn

import (
	"fmt"

	"github.com/cdp-project/cdp/simd"
)

// Concat writes the channel concatenation of a (N, Ca, HW) and b (N, Cb, HW)
// into dst (N, Ca+Cb, HW) and returns dst (grown as needed).
func Concat(dst, a, b []float32, n, ca, cb, hw int) []float32 {
	if len(a) != n*ca*hw || len(b) != n*cb*hw {
		panic(fmt.Sprintf("nn.Concat: a has length %d, b %d, want (N=%d, Ca=%d | Cb=%d, HW=%d)", len(a), len(b), n, ca, cb, hw))
	}
	dst = Grow(&dst, n*(ca+cb)*hw)
	sa, sb := ca*hw, cb*hw
	for i := 0; i < n; i++ {
		copy(dst[i*(sa+sb):], a[i*sa:(i+1)*sa])
		copy(dst[i*(sa+sb)+sa:], b[i*sb:(i+1)*sb])
	}
	return dst
}

// Split is the backward of Concat: it copies dy (N, Ca+Cb, HW) into da
// (N, Ca, HW) and db (N, Cb, HW), grown as needed, and returns them.
func Split(da, db, dy []float32, n, ca, cb, hw int) ([]float32, []float32) {
	if len(dy) != n*(ca+cb)*hw {
		panic(fmt.Sprintf("nn.Split: dy has length %d, want (N=%d, C=%d+%d, HW=%d)", len(dy), n, ca, cb, hw))
	}
	da, db = Grow(&da, n*ca*hw), Grow(&db, n*cb*hw)
	sa, sb := ca*hw, cb*hw
	for i := 0; i < n; i++ {
		copy(da[i*sa:(i+1)*sa], dy[i*(sa+sb):])
		copy(db[i*sb:(i+1)*sb], dy[i*(sa+sb)+sa:])
	}
	return da, db
}

// AddInto sets dst = a + b element-wise (a residual connection; its backward
// passes dy unchanged to both inputs) and returns dst (grown as needed).
func AddInto(dst, a, b []float32) []float32 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("nn.AddInto: a has length %d, b %d", len(a), len(b)))
	}
	dst = Grow(&dst, len(a))
	const chunk = 4096
	parallelFor((len(a)+chunk-1)/chunk, chunk, func(lo, hi int) {
		lo, hi = lo*chunk, min(hi*chunk, len(a))
		simd.Add(dst[lo:hi], a[lo:hi], b[lo:hi])
	})
	return dst
}

// AddChannels adds e[i*c+ch] to every pixel of channel ch of image i of x
// (N, C, H*W) in place: a per-image, per-channel bias such as a timestep
// embedding.
func AddChannels(x, e []float32, n, c, hw int) {
	if len(x) != n*c*hw || len(e) != n*c {
		panic(fmt.Sprintf("nn.AddChannels: x has length %d, e %d, want (N=%d, C=%d, HW=%d)", len(x), len(e), n, c, hw))
	}
	parallelFor(n*c, hw, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			addScalar(x[i*hw:(i+1)*hw], e[i])
		}
	})
}

// Accumulate adds x into dst element-wise (summing gradients that reach one
// tensor by two paths).
func Accumulate(dst, x []float32) {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("nn.Accumulate: dst has length %d, x %d", len(dst), len(x)))
	}
	simd.Add(dst, dst, x)
}

// addScalar adds v to every element of x: x[i] + v*1 through the simd axpy
// kernel (v*1 is exact, so every set rounds x[i] + v once, as the plain loop
// does), over blocks of the row of ones.
func addScalar(x []float32, v float32) {
	for len(x) > 0 {
		k := min(len(x), len(ones))
		simd.Axpy(v, ones[:k], x[:k])
		x = x[k:]
	}
}
