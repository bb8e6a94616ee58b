package generate

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/cdp-project/cdp/core/classify"
	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/guide"
	"github.com/cdp-project/cdp/core/unet"
)

func tiny(t *testing.T) (*unet.UNet, *classify.Net) {
	t.Helper()
	cfg, err := unet.Preset("unet-tiny")
	if err != nil {
		t.Fatal(err)
	}
	m, err := unet.New(cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	ncfg, err := classify.Preset("mnist-net", 28)
	if err != nil {
		t.Fatal(err)
	}
	net, err := classify.New(ncfg, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	return m, net
}

func TestWrapKinds(t *testing.T) {
	m, net := tiny(t)
	g := Default()
	eps, desc, err := g.Wrap(m, nil, 1000)
	if err != nil || eps != m || desc != "none" {
		t.Fatalf("none: %v %q %v", eps, desc, err)
	}
	g.Kind = "cfg"
	g.CfgW = 3
	eps, desc, err = g.Wrap(m, nil, 1000)
	if cf, ok := eps.(*guide.ClassifierFree); err != nil || !ok || cf.W != 3 || cf.Window != (guide.Window{Lo: 1, Hi: 1000}) || desc != "cfg w=3" {
		t.Fatalf("cfg: %#v %q %v", eps, desc, err)
	}
	g = Default()
	g.Kind = "classifier"
	g.Scale = 2
	eps, _, err = g.Wrap(m, net, 1000)
	if c, ok := eps.(*guide.Classifier); err != nil || !ok || c.Scale != 2 || c.Window != (guide.Window{Lo: 52, Hi: 150}) {
		t.Fatalf("classifier: %#v %v", eps, err)
	}

	g = Default()
	g.Kind, g.Lambda, g.TauPlus, g.Beta, g.Window = "contrastive", 5e4, 0.2, 2, guide.Window{Lo: 10, Hi: 400}
	eps, desc, err = g.Wrap(m, net, 1000)
	c, ok := eps.(*guide.Contrastive)
	if err != nil || !ok {
		t.Fatalf("contrastive: %#v %v", eps, err)
	}
	if c.Lambda != 5e4 || c.Window != g.Window || c.Input != guide.InputXt || c.Negatives != guide.NegativesAll || c.Head != nil {
		t.Errorf("contrastive fields: %+v", c)
	}
	if want := (guide.HNM{T: 10, TauPlus: 0.2, Beta: 2}); !reflect.DeepEqual(c.Loss, want) {
		t.Errorf("hnm loss %+v, want %+v", c.Loss, want)
	}
	if !strings.Contains(desc, "contrastive hnm lambda=50000 window 10:400") || !strings.Contains(desc, "mnist-net") {
		t.Errorf("description %q", desc)
	}
	g.Loss, g.Tau, g.Input, g.Negatives, g.Head = "infonce", 0.5, "x0hat", "other-class", "online"
	eps, _, err = g.Wrap(m, net, 1000)
	c, ok = eps.(*guide.Contrastive)
	if err != nil || !ok || !reflect.DeepEqual(c.Loss, guide.InfoNCE{Tau: 0.5}) || c.Input != guide.InputX0hat ||
		c.Negatives != guide.NegativesOtherClass || c.Head == nil {
		t.Fatalf("infonce: %+v %v", eps, err)
	}
}

func TestWrapRefusesNamingTheOption(t *testing.T) {
	m, net := tiny(t)
	nan := math.NaN()
	for _, c := range []struct {
		edit   func(*Guidance)
		option string
		msg    string
	}{
		{func(g *Guidance) { g.Kind = "magic" }, "guide", `"magic": want none|contrastive|classifier|cfg`},
		{func(g *Guidance) { g.Kind = "cfg"; g.CfgW = math.Inf(1) }, "cfg-w", "+Inf must be finite"},
		{func(g *Guidance) { g.Lambda = -1 }, "lambda", "-1 must be finite and not negative"},
		{func(g *Guidance) { g.Lambda = nan }, "lambda", "NaN must be finite"},
		{func(g *Guidance) { g.Tau = -2 }, "tau", "-2 must be positive and finite"},
		{func(g *Guidance) { g.TauPlus = 1 }, "tau-plus", "1 must lie in [0, 1)"},
		{func(g *Guidance) { g.Beta = nan }, "beta", "NaN must be finite"},
		{func(g *Guidance) { g.Loss = "triplet" }, "loss", `"triplet": want hnm|infonce`},
		{func(g *Guidance) { g.Loss, g.Tau = "infonce", math.Inf(1) }, "tau", "+Inf must be positive"},
		{func(g *Guidance) { g.Input = "x0" }, "feature-input", `"x0": want xt|x0hat`},
		{func(g *Guidance) { g.Negatives = "some" }, "negatives", `"some": want all|other-class`},
		{func(g *Guidance) { g.Head = "deep" }, "head", `"deep": want none|fixed|online`},
		{func(g *Guidance) { g.Head, g.HeadLR = "online", 0 }, "head-lr", "0 must be positive"},
		{func(g *Guidance) { g.Window = guide.Window{Lo: 0, Hi: 10} }, "window", "0:10: want LO:HI with 1 <= LO <= HI <= 1000"},
		{func(g *Guidance) { g.Window = guide.Window{Lo: 20, Hi: 10} }, "window", "20:10"},
		{func(g *Guidance) { g.Window = guide.Window{Lo: 1, Hi: 1001} }, "window", "1:1001"},
		{func(g *Guidance) { g.Kind, g.Scale = "classifier", 0 }, "scale", "0 must be positive and finite"},
	} {
		g := Default()
		g.Kind = "contrastive"
		c.edit(&g)
		_, _, err := g.Wrap(m, net, 1000)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != c.option || !strings.Contains(oe.Msg, c.msg) {
			t.Errorf("%+v: got %v, want option %s: %s", g, err, c.option, c.msg)
		}
	}
}

func TestWrapChecksTheNetwork(t *testing.T) {
	m, _ := tiny(t)
	g := Default()
	g.Kind = "contrastive"
	if _, _, err := g.Wrap(m, nil, 1000); err == nil || !strings.Contains(err.Error(), "contrastive guidance needs a classifier checkpoint") {
		t.Errorf("no network: %v", err)
	}
	cfg, _ := classify.Preset("mnist-net", 28)
	cfg.Classes = 7
	net7, err := classify.New(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := g.Wrap(m, net7, 1000); err == nil || !strings.Contains(err.Error(), "1-channel images with 7 classes; the eps-model makes 1-channel images with 10 classes") {
		t.Errorf("class mismatch: %v", err)
	}
	if !g.NeedsNet() || Default().NeedsNet() {
		t.Error("NeedsNet")
	}
}

func TestLabels(t *testing.T) {
	y, err := Labels(nil, 12, 10)
	if err != nil || !reflect.DeepEqual(y, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1}) {
		t.Errorf("uniform: %v %v", y, err)
	}
	y, err = Labels([]int{3, 7}, 5, 10)
	if err != nil || !reflect.DeepEqual(y, []int{3, 7, 3, 7, 3}) {
		t.Errorf("cycle: %v %v", y, err)
	}
	for _, c := range [][]int{{10}, {-1}, {2, 11}} {
		var oe *OptionError
		if _, err := Labels(c, 4, 10); !errors.As(err, &oe) || oe.Option != "classes" {
			t.Errorf("classes %v: %v", c, err)
		}
	}
	if _, err := Labels(nil, -1, 10); err == nil {
		t.Error("negative n accepted")
	}
}

func TestModelFromTrainerCheckpoint(t *testing.T) {
	m, _ := tiny(t)
	d := data.New(make([]float32, 4*32*32), []int{0, 1, 2, 3}, 4, 1, 32, 32, 10, "zeros", "test")
	d.Signed = true
	cfg := unet.DefaultTrainConfig()
	cfg.Steps, cfg.Batch, cfg.Schedule, cfg.T = 1, 2, "cosine", 500
	tr, err := unet.NewTrainer(m, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tr.Checkpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, sched, err := Model(c)
	if err != nil {
		t.Fatal(err)
	}
	if sched.T != 500 || got.Cfg.Name != "unet-tiny" || got.Dim() != m.Dim() {
		t.Errorf("T %d, model %s dim %d", sched.T, got.Cfg.Name, got.Dim())
	}
	c.Meta = []byte(`{"train": {"schedule": "wobbly", "T": 10}}`)
	if _, _, err := Model(c); err == nil || !strings.Contains(err.Error(), "wobbly") {
		t.Errorf("bad schedule: %v", err)
	}
}
