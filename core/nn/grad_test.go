package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

func randn(rng *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * scale)
	}
	return x
}

func dot64(a, b []float32) float64 {
	var s float64
	for i, v := range a {
		s += float64(v) * float64(b[i])
	}
	return s
}

// fdVar is one tensor to check: x is perturbed in place, grad is the analytic
// gradient of the loss with respect to x.
type fdVar struct {
	name string
	x    []float32
	grad []float32
}

// fdCompare checks grad against central differences of loss at up to 150
// entries of x and returns a description of the worst disagreement, or ""
// when every entry satisfies |a - n| <= tol (|n| + 0.05 max|n|).
func fdCompare(loss func() float64, v fdVar, eps, tol float64, rng *rand.Rand) string {
	idx := make([]int, len(v.x))
	for i := range idx {
		idx[i] = i
	}
	if len(idx) > 150 {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		idx = idx[:150]
	}
	num := make([]float64, len(idx))
	scale := 0.0
	for j, i := range idx {
		x0 := v.x[i]
		xp := float32(float64(x0) + eps)
		xm := float32(float64(x0) - eps)
		v.x[i] = xp
		lp := loss()
		v.x[i] = xm
		lm := loss()
		v.x[i] = x0
		num[j] = (lp - lm) / (float64(xp) - float64(xm))
		scale = math.Max(scale, math.Abs(num[j]))
	}
	if scale == 0 {
		// Every numerical derivative vanished: the analytic ones must too.
		for _, i := range idx {
			if math.Abs(float64(v.grad[i])) > 1e-6 {
				return fmt.Sprintf("%s[%d]: analytic %g, numerical 0", v.name, i, v.grad[i])
			}
		}
		return ""
	}
	worst, wi := 0.0, -1
	for j, i := range idx {
		err := math.Abs(float64(v.grad[i])-num[j]) / (math.Abs(num[j]) + 0.05*scale)
		if err > worst {
			worst, wi = err, j
		}
	}
	if worst > tol {
		return fmt.Sprintf("%s[%d]: analytic %g, numerical %g (relative error %.3g > %.3g)", v.name, idx[wi], v.grad[idx[wi]], num[wi], worst, tol)
	}
	return ""
}

// checkLayer runs fwd, backpropagates a random dy through bwd and checks the
// input gradient and every parameter gradient in p against central
// differences of L = sum(dy * fwd(x)).
func checkLayer(t *testing.T, label string, p *Params, x []float32, fwd func() []float32, bwd func(dy []float32) []float32, eps, tol float64) {
	t.Helper()
	rng := newRNG(77)
	y := fwd()
	dy := randn(rng, len(y), 1)
	p.ZeroGrad()
	vars := []fdVar{}
	if dx := bwd(dy); x != nil && dx != nil {
		vars = append(vars, fdVar{"x", x, append([]float32(nil), dx...)})
	}
	g := append([]float32(nil), p.G...)
	for _, v := range p.Views() {
		if !v.Buffer {
			vars = append(vars, fdVar{v.Name, p.Data(v), g[v.Offset : v.Offset+v.Size]})
		}
	}
	loss := func() float64 { return dot64(fwd(), dy) }
	for _, v := range vars {
		if msg := fdCompare(loss, v, eps, tol, rng); msg != "" {
			t.Errorf("%s: %s", label, msg)
		}
	}
}

func TestGradCheckDetectsWrongGradient(t *testing.T) {
	// The checker must reject a gradient that is off by a few percent.
	rng := newRNG(1)
	p := NewParams()
	c := NewConv2d(p, "c", 2, 3, 3, 1, 1, true, rng)
	x := randn(rng, 2*2*5*5, 1)
	dy := randn(rng, 2*3*5*5, 1)
	c.Forward(x, 2, 5, 5)
	dx := append([]float32(nil), c.Backward(dy)...)
	loss := func() float64 { y, _, _ := c.Forward(x, 2, 5, 5); return dot64(y, dy) }
	if msg := fdCompare(loss, fdVar{"x", x, dx}, 1e-2, 1e-2, rng); msg != "" {
		t.Fatalf("correct gradient rejected: %s", msg)
	}
	for i := range dx {
		dx[i] *= 1.03
	}
	if msg := fdCompare(loss, fdVar{"x", x, dx}, 1e-2, 1e-2, rng); msg == "" {
		t.Fatal("gradient scaled by 1.03 accepted")
	}
	dx[7] += 0.5
	for i := range dx {
		dx[i] /= 1.03
	}
	if msg := fdCompare(loss, fdVar{"x", x, dx}, 1e-2, 1e-2, rng); msg == "" {
		t.Fatal("gradient with one wrong entry accepted")
	}
}

