//go:build gc && !purego

package simd

func init() {
	siluSet, siluKernel = &avx2, siluAVX2
}
