//go:build gc && !purego

package simd

// archSets lists the assembly kernel sets for arm64, best first.
var archSets = []*kernelSet{&neon}
