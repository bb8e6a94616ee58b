package classify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cdp-project/cdp/core/ckpt"
	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/nn"
	"github.com/cdp-project/cdp/core/optim"
	"github.com/cdp-project/cdp/core/robust"
)

// TrainConfig holds the hyper-parameters of (adversarial) classifier
// training.
type TrainConfig struct {
	Method      string  `json:"method"`       // standard|pgd|trades
	Beta        float64 `json:"beta"`         // TRADES trade-off
	Norm        string  `json:"norm"`         // linf|l2
	Eps         float64 `json:"eps"`          // radius of the threat model, pixels in [0, 1]
	Alpha       float64 `json:"alpha"`        // attack step; 0 means 2.5 eps / steps
	Steps       int     `json:"steps"`        // attack steps during training
	Epochs      int     `json:"epochs"`       // passes over the real training data
	Batch       int     `json:"batch"`        // examples per step (real + synthetic)
	Optimizer   string  `json:"optimizer"`    // sgd|adam
	LR          float64 `json:"lr"`           // peak learning rate
	Momentum    float64 `json:"momentum"`     // SGD momentum
	WeightDecay float64 `json:"weight_decay"` // L2 weight decay (SGD) or decoupled (Adam: AdamW)
	Schedule    string  `json:"schedule"`     // constant|cosine|onecycle
	SynthFrac   float64 `json:"synthetic_fraction"`
	ValSize     int     `json:"val_size"`      // real examples held out for checkpoint selection
	ValSteps    int     `json:"val_pgd_steps"` // PGD steps of the validation attack
	EMA         float64 `json:"ema"`           // EMA decay of the weights (0: off)
	Seed        uint64  `json:"seed"`
}

// DefaultTrainConfig is TRADES on MNIST at eps 0.3.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Method: "trades", Beta: 6, Norm: "linf", Eps: 0.3, Steps: 10, Epochs: 20, Batch: 128,
		Optimizer: "sgd", LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4, Schedule: "cosine",
		SynthFrac: data.DefaultSynthFrac, ValSize: 500, ValSteps: 20, Seed: 1}
}

func (c TrainConfig) norm() (robust.Norm, error) {
	switch c.Norm {
	case "linf":
		return robust.Linf, nil
	case "l2":
		return robust.L2, nil
	}
	return 0, fmt.Errorf("classify: norm %q: want linf or l2", c.Norm)
}

// alpha is the attack step size.
func (c TrainConfig) alpha() float32 {
	if c.Alpha > 0 {
		return float32(c.Alpha)
	}
	return float32(2.5 * c.Eps / float64(max(c.Steps, 1)))
}

// Validate names the first out-of-range value.
func (c TrainConfig) Validate() error {
	bad := func(format string, args ...any) error { return fmt.Errorf("classify: "+format, args...) }
	switch {
	case c.Method != "standard" && c.Method != "pgd" && c.Method != "trades":
		return bad("method %q: want standard, pgd or trades", c.Method)
	case !(c.Eps >= 0 && c.Eps <= 1):
		return bad("eps %v must lie in [0, 1]", c.Eps)
	case !(c.Alpha >= 0 && c.Alpha <= 1):
		return bad("alpha %v must lie in [0, 1] (0: 2.5 eps / steps)", c.Alpha)
	case c.Method != "standard" && c.Steps <= 0:
		return bad("attack steps %d must be positive", c.Steps)
	case !(c.Beta >= 0) || math.IsInf(c.Beta, 0):
		return bad("beta %v must be finite and not negative", c.Beta)
	case c.Epochs <= 0 || c.Batch <= 0:
		return bad("epochs %d and batch %d must be positive", c.Epochs, c.Batch)
	case c.Optimizer != "sgd" && c.Optimizer != "adam":
		return bad("optimizer %q: want sgd or adam", c.Optimizer)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return bad("learning rate %v must be positive and finite", c.LR)
	case !(c.Momentum >= 0 && c.Momentum < 1) || !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return bad("momentum %v must lie in [0, 1) and weight decay %v be finite and not negative", c.Momentum, c.WeightDecay)
	case c.Schedule != "constant" && c.Schedule != "cosine" && c.Schedule != "onecycle":
		return bad("schedule %q: want constant, cosine or onecycle", c.Schedule)
	case !(c.SynthFrac >= 0 && c.SynthFrac <= 1):
		return bad("synthetic fraction %v must lie in [0, 1]", c.SynthFrac)
	case c.ValSize < 0 || c.ValSteps < 0:
		return bad("validation size %d and PGD steps %d must not be negative", c.ValSize, c.ValSteps)
	case !(c.EMA >= 0 && c.EMA < 1):
		return bad("EMA decay %v must lie in [0, 1)", c.EMA)
	}
	_, err := c.norm()
	return err
}

