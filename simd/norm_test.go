package simd

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/simd/simdtest"
)

// TestCenterSumSquares: the centred values equal x - mean bit for bit in
// every set (one rounding each), in place too; the sum is held to the
// reduction bound against the float64 sum of their squares. Lengths 0..100
// and longer, unaligned starts, guard bands, NaN and infinities.
func TestCenterSumSquares(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(51, 52))
		for _, n := range testLengths() {
			for off := 0; off < maxOff; off += 3 {
				for _, p := range []float64{0, 0.02} {
					x := simdtest.Offset(special(r, simdtest.Rand(r, n), p), off)
					mean := 2*r.Float32() - 1
					want := make([]float32, n)
					for i, v := range x {
						want[i] = v - mean
					}
					sum, abs := exactDot(want, want)
					g := simdtest.NewGuarded(n, (off+1)%maxOff)
					got := CenterSumSquares(g.S(), x, mean)
					checkBits(t, "CenterSumSquares", n, off, g, want)
					if ref := centerSumSquaresGeneric(make([]float32, n), x, mean); name == "generic" && math.Float32bits(got) != math.Float32bits(ref) && !(got != got && ref != ref) {
						t.Fatalf("CenterSumSquares n=%d off=%d: generic set gives %v, reference loop %v", n, off, got, ref)
					}
					if !simdtest.Close(got, sum, n, abs) {
						t.Fatalf("CenterSumSquares n=%d off=%d p=%v: %s", n, off, p, simdtest.Describe(got, sum, n, abs))
					}
					// In place, as GroupNorm might call it.
					g = guardedCopy(x, off)
					got2 := CenterSumSquares(g.S(), g.S(), mean)
					checkBits(t, "CenterSumSquares in place", n, off, g, want)
					if math.Float32bits(got2) != math.Float32bits(got) && !(got != got && got2 != got2) {
						t.Fatalf("CenterSumSquares n=%d off=%d: in place %v, out of place %v", n, off, got2, got)
					}
				}
			}
		}
	})
}

// TestNormalizeAffine: xhat*rstd is one rounding in every set; y is
// float32(t*gamma)+beta bit for bit in the unfused sets and within the bound
// of a two-term sum where the multiply-add may be fused (wasm-relaxed).
func TestNormalizeAffine(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(53, 54))
		fused := name == "wasm-relaxed"
		for _, n := range testLengths() {
			for off := 0; off < maxOff; off += 3 {
				x := special(r, simdtest.Rand(r, n), 0.02)
				rstd, gamma, beta := 4*r.Float32(), 2*r.Float32()-1, 2*r.Float32()-1
				wantT, wantY := make([]float32, n), make([]float32, n)
				want64, abs := make([]float64, n), make([]float64, n)
				for i, v := range x {
					tv := v * rstd
					wantT[i] = tv
					wantY[i] = float32(tv*gamma) + beta
					want64[i] = float64(tv)*float64(gamma) + float64(beta)
					abs[i] = math.Abs(float64(tv)*float64(gamma)) + math.Abs(float64(beta))
				}
				gx := guardedCopy(x, off)
				gy := simdtest.NewGuarded(n, (off+5)%maxOff)
				NormalizeAffine(gx.S(), gy.S(), rstd, gamma, beta)
				checkBits(t, "NormalizeAffine xhat", n, off, gx, wantT)
				if fused {
					checkClose(t, "NormalizeAffine y", n, off, gy, want64, 2, abs)
				} else {
					checkBits(t, "NormalizeAffine y", n, off, gy, wantY)
				}
			}
		}
	})
}

func TestNormShortOperands(t *testing.T) {
	for _, f := range []func(){
		func() { CenterSumSquares(make([]float32, 3), make([]float32, 4), 0) },
		func() { NormalizeAffine(make([]float32, 4), make([]float32, 3), 1, 1, 0) },
		func() { SumDot(make([]float32, 4), make([]float32, 3)) },
		func() { GroupNormGrad(make([]float32, 4), make([]float32, 3), make([]float32, 4), 1, 1, 0, 0) },
		func() { GroupNormGrad(make([]float32, 4), make([]float32, 4), make([]float32, 3), 1, 1, 0, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("a short operand was accepted")
				}
			}()
			f()
		}()
	}
}

// TestSumDot: both sums are held to the reduction bound against float64
// sums, in every set; the generic set matches its reference loop bit for
// bit. Lengths 0..100 and longer, unaligned starts, NaN and infinities.
func TestSumDot(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(55, 56))
		for _, n := range testLengths() {
			for off := 0; off < maxOff; off += 3 {
				for _, p := range []float64{0, 0.02} {
					x := simdtest.Offset(special(r, simdtest.Rand(r, n), p), off)
					y := simdtest.Offset(simdtest.Rand(r, n+2), (off+5)%maxOff)
					wantS, absS := exactDot(x, ones(n))
					wantD, absD := exactDot(x, y)
					sx, sxy := SumDot(x, y)
					if name == "generic" {
						rs, rd := sumDotGeneric(x, y)
						if math.Float32bits(sx) != math.Float32bits(rs) && !(sx != sx && rs != rs) ||
							math.Float32bits(sxy) != math.Float32bits(rd) && !(sxy != sxy && rd != rd) {
							t.Fatalf("SumDot n=%d: generic set gives %v, %v, reference loop %v, %v", n, sx, sxy, rs, rd)
						}
					}
					if !simdtest.Close(sx, wantS, n, absS) {
						t.Fatalf("SumDot sum n=%d off=%d p=%v: %s", n, off, p, simdtest.Describe(sx, wantS, n, absS))
					}
					if !simdtest.Close(sxy, wantD, n, absD) {
						t.Fatalf("SumDot dot n=%d off=%d p=%v: %s", n, off, p, simdtest.Describe(sxy, wantD, n, absD))
					}
				}
			}
		}
	})
}

// TestGroupNormGrad: dx equals the reference loop bit for bit in every set
// (each operation rounded on its own), with guard bands and unaligned
// starts; the returned sum of dx is held to the reduction bound.
func TestGroupNormGrad(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(57, 58))
		for _, n := range testLengths() {
			for off := 0; off < maxOff; off += 3 {
				dy := simdtest.Offset(special(r, simdtest.Rand(r, n), 0.01), off)
				xh := simdtest.Offset(simdtest.Rand(r, n), (off+2)%maxOff)
				rstd, gamma, mdy, mdyx := 4*r.Float32(), 2*r.Float32()-1, r.Float32()-0.5, r.Float32()-0.5
				want := make([]float32, n)
				for i, d := range dy {
					a := float32(d * gamma)
					b := float32(a - mdy)
					c := float32(xh[i] * mdyx)
					want[i] = float32(rstd * float32(b-c))
				}
				wantSum, abs := exactDot(want, ones(n))
				g := simdtest.NewGuarded(n, (off+7)%maxOff)
				sum := GroupNormGrad(g.S(), dy, xh, rstd, gamma, mdy, mdyx)
				checkBits(t, "GroupNormGrad", n, off, g, want)
				if !simdtest.Close(sum, wantSum, n, abs) {
					t.Fatalf("GroupNormGrad sum n=%d off=%d: %s", n, off, simdtest.Describe(sum, wantSum, n, abs))
				}
			}
		}
	})
}

func ones(n int) []float32 {
	o := make([]float32, n)
	for i := range o {
		o[i] = 1
	}
	return o
}
