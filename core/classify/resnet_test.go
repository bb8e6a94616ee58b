package classify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cdp-project/cdp/core/ckpt"
	"github.com/cdp-project/cdp/core/nn"
)

func TestResNetSmallShape(t *testing.T) {
	cfg, err := Preset("resnet-small", 28)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	// stem 1*16*9 + bn 32; layer1.0 2*(16*16*9 + 32); layer2.0 16*32*9 + 64
	// + 32*32*9 + 64 + shortcut 16*32 + 64; layer3.0 32*64*9 + 128 + 64*64*9
	// + 128 + 32*64 + 128; fc1 64*128 + 128; fc2 128*10 + 10.
	want := 144 + 32 + 2*(2304+32) + (4608 + 64 + 9216 + 64 + 512 + 64) + (18432 + 128 + 36864 + 128 + 2048 + 128) + 8320 + 1290
	if m.P.Len() != want {
		t.Errorf("resnet-small: %d parameters, want %d", m.P.Len(), want)
	}
	if len(m.P.B) != 2*(16+2*16+3*32+3*64) {
		t.Errorf("resnet-small: %d buffer values, want %d", len(m.P.B), 2*(16+2*16+3*32+3*64))
	}
	if m.FeatureDim() != 128 || m.Training() {
		t.Errorf("feature dim %d, training %v; want 128, false", m.FeatureDim(), m.Training())
	}
	for _, name := range []string{"conv1.weight", "bn1.running_var", "layer2.0.shortcut.0.weight", "layer3.0.bn2.bias", "fc1.weight", "fc2.bias"} {
		if _, ok := m.P.Lookup(name); !ok {
			t.Errorf("no parameter %s", name)
		}
	}
	if _, ok := m.P.Lookup("layer1.0.shortcut.0.weight"); ok {
		t.Error("layer1.0 has a projection shortcut; want the identity")
	}
	// 32x32 inputs: 32 -> 16 -> 8, pooled, same parameters.
	c32, _ := Preset("resnet-small", 32)
	m32, err := New(c32, rand.New(rand.NewPCG(1, 1)))
	if err != nil || m32.P.Len() != want {
		t.Errorf("resnet-small at 32: %v, %d parameters", err, m32.P.Len())
	}
	z := m32.Logits(make([]float32, 2*32*32), 2)
	if len(z) != 20 {
		t.Errorf("logits of 2 images: %d values", len(z))
	}
	for _, bad := range []Config{
		{Name: "b", Arch: "vgg", InCh: 1, Size: 28, Hidden: []int{4}, Classes: 2},
		{Name: "b", Arch: ArchResNet, InCh: 1, Size: 28, Stem: 4, Widths: []int{4}, Blocks: []int{1, 1}, Hidden: []int{4}, Classes: 2},
		{Name: "b", Arch: ArchResNet, InCh: 1, Size: 28, Widths: []int{4}, Blocks: []int{1}, Hidden: []int{4}, Classes: 2},
		{Name: "b", Arch: ArchResNet, InCh: 1, Size: 28, Stem: 4, Widths: []int{4}, Blocks: []int{1}, Convs: []ConvSpec{{4, 3, 1}}, Hidden: []int{4}, Classes: 2},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("invalid config accepted: %+v", bad)
		}
	}
}

// TestConfigJSONCompatible: the other presets' JSON has no resnet keys, and
// a configuration written before resnets existed still builds the model.
func TestConfigJSONCompatible(t *testing.T) {
	cfg, _ := Preset("mnist-net", 28)
	js, _ := json.Marshal(cfg)
	for _, key := range []string{"arch", "stem", "widths", "blocks"} {
		if strings.Contains(string(js), `"`+key+`"`) {
			t.Errorf("mnist-net JSON %s holds %q", js, key)
		}
	}
	old := `{"name":"mnist-net","in_channels":1,"size":28,"convs":[{"out":4,"k":5,"pad":0},{"out":10,"k":5,"pad":0}],"hidden":[100],"classes":10}`
	var back Config
	if err := json.Unmarshal([]byte(old), &back); err != nil {
		t.Fatal(err)
	}
	m, err := New(back, rand.New(rand.NewPCG(1, 1)))
	if err != nil || m.P.Len() != 18224 {
		t.Fatalf("old mnist-net config: %v, %d parameters", err, m.P.Len())
	}
}

