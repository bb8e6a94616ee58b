//go:build !amd64 || !gc || purego

package simd

func peakLoopSupported() bool { return false }

func peakLoop(int) float64 { return 0 }
