package sim

import (
	"math"
	"testing"
)

// TestExperimentTrends checks the claimed trends on the Monte Carlo series of
// moderate runs: robust accuracy falls as sigma~ grows (spread), rises with m
// (samples), and rises with the minimum pairwise separation (kclass).
// The points are far enough apart that each rise exceeds 3 standard errors.
func TestExperimentTrends(t *testing.T) {
	run := func(name string, over map[string]float64) *Result {
		e, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.Run(over, 5, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	increasing := func(what string, s Series) {
		for i := 1; i < len(s.Y); i++ {
			// The rise must exceed 3 standard errors of the difference.
			se0, se1 := (s.Hi[i-1]-s.Lo[i-1])/(2*1.96), (s.Hi[i]-s.Lo[i])/(2*1.96)
			if !(s.Y[i]-s.Y[i-1] > 3*math.Sqrt(se0*se0+se1*se1)) {
				t.Errorf("%s: %q not clearly increasing at point %d: %v", what, s.Name, i, s.Y)
				return
			}
		}
	}
	reverse := func(s Series) Series {
		o := Series{Name: s.Name}
		for i := len(s.X) - 1; i >= 0; i-- {
			o.X, o.Y, o.Lo, o.Hi = append(o.X, s.X[i]), append(o.Y, s.Y[i]), append(o.Lo, s.Lo[i]), append(o.Hi, s.Hi[i])
		}
		return o
	}
	r := run("spread", map[string]float64{"d": 50, "sigmaMin": 0.5, "sigmaMax": 3, "points": 3, "reps": 100, "logistic": 0})
	increasing("spread (sigma~ decreasing)", reverse(r.Panels[0].Series[0]))
	r = run("samples", map[string]float64{"d": 50, "mMin": 2, "mMax": 50, "points": 3, "reps": 100})
	for _, s := range r.Panels[0].Series {
		if s.Lo != nil {
			increasing("samples", s)
		}
	}
	r = run("kclass", map[string]float64{"points": 3, "reps": 20, "test": 500})
	increasing("kclass (vary sigma~, separation increasing)", reverse(r.Panels[0].Series[0]))
	increasing("kclass (vary scale c)", r.Panels[0].Series[1])
}
