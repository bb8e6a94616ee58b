package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// writeNpy writes a little-endian float32 .npy file (format version 1.0).
func writeNpy(path string, shape []int, data []float32) error {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", tuple)
	pad := 64 - (10+len(header)+1)%64
	if pad == 64 {
		pad = 0
	}
	header += strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&buf, binary.LittleEndian, uint16(len(header)))
	buf.WriteString(header)
	binary.Write(&buf, binary.LittleEndian, data)
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

var npyShape = regexp.MustCompile(`'shape': \(([0-9, ]*)\)`)

// readNpy reads a little-endian float32 .npy file written by numpy.
func readNpy(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("%s: not an npy file", path)
	}
	var hlen, start int
	switch b[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(b[8:10])), 10
	default:
		hlen, start = int(binary.LittleEndian.Uint32(b[8:12])), 12
	}
	header := string(b[start : start+hlen])
	if !strings.Contains(header, "'<f4'") || strings.Contains(header, "'fortran_order': True") {
		return nil, fmt.Errorf("%s: unsupported header %s", path, header)
	}
	m := npyShape.FindStringSubmatch(header)
	if m == nil {
		return nil, fmt.Errorf("%s: no shape in %s", path, header)
	}
	n := 1
	for _, f := range strings.Split(m[1], ",") {
		if f = strings.TrimSpace(f); f != "" {
			d, _ := strconv.Atoi(f)
			n *= d
		}
	}
	body := b[start+hlen:]
	if len(body) != 4*n {
		return nil, fmt.Errorf("%s: %d data bytes for %d elements", path, len(body), n)
	}
	out := make([]float32, n)
	binary.Read(bytes.NewReader(body), binary.LittleEndian, out)
	return out, nil
}

type npArray struct {
	shape []int
	data  []float32
}

// parityCase is one comparison with PyTorch: inputs go to testdata/parity.py,
// got holds this package's results under the names the script writes.
type parityCase struct {
	Name   string             `json:"name"`
	Op     string             `json:"op"`
	Attrs  map[string]float64 `json:"attrs"`
	Inputs []string           `json:"inputs"`
	Grads  []string           `json:"grads"`

	arrays map[string]npArray
	got    map[string][]float32
}

func (c *parityCase) input(name string, data []float32, grad bool, shape ...int) {
	if c.arrays == nil {
		c.arrays = map[string]npArray{}
	}
	c.arrays[name] = npArray{shape, append([]float32(nil), data...)}
	c.Inputs = append(c.Inputs, name)
	if grad {
		c.Grads = append(c.Grads, name)
	}
}

// params adds every trainable view of p as an input with a gradient, and its
// gradient as a result.
func (c *parityCase) params(p *Params) {
	for _, v := range p.Views() {
		if !v.Buffer {
			c.input(v.Name, p.Data(v), true, v.Shape...)
			c.got["d"+v.Name] = append([]float32(nil), p.Grad(v)...)
		}
	}
}

// requireTorch skips (or fails under CI) when PyTorch is missing.
func requireTorch(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no subprocesses on " + runtime.GOOS + ": the PyTorch parity test runs on the native targets")
	}
	out, err := exec.Command("/usr/bin/python3", "-c", "import torch, numpy").CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("PyTorch not usable from /usr/bin/python3 (%v: %s); install it with `apt-get install -y python3-torch`", err, strings.TrimSpace(string(out)))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// layerCase runs a 4-D layer with random dy, records y, dx and the parameter
// gradients, and describes the same computation for PyTorch.
func layerCase(name, op string, attrs map[string]float64, p *Params, x []float32, xShape []int, fwd func() []float32, bwd func([]float32) []float32, seed uint64) *parityCase {
	rng := newRNG(seed)
	c := &parityCase{Name: name, Op: op, Attrs: attrs, got: map[string][]float32{}}
	c.input("x", x, true, xShape...)
	y := fwd()
	c.got["y"] = append([]float32(nil), y...)
	dy := randn(rng, len(y), 1)
	p.ZeroGrad()
	c.got["dx"] = append([]float32(nil), bwd(dy)...)
	c.params(p)
	c.input("dy", dy, false, len(dy))
	return c
}

