// Package classify holds the image classifiers of cdp: mnist-net (the
// authors' MNIST classifier, whose 100-d penultimate layer is the feature
// network of contrastive guidance) and cnn-small (the common MNIST
// robustness model). Inputs are in [0, 1]; any normalisation is inside the
// model; the output is logits. The models have no dropout or batch norm, so
// train and eval modes compute the same function.
package classify

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/cdp-project/cdp/core/nn"
)

// ConvSpec is one Conv(k x k, pad) -> ReLU -> MaxPool2 stage.
type ConvSpec struct {
	Out int `json:"out"`
	K   int `json:"k"`
	Pad int `json:"pad"`
}

// Config describes a classifier: convolutional stages, then hidden linear
// layers with ReLU (the last hidden layer is the feature layer), then the
// linear classifier.
type Config struct {
	Name    string     `json:"name"`
	InCh    int        `json:"in_channels"`
	Size    int        `json:"size"` // input height = width
	Convs   []ConvSpec `json:"convs"`
	Hidden  []int      `json:"hidden"`
	Classes int        `json:"classes"`
}

var presets = map[string]Config{
	"mnist-net": {Name: "mnist-net", InCh: 1, Size: 28, Convs: []ConvSpec{{4, 5, 0}, {10, 5, 0}}, Hidden: []int{100}, Classes: 10},
	"cnn-small": {Name: "cnn-small", InCh: 1, Size: 28, Convs: []ConvSpec{{32, 5, 2}, {64, 5, 2}}, Hidden: []int{1024}, Classes: 10},
}

// Presets lists the preset names.
func Presets() []string {
	var names []string
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns the named configuration for inputs of the given size
// (28 for MNIST as the authors use it, 32 for the padded images of the
// diffusion model): the first linear layer adapts to the size.
func Preset(name string, size int) (Config, error) {
	c, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("classify: unknown model %q (known: %s)", name, strings.Join(Presets(), ", "))
	}
	c.Convs = append([]ConvSpec(nil), c.Convs...)
	c.Hidden = append([]int(nil), c.Hidden...)
	if size > 0 {
		c.Size = size
	}
	return c, c.Validate()
}

// flatSize returns the number of values after the convolutional stages.
func (c Config) flatSize() (int, error) {
	ch, s := c.InCh, c.Size
	for i, cs := range c.Convs {
		s = s + 2*cs.Pad - cs.K + 1
		if s < 2 {
			return 0, fmt.Errorf("classify: %s: input %dx%d is too small for conv stage %d", c.Name, c.Size, c.Size, i)
		}
		s /= 2
		ch = cs.Out
	}
	return ch * s * s, nil
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if c.InCh <= 0 || c.Size <= 0 || c.Classes < 2 || len(c.Hidden) == 0 {
		return fmt.Errorf("classify: %s: invalid configuration (in_channels %d, size %d, classes %d, %d hidden layers)", c.Name, c.InCh, c.Size, c.Classes, len(c.Hidden))
	}
	for _, cs := range c.Convs {
		if cs.Out <= 0 || cs.K <= 0 || cs.Pad < 0 {
			return fmt.Errorf("classify: %s: invalid conv stage %+v", c.Name, cs)
		}
	}
	for _, h := range c.Hidden {
		if h <= 0 {
			return fmt.Errorf("classify: %s: hidden width %d", c.Name, h)
		}
	}
	_, err := c.flatSize()
	return err
}

type convStage struct {
	conv *nn.Conv2d
	relu nn.ReLU
	pool *nn.MaxPool
	// output shape
	c, h int
}

type fcStage struct {
	lin  *nn.Linear
	relu *nn.ReLU // nil on the last layer
}

// Net is a classifier. It is not safe for concurrent use.
type Net struct {
	Cfg Config
	P   *nn.Params

	convs []*convStage
	fcs   []*fcStage
	n     int
}

