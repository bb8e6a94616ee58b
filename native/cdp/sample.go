package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cdp-project/cdp/core/classify"
	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/diffusion"
	"github.com/cdp-project/cdp/core/generate"
	"github.com/cdp-project/cdp/core/guide"
	"github.com/cdp-project/cdp/core/unet"
	"github.com/cdp-project/cdp/native/store"
)

func init() {
	register(&command{
		name:    "sample",
		summary: "generate labelled images with DDPM/DDIM, plain or guided (contrastive, classifier, cfg)",
		usage:   "--ckpt model.ckpt [--n 1000] [--guide contrastive --feature-ckpt f.ckpt] --out DIR",
		run:     runSample,
	})
}

// sampleOpts are the flags of cdp sample.
type sampleOpts struct {
	ckpt, classes, sampler, spacing, guideKind  string
	n, batch, steps, size                       int
	eta                                         float64
	clip                                        bool
	loss, window, head, featureCkpt, input, neg string
	lambda, tau, tauPlus, beta, headLR          float64
	scale, cfgW                                 float64
	shard, out                                  string
	seed                                        uint64
	json                                        bool
}

func runSample(e *env, args []string) error {
	fs := e.flags()
	var o sampleOpts
	fs.StringVar(&o.ckpt, "ckpt", "out/train/model.ckpt", "eps-model checkpoint from cdp train (its EMA weights are used)")
	fs.IntVar(&o.n, "n", 1000, "number of images")
	fs.StringVar(&o.classes, "classes", "uniform", "labels: uniform (image i gets class i mod K) or a comma list cycled over the images")
	fs.IntVar(&o.batch, "batch", 100, "images per batch (the contrastive loss couples the images of a batch)")
	fs.StringVar(&o.sampler, "sampler", "ddpm", "ddpm|ddim")
	fs.IntVar(&o.steps, "steps", 250, "sampling steps (of the T of training)")
	fs.Float64Var(&o.eta, "eta", 0, "DDIM eta (0: deterministic)")
	fs.StringVar(&o.spacing, "spacing", "linspace", "step spacing: linspace|even|uniform|quadratic")
	fs.BoolVar(&o.clip, "clip", true, "clip x0hat to [-1, 1] at every step (the authors' sampler does)")
	fs.IntVar(&o.size, "size", 28, "crop the samples to size x size at the centre (28 undoes MNIST's padding; 0 keeps the model size)")
	fs.StringVar(&o.guideKind, "guide", "none", "guidance: none|contrastive|classifier|cfg")
	fs.StringVar(&o.loss, "loss", "hnm", "contrastive loss: hnm|infonce")
	fs.Float64Var(&o.lambda, "lambda", 1e5, "contrastive guidance strength (authors: 1e5 with hnm on MNIST)")
	fs.Float64Var(&o.tau, "tau", 0, "temperature (default 10 for hnm, 0.1 for infonce)")
	fs.Float64Var(&o.tauPlus, "tau-plus", 0.1, "hnm class prior tau_plus")
	fs.Float64Var(&o.beta, "beta", 1, "hnm hardness beta")
	fs.StringVar(&o.window, "window", "52:150", "guide only when LO <= t <= HI (t = 1..T; authors' MNIST window 50 < t < 150 on 0-based steps)")
	fs.StringVar(&o.head, "head", "none", "projection head: none|fixed|online (online: the authors' code; breaks --shard equality)")
	fs.Float64Var(&o.headLR, "head-lr", 1e-2, "Adam learning rate of the online head")
	fs.StringVar(&o.featureCkpt, "feature-ckpt", "", "classifier checkpoint: feature network (contrastive) or classifier (classifier guidance); with any guidance it also measures the samples")
	fs.StringVar(&o.input, "feature-input", "xt", "what the feature network sees: xt|x0hat")
	fs.StringVar(&o.neg, "negatives", "all", "contrastive negatives: all|other-class")
	fs.Float64Var(&o.scale, "scale", 1, "classifier guidance scale s")
	fs.Float64Var(&o.cfgW, "cfg-w", 1, "classifier-free guidance weight w")
	fs.StringVar(&o.shard, "shard", "", "i/n: generate only shard i (0-based) of n; shards concatenated equal the full run")
	fs.StringVar(&o.out, "out", "out/sample", "output folder: samples.npz (image uint8 N,H,W,C; label int64), samples.png (grid), samples.args.json; with --shard i/n samples-i-of-n.*")
	fs.Uint64Var(&o.seed, "seed", 1, "seed: with the image index it fixes every draw of that image")
	fs.BoolVar(&o.json, "json", false, "print the summary as JSON")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return sample(e, &o, args)
}

