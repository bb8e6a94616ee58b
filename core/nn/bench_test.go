package nn

import (
	"fmt"
	"testing"

	"github.com/cdp-project/cdp/simd"
)

// benchConvs are the convolutions of unet-small at batch 64, as registered
// in bench/conv.go (kept in step with it and with testdata/bench_conv.py;
// this package does not import bench, which sits above it).
var benchConvs = []struct {
	name                         string
	n, cin, cout, h, w, k, s, pd int
}{
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

// BenchmarkConv2d times Conv2d forward and backward (weight and input
// gradients) at the unet-small shapes and reports GFLOP/s (backward counts
// twice the forward FLOPs). testdata/compare_conv.sh runs it beside
// testdata/bench_conv.py (PyTorch).
func BenchmarkConv2d(b *testing.B) {
	for _, s := range benchConvs {
		for _, threads := range []int{1, 2} {
			for _, dir := range []string{"fwd", "bwd"} {
				for _, impl := range []string{"cdp", "im2col"} {
					ho, wo := s.h+2*s.pd-s.k+1, s.w+2*s.pd-s.k+1 // at stride 1
					g := convGeom{c: s.cin, h: s.h, w: s.w, ho: ho, wo: wo, k: s.k, s: 1, pad: s.pd}
					if impl == "im2col" && (s.s != 1 || !useWinograd(g, s.cout, s.h+2*s.pd, s.w+2*s.pd)) {
						continue // no Winograd path to switch off: the same code as cdp
					}
					name := fmt.Sprintf("%s/%s/shape=b%d/threads=%d/impl=%s", dir, s.name, s.n, threads, impl)
					b.Run(name, func(b *testing.B) {
						defer simd.SetThreads(simd.Threads())
						defer func() { convWinograd = true }()
						convWinograd = impl == "cdp"
						simd.SetThreads(threads)
						rng := newRNG(3)
						p := NewParams()
						conv := NewConv2d(p, "conv", s.cin, s.cout, s.k, s.s, s.pd, true, rng)
						x := randn(rng, s.n*s.cin*s.h*s.w, 1)
						y, ho, wo := conv.Forward(x, s.n, s.h, s.w)
						dy := randn(rng, len(y), 1)
						flops := 2 * float64(s.n*s.cout*ho*wo) * float64(s.cin*s.k*s.k)
						if dir == "bwd" {
							flops *= 2
							conv.Backward(dy)
						}
						b.ResetTimer()
						for i := 0; i < b.N; i++ {
							if dir == "bwd" {
								conv.Backward(dy)
							} else {
								conv.Forward(x, s.n, s.h, s.w)
							}
						}
						b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}

// BenchmarkLayers times the other layers at unet-small sizes, batch 64.
func BenchmarkLayers(b *testing.B) {
	rng := newRNG(4)
	n, c, h, w := 64, 32, 32, 32
	x := randn(rng, n*c*h*w, 1)
	p := NewParams()
	gn := NewGroupNorm(p, "gn", 8, c)
	var act SiLU
	var up Upsample2
	at := NewAttentionBlock(p, "attn", 64, 8, rng)
	xa := randn(rng, n*64*8*8, 1)
	xu := randn(rng, n*64*16*16, 1)
	layers := []struct {
		name string
		fwd  func() []float32
		bwd  func([]float32) []float32
	}{
		{"groupnorm/64x32x32x32", func() []float32 { return gn.Forward(x, n, h, w) }, gn.Backward},
		{"silu/64x32x32x32", func() []float32 { return act.Forward(x) }, act.Backward},
		{"upsample2/64x64x16x16", func() []float32 { return up.Forward(xu, n, 64, 16, 16) }, up.Backward},
		{"attention/64x64x8x8", func() []float32 { return at.Forward(xa, n, 8, 8) }, at.Backward},
	}
	for _, l := range layers {
		dy := randn(rng, len(l.fwd()), 1)
		b.Run(l.name+"/fwd/impl=cdp", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				l.fwd()
			}
		})
		b.Run(l.name+"/bwd/impl=cdp", func(b *testing.B) {
			l.fwd()
			for i := 0; i < b.N; i++ {
				l.bwd(dy)
			}
		})
	}
}
