package simd

import "fmt"

// Transpose writes the transpose of the rows x cols matrix src (row stride
// lds) into dst (row stride ldd):
//
//	dst[j*ldd+i] = src[i*lds+j]    for i < rows, j < cols
//
// It makes the channels-last copy of an image, (C, H*W) to (H*W, C), for
// the weight gradient of a convolution. Values are copied, not computed, so
// every set gives the same bits. dst and src must not overlap. It panics
// when a stride is shorter than its row or a slice is too short.
func Transpose(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	if rows < 0 || cols < 0 || lds < cols || ldd < rows {
		panic(fmt.Sprintf("simd.Transpose: %d x %d with strides src %d, dst %d", rows, cols, lds, ldd))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if len(src) < (rows-1)*lds+cols || len(dst) < (cols-1)*ldd+rows {
		panic(fmt.Sprintf("simd.Transpose: src has length %d, dst %d for %d x %d with strides %d, %d", len(src), len(dst), rows, cols, lds, ldd))
	}
	r8, c8 := 0, 0
	if k := current.Load().transpose8; k != nil {
		r8, c8 = rows&^7, cols&^7
		if r8 > 0 && c8 > 0 {
			k(dst, ldd, src, lds, r8, c8)
		} else {
			r8, c8 = 0, 0
		}
	}
	// What the block kernel left: the columns past c8 of the first r8 rows,
	// then the rows past r8.
	if c8 < cols {
		transposeGeneric(dst[c8*ldd:], ldd, src[c8:], lds, r8, cols-c8)
	}
	if r8 < rows {
		transposeGeneric(dst[r8:], ldd, src[r8*lds:], lds, rows-r8, cols)
	}
}

// transposeGeneric is the reference loop:
//
//	for i := 0; i < rows; i++ { for j := 0; j < cols; j++ { dst[j*ldd+i] = src[i*lds+j] } }
func transposeGeneric(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	for i := 0; i < rows; i++ {
		row := src[i*lds : i*lds+cols]
		for j, v := range row {
			dst[j*ldd+i] = v
		}
	}
}
