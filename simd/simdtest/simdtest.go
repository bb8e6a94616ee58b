// Package simdtest holds the helpers that the tests of package simd, and the
// tests of packages built on it, share: the one tolerance bound for FMA and
// reduction kernels, seeded random fills, and guard bands that catch writes
// outside an output slice.
//
// The bound: a float32 result r of a computation whose exact value is a sum of
// n terms t_i (products already formed, e.g. x_i*y_i) is accepted when
//
//	|r - sum t_i| <= (n+2) * Eps32 * sum |t_i|
//
// with the exact value taken in float64. This covers recursive, blocked and
// pairwise summation in float32 with or without fused multiply-add (each
// ordering errs by at most about n*u*sum|t_i|, u = Eps32/2, plus one rounding
// of each product and of the final result).
package simdtest

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Eps32 is the float32 machine epsilon, 2^-23.
const Eps32 = 0x1p-23

// Bound is the tolerance for a float32 sum of n terms whose absolute values
// add up to sumAbs (see the package comment). It is the only tolerance that
// the simd tests use for FMA and reduction kernels.
func Bound(n int, sumAbs float64) float64 {
	return float64(n+2) * Eps32 * sumAbs
}

// Close reports whether got is within Bound(n, sumAbs) of the exact value
// want. NaN matches NaN; an infinity matches only the same infinity.
func Close(got float32, want float64, n int, sumAbs float64) bool {
	g := float64(got)
	switch {
	case math.IsNaN(want) || math.IsNaN(g):
		return math.IsNaN(want) && math.IsNaN(g)
	case math.IsInf(want, 0) || math.IsInf(g, 0):
		return g == want
	}
	return math.Abs(g-want) <= Bound(n, sumAbs)
}

// Describe formats a failed comparison for a test message.
func Describe(got float32, want float64, n int, sumAbs float64) string {
	return fmt.Sprintf("got %v, want %v (diff %.3g, bound %.3g for n=%d, sum|terms|=%.3g)",
		got, want, math.Abs(float64(got)-want), Bound(n, sumAbs), n, sumAbs)
}

// Fill sets each x[i] to a uniform value in [lo, hi).
func Fill(r *rand.Rand, x []float32, lo, hi float32) {
	for i := range x {
		x[i] = lo + (hi-lo)*r.Float32()
	}
}

// FillNormal sets each x[i] to a standard normal value times sigma.
func FillNormal(r *rand.Rand, x []float32, sigma float32) {
	for i := range x {
		x[i] = sigma * float32(r.NormFloat64())
	}
}

// Rand returns n uniform values in [-1, 1).
func Rand(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	Fill(r, x, -1, 1)
	return x
}

// GuardLen is the number of sentinel elements on each side of a guarded
// slice.
const GuardLen = 19

// Sentinel is the value written into guard bands: a NaN with a payload that
// no kernel produces, compared by bits.
var Sentinel = math.Float32frombits(0x7fa5a5a5)

// Guarded is an output slice with sentinel bands before and after it inside
// one buffer, starting off elements into the buffer (off selects the
// alignment of the slice).
type Guarded struct {
	buf []float32
	off int
	n   int
}

// NewGuarded returns a guarded slice of n elements that starts off elements
// past a band of GuardLen sentinels, and is followed by GuardLen sentinels.
// The slice itself is filled with sentinels too; fill it before use.
func NewGuarded(n, off int) *Guarded {
	buf := make([]float32, off+n+2*GuardLen)
	for i := range buf {
		buf[i] = Sentinel
	}
	return &Guarded{buf: buf, off: off + GuardLen, n: n}
}

// S returns the guarded slice (capacity limited to its length, so appends
// cannot reach the band).
func (g *Guarded) S() []float32 { return g.buf[g.off : g.off+g.n : g.off+g.n] }

// Check returns an error naming the first band element that was changed.
func (g *Guarded) Check() error {
	for i, v := range g.buf {
		if i >= g.off && i < g.off+g.n {
			continue
		}
		if math.Float32bits(v) != math.Float32bits(Sentinel) {
			pos := i - g.off
			if i >= g.off+g.n {
				pos = i - g.off - g.n
				return fmt.Errorf("guard band after the output changed at +%d: %v", pos, v)
			}
			return fmt.Errorf("guard band before the output changed at %d: %v", pos, v)
		}
	}
	return nil
}

// Offset returns a copy of x placed off elements into a fresh buffer, so that
// its first element has a chosen alignment.
func Offset(x []float32, off int) []float32 {
	buf := make([]float32, off+len(x))
	copy(buf[off:], x)
	return buf[off : off+len(x) : off+len(x)]
}

// SameBits reports whether a and b hold the same float32 bit patterns (any
// NaN matches any NaN: payloads are not specified), or the index of the
// first difference.
func SameBits(a, b []float32) (int, bool) {
	if len(a) != len(b) {
		return min(len(a), len(b)), false
	}
	for i := range a {
		if a[i] != a[i] && b[i] != b[i] {
			continue
		}
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return -1, true
}