func parityCases() []*parityCase {
	var cases []*parityCase
	type convCfg struct {
		n, cin, cout, k, s, pad, h, w int
		bias                          bool
	}
	for i, cf := range []convCfg{
		{2, 3, 8, 3, 1, 1, 9, 9, true},
		{2, 4, 6, 3, 2, 1, 9, 8, true},
		{3, 5, 7, 1, 1, 0, 5, 5, true},
		{2, 3, 4, 5, 1, 2, 7, 7, false},
		{2, 3, 4, 4, 3, 2, 10, 9, true},
		{4, 16, 32, 3, 1, 1, 8, 8, true},
		{2, 32, 64, 3, 2, 1, 16, 16, true},
	} {
		rng := newRNG(uint64(100 + i))
		p := NewParams()
		conv := NewConv2d(p, "conv", cf.cin, cf.cout, cf.k, cf.s, cf.pad, cf.bias, rng)
		x := randn(rng, cf.n*cf.cin*cf.h*cf.w, 1)
		c := layerCase(fmt.Sprintf("conv%d", i), "conv", map[string]float64{"stride": float64(cf.s), "pad": float64(cf.pad)}, p, x, []int{cf.n, cf.cin, cf.h, cf.w},
			func() []float32 { y, _, _ := conv.Forward(x, cf.n, cf.h, cf.w); return y }, conv.Backward, uint64(i))
		renameParams(c, "conv.")
		cases = append(cases, c)
	}
	{
		rng := newRNG(200)
		p := NewParams()
		l := NewLinear(p, "fc", 12, 7, true, rng)
		x := randn(rng, 5*12, 1)
		c := layerCase("linear", "linear", nil, p, x, []int{5, 12}, func() []float32 { return l.Forward(x, 5) }, l.Backward, 200)
		renameParams(c, "fc.")
		cases = append(cases, c)
	}
	{
		rng := newRNG(201)
		p := NewParams()
		g := NewGroupNorm(p, "gn", 4, 8)
		uniform(p.Data(g.Weight), 1.5, rng)
		uniform(p.Data(g.Bias), 1, rng)
		x := randn(rng, 3*8*5*6, 2)
		for i := range x {
			x[i] += 0.5
		}
		c := layerCase("groupnorm", "groupnorm", map[string]float64{"groups": 4}, p, x, []int{3, 8, 5, 6}, func() []float32 { return g.Forward(x, 3, 5, 6) }, g.Backward, 201)
		renameParams(c, "gn.")
		cases = append(cases, c)
	}
	for _, train := range []bool{true, false} {
		rng := newRNG(202)
		p := NewParams()
		b := NewBatchNorm(p, "bn", 6)
		b.Train = train
		uniform(p.Data(b.Weight), 1.5, rng)
		uniform(p.Data(b.Bias), 1, rng)
		rm0 := randn(rng, 6, 0.5)
		rv0 := make([]float32, 6)
		for i := range rv0 {
			rv0[i] = 0.5 + rng.Float32()
		}
		copy(p.Data(b.RunningMean), rm0)
		copy(p.Data(b.RunningVar), rv0)
		x := randn(rng, 4*6*3*5, 1.5)
		name := fmt.Sprintf("batchnorm_train%v", train)
		var trainAttr float64
		if train {
			trainAttr = 1
		}
		c := layerCase(name, "batchnorm", map[string]float64{"train": trainAttr}, p, x, []int{4, 6, 3, 5}, func() []float32 { return b.Forward(x, 4, 3, 5) }, b.Backward, 202)
		renameParams(c, "bn.")
		c.input("running_mean", rm0, false, 6)
		c.input("running_var", rv0, false, 6)
		c.got["running_mean"] = append([]float32(nil), p.Data(b.RunningMean)...)
		c.got["running_var"] = append([]float32(nil), p.Data(b.RunningVar)...)
		cases = append(cases, c)
	}
	{
		rng := newRNG(203)
		p := NewParams()
		a := NewSelfAttention(p, "attn", 8, rng)
		x := randn(rng, 2*8*4*4, 1)
		cases = append(cases, layerCase("selfattention", "selfattention", nil, p, x, []int{2, 8, 4, 4}, func() []float32 { return a.Forward(x, 2, 4, 4) }, a.Backward, 203))
	}
	{
		rng := newRNG(204)
		p := NewParams()
		a := NewAttentionBlock(p, "attn", 16, 8, rng)
		uniform(p.Data(a.Norm.Weight), 1.5, rng)
		uniform(p.Data(a.Norm.Bias), 1, rng)
		x := randn(rng, 2*16*8*8, 1)
		cases = append(cases, layerCase("attention", "attention", map[string]float64{"groups": 8}, p, x, []int{2, 16, 8, 8}, func() []float32 { return a.Forward(x, 2, 8, 8) }, a.Backward, 204))
	}
	{
		// conv -> GN -> SiLU -> attention block -> upsample -> strided conv.
		rng := newRNG(205)
		p := NewParams()
		conv := NewConv2d(p, "conv", 3, 16, 3, 1, 1, true, rng)
		gn := NewGroupNorm(p, "gn", 4, 16)
		uniform(p.Data(gn.Weight), 1.5, rng)
		uniform(p.Data(gn.Bias), 1, rng)
		var act SiLU
		at := NewAttentionBlock(p, "attn", 16, 4, rng)
		var up Upsample2
		out := NewConv2d(p, "out", 16, 5, 3, 2, 1, true, rng)
		x := randn(rng, 2*3*8*8, 1)
		fwd := func() []float32 {
			h, _, _ := conv.Forward(x, 2, 8, 8)
			h = act.Forward(gn.Forward(h, 2, 8, 8))
			h = at.Forward(h, 2, 8, 8)
			h = up.Forward(h, 2, 16, 8, 8)
			y, _, _ := out.Forward(h, 2, 16, 16)
			return y
		}
		bwd := func(dy []float32) []float32 {
			d := up.Backward(out.Backward(dy))
			d = at.Backward(d)
			return conv.Backward(gn.Backward(act.Backward(d)))
		}
		cases = append(cases, layerCase("stack", "stack", map[string]float64{"groups": 4}, p, x, []int{2, 3, 8, 8}, fwd, bwd, 205))
	}
	{
		rng := newRNG(206)
		p := NewParams()
		x := randn(rng, 2*3*6*7, 2)
		var s SiLU
		cases = append(cases, layerCase("silu", "silu", nil, p, x, []int{2, 3, 6, 7}, func() []float32 { return s.Forward(x) }, s.Backward, 206))
		var r ReLU
		cases = append(cases, layerCase("relu", "relu", nil, p, x, []int{2, 3, 6, 7}, func() []float32 { return r.Forward(x) }, r.Backward, 207))
		mp := &MaxPool{K: 2, Stride: 2}
		cases = append(cases, layerCase("maxpool", "maxpool", map[string]float64{"k": 2, "stride": 2}, p, x, []int{2, 3, 6, 7}, func() []float32 { y, _, _ := mp.Forward(x, 2, 3, 6, 7); return y }, mp.Backward, 208))
		ap := &AvgPool{K: 3, Stride: 2}
		cases = append(cases, layerCase("avgpool", "avgpool", map[string]float64{"k": 3, "stride": 2}, p, x, []int{2, 3, 6, 7}, func() []float32 { y, _, _ := ap.Forward(x, 2, 3, 6, 7); return y }, ap.Backward, 209))
		var up Upsample2
		cases = append(cases, layerCase("upsample", "upsample", nil, p, x, []int{2, 3, 6, 7}, func() []float32 { return up.Forward(x, 2, 3, 6, 7) }, up.Backward, 210))
	}
	{
		rng := newRNG(211)
		n, k := 6, 10
		logits := randn(rng, n*k, 3)
		labels := []int{0, 9, 3, 3, 7, 1}
		lab := make([]float32, n)
		for i, v := range labels {
			lab[i] = float32(v)
		}
		for _, eps := range []float64{0, 0.1} {
			c := &parityCase{Name: fmt.Sprintf("ce%g", eps), Op: "ce", Attrs: map[string]float64{"smoothing": eps}, got: map[string][]float32{}}
			c.input("logits", logits, true, n, k)
			c.input("labels", lab, false, n)
			l, d := CrossEntropy(nil, logits, labels, k, eps)
			c.got["y"] = []float32{float32(l)}
			c.got["dlogits"] = d
			cases = append(cases, c)
		}
		q := randn(rng, n*k, 3)
		c := &parityCase{Name: "kl", Op: "kl", got: map[string][]float32{}}
		c.input("p", logits, true, n, k)
		c.input("q", q, true, n, k)
		l, dp, dq := KLDivergence(nil, nil, logits, q, n, k)
		c.got["y"], c.got["dp"], c.got["dq"] = []float32{float32(l)}, dp, dq
		cases = append(cases, c)
		c = &parityCase{Name: "mse", Op: "mse", got: map[string][]float32{}}
		target := randn(rng, n*k, 1)
		c.input("y", logits, true, n, k)
		c.input("target", target, false, n, k)
		lm, dyv := MSE(nil, logits, target)
		c.got["y"], c.got["dy"] = []float32{float32(lm)}, dyv
		cases = append(cases, c)
	}
	{
		ts := []float64{0, 1, 37.5, 250, 999}
		t32 := make([]float32, len(ts))
		for i, v := range ts {
			t32[i] = float32(v)
		}
		c := &parityCase{Name: "temb", Op: "temb", Attrs: map[string]float64{"dim": 32}, got: map[string][]float32{}}
		c.input("t", t32, false, len(ts))
		c.got["y"] = TimestepEmbedding(nil, ts, 32)
		cases = append(cases, c)
	}
	return cases
}

