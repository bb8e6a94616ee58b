package unet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cdp-project/cdp/core/ckpt"
	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/diffusion"
	"github.com/cdp-project/cdp/core/nn"
	"github.com/cdp-project/cdp/core/optim"
)

// Arch is the checkpoint architecture tag of an eps-model checkpoint; the
// Config inside names the preset.
const Arch = "unet"

// TrainConfig holds the hyper-parameters of eps-model training.
type TrainConfig struct {
	Steps     int     `json:"steps"`      // total optimiser steps
	Batch     int     `json:"batch"`      // images per step
	LR        float64 `json:"lr"`         // Adam learning rate after warm-up
	Warmup    int     `json:"warmup"`     // linear warm-up steps
	EMA       float64 `json:"ema"`        // EMA decay of the weights used for sampling
	ClipNorm  float64 `json:"clip_norm"`  // global gradient-norm clip (0: none)
	LabelDrop float64 `json:"label_drop"` // probability of the null label (classifier-free guidance)
	Schedule  string  `json:"schedule"`   // "linear" or "cosine"
	T         int     `json:"T"`          // diffusion steps
	Seed      uint64  `json:"seed"`
}

// DefaultTrainConfig is a sensible default for MNIST-sized data.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Steps: 20000, Batch: 64, LR: 2e-4, Warmup: 500, EMA: 0.999, ClipNorm: 1, LabelDrop: 0.1, Schedule: "linear", T: 1000, Seed: 1}
}

// Validate reports the first out-of-range value, naming it.
func (c TrainConfig) Validate() error {
	switch {
	case c.Steps <= 0:
		return fmt.Errorf("unet: steps %d must be positive", c.Steps)
	case c.Batch <= 0:
		return fmt.Errorf("unet: batch %d must be positive", c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("unet: learning rate %g must be positive and finite", c.LR)
	case c.Warmup < 0:
		return fmt.Errorf("unet: warm-up %d must not be negative", c.Warmup)
	case !(c.EMA >= 0 && c.EMA < 1):
		return fmt.Errorf("unet: EMA decay %g must lie in [0, 1)", c.EMA)
	case !(c.ClipNorm >= 0) || math.IsInf(c.ClipNorm, 0):
		return fmt.Errorf("unet: clip norm %g must be finite and not negative", c.ClipNorm)
	case !(c.LabelDrop >= 0 && c.LabelDrop <= 1):
		return fmt.Errorf("unet: label dropout %g must lie in [0, 1]", c.LabelDrop)
	}
	_, err := diffusion.ScheduleByName(c.Schedule, c.T)
	return err
}

// Trainer trains an eps-model with Adam, linear warm-up, gradient clipping,
// label dropout and an EMA of the weights. Every step's batch, timesteps and
// noise are derived from (Seed, step), so a run resumed from a checkpoint
// continues bit for bit where it stopped.
type Trainer struct {
	Model *UNet
	EMA   *optim.EMA
	Opt   *optim.Adam
	Sched *diffusion.Schedule
	Data  *data.Dataset // (N, C, H, W) in [-1, 1]
	Cfg   TrainConfig
	Step  int // steps done

	epoch     int
	perm      []int
	x0, xt    []float32
	eps, dout []float32
	t, y      []int
}

// NewTrainer checks the data against the model and prepares training from
// step 0.
func NewTrainer(model *UNet, d *data.Dataset, cfg TrainConfig) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := d.Check(model.Cfg.InCh, model.Cfg.Size, model.Cfg.Size, model.Cfg.Classes); err != nil {
		return nil, fmt.Errorf("unet: training data does not fit %s: %w", model.Cfg.Name, err)
	}
	if !d.Signed {
		return nil, errors.New("unet: training data must be scaled to [-1, 1] (Dataset.ToSigned)")
	}
	if d.N == 0 {
		return nil, errors.New("unet: training data is empty")
	}
	sched, _ := diffusion.ScheduleByName(cfg.Schedule, cfg.T)
	var groups []optim.Group
	for _, v := range model.P.Views() {
		if !v.Buffer {
			groups = append(groups, optim.Group{Offset: v.Offset, Len: v.Size, NoDecay: v.NoDecay})
		}
	}
	tr := &Trainer{
		Model: model, Sched: sched, Data: d, Cfg: cfg, epoch: -1,
		Opt: optim.NewAdam(len(model.P.W), cfg.LR, 0.9, 0.999, 1e-8, 0, groups),
		EMA: optim.NewEMA(model.P.W, cfg.EMA, true),
	}
	return tr, nil
}