const (
	fdEps = 1e-2
	fdTol = 1e-2
)

func TestLinearGrad(t *testing.T) {
	rng := newRNG(2)
	p := NewParams()
	l := NewLinear(p, "fc", 7, 5, true, rng)
	x := randn(rng, 3*7, 1)
	checkLayer(t, "linear", p, x, func() []float32 { return l.Forward(x, 3) }, l.Backward, fdEps, fdTol)
}

func TestConv2dGrad(t *testing.T) {
	type cfg struct{ n, cin, cout, k, s, pad, h, w int }
	cfgs := []cfg{
		{2, 3, 4, 3, 1, 1, 6, 5},
		{2, 3, 4, 3, 2, 1, 7, 6},
		{2, 3, 4, 3, 2, 1, 6, 4}, // the stride-2 phase path
		{3, 4, 5, 1, 1, 0, 4, 4},
		{2, 2, 3, 5, 1, 2, 5, 6},
		{2, 2, 3, 2, 2, 0, 6, 6},
		{2, 2, 3, 4, 3, 2, 7, 8},
		{1, 2, 2, 3, 1, 0, 3, 3},
		{1, 16, 16, 3, 1, 1, 2, 8}, // Winograd where the kernel set has it
	}
	defer func(old int) { convChunkCols = old }(convChunkCols)
	for _, chunk := range []int{1, 40, 1 << 20} {
		convChunkCols = chunk
		for _, c := range cfgs {
			rng := newRNG(uint64(c.k*100 + c.s))
			p := NewParams()
			conv := NewConv2d(p, "conv", c.cin, c.cout, c.k, c.s, c.pad, true, rng)
			x := randn(rng, c.n*c.cin*c.h*c.w, 1)
			label := fmt.Sprintf("conv %+v chunk=%d", c, chunk)
			checkLayer(t, label, p, x, func() []float32 {
				y, _, _ := conv.Forward(x, c.n, c.h, c.w)
				return y
			}, conv.Backward, fdEps, fdTol)
		}
	}
}

func TestConv2dShapes(t *testing.T) {
	// Output sizes as torch.nn.Conv2d: floor((h + 2 pad - k)/s) + 1.
	for _, c := range []struct{ h, k, s, pad, want int }{
		{32, 3, 1, 1, 32}, {32, 3, 2, 1, 16}, {16, 3, 2, 1, 8}, {7, 3, 2, 1, 4}, {28, 5, 1, 0, 24}, {5, 4, 3, 2, 2},
	} {
		conv := &Conv2d{K: c.k, Stride: c.s, Pad: c.pad}
		if got := conv.OutSize(c.h); got != c.want {
			t.Errorf("OutSize(h=%d k=%d s=%d pad=%d) = %d, want %d", c.h, c.k, c.s, c.pad, got, c.want)
		}
	}
}

func TestGroupNormGrad(t *testing.T) {
	rng := newRNG(3)
	p := NewParams()
	g := NewGroupNorm(p, "gn", 2, 6)
	uniform(p.Data(g.Weight), 1.5, rng)
	uniform(p.Data(g.Bias), 1, rng)
	x := randn(rng, 2*6*3*3, 2)
	checkLayer(t, "groupnorm", p, x, func() []float32 { return g.Forward(x, 2, 3, 3) }, g.Backward, fdEps, fdTol)
}

