//go:build ignore

// gen.go writes the 3-channel fixtures of the browser tests: rgb-unet.ckpt,
// a unet-tiny eps-model for 3-channel 32x32 images with random (untrained)
// EMA weights, and rgb-net.ckpt, an mnist-net for 3-channel 28x28 images
// with random weights. No colour model is shipped with the page; these
// check that cdp.sample and the page handle one. Run from this folder:
//
//	go run gen.go
package main

import (
	"bytes"
	"log"
	"math/rand/v2"
	"os"

	"github.com/cdp-project/cdp/core/ckpt"
	"github.com/cdp-project/cdp/core/classify"
	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/unet"
)

func main() {
	cfg, err := unet.Preset("unet-tiny")
	check(err)
	cfg.InCh = 3
	m, err := unet.New(cfg, rand.New(rand.NewPCG(1, 1)))
	check(err)
	const n = 4
	rng := rand.New(rand.NewPCG(2, 2))
	img := make([]float32, n*3*32*32)
	for i := range img {
		img[i] = rng.Float32()
	}
	d := data.New(img, []int{0, 1, 2, 3}, n, 3, 32, 32, 10, "random", "random 3x32x32 images").ToSigned()
	tc := unet.DefaultTrainConfig()
	tc.Steps, tc.Batch, tc.Schedule = 1, 4, "cosine"
	tr, err := unet.NewTrainer(m, d, tc)
	check(err)
	c, err := tr.SamplingCheckpoint(map[string]any{"note": "random weights: a test fixture (wasm/test/testdata/gen.go)"})
	check(err)
	write("rgb-unet.ckpt", c)

	ncfg, err := classify.Preset("mnist-net", 28)
	check(err)
	ncfg.InCh = 3
	net, err := classify.New(ncfg, rand.New(rand.NewPCG(3, 3)))
	check(err)
	nc, err := net.Checkpoint(net.P.W, map[string]any{"note": "random weights: a test fixture (wasm/test/testdata/gen.go)"})
	check(err)
	write("rgb-net.ckpt", nc)
}

func write(name string, c *ckpt.Checkpoint) {
	var b bytes.Buffer
	check(ckpt.Encode(&b, c))
	check(os.WriteFile(name, b.Bytes(), 0o644))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
