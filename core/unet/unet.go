package unet

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/cdp-project/cdp/core/diffusion"
	"github.com/cdp-project/cdp/core/nn"
)

// resBlock is ResBlock(cin, cout) of MODELS.md:
// h = Conv3x3(SiLU(GN(x))) + Linear(SiLU(emb)) broadcast over H, W;
// h = Conv3x3(SiLU(GN(h))); out = h + (cin == cout ? x : Conv1x1(x)).
// The U-Net computes SiLU(emb) once and passes it to every block. act1 and
// act2 are norm1 (norm2), SiLU and conv1 (conv2) in one layer: the
// normalised activation goes straight into the convolution's padded input,
// and the backward passes take the SiLU gradient inside the norm's.
type resBlock struct {
	cin          int
	norm1, norm2 *nn.GroupNorm
	act1, act2   *nn.SiLUConv2d
	conv1, conv2 *nn.Conv2d
	emb          *nn.Linear
	skip         *nn.Conv2d // nil when cin == cout
	attn         *nn.AttentionBlock

	out []float32
}

func newResBlock(p *nn.Params, name string, cin, cout, embDim, groups int, rng *rand.Rand) *resBlock {
	b := &resBlock{cin: cin}
	b.norm1 = nn.NewGroupNorm(p, name+".norm1", groups, cin)
	b.conv1 = nn.NewConv2d(p, name+".conv1", cin, cout, 3, 1, 1, true, rng)
	b.emb = nn.NewLinear(p, name+".emb", embDim, cout, true, rng)
	b.norm2 = nn.NewGroupNorm(p, name+".norm2", groups, cout)
	b.conv2 = nn.NewConv2d(p, name+".conv2", cout, cout, 3, 1, 1, true, rng)
	if cin != cout {
		b.skip = nn.NewConv2d(p, name+".skip", cin, cout, 1, 1, 0, true, rng)
	}
	b.act1 = &nn.SiLUConv2d{Norm: b.norm1, Conv: b.conv1}
	b.act2 = &nn.SiLUConv2d{Norm: b.norm2, Conv: b.conv2}
	return b
}

// forward maps x (N, cin, H, W) and SiLU(emb) (N, E) to (N, cout, H, W).
func (b *resBlock) forward(x, embS []float32, n, h, w int) []float32 {
	h1, _, _ := b.act1.Forward(x, n, h, w)
	e := b.emb.Forward(embS, n)                     // (N, cout)
	h2, _, _ := b.act2.ForwardShift(h1, e, n, h, w) // h1 + e, formed in cache
	s := x
	if b.skip != nil {
		s, _, _ = b.skip.Forward(x, n, h, w)
	}
	b.out = nn.AddInto(b.out, h2, s)
	if b.attn != nil {
		return b.attn.Forward(b.out, n, h, w)
	}
	return b.out
}

// backward takes dout and returns dx; it adds dL/dSiLU(emb) into dembS.
func (b *resBlock) backward(dout, dembS []float32) []float32 {
	if b.attn != nil {
		dout = b.attn.Backward(dout)
	}
	dh1 := b.act2.Backward(dout)
	// The gradient of e: the sums over the pixels of dh1, (N, cout).
	nn.Accumulate(dembS, b.emb.Backward(b.norm2.DxSums()))
	// The skip branch's gradient joins dx as it is written: added by the
	// norm's backward (identity) or accumulated by the 1x1 convolution.
	if b.skip == nil {
		return b.act1.BackwardAdd(dh1, dout)
	}
	dx := b.act1.Backward(dh1)
	b.skip.BackwardAdd(dout, dx)
	return dx
}

// stage is one module of the down path: a residual block or a downsampling
// convolution. Every stage's output (and conv_in's) is kept for a skip.
type stage struct {
	block *resBlock
	down  *nn.Conv2d
	c, h  int // output channels and size
}

// upStage is one module of the up path: a residual block on concat(h, skip),
// optionally followed by upsampling and a convolution.
type upStage struct {
	block    *resBlock
	skipC    int
	cat      []float32
	dh, dsk  []float32
	upsample *nn.Upsample2
	upConv   *nn.Conv2d
	c, h     int // output channels and size (before upsampling)
}

// UNet is the class-conditional eps-model. It is not safe for concurrent
// use: Forward caches the activations that Backward needs.
type UNet struct {
	Cfg Config
	P   *nn.Params

	// SkipInputGrad makes Backward compute the parameter gradients only
	// and return nil instead of dL/dx: training needs no gradient with
	// respect to x_t (the first convolution then skips its input gradient,
	// as PyTorch does for an input that does not require grad).
	SkipInputGrad bool

	convIn         *nn.Conv2d
	time0, time2   *nn.Linear
	timeAct        nn.SiLU
	classEmb       *nn.Embedding
	embAct         nn.SiLU
	downs          []*stage
	mid0, mid1     *resBlock
	midAttn        *nn.AttentionBlock
	ups            []*upStage
	outAct         *nn.SiLUConv2d // out_norm, SiLU, then outConv
	outConv        *nn.Conv2d
	embDim, midRes int

	n          int
	tf         []float64
	labels     []int
	temb, emb  []float32
	skips      [][]float32
	dskips     [][]float32
	dembS, dx  []float32
	dEmb, eps  []float32
	hbuf, dbuf []float32
}

