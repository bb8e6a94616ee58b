package simdtest

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestGuardedDetectsWrites(t *testing.T) {
	for off := 0; off < 8; off++ {
		for _, n := range []int{0, 1, 9} {
			g := NewGuarded(n, off)
			s := g.S()
			if len(s) != n || cap(s) != n {
				t.Fatalf("S has len %d cap %d, want %d", len(s), cap(s), n)
			}
			for i := range s {
				s[i] = 1
			}
			if err := g.Check(); err != nil {
				t.Fatalf("writes inside the slice flagged: %v", err)
			}
			g.buf[g.off-1] = 0
			if g.Check() == nil {
				t.Fatal("write before the slice not detected")
			}
			g.buf[g.off-1] = Sentinel
			g.buf[g.off+n] = 0
			if g.Check() == nil {
				t.Fatal("write after the slice not detected")
			}
		}
	}
}

func TestClose(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := Rand(r, 1000)
	var exact, abs float64
	var sum float32
	for _, v := range x {
		exact += float64(v)
		abs += math.Abs(float64(v))
		sum += v
	}
	if !Close(sum, exact, len(x), abs) {
		t.Fatalf("recursive float32 sum rejected: %s", Describe(sum, exact, len(x), abs))
	}
	if Close(sum+float32(2*Bound(len(x), abs)), exact, len(x), abs) {
		t.Fatal("error of twice the bound accepted")
	}
	nan, inf := math.NaN(), math.Inf(1)
	if !Close(float32(nan), nan, 1, 1) || Close(1, nan, 1, 1) || Close(float32(nan), 1, 1, 1) {
		t.Fatal("NaN handling")
	}
	if !Close(float32(inf), inf, 1, 1) || Close(float32(-inf), inf, 1, 1) || Close(3e38, inf, 1, 1) {
		t.Fatal("Inf handling")
	}
	if _, ok := SameBits([]float32{1, float32(nan)}, []float32{1, float32(-nan)}); !ok {
		t.Fatal("SameBits: NaNs should match")
	}
	if i, ok := SameBits([]float32{0}, []float32{float32(math.Copysign(0, -1))}); ok || i != 0 {
		t.Fatal("SameBits: -0 and +0 differ")
	}
}
