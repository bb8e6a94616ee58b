package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cdp-project/cdp/core/classify"
	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/native/store"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "advtrain",
		summary: "adversarially train a classifier (TRADES, PGD-AT or standard) on real plus synthetic data",
		usage:   "[--synthetic samples.npz ...] [--method trades] [--eps 0.3] --out DIR",
		run:     runAdvTrain,
	})
}

func runAdvTrain(e *env, args []string) error {
	fs := e.flags()
	df := addDataFlags(fs, 5000)
	c := classify.DefaultTrainConfig()
	model := fs.String("model", "mnist-net", "classifier: mnist-net|cnn-small|resnet-small (residual network with batch norm, for Fashion-MNIST)")
	synthetic := fs.StringArray("synthetic", nil, "synthetic .npz (image uint8 N,H,W,C; label int64), repeatable")
	fs.Float64Var(&c.SynthFrac, "synthetic-fraction", c.SynthFrac, "share of synthetic examples in every batch (with --synthetic)")
	addTrainFlags(fs, &c)
	out := fs.String("out", "out/advtrain", "output folder: weights-best.ckpt, weights-last.ckpt, state.ckpt, log.jsonl, args.json")
	resume := fs.Bool("resume", false, "continue the run in --out from its state.ckpt; --epochs may extend it")
	asJSON := fs.Bool("json", false, "print the final summary as JSON")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := c.Validate(); err != nil {
		return &usageError{msg: err.Error()}
	}
	real, err := df.load(data.Train, e.stderr)
	if err != nil {
		return err
	}
	var synth *data.Dataset
	for _, p := range *synthetic {
		s, err := loadSynthetic(p, real)
		if err != nil {
			return err
		}
		if synth == nil {
			synth = s
		} else {
			synth = data.Concat(synth, s)
		}
	}
	if synth == nil && fs.Changed("synthetic-fraction") && c.SynthFrac > 0 {
		return usagef("--synthetic-fraction needs --synthetic FILE")
	}
	statePath, st, err := runState(*out, "state.ckpt", *resume)
	if err != nil {
		return err
	}
	var tr *classify.Trainer
	if st != nil {
		epochs := 0
		if fs.Changed("epochs") {
			epochs = c.Epochs
		}
		if tr, err = classify.Resume(st, real, synth, epochs); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "resuming %s after epoch %d of %d\n", statePath, tr.Epoch, tr.Cfg.Epochs)
	} else {
		cfg, err := classify.Preset(*model, real.H)
		if err != nil {
			return &usageError{msg: err.Error()}
		}
		net, err := classify.New(cfg, seededRNG(c.Seed, 1))
		if err != nil {
			return err
		}
		if tr, err = classify.NewTrainer(net, real, synth, c); err != nil {
			return err
		}
		prov := map[string]any{"real": tr.Real.Provenance}
		if synth != nil {
			prov["synthetic"] = synth.Provenance
		}
		if err := writeJSONFile(filepath.Join(*out, "args.json"), map[string]any{
			"command": "advtrain", "model": cfg, "train": c, "data": prov, "args": args,
		}); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "%s training %s (%d parameters): %d real training examples, %d synthetic at %.0f%% per batch, %d validation; %d epochs of %d steps, kernels %s\n",
		tr.Cfg.Method, tr.Net.Cfg.Name, tr.Net.P.Len(), tr.Real.N, count(synth), 100*tr.Cfg.SynthFrac, count(tr.Val), tr.Cfg.Epochs, tr.StepsPerEpoch(), simdImpl())
	logf, err := os.OpenFile(filepath.Join(*out, "log.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	ctx, stop := interruptContext()
	defer stop()
	meta := map[string]any{"train": tr.Cfg, "real": tr.Real.Provenance, "synthetic": provenance(synth)}
	save := func(t *classify.Trainer) error {
		st, err := t.State()
		if err != nil {
			return err
		}
		if err := writeCheckpoint(statePath, st); err != nil {
			return err
		}
		last, err := t.ExportLast(meta)
		if err != nil {
			return err
		}
		if err := writeCheckpoint(filepath.Join(*out, "weights-last.ckpt"), last); err != nil {
			return err
		}
		best, err := t.ExportBest(meta)
		if err != nil {
			return err
		}
		return writeCheckpoint(filepath.Join(*out, "weights-best.ckpt"), best)
	}
	var last classify.EpochLog
	err = tr.Run(ctx, save, func(l classify.EpochLog) {
		last = l
		line, _ := json.Marshal(l)
		logf.Write(append(line, '\n'))
		mark := ""
		if l.Best {
			mark = " (best)"
		}
		fmt.Fprintf(e.stderr, "epoch %d/%d: loss %.4f train acc %.3f val clean %.3f val PGD-%d %.3f%s  %.1f s\n",
			l.Epoch, tr.Cfg.Epochs, l.Loss, l.TrainAcc, l.ValClean, tr.Cfg.ValSteps, l.ValRobust, mark, l.Seconds)
	})
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(e.stderr, "interrupted: %s holds the last finished epoch (%d); continue with --resume\n", statePath, tr.Epoch)
		return err
	}
	if err != nil {
		return err
	}
	summary := map[string]any{"out": *out, "epochs": tr.Epoch, "best_val_pgd_acc": tr.BestRobust, "last": last}
	if *asJSON {
		return printJSON(e.stdout, summary)
	}
	fmt.Fprintf(e.stdout, "trained %d epochs; best validation PGD accuracy %.3f; weights in %s\n", tr.Epoch, tr.BestRobust, *out)
	return nil
}

