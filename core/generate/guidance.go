// Package generate assembles a sampling run from its parts: the eps-model
// of a cdp train checkpoint, the guidance around it (none, contrastive,
// classifier or classifier-free) and the labels of the images. cdp sample
// and the browser module share it, so that an option means the same in both
// and is refused with the same message.
package generate

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cdp-project/cdp/core/ckpt"
	"github.com/cdp-project/cdp/core/classify"
	"github.com/cdp-project/cdp/core/diffusion"
	"github.com/cdp-project/cdp/core/guide"
	"github.com/cdp-project/cdp/core/unet"
)

// Guidance describes the guidance of a sampling run; see Default for the
// values cdp sample starts from. Fields that the Kind does not use are
// ignored.
type Guidance struct {
	Kind string // none|contrastive|classifier|cfg

	// contrastive
	Loss      string       // hnm|infonce
	Lambda    float64      // strength (the authors: 1e5 with hnm on MNIST)
	Tau       float64      // temperature; 0: the loss's default (10 for hnm, 0.1 for infonce)
	TauPlus   float64      // hnm class prior, in [0, 1)
	Beta      float64      // hnm hardness
	Head      string       // projection head: none|fixed|online
	HeadLR    float64      // Adam learning rate of the online head
	HeadSeed  uint64       // seed of the head's initialisation
	Input     string       // what the feature network sees: xt|x0hat
	Negatives string       // all|other-class
	Window    guide.Window // guide only when Lo <= t <= Hi (contrastive and classifier)

	Scale float64 // classifier guidance scale s
	CfgW  float64 // classifier-free guidance weight w
}

// Default returns cdp sample's defaults: no guidance, and for contrastive
// guidance the authors' MNIST setting (hnm, lambda 1e5, window 52:150 of
// 1000, which is their 50 < t < 150 on 0-based steps).
func Default() Guidance {
	return Guidance{
		Kind: "none", Loss: "hnm", Lambda: 1e5, TauPlus: 0.1, Beta: 1,
		Head: "none", HeadLR: 1e-2, Input: "xt", Negatives: "all",
		Window: guide.Window{Lo: 52, Hi: 150}, Scale: 1, CfgW: 1,
	}
}

// OptionError reports an option whose value is refused; Option is the
// option's name as cdp sample spells its flag without the dashes ("lambda",
// "tau-plus"), so that each front end can name it its own way.
type OptionError struct {
	Option string
	Msg    string
}

func (e *OptionError) Error() string { return e.Option + " " + e.Msg }

func optErr(option, format string, args ...any) error {
	return &OptionError{Option: option, Msg: fmt.Sprintf(format, args...)}
}

// NeedsNet reports whether the guidance needs a classifier checkpoint (the
// feature network of contrastive guidance or the classifier of classifier
// guidance).
func (g Guidance) NeedsNet() bool { return g.Kind == "contrastive" || g.Kind == "classifier" }

