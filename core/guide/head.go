package guide

import (
	"fmt"
	"math/rand/v2"

	"github.com/cdp-project/cdp/core/nn"
	"github.com/cdp-project/cdp/core/optim"
)

// MLPHead is the projection head of the authors' code, Linear(Din -> Dhid),
// ReLU, Linear(Dhid -> Dout), both layers with bias and PyTorch's default
// initialisation (MNIST: 100 -> 64 -> 64; CIFAR-10: 640 -> 128 -> 128). It
// is fixed (seeded random weights, never updated: deterministic, so sharded
// runs agree) unless Online is called.
type MLPHead struct {
	P      *nn.Params
	l1, l2 *nn.Linear
	relu   nn.ReLU
	opt    *optim.Adam // nil: fixed head
}

// NewMLPHead returns a fixed head with weights drawn from rng.
func NewMLPHead(in, hidden, out int, rng *rand.Rand) *MLPHead {
	p := nn.NewParams()
	m := &MLPHead{P: p}
	m.l1 = nn.NewLinear(p, "encoder", in, hidden, true, rng)
	m.l2 = nn.NewLinear(p, "decoder", hidden, out, true, rng)
	p.NoGrad = true
	return m
}

// Online makes the head learn during sampling as in the authors' code: every
// guided step takes one Adam step (torch defaults beta = (0.9, 0.999),
// eps = 1e-8, no weight decay; the authors use lr = 1e-2) on the contrastive
// loss, after the guidance gradient has been computed with the old weights.
// The head keeps its state across batches, so results depend on batch order.
func (m *MLPHead) Online(lr float64) {
	m.opt = optim.NewAdam(m.P.Len(), lr, 0.9, 0.999, 1e-8, 0, nil)
	m.P.NoGrad = false
	m.P.ZeroGrad()
}

// Forward implements Head: g = l2(relu(l1(h))), (N, Dout).
func (m *MLPHead) Forward(h []float32, n int) ([]float32, int) {
	if len(h) != n*m.l1.In {
		panic(fmt.Sprintf("guide.MLPHead: h has %d values, want (N, Din) = (%d, %d)", len(h), n, m.l1.In))
	}
	return m.l2.Forward(m.relu.Forward(m.l1.Forward(h, n)), n), m.l2.Out
}

// Backward implements Head. With learn set and the head online, it then
// takes one Adam step on the parameter gradient of dg.
func (m *MLPHead) Backward(dg []float32, learn bool) []float32 {
	train := learn && m.opt != nil
	m.P.NoGrad = !train
	if train {
		m.P.ZeroGrad()
	}
	dh := append([]float32(nil), m.l1.Backward(m.relu.Backward(m.l2.Backward(dg)))...)
	if train {
		m.opt.Step(m.P.W, m.P.G)
	}
	m.P.NoGrad = m.opt == nil
	return dh
}
