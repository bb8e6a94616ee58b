package diffusion

import (
	"context"
	"fmt"
	"math"

	"github.com/cdp-project/cdp/simd"
)

// StepInfo is what a Callback sees after each reverse step.
type StepInfo struct {
	Step            // the step just taken, from timestep Step.T to Step.Next
	X     []float32 // x at timestep Step.Next, (N, D); x_0 after the last step
	X0hat []float32 // the prediction of x_0 the step used (clipped if Options.Clip), (N, D)
	Eps   []float32 // the (guided) noise prediction the step used, (N, D)
}

// Callback is called after every step of a sampler (progress, trajectories).
// The slices belong to the sampler and are only valid during the call. A
// non-nil error stops sampling and is returned, wrapped.
type Callback func(info StepInfo) error

// Options are the inputs that every sampler shares besides the model and x.
type Options struct {
	Schedule  *Schedule
	Timesteps []int    // visited timesteps, strictly decreasing, in 1..T (see Timesteps)
	Clip      bool     // clip x0hat to [-1, 1] before the update (off by default)
	Callback  Callback // optional
	Offset    int      // global index of the first image of the batch, passed on in Step
}

// Sampler runs the reverse process on one batch: x, (N, D) with N = len(y),
// holds x_T on entry (standard normal) and x_0 on return. noise supplies the
// per-image random streams (one per row of x). Every sampler has this
// signature; DDPM and DDIM(eta) are the two provided.
type Sampler func(ctx context.Context, m EpsModel, x []float32, y []int, noise *Noise, o *Options) error

// coefs is one step written as x_s = X0*x0hat + X*x_t + Eps*eps + Z*z.
type coefs struct{ X0, X, Eps, Z float64 }

// DDPM is the ancestral sampler of Ho et al. on the kept timesteps: with
// beta = 1 - alphaBar_t/alphaBar_s recomputed between consecutive kept steps
// t > s (s = 0 after the last one), it takes the posterior mean
// sqrt(alphaBar_s) beta/(1-alphaBar_t) x0hat + sqrt(1-beta)(1-alphaBar_s)/(1-alphaBar_t) x_t
// plus the posterior standard deviation sqrt(beta (1-alphaBar_s)/(1-alphaBar_t))
// times z; the last step adds no noise and returns x0hat.
func DDPM(ctx context.Context, m EpsModel, x []float32, y []int, noise *Noise, o *Options) error {
	return reverse(ctx, m, x, y, noise, o, func(aT, aS float64) coefs {
		beta := 1 - aT/aS
		return coefs{
			X0: math.Sqrt(aS) * beta / (1 - aT),
			X:  math.Sqrt(1-beta) * (1 - aS) / (1 - aT),
			Z:  math.Sqrt(math.Max(beta*(1-aS)/(1-aT), 0)),
		}
	})
}

// DDIM returns the sampler of Song et al. with the given eta >= 0 (0: the
// deterministic sampler, 1: DDPM-like noise): from t to s,
// c1 = eta sqrt((1 - aBar_t/aBar_s)(1 - aBar_s)/(1 - aBar_t)), c2 = sqrt(1 - aBar_s - c1^2),
// x_s = sqrt(aBar_s) x0hat + c1 z + c2 eps.
func DDIM(eta float64) Sampler {
	if !(eta >= 0) || math.IsInf(eta, 1) {
		panic(fmt.Sprintf("diffusion.DDIM: eta = %v, want a finite eta >= 0", eta))
	}
	return func(ctx context.Context, m EpsModel, x []float32, y []int, noise *Noise, o *Options) error {
		return reverse(ctx, m, x, y, noise, o, func(aT, aS float64) coefs {
			c1 := eta * math.Sqrt(math.Max((1-aT/aS)*(1-aS)/(1-aT), 0))
			c2 := math.Sqrt(math.Max(1-aS-c1*c1, 0))
			return coefs{X0: math.Sqrt(aS), Eps: c2, Z: c1}
		})
	}
}

// checkTimesteps validates a trajectory against a schedule.
func checkTimesteps(ts []int, T int) error {
	if len(ts) == 0 {
		return fmt.Errorf("diffusion: no timesteps")
	}
	for k, t := range ts {
		if t < 1 || t > T {
			return fmt.Errorf("diffusion: timestep %d (position %d) outside 1..%d", t, k, T)
		}
		if k > 0 && t >= ts[k-1] {
			return fmt.Errorf("diffusion: timesteps not strictly decreasing at position %d (%d after %d)", k, t, ts[k-1])
		}
	}
	return nil
}

// firstNonFinite returns the index of the first NaN or Inf in v, or -1.
func firstNonFinite(v []float32) int {
	for i, f := range v {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return i
		}
	}
	return -1
}