// parseShard reads "i/n".
func parseShard(s string) (i, n int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, usagef("--shard %q: want i/n with 0 <= i < n", s)
	}
	return i, n, nil
}

// parseWindow reads "lo:hi".
func parseWindow(s string, T int) (guide.Window, error) {
	a, b, ok := strings.Cut(s, ":")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || lo < 1 || hi > T || lo > hi {
		return guide.Window{}, usagef("--window %q: want LO:HI with 1 <= LO <= HI <= %d", s, T)
	}
	return guide.Window{Lo: lo, Hi: hi}, nil
}

// labelsFor returns the label of every image of the run.
func labelsFor(spec string, n, classes int) ([]int, error) {
	var cycle []int
	if spec != "uniform" {
		for _, f := range strings.Split(spec, ",") {
			k, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || k < 0 || k >= classes {
				return nil, usagef("--classes %q: %q is not a class in 0..%d", spec, f, classes-1)
			}
			cycle = append(cycle, k)
		}
	}
	return generate.Labels(cycle, n, classes)
}

func sample(e *env, o *sampleOpts, args []string) error {
	if o.n <= 0 || o.batch <= 0 {
		return usagef("--n %d and --batch %d must be positive", o.n, o.batch)
	}
	shard, shards, err := parseShard(o.shard)
	if err != nil {
		return err
	}
	c, err := readCheckpoint(o.ckpt)
	if err != nil {
		return fmt.Errorf("--ckpt: %w", err)
	}
	model, sched, err := generate.Model(c)
	if err != nil {
		return fmt.Errorf("--ckpt %s: %w", o.ckpt, err)
	}
	run, err := generate.Sampler{Name: o.sampler, Steps: o.steps, Eta: o.eta, Spacing: o.spacing, Clip: o.clip}.Config(sched)
	if err != nil {
		return optionUsage(err)
	}
	mcfg := model.Cfg
	if o.size < 0 || o.size > mcfg.Size || (o.size > 0 && (mcfg.Size-o.size)%2 != 0) {
		return usagef("--size %d: want 0 or an even margin below the model's %d", o.size, mcfg.Size)
	}
	y, err := labelsFor(o.classes, o.n, mcfg.Classes)
	if err != nil {
		return err
	}
	net, err := loadFeatureNet(o, model)
	if err != nil {
		return err
	}
	eps, desc, err := buildGuidance(o, model, net, sched.T)
	if err != nil {
		return err
	}
	// Shards split at batch boundaries, so that batch-coupled guidance sees
	// the same batches as an unsharded run.
	nb := (o.n + o.batch - 1) / o.batch
	lo, hi := min(nb*shard/shards*o.batch, o.n), min(nb*(shard+1)/shards*o.batch, o.n)
	if lo == hi {
		return usagef("--shard %s is empty: %d images in %d batches", o.shard, o.n, nb)
	}
	if err := ensureDir(o.out); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "sampling %d images (%d..%d of %d) with %s %d steps, guidance %s, kernels %s\n",
		hi-lo, lo, hi-1, o.n, o.sampler, o.steps, desc, simdImpl())
	ctx, stop := interruptContext()
	defer stop()
	ts := run.Timesteps
	total := ((hi - lo + o.batch - 1) / o.batch) * len(ts)
	bar := newProgress(e.stderr, total, "sample")
	done := 0
	start := time.Now()
	run.Batch, run.Seed, run.Offset = o.batch, o.seed, lo
	run.Callback = func(info diffusion.StepInfo) error {
		done++
		rate := float64(done*min(o.batch, hi-lo)) / time.Since(start).Seconds()
		bar.update(done, fmt.Sprintf("t=%d %.0f img-steps/s", info.T, rate))
		return nil
	}
	x, err := diffusion.Sample(ctx, eps, y[lo:hi], run)
	bar.finish()
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: nothing written (sampling has no partial output)")
	}
	if err != nil {
		return err
	}
	d := data.New(x, append([]int(nil), y[lo:hi]...), hi-lo, mcfg.InCh, mcfg.Size, mcfg.Size, mcfg.Classes, "synthetic",
		fmt.Sprintf("cdp sample from %s (%s %d steps, guidance %s, seed %d, images %d..%d of %d)", o.ckpt, o.sampler, o.steps, desc, o.seed, lo, hi-1, o.n))
	d.Signed = true
	if o.size > 0 && o.size < mcfg.Size {
		d = d.Crop((mcfg.Size - o.size) / 2)
	}
	name := "samples.npz"
	if shards > 1 {
		name = fmt.Sprintf("samples-%d-of-%d.npz", shard, shards)
	}
	path := filepath.Join(o.out, name)
	if err := store.WriteFileAtomic(path, func(w io.Writer) error { return data.WriteNPZ(w, d) }); err != nil {
		return err
	}
	grid := filepath.Join(o.out, strings.TrimSuffix(name, ".npz")+".png")
	if err := writeGrid(grid, d, 10, 100); err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(o.out, strings.TrimSuffix(name, ".npz")+".args.json"), map[string]any{
		"command": "sample", "args": args, "guidance": desc, "provenance": d.Provenance,
	}); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	summary := map[string]any{"npz": path, "grid": grid, "images": d.N, "seconds": secs,
		"image_steps_per_second": float64(d.N*len(ts)) / secs, "guidance": desc}
	var measured string
	if m := min(d.N, measuredSamples); net != nil && m >= 2 {
		st, err := generate.Measure(net, x[:m*model.Dim()], y[lo:lo+m], mcfg.Size)
		if err != nil {
			return err
		}
		summary["samples"] = st
		measured = fmt.Sprintf("; %s: mean pairwise feature cosine %.3f, %.1f%% classified as labelled (first %d images)",
			net.Cfg.Name, st.MeanCosine, 100*st.Agreement, m)
	}
	if o.json {
		return printJSON(e.stdout, summary)
	}
	fmt.Fprintf(e.stdout, "wrote %d images to %s and %s in %.1f s (%.0f image-steps/s)%s\n", d.N, path, grid, secs, float64(d.N*len(ts))/secs, measured)
	return nil
}

