package unet

import (
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/core/diffusion"
)

// BenchmarkTrainStep times forward + backward (no optimiser) of a batch of
// 64; BenchmarkForward a forward pass of 128. One untimed pass first
// allocates the layers' buffers.
func BenchmarkTrainStep(b *testing.B) {
	for _, preset := range []string{"unet-tiny", "unet-small"} {
		b.Run("preset="+preset, func(b *testing.B) {
			cfg, _ := Preset(preset)
			u, _ := New(cfg, rand.New(rand.NewPCG(1, 1)))
			u.SkipInputGrad = true // as the trainer
			n := 64
			x, t, y := benchInputs(u, n)
			d := make([]float32, len(x))
			step := func() {
				u.P.ZeroGrad()
				diffusion.EpsLoss(u.Forward(x, t, y), x, d)
				u.Backward(d)
			}
			step()
			b.ResetTimer()
			for range b.N {
				step()
			}
			b.ReportMetric(3*float64(n)*u.FLOPs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkForward(b *testing.B) {
	for _, preset := range []string{"unet-tiny", "unet-small"} {
		b.Run("preset="+preset, func(b *testing.B) {
			cfg, _ := Preset(preset)
			u, _ := New(cfg, rand.New(rand.NewPCG(1, 1)))
			n := 128
			x, t, y := benchInputs(u, n)
			u.Forward(x, t, y)
			b.ResetTimer()
			for range b.N {
				u.Forward(x, t, y)
			}
			b.ReportMetric(float64(n)*u.FLOPs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func benchInputs(u *UNet, n int) ([]float32, []int, []int) {
	r := rand.New(rand.NewPCG(2, 2))
	x := make([]float32, n*u.Dim())
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	t, y := make([]int, n), make([]int, n)
	for i := range t {
		t[i], y[i] = 1+r.IntN(1000), r.IntN(10)
	}
	return x, t, y
}
