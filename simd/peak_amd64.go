//go:build gc && !purego

package simd

import "github.com/klauspost/cpuid/v2"

func peakLoopSupported() bool { return cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) }

func peakLoop(iters int) float64 {
	fmaPeakAVX2(iters)
	return 192 * float64(iters)
}
