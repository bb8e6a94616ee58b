package guide

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/simd"
)

// BenchmarkLoss times a loss with both gradients at the authors' scale:
// N = 128 pairs of 64-d (MNIST head) or 100-d (no head) features.
func BenchmarkLoss(b *testing.B) {
	prev := simd.Impl()
	defer simd.Use(prev)
	for _, impl := range simd.Supported() {
		if err := simd.Use(impl); err != nil {
			b.Fatal(err)
		}
		for _, l := range []struct {
			name string
			loss Loss
		}{{"HNM", DefaultHNM()}, {"InfoNCE", DefaultInfoNCE()}} {
			for _, d := range []int{64, 100} {
				const n = 128
				rng := rand.New(rand.NewPCG(1, 2))
				z, zp := unitRows(rng, n, d), unitRows(rng, n, d)
				dz, dzp := make([]float32, n*d), make([]float32, n*d)
				b.Run(fmt.Sprintf("loss=%s/N=%d/D=%d/impl=%s", l.name, n, d, impl), func(b *testing.B) {
					for b.Loop() {
						l.loss.Loss(z, zp, n, d, nil, dz, dzp)
					}
				})
			}
		}
	}
}
