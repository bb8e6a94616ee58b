//go:build !gc || purego || !(amd64 || arm64 || (js && wasm))

package simd

// archSets is empty here: only the generic kernels exist on this platform.
var archSets []*kernelSet
