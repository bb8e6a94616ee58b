package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cdp-project/cdp/core/ckpt"
	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/unet"
)

func init() {
	register(&command{
		name:    "train",
		summary: "train the class-conditional diffusion model (eps-model)",
		usage:   "[--data embedded] [--model unet-small] [--steps N] --out DIR",
		run:     runTrain,
	})
}

func runTrain(e *env, args []string) error {
	fs := e.flags()
	df := addDataFlags(fs, 4000)
	def := unet.DefaultTrainConfig()
	model := fs.String("model", "unet-small", "model preset: unet-small|unet-tiny")
	fs.IntVar(&def.Steps, "steps", def.Steps, "optimiser steps in total")
	fs.IntVar(&def.Batch, "batch", def.Batch, "images per step")
	fs.Float64Var(&def.LR, "lr", def.LR, "Adam learning rate after warm-up")
	fs.IntVar(&def.Warmup, "warmup", def.Warmup, "linear learning-rate warm-up steps")
	fs.Float64Var(&def.EMA, "ema", def.EMA, "EMA decay of the weights used for sampling")
	fs.Float64Var(&def.ClipNorm, "clip", def.ClipNorm, "clip the global gradient norm to this (0: off)")
	fs.Float64Var(&def.LabelDrop, "label-drop", def.LabelDrop, "probability of the null label (for classifier-free guidance)")
	fs.StringVar(&def.Schedule, "schedule", def.Schedule, "noise schedule: linear|cosine")
	fs.IntVar(&def.T, "T", def.T, "diffusion timesteps")
	fs.Uint64Var(&def.Seed, "seed", def.Seed, "seed of batches, timesteps and noise")
	every := fs.Int("ckpt-every", 500, "save a checkpoint every N steps (and on Ctrl-C and at the end)")
	out := fs.String("out", "out/train", "output folder: model.ckpt, model-ema.ckpt (the EMA weights alone, for sampling), args.json, log.jsonl")
	resume := fs.Bool("resume", false, "continue the run in --out from its model.ckpt (bit for bit); --steps may extend it")
	asJSON := fs.Bool("json", false, "print the final summary as JSON")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := def.Validate(); err != nil {
		return &usageError{msg: err.Error()}
	}
	if *every < 0 {
		return usagef("--ckpt-every %d must not be negative", *every)
	}
	d, err := df.load(data.Train, e.stderr)
	if err != nil {
		return err
	}
	cfg, err := unet.Preset(*model)
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	d = padTo(d, cfg.Size).ToSigned()

	ckptPath, c, err := runState(*out, "model.ckpt", *resume)
	if err != nil {
		return err
	}
	var tr *unet.Trainer
	if c != nil {
		steps := 0
		if fs.Changed("steps") {
			steps = def.Steps
		}
		if tr, err = unet.Resume(c, d, steps); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "resuming %s at step %d of %d\n", ckptPath, tr.Step, tr.Cfg.Steps)
	} else {
		m, err := unet.New(cfg, seededRNG(def.Seed, 0))
		if err != nil {
			return err
		}
		if tr, err = unet.NewTrainer(m, d, def); err != nil {
			return err
		}
		if err := writeJSONFile(filepath.Join(*out, "args.json"), map[string]any{
			"command": "train", "model": cfg, "train": def, "data": d.Provenance, "args": args,
		}); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "training %s (%d parameters) on %s: %d images, batch %d, %d steps, kernels %s\n",
		cfg.Name, tr.Model.P.Len(), d.Provenance, d.N, tr.Cfg.Batch, tr.Cfg.Steps, simdImpl())

	logf, err := os.OpenFile(filepath.Join(*out, "log.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	ctx, stop := interruptContext()
	defer stop()
	bar := newProgress(e.stderr, tr.Cfg.Steps, "train")
	bar.set(tr.Step)
	var last unet.Progress
	err = tr.Run(ctx, *every, map[string]any{"args": args},
		func(c *ckpt.Checkpoint) error { return writeCheckpoint(ckptPath, c) },
		func(p unet.Progress) {
			last = p
			bar.update(p.Step, fmt.Sprintf("loss %.4f lr %.2g", p.Loss, p.LR))
			if p.Step%50 == 0 || p.Step == p.Steps {
				line, _ := json.Marshal(map[string]any{"step": p.Step, "loss": p.Loss, "lr": p.LR, "elapsed_s": p.Elapsed.Seconds()})
				logf.Write(append(line, '\n'))
			}
		})
	bar.finish()
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(e.stderr, "interrupted: saved step %d to %s; continue with --resume\n", tr.Step, ckptPath)
		return err
	case errors.Is(err, unet.ErrNonFinite):
		return fmt.Errorf("%v: stopped; the last good checkpoint (if any) is kept in %s", err, ckptPath)
	case err != nil:
		return err
	}
	// The EMA weights alone, for sampling and the browser page.
	emaPath := filepath.Join(*out, "model-ema.ckpt")
	sc, err := tr.SamplingCheckpoint(map[string]any{"args": args})
	if err != nil {
		return err
	}
	if err := writeCheckpoint(emaPath, sc); err != nil {
		return err
	}
	summary := map[string]any{"checkpoint": ckptPath, "sampling_checkpoint": emaPath, "steps": tr.Step, "seconds": last.Elapsed.Seconds(), "data": d.Provenance}
	if last.Step > 0 {
		summary["final_loss"] = last.Loss
	}
	if *asJSON {
		return printJSON(e.stdout, summary)
	}
	if last.Step == 0 { // resumed a finished run: no step taken
		fmt.Fprintf(e.stdout, "already at step %d of %d, nothing to train; checkpoint %s (EMA weights alone, for sampling: %s)\n", tr.Step, tr.Cfg.Steps, ckptPath, emaPath)
		return nil
	}
	fmt.Fprintf(e.stdout, "trained %d steps in %.0f s, last loss %.4f; checkpoint %s (EMA weights alone, for sampling: %s)\n", tr.Step, last.Elapsed.Seconds(), last.Loss, ckptPath, emaPath)
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
