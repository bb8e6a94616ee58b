// Package data holds image datasets: parsers for idx (MNIST, Fashion-MNIST), CIFAR binary batches
// and npz files, the embedded MNIST subset, and seeded shuffling, batching, augmentation and the
// mixing of real and synthetic examples.
//
// Parsers read from io.Reader, io.ReaderAt or fs.FS; finding files on disk is the job of
// native/store. Every parser bounds its allocations by the input actually read, so hostile headers
// give errors, not panics or huge allocations.
package data

import (
	"fmt"
)

// Split names a part of a dataset.
type Split string

// The standard splits.
const (
	Train Split = "train"
	Test  Split = "test"
)

// Dataset is a labelled image set held as float32 pixels.
type Dataset struct {
	Images []float32 // (N, C, H, W), in [0, 1], or [-1, 1] when Signed
	Labels []int     // (N), each in [0, Classes)
	N      int       // number of examples
	C      int       // channels
	H      int       // height
	W      int       // width

	Classes    int    // number of classes
	Signed     bool   // pixels scaled to [-1, 1] (for the diffusion model)
	Source     string // "mnist", "fashion-mnist", "cifar10", "cifar100", "npz", ...
	Provenance string // human-readable: source, split, path and every transformation applied
}

// New returns a dataset over images (N, C, H, W) and labels (N), not copied. It panics if the
// lengths do not match the shape.
func New(images []float32, labels []int, n, c, h, w, classes int, source, provenance string) *Dataset {
	if n < 0 || c <= 0 || h <= 0 || w <= 0 || len(images) != n*c*h*w || len(labels) != n {
		panic(fmt.Sprintf("data: New: %d pixels and %d labels do not fit (N, C, H, W) = (%d, %d, %d, %d)",
			len(images), len(labels), n, c, h, w))
	}
	return &Dataset{Images: images, Labels: labels, N: n, C: c, H: h, W: w, Classes: classes, Source: source, Provenance: provenance}
}

// FromNHWC converts uint8 pixels (N, H, W, C) in 0..255 to a dataset (N, C, H, W) in [0, 1]. It
// panics if the lengths do not match the shape; it does not check the labels (see Validate).
func FromNHWC(pix []uint8, labels []int, n, h, w, c, classes int, source, provenance string) *Dataset {
	if n < 0 || c <= 0 || h <= 0 || w <= 0 || len(pix) != n*h*w*c || len(labels) != n {
		panic(fmt.Sprintf("data: FromNHWC: %d pixels and %d labels do not fit (N, H, W, C) = (%d, %d, %d, %d)",
			len(pix), len(labels), n, h, w, c))
	}
	img := make([]float32, len(pix))
	hw := h * w
	for i := 0; i < n; i++ {
		src := pix[i*hw*c : (i+1)*hw*c]
		dst := img[i*hw*c : (i+1)*hw*c]
		for p := 0; p < hw; p++ {
			for ch := 0; ch < c; ch++ {
				dst[ch*hw+p] = float32(src[p*c+ch]) / 255
			}
		}
	}
	return New(img, labels, n, c, h, w, classes, source, provenance)
}

// Shape returns (C, H, W).
func (d *Dataset) Shape() (c, h, w int) { return d.C, d.H, d.W }

// Size returns C*H*W, the number of values in one image.
func (d *Dataset) Size() int { return d.C * d.H * d.W }

// Image returns image i (C, H, W) as a view into d.Images.
func (d *Dataset) Image(i int) []float32 {
	s := d.Size()
	return d.Images[i*s : (i+1)*s : (i+1)*s]
}

// Validate checks that every label lies in [0, Classes) and that the sizes agree.
func (d *Dataset) Validate() error {
	if len(d.Images) != d.N*d.Size() || len(d.Labels) != d.N {
		return fmt.Errorf("data: %s: %d pixels and %d labels do not fit (N, C, H, W) = (%d, %d, %d, %d)",
			d.Provenance, len(d.Images), len(d.Labels), d.N, d.C, d.H, d.W)
	}
	if d.Classes <= 0 {
		return fmt.Errorf("data: %s: number of classes is %d", d.Provenance, d.Classes)
	}
	for i, y := range d.Labels {
		if y < 0 || y >= d.Classes {
			return fmt.Errorf("data: %s: label %d of example %d is outside 0..%d", d.Provenance, y, i, d.Classes-1)
		}
	}
	return nil
}

// Check returns an error naming the difference if d's image shape or class count differs from
// (c, h, w) and classes (classes 0: any).
func (d *Dataset) Check(c, h, w, classes int) error {
	if d.C != c || d.H != h || d.W != w {
		return fmt.Errorf("data: %s: images are (H, W, C) = (%d, %d, %d) but (%d, %d, %d) is expected",
			d.Provenance, d.H, d.W, d.C, h, w, c)
	}
	if classes > 0 && d.Classes != classes {
		return fmt.Errorf("data: %s: %d classes but %d are expected", d.Provenance, d.Classes, classes)
	}
	return d.Validate()
}

// Subset returns the first n examples (all of them if n >= N or n < 0), sharing storage with d.
func (d *Dataset) Subset(n int) *Dataset {
	if n < 0 || n >= d.N {
		return d
	}
	s := *d
	s.N = n
	s.Images = d.Images[: n*d.Size() : n*d.Size()]
	s.Labels = d.Labels[:n:n]
	s.Provenance = fmt.Sprintf("%s, first %d", d.Provenance, n)
	return &s
}

