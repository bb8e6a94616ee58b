package classify

import (
	"fmt"

	"github.com/cdp-project/cdp/core/diffusion"
	"github.com/cdp-project/cdp/core/nn"
)

// view maps images of the diffusion model, (N, C, S, S) in [-1, 1], to the
// classifier's input, (N, C, s, s) in [0, 1]: a centre crop of (S-s)/2
// pixels per side (MNIST's 2-pixel padding) and x01 = (x + 1)/2. Its
// backward pads with zeros and halves.
type view struct {
	net        *Net
	size, crop int
	in, dx     []float32
}

func newView(m *Net, size int) (*view, error) {
	if size < m.Cfg.Size || (size-m.Cfg.Size)%2 != 0 {
		return nil, fmt.Errorf("classify: %s takes %dx%d images and cannot read %dx%d diffusion samples (a centre crop needs an even, non-negative margin)",
			m.Cfg.Name, m.Cfg.Size, m.Cfg.Size, size, size)
	}
	return &view{net: m, size: size, crop: (size - m.Cfg.Size) / 2}, nil
}

func (v *view) forward(x []float32, n int) []float32 {
	c, S, s := v.net.Cfg.InCh, v.size, v.net.Cfg.Size
	if len(x) != n*c*S*S {
		panic(fmt.Sprintf("classify: diffusion input has length %d, want (N=%d, C=%d, %d, %d)", len(x), n, c, S, S))
	}
	v.in = nn.Grow(&v.in, n*c*s*s)
	for p := 0; p < n*c; p++ {
		for r := 0; r < s; r++ {
			src := x[p*S*S+(r+v.crop)*S+v.crop:]
			dst := v.in[p*s*s+r*s : p*s*s+(r+1)*s]
			for j := range dst {
				dst[j] = 0.5*src[j] + 0.5
			}
		}
	}
	return v.in
}

func (v *view) backward(din []float32, n int) []float32 {
	c, S, s := v.net.Cfg.InCh, v.size, v.net.Cfg.Size
	v.dx = nn.Grow(&v.dx, n*c*S*S)
	clear(v.dx)
	for p := 0; p < n*c; p++ {
		for r := 0; r < s; r++ {
			src := din[p*s*s+r*s : p*s*s+(r+1)*s]
			dst := v.dx[p*S*S+(r+v.crop)*S+v.crop:]
			for j, g := range src {
				dst[j] = 0.5 * g
			}
		}
	}
	return v.dx
}

// FeatureView is the feature network of contrastive guidance
// (guide.FeatureNet) on diffusion images: the classifier's penultimate layer
// behind the crop and rescaling of view.
type FeatureView struct {
	v *view
	n int
}

// FeatureView returns m's features as seen from diffusion images of size
// size x size in [-1, 1].
func (m *Net) FeatureView(size int) (*FeatureView, error) {
	v, err := newView(m, size)
	if err != nil {
		return nil, err
	}
	return &FeatureView{v: v}, nil
}

// Features returns h (N, FeatureDim) for diffusion images x.
func (f *FeatureView) Features(x []float32, n int) ([]float32, int) {
	f.n = n
	return f.v.net.Features().Features(f.v.forward(x, n), n)
}

// InputGrad returns dL/dx on the diffusion images for dL/dh.
func (f *FeatureView) InputGrad(dh []float32) []float32 {
	return f.v.backward(f.v.net.Features().InputGrad(dh), f.n)
}

// LogitView is the classifier of classifier guidance (guide.ClassifierNet)
// on diffusion images. The classifier is not noise-aware: it ignores the step.
type LogitView struct {
	v *view
	n int
}

// LogitView returns m's logits as seen from diffusion images of size
// size x size in [-1, 1].
func (m *Net) LogitView(size int) (*LogitView, error) {
	v, err := newView(m, size)
	if err != nil {
		return nil, err
	}
	return &LogitView{v: v}, nil
}

// Logits returns the logits (N, K) and K for diffusion images x, in eval
// mode.
func (l *LogitView) Logits(x []float32, n int, _ diffusion.Step) ([]float32, int) {
	l.n = n
	return l.v.net.Logits(l.v.forward(x, n), n), l.v.net.NumClasses()
}

// InputGrad returns dL/dx on the diffusion images for dL/dlogits.
func (l *LogitView) InputGrad(dlogits []float32) []float32 {
	return l.v.backward(l.v.net.InputGrad(dlogits), l.n)
}
