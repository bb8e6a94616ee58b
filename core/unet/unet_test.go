package unet

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cdp-project/cdp/core/npy"
	"github.com/cdp-project/cdp/simd"
)

func TestUNetSmallParameterCount(t *testing.T) {
	cfg, err := Preset("unet-small")
	if err != nil {
		t.Fatal(err)
	}
	u, err := New(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.P.Len(); got != 1540737 {
		t.Errorf("unet-small has %d parameters, MODELS.md says 1,540,737", got)
	}
}

func TestUNetTinyBudget(t *testing.T) {
	cfg, _ := Preset("unet-tiny")
	if f := ForwardFLOPs(cfg); f > 20e6 {
		t.Errorf("unet-tiny forward costs %.1f MFLOP per image, budget 20", f/1e6)
	}
	small, _ := Preset("unet-small")
	if f := ForwardFLOPs(small); math.Abs(f-0.71e9)/0.71e9 > 0.03 {
		t.Errorf("unet-small forward costs %.3f GFLOP per image, MODELS.md says about 0.71", f/1e9)
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := Preset("unet-huge"); err == nil {
		t.Error("unknown preset accepted")
	}
	bad := Config{InCh: 1, Size: 30, Ch: 8, Mult: []int{1, 2, 2}, Blocks: 1, Groups: 4, Classes: 10}
	if _, err := New(bad, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("size 30 with 3 levels accepted")
	}
}

// smallConfig has every kind of module, attention inside the levels included,
// at a size where finite differences are cheap.
func smallConfig() Config {
	return Config{Name: "test", InCh: 1, Size: 8, Ch: 8, Mult: []int{1, 2}, Blocks: 1, AttnRes: []int{4}, Groups: 4, Classes: 3}
}

// lossOf returns sum_i r_i * eps_i in float64.
func lossOf(u *UNet, x []float32, ts, y []int, r []float32) float64 {
	out := u.Forward(x, ts, y)
	var s float64
	for i, v := range out {
		s += float64(v) * float64(r[i])
	}
	return s
}

func TestUNetBackwardFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	u, err := New(smallConfig(), rng)
	if err != nil {
		t.Fatal(err)
	}
	n := 2
	x := make([]float32, n*u.Dim())
	r := make([]float32, len(x))
	for i := range x {
		x[i] = float32(rng.NormFloat64())
		r[i] = float32(rng.NormFloat64())
	}
	ts, y := []int{10, 700}, []int{1, -1}
	u.P.ZeroGrad()
	lossOf(u, x, ts, y, r)
	dx := append([]float32(nil), u.Backward(r)...)
	g := append([]float32(nil), u.P.G...)

	check := func(what string, v *float32, analytic float64) {
		t.Helper()
		const h = 1e-2
		old := *v
		*v = old + h
		lp := lossOf(u, x, ts, y, r)
		*v = old - h
		lm := lossOf(u, x, ts, y, r)
		*v = old
		fd := (lp - lm) / (2 * h)
		if math.Abs(fd-analytic) > 2e-2*math.Max(1, math.Abs(fd)) {
			t.Errorf("%s: backward %.5g, finite difference %.5g", what, analytic, fd)
		}
	}
	for k := 0; k < 12; k++ {
		i := rng.IntN(len(x))
		check(fmt.Sprintf("dx[%d]", i), &x[i], float64(dx[i]))
	}
	for _, v := range u.P.Views() {
		if v.Buffer {
			continue
		}
		j := v.Offset + rng.IntN(v.Size)
		check(fmt.Sprintf("d%s[%d]", v.Name, j-v.Offset), &u.P.W[j], float64(g[j]))
	}
}

func TestUNetThreadsBitIdentical(t *testing.T) {
	defer simd.SetThreads(0)
	run := func(threads int) ([]float32, []float32, []float32) {
		simd.SetThreads(threads)
		u, x := tinyNet(rand.New(rand.NewPCG(5, 6)), 3)
		out := append([]float32(nil), u.Forward(x, []int{1, 500, 1000}, []int{0, 9, -1})...)
		dx := append([]float32(nil), u.Backward(out)...)
		return out, dx, append([]float32(nil), u.P.G...)
	}
	o1, d1, g1 := run(1)
	o2, d2, g2 := run(2)
	for _, pair := range [][2][]float32{{o1, o2}, {d1, d2}, {g1, g2}} {
		for i := range pair[0] {
			if math.Float32bits(pair[0][i]) != math.Float32bits(pair[1][i]) {
				t.Fatalf("threads 1 and 2 differ at %d: %v vs %v", i, pair[0][i], pair[1][i])
			}
		}
	}
}

// tinyNet returns a unet-tiny initialised from rng and n standard normal
// images drawn from it after the weights.
func tinyNet(rng *rand.Rand, n int) (*UNet, []float32) {
	cfg, _ := Preset("unet-tiny")
	u, _ := New(cfg, rng)
	x := make([]float32, n*u.Dim())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return u, x
}

// TestUNetSkipInputGrad: with SkipInputGrad, Backward returns nil and
// accumulates the same parameter gradients, bit for bit, as without; the
// flag can be turned off again.
func TestUNetSkipInputGrad(t *testing.T) {
	u, x := tinyNet(rand.New(rand.NewPCG(7, 8)), 2)
	step := func(skip bool) ([]float32, []float32) {
		u.SkipInputGrad = skip
		u.P.ZeroGrad()
		out := u.Forward(x, []int{3, 700}, []int{2, -1})
		dx := u.Backward(append([]float32(nil), out...))
		return dx, append([]float32(nil), u.P.G...)
	}
	dx1, g1 := step(false)
	dx2, g2 := step(true)
	dx3, _ := step(false)
	if dx1 == nil || dx3 == nil || dx2 != nil {
		t.Fatalf("Backward returned dx of length %d, %d, %d for SkipInputGrad false, true, false", len(dx1), len(dx2), len(dx3))
	}
	for i := range g1 {
		if math.Float32bits(g1[i]) != math.Float32bits(g2[i]) {
			t.Fatalf("parameter gradient %d: %v with the input gradient, %v without", i, g1[i], g2[i])
		}
	}
}

// torch finds /usr/bin/python3 with torch, or fails in CI and skips elsewhere.
func torch(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "js" {
		t.Skip("no subprocesses under js/wasm; the native run checks PyTorch parity")
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch, numpy").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PyTorch parity needs python3-torch (apt-get install -y python3-torch): %v", err)
		}
		t.Skipf("PyTorch not available (apt-get install -y python3-torch): %v", err)
	}
	return py
}

