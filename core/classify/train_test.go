package classify

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/core/ckpt"
	"github.com/cdp-project/cdp/core/data"
)

func mnist(t *testing.T, n int) *data.Dataset {
	t.Helper()
	d, err := data.Embedded(data.Train)
	if err != nil {
		t.Fatal(err)
	}
	return d.Subset(n)
}

func newNet(t *testing.T) *Net {
	t.Helper()
	cfg, _ := Preset("mnist-net", 28)
	m, err := New(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStandardTrainingLearnsMNIST(t *testing.T) {
	cfg := DefaultTrainConfig()
	cfg.Method, cfg.Optimizer, cfg.LR, cfg.Epochs, cfg.Batch, cfg.ValSize, cfg.Eps = "standard", "adam", 3e-3, 3, 64, 300, 0.1
	cfg.ValSteps = 5
	tr, err := NewTrainer(newNet(t), mnist(t, 1800), nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var last EpochLog
	if err := tr.Run(context.Background(), nil, func(l EpochLog) { last = l }); err != nil {
		t.Fatal(err)
	}
	if last.ValClean < 0.85 {
		t.Errorf("mnist-net after 3 epochs on 1,500 images: validation accuracy %.3f, want >= 0.85", last.ValClean)
	}
	if last.ValRobust > last.ValClean {
		t.Errorf("robust accuracy %.3f exceeds clean %.3f", last.ValRobust, last.ValClean)
	}
	if tr.Real.N != 1500 || tr.Val.N != 300 {
		t.Errorf("split %d/%d, want 1500/300", tr.Real.N, tr.Val.N)
	}
}

func TestAdversarialMethodsAndResume(t *testing.T) {
	real := mnist(t, 260)
	// Synthetic stand-in: the same images flipped upside down, relabelled.
	synth := data.New(append([]float32(nil), real.Images[:100*784]...), append([]int(nil), real.Labels[:100]...), 100, 1, 28, 28, 10, "synthetic", "test synthetic")
	for _, method := range []string{"pgd", "trades"} {
		cfg := DefaultTrainConfig()
		cfg.Method, cfg.Epochs, cfg.Batch, cfg.Steps, cfg.ValSize, cfg.ValSteps, cfg.EMA = method, 2, 32, 2, 60, 3, 0.9
		// run trains a fresh model, or resumes from a state, up to epoch
		// `until` of a 2-epoch run.
		run := func(until int, from *ckpt.Checkpoint) *Trainer {
			var tr *Trainer
			var err error
			if from == nil {
				tr, err = NewTrainer(newNet(t), real, synth, cfg)
			} else {
				tr, err = Resume(from, real, synth, 0)
			}
			if err == nil && until < cfg.Epochs {
				if _, err = tr.RunEpoch(context.Background()); err != nil {
					t.Fatal(err)
				}
				return tr
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.Run(context.Background(), nil, func(l EpochLog) {
				if math.IsNaN(l.Loss) || l.ValRobust > l.ValClean {
					t.Errorf("%s epoch %d: loss %v, val clean %v, robust %v", method, l.Epoch, l.Loss, l.ValClean, l.ValRobust)
				}
			}); err != nil {
				t.Fatal(err)
			}
			return tr
		}
		straight := run(2, nil)
		first := run(1, nil)
		st, err := first.State()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := ckpt.Encode(&buf, st); err != nil {
			t.Fatal(err)
		}
		back, err := ckpt.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		resumed := run(2, back)
		if resumed.Epoch != 2 {
			t.Fatalf("%s: resumed run ended at epoch %d", method, resumed.Epoch)
		}
		for i := range straight.Net.P.W {
			if math.Float32bits(straight.Net.P.W[i]) != math.Float32bits(resumed.Net.P.W[i]) {
				t.Fatalf("%s: weight %d differs after resuming at epoch 1", method, i)
			}
		}
		if straight.BestRobust != resumed.BestRobust {
			t.Errorf("%s: best validation robust accuracy %v vs %v after resume", method, straight.BestRobust, resumed.BestRobust)
		}
	}
}

func TestTrainConfigErrors(t *testing.T) {
	for _, mut := range []func(*TrainConfig){
		func(c *TrainConfig) { c.Method = "fgsm-at" },
		func(c *TrainConfig) { c.Eps = 1.5 },
		func(c *TrainConfig) { c.Eps = math.NaN() },
		func(c *TrainConfig) { c.SynthFrac = 1.2 },
		func(c *TrainConfig) { c.Norm = "l1" },
		func(c *TrainConfig) { c.LR = 0 },
	} {
		c := DefaultTrainConfig()
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
	cfg := DefaultTrainConfig()
	cfg.ValSize = 500
	if _, err := NewTrainer(newNet(t), mnist(t, 400), nil, cfg); err == nil {
		t.Error("a validation split larger than the data was accepted")
	}
	signed := mnist(t, 100).ToSigned()
	if _, err := NewTrainer(newNet(t), signed, nil, cfg); err == nil {
		t.Error("[-1, 1] data accepted")
	}
}
