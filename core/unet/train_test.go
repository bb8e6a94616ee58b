package unet

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/core/ckpt"
	"github.com/cdp-project/cdp/core/data"
)

func tinyData(t *testing.T, n int) *data.Dataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, 9))
	img := make([]float32, n*8*8)
	lab := make([]int, n)
	for i := range img {
		img[i] = rng.Float32()
	}
	for i := range lab {
		lab[i] = rng.IntN(3)
	}
	return data.New(img, lab, n, 1, 8, 8, 3, "test", "random 8x8").ToSigned()
}

func tinyTrainer(t *testing.T, d *data.Dataset) *Trainer {
	t.Helper()
	u, err := New(smallConfig(), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultTrainConfig()
	cfg.Steps, cfg.Batch, cfg.Warmup, cfg.T = 6, 4, 2, 100
	tr, err := NewTrainer(u, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func roundTrip(t *testing.T, c *ckpt.Checkpoint) *ckpt.Checkpoint {
	t.Helper()
	var buf bytes.Buffer
	if err := ckpt.Encode(&buf, c); err != nil {
		t.Fatal(err)
	}
	out, err := ckpt.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestResumeIsBitExact(t *testing.T) {
	d := tinyData(t, 10) // batches of 4 cross epoch boundaries
	straight := tinyTrainer(t, d)
	if err := straight.Run(context.Background(), 0, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	first := tinyTrainer(t, d)
	first.Cfg.Steps = 3
	var saved *ckpt.Checkpoint
	if err := first.Run(context.Background(), 0, nil, func(c *ckpt.Checkpoint) error { saved = roundTrip(t, c); return nil }, nil); err != nil {
		t.Fatal(err)
	}
	resumed, err := Resume(saved, d, 6)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Step != 3 {
		t.Fatalf("resumed at step %d, want 3", resumed.Step)
	}
	if err := resumed.Run(context.Background(), 0, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	for i := range straight.Model.P.W {
		if math.Float32bits(straight.Model.P.W[i]) != math.Float32bits(resumed.Model.P.W[i]) ||
			math.Float32bits(straight.EMA.W[i]) != math.Float32bits(resumed.EMA.W[i]) {
			t.Fatalf("weight %d differs after resume: %v vs %v", i, straight.Model.P.W[i], resumed.Model.P.W[i])
		}
	}
}

func TestCancelSavesAndNaNStops(t *testing.T) {
	d := tinyData(t, 8)
	tr := tinyTrainer(t, d)
	ctx, cancel := context.WithCancel(context.Background())
	saves := 0
	err := tr.Run(ctx, 0, nil, func(*ckpt.Checkpoint) error { saves++; return nil }, func(p Progress) {
		if p.Step == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || saves != 1 || tr.Step != 2 {
		t.Fatalf("cancel: err %v, %d saves, step %d; want context.Canceled, 1 save, step 2", err, saves, tr.Step)
	}
	d.Images[3] = float32(math.NaN())
	tr = tinyTrainer(t, d)
	before := append([]float32(nil), tr.Model.P.W...)
	saves = 0
	err = tr.Run(context.Background(), 1, nil, func(*ckpt.Checkpoint) error { saves++; return nil }, nil)
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("NaN in the data: err %v, want ErrNonFinite", err)
	}
	if tr.Step == 0 {
		for i := range before {
			if math.Float32bits(before[i]) != math.Float32bits(tr.Model.P.W[i]) {
				t.Fatal("a non-finite step changed the weights")
			}
		}
	}
}

func TestLoadRefusesOtherArchitecture(t *testing.T) {
	tr := tinyTrainer(t, tinyData(t, 8))
	c, err := tr.Checkpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Arch = "mnist-net"
	if _, err := Load(c, true); err == nil {
		t.Error("Load accepted a mnist-net checkpoint")
	}
	c.Arch = Arch
	c.Config = []byte(`{"name":"x","in_channels":1,"size":8,"ch":8,"mult":[1,2],"blocks":2,"groups":4,"classes":3}`)
	if _, err := Load(c, true); err == nil {
		t.Error("Load accepted weights for another configuration")
	}
	if _, err := Resume(c, tinyData(t, 8), 0); err == nil {
		t.Error("Resume accepted weights for another configuration")
	}
}

// TestSamplingCheckpoint: the sampling checkpoint loads the same EMA model
// as the full one, in under a third of the bytes, and refuses to resume.
func TestSamplingCheckpoint(t *testing.T) {
	d := tinyData(t, 10)
	tr := tinyTrainer(t, d)
	tr.Cfg.Steps = 3
	if err := tr.Run(context.Background(), 0, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	full, err := tr.Checkpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	slim, err := tr.SamplingCheckpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	var fb, sb bytes.Buffer
	if err := ckpt.Encode(&fb, full); err != nil {
		t.Fatal(err)
	}
	if err := ckpt.Encode(&sb, slim); err != nil {
		t.Fatal(err)
	}
	if 3*sb.Len() > fb.Len() {
		t.Errorf("sampling checkpoint %d bytes, full %d", sb.Len(), fb.Len())
	}
	a, err := Load(roundTrip(t, full), true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(roundTrip(t, slim), true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.P.W {
		if math.Float32bits(a.P.W[i]) != math.Float32bits(b.P.W[i]) || a.P.W[i] != tr.EMA.W[i] {
			t.Fatalf("EMA weight %d: full %v, sampling %v, trainer %v", i, a.P.W[i], b.P.W[i], tr.EMA.W[i])
		}
	}
	if _, err := Resume(roundTrip(t, slim), d, 0); err == nil || !bytes.Contains([]byte(err.Error()), []byte("holds no training state")) {
		t.Errorf("resume from a sampling checkpoint: %v", err)
	}
}
