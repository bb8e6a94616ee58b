package optim

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// The parity test writes a deterministic gradient sequence and initial
// parameters, runs testdata/parity.py (torch's optimisers and schedulers on
// the same data) and compares the trajectories.

const python = "/usr/bin/python3"

type parityTensor struct {
	Name    string `json:"name"`
	Offset  int    `json:"offset"`
	Len     int    `json:"len"`
	NoDecay bool   `json:"no_decay"`
}

type paritySchedule struct {
	Kind           string  `json:"kind"` // "constant", "cosine", "onecycle"
	Base           float64 `json:"base"`
	Floor          float64 `json:"floor"`
	Warmup         int     `json:"warmup"`
	Total          int     `json:"total"`
	MaxLR          float64 `json:"max_lr"`
	PctStart       float64 `json:"pct_start"`
	DivFactor      float64 `json:"div_factor"`
	FinalDivFactor float64 `json:"final_div_factor"`
	BaseMomentum   float64 `json:"base_momentum"`
	MaxMomentum    float64 `json:"max_momentum"`
}

func (s *paritySchedule) schedule() Schedule {
	switch s.Kind {
	case "constant":
		return Constant{Base: s.Base, Warmup: s.Warmup}
	case "cosine":
		return Cosine{Base: s.Base, Floor: s.Floor, Warmup: s.Warmup, Total: s.Total}
	case "onecycle":
		return OneCycle{MaxLR: s.MaxLR, Total: s.Total, PctStart: s.PctStart, DivFactor: s.DivFactor,
			FinalDivFactor: s.FinalDivFactor, BaseMomentum: s.BaseMomentum, MaxMomentum: s.MaxMomentum}
	}
	panic("unknown schedule " + s.Kind)
}

type parityCase struct {
	Name     string          `json:"name"`
	Opt      string          `json:"opt"` // sgd, adam, adamw, ema, schedule
	LR       float64         `json:"lr"`
	Momentum float64         `json:"momentum"`
	Nesterov bool            `json:"nesterov"`
	WD       float64         `json:"wd"`
	Beta1    float64         `json:"beta1"`
	Beta2    float64         `json:"beta2"`
	Eps      float64         `json:"eps"`
	Clip     float64         `json:"clip"`
	Decay    float64         `json:"decay"`
	Warmup   bool            `json:"warmup"`
	Count    int             `json:"count"`
	For      string          `json:"for"`
	Schedule *paritySchedule `json:"schedule"`
}

type parityConfig struct {
	N       int            `json:"n"`
	Steps   int            `json:"steps"`
	Tensors []parityTensor `json:"tensors"`
	Cases   []parityCase   `json:"cases"`
}

// needTorch checks that /usr/bin/python3 can import torch; without it the
// test fails under CI and is skipped elsewhere.
func needTorch(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no subprocesses under " + runtime.GOOS + "; the native test run checks parity with PyTorch")
	}
	out, err := exec.Command(python, "-c", "import torch, numpy; print(torch.__version__)").CombinedOutput()
	if err == nil {
		return
	}
	msg := "PyTorch parity test needs " + python + " with torch and numpy (apt-get install -y python3-torch): " + err.Error() + ": " + string(out)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func writeF32(t *testing.T, path string, x []float32) {
	t.Helper()
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readF32(t *testing.T, path string, n int) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*n {
		t.Fatalf("%s: %d bytes, want %d", path, len(b), 4*n)
	}
	x := make([]float32, n)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

func readF64(t *testing.T, path string, n int) []float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 8*n {
		t.Fatalf("%s: %d bytes, want %d", path, len(b), 8*n)
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return x
}

// relErr is |got-want| relative to max(|want|, 1): the parameters start at
// unit scale, so this is the error relative to the size of the values that
// the rounding of each update is proportional to.
func relErr(got, want float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), 1)
}

