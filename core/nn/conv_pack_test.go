package nn

import (
	"fmt"
	"testing"
)

// TestNHWCImage: the channels-last copy matches the definition for small
// and large planes (both orders of nhwcImage), channel counts off a
// multiple of 8, padding 0..2, and leaves the other images of dst alone.
func TestNHWCImage(t *testing.T) {
	rng := newRNG(12)
	for _, c := range []int{1, 3, 8, 12, 32} {
		for _, hw := range [][2]int{{3, 5}, {8, 8}, {32, 32}, {32, 40}} {
			for pad := 0; pad <= 2; pad++ {
				h, w := hw[0], hw[1]
				n := 3
				src := randn(rng, n*c*h*w, 1)
				hp, wp := h+2*pad, w+2*pad
				dst := make([]float32, n*hp*wp*c)
				for i := range dst {
					dst[i] = -7
				}
				img := 1
				nhwcImage(dst, src, img, c, h, w, pad)
				name := fmt.Sprintf("c=%d %dx%d pad=%d", c, h, w, pad)
				for i := range dst {
					im, r := i/(hp*wp*c), i%(hp*wp*c)
					y, x, ci := r/(wp*c), r/c%wp, r%c
					want := float32(-7)
					if im == img {
						want = 0
						if y >= pad && y < pad+h && x >= pad && x < pad+w {
							want = src[((img*c+ci)*h+y-pad)*w+x-pad]
						}
					}
					if dst[i] != want {
						t.Fatalf("%s: dst[%d] (image %d, y %d, x %d, c %d) = %v, want %v", name, i, im, y, x, ci, dst[i], want)
					}
				}
			}
		}
	}
}
