package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// DefaultSynthFrac is the default share of synthetic examples in a mixed batch.
const DefaultSynthFrac = 0.7

// cycler hands out example indices from successive random permutations of 0..n-1.
type cycler struct {
	perm []int
	pos  int
	rng  *rand.Rand
}

func newCycler(n int, rng *rand.Rand) *cycler {
	c := &cycler{perm: make([]int, n), rng: rng}
	for i := range c.perm {
		c.perm[i] = i
	}
	c.pos = n // shuffle on first use
	return c
}

func (c *cycler) next() int {
	if c.pos == len(c.perm) {
		c.rng.Shuffle(len(c.perm), func(i, j int) { c.perm[i], c.perm[j] = c.perm[j], c.perm[i] })
		c.pos = 0
	}
	i := c.perm[c.pos]
	c.pos++
	return i
}

// Mixer draws batches that mix real and synthetic examples (the adversarial-training setting of
// Contrastive-DP: generated data added to the real training set). Each batch holds a fixed share
// of synthetic examples, spread so that the running share equals the fraction exactly in the long
// run; each source is visited in successive random permutations, and positions within a batch are
// shuffled. Everything follows from the *rand.Rand given to NewMixer.
type Mixer struct {
	Real, Synth *Dataset
	Batch       int     // examples per batch
	SynthFrac   float64 // share of synthetic examples

	real, synth *cycler
	rng         *rand.Rand
	k           int // batches drawn so far
	order       []int
}

// NewMixer returns a mixer of real and synth with batches of size batch of which a share synthFrac
// (0..1) is synthetic. The two datasets must have the same image shape, range and classes.
func NewMixer(real, synth *Dataset, batch int, synthFrac float64, rng *rand.Rand) (*Mixer, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("data: mixer: batch size %d", batch)
	}
	if !(synthFrac >= 0 && synthFrac <= 1) {
		return nil, fmt.Errorf("data: mixer: synthetic fraction %v is outside [0, 1]", synthFrac)
	}
	if synthFrac < 1 && (real == nil || real.N == 0) {
		return nil, fmt.Errorf("data: mixer: no real examples for a synthetic fraction of %v", synthFrac)
	}
	if synthFrac > 0 && (synth == nil || synth.N == 0) {
		return nil, fmt.Errorf("data: mixer: no synthetic examples for a synthetic fraction of %v", synthFrac)
	}
	if real != nil && synth != nil {
		if real.C != synth.C || real.H != synth.H || real.W != synth.W {
			return nil, fmt.Errorf("data: mixer: real images are (H, W, C) = (%d, %d, %d) but synthetic ones (%d, %d, %d) (%s)",
				real.H, real.W, real.C, synth.H, synth.W, synth.C, synth.Provenance)
		}
		if real.Signed != synth.Signed {
			return nil, fmt.Errorf("data: mixer: real and synthetic images use different pixel ranges")
		}
		if real.Classes != synth.Classes {
			return nil, fmt.Errorf("data: mixer: real data have %d classes, synthetic data %d", real.Classes, synth.Classes)
		}
	}
	m := &Mixer{Real: real, Synth: synth, Batch: batch, SynthFrac: synthFrac, rng: rng}
	nReal, nSynth := 0, 0
	if real != nil {
		nReal = real.N
	}
	if synth != nil {
		nSynth = synth.N
	}
	// Each source draws from its own stream, split from rng, so that the order of one does not
	// depend on how many examples the other supplied.
	m.real = newCycler(nReal, rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())))
	m.synth = newCycler(nSynth, rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())))
	m.order = make([]int, batch)
	return m, nil
}

// Size returns C*H*W of one example.
func (m *Mixer) Size() int {
	if m.Real != nil {
		return m.Real.Size()
	}
	return m.Synth.Size()
}

// synthCount returns the number of synthetic examples in batch k: the difference of the rounded
// running totals, so that any run of batches holds round(share) synthetic examples.
func (m *Mixer) synthCount(k int) int {
	f := m.SynthFrac * float64(m.Batch)
	return int(math.Floor(float64(k+1)*f+0.5)) - int(math.Floor(float64(k)*f+0.5))
}

// Next fills x (Batch, C, H, W) and y (Batch) with the next mixed batch and returns how many of its
// examples are synthetic. If fromSynth is not nil, fromSynth[i] reports whether example i is
// synthetic. It panics if a buffer is too short.
func (m *Mixer) Next(x []float32, y []int, fromSynth []bool) int {
	s := m.Size()
	if len(x) < m.Batch*s || len(y) < m.Batch || (fromSynth != nil && len(fromSynth) < m.Batch) {
		panic(fmt.Sprintf("data: Mixer.Next: batch %d of size %d needs %d values and %d labels, have %d and %d",
			m.Batch, s, m.Batch*s, m.Batch, len(x), len(y)))
	}
	ns := m.synthCount(m.k)
	m.k++
	for i := range m.order {
		m.order[i] = i
	}
	m.rng.Shuffle(m.Batch, func(i, j int) { m.order[i], m.order[j] = m.order[j], m.order[i] })
	for j, pos := range m.order {
		src, i := m.Real, 0
		isSynth := j < ns
		if isSynth {
			src, i = m.Synth, m.synth.next()
		} else {
			i = m.real.next()
		}
		copy(x[pos*s:(pos+1)*s], src.Images[i*s:(i+1)*s])
		y[pos] = src.Labels[i]
		if fromSynth != nil {
			fromSynth[pos] = isSynth
		}
	}
	return ns
}
