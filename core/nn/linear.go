package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/cdp-project/cdp/simd"
)

// Linear is y = x W^T + b with W (Out, In) and b (Out), as torch.nn.Linear.
type Linear struct {
	P       *Params
	In, Out int
	Weight  View // (Out, In)
	Bias    View // (Out); Size 0 when the layer has no bias

	x     []float32 // cached input (N, In)
	n     int
	y, dx []float32
}

// NewLinear defines name.weight and name.bias in p and initialises them like
// PyTorch: U(-1/sqrt(in), 1/sqrt(in)).
func NewLinear(p *Params, name string, in, out int, bias bool, rng *rand.Rand) *Linear {
	l := &Linear{P: p, In: in, Out: out}
	l.Weight = p.Add(name+".weight", false, out, in)
	b := kaimingBound(in)
	uniform(p.Data(l.Weight), b, rng)
	if bias {
		l.Bias = p.Add(name+".bias", true, out)
		uniform(p.Data(l.Bias), b, rng)
	}
	return l
}

// Forward maps x (N, In) to y (N, Out).
func (l *Linear) Forward(x []float32, n int) []float32 {
	if len(x) != n*l.In {
		panic(fmt.Sprintf("nn.Linear: x has length %d, want (N=%d, In=%d)", len(x), n, l.In))
	}
	l.x, l.n = x, n
	y := Grow(&l.y, n*l.Out)
	w := l.P.Data(l.Weight)
	if l.Bias.Size > 0 {
		b := l.P.Data(l.Bias)
		for i := 0; i < n; i++ {
			copy(y[i*l.Out:(i+1)*l.Out], b)
		}
		simd.Sgemm(false, true, n, l.Out, l.In, 1, x, l.In, w, l.In, 1, y, l.Out)
	} else {
		simd.Sgemm(false, true, n, l.Out, l.In, 1, x, l.In, w, l.In, 0, y, l.Out)
	}
	return y
}

// Backward takes dy (N, Out), accumulates dW += dy^T x and db += sum dy, and
// returns dx = dy W (N, In).
func (l *Linear) Backward(dy []float32) []float32 {
	n := l.n
	if len(dy) != n*l.Out {
		panic(fmt.Sprintf("nn.Linear: dy has length %d, want (N=%d, Out=%d)", len(dy), n, l.Out))
	}
	w := l.P.Data(l.Weight)
	if !l.P.NoGrad {
		simd.Sgemm(true, false, l.Out, l.In, n, 1, dy, l.Out, l.x, l.In, 1, l.P.Grad(l.Weight), l.In)
		if l.Bias.Size > 0 {
			db := l.P.Grad(l.Bias)
			for i := 0; i < n; i++ {
				row := dy[i*l.Out : (i+1)*l.Out]
				for j, v := range row {
					db[j] += v
				}
			}
		}
	}
	dx := Grow(&l.dx, n*l.In)
	simd.Sgemm(false, false, n, l.In, l.Out, 1, dy, l.Out, w, l.In, 0, dx, l.In)
	return dx
}
