package robust

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cdp-project/cdp/core/nn"
)

// mlp is a 2-layer ReLU network logits = W2 relu(W1 x + b1) + b2 with a
// hand-written backward, the test's stand-in for a core/nn classifier.
type mlp struct {
	d, h, k        int
	w1, b1, w2, b2 []float32 // (H, D), (H), (K, H), (K)

	x    []float32 // cached input (N, D)
	n    int
	a    []float32 // cached pre-activations (N, H)
	z    []float32
	dx   []float32
	dW1  []float32 // parameter gradients of the last backward (training only)
	dB1  []float32
	dW2  []float32
	dB2  []float32
	grad bool // accumulate parameter gradients in InputGrad
}

func newMLP(d, h, k int, rng *rand.Rand) *mlp {
	m := &mlp{d: d, h: h, k: k,
		w1: make([]float32, h*d), b1: make([]float32, h),
		w2: make([]float32, k*h), b2: make([]float32, k)}
	s1, s2 := 1/math.Sqrt(float64(d)), 1/math.Sqrt(float64(h))
	for i := range m.w1 {
		m.w1[i] = float32(s1 * (2*rng.Float64() - 1) * math.Sqrt(3))
	}
	for i := range m.b1 {
		m.b1[i] = float32(s1 * (2*rng.Float64() - 1))
	}
	for i := range m.w2 {
		m.w2[i] = float32(s2 * (2*rng.Float64() - 1) * math.Sqrt(3))
	}
	for i := range m.b2 {
		m.b2[i] = float32(s2 * (2*rng.Float64() - 1))
	}
	return m
}

func (m *mlp) NumClasses() int { return m.k }

func (m *mlp) Logits(x []float32, n int) []float32 {
	if len(x) != n*m.d {
		panic("mlp: bad input length")
	}
	m.x, m.n = x, n
	m.a = make([]float32, n*m.h)
	m.z = make([]float32, n*m.k)
	for i := range n {
		xi := x[i*m.d : (i+1)*m.d]
		for j := range m.h {
			s := m.b1[j]
			for q, v := range xi {
				s += m.w1[j*m.d+q] * v
			}
			m.a[i*m.h+j] = s
		}
		for c := range m.k {
			s := m.b2[c]
			for j := range m.h {
				s += m.w2[c*m.h+j] * max(m.a[i*m.h+j], 0)
			}
			m.z[i*m.k+c] = s
		}
	}
	return m.z
}

func (m *mlp) InputGrad(dz []float32) []float32 {
	n := m.n
	if len(dz) != n*m.k {
		panic("mlp: bad dlogits length")
	}
	m.dx = make([]float32, n*m.d)
	da := make([]float32, m.h)
	for i := range n {
		for j := range m.h {
			s := float32(0)
			if m.a[i*m.h+j] > 0 {
				for c := range m.k {
					s += dz[i*m.k+c] * m.w2[c*m.h+j]
				}
			}
			da[j] = s
		}
		for q := range m.d {
			s := float32(0)
			for j := range m.h {
				s += da[j] * m.w1[j*m.d+q]
			}
			m.dx[i*m.d+q] = s
		}
		if m.grad {
			for c := range m.k {
				m.dB2[c] += dz[i*m.k+c]
				for j := range m.h {
					m.dW2[c*m.h+j] += dz[i*m.k+c] * max(m.a[i*m.h+j], 0)
				}
			}
			for j := range m.h {
				m.dB1[j] += da[j]
				for q := range m.d {
					m.dW1[j*m.d+q] += da[j] * m.x[i*m.d+q]
				}
			}
		}
	}
	return m.dx
}

// train runs plain SGD on the cross-entropy over (x, y).
func (m *mlp) train(x []float32, y []int, steps, batch int, lr float32, rng *rand.Rand) {
	n := len(y)
	m.dW1, m.dB1 = make([]float32, len(m.w1)), make([]float32, len(m.b1))
	m.dW2, m.dB2 = make([]float32, len(m.w2)), make([]float32, len(m.b2))
	m.grad = true
	defer func() { m.grad = false }()
	idx := make([]int, batch)
	for range steps {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		xb, yb := gather(x, m.d, idx), gatherInts(y, idx)
		z := m.Logits(xb, batch)
		_, dz := nn.CrossEntropy(nil, z, yb, m.k, 0)
		clear(m.dW1)
		clear(m.dB1)
		clear(m.dW2)
		clear(m.dB2)
		m.InputGrad(dz)
		for _, p := range [][2][]float32{{m.w1, m.dW1}, {m.b1, m.dB1}, {m.w2, m.dW2}, {m.b2, m.dB2}} {
			for i := range p[0] {
				p[0][i] -= lr * p[1][i]
			}
		}
	}
}