// EpochLog is one line of the training log.
type EpochLog struct {
	Epoch     int     `json:"epoch"`
	Steps     int     `json:"steps"`
	Loss      float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"` // on the (clean) training batches
	LR        float64 `json:"lr"`
	ValClean  float64 `json:"val_clean_acc"`
	ValRobust float64 `json:"val_pgd_acc"`
	Best      bool    `json:"best"`
	Seconds   float64 `json:"seconds"`
}

// Trainer trains a classifier with standard training, PGD-AT or TRADES on
// real data mixed with synthetic data at a fixed fraction per batch. The
// last ValSize real examples are held out; after every epoch the model (its
// EMA if enabled) is scored by PGD robust accuracy on them, and the best
// epoch is kept. Every epoch's batches and attack starts derive from (Seed,
// epoch), so a run resumed at an epoch boundary continues bit for bit.
//
// Modes (models with batch norm): the forward/backward passes of the
// training loss run in train mode; the attacks that make the PGD-AT and
// TRADES examples (including TRADES's clean reference distribution) and the
// validation run in eval mode, through Net.Logits. TRADES's loss takes one
// train-mode pass over the concatenated batch [x; x'], so batch-norm
// statistics are those of the clean and adversarial halves together (the
// reference implementation makes two passes, one per half). The EMA, when
// enabled, averages the trainable weights only; batch-norm running
// statistics are those of the trained model. BestW comes with the running
// statistics of its epoch, which ExportBest stores.
type Trainer struct {
	Net        *Net
	Cfg        TrainConfig
	Real, Val  *data.Dataset
	Synth      *data.Dataset // nil: real data only
	Opt        optim.Optimizer
	EMA        *optim.EMA // nil: off
	Epoch      int        // epochs done
	BestRobust float64    // best validation robust accuracy so far (-1: none)
	BestW      []float32  // the weights of the best epoch

	bestB         []float32 // the buffers (batch-norm running statistics) of the best epoch
	sched         optim.Schedule
	stepsPerEpoch int
	step          int
	norm          robust.Norm
}

// NewTrainer splits off the validation set and prepares training from
// epoch 0. real and synth are (N, C, H, W) in [0, 1] of the model's shape.
func NewTrainer(net *Net, real, synth *data.Dataset, cfg TrainConfig) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := net.Cfg
	for _, d := range []*data.Dataset{real, synth} {
		if d == nil {
			continue
		}
		if err := d.Check(c.InCh, c.Size, c.Size, c.Classes); err != nil {
			return nil, fmt.Errorf("classify: %s does not fit %s: %w", d.Provenance, c.Name, err)
		}
		if d.Signed {
			return nil, fmt.Errorf("classify: %s is scaled to [-1, 1]; classifiers take [0, 1]", d.Provenance)
		}
	}
	if synth == nil && cfg.SynthFrac > 0 {
		cfg.SynthFrac = 0
	}
	if cfg.ValSize >= real.N {
		return nil, fmt.Errorf("classify: validation size %d leaves no training data of %d real examples", cfg.ValSize, real.N)
	}
	nTrain := real.N - cfg.ValSize
	tr := &Trainer{Net: net, Cfg: cfg, Synth: synth, BestRobust: -1}
	tr.Real = subset(real, 0, nTrain, "training part")
	if cfg.ValSize > 0 {
		tr.Val = subset(real, nTrain, real.N, "validation part")
	}
	tr.norm, _ = cfg.norm()
	// An epoch is one pass over the real training examples.
	realPerBatch := float64(cfg.Batch) * (1 - cfg.SynthFrac)
	if realPerBatch < 1 {
		tr.stepsPerEpoch = (synth.N + cfg.Batch - 1) / cfg.Batch
	} else {
		tr.stepsPerEpoch = int(math.Ceil(float64(nTrain) / realPerBatch))
	}
	total := tr.stepsPerEpoch * cfg.Epochs
	var groups []optim.Group
	for _, v := range net.P.Views() {
		if !v.Buffer {
			groups = append(groups, optim.Group{Offset: v.Offset, Len: v.Size, NoDecay: v.NoDecay})
		}
	}
	if cfg.Optimizer == "sgd" {
		tr.Opt = optim.NewSGD(len(net.P.W), cfg.LR, cfg.Momentum, cfg.WeightDecay, cfg.Momentum > 0, groups)
	} else {
		tr.Opt = optim.NewAdamW(len(net.P.W), cfg.LR, 0.9, 0.999, 1e-8, cfg.WeightDecay, groups)
	}
	switch cfg.Schedule {
	case "constant":
		tr.sched = optim.Constant{Base: cfg.LR}
	case "cosine":
		tr.sched = optim.Cosine{Base: cfg.LR, Warmup: 0, Total: max(total, 1)}
	case "onecycle":
		tr.sched = optim.NewOneCycle(cfg.LR, max(total, 2))
	}
	if cfg.EMA > 0 {
		tr.EMA = optim.NewEMA(net.P.W, cfg.EMA, true)
	}
	return tr, nil
}

