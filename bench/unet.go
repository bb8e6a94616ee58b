package bench

import (
	"math/rand/v2"
	"strconv"

	"github.com/cdp-project/cdp/core/classify"
	"github.com/cdp-project/cdp/core/diffusion"
	"github.com/cdp-project/cdp/core/guide"
	"github.com/cdp-project/cdp/core/optim"
	"github.com/cdp-project/cdp/core/unet"
)

// The eps-model cases of MODELS.md, compared with PyTorch's figures for the
// same architecture (core/unet/testdata/unet.py bench): unet-small forward on
// a batch of 128 and one training step (forward, backward, Adam) on 64.
func init() {
	Register(unetForwardCase("unet-small", 128))
	Register(unetTrainCase("unet-small", 64))
	Register(unetForwardCase("unet-tiny", 16))
}

func newUNet(preset string) *unet.UNet {
	cfg, err := unet.Preset(preset)
	if err != nil {
		panic("bench: " + err.Error())
	}
	u, err := unet.New(cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		panic("bench: " + err.Error())
	}
	return u
}

// unetInputs returns a batch of n noisy images, timesteps and labels.
func unetInputs(u *unet.UNet, n int) ([]float32, []int, []int) {
	r := rand.New(rand.NewPCG(4, uint64(n)))
	x := randSlice(r, n*u.Dim())
	t, y := make([]int, n), make([]int, n)
	for i := range t {
		t[i], y[i] = 1+r.IntN(1000), r.IntN(10)
	}
	return x, t, y
}

func unetForwardCase(preset string, n int) Case {
	cfg, _ := unet.Preset(preset)
	return Case{
		Kernel: preset + "/forward-b" + strconv.Itoa(n), Impl: "cdp", Shape: "b" + strconv.Itoa(n), Threads: 2,
		FLOPsFunc: func() float64 { return float64(n) * unet.ForwardFLOPs(cfg) },
		Setup: func() (func(), func()) {
			restore := useSimd("auto", 2)
			u := newUNet(preset)
			x, t, y := unetInputs(u, n)
			return func() { u.Forward(x, t, y) }, restore
		},
	}
}

func unetTrainCase(preset string, n int) Case {
	cfg, _ := unet.Preset(preset)
	return Case{
		Kernel: preset + "/train-b" + strconv.Itoa(n), Impl: "cdp", Shape: "b" + strconv.Itoa(n), Threads: 2,
		FLOPsFunc: func() float64 { return 3 * float64(n) * unet.ForwardFLOPs(cfg) },
		Setup: func() (func(), func()) {
			restore := useSimd("auto", 2)
			u := newUNet(preset)
			// As the trainer (and PyTorch, whose input needs no grad):
			// parameter gradients only.
			u.SkipInputGrad = true
			x, t, y := unetInputs(u, n)
			eps := randSlice(rand.New(rand.NewPCG(5, 5)), len(x))
			d := make([]float32, len(x))
			opt := optim.NewAdam(len(u.P.W), 2e-4, 0.9, 0.999, 1e-8, 0, nil)
			return func() {
				u.P.ZeroGrad()
				diffusion.EpsLoss(u.Forward(x, t, y), eps, d)
				u.Backward(d)
				opt.Step(u.P.W, u.P.G)
			}, restore
		},
	}
}

// The cost of contrastive guidance: one eps-model call on a batch of 64 with
// and without the guidance wrapper (HNM loss, mnist-net features through its
// diffusion-space view, a cached positive as at every guided step but the
// first). The ratio guided/unguided is the overhead of Contrastive-DP.
func init() {
	Register(stepCase(false))
	Register(stepCase(true))
}

func stepCase(guided bool) Case {
	kernel := "unguided-step/unet-small"
	if guided {
		kernel = "guided-step/mnist-net"
	}
	cfg, _ := unet.Preset("unet-small")
	const n = 64
	return Case{
		Kernel: kernel, Impl: "cdp", Shape: "b64", Threads: 2,
		FLOPsFunc: func() float64 { return float64(n) * unet.ForwardFLOPs(cfg) },
		Setup: func() (func(), func()) {
			restore := useSimd("auto", 2)
			u := newUNet("unet-small")
			x, _, y := unetInputs(u, n)
			eps := make([]float32, len(x))
			var m diffusion.EpsModel = u
			if guided {
				fc, _ := classify.Preset("mnist-net", 28)
				net, err := classify.New(fc, rand.New(rand.NewPCG(6, 6)))
				if err != nil {
					panic("bench: " + err.Error())
				}
				fv, err := net.FeatureView(u.Cfg.Size)
				if err != nil {
					panic("bench: " + err.Error())
				}
				g := &guide.Contrastive{Model: u, Net: fv, Loss: guide.DefaultHNM(), Lambda: 1e5, Window: guide.Window{Lo: 1, Hi: 1000}}
				// The first step of a trajectory only caches the positive.
				if err := g.Eps(eps, x, y, diffusion.Step{T: 101, Next: 100, AlphaBar: 0.9, AlphaBarNext: 0.91, Index: 0, Steps: 3}); err != nil {
					panic("bench: " + err.Error())
				}
				m = g
			}
			s := diffusion.Step{T: 100, Next: 99, AlphaBar: 0.91, AlphaBarNext: 0.92, Index: 1, Steps: 3}
			return func() {
				if err := m.Eps(eps, x, y, s); err != nil {
					panic("bench: " + err.Error())
				}
			}, restore
		},
	}
}
