package optim

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkStep times one update of 1M parameters (bytes/s counts the
// parameter buffer once).
func BenchmarkStep(b *testing.B) {
	const n = 1 << 20
	rng := rand.New(rand.NewPCG(1, 1))
	w, dw := randVec(rng, n, 1), randVec(rng, n, 0.1)
	groups := []Group{{Offset: 1000, Len: 5000, NoDecay: true}}
	opts := []struct {
		name string
		step func()
	}{
		{"sgd", func() { NewSGD(n, 0.1, 0.9, 5e-4, true, groups).Step(w, dw) }},
		{"adam", nil},
		{"adamw", nil},
		{"ema", nil},
		{"clip", func() { ClipGradNorm(dw, 1e9) }},
	}
	sgd := NewSGD(n, 1e-4, 0.9, 5e-4, true, groups)
	adam := NewAdam(n, 1e-4, 0.9, 0.999, 1e-8, 1e-4, groups)
	adamw := NewAdamW(n, 1e-4, 0.9, 0.999, 1e-8, 1e-2, groups)
	ema := NewEMA(w, 0.999, false)
	opts[0].step = func() { sgd.Step(w, dw) }
	opts[1].step = func() { adam.Step(w, dw) }
	opts[2].step = func() { adamw.Step(w, dw) }
	opts[3].step = func() { ema.Update(w) }
	for _, o := range opts {
		b.Run(o.name, func(b *testing.B) {
			b.SetBytes(4 * n)
			for b.Loop() {
				o.step()
			}
		})
	}
}