func TestBatchNormGrad(t *testing.T) {
	for _, train := range []bool{true, false} {
		rng := newRNG(4)
		p := NewParams()
		b := NewBatchNorm(p, "bn", 3)
		b.Train = train
		uniform(p.Data(b.Weight), 1.5, rng)
		uniform(p.Data(b.Bias), 1, rng)
		copy(p.Data(b.RunningMean), []float32{0.3, -0.2, 0.1})
		copy(p.Data(b.RunningVar), []float32{1.5, 0.7, 2})
		x := randn(rng, 4*3*2*3, 1.5)
		checkLayer(t, fmt.Sprintf("batchnorm train=%v", train), p, x, func() []float32 { return b.Forward(x, 4, 2, 3) }, b.Backward, fdEps, fdTol)
	}
}

func TestBatchNormRunningStats(t *testing.T) {
	rng := newRNG(5)
	p := NewParams()
	b := NewBatchNorm(p, "bn", 2)
	x := randn(rng, 3*2*2*2, 1)
	b.Forward(x, 3, 2, 2)
	for c := 0; c < 2; c++ {
		var vals []float64
		for i := 0; i < 3; i++ {
			for j := 0; j < 4; j++ {
				vals = append(vals, float64(x[(i*2+c)*4+j]))
			}
		}
		var mean, ss float64
		for _, v := range vals {
			mean += v
		}
		mean /= float64(len(vals))
		for _, v := range vals {
			ss += (v - mean) * (v - mean)
		}
		unbiased := ss / float64(len(vals)-1)
		wantM, wantV := 0.1*mean, 0.9+0.1*unbiased
		if gotM := float64(p.Data(b.RunningMean)[c]); math.Abs(gotM-wantM) > 1e-6 {
			t.Errorf("running_mean[%d] = %g, want %g", c, gotM, wantM)
		}
		if gotV := float64(p.Data(b.RunningVar)[c]); math.Abs(gotV-wantV) > 1e-6 {
			t.Errorf("running_var[%d] = %g, want %g", c, gotV, wantV)
		}
	}
}

func TestActivationGrad(t *testing.T) {
	rng := newRNG(6)
	p := NewParams()
	x := randn(rng, 40, 2)
	var s SiLU
	checkLayer(t, "silu", p, x, func() []float32 { return s.Forward(x) }, s.Backward, fdEps, fdTol)
	// ReLU: keep inputs away from the kink at 0.
	for i, v := range x {
		if math.Abs(float64(v)) < 0.1 {
			x[i] = 0.5
		}
	}
	var r ReLU
	checkLayer(t, "relu", p, x, func() []float32 { return r.Forward(x) }, r.Backward, fdEps, fdTol)
}

// distinct returns n values in random order with gaps of 0.1, so that the
// maxima of pooling windows stay put under small perturbations.
func distinct(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i, j := range rng.Perm(n) {
		x[i] = float32(j)*0.1 - float32(n)*0.05
	}
	return x
}

func TestPoolGrad(t *testing.T) {
	rng := newRNG(7)
	p := NewParams()
	x := distinct(rng, 2*3*6*5)
	mp := NewMaxPool2()
	checkLayer(t, "maxpool2", p, x, func() []float32 { y, _, _ := mp.Forward(x, 2, 3, 6, 5); return y }, mp.Backward, fdEps, fdTol)
	mp3 := &MaxPool{K: 3, Stride: 2}
	checkLayer(t, "maxpool3/2", p, x, func() []float32 { y, _, _ := mp3.Forward(x, 2, 3, 6, 5); return y }, mp3.Backward, fdEps, fdTol)
	ap := &AvgPool{K: 2, Stride: 2}
	checkLayer(t, "avgpool2", p, x, func() []float32 { y, _, _ := ap.Forward(x, 2, 3, 6, 5); return y }, ap.Backward, fdEps, fdTol)
	ap3 := &AvgPool{K: 3, Stride: 1}
	checkLayer(t, "avgpool3/1", p, x, func() []float32 { y, _, _ := ap3.Forward(x, 2, 3, 6, 5); return y }, ap3.Backward, fdEps, fdTol)
	var up Upsample2
	checkLayer(t, "upsample2", p, x, func() []float32 { return up.Forward(x, 2, 3, 6, 5) }, up.Backward, fdEps, fdTol)
}

