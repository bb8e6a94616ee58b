package generate

import (
	"fmt"
	"math"
	"strings"

	"github.com/cdp-project/cdp/core/classify"
	"github.com/cdp-project/cdp/core/diffusion"
	"github.com/cdp-project/cdp/simd"
)

// Sampler describes the reverse process of a run (cdp sample's --sampler,
// --steps, --eta, --spacing and --clip).
type Sampler struct {
	Name    string  // ddpm|ddim
	Steps   int     // visited timesteps, 1..T
	Eta     float64 // DDIM's eta (0: deterministic); DDPM ignores it
	Spacing string  // linspace|even|uniform|quadratic
	Clip    bool    // clip x0hat to [-1, 1] at every step
}

// Config checks s against the schedule and returns the diffusion.Config
// that runs it (Batch, Seed, Offset and Callback are left to the caller).
func (s Sampler) Config(sched *diffusion.Schedule) (diffusion.Config, error) {
	if s.Steps < 1 || s.Steps > sched.T {
		return diffusion.Config{}, optErr("steps", "%d must lie in 1..%d", s.Steps, sched.T)
	}
	if s.Eta < 0 || math.IsNaN(s.Eta) || math.IsInf(s.Eta, 0) {
		return diffusion.Config{}, optErr("eta", "%v must be finite and not negative", s.Eta)
	}
	spacing, err := diffusion.ParseSpacing(s.Spacing)
	if err != nil {
		return diffusion.Config{}, optErr("spacing", "%s", strings.TrimPrefix(err.Error(), "diffusion: "))
	}
	sampler, err := diffusion.SamplerByName(s.Name, s.Eta)
	if err != nil {
		return diffusion.Config{}, optErr("sampler", "%s", strings.TrimPrefix(err.Error(), "diffusion: "))
	}
	return diffusion.Config{Schedule: sched, Sampler: sampler, Timesteps: diffusion.Timesteps(sched.T, s.Steps, spacing), Clip: s.Clip}, nil
}

// Stats are what a feature network says of a set of samples.
type Stats struct {
	// MeanCosine is the mean cosine similarity of the network's features
	// over all pairs of distinct samples: the lower, the easier the samples
	// are to tell apart (what contrastive guidance pushes down).
	MeanCosine float64 `json:"meanCosine"`
	// Agreement is the share of samples that the network classifies as
	// their label.
	Agreement float64 `json:"agreement"`
}

// Measure computes Stats of samples x, (len(y), C, size, size) in [-1, 1] as
// the diffusion model makes them, with net (a classifier from cdp advtrain).
func Measure(net *classify.Net, x []float32, y []int, size int) (Stats, error) {
	n := len(y)
	if n < 2 {
		return Stats{}, fmt.Errorf("generate: measuring samples needs at least 2, got %d", n)
	}
	if len(x) != n*net.Cfg.InCh*size*size {
		return Stats{}, fmt.Errorf("generate: %d values for %d samples of %dx%dx%d", len(x), n, net.Cfg.InCh, size, size)
	}
	fv, err := net.FeatureView(size)
	if err != nil {
		return Stats{}, err
	}
	h, d := fv.Features(x, n)
	h = append([]float32(nil), h[:n*d]...)
	simd.NormalizeRows(h, n, d)
	var sum float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			sum += float64(simd.Dot(h[i*d:(i+1)*d], h[j*d:(j+1)*d]))
		}
	}
	lv, err := net.LogitView(size)
	if err != nil {
		return Stats{}, err
	}
	logits, k := lv.Logits(x, n, diffusion.Step{})
	right := classify.CountCorrect(logits, y, k)
	return Stats{MeanCosine: sum / float64(n*(n-1)/2), Agreement: float64(right) / float64(n)}, nil
}
