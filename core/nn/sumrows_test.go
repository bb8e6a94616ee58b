package nn

import (
	"math"
	"testing"
)

func TestSumRows(t *testing.T) {
	rng := newRNG(9)
	for _, cols := range []int{1, 7, 8, 1024, 5000} {
		rows := 5
		x := randn(rng, rows*cols, 1)
		dst := make([]float32, rows)
		SumRows(dst, x, cols)
		for i := range dst {
			var want, abs float64
			for _, v := range x[i*cols : (i+1)*cols] {
				want += float64(v)
				abs += math.Abs(float64(v))
			}
			if math.Abs(float64(dst[i])-want) > 1e-6*abs+1e-7 {
				t.Fatalf("cols=%d row %d: sum %v, want %v", cols, i, dst[i], want)
			}
		}
	}
}

func TestAddChannels(t *testing.T) {
	rng := newRNG(10)
	n, c, hw := 3, 5, 300 // large enough to run on several goroutines
	x := randn(rng, n*c*hw, 1)
	e := randn(rng, n*c, 1)
	got := append([]float32(nil), x...)
	AddChannels(got, e, n, c, hw)
	for i := range got {
		if want := x[i] + e[i/hw]; got[i] != want {
			t.Fatalf("x[%d]: got %v, want %v", i, got[i], want)
		}
	}
	sum := AddInto(nil, x, got)
	for i := range sum {
		if sum[i] != x[i]+got[i] {
			t.Fatalf("AddInto[%d]: got %v, want %v", i, sum[i], x[i]+got[i])
		}
	}
}

// TestGroupNormDxSums: the per-(image, channel) sums that GroupNorm.Backward
// keeps are the float64 sums of the dx it returns, within float32 rounding.
func TestGroupNormDxSums(t *testing.T) {
	rng := newRNG(11)
	for _, hw := range []int{1, 7, 64, 300} {
		n, c := 3, 8
		p := NewParams()
		g := NewGroupNorm(p, "gn", 4, c)
		x := randn(rng, n*c*hw, 1)
		g.Forward(x, n, hw, 1)
		dx := g.Backward(randn(rng, len(x), 1))
		sums := g.DxSums()
		if len(sums) != n*c {
			t.Fatalf("hw=%d: %d sums, want %d", hw, len(sums), n*c)
		}
		for i, s := range sums {
			var want, abs float64
			for _, v := range dx[i*hw : (i+1)*hw] {
				want += float64(v)
				abs += math.Abs(float64(v))
			}
			if math.Abs(float64(s)-want) > 1e-6*abs+1e-7 {
				t.Fatalf("hw=%d row %d: sum %v, want %v", hw, i, s, want)
			}
		}
	}
}