// reverse is the loop shared by all samplers: for each kept step it calls the
// model, forms x0hat, and applies x_s = X0*x0hat + X*x_t + Eps*eps + Z*z.
func reverse(ctx context.Context, m EpsModel, x []float32, y []int, noise *Noise, o *Options, step func(aT, aS float64) coefs) error {
	n, d := len(y), m.Dim()
	if len(x) != n*d {
		panic(fmt.Sprintf("diffusion: x has length %d, want (N, D) = (%d, %d)", len(x), n, d))
	}
	if noise.N() != n {
		panic(fmt.Sprintf("diffusion: %d noise streams for %d images", noise.N(), n))
	}
	if o.Schedule == nil {
		panic("diffusion: Options.Schedule is nil")
	}
	sch, ts := o.Schedule, o.Timesteps
	if err := checkTimesteps(ts, sch.T); err != nil {
		return err
	}
	eps := make([]float32, n*d)
	x0hat := make([]float32, n*d)
	z := make([]float32, n*d)
	for k, t := range ts {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("diffusion: stopped before step %d of %d (t=%d): %w", k, len(ts), t, err)
		}
		next := 0
		if k+1 < len(ts) {
			next = ts[k+1]
		}
		st := Step{T: t, Next: next, AlphaBar: sch.AlphaBar[t], AlphaBarNext: sch.AlphaBar[next],
			Index: k, Steps: len(ts), Offset: o.Offset}
		if err := m.Eps(eps, x, y, st); err != nil {
			return fmt.Errorf("diffusion: model at step %d of %d (t=%d): %w", k, len(ts), t, err)
		}
		if i := firstNonFinite(eps); i >= 0 {
			return fmt.Errorf("diffusion: eps is %v at step %d of %d (t=%d), image %d", eps[i], k, len(ts), t, o.Offset+i/max(d, 1))
		}
		aT, aS := st.AlphaBar, st.AlphaBarNext
		// x0hat = (x_t - sqrt(1-aBar_t) eps) / sqrt(aBar_t)
		ra := 1 / math.Sqrt(aT)
		simd.ReverseStep(x0hat, x, eps, eps, float32(ra), float32(-math.Sqrt(1-aT)*ra), 0)
		c := step(aT, aS)
		if c.Z != 0 {
			noise.Normal(z)
		} else {
			clear(z)
		}
		if o.Clip {
			for i, v := range x0hat {
				x0hat[i] = min(max(v, -1), 1)
			}
			simd.ReverseStep(x, x, eps, z, float32(c.X), float32(c.Eps), float32(c.Z))
			simd.Axpy(float32(c.X0), x0hat, x)
		} else {
			// Substitute x0hat to keep one fused pass and avoid amplifying
			// float32 rounding by 1/sqrt(aBar_t) at the noisy end.
			a := c.X + c.X0*ra
			b := c.Eps - c.X0*math.Sqrt(1-aT)*ra
			simd.ReverseStep(x, x, eps, z, float32(a), float32(b), float32(c.Z))
		}
		if i := firstNonFinite(x); i >= 0 {
			return fmt.Errorf("diffusion: x is %v after step %d of %d (t=%d), image %d", x[i], k, len(ts), t, o.Offset+i/max(d, 1))
		}
		if o.Callback != nil {
			if err := o.Callback(StepInfo{Step: st, X: x, X0hat: x0hat, Eps: eps}); err != nil {
				return fmt.Errorf("diffusion: callback at step %d of %d (t=%d): %w", k, len(ts), t, err)
			}
		}
	}
	return nil
}

// Config describes a sampling run over many images.
type Config struct {
	Schedule  *Schedule
	Sampler   Sampler
	Timesteps []int    // strictly decreasing; see Timesteps
	Batch     int      // images per batch; 0 or more than len(y): one batch
	Seed      uint64   // with the image index, determines every random draw of that image
	Offset    int      // global index of the first image (shards of one run)
	Clip      bool     // clip x0hat to [-1, 1]
	Callback  Callback // called after every step of every batch (StepInfo.Offset names the batch)
}

// Sample draws len(y) images with labels y, batch after batch, and returns
// them as (len(y), D). Image i (global index Offset+i) starts from x_T drawn
// from ImageRNG(Seed, Offset+i) and takes its step noise from the same
// stream, so with an EpsModel that treats the items of a batch independently
// the result for each image does not depend on Batch or on sharding. (Batch
// coupling guidance, such as the contrastive loss, makes images depend on
// their batch by design.)
func Sample(ctx context.Context, m EpsModel, y []int, c Config) ([]float32, error) {
	if c.Sampler == nil {
		return nil, fmt.Errorf("diffusion: no sampler")
	}
	if c.Schedule == nil {
		return nil, fmt.Errorf("diffusion: no schedule")
	}
	if c.Offset < 0 {
		return nil, fmt.Errorf("diffusion: negative image offset %d", c.Offset)
	}
	if err := checkTimesteps(c.Timesteps, c.Schedule.T); err != nil {
		return nil, err
	}
	d := m.Dim()
	out := make([]float32, len(y)*d)
	bs := c.Batch
	if bs <= 0 || bs > len(y) {
		bs = len(y)
	}
	for lo := 0; lo < len(y); lo += bs {
		hi := min(lo+bs, len(y))
		x := out[lo*d : hi*d]
		noise := NewNoise(c.Seed, c.Offset+lo, hi-lo)
		noise.Normal(x)
		o := &Options{Schedule: c.Schedule, Timesteps: c.Timesteps, Clip: c.Clip, Callback: c.Callback, Offset: c.Offset + lo}
		if err := c.Sampler(ctx, m, x, y[lo:hi], noise, o); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SamplerByName returns "ddpm" or "ddim" (with the given eta; ignored by DDPM).
func SamplerByName(name string, eta float64) (Sampler, error) {
	switch name {
	case "ddpm":
		return DDPM, nil
	case "ddim":
		if !(eta >= 0) || math.IsInf(eta, 1) {
			return nil, fmt.Errorf("diffusion: eta = %v, want a finite eta >= 0", eta)
		}
		return DDIM(eta), nil
	}
	return nil, fmt.Errorf("diffusion: unknown sampler %q (want ddpm or ddim)", name)
}
