package diffusion

import (
	"fmt"
	"math/rand/v2"
)

// mix64 is the splitmix64 finaliser, used to turn (seed, index) pairs into
// well-separated PCG states.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// ImageRNG returns the random stream of image number index of a run seeded
// with seed: a PCG whose state is derived from (seed, index). Every random
// draw of that image (its x_T, then the z of each step) comes from it, so an
// image does not depend on the batch size or on how a run is sharded.
func ImageRNG(seed uint64, index int) *rand.Rand {
	if index < 0 {
		panic(fmt.Sprintf("diffusion.ImageRNG: negative image index %d", index))
	}
	hi := mix64(seed ^ 0x6364702d6e6f6973) // "cdp-nois"
	lo := mix64(hi ^ mix64(uint64(index)))
	return rand.New(rand.NewPCG(hi, lo))
}

// Noise holds one random stream per image of a batch.
type Noise struct {
	rngs []*rand.Rand
}

// NewNoise returns the streams of images first..first+n-1 of a run.
func NewNoise(seed uint64, first, n int) *Noise {
	nz := &Noise{rngs: make([]*rand.Rand, n)}
	for i := range nz.rngs {
		nz.rngs[i] = ImageRNG(seed, first+i)
	}
	return nz
}

// NoiseFrom returns streams given by the caller, one per image (for callers
// that manage their own seeded *rand.Rand).
func NoiseFrom(rngs []*rand.Rand) *Noise { return &Noise{rngs: rngs} }

// N returns the number of images (streams).
func (nz *Noise) N() int { return len(nz.rngs) }

// Normal fills z, (N, D), with standard normal draws, row i from stream i.
func (nz *Noise) Normal(z []float32) {
	n := len(nz.rngs)
	if n == 0 {
		if len(z) != 0 {
			panic(fmt.Sprintf("diffusion.Noise.Normal: %d values for 0 images", len(z)))
		}
		return
	}
	if len(z)%n != 0 {
		panic(fmt.Sprintf("diffusion.Noise.Normal: %d values for %d images", len(z), n))
	}
	d := len(z) / n
	for i, r := range nz.rngs {
		row := z[i*d : (i+1)*d]
		for j := range row {
			row[j] = float32(r.NormFloat64())
		}
	}
}
