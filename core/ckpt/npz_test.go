package ckpt

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// params returns views into a flat buffer, as a model's parameter store
// would hand them out.
func params(flat []float32) []Tensor {
	return []Tensor{
		{Name: "conv.w", DType: Float32, Shape: []int{2, 1, 3, 3}, F32: flat[0:18]},
		{Name: "norm.scale", DType: Float32, Shape: []int{2}, F32: flat[18:20]},
		{Name: "head.b", DType: Float32, Shape: []int{}, F32: flat[20:21]},
	}
}

func TestNPZRoundTrip(t *testing.T) {
	src := make([]float32, 21)
	for i := range src {
		src[i] = float32(i)*0.25 - 2
	}
	src[3] = float32(math.NaN())
	var buf bytes.Buffer
	extra := append(params(src), Tensor{Name: "step", DType: Int64, Shape: []int{1}, I64: []int64{7}})
	if err := ExportNPZ(&buf, extra[:3]); err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 21)
	if err := ImportNPZ(bytes.NewReader(buf.Bytes()), int64(buf.Len()), params(dst)); err != nil {
		t.Fatal(err)
	}
	for i := range src {
		if math.Float32bits(src[i]) != math.Float32bits(dst[i]) {
			t.Fatalf("value %d: %v, want %v", i, dst[i], src[i])
		}
	}

	// The int64 tensor makes an extra array that the model lacks.
	buf.Reset()
	if err := ExportNPZ(&buf, extra); err != nil {
		t.Fatal(err)
	}
	dst = make([]float32, 21)
	err := ImportNPZ(bytes.NewReader(buf.Bytes()), int64(buf.Len()), params(dst))
	wantErr(t, err, `ckpt: npz archive has unexpected "step"`)
	if slices.ContainsFunc(dst, func(x float32) bool { return x != 0 }) {
		t.Fatal("a refused import wrote into the parameters")
	}
}

func TestNPZMismatches(t *testing.T) {
	src := make([]float32, 21)
	export := func(ts []Tensor) []byte {
		var buf bytes.Buffer
		if err := ExportNPZ(&buf, ts); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	imp := func(b []byte) error {
		return ImportNPZ(bytes.NewReader(b), int64(len(b)), params(make([]float32, 21)))
	}
	p := params(src)
	wantErr(t, imp(export(p[:1])), `ckpt: npz archive lacks "norm.scale", "head.b"`)
	renamed := slices.Clone(p)
	renamed[1].Name = "norm.gamma"
	wantErr(t, imp(export(renamed)), `ckpt: npz archive lacks "norm.scale" and has unexpected "norm.gamma"`)
	reshaped := slices.Clone(p)
	reshaped[0].Shape = []int{2, 9}
	wantErr(t, imp(export(reshaped)), `ckpt: npz array "conv.w" has shape [2 9], want [2 1 3 3]`)
	retyped := slices.Clone(p)
	retyped[1] = Tensor{Name: "norm.scale", DType: Int64, Shape: []int{2}, I64: []int64{1, 2}}
	wantErr(t, imp(export(retyped)), `ckpt: npz array "norm.scale" has dtype <i8, want <f4 or <f8`)
	if err := imp([]byte("not a zip")); err == nil || !strings.HasPrefix(err.Error(), "ckpt: ") {
		t.Fatalf("error %v", err)
	}
}

// TestNPZNumpy checks the archive against numpy itself: numpy loads what
// ExportNPZ writes, and ImportNPZ loads what numpy.savez writes.
func TestNPZNumpy(t *testing.T) {
	const python = "/usr/bin/python3"
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no subprocesses under " + runtime.GOOS + "; the native test run checks numpy interchange")
	}
	if out, err := exec.Command(python, "-c", "import numpy").CombinedOutput(); err != nil {
		msg := "numpy interchange test needs " + python + " with numpy: " + err.Error() + ": " + string(out)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	src := make([]float32, 21)
	for i := range src {
		src[i] = float32(i) / 3
	}
	var buf bytes.Buffer
	if err := ExportNPZ(&buf, params(src)); err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(dir, "go.npz"), filepath.Join(dir, "py.npz")
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
z = np.load(sys.argv[1])
assert sorted(z.files) == ["conv.w", "head.b", "norm.scale"], z.files
assert z["conv.w"].shape == (2, 1, 3, 3) and z["conv.w"].dtype == np.float32
assert z["head.b"].shape == () and z["norm.scale"].shape == (2,)
flat = np.concatenate([z["conv.w"].ravel(), z["norm.scale"].ravel(), z["head.b"].ravel()])
assert np.array_equal(flat, np.arange(21, dtype=np.float32) / np.float32(3)), flat
np.savez(sys.argv[2], **{"conv.w": z["conv.w"] * 2, "norm.scale": z["norm.scale"].astype(np.float64) * 2, "head.b": z["head.b"] * 2})
`
	if o, err := exec.Command(python, "-c", script, in, out).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, o)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 21)
	if err := ImportNPZ(bytes.NewReader(b), int64(len(b)), params(dst)); err != nil {
		t.Fatal(err)
	}
	for i := range dst {
		if dst[i] != 2*src[i] {
			t.Fatalf("value %d: %v, want %v", i, dst[i], 2*src[i])
		}
	}
}
