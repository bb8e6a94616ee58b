//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"syscall/js"
	"time"

	"github.com/cdp-project/cdp/core/ckpt"
	"github.com/cdp-project/cdp/core/classify"
	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/diffusion"
	"github.com/cdp-project/cdp/core/generate"
	"github.com/cdp-project/cdp/core/guide"
	"github.com/cdp-project/cdp/simd"
)

// Limits of sample's options. Sampling cost grows with n * steps and the
// page waits for all of it; a checkpoint past sampleMaxCkpt is no model
// a browser should run.
const (
	sampleMaxN       = 200
	sampleMaxClasses = 1000
	sampleMaxCkpt    = 64 << 20
	sampleMaxFrames  = 100
)

// sampleOptions are the parsed options of sample.
type sampleOptions struct {
	model, features []byte
	n, batch        int
	sampler         generate.Sampler
	seed            uint64
	classes         []int
	guidance        generate.Guidance
	every           int // keep x0hat every this many steps (0: no frames)
}

// jsOptionNames are sample's names of the options whose cdp sample flag,
// which generate's errors name, is spelled otherwise (the rest are alike).
var jsOptionNames = map[string]string{"tau-plus": "tauPlus", "head-lr": "headLR", "cfg-w": "cfgW", "feature-input": "input"}

// sample draws images from a diffusion checkpoint, plain or guided:
//
//	cdp.sample({model: Uint8Array (a cdp train checkpoint; required),
//	            features: Uint8Array (a cdp advtrain classifier checkpoint: the
//	                      feature network of contrastive guidance, the classifier
//	                      of classifier guidance, and what measures the samples),
//	            n: 20 (at most 200), batch: n, sampler: "ddim", steps: 50, eta: 0,
//	            spacing: "linspace", clip: true, seed: 1,
//	            classes: [..] (cycled over the images; absent or empty: every
//	                      class in turn),
//	            guide: "none"|"contrastive"|"classifier"|"cfg",
//	            loss: "hnm"|"infonce", lambda: 1e5, tau, tauPlus: 0.1, beta: 1,
//	            window: [52, 150], input: "xt"|"x0hat", negatives: "all"|"other-class",
//	            head: "none"|"fixed"|"online", headLR: 0.01, scale: 1, cfgW: 1,
//	            frames: 0 (keep the prediction of x_0 at steps 0, k, 2k, ... and
//	                      the last; at most 100 frames)},
//	           onProgress(done, total, t))
//
// The guidance and sampler options mean what cdp sample's flags of the
// same names mean (tauPlus is --tau-plus, headLR --head-lr, cfgW --cfg-w,
// input --feature-input, window [lo, hi] --window lo:hi), with the same
// defaults except sampler and steps (DDIM with 50 steps suits a browser);
// n and batch default to 20 and n. Checkpoints may hold up to 64 MiB.
// onProgress, when a function, is called after every step of every batch.
// The Promise resolves to
//
//	{n, size, channels, images: Uint8Array (n, size, size, channels) of pixels,
//	 labels: Int32Array, guidance (a description), impl (the kernel set),
//	 seconds, imageStepsPerSec,
//	 stats: {meanCosine, agreement} (with features and n >= 2; see generate.Stats),
//	 frames: [{t, images: Uint8Array}] (with frames > 0)}
//
// The images are centre-cropped to the classifier's size when features are
// given, and otherwise to 28x28 for a 32x32 model (MNIST's padding).
func sample(_ js.Value, args []js.Value) any {
	return promise(func() (any, error) {
		o := sampleOptions{n: 20, sampler: generate.Sampler{Name: "ddim", Steps: 50, Spacing: "linspace", Clip: true}, seed: 1, guidance: generate.Default()}
		if len(args) < 1 {
			return nil, fmt.Errorf("sample(options, onProgress): options with a model checkpoint are required")
		}
		if err := o.parse(args[0]); err != nil {
			return nil, err
		}
		var progress js.Value
		if len(args) > 1 && typeOf(args[1]) == js.TypeFunction {
			progress = args[1]
		}
		return o.run(progress)
	})
}

