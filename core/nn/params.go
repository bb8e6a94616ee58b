package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// View names a slice of a Params store: a parameter tensor (in W and G) or a
// buffer (non-trainable state such as batch-norm running statistics, in B).
type View struct {
	Name    string
	Shape   []int
	Offset  int  // first element in W and G (or in B for buffers)
	Size    int  // product of Shape
	NoDecay bool // no weight decay: biases and normalisation parameters
	Buffer  bool // non-trainable state stored in B, no gradient
}

// Params is a store of parameters in one flat weight buffer W with its
// gradient G (same length), plus non-trainable buffers in B. Layers are
// constructed against a store and keep Views into it.
type Params struct {
	W []float32 // all trainable parameters, views laid out one after another
	G []float32 // dL/dW, same layout as W
	B []float32 // buffers (running statistics), see View.Buffer

	// NoGrad makes every Backward compute input gradients only, leaving G
	// untouched (attacks and guidance need dL/dx, not dL/dW).
	NoGrad bool

	views []View
	index map[string]int
}

// NewParams returns an empty store.
func NewParams() *Params { return &Params{index: map[string]int{}} }

func (p *Params) add(name string, buffer, noDecay bool, shape []int) View {
	if p.index == nil {
		p.index = map[string]int{}
	}
	if _, dup := p.index[name]; dup {
		panic(fmt.Sprintf("nn: parameter %q defined twice", name))
	}
	size := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("nn: parameter %q has shape %v", name, shape))
		}
		size *= d
	}
	v := View{Name: name, Shape: append([]int(nil), shape...), Size: size, NoDecay: noDecay, Buffer: buffer}
	if buffer {
		v.Offset = len(p.B)
		p.B = append(p.B, make([]float32, size)...)
	} else {
		v.Offset = len(p.W)
		p.W = append(p.W, make([]float32, size)...)
		p.G = append(p.G, make([]float32, size)...)
	}
	p.index[name] = len(p.views)
	p.views = append(p.views, v)
	return v
}

// Add defines a trainable parameter of the given shape, initialised to zero.
func (p *Params) Add(name string, noDecay bool, shape ...int) View {
	return p.add(name, false, noDecay, shape)
}

// AddBuffer defines a non-trainable buffer of the given shape, initialised to
// zero.
func (p *Params) AddBuffer(name string, shape ...int) View {
	return p.add(name, true, true, shape)
}

// Views lists every parameter and buffer in definition order. The slice is
// shared: do not modify it.
func (p *Params) Views() []View { return p.views }

// Lookup finds a view by name.
func (p *Params) Lookup(name string) (View, bool) {
	i, ok := p.index[name]
	if !ok {
		return View{}, false
	}
	return p.views[i], true
}

// Data returns the values of v: a slice of W, or of B for a buffer.
func (p *Params) Data(v View) []float32 {
	if v.Buffer {
		return p.B[v.Offset : v.Offset+v.Size : v.Offset+v.Size]
	}
	return p.W[v.Offset : v.Offset+v.Size : v.Offset+v.Size]
}

// Grad returns the gradient of v, a slice of G (nil for a buffer).
func (p *Params) Grad(v View) []float32 {
	if v.Buffer {
		return nil
	}
	return p.G[v.Offset : v.Offset+v.Size : v.Offset+v.Size]
}

// Len is the number of trainable parameters.
func (p *Params) Len() int { return len(p.W) }

// ZeroGrad sets G to zero.
func (p *Params) ZeroGrad() { clear(p.G) }

// uniform fills x with samples from U(-bound, bound).
func uniform(x []float32, bound float64, rng *rand.Rand) {
	for i := range x {
		x[i] = float32((2*rng.Float64() - 1) * bound)
	}
}

// fill sets every element of x to a.
func fill(x []float32, a float32) {
	for i := range x {
		x[i] = a
	}
}

// kaimingBound is PyTorch's default bound for Conv and Linear weights
// (kaiming_uniform_ with a = sqrt(5)) and biases: 1/sqrt(fanIn).
func kaimingBound(fanIn int) float64 {
	if fanIn <= 0 {
		return 0
	}
	return 1 / math.Sqrt(float64(fanIn))
}

// Grow returns (*buf)[:n], reallocating when the capacity is short: the
// reusable scratch buffers of layers and models. The contents are
// unspecified.
func Grow(buf *[]float32, n int) []float32 { return grow(buf, n) }

// grow is Grow for any element type.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	*buf = (*buf)[:n]
	return *buf
}
