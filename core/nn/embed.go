package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// TimestepEmbedding writes the sinusoidal embedding of the timesteps t into
// dst (N, dim) and returns it (grown as needed): with half = dim/2 and
// f_k = exp(-ln(10000) k / half), row i is
// [sin(t_i f_0) ... sin(t_i f_{half-1}), cos(t_i f_0) ... cos(t_i f_{half-1})],
// computed in float64. dim must be even.
func TimestepEmbedding(dst []float32, t []float64, dim int) []float32 {
	if dim <= 0 || dim%2 != 0 {
		panic(fmt.Sprintf("nn.TimestepEmbedding: dim %d is not even and positive", dim))
	}
	half := dim / 2
	dst = Grow(&dst, len(t)*dim)
	for i, ti := range t {
		row := dst[i*dim : (i+1)*dim]
		for k := 0; k < half; k++ {
			f := math.Exp(-math.Log(10000) * float64(k) / float64(half))
			s, c := math.Sincos(ti * f)
			row[k], row[half+k] = float32(s), float32(c)
		}
	}
	return dst
}

// Embedding is a lookup table of Num rows of width Dim, as torch.nn.Embedding
// (initialised N(0, 1)). The class embedding of the eps-model is one.
type Embedding struct {
	P        *Params
	Num, Dim int
	Weight   View // (Num, Dim)

	idx []int
	y   []float32
}

// NewEmbedding defines name.weight (num, dim), drawn from N(0, 1).
func NewEmbedding(p *Params, name string, num, dim int, rng *rand.Rand) *Embedding {
	e := &Embedding{P: p, Num: num, Dim: dim}
	e.Weight = p.Add(name+".weight", false, num, dim)
	w := p.Data(e.Weight)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	return e
}

// Forward returns the rows idx (N) of the table, (N, Dim). idx is kept for
// Backward.
func (e *Embedding) Forward(idx []int) []float32 {
	e.idx = idx
	y := Grow(&e.y, len(idx)*e.Dim)
	w := e.P.Data(e.Weight)
	for i, k := range idx {
		if k < 0 || k >= e.Num {
			panic(fmt.Sprintf("nn.Embedding: index %d out of range [0, %d)", k, e.Num))
		}
		copy(y[i*e.Dim:(i+1)*e.Dim], w[k*e.Dim:(k+1)*e.Dim])
	}
	return y
}

// Backward adds dy (N, Dim) into the gradient rows of the looked-up indices.
// The indices have no gradient.
func (e *Embedding) Backward(dy []float32) {
	if len(dy) != len(e.idx)*e.Dim {
		panic(fmt.Sprintf("nn.Embedding: dy has length %d, want (N=%d, Dim=%d)", len(dy), len(e.idx), e.Dim))
	}
	if e.P.NoGrad {
		return
	}
	g := e.P.Grad(e.Weight)
	for i, k := range e.idx {
		row := g[k*e.Dim : (k+1)*e.Dim]
		for j, v := range dy[i*e.Dim : (i+1)*e.Dim] {
			row[j] += v
		}
	}
}