// New builds a U-Net with PyTorch-style initialisation from rng.
func New(cfg Config, rng *rand.Rand) (*UNet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := nn.NewParams()
	u := &UNet{Cfg: cfg, P: p, embDim: 4 * cfg.Ch}
	ch, E, g := cfg.Ch, 4*cfg.Ch, cfg.Groups
	u.convIn = nn.NewConv2d(p, "conv_in", cfg.InCh, ch, 3, 1, 1, true, rng)
	u.time0 = nn.NewLinear(p, "time_mlp.0", ch, E, true, rng)
	u.time2 = nn.NewLinear(p, "time_mlp.2", E, E, true, rng)
	u.classEmb = nn.NewEmbedding(p, "class_emb", cfg.Classes+1, E, rng)
	skipC := []int{ch}
	c, size := ch, cfg.Size
	for lvl, m := range cfg.Mult {
		for i := 0; i < cfg.Blocks; i++ {
			name := fmt.Sprintf("down.%d.res.%d", lvl, i)
			b := newResBlock(p, name, c, ch*m, E, g, rng)
			c = ch * m
			if slices.Contains(cfg.AttnRes, size) {
				b.attn = nn.NewAttentionBlock(p, fmt.Sprintf("down.%d.attn.%d", lvl, i), c, g, rng)
			}
			u.downs = append(u.downs, &stage{block: b, c: c, h: size})
			skipC = append(skipC, c)
		}
		if lvl < len(cfg.Mult)-1 {
			d := nn.NewConv2d(p, fmt.Sprintf("down.%d.down", lvl), c, c, 3, 2, 1, true, rng)
			size /= 2
			u.downs = append(u.downs, &stage{down: d, c: c, h: size})
			skipC = append(skipC, c)
		}
	}
	u.midRes = size
	u.mid0 = newResBlock(p, "mid_res0", c, c, E, g, rng)
	u.midAttn = nn.NewAttentionBlock(p, "mid_attn", c, g, rng)
	u.mid1 = newResBlock(p, "mid_res1", c, c, E, g, rng)
	for lvl := len(cfg.Mult) - 1; lvl >= 0; lvl-- {
		for i := 0; i <= cfg.Blocks; i++ {
			sc := skipC[len(skipC)-1]
			skipC = skipC[:len(skipC)-1]
			cout := ch * cfg.Mult[lvl]
			b := newResBlock(p, fmt.Sprintf("up.%d.res.%d", lvl, i), c+sc, cout, E, g, rng)
			c = cout
			if slices.Contains(cfg.AttnRes, size) {
				b.attn = nn.NewAttentionBlock(p, fmt.Sprintf("up.%d.attn.%d", lvl, i), c, g, rng)
			}
			st := &upStage{block: b, skipC: sc, c: c, h: size}
			if lvl > 0 && i == cfg.Blocks {
				st.upsample = &nn.Upsample2{}
				st.upConv = nn.NewConv2d(p, fmt.Sprintf("up.%d.up", lvl), c, c, 3, 1, 1, true, rng)
			}
			u.ups = append(u.ups, st)
		}
		if lvl > 0 {
			size *= 2
		}
	}
	u.outConv = nn.NewConv2d(p, "out_conv", c, cfg.InCh, 3, 1, 1, true, rng)
	u.outAct = &nn.SiLUConv2d{Norm: nn.NewGroupNorm(p, "out_norm", g, c), Conv: u.outConv}
	return u, nil
}

// Dim is the number of values per image, C*H*W.
func (u *UNet) Dim() int { return u.Cfg.InCh * u.Cfg.Size * u.Cfg.Size }

