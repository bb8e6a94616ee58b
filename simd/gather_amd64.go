//go:build gc && !purego

package simd

func init() {
	gather16Set, gather16 = &avx2, gatherRows16AVX2
}
