package classify

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/core/diffusion"
	"github.com/cdp-project/cdp/core/guide"
	"github.com/cdp-project/cdp/core/robust"
)

var (
	_ robust.Classifier = (*Net)(nil)
	_ guide.FeatureNet  = (*Features)(nil)
)

func TestParameterCounts(t *testing.T) {
	for _, c := range []struct {
		name string
		size int
		want int
	}{
		// conv 4*1*25+4, conv 10*4*25+10, fc 160*100+100, fc 100*10+10
		{"mnist-net", 28, 104 + 1010 + 16100 + 1010},
		{"mnist-net", 32, 104 + 1010 + 250*100 + 100 + 1010},
		// conv 32*25+32, conv 64*32*25+64, fc 3136*1024+1024, fc 1024*10+10
		{"cnn-small", 28, 832 + 51264 + 3136*1024 + 1024 + 10250},
	} {
		cfg, err := Preset(c.name, c.size)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := New(cfg, rand.New(rand.NewPCG(1, 1)))
		if m.P.Len() != c.want {
			t.Errorf("%s at %d: %d parameters, want %d", c.name, c.size, m.P.Len(), c.want)
		}
	}
	if _, err := Preset("resnet-huge", 28); err == nil {
		t.Error("unknown model accepted")
	}
	if _, err := Preset("mnist-net", 8); err == nil {
		t.Error("mnist-net on 8x8 inputs accepted")
	}
}

func TestBackwardFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	cfg := Config{Name: "t", InCh: 2, Size: 12, Convs: []ConvSpec{{3, 3, 1}, {4, 3, 0}}, Hidden: []int{7, 5}, Classes: 4}
	m, err := New(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	n := 3
	x := make([]float32, n*m.Dim())
	for i := range x {
		x[i] = rng.Float32()
	}
	rl := make([]float32, n*cfg.Classes)
	rf := make([]float32, n*m.FeatureDim())
	for i := range rl {
		rl[i] = float32(rng.NormFloat64())
	}
	for i := range rf {
		rf[i] = float32(rng.NormFloat64())
	}
	dot := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	logitLoss := func() float64 { return dot(m.Forward(x, n), rl) }
	featLoss := func() float64 { h, _ := m.Features().Features(x, n); return dot(h, rf) }

	m.P.ZeroGrad()
	logitLoss()
	dx := append([]float32(nil), m.Backward(rl)...)
	g := append([]float32(nil), m.P.G...)
	logitLoss()
	dxOnly := append([]float32(nil), m.InputGrad(rl)...)
	for i := range m.P.G {
		if m.P.G[i] != g[i] {
			t.Fatal("InputGrad changed the parameter gradients")
		}
	}
	featLoss()
	dxFeat := append([]float32(nil), m.Features().InputGrad(rf)...)

	for k := 0; k < 20; k++ {
		i := rng.IntN(len(x))
		checkFD(t, fmt.Sprintf("dx[%d]", i), &x[i], float64(dx[i]), logitLoss)
		checkFD(t, fmt.Sprintf("dx[%d] (InputGrad)", i), &x[i], float64(dxOnly[i]), logitLoss)
		checkFD(t, fmt.Sprintf("dx[%d] (features)", i), &x[i], float64(dxFeat[i]), featLoss)
	}
	for _, v := range m.P.Views() {
		j := v.Offset + rng.IntN(v.Size)
		checkFD(t, "d"+v.Name, &m.P.W[j], float64(g[j]), logitLoss)
	}
}

var (
	_ guide.FeatureNet    = (*FeatureView)(nil)
	_ guide.ClassifierNet = (*LogitView)(nil)
)

// TestViewsMatchDirectUse checks that the views crop and rescale: a diffusion
// image whose centre holds 2*x01 - 1 gives the same features and logits as
// x01 given to the net directly, and the gradients agree (halved, zero on
// the margin).
// checkFD compares analytic with the central difference (step 1e-3) of loss
// in *v, to a relative tolerance of 1e-2.
func checkFD(t *testing.T, what string, v *float32, analytic float64, loss func() float64) {
	t.Helper()
	const h = 1e-3
	old := *v
	*v = old + h
	lp := loss()
	*v = old - h
	lm := loss()
	*v = old
	fd := (lp - lm) / (2 * h)
	if math.Abs(fd-analytic) > 1e-2*math.Max(1, math.Abs(fd)) {
		t.Errorf("%s: backward %.6g, finite difference %.6g", what, analytic, fd)
	}
}

func TestViewsMatchDirectUse(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	cfg, _ := Preset("mnist-net", 28)
	m, _ := New(cfg, rng)
	n := 2
	x01 := make([]float32, n*28*28)
	for i := range x01 {
		x01[i] = rng.Float32()
	}
	big := make([]float32, n*32*32)
	for i := range big {
		big[i] = 1e3 // the margin must be ignored
	}
	for k := 0; k < n; k++ {
		for r := 0; r < 28; r++ {
			for c := 0; c < 28; c++ {
				big[k*1024+(r+2)*32+c+2] = 2*x01[k*784+r*28+c] - 1
			}
		}
	}
	fv, err := m.FeatureView(32)
	if err != nil {
		t.Fatal(err)
	}
	lv, _ := m.LogitView(32)
	hv, _ := fv.Features(big, n)
	hv = append([]float32(nil), hv...)
	hd, d := m.Features().Features(x01, n)
	for i := range hd {
		if math.Abs(float64(hv[i]-hd[i])) > 1e-5 {
			t.Fatalf("feature %d: view %v, direct %v", i, hv[i], hd[i])
		}
	}
	dh := make([]float32, n*d)
	for i := range dh {
		dh[i] = float32(rng.NormFloat64())
	}
	gv := append([]float32(nil), fv.InputGrad(dh)...)
	m.Features().Features(x01, n)
	gd := m.Features().InputGrad(dh)
	for k := 0; k < n; k++ {
		for r := 0; r < 32; r++ {
			for c := 0; c < 32; c++ {
				want := float32(0)
				if r >= 2 && r < 30 && c >= 2 && c < 30 {
					want = 0.5 * gd[k*784+(r-2)*28+c-2]
				}
				if got := gv[k*1024+r*32+c]; math.Abs(float64(got-want)) > 1e-6 {
					t.Fatalf("gradient at image %d (%d, %d): view %v, want %v", k, r, c, got, want)
				}
			}
		}
	}
	lg, K := lv.Logits(big, n, diffusion.Step{})
	if K != 10 || len(lg) != n*10 {
		t.Fatalf("logits: K %d, %d values", K, len(lg))
	}
	if _, err := m.FeatureView(31); err == nil {
		t.Error("a 31x31 view of a 28x28 net was accepted")
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	cfg, _ := Preset("mnist-net", 28)
	m, _ := New(cfg, rand.New(rand.NewPCG(8, 8)))
	c, err := m.Checkpoint(m.P.W, map[string]any{"note": "test"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(c)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.P.W {
		if back.P.W[i] != m.P.W[i] {
			t.Fatalf("weight %d differs after the round trip", i)
		}
	}
	c.Arch = "unet"
	if _, err := Load(c); err == nil {
		t.Error("a unet checkpoint loaded as a classifier")
	}
}