func tinyResNet(t *testing.T, rng *rand.Rand) *Net {
	t.Helper()
	cfg := Config{Name: "t", Arch: ArchResNet, InCh: 2, Size: 8, Stem: 3, Widths: []int{3, 4}, Blocks: []int{2, 1}, Hidden: []int{5}, Classes: 4}
	m, err := New(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	// Non-trivial batch-norm affine parameters and running statistics.
	for _, v := range m.P.Views() {
		switch {
		case v.Buffer && strings.HasSuffix(v.Name, "running_var"):
			for i := range m.P.Data(v) {
				m.P.Data(v)[i] = 0.5 + rng.Float32()
			}
		case v.Buffer:
			for i := range m.P.Data(v) {
				m.P.Data(v)[i] = 0.2 * float32(rng.NormFloat64())
			}
		case strings.Contains(v.Name, "bn") || strings.Contains(v.Name, "shortcut.1"):
			for i := range m.P.Data(v) {
				m.P.Data(v)[i] += 0.3 * float32(rng.NormFloat64())
			}
		}
	}
	return m
}

func TestResNetBackwardFiniteDifferences(t *testing.T) {
	for _, train := range []bool{false, true} {
		t.Run(fmt.Sprintf("train=%v", train), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			m := tinyResNet(t, rng)
			m.SetTrain(train)
			const n = 3
			x := make([]float32, n*m.Dim())
			for i := range x {
				x[i] = rng.Float32()
			}
			rl := make([]float32, n*m.NumClasses())
			for i := range rl {
				rl[i] = float32(rng.NormFloat64())
			}
			rf := make([]float32, n*m.FeatureDim())
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
			// Train-mode passes update the running statistics; the
			// eval-mode losses restore them first.
			bufs := append([]float32(nil), m.P.B...)
			logitLoss := func() float64 { return dot(m.Forward(x, n), rl) }
			evalLoss := func() float64 { copy(m.P.B, bufs); return dot(m.Logits(x, n), rl) }
			featLoss := func() float64 {
				copy(m.P.B, bufs)
				h, _ := m.Features().Features(x, n)
				return dot(h, rf)
			}

			m.P.ZeroGrad()
			logitLoss()
			dx := append([]float32(nil), m.Backward(rl)...)
			g := append([]float32(nil), m.P.G...)
			evalLoss()
			dxEval := append([]float32(nil), m.InputGrad(rl)...)
			featLoss()
			dxFeat := append([]float32(nil), m.Features().InputGrad(rf)...)
			if !slices.Equal(g, m.P.G) {
				t.Fatal("InputGrad changed the parameter gradients")
			}
			for k := 0; k < 25; k++ {
				i := rng.IntN(len(x))
				checkFD(t, fmt.Sprintf("dx[%d]", i), &x[i], float64(dx[i]), logitLoss)
				checkFD(t, fmt.Sprintf("dx[%d] (Logits/InputGrad)", i), &x[i], float64(dxEval[i]), evalLoss)
				checkFD(t, fmt.Sprintf("dx[%d] (features)", i), &x[i], float64(dxFeat[i]), featLoss)
			}
			for _, v := range m.P.Views() {
				if v.Buffer {
					continue
				}
				for range 2 {
					j := v.Offset + rng.IntN(v.Size)
					checkFD(t, "d"+v.Name, &m.P.W[j], float64(g[j]), logitLoss)
				}
			}
			copy(m.P.B, bufs)
			logitLoss()
			if changed := !slices.Equal(bufs, m.P.B); changed != train {
				t.Errorf("running statistics changed: %v, want %v (train mode)", changed, train)
			}
		})
	}
}

