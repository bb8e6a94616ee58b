package main

import (
	"fmt"
	"path/filepath"

	"github.com/cdp-project/cdp/core/classify"
	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/robust"
)

func init() {
	register(&command{
		name:    "eval",
		summary: "evaluate a classifier's clean and robust accuracy (APGD-CE, APGD-T, Square, PGD, FGSM)",
		usage:   "--ckpt weights-best.ckpt [--attack standard] [--eps 0.3] [--n 1000]",
		run:     runEval,
	})
}

func runEval(e *env, args []string) error {
	fs := e.flags()
	df := addDataFlags(fs, 0)
	ckptPath := fs.String("ckpt", "out/advtrain/weights-best.ckpt", "classifier checkpoint (cdp advtrain)")
	attack := fs.String("attack", "standard", "standard (APGD-CE, APGD-T, Square)|apgd-ce|apgd-t|pgd|fgsm|square")
	eps := fs.Float64("eps", 0.3, "perturbation radius (pixels in [0, 1])")
	normName := fs.String("norm", "linf", "threat model: linf|l2")
	n := fs.Int("n", 1000, "test examples (the first N of the test split)")
	steps := fs.Int("steps", 0, "attack iterations (0: the attack's default: 100 for APGD, 20 for PGD)")
	restarts := fs.Int("restarts", 1, "PGD/APGD restarts")
	queries := fs.Int("queries", 5000, "Square queries per point")
	individual := fs.Bool("individual", false, "run every attack on all clean-correct points (not only the still robust ones)")
	batch := fs.Int("batch", 256, "points per classifier call")
	seed := fs.Uint64("seed", 1, "seed of the attacks")
	out := fs.String("out", "", "folder to write eval.json into (optional)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if !(*eps >= 0 && *eps <= 1) {
		return usagef("--eps %v must lie in [0, 1]", *eps)
	}
	if *n <= 0 || *batch <= 0 || *steps < 0 || *restarts < 1 || *queries < 1 {
		return usagef("--n, --batch, --restarts and --queries must be positive and --steps not negative")
	}
	var norm robust.Norm
	switch *normName {
	case "linf":
		norm = robust.Linf
	case "l2":
		norm = robust.L2
	default:
		return usagef("--norm %q: want linf|l2", *normName)
	}
	c, err := readCheckpoint(*ckptPath)
	if err != nil {
		return fmt.Errorf("--ckpt: %w", err)
	}
	net, err := classify.Load(c)
	if err != nil {
		return fmt.Errorf("--ckpt %s: %w", *ckptPath, err)
	}
	df.subset = *n
	test, err := df.load(data.Test, e.stderr)
	if err != nil {
		return err
	}
	if err := test.Check(net.Cfg.InCh, net.Cfg.Size, net.Cfg.Size, net.Cfg.Classes); err != nil {
		return fmt.Errorf("%s does not fit %s: %w", test.Provenance, net.Cfg.Name, err)
	}
	e32 := float32(*eps)
	shape := [3]int{net.Cfg.InCh, net.Cfg.Size, net.Cfg.Size}
	var attacks []robust.Attack
	switch *attack {
	case "standard":
		attacks = nil
	case "apgd-ce":
		attacks = []robust.Attack{robust.APGD{Norm: norm, Eps: e32, Steps: *steps, Restarts: *restarts, Loss: robust.CE}}
	case "apgd-t":
		attacks = []robust.Attack{robust.APGDT{Norm: norm, Eps: e32, Steps: *steps, Restarts: *restarts}}
	case "pgd":
		s := *steps
		if s == 0 {
			s = 20
		}
		attacks = []robust.Attack{robust.PGD{Norm: norm, Eps: e32, Steps: s, Restarts: *restarts, Loss: robust.CE}}
	case "fgsm":
		attacks = []robust.Attack{robust.FGSM{Norm: norm, Eps: e32}}
	case "square":
		if norm != robust.Linf {
			return usagef("--attack square supports --norm linf only")
		}
		attacks = []robust.Attack{&robust.Square{Eps: e32, Queries: *queries, Shape: shape}}
	default:
		return usagef("--attack %q: want standard|apgd-ce|apgd-t|pgd|fgsm|square", *attack)
	}
	fmt.Fprintf(e.stderr, "evaluating %s on %d examples of %s: %s at eps %g (%s), kernels %s\n",
		net.Cfg.Name, test.N, test.Provenance, *attack, *eps, *normName, simdImpl())
	r := robust.Evaluate(net, test.Images, test.Labels, robust.Config{
		Norm: norm, Eps: e32, Seed: *seed, BatchSize: *batch, Attacks: attacks, Individual: *individual, Shape: shape,
	})
	r.Dataset = test.Source
	r.DataSource = test.Provenance
	r.Model = net.Cfg.Name
	r.ModelSource = *ckptPath
	r.Version = version
	if *out != "" {
		if err := ensureDir(*out); err != nil {
			return err
		}
		if err := writeJSONFile(filepath.Join(*out, "eval.json"), r); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(e.stdout, r)
	}
	fmt.Fprintf(e.stdout, "%-10s %8s %8s %8s\n", "attack", "robust", "fooled", "seconds")
	fmt.Fprintf(e.stdout, "%-10s %7.2f%% %8s %8s\n", "clean", 100*r.CleanAcc, "", "")
	for _, a := range r.Attacks {
		fmt.Fprintf(e.stdout, "%-10s %7.2f%% %8d %8.1f\n", a.Name, 100*a.RobustAcc, a.Fooled, a.Seconds)
	}
	fmt.Fprintf(e.stdout, "robust accuracy %.2f%% (clean %.2f%%) on %d examples, %s eps %g\n", 100*r.RobustAcc, 100*r.CleanAcc, r.N, r.ThreatModel, r.Eps)
	for _, s := range r.Skipped {
		fmt.Fprintf(e.stdout, "skipped: %s\n", s)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(e.stdout, "WARNING: %s\n", w)
	}
	return nil
}