// Wrap returns model wrapped in the guidance, and a one-line description of
// it. net is the feature network or classifier (nil unless NeedsNet); T is
// the number of timesteps of the model's schedule.
func (g Guidance) Wrap(model *unet.UNet, net *classify.Net, T int) (diffusion.EpsModel, string, error) {
	switch g.Kind {
	case "none":
		return model, "none", nil
	case "cfg":
		if math.IsNaN(g.CfgW) || math.IsInf(g.CfgW, 0) {
			return nil, "", optErr("cfg-w", "%v must be finite", g.CfgW)
		}
		return &guide.ClassifierFree{Model: model, W: g.CfgW, Window: guide.Window{Lo: 1, Hi: T}}, fmt.Sprintf("cfg w=%g", g.CfgW), nil
	case "classifier", "contrastive":
	default:
		return nil, "", optErr("guide", "%q: want none|contrastive|classifier|cfg", g.Kind)
	}
	if net == nil {
		return nil, "", fmt.Errorf("generate: %s guidance needs a classifier checkpoint (a feature network from cdp advtrain)", g.Kind)
	}
	if err := CheckNet(model, net); err != nil {
		return nil, "", err
	}
	w := g.Window
	if w.Lo < 1 || w.Hi > T || w.Lo > w.Hi {
		return nil, "", optErr("window", "%d:%d: want LO:HI with 1 <= LO <= HI <= %d", w.Lo, w.Hi, T)
	}
	if g.Kind == "classifier" {
		lv, err := net.LogitView(model.Cfg.Size)
		if err != nil {
			return nil, "", err
		}
		if err := finitePositive("scale", g.Scale); err != nil {
			return nil, "", err
		}
		return &guide.Classifier{Model: model, Net: lv, Scale: g.Scale, Window: w},
			fmt.Sprintf("classifier s=%g window %d:%d (%s)", g.Scale, w.Lo, w.Hi, net.Cfg.Name), nil
	}
	if math.IsNaN(g.Lambda) || math.IsInf(g.Lambda, 0) || g.Lambda < 0 {
		return nil, "", optErr("lambda", "%v must be finite and not negative", g.Lambda)
	}
	fv, err := net.FeatureView(model.Cfg.Size)
	if err != nil {
		return nil, "", err
	}
	c := &guide.Contrastive{Model: model, Net: fv, Lambda: g.Lambda, Window: w}
	switch g.Loss {
	case "hnm":
		l := guide.DefaultHNM()
		if g.Tau != 0 {
			l.T = g.Tau
		}
		l.TauPlus, l.Beta = g.TauPlus, g.Beta
		if err := finitePositive("tau", l.T); err != nil {
			return nil, "", err
		}
		if !(l.TauPlus >= 0 && l.TauPlus < 1) {
			return nil, "", optErr("tau-plus", "%v must lie in [0, 1)", l.TauPlus)
		}
		if math.IsNaN(l.Beta) || math.IsInf(l.Beta, 0) {
			return nil, "", optErr("beta", "%v must be finite", l.Beta)
		}
		c.Loss = l
	case "infonce":
		l := guide.DefaultInfoNCE()
		if g.Tau != 0 {
			l.Tau = g.Tau
		}
		if err := finitePositive("tau", l.Tau); err != nil {
			return nil, "", err
		}
		c.Loss = l
	default:
		return nil, "", optErr("loss", "%q: want hnm|infonce", g.Loss)
	}
	switch g.Input {
	case "xt":
		c.Input = guide.InputXt
	case "x0hat":
		c.Input = guide.InputX0hat
	default:
		return nil, "", optErr("feature-input", "%q: want xt|x0hat", g.Input)
	}
	switch g.Negatives {
	case "all":
		c.Negatives = guide.NegativesAll
	case "other-class":
		c.Negatives = guide.NegativesOtherClass
	default:
		return nil, "", optErr("negatives", "%q: want all|other-class", g.Negatives)
	}
	switch g.Head {
	case "none":
	case "fixed", "online":
		h := guide.NewMLPHead(net.FeatureDim(), 64, 64, rand.New(rand.NewPCG(g.HeadSeed, 77)))
		if g.Head == "online" {
			if err := finitePositive("head-lr", g.HeadLR); err != nil {
				return nil, "", err
			}
			h.Online(g.HeadLR)
		}
		c.Head = h
	default:
		return nil, "", optErr("head", "%q: want none|fixed|online", g.Head)
	}
	return c, fmt.Sprintf("contrastive %s lambda=%g window %d:%d head %s input %s negatives %s (%s)",
		g.Loss, g.Lambda, w.Lo, w.Hi, g.Head, g.Input, g.Negatives, net.Cfg.Name), nil
}

// CheckNet reports whether net (a classifier checkpoint's network) can read
// the eps-model's images: the same channels and classes, and a size it
// reaches by a centre crop.
func CheckNet(model *unet.UNet, net *classify.Net) error {
	if net.Cfg.InCh != model.Cfg.InCh || net.NumClasses() != model.Cfg.Classes {
		return fmt.Errorf("generate: %s takes %d-channel images with %d classes; the eps-model makes %d-channel images with %d classes",
			net.Cfg.Name, net.Cfg.InCh, net.NumClasses(), model.Cfg.InCh, model.Cfg.Classes)
	}
	_, err := net.FeatureView(model.Cfg.Size)
	return err
}

func finitePositive(option string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return optErr(option, "%v must be positive and finite", v)
	}
	return nil
}

// Labels returns the label of each of n images: the classes of cycle in
// turn, or with an empty cycle every class in turn (image i gets class
// i mod classes).
func Labels(cycle []int, n, classes int) ([]int, error) {
	if n < 0 {
		return nil, optErr("n", "%d must not be negative", n)
	}
	if len(cycle) == 0 {
		for k := 0; k < classes; k++ {
			cycle = append(cycle, k)
		}
	}
	for _, k := range cycle {
		if k < 0 || k >= classes {
			return nil, optErr("classes", "%d is not a class in 0..%d", k, classes-1)
		}
	}
	y := make([]int, n)
	for i := range y {
		y[i] = cycle[i%len(cycle)]
	}
	return y, nil
}

// Model loads the EMA weights of a cdp train checkpoint and the noise
// schedule it was trained with.
func Model(c *ckpt.Checkpoint) (*unet.UNet, *diffusion.Schedule, error) {
	model, err := unet.Load(c, true)
	if err != nil {
		return nil, nil, err
	}
	var meta struct {
		Train unet.TrainConfig `json:"train"`
	}
	if err := c.DecodeMeta(&meta); err != nil {
		return nil, nil, err
	}
	sched, err := diffusion.ScheduleByName(meta.Train.Schedule, meta.Train.T)
	if err != nil {
		return nil, nil, err
	}
	return model, sched, nil
}
