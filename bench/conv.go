package bench

import (
	"fmt"
	"math/rand/v2"

	"github.com/cdp-project/cdp/core/nn"
	"github.com/cdp-project/cdp/simd"
)

// ConvShape is one convolution of unet-small (MODELS.md) at batch 64.
type ConvShape struct {
	Name               string // "3x3-32-32x32": kernel, channels, input size
	N, Cin, Cout, H, W int
	K, Stride, Pad     int
}

// FLOPs is the multiply-add count of the forward pass times two (bias
// excluded); the backward pass (input and weight gradients) is twice this.
func (s ConvShape) FLOPs() float64 {
	ho, wo := (s.H+2*s.Pad-s.K)/s.Stride+1, (s.W+2*s.Pad-s.K)/s.Stride+1
	return 2 * float64(s.N*s.Cout*ho*wo) * float64(s.Cin*s.K*s.K)
}

// UNetSmallConvs lists the convolutions of unet-small: the 3x3 convolutions
// of the residual blocks at each level, the stride-2 downsamples and the
// first convolutions of the up path, whose inputs are concatenations. The
// same list drives BenchmarkConv2d in core/nn and the PyTorch peer
// core/nn/testdata/bench_conv.py: keep the three in step.
var UNetSmallConvs = []ConvShape{
	{"3x3-32-32x32", 64, 32, 32, 32, 32, 3, 1, 1},
	{"3x3-64-16x16", 64, 64, 64, 16, 16, 3, 1, 1},
	{"3x3-64-8x8", 64, 64, 64, 8, 8, 3, 1, 1},
	{"3x3-32to64-16x16", 64, 32, 64, 16, 16, 3, 1, 1},
	{"3x3s2-32-32x32", 64, 32, 32, 32, 32, 3, 2, 1},
	{"3x3s2-64-16x16", 64, 64, 64, 16, 16, 3, 2, 1},
	{"3x3-128to64-8x8", 64, 128, 64, 8, 8, 3, 1, 1},
	{"3x3-128to64-16x16", 64, 128, 64, 16, 16, 3, 1, 1},
	{"3x3-96to64-16x16", 64, 96, 64, 16, 16, 3, 1, 1},
	{"3x3-96to32-32x32", 64, 96, 32, 32, 32, 3, 1, 1},
	{"3x3-1to32-32x32", 64, 1, 32, 32, 32, 3, 1, 1},
	{"1x1-64to32-32x32", 64, 64, 32, 32, 32, 1, 1, 0},
}

func init() {
	for i, s := range UNetSmallConvs {
		threads := []int{2}
		if i < 3 {
			threads = []int{1, 2}
		}
		for _, th := range threads {
			Register(convCase(s, false, th))
			Register(convCase(s, true, th))
		}
	}
}

// convCase times nn.Conv2d forward, or backward (weight and input
// gradients after one forward), on shape s.
func convCase(s ConvShape, backward bool, threads int) Case {
	dir, flops := "fwd", s.FLOPs()
	if backward {
		dir, flops = "bwd", 2*s.FLOPs()
	}
	return Case{
		Kernel: "conv2d/" + dir + "/" + s.Name, Impl: "cdp", Shape: fmt.Sprintf("b%d", s.N), Threads: threads,
		FLOPs: flops,
		Setup: func() (func(), func()) {
			r := rand.New(rand.NewPCG(3, uint64(s.Cin*1000+s.H)))
			p := nn.NewParams()
			conv := nn.NewConv2d(p, "conv", s.Cin, s.Cout, s.K, s.Stride, s.Pad, true, r)
			x := randSlice(r, s.N*s.Cin*s.H*s.W)
			prev := simd.Threads()
			simd.SetThreads(threads)
			restore := func() { simd.SetThreads(prev) }
			y, _, _ := conv.Forward(x, s.N, s.H, s.W)
			if !backward {
				return func() { conv.Forward(x, s.N, s.H, s.W) }, restore
			}
			dy := randSlice(r, len(y))
			return func() { conv.Backward(dy) }, restore
		},
	}
}
