package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cdp-project/cdp/core/classify"
	"github.com/cdp-project/cdp/core/generate"
	"github.com/cdp-project/cdp/core/robust"
	"github.com/cdp-project/cdp/native/store"
)

func init() {
	register(&command{
		name:    "run",
		summary: "the end-to-end experiment: diffusion model, plain and contrastive samples, adversarial training, evaluation",
		usage:   "[--preset quick|paper] [--out DIR] [--seed N]",
		run:     runPipeline,
	})
}

// pipelinePreset fixes every stage of `cdp run`.
type pipelinePreset struct {
	Name, Note string
	// diffusion model
	DiffModel             string
	DiffSubset, DiffSteps int
	DiffBatch             int
	DiffLR, DiffEMA       float64
	DiffSchedule          string
	// feature network of contrastive guidance (standard training, Adam)
	FeatEpochs, FeatBatch int
	FeatLR                float64
	// sampling
	SampleN, SampleBatch, SampleSteps int
	Sampler, Spacing                  string
	Window, Loss                      string
	Lambda                            float64
	// adversarial training and evaluation
	RealN, ValSize, AdvEpochs, AdvSteps, AdvBatch int
	AdvMethod, AdvOptimizer                       string
	AdvLR                                         float64
	Eps                                           float64
	EvalN                                         int
	EvalAttack                                    string
	Seeds                                         int
}

var pipelinePresets = map[string]pipelinePreset{
	"quick": {
		Name: "quick", Note: "a demonstration sized for about 10 minutes on 2 cores: a tiny eps-model trained briefly, few samples, " +
			"short TRADES runs at eps 0.1 and a PGD-20 evaluation; its numbers show that the pipeline works, not the paper's effect",
		DiffModel: "unet-tiny", DiffSubset: 4000, DiffSteps: 500, DiffBatch: 64, DiffLR: 2e-3, DiffEMA: 0.99, DiffSchedule: "cosine",
		FeatEpochs: 4, FeatBatch: 64, FeatLR: 3e-3,
		SampleN: 400, SampleBatch: 100, SampleSteps: 100, Sampler: "ddpm", Spacing: "linspace",
		Window: "52:150", Loss: "hnm", Lambda: 1e5,
		RealN: 2000, ValSize: 200, AdvEpochs: 4, AdvSteps: 5, AdvBatch: 64, AdvMethod: "trades", AdvOptimizer: "adam", AdvLR: 2e-3, Eps: 0.1,
		EvalN: 500, EvalAttack: "pgd", Seeds: 1,
	},
	// smoke exercises every stage in well under a minute; the tests run it.
	"smoke": {
		Name: "smoke", Note: "a plumbing check with toy sizes; its numbers mean nothing",
		DiffModel: "unet-tiny", DiffSubset: 200, DiffSteps: 6, DiffBatch: 8, DiffLR: 1e-3, DiffEMA: 0.9, DiffSchedule: "cosine",
		FeatEpochs: 1, FeatBatch: 32, FeatLR: 3e-3,
		SampleN: 20, SampleBatch: 10, SampleSteps: 8, Sampler: "ddim", Spacing: "linspace",
		Window: "1:400", Loss: "hnm", Lambda: 1e5,
		RealN: 300, ValSize: 60, AdvEpochs: 1, AdvSteps: 2, AdvBatch: 32, AdvMethod: "trades", AdvOptimizer: "adam", AdvLR: 2e-3, Eps: 0.3,
		EvalN: 50, EvalAttack: "pgd", Seeds: 1,
	},
	"paper": {
		Name: "paper", Note: "the authors' MNIST regime (METHOD.md section 5): unet-small on the first 4,000 images, DDPM with 250 of 1,000 steps, " +
			"HNM guidance in 50 < t < 150, TRADES on the first 5,000 real images plus synthetic data, the standard attack sequence; hours, resumable",
		DiffModel: "unet-small", DiffSubset: 4000, DiffSteps: 40000, DiffBatch: 64, DiffLR: 2e-4, DiffEMA: 0.9999, DiffSchedule: "cosine",
		FeatEpochs: 10,
		SampleN:    10000, SampleBatch: 100, SampleSteps: 250, Sampler: "ddpm", Spacing: "linspace",
		Window: "52:150", Loss: "hnm", Lambda: 1e5,
		RealN: 5000, ValSize: 500, AdvEpochs: 50, AdvSteps: 10, AdvBatch: 128, AdvMethod: "trades", Eps: 0.3,
		EvalN: 1000, EvalAttack: "standard", Seeds: 3,
	},
}