// renameParams strips a layer prefix from parameter inputs ("conv.weight" ->
// "weight") for ops that take bare names.
func renameParams(c *parityCase, prefix string) {
	for i, in := range c.Inputs {
		if strings.HasPrefix(in, prefix) {
			short := strings.TrimPrefix(in, prefix)
			c.Inputs[i] = short
			c.arrays[short] = c.arrays[in]
			delete(c.arrays, in)
			c.got["d"+short] = c.got["d"+in]
			delete(c.got, "d"+in)
		}
	}
	for i, g := range c.Grads {
		c.Grads[i] = strings.TrimPrefix(g, prefix)
	}
}

func TestParityWithPyTorch(t *testing.T) {
	requireTorch(t)
	dir := t.TempDir()
	cases := parityCases()
	for _, c := range cases {
		for name, a := range c.arrays {
			if err := writeNpy(filepath.Join(dir, c.Name+"."+name+".npy"), a.shape, a.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	spec, _ := json.Marshal(cases)
	if err := os.WriteFile(filepath.Join(dir, "spec.json"), spec, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "testdata/parity.py", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("parity.py: %v\n%s", err, out)
	}
	// Observed: at most 5e-7 of the largest reference magnitude (float32
	// sums in a different order); 1e-5 leaves room for other BLAS paths.
	const tol = 1e-5
	for _, c := range cases {
		for name, got := range c.got {
			want, err := readNpy(filepath.Join(dir, c.Name+".out."+name+".npy"))
			if err != nil {
				t.Errorf("%s: %v", c.Name, err)
				continue
			}
			if len(want) != len(got) {
				t.Errorf("%s.%s: length %d, PyTorch %d", c.Name, name, len(got), len(want))
				continue
			}
			var scale, diff float64
			for i := range want {
				scale = math.Max(scale, math.Abs(float64(want[i])))
				diff = math.Max(diff, math.Abs(float64(got[i])-float64(want[i])))
			}
			rel := diff / math.Max(scale, 1e-30)
			t.Logf("%-22s %-18s max|diff| %.3g  max|ref| %.3g  relative %.3g", c.Name, name, diff, scale, rel)
			if rel > tol || math.IsNaN(rel) {
				t.Errorf("%s.%s: max|diff| %g is %.3g of max|ref| %g (tolerance %g)", c.Name, name, diff, rel, scale, tol)
			}
		}
	}
}