func writeNPZ(t *testing.T, path string, names []string, arrays []*npy.Array) {
	t.Helper()
	var buf bytes.Buffer
	if err := npy.WriteNPZ(&buf, names, arrays); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUNetSmallMatchesPyTorch runs unet-small forward and backward on the
// same weights and inputs in cdp and in PyTorch (testdata/unet.py).
// Tolerance: outputs within 1e-4 of the output scale, gradients within 1e-3
// relative (L2) per tensor: float32 sums in a different order.
func TestUNetSmallMatchesPyTorch(t *testing.T) {
	py := torch(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	cfg, _ := Preset("unet-small")
	u, _ := New(cfg, rng)
	var names []string
	var arrays []*npy.Array
	for _, v := range u.P.Views() {
		names = append(names, v.Name)
		arrays = append(arrays, npy.NewFloat32(v.Shape, u.P.Data(v)))
	}
	writeNPZ(t, filepath.Join(dir, "weights.npz"), names, arrays)
	n := 3
	x := make([]float32, n*u.Dim())
	eps := make([]float32, len(x))
	for i := range x {
		x[i] = float32(rng.NormFloat64())
		eps[i] = float32(rng.NormFloat64())
	}
	ts, y := []int{1, 250, 999}, []int{3, 7, -1}
	ys := []int64{3, 7, int64(cfg.Classes)} // the null class is the last row
	writeNPZ(t, filepath.Join(dir, "inputs.npz"), []string{"x", "eps", "t", "y"}, []*npy.Array{
		npy.NewFloat32([]int{n, 1, 32, 32}, x), npy.NewFloat32([]int{n, 1, 32, 32}, eps),
		npy.NewInt64([]int{n}, []int64{1, 250, 999}), npy.NewInt64([]int{n}, ys),
	})
	cmd := exec.Command(py, "testdata/unet.py", "parity", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("unet.py parity: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "torch_out.npz"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := npy.ReadNPZ(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) []float32 {
		a, ok := ref.Get(name)
		if !ok {
			t.Fatalf("torch_out.npz lacks %s", name)
		}
		v, err := a.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	u.P.ZeroGrad()
	out := u.Forward(x, ts, y)
	d := make([]float32, len(out))
	for i := range out {
		d[i] = 2 * (out[i] - eps[i]) / float32(len(out)) // d mse / d out
	}
	if e := relErr(out, get("out")); e > 1e-4 {
		t.Errorf("forward differs from PyTorch: relative L2 error %.2g", e)
	}
	dx := u.Backward(d)
	if e := relErr(dx, get("dx")); e > 1e-3 {
		t.Errorf("dL/dx differs from PyTorch: relative L2 error %.2g", e)
	}
	worst, worstName := 0.0, ""
	for _, v := range u.P.Views() {
		if e := relErr(u.P.Grad(v), get("grad/"+v.Name)); e > worst {
			worst, worstName = e, v.Name
		}
	}
	if worst > 1e-3 {
		t.Errorf("parameter gradient %s differs from PyTorch: relative L2 error %.2g", worstName, worst)
	}
	t.Logf("worst parameter-gradient relative error %.2g (%s)", worst, worstName)
}

func relErr(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(num / math.Max(den, 1e-30))
}