func (o *sampleOptions) parse(v js.Value) error {
	if typeOf(v) != js.TypeObject || js.Global().Get("Array").Call("isArray", v).Bool() {
		return fmt.Errorf("sample(options): options must be an object, got %s", describe(v))
	}
	entries := js.Global().Get("Object").Call("entries", v)
	g := &o.guidance
	floats := map[string]*float64{"eta": &o.sampler.Eta, "lambda": &g.Lambda, "tau": &g.Tau, "tauPlus": &g.TauPlus,
		"beta": &g.Beta, "headLR": &g.HeadLR, "scale": &g.Scale, "cfgW": &g.CfgW}
	words := map[string]*string{"sampler": &o.sampler.Name, "spacing": &o.sampler.Spacing, "guide": &g.Kind,
		"loss": &g.Loss, "input": &g.Input, "negatives": &g.Negatives, "head": &g.Head}
	for i := 0; i < entries.Length(); i++ {
		k, x := entries.Index(i).Index(0).String(), entries.Index(i).Index(1)
		if x.IsUndefined() {
			continue
		}
		var err error
		if p, ok := floats[k]; ok {
			if *p, err = float(x, k); err != nil {
				return err
			}
			continue
		}
		if p, ok := words[k]; ok {
			if *p, err = word(x, k); err != nil {
				return err
			}
			continue
		}
		switch k {
		case "model":
			o.model, err = byteArray("sample", k, "a cdp train checkpoint", x, sampleMaxCkpt)
		case "features":
			if !x.IsNull() {
				o.features, err = byteArray("sample", k, "a cdp advtrain checkpoint", x, sampleMaxCkpt)
			}
		case "n":
			o.n, err = count("sample", x, k, 1, sampleMaxN)
		case "batch":
			o.batch, err = count("sample", x, k, 1, sampleMaxN)
		case "steps":
			o.sampler.Steps, err = count("sample", x, k, 1, 1<<20)
		case "frames":
			o.every, err = count("sample", x, k, 0, 1<<20)
		case "seed":
			var s int
			s, err = count("sample", x, k, 0, 1<<53)
			o.seed = uint64(s)
		case "clip":
			if typeOf(x) != js.TypeBoolean {
				return fmt.Errorf("sample: clip must be true or false, got %s", describe(x))
			}
			o.sampler.Clip = x.Bool()
		case "classes":
			o.classes, err = ints(x, k, sampleMaxClasses)
		case "window":
			var w []int
			if w, err = ints(x, k, 2); err == nil && len(w) != 2 {
				err = fmt.Errorf("sample: window must be [lo, hi], got %d numbers", len(w))
			} else if err == nil {
				g.Window = guide.Window{Lo: w[0], Hi: w[1]}
			}
		default:
			if len(k) > 40 {
				k = k[:40] + "…"
			}
			return fmt.Errorf("sample: no option %q (model, features, n, batch, sampler, steps, eta, spacing, clip, seed, classes, "+
				"guide, loss, lambda, tau, tauPlus, beta, window, input, negatives, head, headLR, scale, cfgW, frames)", k)
		}
		if err != nil {
			return err
		}
	}
	if o.model == nil {
		return fmt.Errorf("sample: options.model (a cdp train checkpoint as a Uint8Array) is required")
	}
	if o.batch == 0 || o.batch > o.n {
		o.batch = o.n
	}
	g.HeadSeed = o.seed
	return nil
}

// float reads a finite or infinite JS number (the checks of generate decide
// what is in range).
func float(v js.Value, what string) (float64, error) {
	if typeOf(v) != js.TypeNumber {
		return 0, fmt.Errorf("sample: %s must be a number, got %s", what, describe(v))
	}
	return v.Float(), nil
}

// word reads a short JS string.
func word(v js.Value, what string) (string, error) {
	if typeOf(v) != js.TypeString {
		return "", fmt.Errorf("sample: %s must be a string, got %s", what, describe(v))
	}
	s := v.String()
	if len(s) > 40 {
		return "", fmt.Errorf("sample: %s of %d bytes is no choice of that option", what, len(s))
	}
	return s, nil
}

// ints reads an array of at most max integers.
func ints(v js.Value, what string, max int) ([]int, error) {
	if typeOf(v) != js.TypeObject || !js.Global().Get("Array").Call("isArray", v).Bool() {
		return nil, fmt.Errorf("sample: %s must be an array of integers, got %s", what, describe(v))
	}
	n := v.Length() // read once, before any entry
	if n > max {
		return nil, fmt.Errorf("sample: %s has %d entries, more than %d", what, n, max)
	}
	out := make([]int, n)
	for i := range out {
		k, err := count("sample", v.Index(i), fmt.Sprintf("%s[%d]", what, i), -1<<31, 1<<31)
		if err != nil {
			return nil, err
		}
		out[i] = k
	}
	return out, nil
}

// jsOption rewrites a generate.OptionError with sample's option name.
func jsOption(err error) error {
	var oe *generate.OptionError
	if errors.As(err, &oe) {
		name := oe.Option
		if js, ok := jsOptionNames[name]; ok {
			name = js
		}
		return fmt.Errorf("sample: %s %s", name, oe.Msg)
	}
	return err
}

