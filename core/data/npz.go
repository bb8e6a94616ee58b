package data

import (
	"fmt"
	"io"

	"github.com/cdp-project/cdp/core/npy"
)

// ReadNPZ reads a labelled image set from an .npz archive of size bytes: `image` (N, H, W, C) or
// (N, H, W) and `label` (N), or `arr_0` and `arr_1` as numpy.savez writes them without names.
// Images are uint8 (0..255), or float32/float64 already in [0, 1]; labels are any integer dtype.
// Every label must lie in 0..classes-1. Errors name the problem and the provenance.
func ReadNPZ(r io.ReaderAt, size int64, classes int, source, provenance string) (*Dataset, error) {
	ar, err := npy.ReadNPZ(r, size)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", provenance, err)
	}
	im, okIm := ar.Get("image")
	lb, okLb := ar.Get("label")
	if !okIm && !okLb {
		im, okIm = ar.Get("arr_0")
		lb, okLb = ar.Get("arr_1")
	}
	if !okIm || !okLb {
		return nil, fmt.Errorf("data: %s: want arrays 'image' and 'label' (or 'arr_0' and 'arr_1'), have %v", provenance, ar.Names)
	}
	var n, h, w, c int
	switch len(im.Shape) {
	case 3:
		n, h, w, c = im.Shape[0], im.Shape[1], im.Shape[2], 1
	case 4:
		n, h, w, c = im.Shape[0], im.Shape[1], im.Shape[2], im.Shape[3]
	default:
		return nil, fmt.Errorf("data: %s: image array has shape %v, want (N, H, W, C) or (N, H, W)", provenance, im.Shape)
	}
	if h == 0 || w == 0 || c == 0 {
		return nil, fmt.Errorf("data: %s: image array has an empty dimension in shape %v", provenance, im.Shape)
	}
	if c > 4 && (h <= 4) {
		return nil, fmt.Errorf("data: %s: image array of shape %v looks channels-first; want (N, H, W, C)", provenance, im.Shape)
	}
	if len(lb.Shape) != 1 || lb.Shape[0] != n {
		return nil, fmt.Errorf("data: %s: label array has shape %v, want (%d) to match %d images", provenance, lb.Shape, n, n)
	}
	l64, err := lb.Int64s()
	if err != nil {
		return nil, fmt.Errorf("data: %s: labels: %w", provenance, err)
	}
	labels := make([]int, n)
	for i, y := range l64 {
		if y < 0 || y >= int64(classes) {
			return nil, fmt.Errorf("data: %s: label %d of example %d is outside 0..%d", provenance, y, i, classes-1)
		}
		labels[i] = int(y)
	}
	var d *Dataset
	switch im.DType {
	case npy.Uint8:
		pix, _ := im.Uint8s()
		d = FromNHWC(pix, labels, n, h, w, c, classes, source, provenance)
	case npy.Float32, npy.Float64:
		f, _ := im.Float32s()
		for i, x := range f {
			if !(x >= 0 && x <= 1) {
				return nil, fmt.Errorf("data: %s: float image value %v at flat index %d is outside [0, 1]", provenance, x, i)
			}
		}
		d = New(nhwcToNCHW(f, n, h, w, c), labels, n, c, h, w, classes, source, provenance)
	default:
		return nil, fmt.Errorf("data: %s: image dtype %v is not supported (want uint8, float32 or float64)", provenance, im.DType)
	}
	return d, nil
}

func nhwcToNCHW(f []float32, n, h, w, c int) []float32 {
	out := make([]float32, len(f))
	hw := h * w
	for i := 0; i < n; i++ {
		for p := 0; p < hw; p++ {
			for ch := 0; ch < c; ch++ {
				out[(i*c+ch)*hw+p] = f[(i*hw+p)*c+ch]
			}
		}
	}
	return out
}

// WriteNPZ writes d as an .npz archive with `image` uint8 (N, H, W, C) (pixels rounded from
// [0, 1], or from [-1, 1] when Signed) and `label` int64 (N), readable by numpy.load.
func WriteNPZ(w io.Writer, d *Dataset) error {
	labels := make([]int64, d.N)
	for i, y := range d.Labels {
		labels[i] = int64(y)
	}
	err := npy.WriteNPZ(w, []string{"image", "label"}, []*npy.Array{
		npy.NewUint8([]int{d.N, d.H, d.W, d.C}, d.NHWC()),
		npy.NewInt64([]int{d.N}, labels),
	})
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}