// addTrainFlags binds the classifier-training flags to c.
func addTrainFlags(fs *pflag.FlagSet, c *classify.TrainConfig) {
	fs.StringVar(&c.Method, "method", c.Method, "training: trades|pgd|standard")
	fs.Float64Var(&c.Beta, "beta", c.Beta, "TRADES beta")
	fs.StringVar(&c.Norm, "norm", c.Norm, "threat model: linf|l2")
	fs.Float64Var(&c.Eps, "eps", c.Eps, "perturbation radius (pixels in [0, 1])")
	fs.Float64Var(&c.Alpha, "alpha", c.Alpha, "attack step size (0: 2.5 eps / steps)")
	fs.IntVar(&c.Steps, "steps", c.Steps, "attack steps per training example")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "passes over the real training data")
	fs.IntVar(&c.Batch, "batch", c.Batch, "examples per step (real + synthetic)")
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "sgd (Nesterov momentum) | adam (AdamW)")
	fs.Float64Var(&c.LR, "lr", c.LR, "peak learning rate")
	fs.Float64Var(&c.Momentum, "momentum", c.Momentum, "SGD momentum")
	fs.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "weight decay (none on biases)")
	fs.StringVar(&c.Schedule, "schedule", c.Schedule, "learning-rate schedule: constant|cosine|onecycle")
	fs.IntVar(&c.ValSize, "val-size", c.ValSize, "real examples held out to select the best epoch by PGD accuracy")
	fs.IntVar(&c.ValSteps, "val-steps", c.ValSteps, "PGD steps of the validation attack")
	fs.Float64Var(&c.EMA, "ema", c.EMA, "EMA decay of the weights (0: off)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of initialisation, batches and attack starts")
}

// loadSynthetic reads a synthetic .npz and checks it against the real data.
func loadSynthetic(path string, real *data.Dataset) (*data.Dataset, error) {
	s, err := store.LoadNPZ(path, real.Classes)
	if err != nil {
		return nil, fmt.Errorf("--synthetic %s: %w", path, err)
	}
	if err := s.Check(real.C, real.H, real.W, real.Classes); err != nil {
		return nil, fmt.Errorf("--synthetic %s does not match the real data (%s): %w", path, real.Provenance, err)
	}
	return s, nil
}

func count(d *data.Dataset) int {
	if d == nil {
		return 0
	}
	return d.N
}

func provenance(d *data.Dataset) string {
	if d == nil {
		return ""
	}
	return d.Provenance
}
