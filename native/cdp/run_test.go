package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdp-project/cdp/core/classify"
	"github.com/cdp-project/cdp/core/generate"
	"github.com/cdp-project/cdp/core/npy"
	"github.com/cdp-project/cdp/native/store"
)

// TestPipelineSmoke runs every stage of `cdp run` at toy sizes, then runs it
// again to check that finished stages are not redone.
func TestPipelineSmoke(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := cdp(t, "run", "--preset", "smoke", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("cdp run --preset smoke: exit %d\n%s", code, stderr)
	}
	var table resultTable
	if err := json.Unmarshal([]byte(stdout), &table); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if len(table.Rows) != 3 {
		t.Fatalf("%d result rows, want 3", len(table.Rows))
	}
	for i, row := range table.Rows {
		if len(row.CleanAcc) != 1 || len(row.RobustAcc) != 1 || row.RobustAcc[0] > row.CleanAcc[0] {
			t.Errorf("row %q: clean %v robust %v", row.Data, row.CleanAcc, row.RobustAcc)
		}
		// The synthetic rows measure their samples; the real row has none.
		if (row.Samples != nil) != (i > 0) {
			t.Errorf("row %q: samples %+v", row.Data, row.Samples)
		} else if s := row.Samples; s != nil && (!(s.MeanCosine > -1 && s.MeanCosine < 1) || s.Agreement < 0 || s.Agreement > 1) {
			t.Errorf("row %q: samples %+v out of range", row.Data, s)
		}
	}
	for _, f := range []string{"diffusion/model.ckpt", "feature-net/weights-best.ckpt", "samples-none/samples.npz",
		"samples-contrastive/samples.png", "adv-contrastive-seed0/weights-last.ckpt", "eval-real-seed0/eval.json", "results.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	code, _, stderr = cdp(t, "run", "--preset", "smoke", "--out", out)
	if code != 0 || strings.Count(stderr, "done earlier") != 10 {
		t.Errorf("second run: exit %d, want every one of 10 stages skipped:\n%s", code, stderr)
	}
}

func readNPZ(t *testing.T, path string) map[string][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := npy.ReadNPZ(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, n := range ar.Names {
		a, _ := ar.Get(n)
		out[n] = a.Bytes()
	}
	return out
}

// TestSampleShardsEqualFullRun checks that --shard outputs, concatenated,
// equal the unsharded output, with batch-coupled contrastive guidance and a
// fixed head.
func TestSampleShardsEqualFullRun(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := cdp(t, "train", "--model", "unet-tiny", "--subset", "64", "--steps", "2", "--batch", "4", "--out", filepath.Join(dir, "m")); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	if code, _, stderr := cdp(t, "advtrain", "--method", "standard", "--subset", "200", "--val-size", "50", "--epochs", "1", "--out", filepath.Join(dir, "f")); code != 0 {
		t.Fatalf("advtrain: %s", stderr)
	}
	common := []string{"sample", "--ckpt", filepath.Join(dir, "m", "model.ckpt"), "--n", "10", "--batch", "3", "--sampler", "ddim",
		"--steps", "6", "--guide", "contrastive", "--feature-ckpt", filepath.Join(dir, "f", "weights-best.ckpt"),
		"--head", "fixed", "--window", "1:1000", "--lambda", "1e4", "--out", filepath.Join(dir, "s")}
	if code, _, stderr := cdp(t, common...); code != 0 {
		t.Fatalf("sample: %s", stderr)
	}
	full := readNPZ(t, filepath.Join(dir, "s", "samples.npz"))
	var image, label []byte
	for i := 0; i < 3; i++ {
		args := append(append([]string{}, common...), "--shard", []string{"0/3", "1/3", "2/3"}[i])
		if code, _, stderr := cdp(t, args...); code != 0 {
			t.Fatalf("sample shard %d: %s", i, stderr)
		}
		part := readNPZ(t, filepath.Join(dir, "s", []string{"samples-0-of-3.npz", "samples-1-of-3.npz", "samples-2-of-3.npz"}[i]))
		image = append(image, part["image"]...)
		label = append(label, part["label"]...)
	}
	if !bytes.Equal(image, full["image"]) || !bytes.Equal(label, full["label"]) {
		t.Error("the three shards, concatenated, differ from the full run")
	}
	// The same run without guidance gives other images: guidance acted.
	plain := append(append([]string{}, common[:9]...), "--out", filepath.Join(dir, "p"))
	if code, _, stderr := cdp(t, plain...); code != 0 {
		t.Fatalf("plain sample: %s", stderr)
	}
	if bytes.Equal(readNPZ(t, filepath.Join(dir, "p", "samples.npz"))["image"], full["image"]) {
		t.Error("contrastive guidance left the images unchanged")
	}
}

func TestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train", "--steps", "0", "--out", dir}, 2, "steps 0 must be positive"},
		{[]string{"train", "--ema", "1.5", "--out", dir}, 2, "EMA decay 1.5"},
		{[]string{"train", "--model", "unet-huge", "--steps", "1", "--out", dir}, 2, `unknown preset "unet-huge"`},
		{[]string{"train", "--data", "imagenet", "--out", dir}, 2, `--data "imagenet"`},
		{[]string{"sample", "--ckpt", filepath.Join(dir, "nope.ckpt")}, 1, "no such file"},
		{[]string{"eval", "--eps", "1.5"}, 2, "--eps 1.5 must lie in [0, 1]"},
		{[]string{"eval", "--eps", "NaN"}, 2, "must lie in [0, 1]"},
		{[]string{"advtrain", "--method", "fgsm-at", "--out", dir}, 2, `method "fgsm-at"`},
		{[]string{"advtrain", "--synthetic-fraction", "0.5", "--epochs", "1", "--subset", "100", "--val-size", "10", "--out", dir}, 2, "--synthetic-fraction needs --synthetic"},
		{[]string{"run", "--preset", "huge"}, 2, `--preset "huge"`},
	}
	// Sampling options, on the browser page's small models.
	model, feat := filepath.Join("..", "..", "www", "models", "unet-tiny-mnist.ckpt"), filepath.Join("..", "..", "www", "models", "mnist-net-mnist.ckpt")
	s := []string{"sample", "--ckpt", model, "--n", "2", "--steps", "2", "--out", filepath.Join(dir, "s")}
	g := append(append([]string(nil), s...), "--guide", "contrastive", "--feature-ckpt", feat)
	add := func(base []string, code int, want string, extra ...string) {
		cases = append(cases, struct {
			args []string
			code int
			want string
		}{append(append([]string(nil), base...), extra...), code, want})
	}
	add(s, 2, "--steps 0 must lie in 1..1000", "--steps", "0")
	add(s, 2, `--spacing unknown spacing "bogus"`, "--spacing", "bogus")
	add(s, 2, `--sampler unknown sampler "euler"`, "--sampler", "euler")
	add(s, 2, "--eta -1 must be finite and not negative", "--sampler", "ddim", "--eta", "-1")
	add(s, 2, "--guide contrastive needs --feature-ckpt", "--guide", "contrastive")
	add(s, 2, `--guide "magic": want none|contrastive|classifier|cfg`, "--guide", "magic")
	add(g, 2, "--lambda -1 must be finite and not negative", "--lambda", "-1")
	add(g, 2, `--window "0:10": want LO:HI`, "--window", "0:10")
	add(g, 2, "--head-lr 0 must be positive and finite", "--head", "online", "--head-lr", "0")
	add(g, 2, "--tau-plus 1 must lie in [0, 1)", "--tau-plus", "1")
	add(g, 2, `--loss "triplet": want hnm|infonce`, "--loss", "triplet")
	add(g, 1, "--feature-ckpt "+model+": ckpt: architecture unet does not match classifier", "--feature-ckpt", model)
	for _, c := range cases {
		code, _, stderr := cdp(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("cdp %q: exit %d (want %d), stderr lacks %q:\n%s", c.args, code, c.code, c.want, stderr)
		}
	}
	// A corrupt checkpoint is refused with a message naming the problem.
	bad := filepath.Join(dir, "bad.ckpt")
	os.WriteFile(bad, []byte("this is not a checkpoint"), 0o644)
	if code, _, stderr := cdp(t, "sample", "--ckpt", bad); code != 1 || !strings.Contains(stderr, "ckpt:") {
		t.Errorf("corrupt checkpoint: exit %d\n%s", code, stderr)
	}
	// A synthetic file of the wrong shape is refused.
	wrong := filepath.Join(dir, "wrong.npz")
	var buf bytes.Buffer
	npy.WriteNPZ(&buf, []string{"image", "label"}, []*npy.Array{npy.NewUint8([]int{2, 32, 32, 1}, make([]uint8, 2*32*32)), npy.NewInt64([]int{2}, []int64{1, 2})})
	os.WriteFile(wrong, buf.Bytes(), 0o644)
	code, _, stderr := cdp(t, "advtrain", "--synthetic", wrong, "--subset", "100", "--val-size", "10", "--epochs", "1", "--out", filepath.Join(dir, "a"))
	if code != 1 || !strings.Contains(stderr, "does not match the real data") {
		t.Errorf("synthetic npz of the wrong shape: exit %d\n%s", code, stderr)
	}
}

