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

// GatherRowPairs copies, for each offset, two runs of 8 values from src into
// one 16-value row of dst:
//
//	dst[16p+l]   = src[base0+offs[p]+l]    for p < len(offs), l < 8
//	dst[16p+8+l] = src[base1+offs[p]+l]
//
// It packs a convolution panel whose 16 output pixels are two rows of an
// 8-pixel-wide image. It panics when a run falls outside src or dst is too
// short.
func GatherRowPairs(dst, src []float32, base0, base1 int, offs []int32) {
	if len(dst) < 16*len(offs) {
		panic(fmt.Sprintf("simd.GatherRowPairs: dst has length %d for %d rows of 16", len(dst), len(offs)))
	}
	if g := current.Load().gather2x8; g != nil && len(src) >= 8 {
		if p := g(dst, src, offs, base0, base1); p != len(offs) {
			panic(fmt.Sprintf("simd.GatherRowPairs: row %d at %d/%d+%d is outside src of length %d", p, base0, base1, offs[p], len(src)))
		}
		return
	}
	for p, o := range offs {
		i0, i1 := base0+int(o), base1+int(o)
		if i0 < 0 || i0+8 > len(src) || i1 < 0 || i1+8 > len(src) {
			panic(fmt.Sprintf("simd.GatherRowPairs: row %d at %d/%d+%d is outside src of length %d", p, base0, base1, o, len(src)))
		}
		copy(dst[16*p:16*p+8], src[i0:i0+8])
		copy(dst[16*p+8:16*p+16], src[i1:i1+8])
	}
}
