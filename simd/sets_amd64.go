//go:build gc && !purego

package simd

// archSets lists the assembly kernel sets for amd64, best first.
var archSets = []*kernelSet{&avx2}
