package sim

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cdp-project/cdp/simd"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json from this (native) run")

// smallRuns are cheap versions of every experiment, for the golden test.
var smallRuns = map[string]map[string]float64{
	"spread":    {"d": 20, "m": 5, "points": 3, "reps": 10, "logisticReps": 3, "logisticSteps": 10},
	"samples":   {"d": 20, "mMax": 50, "points": 3, "reps": 10},
	"direction": {"d": 20, "m": 30, "points": 3, "reps": 10},
	"mixing":    {"d": 20, "n": 5, "mMax": 20, "points": 3, "reps": 10},
	"kclass":    {"K": 3, "d": 6, "m": 5, "points": 3, "reps": 4, "test": 50},
	"guided2d":  {"n": 24, "steps": 20, "lambdas": 2, "reps": 2, "test": 50},
	"guidedhd":  {"d": 6, "n": 24, "steps": 20, "lambdas": 2, "reps": 2, "test": 50},
}

const goldenSeed = 20230723

func runSmall(t *testing.T) map[string]*Result {
	t.Helper()
	out := map[string]*Result{}
	for _, e := range Experiments() {
		over, ok := smallRuns[e.Name]
		if !ok {
			t.Fatalf("experiment %s has no small run for the golden test", e.Name)
		}
		r, err := e.Run(over, goldenSeed, nil)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		out[e.Name] = r
	}
	return out
}

// TestGolden compares small runs of every experiment with
// testdata/golden.json, written natively by `go test -run Golden -update`.
// The same test runs under GOOS=js GOARCH=wasm (see docs/theory.md), so a
// pass there shows the browser computes the same numbers. The tolerance
// (1e-9 relative) allows for the last bits of math.Exp/Log, which have
// assembly versions on amd64 and pure Go ones on wasm; the test logs the
// largest difference it saw.
func TestGolden(t *testing.T) {
	// The guided runs use simd kernels: the generic set is the one every
	// target has, so native and wasm runs compute the same float32 sums.
	prev := simd.Impl()
	if err := simd.Use("generic"); err != nil {
		t.Fatal(err)
	}
	defer simd.Use(prev)
	got := runSmall(t)
	path := filepath.Join("testdata", "golden.json")
	if *update {
		b, err := json.MarshalIndent(got, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it natively with: go test -run Golden -update ./sim/)", err)
	}
	var want map[string]*Result
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Errorf("golden file has %d experiments, the registry %d", len(want), len(got))
	}
	var maxDiff float64
	identical := true
	for name, g := range got {
		w, ok := want[name]
		if !ok {
			t.Errorf("%s missing from the golden file", name)
			continue
		}
		if !reflect.DeepEqual(w.Params, g.Params) || w.Seed != g.Seed || len(w.Panels) != len(g.Panels) {
			t.Errorf("%s: parameters, seed or panels differ from the golden file", name)
			continue
		}
		for p := range g.Panels {
			gs, ws := g.Panels[p].Series, w.Panels[p].Series
			if len(gs) != len(ws) {
				t.Errorf("%s panel %d: %d series, golden %d", name, p, len(gs), len(ws))
				continue
			}
			for s := range gs {
				for _, pair := range [][2][]float64{{gs[s].X, ws[s].X}, {gs[s].Y, ws[s].Y}, {gs[s].Lo, ws[s].Lo}, {gs[s].Hi, ws[s].Hi}} {
					a, b := pair[0], pair[1]
					if len(a) != len(b) {
						t.Errorf("%s %q: length %d, golden %d", name, gs[s].Name, len(a), len(b))
						continue
					}
					for i := range a {
						d := math.Abs(a[i] - b[i])
						if d != 0 {
							identical = false
						}
						maxDiff = math.Max(maxDiff, d)
						if d > 1e-9*(1+math.Abs(b[i])) {
							t.Errorf("%s %q point %d: %.17g, golden %.17g", name, gs[s].Name, i, a[i], b[i])
						}
					}
				}
			}
		}
	}
	t.Logf("largest difference from the golden file: %g (bit-identical: %v)", maxDiff, identical)
}

// TestDeterministic checks that a seed fixes the result and that another
// seed changes it.
func TestDeterministic(t *testing.T) {
	e, _ := Lookup("samples")
	over := smallRuns["samples"]
	a, _ := e.Run(over, 1, nil)
	b, _ := e.Run(over, 1, nil)
	c, _ := e.Run(over, 2, nil)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different results")
	}
	if reflect.DeepEqual(a.Panels, c.Panels) {
		t.Error("different seeds, same results")
	}
	var calls, lastDone, lastTotal int
	if _, err := e.Run(over, 1, func(done, total int) { calls++; lastDone, lastTotal = done, total }); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || lastDone != lastTotal {
		t.Errorf("progress: %d calls, last %d/%d", calls, lastDone, lastTotal)
	}
}