func TestPoolValues(t *testing.T) {
	x := []float32{1, 5, 2, 0, 3, 4, 8, 7, 9, 6, 1, 1, 0, 2, 3, 4} // (1, 1, 4, 4)
	mp := NewMaxPool2()
	y, ho, wo := mp.Forward(x, 1, 1, 4, 4)
	if ho != 2 || wo != 2 || fmt.Sprint(y) != "[5 8 9 4]" {
		t.Errorf("maxpool = %v (%dx%d), want [5 8 9 4]", y, ho, wo)
	}
	ap := &AvgPool{K: 2, Stride: 2}
	y, _, _ = ap.Forward(x, 1, 1, 4, 4)
	if fmt.Sprint(y) != "[3.25 4.25 4.25 2.25]" {
		t.Errorf("avgpool = %v, want [3.25 4.25 4.25 2.25]", y)
	}
	var up Upsample2
	y = up.Forward([]float32{1, 2, 3, 4}, 1, 1, 2, 2)
	if fmt.Sprint(y) != "[1 1 2 2 1 1 2 2 3 3 4 4 3 3 4 4]" {
		t.Errorf("upsample = %v", y)
	}
}

func TestAttentionGrad(t *testing.T) {
	rng := newRNG(8)
	p := NewParams()
	a := NewSelfAttention(p, "attn", 4, rng)
	x := randn(rng, 2*4*3*2, 1)
	checkLayer(t, "selfattention", p, x, func() []float32 { return a.Forward(x, 2, 3, 2) }, a.Backward, fdEps, fdTol)

	p2 := NewParams()
	b := NewAttentionBlock(p2, "attn", 4, 2, rng)
	uniform(p2.Data(b.Norm.Weight), 1.5, rng)
	uniform(p2.Data(b.Norm.Bias), 1, rng)
	checkLayer(t, "attentionblock", p2, x, func() []float32 { return b.Forward(x, 2, 3, 2) }, b.Backward, fdEps, fdTol)
}

func TestEmbeddingGrad(t *testing.T) {
	rng := newRNG(9)
	p := NewParams()
	e := NewEmbedding(p, "emb", 5, 3, rng)
	idx := []int{1, 4, 1, 0}
	checkLayer(t, "embedding", p, nil, func() []float32 { return e.Forward(idx) }, func(dy []float32) []float32 { e.Backward(dy); return nil }, fdEps, fdTol)
}

func TestConcatSplitGrad(t *testing.T) {
	rng := newRNG(10)
	a := randn(rng, 2*3*4, 1)
	b := randn(rng, 2*2*4, 1)
	var y []float32
	y = Concat(y, a, b, 2, 3, 2, 4)
	dy := randn(rng, len(y), 1)
	da, db := Split(nil, nil, dy, 2, 3, 2, 4)
	loss := func() float64 { y = Concat(y, a, b, 2, 3, 2, 4); return dot64(y, dy) }
	for _, v := range []fdVar{{"a", a, da}, {"b", b, db}} {
		if msg := fdCompare(loss, v, fdEps, fdTol, rng); msg != "" {
			t.Error(msg)
		}
	}
	if y[12] != b[0] || y[11] != a[11] || y[20] != a[12] || y[32] != b[8] {
		t.Errorf("concat layout wrong: %v", y)
	}
}

