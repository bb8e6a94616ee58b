package diffusion

import (
	"fmt"
	"math"
)

// Schedule is a noise schedule of T steps, computed in float64. Arrays have
// length T+1 and are indexed by the timestep t = 1..T; index 0 is the clean
// data: Beta[0] = 0, Alpha[0] = AlphaBar[0] = 1.
type Schedule struct {
	T        int
	Beta     []float64 // beta_t
	Alpha    []float64 // alpha_t = 1 - beta_t
	AlphaBar []float64 // alphaBar_t = prod_{u<=t} alpha_u
}

// NewSchedule builds a schedule from beta_1..beta_T (len(beta) = T).
func NewSchedule(beta []float64) *Schedule {
	T := len(beta)
	s := &Schedule{T: T, Beta: make([]float64, T+1), Alpha: make([]float64, T+1), AlphaBar: make([]float64, T+1)}
	s.Alpha[0], s.AlphaBar[0] = 1, 1
	for t := 1; t <= T; t++ {
		b := beta[t-1]
		if !(b > 0 && b < 1) {
			panic(fmt.Sprintf("diffusion.NewSchedule: beta_%d = %v outside (0, 1)", t, b))
		}
		s.Beta[t] = b
		s.Alpha[t] = 1 - b
		s.AlphaBar[t] = s.AlphaBar[t-1] * (1 - b)
	}
	return s
}

// Linear is the DDPM schedule with beta rising linearly from beta1 (t = 1) to
// betaT (t = T): beta_t = beta1 + (betaT - beta1)(t-1)/(T-1).
func Linear(T int, beta1, betaT float64) *Schedule {
	if T < 1 {
		panic(fmt.Sprintf("diffusion.Linear: T = %d", T))
	}
	beta := make([]float64, T)
	for i := range beta {
		if T == 1 {
			beta[i] = beta1
			continue
		}
		beta[i] = beta1 + (betaT-beta1)*float64(i)/float64(T-1)
	}
	return NewSchedule(beta)
}

// Cosine is the schedule of Nichol & Dhariwal (2021): with
// f(u) = cos^2((u + s)/(1 + s) * pi/2), beta_t = min(1 - f(t/T)/f((t-1)/T), maxBeta).
// The paper uses s = 0.008 and maxBeta = 0.999.
func Cosine(T int, s, maxBeta float64) *Schedule {
	if T < 1 {
		panic(fmt.Sprintf("diffusion.Cosine: T = %d", T))
	}
	f := func(u float64) float64 {
		c := math.Cos((u + s) / (1 + s) * math.Pi / 2)
		return c * c
	}
	beta := make([]float64, T)
	for i := range beta {
		b := 1 - f(float64(i+1)/float64(T))/f(float64(i)/float64(T))
		beta[i] = math.Min(b, maxBeta)
	}
	return NewSchedule(beta)
}

// DefaultT is the number of diffusion steps used throughout the paper.
const DefaultT = 1000

// ScheduleByName returns a named schedule with the papers' constants:
// "linear" (beta 1e-4 .. 0.02 at T = 1000, both scaled by 1000/T otherwise,
// as in improved-diffusion) or "cosine" (s = 0.008, betas clipped at 0.999).
func ScheduleByName(name string, T int) (*Schedule, error) {
	if T < 2 {
		return nil, fmt.Errorf("diffusion: T must be at least 2, got %d", T)
	}
	switch name {
	case "linear":
		scale := 1000 / float64(T)
		if 0.02*scale >= 1 {
			return nil, fmt.Errorf("diffusion: T = %d too small for the linear schedule", T)
		}
		return Linear(T, 1e-4*scale, 0.02*scale), nil
	case "cosine":
		return Cosine(T, 0.008, 0.999), nil
	}
	return nil, fmt.Errorf("diffusion: unknown schedule %q (want linear or cosine)", name)
}

// Spacing chooses which timesteps a sampler visits.
type Spacing int

const (
	// Even spaces S steps evenly over 1..T, both ends included, rounding to
	// the nearest step (improved-diffusion's respacing).
	Even Spacing = iota
	// Uniform takes every (T/S)-th step starting at t = 1 (DDIM's "uniform"
	// skip: 0-based k*skip, k = 0..S-1).
	Uniform
	// Quadratic takes t = 1 + floor((k * sqrt(0.8 T)/(S-1))^2), k = 0..S-1,
	// (DDIM's "quad" skip), dropping repeats.
	Quadratic
	// Linspace takes t = 1 + trunc(k (T-1)/(S-1)), k = 0..S-1, both ends
	// included: numpy's linspace(0, T-1, S, dtype=int), the sampler of the
	// authors' MNIST code (250 of 1000). It differs from Even only in
	// truncating instead of rounding.
	Linspace
)

// Timesteps returns the S timesteps of a trajectory over T steps in the
// order a sampler visits them, decreasing: ts[0] is the noisiest, ts[S-1] the
// last one (which then steps to t = 0). Every value lies in 1..T. Quadratic
// spacing can return fewer than S steps when S is close to T.
func Timesteps(T, S int, spacing Spacing) []int {
	if S < 1 || S > T {
		panic(fmt.Sprintf("diffusion.Timesteps: S = %d steps of T = %d", S, T))
	}
	var up []int
	switch spacing {
	case Even:
		if S == 1 {
			up = []int{T}
			break
		}
		stride := float64(T-1) / float64(S-1)
		for k := 0; k < S; k++ {
			up = append(up, 1+int(math.Round(float64(k)*stride)))
		}
	case Linspace:
		if S == 1 {
			up = []int{1}
			break
		}
		step := float64(T-1) / float64(S-1)
		for k := 0; k < S-1; k++ {
			up = append(up, 1+int(float64(k)*step))
		}
		up = append(up, T)
	case Uniform:
		skip := T / S
		for k := 0; k < S; k++ {
			up = append(up, 1+k*skip)
		}
	case Quadratic:
		if S == 1 {
			up = []int{1}
			break
		}
		top := math.Sqrt(0.8 * float64(T))
		for k := 0; k < S; k++ {
			v := float64(k) * top / float64(S-1)
			t := 1 + int(v*v)
			if len(up) > 0 && t <= up[len(up)-1] {
				continue
			}
			up = append(up, t)
		}
	default:
		panic(fmt.Sprintf("diffusion.Timesteps: unknown spacing %d", spacing))
	}
	ts := make([]int, len(up))
	for i, t := range up {
		ts[len(up)-1-i] = t
	}
	return ts
}

// String returns the name of the spacing, as ParseSpacing reads it.
func (s Spacing) String() string {
	switch s {
	case Even:
		return "even"
	case Uniform:
		return "uniform"
	case Quadratic:
		return "quadratic"
	case Linspace:
		return "linspace"
	}
	return fmt.Sprintf("Spacing(%d)", int(s))
}

// ParseSpacing reads a spacing name: even, uniform, quadratic or linspace.
func ParseSpacing(name string) (Spacing, error) {
	for _, s := range []Spacing{Even, Uniform, Quadratic, Linspace} {
		if s.String() == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("diffusion: unknown spacing %q (want even, uniform, quadratic or linspace)", name)
}