func runPipeline(e *env, args []string) error {
	fs := e.flags()
	presetName := fs.String("preset", "quick", "quick (a ~10 minute demonstration) | paper (the authors' MNIST regime; hours) | smoke (a plumbing check)")
	out := fs.String("out", "out/run", "output folder; a rerun continues where an interrupted run stopped")
	seed := fs.Uint64("seed", 1, "base seed of every stage")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	p, ok := pipelinePresets[*presetName]
	if !ok {
		return usagef("--preset %q: want quick, paper or smoke", *presetName)
	}
	if err := ensureDir(*out); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "cdp run --preset %s: %s\n", p.Name, p.Note)
	start := time.Now()
	r := &pipeline{e: e, out: *out, p: p, seed: *seed}
	if err := r.all(); err != nil {
		return err
	}
	table := r.table()
	if err := writeJSONFile(filepath.Join(*out, "results.json"), table); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, table)
	}
	r.print(e.stdout, table, time.Since(start))
	return nil
}

type pipeline struct {
	e    *env
	out  string
	p    pipelinePreset
	seed uint64
}

// stage runs a cdp subcommand in-process unless the stage's marker file says
// it finished; an interrupted stage resumes when resume args are given and
// its state file exists.
func (r *pipeline) stage(name string, args []string, state string, resumeArgs []string) error {
	dir := filepath.Join(r.out, name)
	marker := filepath.Join(dir, "done.json")
	if _, err := os.Stat(marker); err == nil {
		fmt.Fprintf(r.e.stderr, "== %s: done earlier (%s)\n", name, marker)
		return nil
	}
	full := append(append([]string{}, args...), "--out", dir, "--simd", r.e.simd)
	if state != "" {
		if _, err := os.Stat(filepath.Join(dir, state)); err == nil {
			full = append(full, resumeArgs...)
		}
	}
	fmt.Fprintf(r.e.stderr, "== %s: cdp %s\n", name, strings.Join(full, " "))
	t0 := time.Now()
	if code := run(full, io.Discard, r.e.stderr); code != 0 {
		return fmt.Errorf("stage %s failed (exit %d); rerun cdp run with the same --out to continue", name, code)
	}
	return writeJSONFile(marker, map[string]any{"stage": name, "args": full, "seconds": time.Since(t0).Seconds()})
}

func (r *pipeline) path(parts ...string) string {
	return filepath.Join(append([]string{r.out}, parts...)...)
}

func itoa(v int) string        { return strconv.Itoa(v) }
func ftoa(v float64) string    { return strconv.FormatFloat(v, 'g', -1, 64) }
func utoa(v uint64) string     { return strconv.FormatUint(v, 10) }
func (r *pipeline) sd() string { return utoa(r.seed) }