// lr is the learning rate of step k (linear warm-up).
func (tr *Trainer) lr(k int) float64 {
	return optim.Constant{Base: tr.Cfg.LR, Warmup: tr.Cfg.Warmup}.LR(k)
}

// batch fills idx with the examples of step k: epochs are permutations drawn
// from (Seed, epoch), walked in order across step boundaries.
func (tr *Trainer) batch(k int, idx []int) {
	n := tr.Data.N
	for j := range idx {
		q := k*len(idx) + j
		if e := q / n; e != tr.epoch {
			tr.epoch = e
			tr.perm = rand.New(rand.NewPCG(tr.Cfg.Seed, uint64(e)^0x9e3779b97f4a7c15)).Perm(n)
		}
		idx[j] = tr.perm[q%n]
	}
}

// ErrNonFinite reports a NaN or Inf in the loss or the gradients; the
// weights were not updated.
var ErrNonFinite = errors.New("unet: the loss or the gradients are not finite")

// TrainStep runs one optimiser step and returns its loss. On a non-finite
// loss or gradient it returns ErrNonFinite and leaves the weights unchanged.
func (tr *Trainer) TrainStep() (float64, error) {
	m, b := tr.Model, tr.Cfg.Batch
	d := m.Dim()
	tr.x0 = nn.Grow(&tr.x0, b*d)
	tr.xt = nn.Grow(&tr.xt, b*d)
	tr.eps = nn.Grow(&tr.eps, b*d)
	tr.dout = nn.Grow(&tr.dout, b*d)
	if cap(tr.t) < b {
		tr.t, tr.y = make([]int, b), make([]int, b)
	}
	tr.t, tr.y = tr.t[:b], tr.y[:b]
	idx := make([]int, b)
	tr.batch(tr.Step, idx)
	tr.Data.Gather(idx, tr.x0, tr.y)
	rng := rand.New(rand.NewPCG(tr.Cfg.Seed, uint64(tr.Step)))
	tr.Sched.SampleTimesteps(tr.t, rng)
	for i := range tr.eps {
		tr.eps[i] = float32(rng.NormFloat64())
	}
	diffusion.DropLabels(tr.y, tr.Cfg.LabelDrop, rng)
	tr.Sched.QSample(tr.xt, tr.x0, tr.eps, tr.t)

	m.P.ZeroGrad()
	// Only the parameter gradients are needed; the model's own setting is
	// restored afterwards.
	defer func(skip bool) { m.SkipInputGrad = skip }(m.SkipInputGrad)
	m.SkipInputGrad = true
	out := m.Forward(tr.xt, tr.t, tr.y)
	loss := diffusion.EpsLoss(out, tr.eps, tr.dout)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, fmt.Errorf("%w (step %d, loss %v)", ErrNonFinite, tr.Step+1, loss)
	}
	m.Backward(tr.dout)
	// One pass: ClipGradNorm returns the norm, leaves non-finite gradients
	// alone, and with no clip (an infinite bound) scales nothing.
	maxNorm := math.Inf(1)
	if tr.Cfg.ClipNorm > 0 {
		maxNorm = tr.Cfg.ClipNorm
	}
	norm := optim.ClipGradNorm(m.P.G, maxNorm)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return loss, fmt.Errorf("%w (step %d, gradient norm %v)", ErrNonFinite, tr.Step+1, norm)
	}
	tr.Opt.SetLR(tr.lr(tr.Step))
	tr.Opt.Step(m.P.W, m.P.G)
	tr.EMA.Update(m.P.W)
	tr.Step++
	return loss, nil
}

// Progress is reported after every training step.
type Progress struct {
	Step, Steps int
	Loss        float64 // this step's loss
	LR          float64
	Elapsed     time.Duration // since Run started
}

// Run trains until Cfg.Steps. Every `every` steps (0: never) and at the end
// it calls save with a checkpoint; when ctx is cancelled it saves and returns
// ctx.Err(). A non-finite loss stops the run without saving, so the last good
// checkpoint stays in place. progress may be nil.
func (tr *Trainer) Run(ctx context.Context, every int, meta map[string]any, save func(*ckpt.Checkpoint) error, progress func(Progress)) error {
	start := time.Now()
	for tr.Step < tr.Cfg.Steps {
		if err := ctx.Err(); err != nil {
			if serr := tr.save(meta, save); serr != nil {
				return fmt.Errorf("%v; saving the checkpoint failed too: %w", err, serr)
			}
			return err
		}
		loss, err := tr.TrainStep()
		if err != nil {
			return err
		}
		if progress != nil {
			progress(Progress{Step: tr.Step, Steps: tr.Cfg.Steps, Loss: loss, LR: tr.lr(tr.Step - 1), Elapsed: time.Since(start)})
		}
		if every > 0 && tr.Step%every == 0 && tr.Step < tr.Cfg.Steps {
			if err := tr.save(meta, save); err != nil {
				return err
			}
		}
	}
	return tr.save(meta, save)
}