func TestLossGrad(t *testing.T) {
	rng := newRNG(11)
	n, k := 4, 5
	logits := randn(rng, n*k, 2)
	labels := []int{0, 3, 4, 3}
	for _, eps := range []float64{0, 0.1} {
		_, d := CrossEntropy(nil, logits, labels, k, eps)
		loss := func() float64 { l, _ := CrossEntropy(nil, logits, labels, k, eps); return l }
		if msg := fdCompare(loss, fdVar{"logits", logits, d}, 1e-3, fdTol, rng); msg != "" {
			t.Errorf("cross-entropy smoothing %g: %s", eps, msg)
		}
	}
	q := randn(rng, n*k, 2)
	_, dp, dq := KLDivergence(nil, nil, logits, q, n, k)
	kl := func() float64 { l, _, _ := KLDivergence(nil, nil, logits, q, n, k); return l }
	for _, v := range []fdVar{{"p", logits, dp}, {"q", q, dq}} {
		if msg := fdCompare(kl, v, 1e-3, fdTol, rng); msg != "" {
			t.Errorf("kl: %s", msg)
		}
	}
	if l, _, _ := KLDivergence(nil, nil, q, q, n, k); math.Abs(l) > 1e-12 {
		t.Errorf("KL(p||p) = %g", l)
	}
	target := randn(rng, 10, 1)
	y := randn(rng, 10, 1)
	_, dy := MSE(nil, y, target)
	mse := func() float64 { l, _ := MSE(nil, y, target); return l }
	if msg := fdCompare(mse, fdVar{"y", y, dy}, 1e-3, fdTol, rng); msg != "" {
		t.Errorf("mse: %s", msg)
	}
}

func TestStackGrad(t *testing.T) {
	// conv -> GN -> SiLU -> attention block -> upsample -> conv, through one
	// store: checks that the pieces compose and that G accumulates per view.
	rng := newRNG(12)
	p := NewParams()
	c1 := NewConv2d(p, "c1", 2, 4, 3, 2, 1, true, rng)
	gn := NewGroupNorm(p, "gn", 2, 4)
	var act SiLU
	at := NewAttentionBlock(p, "attn", 4, 2, rng)
	var up Upsample2
	c2 := NewConv2d(p, "c2", 4, 3, 3, 1, 1, false, rng)
	x := randn(rng, 2*2*6*6, 1)
	fwd := func() []float32 {
		h, ho, wo := c1.Forward(x, 2, 6, 6)
		h = act.Forward(gn.Forward(h, 2, ho, wo))
		h = at.Forward(h, 2, ho, wo)
		h = up.Forward(h, 2, 4, ho, wo)
		y, _, _ := c2.Forward(h, 2, 2*ho, 2*wo)
		return y
	}
	bwd := func(dy []float32) []float32 {
		d := c2.Backward(dy)
		d = up.Backward(d)
		d = at.Backward(d)
		d = gn.Backward(act.Backward(d))
		return c1.Backward(d)
	}
	checkLayer(t, "stack", p, x, fwd, bwd, fdEps, fdTol)
}

func TestNoGradLeavesG(t *testing.T) {
	rng := newRNG(13)
	p := NewParams()
	c := NewConv2d(p, "c", 2, 3, 3, 1, 1, true, rng)
	g := NewGroupNorm(p, "gn", 1, 3)
	x := randn(rng, 2*2*4*4, 1)
	y, _, _ := c.Forward(x, 2, 4, 4)
	y = g.Forward(y, 2, 4, 4)
	dy := randn(rng, len(y), 1)
	want := append([]float32(nil), c.Backward(g.Backward(dy))...)
	p.ZeroGrad()
	p.NoGrad = true
	got := c.Backward(g.Backward(dy))
	for i, v := range p.G {
		if v != 0 {
			t.Fatalf("G[%d] = %g with NoGrad", i, v)
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("dx[%d] = %g with NoGrad, %g without", i, got[i], want[i])
		}
	}
}

func TestTimestepEmbedding(t *testing.T) {
	ts := []float64{0, 1, 37, 999}
	dim := 8
	y := TimestepEmbedding(nil, ts, dim)
	for i, tv := range ts {
		for k := 0; k < dim/2; k++ {
			f := math.Pow(10000, -float64(k)/float64(dim/2))
			if got, want := float64(y[i*dim+k]), math.Sin(tv*f); math.Abs(got-want) > 1e-6 {
				t.Errorf("t=%g sin[%d] = %g, want %g", tv, k, got, want)
			}
			if got, want := float64(y[i*dim+dim/2+k]), math.Cos(tv*f); math.Abs(got-want) > 1e-6 {
				t.Errorf("t=%g cos[%d] = %g, want %g", tv, k, got, want)
			}
		}
	}
}

