package optim

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Group names a range [Offset, Offset+Len) of the flat parameter buffer.
// NoDecay marks parameters that take no weight decay (norm layers, biases).
// Elements that no group covers take weight decay.
type Group struct {
	Offset, Len int
	NoDecay     bool
}

// Optimizer updates flat parameters w in place from their gradients dw.
type Optimizer interface {
	// Step applies one update. len(w) and len(dw) must equal the size the
	// optimiser was made for.
	Step(w, dw []float32)
	// SetLR sets the learning rate used by the following steps.
	SetLR(lr float64)
	// SetMomentum sets the momentum (SGD) or beta1 (Adam, AdamW) used by the
	// following steps, for momentum cycling (OneCycle.Momentum).
	SetMomentum(m float64)
	// State returns a copy of the resumable state.
	State() State
	// SetState restores a state returned by State.
	SetState(s State) error
}

// State is the resumable state of an optimiser or EMA: a kind, a step count
// (updates applied so far) and named flat float32 buffers, each as long as
// the parameter buffer. Hyper-parameters (learning rate, betas, decay) are not
// part of it: they belong to the run's configuration.
type State struct {
	Kind    string               // "sgd", "adam", "adamw" or "ema"
	Step    int64                // updates applied so far
	Buffers map[string][]float32 // e.g. "momentum"; "m", "v"; "ema"
}

// Names returns the buffer names in sorted order, for stable serialisation.
func (s State) Names() []string {
	names := make([]string, 0, len(s.Buffers))
	for k := range s.Buffers {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// restore copies the buffers of s into dst after checking kind, names and
// lengths; it changes nothing when it returns an error.
func restore(s State, kind string, dst map[string][]float32) error {
	if s.Kind != kind {
		return fmt.Errorf("optim: state is for %q, not %q", s.Kind, kind)
	}
	if s.Step < 0 {
		return fmt.Errorf("optim: %s state has negative step %d", kind, s.Step)
	}
	for name, buf := range dst {
		src, ok := s.Buffers[name]
		if !ok {
			return fmt.Errorf("optim: %s state lacks buffer %q", kind, name)
		}
		if len(src) != len(buf) {
			return fmt.Errorf("optim: %s state buffer %q has %d values, want %d", kind, name, len(src), len(buf))
		}
	}
	for name := range s.Buffers {
		if _, ok := dst[name]; !ok {
			return fmt.Errorf("optim: %s state has unknown buffer %q", kind, name)
		}
	}
	for name, buf := range dst {
		copy(buf, s.Buffers[name])
	}
	return nil
}

func copyBuffers(m map[string][]float32) map[string][]float32 {
	out := make(map[string][]float32, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

// segment is a run [lo, hi) of the flat buffer that either takes weight
// decay or not.
type segment struct {
	lo, hi int
	decay  bool
}

// segments splits [0, n) into runs by the NoDecay groups. It panics when a
// group lies outside [0, n) or when NoDecay groups overlap.
func segments(n int, groups []Group) []segment {
	var nd []Group
	for _, g := range groups {
		if g.Offset < 0 || g.Len < 0 || g.Offset+g.Len > n {
			panic(fmt.Sprintf("optim: group [%d, %d) outside parameters of length %d", g.Offset, g.Offset+g.Len, n))
		}
		if g.NoDecay && g.Len > 0 {
			nd = append(nd, g)
		}
	}
	sort.Slice(nd, func(i, j int) bool { return nd[i].Offset < nd[j].Offset })
	var segs []segment
	at := 0
	for _, g := range nd {
		if g.Offset < at {
			panic(fmt.Sprintf("optim: no-decay groups overlap at offset %d", g.Offset))
		}
		if g.Offset > at {
			segs = append(segs, segment{at, g.Offset, true})
		}
		segs = append(segs, segment{g.Offset, g.Offset + g.Len, false})
		at = g.Offset + g.Len
	}
	if at < n {
		segs = append(segs, segment{at, n, true})
	}
	return segs
}

func checkLen(op string, n int, w, dw []float32) {
	if len(w) != n || len(dw) != n {
		panic(fmt.Sprintf("optim: %s made for %d parameters, got w %d and dw %d", op, n, len(w), len(dw)))
	}
}

// fma32 returns a*b+c with one rounding of the exact product sum to float64
// and then to float32, the arithmetic of torch's fused a + alpha*b kernels.
// (The product of two float32 values is exact in float64; the two roundings
// of the sum agree with a single float32 rounding except in rare halfway
// cases.)
func fma32(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }
