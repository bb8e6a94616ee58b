//go:build gc && js && !purego

package simd_test

import (
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/core/unet"
	"github.com/cdp-project/cdp/simd"
)

// BenchmarkWasmUNetForward times one forward pass of unet-small on a batch
// of 16 under node (js/wasm, one thread) with the loaded wasm kernel set and
// with the generic kernels, side by side (the SIMD128 set also with its
// convolution kernel in place of its Sgemm kernel, see below): the node
// stand-in for the browser comparison with onnxruntime-web (about 30
// image-steps/s in Chromium, ENV.md). Reports image-steps/s and GFLOP/s.
func BenchmarkWasmUNetForward(b *testing.B) {
	const n = 16
	cfg, err := unet.Preset("unet-small")
	if err != nil {
		b.Fatal(err)
	}
	u, err := unet.New(cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, n))
	x := make([]float32, n*u.Dim())
	for i := range x {
		x[i] = 2*r.Float32() - 1
	}
	t, y := make([]int, n), make([]int, n)
	for i := range t {
		t[i], y[i] = 1+r.IntN(1000), r.IntN(10)
	}
	// The SIMD128 set runs twice: with its Sgemm kernel (sgemm=plain, 4 x 8)
	// and with its convolution kernel in that place (sgemm=conv, 2 x 16,
	// Sgemm's kernel before the set had one of its own; the relaxed set
	// still uses it).
	for _, impl := range simd.Supported() {
		for _, plain := range []bool{true, false} {
			name := "model=unet-small/batch=16/impl=" + impl
			if impl == "wasm-simd128" {
				name = "model=unet-small/batch=16/sgemm=" + map[bool]string{true: "plain", false: "conv"}[plain] + "/impl=" + impl
			} else if !plain {
				continue
			}
			b.Run(name, func(b *testing.B) {
				if err := simd.Use(impl); err != nil {
					b.Fatal(err)
				}
				defer simd.Use("auto")
				defer simd.UseWasmGemmPlain(plain)()
				u.Forward(x, t, y)
				for b.Loop() {
					u.Forward(x, t, y)
				}
				s := b.Elapsed().Seconds()
				b.ReportMetric(float64(n*b.N)/s, "image-steps/s")
				b.ReportMetric(float64(n)*unet.ForwardFLOPs(cfg)*float64(b.N)/s/1e9, "GFLOP/s")
			})
		}
	}
}