// Pad returns a copy with p pixels of background added on each side: (N, C, H+2p, W+2p). The
// background is 0 in [0, 1] and -1 when Signed. MODELS.md pads 28x28 MNIST to 32x32 (p = 2).
func (d *Dataset) Pad(p int) *Dataset {
	if p < 0 {
		panic(fmt.Sprintf("data: Pad: negative padding %d", p))
	}
	var bg float32
	if d.Signed {
		bg = -1
	}
	h2, w2 := d.H+2*p, d.W+2*p
	out := make([]float32, d.N*d.C*h2*w2)
	for i := range out {
		out[i] = bg
	}
	for nc := 0; nc < d.N*d.C; nc++ {
		src := d.Images[nc*d.H*d.W:]
		dst := out[nc*h2*w2:]
		for y := 0; y < d.H; y++ {
			copy(dst[(y+p)*w2+p:(y+p)*w2+p+d.W], src[y*d.W:(y+1)*d.W])
		}
	}
	s := *d
	s.Images, s.H, s.W = out, h2, w2
	s.Labels = append([]int(nil), d.Labels...)
	s.Provenance = fmt.Sprintf("%s, padded by %d", d.Provenance, p)
	return &s
}

// Crop returns a copy with p pixels removed from each side: (N, C, H-2p, W-2p), the inverse of
// Pad (a diffusion sample of padded MNIST back to 28x28).
func (d *Dataset) Crop(p int) *Dataset {
	if p < 0 || 2*p >= d.H || 2*p >= d.W {
		panic(fmt.Sprintf("data: Crop: %d pixels from each side of %d x %d images", p, d.H, d.W))
	}
	h2, w2 := d.H-2*p, d.W-2*p
	out := make([]float32, d.N*d.C*h2*w2)
	for nc := 0; nc < d.N*d.C; nc++ {
		src := d.Images[nc*d.H*d.W:]
		dst := out[nc*h2*w2:]
		for y := 0; y < h2; y++ {
			copy(dst[y*w2:(y+1)*w2], src[(y+p)*d.W+p:])
		}
	}
	s := *d
	s.Images, s.H, s.W = out, h2, w2
	s.Labels = append([]int(nil), d.Labels...)
	s.Provenance = fmt.Sprintf("%s, cropped by %d", d.Provenance, p)
	return &s
}

// ToSigned returns a copy with pixels mapped from [0, 1] to [-1, 1] (x -> 2x - 1), for the
// diffusion model. It returns d itself if d is already Signed.
func (d *Dataset) ToSigned() *Dataset {
	if d.Signed {
		return d
	}
	out := make([]float32, len(d.Images))
	for i, x := range d.Images {
		out[i] = 2*x - 1
	}
	s := *d
	s.Images, s.Signed = out, true
	s.Labels = append([]int(nil), d.Labels...)
	s.Provenance = d.Provenance + ", scaled to [-1, 1]"
	return &s
}

// ToUnit returns a copy with pixels mapped from [-1, 1] to [0, 1] (x -> (x + 1)/2). It returns d
// itself if d is not Signed.
func (d *Dataset) ToUnit() *Dataset {
	if !d.Signed {
		return d
	}
	out := make([]float32, len(d.Images))
	for i, x := range d.Images {
		out[i] = (x + 1) / 2
	}
	s := *d
	s.Images, s.Signed = out, false
	s.Labels = append([]int(nil), d.Labels...)
	s.Provenance = d.Provenance + ", scaled to [0, 1]"
	return &s
}

// NHWC returns the pixels quantised to uint8 (N, H, W, C): round(255 x) of the [0, 1] value,
// clamped to 0..255.
func (d *Dataset) NHWC() []uint8 {
	hw := d.H * d.W
	out := make([]uint8, len(d.Images))
	for i := 0; i < d.N; i++ {
		src := d.Images[i*hw*d.C:]
		dst := out[i*hw*d.C:]
		for ch := 0; ch < d.C; ch++ {
			for p := 0; p < hw; p++ {
				x := src[ch*hw+p]
				if d.Signed {
					x = (x + 1) / 2
				}
				v := x*255 + 0.5
				switch {
				case !(v >= 0): // also NaN
					v = 0
				case v > 255:
					v = 255
				}
				dst[p*d.C+ch] = uint8(v)
			}
		}
	}
	return out
}

// Concat returns the examples of a followed by those of b. It panics if shapes or ranges differ.
func Concat(a, b *Dataset) *Dataset {
	if a.C != b.C || a.H != b.H || a.W != b.W || a.Signed != b.Signed {
		panic(fmt.Sprintf("data: Concat: (C, H, W) = (%d, %d, %d) signed=%v and (%d, %d, %d) signed=%v differ",
			a.C, a.H, a.W, a.Signed, b.C, b.H, b.W, b.Signed))
	}
	s := *a
	s.Images = append(append(make([]float32, 0, len(a.Images)+len(b.Images)), a.Images...), b.Images...)
	s.Labels = append(append(make([]int, 0, a.N+b.N), a.Labels...), b.Labels...)
	s.N = a.N + b.N
	s.Classes = max(a.Classes, b.Classes)
	s.Provenance = fmt.Sprintf("%s + %s", a.Provenance, b.Provenance)
	return &s
}