// Forward predicts eps for x (N, C, H, W) at timesteps t (N, in 1..T) with
// labels y (N; negative for the null class). The result is owned by the
// U-Net and overwritten by the next Forward.
func (u *UNet) Forward(x []float32, t []int, y []int) []float32 {
	n := len(y)
	if len(t) != n || len(x) != n*u.Dim() {
		panic(fmt.Sprintf("unet: x has length %d, t %d, y %d; want (N=%d, %d)", len(x), len(t), len(y), n, u.Dim()))
	}
	u.n = n
	// Embedding: time MLP of the sinusoidal embedding plus the class row.
	u.tf = u.tf[:0]
	for _, ti := range t {
		u.tf = append(u.tf, float64(ti))
	}
	u.labels = u.labels[:0]
	for _, yi := range y {
		if yi < 0 {
			yi = u.Cfg.Classes
		}
		if yi > u.Cfg.Classes {
			panic(fmt.Sprintf("unet: label %d out of range 0..%d", yi, u.Cfg.Classes-1))
		}
		u.labels = append(u.labels, yi)
	}
	u.temb = nn.TimestepEmbedding(u.temb, u.tf, u.Cfg.Ch)
	e := u.time2.Forward(u.timeAct.Forward(u.time0.Forward(u.temb, n)), n)
	u.emb = nn.AddInto(u.emb, e, u.classEmb.Forward(u.labels))
	embS := u.embAct.Forward(u.emb)

	size := u.Cfg.Size
	h, _, _ := u.convIn.Forward(x, n, size, size)
	u.skips = append(u.skips[:0], h)
	c := u.Cfg.Ch
	for _, st := range u.downs {
		if st.block != nil {
			h = st.block.forward(h, embS, n, size, size)
		} else {
			h, _, _ = st.down.Forward(h, n, size, size)
			size = st.h
		}
		c = st.c
		u.skips = append(u.skips, h)
	}
	h = u.mid0.forward(h, embS, n, size, size)
	h = u.midAttn.Forward(h, n, size, size)
	h = u.mid1.forward(h, embS, n, size, size)
	k := len(u.skips)
	for _, st := range u.ups {
		k--
		st.cat = nn.Concat(st.cat, h, u.skips[k], n, c, st.skipC, size*size)
		h = st.block.forward(st.cat, embS, n, size, size)
		c = st.c
		if st.upsample != nil {
			h = st.upsample.Forward(h, n, c, size, size)
			size *= 2
			h, _, _ = st.upConv.Forward(h, n, size, size)
		}
	}
	out, _, _ := u.outAct.Forward(h, n, size, size)
	return out
}

// Backward takes dL/deps (N, C, H, W) for the last Forward, accumulates the
// parameter gradients into P.G (unless P.NoGrad) and returns dL/dx, owned by
// the U-Net (nil with SkipInputGrad).
func (u *UNet) Backward(deps []float32) []float32 {
	n := u.n
	if len(deps) != n*u.Dim() {
		panic(fmt.Sprintf("unet: deps has length %d, want (N=%d, %d)", len(deps), n, u.Dim()))
	}
	u.dembS = nn.Grow(&u.dembS, n*u.embDim)
	clear(u.dembS)
	// dskips[k] accumulates the gradient that reaches skip k from the up path.
	for len(u.dskips) < len(u.skips) {
		u.dskips = append(u.dskips, nil)
	}
	dh := u.outAct.Backward(deps)
	size := u.Cfg.Size
	k := 0
	for i := len(u.ups) - 1; i >= 0; i-- {
		st := u.ups[i]
		if st.upsample != nil {
			dh = st.upsample.Backward(st.upConv.Backward(dh))
			size /= 2
		}
		dcat := st.block.backward(dh, u.dembS)
		cin := st.block.cin - st.skipC
		st.dh, st.dsk = nn.Split(st.dh, st.dsk, dcat, n, cin, st.skipC, size*size)
		u.dskips[k] = st.dsk
		k++
		dh = st.dh
	}
	// The up stages consumed the skips from the last one back, so walking
	// them in reverse collected dskips[j] for skips[j].
	dh = u.mid1.backward(dh, u.dembS)
	dh = u.midAttn.Backward(dh)
	dh = u.mid0.backward(dh, u.dembS)
	for i := len(u.downs) - 1; i >= 0; i-- {
		st := u.downs[i]
		// The output of stage i is skips[i+1]: add its skip gradient.
		u.dbuf = nn.AddInto(u.dbuf, dh, u.dskips[i+1])
		if st.block != nil {
			dh = st.block.backward(u.dbuf, u.dembS)
		} else {
			dh = st.down.Backward(u.dbuf)
		}
	}
	u.dbuf = nn.AddInto(u.dbuf, dh, u.dskips[0])
	u.convIn.SkipInputGrad = u.SkipInputGrad
	var dx []float32
	if d := u.convIn.Backward(u.dbuf); d != nil {
		u.dx = nn.Grow(&u.dx, len(deps))
		copy(u.dx, d)
		dx = u.dx
	}
	// Embedding backward: SiLU, then the class table and the time MLP.
	u.dEmb = nn.Grow(&u.dEmb, len(u.dembS))
	copy(u.dEmb, u.embAct.Backward(u.dembS))
	u.classEmb.Backward(u.dEmb)
	u.time0.Backward(u.timeAct.Backward(u.time2.Backward(u.dEmb)))
	return dx
}

// Eps implements diffusion.EpsModel: every item of x is at timestep s.T.
func (u *UNet) Eps(eps, x []float32, y []int, s diffusion.Step) error {
	if len(eps) != len(x) {
		panic(fmt.Sprintf("unet: eps has length %d, x %d", len(eps), len(x)))
	}
	t := make([]int, len(y))
	for i := range t {
		t[i] = s.T
	}
	copy(eps, u.Forward(x, t, y))
	return nil
}

var _ diffusion.EpsModel = (*UNet)(nil)