// New builds a classifier with PyTorch-style initialisation from rng.
func New(cfg Config, rng *rand.Rand) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := nn.NewParams()
	m := &Net{Cfg: cfg, P: p}
	ch, s := cfg.InCh, cfg.Size
	for i, cs := range cfg.Convs {
		conv := nn.NewConv2d(p, fmt.Sprintf("conv%d", i+1), ch, cs.Out, cs.K, 1, cs.Pad, true, rng)
		s = conv.OutSize(s) / 2
		ch = cs.Out
		m.convs = append(m.convs, &convStage{conv: conv, pool: nn.NewMaxPool2(), c: ch, h: s})
	}
	in := ch * s * s
	widths := append(append([]int(nil), cfg.Hidden...), cfg.Classes)
	for i, w := range widths {
		st := &fcStage{lin: nn.NewLinear(p, fmt.Sprintf("fc%d", i+1), in, w, true, rng)}
		if i < len(widths)-1 {
			st.relu = &nn.ReLU{}
		}
		m.fcs = append(m.fcs, st)
		in = w
	}
	return m, nil
}

// Dim is the number of input values per image, C*H*W.
func (m *Net) Dim() int { return m.Cfg.InCh * m.Cfg.Size * m.Cfg.Size }

// FeatureDim is the width of the feature (penultimate) layer.
func (m *Net) FeatureDim() int { return m.Cfg.Hidden[len(m.Cfg.Hidden)-1] }

// NumClasses is the number of classes.
func (m *Net) NumClasses() int { return m.Cfg.Classes }

// forwardTo runs the network on x (N, C, H, W) up to and including fc stage
// `upto` (len(fcs)-1 for the logits), and returns its output.
func (m *Net) forwardTo(x []float32, n, upto int) []float32 {
	if len(x) != n*m.Dim() {
		panic(fmt.Sprintf("classify: x has length %d, want (N=%d, %d)", len(x), n, m.Dim()))
	}
	m.n = n
	h, s := x, m.Cfg.Size
	for _, st := range m.convs {
		y, ho, _ := st.conv.Forward(h, n, s, s)
		y = st.relu.Forward(y)
		h, s, _ = st.pool.Forward(y, n, st.c, ho, ho)
	}
	for i := 0; i <= upto; i++ {
		st := m.fcs[i]
		h = st.lin.Forward(h, n)
		if st.relu != nil {
			h = st.relu.Forward(h)
		}
	}
	return h
}

// backwardFrom back-propagates dy from the output of fc stage `from`.
func (m *Net) backwardFrom(dy []float32, from int) []float32 {
	for i := from; i >= 0; i-- {
		st := m.fcs[i]
		if st.relu != nil {
			dy = st.relu.Backward(dy)
		}
		dy = st.lin.Backward(dy)
	}
	for i := len(m.convs) - 1; i >= 0; i-- {
		st := m.convs[i]
		dy = st.conv.Backward(st.relu.Backward(st.pool.Backward(dy)))
	}
	return dy
}

// Forward returns the logits (N, K) of x (N, C, H, W), owned by the net.
func (m *Net) Forward(x []float32, n int) []float32 { return m.forwardTo(x, n, len(m.fcs)-1) }

// Backward takes dL/dlogits for the last Forward, accumulates the parameter
// gradients (unless P.NoGrad) and returns dL/dx, owned by the net.
func (m *Net) Backward(dlogits []float32) []float32 { return m.backwardFrom(dlogits, len(m.fcs)-1) }

// Logits implements robust.Classifier (the models have no train mode).
func (m *Net) Logits(x []float32, n int) []float32 { return m.Forward(x, n) }

// InputGrad implements robust.Classifier: dL/dx for dL/dlogits, without
// touching the parameter gradients.
func (m *Net) InputGrad(dlogits []float32) []float32 {
	old := m.P.NoGrad
	m.P.NoGrad = true
	defer func() { m.P.NoGrad = old }()
	return m.Backward(dlogits)
}

// Features returns the feature network of m: its penultimate layer.
func (m *Net) Features() *Features { return &Features{m: m} }

// Features is the penultimate layer of a classifier used as the feature
// network of contrastive guidance (guide.FeatureNet); input gradients only.
type Features struct{ m *Net }

// Features returns h (N, FeatureDim) for x (N, C, H, W).
func (f *Features) Features(x []float32, n int) ([]float32, int) {
	return f.m.forwardTo(x, n, len(f.m.fcs)-2), f.m.FeatureDim()
}

// InputGrad returns dL/dx for dL/dh of the last Features call.
func (f *Features) InputGrad(dh []float32) []float32 {
	old := f.m.P.NoGrad
	f.m.P.NoGrad = true
	defer func() { f.m.P.NoGrad = old }()
	return f.m.backwardFrom(dh, len(f.m.fcs)-2)
}