// linear is logits = W x + b.
type linear struct {
	d, k int
	w, b []float32 // (K, D), (K)
	n    int
}

func (l *linear) NumClasses() int { return l.k }

func (l *linear) Logits(x []float32, n int) []float32 {
	l.n = n
	z := make([]float32, n*l.k)
	for i := range n {
		for c := range l.k {
			s := float64(l.b[c])
			for q := range l.d {
				s += float64(l.w[c*l.d+q]) * float64(x[i*l.d+q])
			}
			z[i*l.k+c] = float32(s)
		}
	}
	return z
}

func (l *linear) InputGrad(dz []float32) []float32 {
	dx := make([]float32, l.n*l.d)
	for i := range l.n {
		for q := range l.d {
			s := float64(0)
			for c := range l.k {
				s += float64(dz[i*l.k+c]) * float64(l.w[c*l.d+q])
			}
			dx[i*l.d+q] = float32(s)
		}
	}
	return dx
}

// clusters draws n points of a K-class task in [0, 1]^D: Gaussian clusters
// of standard deviation sd around K random means, clipped to the box.
func clusters(n, d, k int, sd float64, rng *rand.Rand) ([]float32, []int, []float32) {
	mu := make([]float32, k*d)
	for i := range mu {
		mu[i] = float32(0.2 + 0.6*rng.Float64())
	}
	x := make([]float32, n*d)
	y := make([]int, n)
	for i := range n {
		y[i] = rng.IntN(k)
		for q := range d {
			x[i*d+q] = float32(min(max(float64(mu[y[i]*d+q])+sd*rng.NormFloat64(), 0), 1))
		}
	}
	return x, y, mu
}

// trainedMLP returns an MLP trained on a 4-class clusters task on
// [0, 1]^16 (1 x 4 x 4 images) and held-out test points of the same task.
func trainedMLP(t *testing.T) (*mlp, []float32, []int) {
	t.Helper()
	trained.Do(func() { trained.m, trained.x, trained.y = trainMLP() })
	return trained.m, trained.x, trained.y
}

// trained caches the model of trainedMLP: training is deterministic and
// the tests never modify the model.
var trained struct {
	sync.Once
	m *mlp
	x []float32
	y []int
}

func trainMLP() (*mlp, []float32, []int) {
	rng := rand.New(rand.NewPCG(7, 8))
	const d, k = 16, 4
	x, y, _ := clusters(1200, d, k, 0.25, rng)
	m := newMLP(d, 32, k, rng)
	m.train(x[:1000*d], y[:1000], 600, 64, 0.2, rng)
	return m, x[1000*d:], y[1000:]
}

func TestMLPInputGradFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := newMLP(7, 11, 5, rng)
	n := 3
	x := make([]float32, n*7)
	for i := range x {
		x[i] = rng.Float32()
	}
	dz := make([]float32, n*5)
	for i := range dz {
		dz[i] = float32(rng.NormFloat64())
	}
	m.Logits(x, n)
	g := append([]float32(nil), m.InputGrad(dz)...)
	obj := func(x []float32) float64 {
		z := m.Logits(x, n)
		s := 0.0
		for i, v := range z {
			s += float64(v) * float64(dz[i])
		}
		return s
	}
	const h = 1e-3
	for j := range x {
		xp := append([]float32(nil), x...)
		xm := append([]float32(nil), x...)
		xp[j] += h
		xm[j] -= h
		step := float64(xp[j]) - float64(xm[j])
		fd := (obj(xp) - obj(xm)) / step
		if math.Abs(fd-float64(g[j])) > 2e-3*(1+math.Abs(fd)) {
			t.Errorf("dx[%d] = %g, finite difference %g", j, g[j], fd)
		}
	}
}