func TestTorchParity(t *testing.T) {
	needTorch(t)
	const steps = 60
	tensors := []parityTensor{
		{Name: "conv.w", Len: 35},
		{Name: "norm.scale", Len: 8, NoDecay: true},
		{Name: "lin.w", Len: 24},
		{Name: "lin.b", Len: 6, NoDecay: true},
	}
	n := 0
	var groups []Group
	for i := range tensors {
		tensors[i].Offset = n
		groups = append(groups, Group{Offset: n, Len: tensors[i].Len, NoDecay: tensors[i].NoDecay})
		n += tensors[i].Len
	}
	rng := rand.New(rand.NewPCG(1, 2))
	w0 := make([]float32, n)
	for i := range w0 {
		w0[i] = float32(rng.NormFloat64())
	}
	// Gradients of mixed scales per tensor, a few exact zeros, and a drift so
	// momentum matters.
	scales := []float64{0.5, 0.02, 3, 1e-4}
	dws := make([]float32, steps*n)
	for k := range steps {
		for ti, tn := range tensors {
			for j := range tn.Len {
				i := tn.Offset + j
				g := scales[ti] * (rng.NormFloat64() + 0.3*math.Sin(float64(i)+0.1*float64(k)))
				if j == 0 && k%7 == 3 {
					g = 0
				}
				dws[k*n+i] = float32(g)
			}
		}
	}
	oc := &paritySchedule{Kind: "onecycle", MaxLR: 0.1, Total: steps, PctStart: 0.3, DivFactor: 25,
		FinalDivFactor: 1e4, BaseMomentum: 0.85, MaxMomentum: 0.95}
	cos := &paritySchedule{Kind: "cosine", Base: 3e-2, Floor: 1e-4, Warmup: 10, Total: steps}
	cases := []parityCase{
		{Name: "sgd", Opt: "sgd", LR: 0.05},
		{Name: "sgd_momentum_wd", Opt: "sgd", LR: 0.05, Momentum: 0.9, WD: 1e-2},
		{Name: "sgd_nesterov_wd", Opt: "sgd", LR: 0.05, Momentum: 0.9, WD: 1e-2, Nesterov: true},
		{Name: "sgd_onecycle_clip", Opt: "sgd", LR: 0.1, Momentum: 0.9, WD: 5e-4, Nesterov: true, Clip: 1, Schedule: oc},
		{Name: "adam", Opt: "adam", LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
		{Name: "adam_l2", Opt: "adam", LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WD: 1e-2},
		{Name: "adamw", Opt: "adamw", LR: 1e-2, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WD: 0.05},
		{Name: "adamw_cosine_clip", Opt: "adamw", LR: 3e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-6, WD: 0.1, Clip: 0.5, Schedule: cos},
		{Name: "adam_onecycle", Opt: "adam", LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Schedule: oc},
		{Name: "ema", Opt: "ema", Decay: 0.9},
		{Name: "ema_warmup", Opt: "ema", Decay: 0.999, Warmup: true},
		{Name: "sched_constant", Opt: "schedule", Count: 40, Schedule: &paritySchedule{Kind: "constant", Base: 2e-4, Warmup: 25}},
		{Name: "sched_cosine", Opt: "schedule", Count: 101, Schedule: &paritySchedule{Kind: "cosine", Base: 1e-3, Floor: 1e-5, Warmup: 7, Total: 100}},
		{Name: "sched_cosine_nowarm", Opt: "schedule", Count: 51, Schedule: &paritySchedule{Kind: "cosine", Base: 0.1, Total: 50}},
		{Name: "sched_onecycle", Opt: "schedule", Count: 1001, For: "sgd", Schedule: &paritySchedule{Kind: "onecycle", MaxLR: 0.4, Total: 1000,
			PctStart: 0.3, DivFactor: 25, FinalDivFactor: 1e4, BaseMomentum: 0.85, MaxMomentum: 0.95}},
		{Name: "sched_onecycle_adam", Opt: "schedule", Count: 77, For: "adam", Schedule: &paritySchedule{Kind: "onecycle", MaxLR: 3e-3, Total: 77,
			PctStart: 0.25, DivFactor: 10, FinalDivFactor: 100, BaseMomentum: 0.8, MaxMomentum: 0.9}},
	}
	dir := t.TempDir()
	cfg := parityConfig{N: n, Steps: steps, Tensors: tensors, Cases: cases}
	js, err := json.MarshalIndent(cfg, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	writeF32(t, filepath.Join(dir, "w0.bin"), w0)
	writeF32(t, filepath.Join(dir, "grads.bin"), dws)
	script, err := filepath.Abs(filepath.Join("testdata", "parity.py"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(python, script, dir).CombinedOutput(); err != nil {
		t.Fatalf("parity.py: %v\n%s", err, out)
	}

	const (
		trajTol  = 1e-6  // optimiser trajectories, relative to max(|torch|, 1)
		normTol  = 1e-6  // gradient norms, relative
		schedTol = 1e-12 // schedules (float64), relative to max(|torch|, 1)
	)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Opt == "schedule" {
				want := readF64(t, filepath.Join(dir, "sched_"+c.Name+".bin"), 2*c.Count)
				s := c.Schedule.schedule()
				worst := 0.0
				for k := range c.Count {
					lr, mom := s.LR(k), want[2*k+1]
					if ms, ok := s.(MomentumSchedule); ok {
						mom = ms.Momentum(k)
					}
					e := math.Max(relErr(lr, want[2*k]), relErr(mom, want[2*k+1]))
					if e > schedTol {
						t.Fatalf("step %d: lr %.17g momentum %.17g, torch %.17g %.17g", k, lr, mom, want[2*k], want[2*k+1])
					}
					worst = math.Max(worst, e)
				}
				t.Logf("max relative error %.3g over %d steps", worst, c.Count)
				return
			}
			want := readF32(t, filepath.Join(dir, "out_"+c.Name+".bin"), steps*n)
			var wantNorm []float64
			if c.Clip > 0 {
				wantNorm = readF64(t, filepath.Join(dir, "norm_"+c.Name+".bin"), steps)
			}
			w := append([]float32(nil), w0...)
			var opt Optimizer
			var ema *EMA
			switch c.Opt {
			case "sgd":
				opt = NewSGD(n, c.LR, c.Momentum, c.WD, c.Nesterov, groups)
			case "adam":
				opt = NewAdam(n, c.LR, c.Beta1, c.Beta2, c.Eps, c.WD, groups)
			case "adamw":
				opt = NewAdamW(n, c.LR, c.Beta1, c.Beta2, c.Eps, c.WD, groups)
			case "ema":
				ema = NewEMA(w0, c.Decay, c.Warmup)
			}
			var sched Schedule
			if c.Schedule != nil {
				sched = c.Schedule.schedule()
			}
			worst, worstNorm, exact := 0.0, 0.0, 0
			dw := make([]float32, n)
			for k := range steps {
				copy(dw, dws[k*n:(k+1)*n])
				got := w
				if ema != nil {
					ema.Update(dw)
					got = ema.W
				} else {
					if sched != nil {
						opt.SetLR(sched.LR(k))
						if ms, ok := sched.(MomentumSchedule); ok {
							opt.SetMomentum(ms.Momentum(k))
						}
					}
					if c.Clip > 0 {
						norm := ClipGradNorm(dw, c.Clip)
						e := relErr(norm, wantNorm[k])
						worstNorm = math.Max(worstNorm, e)
						if e > normTol {
							t.Fatalf("step %d: grad norm %.9g, torch %.9g", k, norm, wantNorm[k])
						}
					}
					opt.Step(w, dw)
				}
				for i := range n {
					g, x := got[i], want[k*n+i]
					if g == x {
						exact++
					}
					e := relErr(float64(g), float64(x))
					worst = math.Max(worst, e)
					if e > trajTol || math.IsNaN(float64(g)) {
						t.Fatalf("step %d, param %d: got %.9g, torch %.9g (rel %.3g)", k, i, g, x, e)
					}
				}
			}
			t.Logf("max relative error %.3g, %d of %d values bit-equal, grad norm max rel %.3g", worst, exact, steps*n, worstNorm)
		})
	}
}