func subset(d *data.Dataset, lo, hi int, what string) *data.Dataset {
	s := d.Size()
	out := data.New(d.Images[lo*s:hi*s], d.Labels[lo:hi], hi-lo, d.C, d.H, d.W, d.Classes, d.Source,
		fmt.Sprintf("%s, %s (examples %d..%d)", d.Provenance, what, lo, hi-1))
	return out
}

// StepsPerEpoch is the number of optimiser steps in one epoch.
func (tr *Trainer) StepsPerEpoch() int { return tr.stepsPerEpoch }

// evalWeights returns the weights used for validation and export: the EMA
// when enabled.
func (tr *Trainer) evalWeights() []float32 {
	if tr.EMA != nil {
		return tr.EMA.W
	}
	return tr.Net.P.W
}

// ErrNonFinite reports a NaN or Inf loss; the weights were not updated.
var ErrNonFinite = errors.New("classify: the training loss is not finite")

// RunEpoch trains one epoch, validates and returns its log line.
func (tr *Trainer) RunEpoch(ctx context.Context) (EpochLog, error) {
	start := time.Now()
	cfg, net := tr.Cfg, tr.Net
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(tr.Epoch)+1))
	net.SetTrain(true)
	defer net.SetTrain(false)
	mixer, err := data.NewMixer(tr.Real, tr.Synth, cfg.Batch, cfg.SynthFrac, rng)
	if err != nil {
		return EpochLog{}, fmt.Errorf("classify: %w", err)
	}
	d, k, b := net.Dim(), net.NumClasses(), cfg.Batch
	x := make([]float32, b*d)
	y := make([]int, b)
	both := make([]float32, 2*b*d)
	var lossSum float64
	correct := 0
	step0 := tr.Epoch * tr.stepsPerEpoch
	for s := 0; s < tr.stepsPerEpoch; s++ {
		if err := ctx.Err(); err != nil {
			return EpochLog{}, err
		}
		mixer.Next(x, y, nil)
		lr := tr.sched.LR(step0 + s)
		tr.Opt.SetLR(lr)
		if oc, ok := tr.sched.(optim.OneCycle); ok {
			tr.Opt.SetMomentum(oc.Momentum(step0 + s))
		}
		eps, alpha := float32(cfg.Eps), cfg.alpha()
		var loss float64
		net.P.ZeroGrad()
		switch cfg.Method {
		case "standard":
			z := net.Forward(x, b)
			correct += CountCorrect(z, y, k)
			var dz []float32
			loss, dz = nn.CrossEntropy(nil, z, y, k, 0)
			if bad(loss) {
				return EpochLog{}, fmt.Errorf("%w (epoch %d step %d)", ErrNonFinite, tr.Epoch+1, s+1)
			}
			net.Backward(dz)
		case "pgd":
			correct += CountCorrect(net.Logits(x, b), y, k)
			xa := robust.PGDExample(net, x, y, tr.norm, eps, alpha, cfg.Steps, rng)
			z := net.Forward(xa, b)
			var dz []float32
			loss, dz = nn.CrossEntropy(nil, z, y, k, 0)
			if bad(loss) {
				return EpochLog{}, fmt.Errorf("%w (epoch %d step %d)", ErrNonFinite, tr.Epoch+1, s+1)
			}
			net.Backward(dz)
		case "trades":
			xa := robust.TRADESExample(net, x, b, tr.norm, eps, alpha, cfg.Steps, rng)
			// One pass over [x; x'] gives both logits and both gradients.
			copy(both, x)
			copy(both[b*d:], xa)
			z := net.Forward(both, 2*b)
			correct += CountCorrect(z[:b*k], y, k)
			// TRADES: CE(z, y) + beta KL(softmax(z) || softmax(z')), the
			// clean gradient including the KL term (p(x) is not detached).
			ce, dz := nn.CrossEntropy(nil, z[:b*k], y, k, 0)
			kl, dp, dq := nn.KLDivergence(nil, nil, z[:b*k], z[b*k:], b, k)
			loss = ce + cfg.Beta*kl
			if bad(loss) {
				return EpochLog{}, fmt.Errorf("%w (epoch %d step %d)", ErrNonFinite, tr.Epoch+1, s+1)
			}
			beta := float32(cfg.Beta)
			dboth := make([]float32, 2*b*k)
			for j, v := range dz {
				dboth[j] = v + beta*dp[j]
				dboth[b*k+j] = beta * dq[j]
			}
			net.Backward(dboth)
		}
		lossSum += loss
		tr.Opt.Step(net.P.W, net.P.G)
		if tr.EMA != nil {
			tr.EMA.Update(net.P.W)
		}
	}
	tr.Epoch++
	net.SetTrain(false)
	log := EpochLog{Epoch: tr.Epoch, Steps: tr.stepsPerEpoch, Loss: lossSum / float64(tr.stepsPerEpoch),
		TrainAcc: float64(correct) / float64(tr.stepsPerEpoch*b), LR: tr.sched.LR(step0 + tr.stepsPerEpoch - 1)}
	if tr.Val != nil {
		log.ValClean, log.ValRobust = tr.validate()
		if log.ValRobust > tr.BestRobust {
			tr.BestRobust = log.ValRobust
			tr.BestW = append(tr.BestW[:0], tr.evalWeights()...)
			tr.bestB = append(tr.bestB[:0], net.P.B...)
			log.Best = true
		}
	} else {
		tr.BestW = append(tr.BestW[:0], tr.evalWeights()...)
		tr.bestB = append(tr.bestB[:0], net.P.B...)
		log.Best = true
	}
	log.Seconds = time.Since(start).Seconds()
	return log, nil
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// CountCorrect returns how many rows of logits z (len(y), k) have their
// largest value (the first, on ties) at the label y[i].
func CountCorrect(z []float32, y []int, k int) int {
	c := 0
	for i, yi := range y {
		row := z[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == yi {
			c++
		}
	}
	return c
}

// validate returns clean and PGD robust accuracy on the validation split
// with the evaluation weights, restoring the training weights afterwards.
func (tr *Trainer) validate() (clean, rob float64) {
	net := tr.Net
	var saved []float32
	if tr.EMA != nil {
		saved = append([]float32(nil), net.P.W...)
		copy(net.P.W, tr.EMA.W)
		defer copy(net.P.W, saved)
	}
	v := tr.Val
	clean, _ = robust.Accuracy(net, v.Images, v.Labels, 256)
	if tr.Cfg.Eps == 0 || tr.Cfg.ValSteps == 0 {
		return clean, clean
	}
	pgd := robust.PGD{Norm: tr.norm, Eps: float32(tr.Cfg.Eps), Steps: tr.Cfg.ValSteps, Loss: robust.CE}
	rng := rand.New(rand.NewPCG(tr.Cfg.Seed, 0xbeef))
	d := net.Dim()
	correct := 0
	for lo := 0; lo < v.N; lo += 256 {
		hi := min(lo+256, v.N)
		xa := pgd.Perturb(net, v.Images[lo*d:hi*d], v.Labels[lo:hi], rng)
		_, ok := robust.Accuracy(net, xa, v.Labels[lo:hi], 256)
		for _, o := range ok {
			if o {
				correct++
			}
		}
	}
	return clean, float64(correct) / float64(v.N)
}

// Run trains until Cfg.Epochs, calling save after every epoch with the
// resumable state, and logf with each epoch's line. On cancellation it
// returns ctx.Err() after saving the last finished epoch (the state is
// always at an epoch boundary).
func (tr *Trainer) Run(ctx context.Context, save func(*Trainer) error, logf func(EpochLog)) error {
	for tr.Epoch < tr.Cfg.Epochs {
		log, err := tr.RunEpoch(ctx)
		if err != nil {
			return err
		}
		if logf != nil {
			logf(log)
		}
		if save != nil {
			if err := save(tr); err != nil {
				return err
			}
		}
	}
	return nil
}

// trainState is the metadata of a resumable training state.
type trainState struct {
	Train      TrainConfig `json:"train"`
	Epoch      int         `json:"epoch"`
	BestRobust float64     `json:"best_val_pgd_acc"`
	Real       string      `json:"real"`
	Synth      string      `json:"synthetic,omitempty"`
}

// State returns a checkpoint of everything needed to resume.
func (tr *Trainer) State() (*ckpt.Checkpoint, error) {
	st := trainState{Train: tr.Cfg, Epoch: tr.Epoch, BestRobust: tr.BestRobust, Real: tr.Real.Provenance}
	if tr.Synth != nil {
		st.Synth = tr.Synth.Provenance
	}
	c, err := tr.Net.Checkpoint(tr.Net.P.W, st)
	if err != nil {
		return nil, err
	}
	c.AddOptimState("opt", tr.Opt.State())
	if tr.EMA != nil {
		c.AddOptimState("ema", tr.EMA.State())
	}
	if tr.BestW != nil {
		c.AddFloat32("best", []int{len(tr.BestW)}, tr.BestW)
		if len(tr.bestB) > 0 {
			c.AddFloat32("best_buffers", []int{len(tr.bestB)}, tr.bestB)
		}
	}
	return c, nil
}

// Resume restores a trainer from State's checkpoint, on the same data.
// epochs, if positive, replaces the number of epochs.
func Resume(c *ckpt.Checkpoint, real, synth *data.Dataset, epochs int) (*Trainer, error) {
	net, err := Load(c)
	if err != nil {
		return nil, err
	}
	var st trainState
	if err := c.DecodeMeta(&st); err != nil {
		return nil, err
	}
	cfg := st.Train
	if epochs > 0 {
		cfg.Epochs = epochs
	}
	tr, err := NewTrainer(net, real, synth, cfg)
	if err != nil {
		return nil, err
	}
	if tr.Real.Provenance != st.Real || (synth != nil && synth.Provenance != st.Synth) || (synth == nil && st.Synth != "") {
		return nil, fmt.Errorf("classify: the state was trained on %q + %q, not on %q + the given synthetic data", st.Real, st.Synth, tr.Real.Provenance)
	}
	opt, err := c.OptimState("opt")
	if err != nil {
		return nil, err
	}
	if err := tr.Opt.SetState(opt); err != nil {
		return nil, err
	}
	if tr.EMA != nil {
		es, err := c.OptimState("ema")
		if err != nil {
			return nil, err
		}
		if err := tr.EMA.SetState(es); err != nil {
			return nil, err
		}
	}
	if best, _, err := c.Float32("best"); err == nil {
		if len(best) != len(net.P.W) {
			return nil, fmt.Errorf("classify: the state's best weights have %d values, the model %d", len(best), len(net.P.W))
		}
		tr.BestW = append([]float32(nil), best...)
		tr.bestB = append([]float32(nil), net.P.B...)
		if bb, _, err := c.Float32("best_buffers"); err == nil {
			if len(bb) != len(net.P.B) {
				return nil, fmt.Errorf("classify: the state's best buffers have %d values, the model %d", len(bb), len(net.P.B))
			}
			copy(tr.bestB, bb)
		}
	}
	tr.Epoch, tr.BestRobust = st.Epoch, st.BestRobust
	return tr, nil
}

// ExportBest and ExportLast return loadable classifier checkpoints of the
// best epoch and of the last one (EMA weights when enabled).
func (tr *Trainer) ExportBest(meta any) (*ckpt.Checkpoint, error) {
	if tr.BestW == nil {
		return nil, errors.New("classify: no epoch finished yet")
	}
	if len(tr.bestB) == len(tr.Net.P.B) && len(tr.bestB) > 0 {
		live := append([]float32(nil), tr.Net.P.B...)
		copy(tr.Net.P.B, tr.bestB)
		defer copy(tr.Net.P.B, live)
	}
	return tr.Net.Checkpoint(tr.BestW, meta)
}

// ExportLast returns the checkpoint of the last epoch.
func (tr *Trainer) ExportLast(meta any) (*ckpt.Checkpoint, error) {
	return tr.Net.Checkpoint(tr.evalWeights(), meta)
}
