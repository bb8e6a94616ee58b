// Package classify holds the image classifiers of cdp: mnist-net (the
// authors' MNIST classifier, whose 100-d penultimate layer is the feature
// network of contrastive guidance), cnn-small (the common MNIST robustness
// model) and resnet-small (a small residual network with batch norm for
// Fashion-MNIST). Inputs are in [0, 1]; any normalisation is inside the
// model; the output is logits.
//
// Train and eval modes: only models with batch norm (resnet-small) tell them
// apart. Forward and Backward follow the mode set by SetTrain (eval after
// New and Load); Logits, InputGrad, Features and the diffusion-space views
// always run in eval mode (running statistics, points independent), as
// robust.Classifier and guidance require. Trainer runs the training
// forward/backward passes in train mode and generates the attacks (PGD-AT,
// TRADES) and validates in eval mode, then leaves the model in eval mode.
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

// Config describes a classifier: convolutional stages (Arch "") or a
// residual network (Arch "resnet"), then hidden linear layers with ReLU (the
// last hidden layer is the feature layer), then the linear classifier.
//
// A resnet has a 3x3 stem convolution of Stem channels with batch norm and
// ReLU, then stages of Blocks[i] basic residual blocks of Widths[i]
// channels (the first block of every stage but the first has stride 2 and a
// 1x1-convolution shortcut), then global average pooling. The resnet fields
// are omitted from the JSON of the other models, so their checkpoints are
// unchanged.
type Config struct {
	Name    string     `json:"name"`
	Arch    string     `json:"arch,omitempty"` // "" (conv stages) or "resnet"
	InCh    int        `json:"in_channels"`
	Size    int        `json:"size"` // input height = width
	Convs   []ConvSpec `json:"convs"`
	Stem    int        `json:"stem,omitempty"`   // resnet: stem channels
	Widths  []int      `json:"widths,omitempty"` // resnet: channels per stage
	Blocks  []int      `json:"blocks,omitempty"` // resnet: blocks per stage
	Hidden  []int      `json:"hidden"`
	Classes int        `json:"classes"`
}

var presets = map[string]Config{
	"mnist-net": {Name: "mnist-net", InCh: 1, Size: 28, Convs: []ConvSpec{{4, 5, 0}, {10, 5, 0}}, Hidden: []int{100}, Classes: 10},
	"cnn-small": {Name: "cnn-small", InCh: 1, Size: 28, Convs: []ConvSpec{{32, 5, 2}, {64, 5, 2}}, Hidden: []int{1024}, Classes: 10},
	// resnet-small: 16-channel stem, one basic block per stage at 16, 32
	// and 64 channels (28 -> 28 -> 14 -> 7), pooled to 64, a 128-d feature
	// layer and the classifier (86,714 parameters, 672 buffer values).
	"resnet-small": {Name: "resnet-small", Arch: ArchResNet, InCh: 1, Size: 28, Stem: 16, Widths: []int{16, 32, 64}, Blocks: []int{1, 1, 1}, Hidden: []int{128}, Classes: 10},
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
	c.Widths = append([]int(nil), c.Widths...)
	c.Blocks = append([]int(nil), c.Blocks...)
	if size > 0 {
		c.Size = size
	}
	return c, c.Validate()
}

// flatSize returns the number of values after the convolutional stages.
func (c Config) flatSize() (int, error) {
	if c.Arch == ArchResNet {
		ch, _, err := c.resOut()
		return ch, err
	}
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
	if c.Arch != "" && c.Arch != ArchResNet {
		return fmt.Errorf("classify: %s: unknown architecture %q (want \"\" or %q)", c.Name, c.Arch, ArchResNet)
	}
	if c.Arch == ArchResNet && len(c.Convs) > 0 {
		return fmt.Errorf("classify: %s: a resnet has no conv stages (convs %v)", c.Name, c.Convs)
	}
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
	res   *resBody // Arch "resnet"; nil otherwise
	fcs   []*fcStage
	n     int
	train bool // mode of Forward (SetTrain)
}

// SetTrain selects the mode of Forward and Backward: train (batch-norm
// layers use and update batch statistics) or eval (running statistics).
// Models without batch norm compute the same function in both modes.
func (m *Net) SetTrain(train bool) { m.train = train }

// Training reports whether Forward runs in train mode.
func (m *Net) Training() bool { return m.train }

// New builds a classifier with PyTorch-style initialisation from rng.
func New(cfg Config, rng *rand.Rand) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := nn.NewParams()
	m := &Net{Cfg: cfg, P: p}
	ch, s := cfg.InCh, cfg.Size
	if cfg.Arch == ArchResNet {
		m.res = newResBody(p, cfg, rng)
		ch, s = m.res.c, 1
	}
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
// `upto` (len(fcs)-1 for the logits), in train or eval mode, and returns its
// output.
func (m *Net) forwardTo(x []float32, n, upto int, train bool) []float32 {
	if len(x) != n*m.Dim() {
		panic(fmt.Sprintf("classify: x has length %d, want (N=%d, %d)", len(x), n, m.Dim()))
	}
	m.n = n
	h, s := x, m.Cfg.Size
	if m.res != nil {
		m.res.setTrain(train)
		h = m.res.forward(x, n)
	}
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
	if m.res != nil {
		dy = m.res.backward(dy)
	}
	return dy
}

// Forward returns the logits (N, K) of x (N, C, H, W), owned by the net, in
// the mode set by SetTrain.
func (m *Net) Forward(x []float32, n int) []float32 {
	return m.forwardTo(x, n, len(m.fcs)-1, m.train)
}

// Backward takes dL/dlogits for the last Forward (or Logits), accumulates the parameter
// gradients (unless P.NoGrad) and returns dL/dx, owned by the net.
func (m *Net) Backward(dlogits []float32) []float32 { return m.backwardFrom(dlogits, len(m.fcs)-1) }

// Logits implements robust.Classifier: the logits in eval mode, whatever
// SetTrain selected.
func (m *Net) Logits(x []float32, n int) []float32 { return m.forwardTo(x, n, len(m.fcs)-1, false) }

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

// Features returns h (N, FeatureDim) for x (N, C, H, W), in eval mode.
func (f *Features) Features(x []float32, n int) ([]float32, int) {
	return f.m.forwardTo(x, n, len(f.m.fcs)-2, false), f.m.FeatureDim()
}

// InputGrad returns dL/dx for dL/dh of the last Features call.
func (f *Features) InputGrad(dh []float32) []float32 {
	old := f.m.P.NoGrad
	f.m.P.NoGrad = true
	defer func() { f.m.P.NoGrad = old }()
	return f.m.backwardFrom(dh, len(f.m.fcs)-2)
}
