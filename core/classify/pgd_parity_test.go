package classify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cdp-project/cdp/core/ckpt"
	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/npy"
	"github.com/cdp-project/cdp/core/robust"
)

// requireTorch skips (or fails when CI is set) when PyTorch is missing.
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

// TestPGDParityWithPyTorch: PGD-20 (l_inf, eps 0.1, sign steps of 2.5
// eps/20, cross-entropy, per-point worst iterate) on the same mnist-net
// weights, the same 1,000 test images and the same random starts gives the
// same robust accuracy as testdata/pgd_parity.py within 0.5 points, and
// agrees on at least 98% of the points. The model is trained briefly here
// (standard training, 40 Adam steps on 2,500 images) so that the robust
// accuracy lies strictly between 0 and the clean accuracy.
func TestPGDParityWithPyTorch(t *testing.T) {
	requireTorch(t)
	cfg := DefaultTrainConfig()
	cfg.Method, cfg.Optimizer, cfg.LR, cfg.Schedule, cfg.Epochs, cfg.Batch = "standard", "adam", 3e-3, "constant", 1, 64
	cfg.ValSize, cfg.ValSteps, cfg.Eps, cfg.WeightDecay = 100, 0, 0.1, 0
	tr, err := NewTrainer(newNet(t), mnist(t, 2600), nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	net := tr.Net
	test, err := data.Embedded(data.Test)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	x, y := test.Images[:n*784], test.Labels[:n]
	const eps, steps = float32(0.1), 20
	alpha := 2.5 * eps / steps
	rng := rand.New(rand.NewPCG(2026, 5))
	start := make([]float32, len(x))
	for i, v := range x {
		start[i] = min(max(v+eps*float32(2*rng.Float64()-1), 0), 1)
	}

	// Inputs for PyTorch: weights under their PyTorch names and layouts.
	var tensors []ckpt.Tensor
	for _, v := range net.P.Views() {
		tensors = append(tensors, ckpt.Tensor{Name: v.Name, DType: ckpt.Float32, Shape: v.Shape, F32: net.P.Data(v)})
	}
	y64 := make([]int64, n)
	for i, v := range y {
		y64[i] = int64(v)
	}
	tensors = append(tensors,
		ckpt.Tensor{Name: "x", DType: ckpt.Float32, Shape: []int{n, 1, 28, 28}, F32: x},
		ckpt.Tensor{Name: "y", DType: ckpt.Int64, Shape: []int{n}, I64: y64},
		ckpt.Tensor{Name: "start", DType: ckpt.Float32, Shape: []int{n, 1, 28, 28}, F32: start})
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := ckpt.ExportNPZ(&buf, tensors); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "in.npz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(map[string]any{"convs": net.Cfg.Convs, "fcs": len(net.Cfg.Hidden) + 1,
		"eps": float64(eps), "alpha": float64(alpha), "steps": steps})
	if err := os.WriteFile(filepath.Join(dir, "spec.json"), spec, 0o644); err != nil {
		t.Fatal(err)
	}

	// Go: the same attack from the same starts.
	pgd := robust.PGD{Norm: robust.Linf, Eps: eps, Alpha: alpha, Steps: steps, Loss: robust.CE, Start: start}
	xa := pgd.Perturb(net, x, y, rand.New(rand.NewPCG(0, 0)))
	goAcc, goOK := robust.Accuracy(net, xa, y, 250)
	clean, _ := robust.Accuracy(net, x, y, 250)

	if out, err := exec.Command("/usr/bin/python3", "testdata/pgd_parity.py", dir).CombinedOutput(); err != nil {
		t.Fatalf("pgd_parity.py: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "out.npz"))
	if err != nil {
		t.Fatal(err)
	}
	ar, err := npy.ReadNPZ(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := ar.Get("robust")
	if !ok {
		t.Fatal("out.npz has no array robust")
	}
	tOK, err := a.Uint8s()
	if err != nil || len(tOK) != n {
		t.Fatalf("out.npz robust: %d values, %v", len(tOK), err)
	}
	agree, torchRobust := 0, 0
	for i := range tOK {
		if tOK[i] != 0 {
			torchRobust++
		}
		if (tOK[i] != 0) == goOK[i] {
			agree++
		}
	}
	torchAcc := float64(torchRobust) / n
	t.Logf("mnist-net (%d standard steps), %d MNIST test images: clean %.3f, PGD-20 eps %.2f robust accuracy: cdp %.3f, PyTorch %.3f; per-point agreement %d/%d",
		tr.Epoch*tr.StepsPerEpoch(), n, clean, eps, goAcc, torchAcc, agree, n)
	if goAcc <= 0 || goAcc >= clean {
		t.Fatalf("robust accuracy %.3f (clean %.3f): the parity check needs an attack that breaks some points but not all", goAcc, clean)
	}
	if d := math.Abs(goAcc - torchAcc); d > 0.005 {
		t.Errorf("robust accuracy differs by %.1f points (cdp %.3f, PyTorch %.3f), want <= 0.5", 100*d, goAcc, torchAcc)
	}
	if agree < n*98/100 {
		t.Errorf("per-point agreement %d/%d, want >= 98%%", agree, n)
	}
}