func TestParamsViews(t *testing.T) {
	rng := newRNG(14)
	p := NewParams()
	NewConv2d(p, "a", 3, 4, 3, 1, 1, true, rng)
	NewGroupNorm(p, "gn", 2, 4)
	NewBatchNorm(p, "bn", 4)
	NewLinear(p, "fc", 4, 2, true, rng)
	want := []struct {
		name    string
		size    int
		noDecay bool
		buffer  bool
	}{
		{"a.weight", 108, false, false}, {"a.bias", 4, true, false},
		{"gn.weight", 4, true, false}, {"gn.bias", 4, true, false},
		{"bn.weight", 4, true, false}, {"bn.bias", 4, true, false},
		{"bn.running_mean", 4, true, true}, {"bn.running_var", 4, true, true},
		{"fc.weight", 8, false, false}, {"fc.bias", 2, true, false},
	}
	vs := p.Views()
	if len(vs) != len(want) {
		t.Fatalf("%d views, want %d", len(vs), len(want))
	}
	off := 0
	for i, w := range want {
		v := vs[i]
		if v.Name != w.name || v.Size != w.size || v.NoDecay != w.noDecay || v.Buffer != w.buffer {
			t.Errorf("view %d = %+v, want %+v", i, v, w)
		}
		if !v.Buffer {
			if v.Offset != off {
				t.Errorf("%s at offset %d, want %d", v.Name, v.Offset, off)
			}
			off += v.Size
		}
		if l, ok := p.Lookup(w.name); !ok || l.Offset != v.Offset {
			t.Errorf("Lookup(%q) = %+v, %v", w.name, l, ok)
		}
	}
	if p.Len() != off || len(p.G) != off || len(p.B) != 8 {
		t.Errorf("Len %d, len(G) %d, len(B) %d; want %d, %d, 8", p.Len(), len(p.G), len(p.B), off, off)
	}
	// PyTorch's default bound for a conv weight is 1/sqrt(fan_in) = 1/sqrt(27).
	w, _ := p.Lookup("a.weight")
	var mx float64
	for _, v := range p.Data(w) {
		mx = math.Max(mx, math.Abs(float64(v)))
	}
	if b := 1 / math.Sqrt(27); mx > b || mx < 0.7*b {
		t.Errorf("max |a.weight| = %g, want within (0.7, 1] of %g", mx, b)
	}
	if _, ok := p.Lookup("nope"); ok {
		t.Error("Lookup of a missing name succeeded")
	}
}

// TestNormSiLUConv2dGrad checks SiLUConv2d with Norm (fused and not) and
// its BackwardAdd against central differences.
func TestNormSiLUConv2dGrad(t *testing.T) {
	for _, c := range []struct{ cout, h, w int }{{8, 4, 4}, {8, 3, 3}, {3, 4, 4}} {
		rng := newRNG(uint64(5 + c.h + c.cout))
		p := NewParams()
		g := NewGroupNorm(p, "gn", 2, 4)
		uniform(p.Data(g.Weight), 1.5, rng)
		uniform(p.Data(g.Bias), 1, rng)
		f := &SiLUConv2d{Norm: g, Conv: NewConv2d(p, "conv", 4, c.cout, 3, 1, 1, true, rng)}
		n := 2
		x := randn(rng, n*4*c.h*c.w, 2)
		fwd := func() []float32 {
			y, _, _ := f.Forward(x, n, c.h, c.w)
			return y
		}
		label := fmt.Sprintf("norm-silu-conv %+v fused=%v", c, f.fusable(c.h, c.w))
		checkLayer(t, label, p, x, fwd, f.Backward, fdEps, fdTol)
		// BackwardAdd with r = 0 is Backward.
		zero := make([]float32, len(x))
		checkLayer(t, label+" add", p, x, fwd, func(dy []float32) []float32 { return f.BackwardAdd(dy, zero) }, fdEps, fdTol)
	}
}
