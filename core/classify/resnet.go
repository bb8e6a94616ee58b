package classify

import (
	"fmt"
	"math/rand/v2"

	"github.com/cdp-project/cdp/core/nn"
)

// ArchResNet is Config.Arch of residual networks: a 3x3 stem convolution
// with batch norm and ReLU, stages of basic residual blocks, global average
// pooling, then the hidden linear layers and the classifier.
const ArchResNet = "resnet"

// resBlock is a basic residual block (He et al. 2016):
// relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x)), s the identity, or a
// stride-2 1x1 convolution with batch norm where the shape changes.
type resBlock struct {
	conv1, conv2 *nn.Conv2d
	bn1, bn2     *nn.BatchNorm
	relu1, relu2 nn.ReLU
	proj         *nn.Conv2d // nil: identity shortcut
	projBN       *nn.BatchNorm
	in, out      int // channels
	s, so        int // input and output size
	sum, dx      []float32
	n            int
}

func newResBlock(p *nn.Params, name string, in, out, stride, s int, rng *rand.Rand) *resBlock {
	b := &resBlock{in: in, out: out, s: s}
	b.conv1 = nn.NewConv2d(p, name+".conv1", in, out, 3, stride, 1, false, rng)
	b.bn1 = nn.NewBatchNorm(p, name+".bn1", out)
	b.conv2 = nn.NewConv2d(p, name+".conv2", out, out, 3, 1, 1, false, rng)
	b.bn2 = nn.NewBatchNorm(p, name+".bn2", out)
	if stride != 1 || in != out {
		b.proj = nn.NewConv2d(p, name+".shortcut.0", in, out, 1, stride, 0, false, rng)
		b.projBN = nn.NewBatchNorm(p, name+".shortcut.1", out)
	}
	b.so = b.conv1.OutSize(s)
	return b
}

// forward maps x (N, in, s, s) to (N, out, so, so).
func (b *resBlock) forward(x []float32, n int) []float32 {
	b.n = n
	h, so, _ := b.conv1.Forward(x, n, b.s, b.s)
	h = b.relu1.Forward(b.bn1.Forward(h, n, so, so))
	h, _, _ = b.conv2.Forward(h, n, so, so)
	h = b.bn2.Forward(h, n, so, so)
	sc := x
	if b.proj != nil {
		sc, _, _ = b.proj.Forward(x, n, b.s, b.s)
		sc = b.projBN.Forward(sc, n, so, so)
	}
	b.sum = nn.AddInto(b.sum, h, sc)
	return b.relu2.Forward(b.sum)
}

// backward takes dL/dy and returns dL/dx (owned by the block).
func (b *resBlock) backward(dy []float32) []float32 {
	d := b.relu2.Backward(dy)
	dm := b.conv1.Backward(b.bn1.Backward(b.relu1.Backward(b.conv2.Backward(b.bn2.Backward(d)))))
	ds := d
	if b.proj != nil {
		ds = b.proj.Backward(b.projBN.Backward(d))
	}
	b.dx = nn.AddInto(b.dx, dm, ds)
	return b.dx
}

// resBody is the convolutional part of a residual network: stem, blocks
// and global average pooling to (N, C) features.
type resBody struct {
	stem   *nn.Conv2d
	stemBN *nn.BatchNorm
	relu   nn.ReLU
	blocks []*resBlock
	pool   *nn.AvgPool
	bns    []*nn.BatchNorm
	s      int // input size
	c, so  int // channels and size before pooling
}

// resOut returns the channels and size after the stages of c, or an error.
func (c Config) resOut() (ch, s int, err error) {
	if c.Stem <= 0 || len(c.Widths) == 0 || len(c.Widths) != len(c.Blocks) {
		return 0, 0, fmt.Errorf("classify: %s: a resnet needs a stem width and one block count per stage width (stem %d, widths %v, blocks %v)", c.Name, c.Stem, c.Widths, c.Blocks)
	}
	s = c.Size
	for i, w := range c.Widths {
		if w <= 0 || c.Blocks[i] <= 0 {
			return 0, 0, fmt.Errorf("classify: %s: stage %d has width %d and %d blocks", c.Name, i, w, c.Blocks[i])
		}
		if i > 0 {
			s = (s-1)/2 + 1 // 3x3, stride 2, pad 1
		}
	}
	return c.Widths[len(c.Widths)-1], s, nil
}

func newResBody(p *nn.Params, cfg Config, rng *rand.Rand) *resBody {
	r := &resBody{s: cfg.Size}
	r.stem = nn.NewConv2d(p, "conv1", cfg.InCh, cfg.Stem, 3, 1, 1, false, rng)
	r.stemBN = nn.NewBatchNorm(p, "bn1", cfg.Stem)
	r.bns = append(r.bns, r.stemBN)
	ch, s := cfg.Stem, cfg.Size
	for i, w := range cfg.Widths {
		for j := range cfg.Blocks[i] {
			stride := 1
			if i > 0 && j == 0 {
				stride = 2
			}
			b := newResBlock(p, fmt.Sprintf("layer%d.%d", i+1, j), ch, w, stride, s, rng)
			r.blocks = append(r.blocks, b)
			r.bns = append(r.bns, b.bn1, b.bn2)
			if b.projBN != nil {
				r.bns = append(r.bns, b.projBN)
			}
			ch, s = w, b.so
		}
	}
	r.c, r.so = ch, s
	r.pool = &nn.AvgPool{K: s, Stride: s}
	return r
}

// forward maps x (N, C, S, S) to the pooled features (N, c).
func (r *resBody) forward(x []float32, n int) []float32 {
	h, s, _ := r.stem.Forward(x, n, r.s, r.s)
	h = r.relu.Forward(r.stemBN.Forward(h, n, s, s))
	for _, b := range r.blocks {
		h = b.forward(h, n)
	}
	h, _, _ = r.pool.Forward(h, n, r.c, r.so, r.so)
	return h
}

// backward takes dL/d(pooled features) and returns dL/dx.
func (r *resBody) backward(dy []float32) []float32 {
	d := r.pool.Backward(dy)
	for i := len(r.blocks) - 1; i >= 0; i-- {
		d = r.blocks[i].backward(d)
	}
	return r.stem.Backward(r.stemBN.Backward(r.relu.Backward(d)))
}

// setTrain puts every batch norm in training (batch statistics) or
// evaluation (running statistics) mode.
func (r *resBody) setTrain(train bool) {
	for _, b := range r.bns {
		b.Train = train
	}
}