// TestResNetModes: eval-mode outputs of a point do not depend on the rest of
// the batch; train-mode outputs do, and update the running statistics,
// which Logits never does.
func TestResNetModes(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	m := tinyResNet(t, rng)
	d := m.Dim()
	x := make([]float32, 4*d)
	for i := range x {
		x[i] = rng.Float32()
	}
	one := append([]float32(nil), m.Logits(x[:d], 1)...)
	m.SetTrain(true)
	b := append([]float32(nil), m.P.B...)
	all := m.Logits(x, 4)
	if !slices.Equal(all[:4], one) {
		t.Errorf("Logits of a point depend on its batch: %v alone, %v in a batch", one, all[:4])
	}
	if !slices.Equal(b, m.P.B) {
		t.Error("Logits changed the running statistics")
	}
	tr := append([]float32(nil), m.Forward(x, 4)...)
	if slices.Equal(tr[:4], one) {
		t.Error("train-mode Forward gives the eval-mode logits")
	}
	if slices.Equal(b, m.P.B) {
		t.Error("train-mode Forward left the running statistics unchanged")
	}
	m.SetTrain(false)
	one = append(one[:0], m.Logits(x[:d], 1)...)
	if ev := m.Forward(x[:d], 1); !slices.Equal(ev, one) {
		t.Errorf("eval-mode Forward %v, Logits %v", ev, one)
	}
}

// TestResNetTrainsAndRoundTrips trains a narrow resnet (the resnet-small
// code paths at a quarter of the width) on embedded MNIST, and checks the
// checkpoint round trip with its running statistics.
func TestResNetTrainsAndRoundTrips(t *testing.T) {
	cfg, _ := Preset("resnet-small", 28)
	cfg.Stem, cfg.Widths, cfg.Hidden = 4, []int{4, 8, 16}, []int{32}
	m, err := New(cfg, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	tc := DefaultTrainConfig()
	tc.Method, tc.Optimizer, tc.LR, tc.Schedule, tc.Epochs, tc.Batch, tc.ValSize, tc.ValSteps = "standard", "adam", 3e-3, "constant", 3, 16, 300, 0
	tr, err := NewTrainer(m, mnist(t, 1100), nil, tc)
	if err != nil {
		t.Fatal(err)
	}
	var logs []EpochLog
	if err := tr.Run(context.Background(), nil, func(l EpochLog) { logs = append(logs, l) }); err != nil {
		t.Fatal(err)
	}
	first, last := logs[0], logs[len(logs)-1]
	t.Logf("narrow resnet, %d Adam steps on 800 MNIST images: loss %.3f -> %.3f, validation accuracy (eval mode) %.3f -> %.3f",
		tc.Epochs*tr.StepsPerEpoch(), first.Loss, last.Loss, first.ValClean, last.ValClean)
	// PyTorch learns as slowly on the same task (a BatchNorm resnet of this
	// shape, Adam 1e-3, 50 steps of 32: validation accuracy 0.41).
	if last.ValClean < 0.4 || last.Loss > first.Loss-0.5 {
		t.Errorf("validation accuracy %.3f (want >= 0.4, chance 0.1), loss %.3f -> %.3f (want a drop of 0.5)", last.ValClean, first.Loss, last.Loss)
	}
	if m.Training() {
		t.Error("the trainer left the model in train mode")
	}
	fresh, _ := New(cfg, rand.New(rand.NewPCG(3, 3)))
	if slices.Equal(fresh.P.B, m.P.B) {
		t.Fatal("training left the running statistics at their initial values")
	}

	c, err := tr.ExportLast(nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ckpt.Encode(&buf, c); err != nil {
		t.Fatal(err)
	}
	dec, err := ckpt.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(dec)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.P.W, m.P.W) || !slices.Equal(back.P.B, m.P.B) {
		t.Fatal("weights or running statistics differ after the round trip")
	}
	val := tr.Val
	x := val.Images[:16*m.Dim()]
	want := append([]float32(nil), m.Logits(x, 16)...)
	if got := back.Logits(x, 16); !slices.Equal(got, want) {
		t.Error("the loaded model's logits differ")
	}
	// A checkpoint without the running statistics does not load.
	var rm nn.View
	for _, v := range m.P.Views() {
		if v.Buffer {
			rm = v
			break
		}
	}
	c2, _ := m.Checkpoint(m.P.W, nil)
	c2.Tensor("weights/" + rm.Name).Name = "weights/gone"
	if _, err := Load(c2); err == nil {
		t.Errorf("a checkpoint without %s loaded", rm.Name)
	}
	// The best epoch's export carries that epoch's running statistics.
	bc, err := tr.ExportBest(nil)
	if err != nil {
		t.Fatal(err)
	}
	best, err := Load(bc)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(best.P.B, tr.bestB) || !slices.Equal(m.P.B, back.P.B) {
		t.Error("ExportBest did not store the best epoch's running statistics, or changed the model's")
	}
}