func (r *pipeline) all() error {
	p := r.p
	if err := r.stage("diffusion", []string{"train", "--model", p.DiffModel, "--subset", itoa(p.DiffSubset),
		"--steps", itoa(p.DiffSteps), "--batch", itoa(p.DiffBatch), "--lr", ftoa(p.DiffLR), "--ema", ftoa(p.DiffEMA),
		"--schedule", p.DiffSchedule, "--warmup", itoa(min(500, p.DiffSteps/10)), "--seed", r.sd()}, "model.ckpt", []string{"--resume"}); err != nil {
		return err
	}
	if err := r.stage("feature-net", []string{"advtrain", "--method", "standard", "--subset", itoa(p.RealN),
		"--epochs", itoa(p.FeatEpochs), "--batch", itoa(p.FeatBatch), "--val-size", itoa(p.ValSize), "--optimizer", "adam", "--lr", ftoa(p.FeatLR),
		"--eps", ftoa(p.Eps), "--val-steps", "10", "--seed", r.sd()}, "state.ckpt", []string{"--resume"}); err != nil {
		return err
	}
	for _, g := range []string{"none", "contrastive"} {
		args := []string{"sample", "--ckpt", r.path("diffusion", "model.ckpt"), "--n", itoa(p.SampleN), "--batch", itoa(p.SampleBatch),
			"--sampler", p.Sampler, "--steps", itoa(p.SampleSteps), "--spacing", p.Spacing, "--guide", g, "--seed", r.sd()}
		if g == "contrastive" {
			args = append(args, "--feature-ckpt", r.path("feature-net", "weights-best.ckpt"), "--loss", p.Loss,
				"--lambda", ftoa(p.Lambda), "--window", p.Window)
		}
		if err := r.stage("samples-"+g, args, "", nil); err != nil {
			return err
		}
	}
	for s := 0; s < p.Seeds; s++ {
		for _, src := range []string{"real", "none", "contrastive"} {
			name := fmt.Sprintf("adv-%s-seed%d", src, s)
			args := []string{"advtrain", "--method", p.AdvMethod, "--subset", itoa(p.RealN), "--val-size", itoa(p.ValSize),
				"--epochs", itoa(p.AdvEpochs), "--steps", itoa(p.AdvSteps), "--batch", itoa(p.AdvBatch), "--eps", ftoa(p.Eps),
				"--optimizer", p.AdvOptimizer, "--lr", ftoa(p.AdvLR),
				"--seed", utoa(r.seed + uint64(s))}
			if src != "real" {
				args = append(args, "--synthetic", r.path("samples-"+src, "samples.npz"))
			}
			if err := r.stage(name, args, "state.ckpt", []string{"--resume"}); err != nil {
				return err
			}
			if err := r.stage("eval-"+strings.TrimPrefix(name, "adv-"), []string{"eval", "--ckpt", r.path(name, "weights-best.ckpt"),
				"--attack", p.EvalAttack, "--eps", ftoa(p.Eps), "--n", itoa(p.EvalN), "--seed", r.sd()}, "", nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// resultRow is one training-data source of the comparison.
type resultRow struct {
	Data      string    `json:"data"`
	CleanAcc  []float64 `json:"clean_acc"`
	RobustAcc []float64 `json:"robust_acc"`
	// Samples measures the synthetic set (rows with one) with the feature
	// network of contrastive guidance.
	Samples *generate.Stats `json:"samples,omitempty"`
}

// measuredSamples is how many synthetic images (the first) the table
// measures: the mean cosine takes all their pairs.
const measuredSamples = 1000

// featureNet returns the pipeline's feature network, or nil if its
// checkpoint is missing or unreadable.
func (r *pipeline) featureNet() *classify.Net {
	c, err := readCheckpoint(r.path("feature-net", "weights-best.ckpt"))
	if err != nil {
		return nil
	}
	net, err := classify.Load(c)
	if err != nil {
		return nil
	}
	return net
}

// measure returns net's Stats of the synthetic set of source src (none or
// contrastive), or nil without a network or a readable samples file.
func (r *pipeline) measure(net *classify.Net, src string) *generate.Stats {
	if net == nil {
		return nil
	}
	d, err := store.LoadNPZ(r.path("samples-"+src, "samples.npz"), net.NumClasses())
	if err != nil {
		return nil
	}
	n := min(d.N, measuredSamples)
	x := d.ToSigned().Images[:n*d.C*d.H*d.W]
	st, err := generate.Measure(net, x, d.Labels[:n], d.H)
	if err != nil {
		return nil
	}
	return &st
}

type resultTable struct {
	Preset string      `json:"preset"`
	Note   string      `json:"note"`
	Attack string      `json:"attack"`
	Eps    float64     `json:"eps"`
	N      int         `json:"n_examples"`
	Rows   []resultRow `json:"rows"`
}

func (r *pipeline) table() resultTable {
	t := resultTable{Preset: r.p.Name, Note: r.p.Note, Attack: r.p.EvalAttack, Eps: r.p.Eps, N: r.p.EvalN}
	net := r.featureNet()
	labels := map[string]string{"real": "real only", "none": "real + plain DDIM/DDPM samples", "contrastive": "real + contrastive-guided samples"}
	for _, src := range []string{"real", "none", "contrastive"} {
		row := resultRow{Data: labels[src]}
		for s := 0; s < r.p.Seeds; s++ {
			var rep robust.Report
			b, err := os.ReadFile(r.path(fmt.Sprintf("eval-%s-seed%d", src, s), "eval.json"))
			if err == nil && json.Unmarshal(b, &rep) == nil {
				row.CleanAcc = append(row.CleanAcc, rep.CleanAcc)
				row.RobustAcc = append(row.RobustAcc, rep.RobustAcc)
			}
		}
		if src != "real" {
			row.Samples = r.measure(net, src)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func meanSpread(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	var m float64
	for _, x := range s {
		m += x
	}
	m /= float64(len(s))
	if len(s) == 1 {
		return fmt.Sprintf("%.2f%%", 100*m)
	}
	return fmt.Sprintf("%.2f%% (%.2f..%.2f)", 100*m, 100*s[0], 100*s[len(s)-1])
}

func (r *pipeline) print(w io.Writer, t resultTable, took time.Duration) {
	fmt.Fprintf(w, "\nContrastive-DP, preset %s (%s eps %g, %d test images, %d seed(s)); %s\n\n", t.Preset, t.Attack, t.Eps, t.N, r.p.Seeds, took.Round(time.Second))
	fmt.Fprintf(w, "%-36s %-24s %-24s %-18s %s\n", "training data", "clean accuracy", "robust accuracy", "sample cosine", "samples as labelled")
	for _, row := range t.Rows {
		cos, agree := "-", "-"
		if row.Samples != nil {
			cos, agree = fmt.Sprintf("%.3f", row.Samples.MeanCosine), fmt.Sprintf("%.1f%%", 100*row.Samples.Agreement)
		}
		fmt.Fprintf(w, "%-36s %-24s %-24s %-18s %s\n", row.Data, meanSpread(row.CleanAcc), meanSpread(row.RobustAcc), cos, agree)
	}
	fmt.Fprintf(w, "\nsample cosine: the mean cosine similarity of the feature network's features over all pairs of the first %d synthetic images "+
		"(lower: easier to tell apart, what contrastive guidance aims at); samples as labelled: the share that the feature network classifies as their label.\n", measuredSamples)
	fmt.Fprintf(w, "\nNote: %s.\nEverything is in %s: results.json, samples-*/samples.png, and each stage's arguments (args.json, samples.args.json), log and checkpoints.\n", t.Note, r.out)
}
