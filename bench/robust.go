package bench

import (
	"context"
	"math/rand/v2"
	"strconv"

	"github.com/cdp-project/cdp/core/classify"
	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/robust"
)

// The robustness cases of issue 5, compared with the PyTorch peer
// core/classify/testdata/bench_robust.py (same work, same thread count):
//
//   - trades-epoch/mnist-net: one TRADES epoch (batch 128, 10 KL attack
//     steps, beta 6, SGD with momentum) over 5,000 images, 2,500 real and
//     2,500 "synthetic" (a 50% mix per batch: 40 steps of 128); the
//     synthetic half is a stand-in (the other 2,500 embedded MNIST training
//     images), which costs the same as generated samples.
//   - eval-apgd-ce, eval-apgd-t1 and eval-square100 /mnist-net: the three
//     attacks of the standard evaluation (robust.StandardAttacks) at l_inf
//     eps 0.3 through robust.Evaluate on one batch of 256 embedded MNIST
//     test images, at their worst-case cost: the classifier is pinned (a
//     constant 1e4 added to the logit of class 0, all labels 0) so that no
//     point is ever fooled and every attack spends its whole budget on every
//     point, as on a model robust everywhere (the cost of an attack does not
//     depend on the logits otherwise). APGD-CE runs its 100 steps; APGD-T
//     one target of the standard 9 (100 steps); Square 100 queries of the
//     standard 5,000. The worst-case standard evaluation of 1,000 images is
//     about (1000/256) (apgd-ce + 9 apgd-t1 + 50 square100): the time is
//     linear in targets and queries and, batch by batch, in points.
func init() {
	Register(tradesEpochCase())
	// APGD: 101 gradients; APGD-T: + the clean logits; Square: 100 queries.
	Register(evalCase("eval-apgd-ce", robust.APGD{Norm: robust.Linf, Eps: 0.3, Loss: robust.CE}, 101*3))
	Register(evalCase("eval-apgd-t1", robust.APGDT{Norm: robust.Linf, Eps: 0.3, Targets: 1}, 1+101*3))
	Register(evalCase("eval-square100", &robust.Square{Eps: 0.3, Queries: 100, Shape: [3]int{1, 28, 28}}, 100))
}

// mnistNetFLOPs is the forward pass of mnist-net on one image, two per
// multiply-add (conv 5x5 1->4 on 28x28, conv 5x5 4->10 on 12x12, linear
// 160->100, linear 100->10; biases, ReLU and pooling not counted). The
// cases count a forward and input (or weight) backward pass as 3 of these.
const mnistNetFLOPs = 2 * (24*24*4*25 + 8*8*10*4*25 + 160*100 + 100*10)

func newMNISTNet() *classify.Net {
	cfg, err := classify.Preset("mnist-net", 28)
	if err != nil {
		panic("bench: " + err.Error())
	}
	net, err := classify.New(cfg, rand.New(rand.NewPCG(7, 7)))
	if err != nil {
		panic("bench: " + err.Error())
	}
	return net
}

func embedded(split data.Split) *data.Dataset {
	d, err := data.Embedded(split)
	if err != nil {
		panic("bench: " + err.Error())
	}
	return d
}

func tradesEpochCase() Case {
	return Case{
		Kernel: "trades-epoch/mnist-net", Impl: "cdp", Shape: "5000x10steps-b128", Threads: 2,
		// 40 steps of 128: clean forward, 10 attack steps, train step on 2 x 128.
		FLOPs: 40 * 128 * (1 + 10*3 + 2*3) * mnistNetFLOPs,
		Setup: func() (func(), func()) {
			restore := useSimd("auto", 2)
			all := embedded(data.Train)
			s := all.Size()
			half := all.N / 2
			real := data.New(all.Images[:half*s], all.Labels[:half], half, all.C, all.H, all.W, all.Classes, all.Source, "bench real half")
			synth := data.New(all.Images[half*s:], all.Labels[half:], all.N-half, all.C, all.H, all.W, all.Classes, "synthetic", "bench synthetic stand-in")
			cfg := classify.DefaultTrainConfig()
			cfg.SynthFrac, cfg.ValSize, cfg.Schedule, cfg.Epochs = 0.5, 0, "constant", 1<<20
			tr, err := classify.NewTrainer(newMNISTNet(), real, synth, cfg)
			if err != nil {
				panic("bench: " + err.Error())
			}
			return func() {
				if _, err := tr.RunEpoch(context.Background()); err != nil {
					panic("bench: " + err.Error())
				}
			}, restore
		},
	}
}

// pinned is a classifier that no attack can fool on points labelled 0.
type pinned struct {
	net *classify.Net
	z   []float32
}

func (p *pinned) NumClasses() int { return p.net.NumClasses() }

func (p *pinned) Logits(x []float32, n int) []float32 {
	k := p.net.NumClasses()
	p.z = append(p.z[:0], p.net.Logits(x, n)...)
	for i := range n {
		p.z[i*k] += 1e4
	}
	return p.z
}

func (p *pinned) InputGrad(dlogits []float32) []float32 { return p.net.InputGrad(dlogits) }

// evalCase times robust.Evaluate with the single attack atk, which makes
// passes forward passes (a forward and backward pass counting 3) per point.
func evalCase(name string, atk robust.Attack, passes int) Case {
	const n = 256
	return Case{
		Kernel: name + "/mnist-net", Impl: "cdp", Shape: "n" + strconv.Itoa(n) + "-eps0.3", Threads: 2,
		// + the clean and the final accuracy passes of Evaluate.
		FLOPs: float64(n*(passes+2)) * mnistNetFLOPs,
		Setup: func() (func(), func()) {
			restore := useSimd("auto", 2)
			test := embedded(data.Test)
			x := test.Images[:n*test.Size()]
			y := make([]int, n)
			f := &pinned{net: newMNISTNet()}
			cfg := robust.Config{Norm: robust.Linf, Eps: 0.3, Seed: 1, BatchSize: 256, Attacks: []robust.Attack{atk}, Shape: [3]int{1, 28, 28}}
			return func() {
				r := robust.Evaluate(f, x, y, cfg)
				if r.RobustAcc != 1 {
					panic("bench: the pinned classifier was fooled; the case no longer measures the full budget")
				}
			}, restore
		},
	}
}
