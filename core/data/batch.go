package data

import (
	"fmt"
	"math/rand/v2"
)

// Epoch returns the batches of one epoch over n examples: a permutation drawn from rng (the
// identity if rng is nil) cut into batches of size, the last one shorter unless dropLast.
func Epoch(n, size int, dropLast bool, rng *rand.Rand) [][]int {
	if size <= 0 || n < 0 {
		panic(fmt.Sprintf("data: Epoch: n = %d, batch size = %d", n, size))
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	if rng != nil {
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	}
	var batches [][]int
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		if hi-lo < size && dropLast {
			break
		}
		batches = append(batches, perm[lo:hi:hi])
	}
	return batches
}

// Gather copies the examples idx of d into x (len(idx), C, H, W) and y (len(idx)). It panics if
// x or y is too short.
func (d *Dataset) Gather(idx []int, x []float32, y []int) {
	s := d.Size()
	if len(x) < len(idx)*s || len(y) < len(idx) {
		panic(fmt.Sprintf("data: Gather: %d examples of (%d, %d, %d) need %d values and %d labels, have %d and %d",
			len(idx), d.C, d.H, d.W, len(idx)*s, len(idx), len(x), len(y)))
	}
	for k, i := range idx {
		copy(x[k*s:(k+1)*s], d.Images[i*s:(i+1)*s])
		y[k] = d.Labels[i]
	}
}

// Augment describes random data augmentation of a batch.
type Augment struct {
	// Pad > 0 enables random cropping: pad by Pad pixels of background on each side, then crop
	// back to (H, W) at a uniformly random offset.
	Pad int
	// Flip mirrors each image horizontally with probability 1/2. It does not suit digits (a
	// mirrored 2 is no digit); use it for CIFAR and, optionally, Fashion-MNIST.
	Flip bool
}

// DefaultAugment returns the usual augmentation for a dataset source: a 4-pixel random crop and
// horizontal flips for CIFAR, a 2-pixel crop without flips for MNIST and Fashion-MNIST, none
// otherwise.
func DefaultAugment(source string) Augment {
	switch source {
	case "cifar10", "cifar100":
		return Augment{Pad: 4, Flip: true}
	case "mnist", "fashion-mnist":
		return Augment{Pad: 2}
	}
	return Augment{}
}

// Apply augments the batch x (n, c, h, w) in place with randomness from rng. background is the
// value that padding shows (0 for [0, 1] pixels, -1 for [-1, 1]).
func (a Augment) Apply(x []float32, n, c, h, w int, background float32, rng *rand.Rand) {
	if len(x) != n*c*h*w {
		panic(fmt.Sprintf("data: Augment.Apply: %d values for (N, C, H, W) = (%d, %d, %d, %d)", len(x), n, c, h, w))
	}
	if a.Pad <= 0 && !a.Flip {
		return
	}
	tmp := make([]float32, c*h*w)
	for i := 0; i < n; i++ {
		img := x[i*c*h*w : (i+1)*c*h*w]
		dy, dx := 0, 0
		if a.Pad > 0 {
			dy = rng.IntN(2*a.Pad+1) - a.Pad
			dx = rng.IntN(2*a.Pad+1) - a.Pad
		}
		flip := a.Flip && rng.IntN(2) == 1
		if dy == 0 && dx == 0 && !flip {
			continue
		}
		copy(tmp, img)
		// out(y, x') = in(y + dy, x'' + dx) where x'' = w-1-x' when flipped; outside: background.
		for ch := 0; ch < c; ch++ {
			src := tmp[ch*h*w:]
			dst := img[ch*h*w:]
			for yy := 0; yy < h; yy++ {
				sy := yy + dy
				for xx := 0; xx < w; xx++ {
					sx := xx
					if flip {
						sx = w - 1 - xx
					}
					sx += dx
					if sy < 0 || sy >= h || sx < 0 || sx >= w {
						dst[yy*w+xx] = background
					} else {
						dst[yy*w+xx] = src[sy*w+sx]
					}
				}
			}
		}
	}
}