func (tr *Trainer) save(meta map[string]any, save func(*ckpt.Checkpoint) error) error {
	if save == nil {
		return nil
	}
	c, err := tr.Checkpoint(meta)
	if err != nil {
		return err
	}
	return save(c)
}

// trainMeta is the metadata of a training checkpoint.
type trainMeta struct {
	Train TrainConfig    `json:"train"`
	Step  int            `json:"step"`
	Data  string         `json:"data"`
	Extra map[string]any `json:"extra,omitempty"`
}

// Checkpoint captures everything needed to sample (the EMA weights) and to
// resume bit for bit (weights, Adam state, EMA state, step).
func (tr *Trainer) Checkpoint(extra map[string]any) (*ckpt.Checkpoint, error) {
	c, err := tr.emptyCheckpoint(extra)
	if err != nil {
		return nil, err
	}
	c.AddParams("weights/", tr.Model.P, tr.Model.P.W)
	c.AddParams("ema/", tr.Model.P, tr.EMA.W)
	c.AddOptimState("adam", tr.Opt.State())
	c.AddOptimState("ema_state", tr.EMA.State())
	return c, nil
}

// SamplingCheckpoint is Checkpoint with the EMA weights alone: what
// sampling (Load with ema) needs, in about a fifth of the size, for
// shipping a model (the browser page's). Training cannot resume from it.
func (tr *Trainer) SamplingCheckpoint(extra map[string]any) (*ckpt.Checkpoint, error) {
	c, err := tr.emptyCheckpoint(extra)
	if err != nil {
		return nil, err
	}
	c.AddParams("ema/", tr.Model.P, tr.EMA.W)
	return c, nil
}

// emptyCheckpoint is a checkpoint of the model's architecture and
// configuration with the training metadata and no tensors yet.
func (tr *Trainer) emptyCheckpoint(extra map[string]any) (*ckpt.Checkpoint, error) {
	c, err := ckpt.New(Arch, tr.Model.Cfg)
	if err != nil {
		return nil, err
	}
	if err := c.SetMeta(trainMeta{Train: tr.Cfg, Step: tr.Step, Data: tr.Data.Provenance, Extra: extra}); err != nil {
		return nil, err
	}
	return c, nil
}

// Load builds the model stored in an eps-model checkpoint with its EMA
// weights (ema true, for sampling) or its raw weights.
func Load(c *ckpt.Checkpoint, ema bool) (*UNet, error) {
	if err := c.CheckArch(Arch); err != nil {
		return nil, err
	}
	var cfg Config
	if err := c.DecodeConfig(&cfg); err != nil {
		return nil, err
	}
	u, err := New(cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, fmt.Errorf("unet: checkpoint holds an invalid model: %w", err)
	}
	prefix := "weights/"
	if ema {
		prefix = "ema/"
	}
	if err := c.LoadParams(prefix, u.P, u.P.W); err != nil {
		return nil, err
	}
	return u, nil
}

// Resume rebuilds a trainer from a checkpoint written by Trainer.Checkpoint;
// steps, if positive, replaces the total number of steps (to train longer).
func Resume(c *ckpt.Checkpoint, d *data.Dataset, steps int) (*Trainer, error) {
	if c.Tensor("adam/kind") == nil {
		return nil, fmt.Errorf("unet: the checkpoint holds no training state (a sampling checkpoint, such as model-ema.ckpt, keeps the EMA weights alone): resume from the full one (model.ckpt)")
	}
	u, err := Load(c, false)
	if err != nil {
		return nil, err
	}
	var meta trainMeta
	if err := c.DecodeMeta(&meta); err != nil {
		return nil, err
	}
	cfg := meta.Train
	if steps > 0 {
		cfg.Steps = steps
	}
	tr, err := NewTrainer(u, d, cfg)
	if err != nil {
		return nil, err
	}
	if d.Provenance != meta.Data {
		return nil, fmt.Errorf("unet: the checkpoint was trained on %q, not %q", meta.Data, d.Provenance)
	}
	for _, s := range []struct {
		prefix string
		set    func(optim.State) error
	}{{"adam", tr.Opt.SetState}, {"ema_state", tr.EMA.SetState}} {
		st, err := c.OptimState(s.prefix)
		if err != nil {
			return nil, err
		}
		if err := s.set(st); err != nil {
			return nil, err
		}
	}
	tr.Step = meta.Step
	return tr, nil
}