// TestTrainRefusesToReplaceAndResumes checks that a second cdp train into the
// same --out is refused, and that --resume continues to a longer run.
func TestTrainRefusesToReplaceAndResumes(t *testing.T) {
	out := t.TempDir()
	args := []string{"train", "--model", "unet-tiny", "--subset", "32", "--steps", "2", "--batch", "4", "--out", out}
	if code, _, stderr := cdp(t, args...); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	if code, _, stderr := cdp(t, args...); code != 1 || !strings.Contains(stderr, "already exists: pass --resume") {
		t.Errorf("second train into the same --out: exit %d\n%s", code, stderr)
	}
	args[6] = "3" // --steps 3
	if code, stdout, stderr := cdp(t, append(args, "--resume")...); code != 0 || !strings.Contains(stdout, "trained 3 steps") || !strings.Contains(stderr, "resuming") {
		t.Errorf("train --resume --steps 3: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := cdp(t, append(args, "--resume")...); code != 0 || !strings.Contains(stdout, "already at step 3 of 3, nothing to train") {
		t.Errorf("train --resume of a finished run: exit %d\n%s", code, stdout)
	}
	// model-ema.ckpt samples like model.ckpt and cannot be resumed from.
	s := []string{"sample", "--n", "3", "--steps", "2", "--sampler", "ddim"}
	full := readNPZOf(t, append(s, "--ckpt", filepath.Join(out, "model.ckpt"), "--out", filepath.Join(out, "s1")), filepath.Join(out, "s1"))
	ema := readNPZOf(t, append(s, "--ckpt", filepath.Join(out, "model-ema.ckpt"), "--out", filepath.Join(out, "s2")), filepath.Join(out, "s2"))
	if !bytes.Equal(full["image"], ema["image"]) {
		t.Error("model-ema.ckpt samples other images than model.ckpt")
	}
	os.Rename(filepath.Join(out, "model-ema.ckpt"), filepath.Join(out, "model.ckpt"))
	if code, _, stderr := cdp(t, append(args, "--resume")...); code != 1 || !strings.Contains(stderr, "holds no training state") {
		t.Errorf("resume from a sampling checkpoint: exit %d\n%s", code, stderr)
	}
}

// readNPZOf runs cdp with args and reads the samples.npz it wrote into dir.
func readNPZOf(t *testing.T, args []string, dir string) map[string][]byte {
	t.Helper()
	if code, _, stderr := cdp(t, args...); code != 0 {
		t.Fatalf("cdp %q: exit %d\n%s", args, code, stderr)
	}
	return readNPZ(t, filepath.Join(dir, "samples.npz"))
}

// TestSampleMeasures checks that --feature-ckpt makes cdp sample measure its
// samples, with any guidance, and that the figure matches generate.Measure
// on the written images.
func TestSampleMeasures(t *testing.T) {
	dir := t.TempDir()
	model, feat := filepath.Join("..", "..", "www", "models", "unet-tiny-mnist.ckpt"), filepath.Join("..", "..", "www", "models", "mnist-net-mnist.ckpt")
	args := []string{"sample", "--ckpt", model, "--n", "6", "--steps", "3", "--sampler", "ddim", "--json"}
	var plain struct {
		Samples *generate.Stats `json:"samples"`
	}
	code, stdout, stderr := cdp(t, append(args, "--out", filepath.Join(dir, "a"))...)
	if code != 0 || json.Unmarshal([]byte(stdout), &plain) != nil || plain.Samples != nil {
		t.Fatalf("without --feature-ckpt: exit %d, %s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = cdp(t, append(args, "--feature-ckpt", feat, "--out", filepath.Join(dir, "b"))...)
	if code != 0 || json.Unmarshal([]byte(stdout), &plain) != nil || plain.Samples == nil {
		t.Fatalf("with --feature-ckpt: exit %d, %s\n%s", code, stdout, stderr)
	}
	c, err := readCheckpoint(feat)
	if err != nil {
		t.Fatal(err)
	}
	net, err := classify.Load(c)
	if err != nil {
		t.Fatal(err)
	}
	d, err := store.LoadNPZ(filepath.Join(dir, "b", "samples.npz"), 10)
	if err != nil {
		t.Fatal(err)
	}
	// The file holds the 28x28 crops as uint8: close to, not exactly, the
	// float samples measured.
	want, err := generate.Measure(net, d.ToSigned().Images, d.Labels, 28)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(want.MeanCosine-plain.Samples.MeanCosine) > 0.01 || want.Agreement != plain.Samples.Agreement {
		t.Errorf("measured %+v, the written images give %+v", *plain.Samples, want)
	}
	code, stdout, _ = cdp(t, append(args, "--feature-ckpt", feat, "--guide", "contrastive", "--out", filepath.Join(dir, "c"))...)
	if code != 0 || !strings.Contains(stdout, `"meanCosine"`) {
		t.Errorf("contrastive with --feature-ckpt: exit %d, %s", code, stdout)
	}
}