func (o *sampleOptions) run(progress js.Value) (any, error) {
	c, err := ckpt.Decode(bytes.NewReader(o.model))
	if err != nil {
		return nil, fmt.Errorf("sample: model: %w", err)
	}
	model, sched, err := generate.Model(c)
	if err != nil {
		return nil, fmt.Errorf("sample: model: %w", err)
	}
	var net *classify.Net
	if o.features != nil {
		fc, err := ckpt.Decode(bytes.NewReader(o.features))
		if err != nil {
			return nil, fmt.Errorf("sample: features: %w", err)
		}
		if net, err = classify.Load(fc); err != nil {
			return nil, fmt.Errorf("sample: features: %w", err)
		}
		if err := generate.CheckNet(model, net); err != nil {
			return nil, fmt.Errorf("sample: features: %w", err)
		}
	} else if o.guidance.NeedsNet() {
		return nil, fmt.Errorf("sample: guide %q needs options.features (a cdp advtrain classifier checkpoint)", o.guidance.Kind)
	}
	run, err := o.sampler.Config(sched)
	if err != nil {
		return nil, jsOption(err)
	}
	y, err := generate.Labels(o.classes, o.n, model.Cfg.Classes)
	if err != nil {
		return nil, jsOption(err)
	}
	eps, desc, err := o.guidance.Wrap(model, net, sched.T)
	var oe *generate.OptionError
	switch {
	case errors.As(err, &oe):
		return nil, jsOption(err)
	case err != nil:
		return nil, fmt.Errorf("sample: %w", err)
	}
	cfg := model.Cfg
	crop := 0
	switch {
	case net != nil: // CheckNet: an even margin
		crop = (cfg.Size - net.Cfg.Size) / 2
	case cfg.Size == 32:
		crop = 2 // MNIST's padding
	}
	pixels := func(x []float32, n int) []byte {
		d := data.New(x, make([]int, n), n, cfg.InCh, cfg.Size, cfg.Size, cfg.Classes, "synthetic", "")
		d.Signed = true
		if crop > 0 {
			d = d.Crop(crop)
		}
		return d.NHWC()
	}
	steps := len(run.Timesteps)
	batches := (o.n + o.batch - 1) / o.batch
	total := batches * steps
	type frame struct {
		t   int
		pix []byte
	}
	// Frames at steps 0, every, 2*every, ... and at the last step.
	slot := func(index int) int { return (index + o.every - 1) / o.every }
	var frames []frame
	if o.every > 0 {
		if k := slot(steps-1) + 1; k > sampleMaxFrames {
			return nil, fmt.Errorf("sample: frames = %d keeps %d frames of %d steps, more than %d", o.every, k, steps, sampleMaxFrames)
		}
	}
	side := cfg.Size - 2*crop
	done := 0
	run.Batch, run.Seed = o.batch, o.seed
	run.Callback = func(info diffusion.StepInfo) error {
		done++
		if o.every > 0 && (info.Index%o.every == 0 || info.Last()) {
			k := slot(info.Index)
			for len(frames) <= k {
				frames = append(frames, frame{t: info.T, pix: make([]byte, o.n*side*side*cfg.InCh)})
			}
			per := side * side * cfg.InCh
			copy(frames[k].pix[info.Offset*per:], pixels(info.X0hat, len(info.X0hat)/model.Dim()))
		}
		if !progress.IsUndefined() {
			progress.Invoke(done, total, info.T)
		}
		return nil
	}
	start := time.Now()
	x, err := diffusion.Sample(context.Background(), eps, y, run)
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	secs := time.Since(start).Seconds()
	labels := make([]int32, len(y))
	for i, k := range y {
		labels[i] = int32(k)
	}
	img := pixels(x, o.n)
	res := map[string]any{
		"n": o.n, "size": side, "channels": cfg.InCh, "guidance": desc, "impl": simd.Impl(),
		"images": bytesToJS(img), "labels": int32sToJS(labels),
		"seconds": secs, "imageStepsPerSec": float64(o.n*steps) / secs,
	}
	if net != nil && o.n >= 2 {
		st, err := generate.Measure(net, x, y, cfg.Size)
		if err != nil {
			return nil, fmt.Errorf("sample: %w", err)
		}
		res["stats"] = map[string]any{"meanCosine": st.MeanCosine, "agreement": st.Agreement}
	}
	if frames != nil {
		fs := js.Global().Get("Array").New(len(frames))
		for i, f := range frames {
			fs.SetIndex(i, map[string]any{"t": f.t, "images": bytesToJS(f.pix)})
		}
		res["frames"] = fs
	}
	return js.ValueOf(res), nil
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// int32sToJS copies v into a new Int32Array.
func int32sToJS(v []int32) js.Value {
	a := js.Global().Get("Int32Array").New(len(v))
	for i, x := range v {
		a.SetIndex(i, x)
	}
	return a
}
