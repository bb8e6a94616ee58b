package simd

import "fmt"

// GatherRows copies len(offs) rows of width values from src into dst, one
// after the other:
//
//	dst[p*width+l] = src[base+offs[p]+l]    for p < len(offs), l < width
//
// It packs the panels of a convolution product (SgemmPacked) from a padded
// image: offs are the offsets of the kernel taps, base the first output
// pixel of the panel. It panics when a row falls outside src or dst is too
// short.
func GatherRows(dst []float32, width int, src []float32, base int, offs []int32) {
	if width < 0 || len(dst) < width*len(offs) {
		panic(fmt.Sprintf("simd.GatherRows: dst has length %d for %d rows of %d", len(dst), len(offs), width))
	}
	if g := current.Load().gather16; width == 16 && g != nil && len(src) >= 16 {
		if p := g(dst, src, offs, base); p != len(offs) {
			panic(fmt.Sprintf("simd.GatherRows: row %d at %d+%d is outside src of length %d", p, base, offs[p], len(src)))
		}
		return
	}
	for p, o := range offs {
		i := base + int(o)
		if i < 0 || i+width > len(src) {
			panic(fmt.Sprintf("simd.GatherRows: row %d at %d+%d is outside src of length %d", p, base, o, len(src)))
		}
		copy(dst[p*width:p*width+width], src[i:i+width])
	}
}