// loadFeatureNet reads --feature-ckpt (nil when it is not given) and checks
// that its network can read the eps-model's images.
func loadFeatureNet(o *sampleOpts, model *unet.UNet) (*classify.Net, error) {
	if o.featureCkpt == "" {
		return nil, nil
	}
	fc, err := readCheckpoint(o.featureCkpt)
	if err != nil {
		return nil, fmt.Errorf("--feature-ckpt: %w", err)
	}
	net, err := classify.Load(fc)
	if err == nil {
		err = generate.CheckNet(model, net)
	}
	if err != nil {
		return nil, fmt.Errorf("--feature-ckpt %s: %w", o.featureCkpt, err)
	}
	return net, nil
}

// buildGuidance wraps the eps-model in the guidance that o asks for and
// describes it; net is the --feature-ckpt network or nil.
func buildGuidance(o *sampleOpts, model *unet.UNet, net *classify.Net, T int) (diffusion.EpsModel, string, error) {
	g := generate.Guidance{
		Kind: o.guideKind, Loss: o.loss, Lambda: o.lambda, Tau: o.tau, TauPlus: o.tauPlus, Beta: o.beta,
		Head: o.head, HeadLR: o.headLR, HeadSeed: o.seed, Input: o.input, Negatives: o.neg,
		Scale: o.scale, CfgW: o.cfgW,
	}
	if g.NeedsNet() {
		if net == nil {
			return nil, "", usagef("--guide %s needs --feature-ckpt (a classifier checkpoint from cdp advtrain)", o.guideKind)
		}
		var err error
		if g.Window, err = parseWindow(o.window, T); err != nil {
			return nil, "", err
		}
	}
	eps, desc, err := g.Wrap(model, net, T)
	var oe *generate.OptionError
	switch {
	case err == nil:
		return eps, desc, nil
	case errors.As(err, &oe):
		return nil, "", usagef("--%s", oe.Error())
	default: // the network's own failure (the flags passed)
		return nil, "", fmt.Errorf("--feature-ckpt %s: %w", o.featureCkpt, err)
	}
}

// optionUsage turns a generate.OptionError into the usage error of its flag.
func optionUsage(err error) error {
	var oe *generate.OptionError
	if errors.As(err, &oe) {
		return usagef("--%s", oe.Error())
	}
	return err
}
